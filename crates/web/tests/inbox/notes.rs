//! Notes and mentions: a note stays among staff (nothing queued for the patient), `@名前`
//! tells that colleague (badge, mentions page) until they open the conversation.
use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::{app, App, Conv, Seeded, Session, T0};

async fn setup(app: &App) -> (Seeded, Conv, Session, Session) {
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "薬が合わない気がします", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let nurse = app.sign_in(&s.clinic, Role::Clinician, "看護師 鈴木").await;
    (s, c, me, nurse)
}

async fn note(app: &App, me: &Session, c: &Conv, text: &str) -> (StatusCode, String) {
    let res = app
        .post_form(
            &format!("/app/conversations/{}/notes", c.id),
            me,
            &[("csrf_token", &me.csrf), ("text", text)],
        )
        .await;
    (res.status, res.text)
}

async fn unseen(app: &App, who: &Session) -> i64 {
    let res = app.get("/app/mentions/count", who).await;
    assert_eq!(res.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&res.text).unwrap();
    assert_eq!(
        v.as_object().unwrap().len(),
        1,
        "a count and nothing else: {v}"
    );
    v["unseen"].as_i64().unwrap()
}

#[tokio::test]
async fn a_note_stays_among_staff_and_shows_in_the_thread() {
    let app = app().await;
    let (_s, c, me, _nurse) = setup(&app).await;
    let (status, body) = note(&app, &me, &c, "先週から処方変更あり。先生に確認します").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let page = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    assert!(page.text.contains("data-testid=\"note\""));
    assert!(page.text.contains("先週から処方変更あり"));
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'",
            c.id.as_str()
        )
        .await,
        0,
        "nothing for the patient"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE clinic_id IS NOT NULL AND kind = 'message.send' AND payload LIKE $1", "%処方%").await,
        0
    );
    assert_eq!(app.audits("note.add").await.len(), 1);
}

#[tokio::test]
async fn a_mention_tells_that_colleague_until_they_open_the_conversation() {
    let app = app().await;
    let (_s, c, me, nurse) = setup(&app).await;
    assert_eq!(unseen(&app, &nurse).await, 0);
    let (status, _) = note(&app, &me, &c, "@看護師 鈴木 折り返しお願いします").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(unseen(&app, &nurse).await, 1);
    assert_eq!(unseen(&app, &me).await, 0, "the author is not mentioned");

    let page = app.get("/app/mentions", &nurse).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("折り返しお願いします") && page.text.contains("受付 佐藤"));
    assert!(page
        .text
        .replace("&#x2f;", "/")
        .contains(&format!("/app/conversations/{}", c.id)));
    let inbox = app.get("/app/inbox", &nurse).await;
    assert!(
        inbox.text.contains("data-mentions-badge>1<"),
        "the header shows the count"
    );

    app.get(&format!("/app/conversations/{}", c.id), &nurse)
        .await;
    assert_eq!(unseen(&app, &nurse).await, 0);
}

#[tokio::test]
async fn an_empty_note_is_refused_in_words_and_nothing_is_stored() {
    let app = app().await;
    let (_s, c, me, _nurse) = setup(&app).await;
    let (status, body) = note(&app, &me, &c, "   ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("data-testid=\"note-error\""));
    let long = "あ".repeat(2001);
    let (status, _) = note(&app, &me, &c, &long).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM conversation_notes WHERE conversation_id = $1",
            c.id.as_str()
        )
        .await,
        0
    );
}

#[tokio::test]
async fn another_clinics_staff_cannot_be_mentioned_or_see_the_note() {
    let app = app().await;
    let (_s, c, me, _nurse) = setup(&app).await;
    let other = app.clinic("momiji", "もみじ皮膚科").await;
    let outsider = app
        .sign_in(&other.clinic, Role::Receptionist, "外部 田中")
        .await;
    let (status, _) = note(&app, &me, &c, "@外部 田中 見てください").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(unseen(&app, &outsider).await, 0);
    let res = app
        .get(&format!("/app/conversations/{}", c.id), &outsider)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let (status, _) = note(&app, &outsider, &c, "入り込み").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
