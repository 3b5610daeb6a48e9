//! A realistic Japanese clinic's inbox at scale, for the inbox benchmark and for trying the
//! inbox with a year of history (`cargo run -p tsunagu-testkit --features app --release --bin
//! corpus`): patients with names, readings, phones and card numbers; one conversation per
//! patient and channel, weighted as a Japanese clinic's are (LINE first); exchanges of patient
//! questions (予約, 発熱, 駐車場, 予防接種, 健康診断書, …) and staff answers, days or weeks
//! apart; states, priorities, assignees, teams and labels as a working inbox leaves them; every
//! text indexed for search by `store::search` itself. Deterministic for a seed.
//!
//! It writes into an existing clinic that has channels and staff (the demo's, or one made by
//! the bench), with multi-row INSERTs, in time order (so the search index's order is newest
//! first, as ingest leaves it).
mod people;
mod plan;
mod rows;
mod talk;

use std::time::Instant;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{AnyConnection, Row};
use tsunagu_core::{ClinicId, Permission, Role};
use tsunagu_store::batch::Batch;
use tsunagu_store::{labels, patients, search, Db};

pub use people::Person;
use plan::{Conversation, Said, Shape};
use rows::{Rows, Val};

/// How much to write.
#[derive(Clone, Debug)]
pub struct Spec {
    pub conversations: usize,
    pub messages: usize,
    /// Private notes between staff, on conversations picked at random.
    pub notes: usize,
    /// Days of history, ending at `now_ms`.
    pub days: i64,
    pub now_ms: i64,
    pub seed: u64,
}

impl Spec {
    /// The benchmark's size: 1,000,000 messages in 100,000 conversations over a year.
    pub fn million(now_ms: i64) -> Spec {
        Spec {
            conversations: 100_000,
            messages: 1_000_000,
            notes: 20_000,
            days: 365,
            now_ms,
            seed: 7,
        }
    }
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub patients: usize,
    pub conversations: usize,
    pub messages: usize,
    pub notes: usize,
    pub open: usize,
    pub seconds: f64,
    /// Where the time went: (step, seconds).
    pub steps: Vec<(&'static str, f64)>,
}

/// A LINE user id, WhatsApp number, Messenger PSID or SMS number for conversation `i`, as the
/// provider would give it (the benchmark sends webhooks from these people).
pub fn external_id(kind: &str, i: usize) -> String {
    match kind {
        "line" => format!("Uc0{i:030x}"),
        "whatsapp" => format!("8170{i:08}"),
        "messenger" => format!("7{i:015}"),
        _ => format!("+8180{i:08}"),
    }
}

/// Labels a clinic uses, with the share of conversations carrying each (クレーム is rare: a
/// rare label's view must be as fast as a common one's).
const LABELS: &[(&str, &str, f64)] = &[
    ("予約", "blue", 0.30),
    ("検査結果", "green", 0.08),
    ("処方", "purple", 0.10),
    ("予防接種", "teal", 0.06),
    ("書類", "gray", 0.04),
    ("会計", "orange", 0.03),
    ("要確認", "red", 0.02),
    ("クレーム", "red", 0.002),
];

const TEAMS: &[&str] = &["受付", "看護", "会計"];

/// Writes the corpus into `clinic`, which must have channels and staff who may reply.
pub async fn generate(db: &Db, clinic: &ClinicId, spec: &Spec) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut conn = db.pool().acquire().await?;
    let channels = channels(&mut conn, clinic).await?;
    anyhow::ensure!(
        !channels.is_empty(),
        "the clinic has no channels: connect one first"
    );
    let staff = replying_staff(&mut conn, clinic).await?;
    anyhow::ensure!(
        !staff.is_empty(),
        "the clinic has no staff who may reply: add one first"
    );
    let teams = teams(&mut conn, clinic, &staff, spec.now_ms).await?;
    let label_ids = labels(&mut conn, clinic, spec.now_ms).await?;
    drop(conn);

