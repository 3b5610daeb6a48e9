//! The panel beside a conversation: the patient's record, reachability on every channel, tags
//! and fields, consent and earlier conversations; another clinic's data never; a group's
//! members; the audit entry.
use axum::http::StatusCode;
use tsunagu_contacts::fields::{self, NewField};
use tsunagu_core::{ChannelId, ConversationId, Role};
use tsunagu_store::conversations::{self, NewConversation};
use tsunagu_store::{channels, patients};

use super::support::{app, App, Conv, Seeded, T0};

/// The section of the page between the panel's opening and closing tags.
fn panel(html: &str) -> &str {
    let start = html
        .find("data-testid=\"side-panel\"")
        .expect("the page has the panel");
    let end = html[start..].find("</details>").expect("the panel ends") + start;
    &html[start..end]
}

async fn sms_channel(app: &App, s: &Seeded) -> ChannelId {
    let mut tx = app.db.begin().await.unwrap();
    let id = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: &s.clinic,
            kind: "sms",
            name: "診察券SMS",
            credentials_enc: "v1:seed",
            api_base_url: "http://127.0.0.1:1",
            api_data_base_url: None,
            settings: "{}",
        },
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A second conversation of the same patient on `channel`, last written at `at`.
async fn sms_conversation(app: &App, s: &Seeded, channel: &ChannelId, c: &Conv, at: i64) -> Conv {
    let mut tx = app.db.begin().await.unwrap();
    let ident = patients::add_identity(
        tx.conn(),
        &s.clinic,
        channel,
        "+819012345678",
        &c.patient_id,
        at,
    )
    .await
    .unwrap();
    let conv = conversations::find_or_create(
        tx.conn(),
        NewConversation {
            clinic_id: &s.clinic,
            channel_id: channel,
            kind: "direct",
            thread_key: "+819012345678",
            patient_id: Some(&c.patient_id),
            channel_identity_id: Some(&ident.id),
            title: None,
        },
        at,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let sms = Conv {
        id: ConversationId::from_db(conv.id),
        patient_id: c.patient_id.clone(),
        identity_id: ident.id,
    };
    let s2 = Seeded {
        clinic: s.clinic.clone(),
        channel: channel.clone(),
    };
    app.message(&s2, &sms, "in", "text", Some("薬の件です"), "{}", at)
        .await;
    sms
}

#[tokio::test]
async fn a_verified_patient_is_shown_with_every_channel_tags_fields_consent_and_earlier_chats() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "予約したいです", T0 - 60_000)
        .await;
    let sms = sms_channel(&app, &s).await;
    let earlier = sms_conversation(&app, &s, &sms, &c, T0 - 86_400_000).await;
    sqlx::query("UPDATE patients SET provisional = 0 WHERE id = $1")
        .bind(&c.patient_id)
        .execute(app.db.pool())
        .await
        .unwrap();
    {
        let mut conn = app.db.pool().acquire().await.unwrap();
        let f = NewField {
            key: "insurer".into(),
            label_ja: "保険者".into(),
            label_en: Some("Insurer".into()),
            kind: "text".into(),
            choices: vec![],
            required: false,
            position: None,
        };
        fields::create(&mut conn, &s.clinic, &f, T0)
            .await
            .unwrap()
            .unwrap();
    }
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let record = format!("/app/patients/{}", c.patient_id);
    let saved = app
        .post_form(
            &record,
            &me,
            &[
                ("csrf_token", me.csrf.as_str()),
                ("name", "山田 花子"),
                ("kana", "やまだ はなこ"),
                ("birth_date", "S55.4.1"),
                ("phone", "090-1234-5678"),
                ("email", "hanako@example.jp"),
                ("language", "ja"),
                ("tags", "糖尿病; 定期検診"),
                ("cf.insurer", "協会けんぽ"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let consent = app
        .post_form(
            &format!("{record}/consent"),
            &me,
            &[
                ("csrf_token", me.csrf.as_str()),
                ("purpose", "reminders"),
                ("channel", ""),
                ("decision", "grant"),
                ("source", "staff"),
                ("wording", "予約リマインダーをお送りしてよいですか"),
                ("reason", "受付で口頭で確認"),
            ],
        )
        .await;
    assert_eq!(consent.status, StatusCode::SEE_OTHER, "{}", consent.text);
    let reads_before = app.audits("patient.read").await.len();

    let res = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    assert_eq!(res.status, StatusCode::OK);
    let html = res.urls();
    let p = panel(&html);
    assert!(p.contains("data-testid=\"panel-verified\"") && !p.contains("panel-unverified"));
    for words in [
        "山田 花子",
        "ヤマダ ハナコ",
        "1980-04-01（昭和55年4月1日）46歳",
        "090-1234-5678",
        "hanako@example.jp",
        "日本語",
        "糖尿病",
        "定期検診",
        "保険者",
        "協会けんぽ",
    ] {
        assert!(p.contains(words), "the panel shows {words}");
    }
    assert!(p.contains(&format!("href=\"{record}\"")));
    assert!(p.contains(&format!("href=\"{record}/identity\"")));
    assert!(p.contains(&format!("href=\"{record}/consent\"")));
    // Both channels, with reachability in words.
    assert_eq!(p.matches("data-testid=\"panel-reach-item\"").count(), 2);
    assert!(p.contains("data-reach=\"following\"") && p.contains("友だち"));
    assert!(p.contains("診察券SMS") && p.contains("090-1234-5678"));
    // Consent per purpose: granted, implied by the patient's own message, not asked.
    assert!(p.contains("<dt>予約リマインダー</dt><dd data-status=\"granted\">同意あり</dd>"));
    assert!(p.contains("data-status=\"implicit\""));
    assert!(p.contains("data-status=\"unset\">未確認"));
    // The earlier conversation, not this one.
    assert!(p.contains(&format!("href=\"/app/conversations/{}\"", earlier.id)));
    assert!(!p.contains(&format!("href=\"/app/conversations/{}\"", c.id)));
    assert!(p.contains("対応中"));

    // Audited as a read of the patient; a re-render within the minute is not audited again.
    let reads = app.audits("patient.read").await;
    assert_eq!(reads.len(), reads_before + 1);
    let last = reads.last().unwrap();
    assert_eq!(last.1, format!("[\"{}\"]", c.patient_id));
    assert_eq!(last.0.as_deref(), Some(me.staff_id.to_string().as_str()));
    let refused = app
        .post_form(
            &format!("/app/conversations/{}/reply", c.id),
            &me,
            &[("csrf_token", me.csrf.as_str()), ("text", "  ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(panel(&refused.urls()).contains("糖尿病"), "shown again");
    assert_eq!(app.audits("patient.read").await.len(), reads_before + 1);
}

#[tokio::test]
async fn a_new_patients_empty_sections_say_what_to_do() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let html = app
        .get(&format!("/app/conversations/{}", c.id), &me)
        .await
        .urls();
    let p = panel(&html);
    assert!(p.contains("data-testid=\"panel-unverified\""));
    assert!(p.contains("タグはまだありません。患者さんのページで追加できます。"));
    assert!(p.contains("この患者さんとのほかの会話はありません。"));
}

#[tokio::test]
async fn another_clinics_patient_never_shows_in_the_panel() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let other = app.clinic("other", "よそ医院").await;
    let mine = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0 - 60_000)
        .await;
    // The other clinic's conversation names my patient (a corrupted row must not leak either way).
    let theirs = app
        .conversation(&other, "U9", "他院 太郎", "こんにちは", T0 - 120_000)
        .await;
    sqlx::query("UPDATE conversations SET patient_id = $1 WHERE id = $2")
        .bind(&mine.patient_id)
        .bind(theirs.id.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    let them = app
        .sign_in(&other.clinic, Role::Receptionist, "受付 他院")
        .await;
    let html = app
        .get(&format!("/app/conversations/{}", theirs.id), &them)
        .await
        .urls();
    let p = panel(&html);
    assert!(!p.contains("山田 花子") && !p.contains(&mine.patient_id));
    assert!(p.contains("data-testid=\"panel-no-patient\""));

    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let html = app
        .get(&format!("/app/conversations/{}", mine.id), &me)
        .await
        .urls();
    let p = panel(&html);
    assert!(p.contains("山田 花子"));
    assert!(!p.contains("他院") && !p.contains(theirs.id.as_str()));
    assert!(p.contains("この患者さんとのほかの会話はありません。"));
}

#[tokio::test]
async fn a_group_conversation_shows_who_has_written_in_it() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let hanako = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0 - 60_000)
        .await;
    let mut tx = app.db.begin().await.unwrap();
    let g = conversations::find_or_create(
        tx.conn(),
        NewConversation {
            clinic_id: &s.clinic,
            channel_id: &s.channel,
            kind: "group",
            thread_key: "C-group-1",
            patient_id: None,
            channel_identity_id: None,
            title: Some("家族のグループ"),
        },
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let group = Conv {
        id: ConversationId::from_db(g.id),
        patient_id: hanako.patient_id.clone(),
        identity_id: hanako.identity_id.clone(),
    };
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let html = app
        .get(&format!("/app/conversations/{}", group.id), &me)
        .await
        .urls();
    assert!(panel(&html).contains("まだ発言した人はいません。"));

    app.message(&s, &group, "in", "text", Some("母の予約です"), "{}", T0)
        .await;
    let html = app
        .get(&format!("/app/conversations/{}", group.id), &me)
        .await
        .urls();
    let p = panel(&html);
    assert_eq!(p.matches("data-testid=\"panel-member\"").count(), 1);
    assert!(p.contains("山田 花子"));
    assert!(p.contains(&format!("href=\"/app/patients/{}\"", hanako.patient_id)));
    assert!(!p.contains("panel-profile"));
}
