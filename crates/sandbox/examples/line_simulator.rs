//! Try the patient simulator without tsunagu: a sandbox channel whose webhook is a tiny echo bot
//! that answers through the sandbox's reply API.
//!
//!     cargo run -p tsunagu-sandbox --example line_simulator [127.0.0.1:8089]
//!
//! then open http://127.0.0.1:8089/simulator
use axum::body::Bytes;
use axum::routing::post;
use serde_json::{json, Value};
use tsunagu_sandbox::line::{ChannelConfig, LineSandbox, UserProfile};

const TOKEN: &str = "demo-access-token";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8089".into());
    let sb = LineSandbox::new();
    let api = sb.spawn(&addr).await?;
    let bot = echo_bot(format!("http://{api}")).await?;
    sb.add_channel(ChannelConfig {
        channel_secret: "demo-secret".into(),
        access_token: TOKEN.into(),
        bot_user_id: "Ud0d0000000000000000000000000c11c".into(),
        webhook_url: Some(bot),
        quota: Some(200),
    });
    for name in ["山田 花子", "Tanaka Taro"] {
        let profile = UserProfile {
            user_id: tsunagu_sandbox::line::random_user_id(),
            display_name: name.into(),
            ..Default::default()
        };
        sb.add_user(TOKEN, profile);
    }
    println!("patient simulator: http://{api}/simulator");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// A webhook that replies to each text with an echo and a quick-reply question.
async fn echo_bot(api: String) -> anyhow::Result<String> {
    let http = reqwest::Client::new();
    let app = axum::Router::new().route(
        "/webhook",
        post(move |body: Bytes| {
            let (http, api) = (http.clone(), api.clone());
            async move {
                let body: Value = serde_json::from_slice(&body).unwrap_or_default();
                for e in body["events"].as_array().into_iter().flatten() {
                    let (Some(token), Some(text)) = (e["replyToken"].as_str(), e["message"]["text"].as_str()) else {
                        continue;
                    };
                    let quick = json!({ "items": [
                        { "type": "action", "action": { "type": "message", "label": "予約する", "text": "予約したいです" } },
                        { "type": "action", "action": { "type": "postback", "label": "スタッフと話す", "data": "action=staff" } },
                    ]});
                    let reply = json!({ "replyToken": token, "messages": [
                        { "type": "text", "text": format!("「{text}」を受け付けました。"), "quickReply": quick },
                    ]});
                    let sent = http.post(format!("{api}/v2/bot/message/reply")).bearer_auth(TOKEN).json(&reply).send().await;
                    if let Err(e) = sent {
                        eprintln!("reply failed: {e}");
                    }
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}/webhook"))
}