    let shape = Shape {
        conversations: spec.conversations,
        messages: spec.messages,
        patients: spec.conversations * 9 / 10,
        channel_weights: channels.iter().map(|(_, k)| weight(k)).collect(),
        staff: staff.len(),
        teams: teams.len(),
        label_shares: LABELS.iter().map(|(_, _, s)| *s).collect(),
        now_ms: spec.now_ms,
        days: spec.days,
        seed: spec.seed,
    };
    let mut steps = Vec::new();
    let mut lap = Instant::now();
    let mut step = |name: &'static str| {
        steps.push((name, lap.elapsed().as_secs_f64()));
        lap = Instant::now();
    };
    let (convs, times) = plan::plan(&shape);
    let mut rng = StdRng::seed_from_u64(spec.seed ^ 0x5eed);
    let people: Vec<Person> = (0..shape.patients)
        .map(|i| {
            let kind = convs[i].channel;
            let english = match channels[kind].1.as_str() {
                "whatsapp" => rng.gen_bool(0.4),
                "messenger" => rng.gen_bool(0.1),
                _ => rng.gen_bool(0.02),
            };
            Person::new(&mut rng, i, english)
        })
        .collect();
    let ids = Ids::new(&convs, &people);

    step("plan");
    let mut tx = db.begin().await?;
    write_patients(tx.conn(), clinic, &people, &ids, &convs, &mut rng).await?;
    step("patients");
    write_conversations(
        tx.conn(),
        clinic,
        &convs,
        &channels,
        &people,
        &ids,
        &staff,
        &teams,
        spec,
    )
    .await?;
    write_labels(tx.conn(), clinic, &convs, &ids, &label_ids).await?;
    step("conversations");
    write_notes(tx.conn(), clinic, &convs, &ids, &staff, spec).await?;
    tx.commit().await?;
    step("notes");
    write_messages(
        db, clinic, &convs, &times, &channels, &people, &ids, &staff, spec,
    )
    .await?;
    step("messages");

    Ok(Summary {
        patients: people.len(),
        conversations: convs.len(),
        messages: times.len(),
        notes: spec.notes.min(convs.len() * 4),
        open: convs.iter().filter(|c| c.status == "open").count(),
        seconds: started.elapsed().as_secs_f64(),
        steps,
    })
}

/// The ids of what is written, made up front so rows can name each other.
struct Ids {
    patients: Vec<String>,
    conversations: Vec<String>,
    identities: Vec<String>,
}

impl Ids {
    fn new(convs: &[Conversation], people: &[Person]) -> Ids {
        let id = |_| uuid::Uuid::now_v7().to_string();
        Ids {
            patients: (0..people.len()).map(id).collect(),
            conversations: (0..convs.len()).map(id).collect(),
            identities: (0..convs.len()).map(id).collect(),
        }
    }
}

fn weight(kind: &str) -> f64 {
    match kind {
        "line" => 0.6,
        "sms" => 0.2,
        _ => 0.1,
    }
}

async fn channels(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT id, kind FROM channels WHERE clinic_id = $1 AND enabled = 1 ORDER BY created_at, id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("reading the clinic's channels")?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

async fn replying_staff(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT staff_id, role FROM memberships WHERE clinic_id = $1 ORDER BY created_at, staff_id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("reading the clinic's staff")?;
    Ok(rows
        .iter()
        .filter(|r| {
            r.get::<String, _>(1)
                .parse::<Role>()
                .is_ok_and(|role| role.can(Permission::Reply))
        })
        .map(|r| r.get(0))
        .collect())
}

/// 受付, 看護 and 会計 (made when missing), each with a share of the staff.
async fn teams(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &[String],
    now: i64,
) -> anyhow::Result<Vec<String>> {
    use tsunagu_inbox::routing::teams;
    let mut ids = Vec::new();
    for (t, name) in TEAMS.iter().enumerate() {
        teams::create(conn, clinic, name, teams::AssignMode::Off, now).await?;
        let team = teams::list(conn, clinic)
            .await?
            .into_iter()
            .find(|x| x.name == *name)
            .context("the team just made")?;
        for s in staff.iter().skip(t).step_by(TEAMS.len()) {
            teams::add_member(conn, clinic, &team.id, s).await?;
        }
        ids.push(team.id);
    }
    Ok(ids)
}

async fn labels(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    now: i64,
) -> anyhow::Result<Vec<String>> {
    for (name, color, _) in LABELS {
        labels::create(conn, clinic, name, color, now).await?;
    }
    let all = labels::list(conn, clinic).await?;
    LABELS
        .iter()
        .map(|(name, _, _)| {
            all.iter()
                .find(|l| l.name == *name)
                .map(|l| l.id.clone())
                .context("a label just made")
        })
        .collect()
}

async fn write_patients(
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
async fn write_conversations(
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

async fn write_labels(
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

async fn write_notes(
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
async fn write_messages(
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
