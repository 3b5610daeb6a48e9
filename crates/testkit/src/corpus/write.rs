//! The corpus's rows: patients (and their search keys), identities, conversations, labels,
//! notes and, in time order, messages, each text indexed by `store::search` as it is written.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::AnyConnection;
use tsunagu_core::ClinicId;
use tsunagu_store::batch::Batch;
use tsunagu_store::{patients, search, Db};

use super::plan::{self, Conversation, Said};
use super::rows::{Rows, Val};
use super::{external_id, talk, Ids, Person, Spec};

pub(super) async fn write_patients(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    people: &[Person],
    ids: &Ids,
    convs: &[Conversation],
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let mut first = vec![i64::MAX; people.len()];
    for c in convs {
        first[c.patient] = first[c.patient].min(c.created_ms);
    }
    let mut rows = Rows::new(
        "patients",
        &[
            "id",
            "clinic_id",
            "display_name",
            "kana",
            "birth_date",
            "phone",
            "email",
            "language",
            "provisional",
            "created_at",
            "updated_at",
            "sex",
            "card_number",
            "search_key",
        ],
    );
    let mut index = Vec::with_capacity(people.len());
    for (i, p) in people.iter().enumerate() {
        let record = patients::Patient {
            id: ids.patients[i].clone(),
            clinic_id: clinic.as_str().to_owned(),
            display_name: p.name.clone(),
            kana: p.kana.clone(),
            birth_date: Some(p.birth_date.clone()),
            phone: p.phone.clone(),
            email: p.email.clone(),
            language: Some(if p.english { "en" } else { "ja" }.to_owned()),
            picture_url: None,
            provisional: i64::from(rng.gen_bool(0.3)),
            created_at: first[i],
            updated_at: first[i],
            sex: if rng.gen_bool(0.55) { "female" } else { "male" }.to_owned(),
            card_number: p.card_number.clone(),
            preferred_channel: None,
            note: None,
        };
        let key = patients::search_key(&record);
        rows.push(
            conn,
            vec![
                record.id.clone().into(),
                record.clinic_id.clone().into(),
                record.display_name.clone().into(),
                record.kana.clone().into(),
                record.birth_date.clone().into(),
                record.phone.clone().into(),
                record.email.clone().into(),
                record.language.clone().into(),
                record.provisional.into(),
                record.created_at.into(),
                record.updated_at.into(),
                record.sex.clone().into(),
                record.card_number.clone().into(),
                key.clone().into(),
            ],
        )
        .await?;
        index.push((record.id, key));
    }
    rows.flush(conn).await?;
    for chunk in index.chunks(200) {
        let mut b = Batch::new(conn);
        for (id, key) in chunk {
            search::push_patient(&mut b, clinic.as_str(), id, key);
        }
        b.run(conn).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn write_conversations(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    convs: &[Conversation],
    channels: &[(String, String)],
    people: &[Person],
    ids: &Ids,
    staff: &[String],
    teams: &[String],
    spec: &Spec,
) -> anyhow::Result<()> {
    let mut identities = Rows::new(
        "channel_identities",
        &[
            "id",
            "clinic_id",
            "channel_id",
            "external_id",
            "patient_id",
            "display_name",
            "follow_state",
            "verified",
            "created_at",
            "updated_at",
            "last_inbound_at",
        ],
    );
    for (i, c) in convs.iter().enumerate() {
        let (channel, kind) = &channels[c.channel];
        let p = &people[c.patient];
        identities
            .push(
                conn,
                vec![
                    ids.identities[i].clone().into(),
                    clinic.as_str().into(),
                    channel.as_str().into(),
                    external_id(kind, i).into(),
                    ids.patients[c.patient].clone().into(),
                    Some(p.name.clone()).filter(|_| kind != "sms").into(),
                    if kind == "line" {
                        "following"
                    } else {
                        "unknown"
                    }
                    .into(),
                    i64::from(i % 3 != 0).into(),
                    c.created_ms.into(),
                    c.last_ms.into(),
                    c.last_inbound_ms.into(),
                ],
            )
            .await?;
    }
    identities.flush(conn).await?;
    let mut rows = Rows::new(
        "conversations",
        &[
            "id",
            "clinic_id",
            "channel_id",
            "kind",
            "thread_key",
            "patient_id",
            "channel_identity_id",
            "status",
            "assignee_id",
            "team_id",
            "priority",
            "unread_count",
            "last_message_at",
            "last_inbound_at",
            "last_message_preview",
            "created_at",
            "snoozed_until",
            "resolved_at",
            "waiting_since",
            "opened_at",
        ],
    );
    for (i, c) in convs.iter().enumerate() {
        let (channel, kind) = &channels[c.channel];
        let preview: String = text_of(spec.seed, c, people).chars().take(80).collect();
        rows.push(
            conn,
            vec![
                ids.conversations[i].clone().into(),
                clinic.as_str().into(),
                channel.as_str().into(),
                "direct".into(),
                external_id(kind, i).into(),
                ids.patients[c.patient].clone().into(),
                ids.identities[i].clone().into(),
                c.status.into(),
                c.assignee.map(|a| staff[a].clone()).into(),
                c.team.map(|t| teams[t].clone()).into(),
                c.priority.into(),
                c.unread.into(),
                c.last_ms.into(),
                c.last_inbound_ms.into(),
                preview.into(),
                c.created_ms.into(),
                c.snoozed_until.into(),
                c.resolved_at.into(),
                c.waiting_since.into(),
                c.opened_at.into(),
            ],
        )
        .await?;
    }
    rows.flush(conn).await
}

pub(super) async fn write_labels(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    convs: &[Conversation],
    ids: &Ids,
    label_ids: &[String],
) -> anyhow::Result<()> {
    let mut rows = Rows::new(
        "conversation_labels",
        &["conversation_id", "label_id", "clinic_id", "created_at"],
    );
    for (i, c) in convs.iter().enumerate() {
        for l in &c.labels {
            rows.push(
                conn,
                vec![
                    ids.conversations[i].clone().into(),
                    label_ids[*l].clone().into(),
                    clinic.as_str().into(),
                    c.created_ms.into(),
                ],
            )
            .await?;
        }
    }
    rows.flush(conn).await
}

pub(super) async fn write_notes(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    convs: &[Conversation],
    ids: &Ids,
    staff: &[String],
    spec: &Spec,
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(spec.seed ^ 0x4e07e);
    let mut rows = Rows::new(
        "conversation_notes",
        &[
            "id",
            "clinic_id",
            "conversation_id",
            "author_staff_id",
            "body",
            "created_at",
        ],
    );
    let mut index = Vec::new();
    for _ in 0..spec.notes.min(convs.len() * 4) {
        let i = rng.gen_range(0..convs.len());
        let c = &convs[i];
        let at = rng.gen_range(c.created_ms..=c.last_ms);
        let (id, body) = (uuid::Uuid::now_v7().to_string(), talk::note(&mut rng));
        rows.push(
            conn,
            vec![
                id.clone().into(),
                clinic.as_str().into(),
                ids.conversations[i].clone().into(),
                staff[rng.gen_range(0..staff.len())].clone().into(),
                body.clone().into(),
                at.into(),
            ],
        )
        .await?;
        index.push((id, body));
    }
    rows.flush(conn).await?;
    for part in index.chunks(100) {
        let mut b = Batch::new(conn);
        for (id, body) in part {
            search::push_note(&mut b, clinic.as_str(), id, body);
        }
        b.run(conn).await?;
    }
    Ok(())
}

/// The text of message `at` (the same every time for a seed: a conversation's preview is its
/// last message's text).
fn text(seed: u64, at: plan::At, people: &[Person], c: &Conversation) -> String {
    let mut rng = StdRng::seed_from_u64(seed ^ ((at.conversation as u64) << 20) ^ at.k as u64);
    let p = &people[c.patient];
    match at.said {
        Said::Patient => talk::patient(&mut rng, p.english, &p.national_phone()),
        Said::Staff => talk::staff(&mut rng, p.english),
    }
}

fn text_of(seed: u64, c: &Conversation, people: &[Person]) -> String {
    text(seed, c.last, people, c)
}

/// Messages in time order, a transaction per 20,000, each chunk indexed for search once its
/// rows are in (the index statement finds the message by id).
#[allow(clippy::too_many_arguments)]
pub(super) async fn write_messages(
    db: &Db,
    clinic: &ClinicId,
    convs: &[Conversation],
    times: &[plan::At],
    channels: &[(String, String)],
    people: &[Person],
    ids: &Ids,
    staff: &[String],
    spec: &Spec,
) -> anyhow::Result<()> {
    const COLUMNS: &[&str] = &[
        "id",
        "clinic_id",
        "conversation_id",
        "channel_id",
        "direction",
        "kind",
        "body",
        "payload",
        "sender_identity_id",
        "author_kind",
        "author_staff_id",
        "provider_message_id",
        "status",
        "created_at",
        "sent_at",
    ];
    for tx_chunk in times.chunks(20_000) {
        let mut tx = db.begin().await?;
        for chunk in tx_chunk.chunks(1_000) {
            let mut rows = Rows::new("messages", COLUMNS);
            let mut index = Vec::with_capacity(chunk.len());
            for at in chunk {
                let i = at.conversation as usize;
                let c = &convs[i];
                let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
                    uuid::NoContext,
                    (at.ms / 1000) as u64,
                    ((at.ms % 1000) * 1_000_000) as u32 + at.k as u32,
                ))
                .to_string();
                let body = text(spec.seed, *at, people, c);
                let inbound = at.said.inbound();
                let author = (!inbound).then(|| {
                    c.assignee
                        .map(|a| staff[a].clone())
                        .unwrap_or_else(|| staff[i % staff.len()].clone())
                });
                rows.push(
                    tx.conn(),
                    vec![
                        id.clone().into(),
                        clinic.as_str().into(),
                        ids.conversations[i].clone().into(),
                        channels[c.channel].0.clone().into(),
                        if inbound { "in" } else { "out" }.into(),
                        "text".into(),
                        body.clone().into(),
                        "{}".into(),
                        inbound.then(|| ids.identities[i].clone()).into(),
                        if inbound { "patient" } else { "staff" }.into(),
                        author.into(),
                        format!("corpus-{i}-{}", at.k).into(),
                        if inbound { "received" } else { "read" }.into(),
                        at.ms.into(),
                        Val::Int((!inbound).then_some(at.ms)),
                    ],
                )
                .await?;
                index.push((id, body));
            }
            rows.flush(tx.conn()).await?;
            for part in index.chunks(100) {
                let mut b = Batch::new(tx.conn());
                for (id, body) in part {
                    search::push_message(&mut b, clinic.as_str(), id, body);
                }
                b.run(tx.conn()).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}
