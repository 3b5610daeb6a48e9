//! The collision warning: two staff sessions on one conversation see each other (viewing, then
//! typing), a beat goes quiet after its time, and another clinic's conversation is 404.
use axum::http::StatusCode;
use serde_json::Value;
use tsunagu_core::Role;

use super::support::{app, App, Session, T0};

async fn beat(app: &App, s: &Session, conv: &str, state: &str) -> StatusCode {
    app.post_form(
        &format!("/app/conversations/{conv}/presence"),
        s,
        &[("csrf_token", &s.csrf), ("state", state)],
    )
    .await
    .status
}

async fn others(app: &App, s: &Session, conv: &str) -> Value {
    let res = app
        .get(&format!("/app/conversations/{conv}/presence"), s)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    serde_json::from_str(&res.text).unwrap()
}

#[tokio::test]
async fn two_staff_see_each_other_viewing_then_typing_until_it_goes_quiet() {
    let app = app().await;
    let clinic = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&clinic, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let conv = c.id.to_string();
    let sato = app
        .sign_in(&clinic.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let suzuki = app
        .sign_in(&clinic.clinic, Role::Clinician, "看護師 鈴木")
        .await;

    // The page carries the banner's source and the draft's key (this clinic, this conversation).
    let page = app
        .get(&format!("/app/conversations/{conv}"), &sato)
        .await
        .urls();
    assert!(page.contains(&format!(
        r#"data-presence="/app/conversations/{conv}/presence""#
    )));
    let key = format!(r#"data-draft-key="tsunagu.draft.{}.{conv}""#, clinic.clinic);
    assert!(page.contains(&key), "{page}");
    assert!(page.contains(r#"data-testid="shortcuts""#));
    // (Opening it marked it read, an event of its own: listen from here.)
    let mut events = app.live.subscribe();

    assert_eq!(
        beat(&app, &sato, &conv, "viewing").await,
        StatusCode::NO_CONTENT
    );
    let e = events.try_recv().expect("a presence event");
    assert_eq!(e.kind, "presence.changed");
    assert_eq!(e.conversation_id, conv);
    // The viewer does not see herself; the colleague sees her, in words.
    assert_eq!(
        others(&app, &sato, &conv).await["others"],
        Value::Array(vec![])
    );
    let seen = others(&app, &suzuki, &conv).await;
    assert_eq!(seen["others"][0]["name"], "受付 佐藤");
    assert_eq!(seen["others"][0]["state"], "viewing");
    assert_eq!(seen["lines"][0], "受付 佐藤さんもこの会話を見ています");

    // The same state again tells no page anything new.
    beat(&app, &sato, &conv, "viewing").await;
    assert!(events.try_recv().is_err());

    assert_eq!(
        beat(&app, &sato, &conv, "typing").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(events.try_recv().unwrap().kind, "presence.changed");
    let seen = others(&app, &suzuki, &conv).await;
    assert_eq!(seen["others"][0]["state"], "typing");
    assert_eq!(seen["lines"][0], "受付 佐藤さんが返信を入力中です");

    // Both here: each sees only the other.
    beat(&app, &suzuki, &conv, "viewing").await;
    assert_eq!(
        others(&app, &sato, &conv).await["others"][0]["name"],
        "看護師 鈴木"
    );

    // Typing fades to viewing, then the page that stopped beating drops off.
    app.clock.advance(chrono::Duration::seconds(10));
    assert_eq!(
        others(&app, &suzuki, &conv).await["others"][0]["state"],
        "viewing"
    );
    app.clock.advance(chrono::Duration::seconds(20));
    assert_eq!(
        others(&app, &suzuki, &conv).await["others"],
        Value::Array(vec![])
    );
    assert_eq!(
        others(&app, &suzuki, &conv).await["lines"],
        Value::Array(vec![])
    );
}

#[tokio::test]
async fn another_clinics_conversation_is_404_and_a_beat_needs_its_token() {
    let app = app().await;
    let mine = app.clinic("sakura", "さくら内科").await;
    let theirs = app.clinic("momiji", "もみじ皮膚科").await;
    let foreign = app
        .conversation(&theirs, "U9", "他院 患者", "こんにちは", T0)
        .await
        .id
        .to_string();
    let me = app
        .sign_in(&mine.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let them = app
        .sign_in(&theirs.clinic, Role::Receptionist, "受付 田中")
        .await;

    assert_eq!(
        beat(&app, &me, &foreign, "viewing").await,
        StatusCode::NOT_FOUND
    );
    let res = app
        .get(&format!("/app/conversations/{foreign}/presence"), &me)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Nothing was recorded for their conversation.
    assert_eq!(
        others(&app, &them, &foreign).await["others"],
        Value::Array(vec![])
    );

    // Without the CSRF token nothing is recorded either.
    let res = app
        .post_form(
            &format!("/app/conversations/{foreign}/presence"),
            &them,
            &[("state", "viewing")],
        )
        .await;
    assert_ne!(res.status, StatusCode::NO_CONTENT);
    // An unknown state is refused.
    assert_eq!(
        beat(&app, &them, &foreign, "sleeping").await,
        StatusCode::NOT_FOUND
    );
    let sato = app
        .sign_in(&theirs.clinic, Role::Clinician, "看護師 山本")
        .await;
    assert_eq!(
        others(&app, &sato, &foreign).await["others"],
        Value::Array(vec![])
    );
}
