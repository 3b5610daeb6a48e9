//! A seeded inbox served for a browser, for looking at the pages (screenshots, manual checks):
//! `INBOX_DEMO_ADDR=127.0.0.1:8099 cargo test -p tsunagu-web --test inbox -- --ignored --nocapture serve_a_seeded_inbox`
//! Every request is signed in as a receptionist (the cookie is added by a test-only layer).
//! The ids of the seeded conversations are printed. Runs until stopped.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::HeaderValue;
use tsunagu_core::{Clock, Role, SystemClock};

use super::support::{app, Conv, Seeded};

async fn say(
    app: &super::support::App,
    s: &Seeded,
    c: &Conv,
    dir: &str,
    text: &str,
    minutes_ago: i64,
) {
    let at = SystemClock.now_ms() - minutes_ago * 60_000;
    app.message(s, c, dir, "text", Some(text), "{}", at).await;
}

#[tokio::test]
#[ignore = "serves until stopped; run by hand"]
async fn serve_a_seeded_inbox() {
    let addr: SocketAddr = std::env::var("INBOX_DEMO_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8099".into())
        .parse()
        .unwrap();
    let app = app().await;
    app.clock.set(SystemClock.now());
    let s = app.clinic("sakura", "さくら内科クリニック").await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let ago = |m: i64| SystemClock.now_ms() - m * 60_000;

    let kenichi = app
        .conversation(
            &s,
            "U100",
            "佐藤 健一",
            "先日はありがとうございました。",
            ago(60 * 30),
        )
        .await;
    say(
        &app,
        &s,
        &kenichi,
        "out",
        "お大事になさってください。",
        60 * 29,
    )
    .await;
    sqlx::query("UPDATE patients SET provisional = 0 WHERE id = $1")
        .bind(&kenichi.patient_id)
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE conversations SET assignee_id = $1, unread_count = 0 WHERE id = $2")
        .bind(me.staff_id.as_str())
        .bind(kenichi.id.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();

    let misaki = app
        .conversation(
            &s,
            "U101",
            "鈴木 美咲",
            "子どもが昨夜から38度の熱があります。今日の午後は診ていただけますか?",
            ago(95),
        )
        .await;
    say(
        &app,
        &s,
        &misaki,
        "out",
        "ご連絡ありがとうございます。本日15時30分にご予約をお取りできます。",
        90,
    )
    .await;
    app.message(
        &s,
        &misaki,
        "in",
        "sticker",
        None,
        r#"{"packageId":"446","stickerId":"1988"}"#,
        ago(88),
    )
    .await;

    let hanako = app
        .conversation(&s, "U102", "山田 花子", "おはようございます。", ago(40))
        .await;
    say(
        &app,
        &s,
        &hanako,
        "in",
        "明日10時の予約を11時に変更できますか?\n仕事が長引きそうで…",
        39,
    )
    .await;
    say(
        &app,
        &s,
        &hanako,
        "out",
        "おはようございます。11時で承りました。保険証をお持ちください。",
        30,
    )
    .await;
    let failed = app
        .message(
            &s,
            &hanako,
            "out",
            "text",
            Some("駐車場は裏手に3台ございます。"),
            "{}",
            ago(29),
        )
        .await;
    sqlx::query("UPDATE messages SET status = 'failed', failure_reason = 'LINE API が 429(送信数の上限)を返しました' WHERE id = $1")
        .bind(failed.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    let loc = r#"{"title":"さくら内科クリニック","address":"東京都千代田区丸の内1-1-1","latitude":35.681236,"longitude":139.767125}"#;
    app.message(
        &s,
        &hanako,
        "in",
        "location",
        Some("さくら内科クリニック"),
        loc,
        ago(5),
    )
    .await;
    say(
        &app,
        &s,
        &hanako,
        "in",
        "ここで合っていますか?<b>念のため</b>",
        2,
    )
    .await;

    let taro = app
        .conversation(
            &s,
            "U103",
            "",
            "<script>alert('xss')</script> 予約したいです",
            ago(1),
        )
        .await;
    println!(
        "conversations: hanako={} misaki={} kenichi={} taro={}",
        hanako.id, misaki.id, kenichi.id, taro.id
    );

    let cookie = HeaderValue::from_str(&format!("tsunagu_session={}", me.cookie)).unwrap();
    let app = Arc::new(app);
    let s = Arc::new(s);
    let convs = Arc::new([hanako, misaki, kenichi, taro]);
    // POST /demo/inbound/{n}: the patient of conversation n (0-3) writes again, as a webhook would.
    let (a2, s2, c2) = (app.clone(), s.clone(), convs.clone());
    let poke = axum::Router::new().route(
        "/demo/inbound/{n}",
        axum::routing::post(move |axum::extract::Path(n): axum::extract::Path<usize>| {
            let (app, s, convs) = (a2.clone(), s2.clone(), c2.clone());
            async move {
                let c = &convs[n.min(3)];
                app.message(
                    &s,
                    c,
                    "in",
                    "text",
                    Some("追加の質問です。"),
                    "{}",
                    SystemClock.now_ms(),
                )
                .await;
                app.live.publish(tsunagu_inbox::LiveEvent {
                    clinic_id: s.clinic.to_string(),
                    conversation_id: c.id.to_string(),
                    kind: "message.created",
                });
                "ok"
            }
        }),
    );
    let router = app
        .router
        .clone()
        .merge(poke)
        .layer(axum::middleware::map_request(move |mut req: Request| {
            let cookie = cookie.clone();
            async move {
                req.headers_mut().insert("cookie", cookie);
                req
            }
        }));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    println!("serving the seeded inbox on http://{addr}/app/inbox");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .unwrap();
}
