//! A seeded inbox served for a browser, for looking at the pages (screenshots, manual checks):
//!
//! ```text
//! cargo run -p tsunagu-web --example seeded_inbox
//! ```
//!
//! `INBOX_DEMO_ADDR` picks the address (default `127.0.0.1:8099`) and `INBOX_DEMO_ROLE` the role
//! (default `receptionist`; `admin` also shows the assignment select). Every request is signed in
//! as that staff member: a layer adds the session cookie. The database is a fresh temporary SQLite
//! one (PostgreSQL when `TEST_DATABASE_URL` is set), removed on Ctrl-C.
//! `POST /demo/inbound/{n}` makes the patient of conversation n (0–3) write again, as a webhook
//! would, so the live updates can be watched.
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Path, Request};
use axum::http::HeaderValue;
use tsunagu_accounts::{sessions, staff};
use tsunagu_core::config::Settings;
use tsunagu_core::{
    ChannelId, ChannelIdentityId, ClinicId, Clock, ConversationId, MessageId, Role, StaffId,
    SystemClock,
};
use tsunagu_inbox::live::LiveHub;
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::Cipher;
use tsunagu_store::conversations::{self, NewConversation, NewMessage};
use tsunagu_store::{channels, clinics, patients, Db};
use tsunagu_web::AppState;

struct Seed {
    db: Db,
    clinic: ClinicId,
    channel: ChannelId,
}

struct Conv {
    id: ConversationId,
    patient_id: String,
    identity_id: String,
}

fn ago(minutes: i64) -> i64 {
    SystemClock.now_ms() - minutes * 60_000
}

impl Seed {
    async fn new(db: Db) -> anyhow::Result<Seed> {
        let now = SystemClock.now_ms();
        let mut tx = db.begin().await?;
        let org = clinics::create_organization(tx.conn(), "医療法人 さくら会", now).await?;
        let new = clinics::NewClinic {
            organization_id: &org,
            slug: "sakura",
            name: "さくら内科クリニック",
            timezone: "Asia/Tokyo",
            locale: "ja-JP",
        };
        let clinic = clinics::create_clinic(tx.conn(), new, now).await?;
        let ch = channels::NewChannel {
            clinic_id: &clinic,
            kind: "line",
            name: "LINE公式アカウント",
            credentials_enc: "v1:seed",
            api_base_url: "http://127.0.0.1:1",
            api_data_base_url: None,
            settings: "{}",
        };
        let channel = channels::create(tx.conn(), ch, now).await?;
        tx.commit().await?;
        Ok(Seed {
            db,
            clinic,
            channel,
        })
    }

    async fn staff(&self, name: &str, role: Role) -> anyhow::Result<StaffId> {
        let mut tx = self.db.begin().await?;
        let email = format!("{}@example.jp", uuid::Uuid::now_v7());
        let now = SystemClock.now_ms();
        let id = staff::create(tx.conn(), &email, name, "$argon2id$unused", now).await?;
        staff::add_membership(tx.conn(), &id, &self.clinic, role, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A session that has passed both factors: the cookie value.
    async fn session(&self, staff_id: &StaffId) -> anyhow::Result<String> {
        let mut tx = self.db.begin().await?;
        let now = SystemClock.now_ms();
        let s = sessions::create(tx.conn(), staff_id, Some(&self.clinic), true, None, now).await?;
        tx.commit().await?;
        Ok(s.token)
    }

    /// A patient's one-to-one chat with a profile, and one inbound text at `at`.
    async fn conversation(
        &self,
        user: &str,
        name: &str,
        text: &str,
        at: i64,
    ) -> anyhow::Result<Conv> {
        let mut tx = self.db.begin().await?;
        let ident =
            patients::create_provisional(tx.conn(), &self.clinic, &self.channel, user, "", at)
                .await?;
        let ident_id = ChannelIdentityId::from_db(ident.id.clone());
        let profile = patients::Profile {
            display_name: name,
            picture_url: None,
            status_message: Some("よろしくお願いします"),
            language: Some("ja"),
        };
        patients::set_profile(tx.conn(), &ident_id, profile, at).await?;
        patients::set_follow_state(tx.conn(), &ident_id, "following", at).await?;
        let new = NewConversation {
            clinic_id: &self.clinic,
            channel_id: &self.channel,
            kind: "direct",
            thread_key: user,
            patient_id: Some(&ident.patient_id),
            channel_identity_id: Some(&ident.id),
            title: None,
        };
        let conv = conversations::find_or_create(tx.conn(), new, at).await?;
        tx.commit().await?;
        let c = Conv {
            id: ConversationId::from_db(conv.id),
            patient_id: ident.patient_id,
            identity_id: ident.id,
        };
        self.say(&c, "in", "text", Some(text), "{}", at).await?;
        Ok(c)
    }

    async fn say(
        &self,
        c: &Conv,
        direction: &str,
        kind: &str,
        body: Option<&str>,
        payload: &str,
        at: i64,
    ) -> anyhow::Result<MessageId> {
        let inbound = direction == "in";
        let mut tx = self.db.begin().await?;
        let m = NewMessage {
            clinic_id: &self.clinic,
            conversation_id: &c.id,
            channel_id: &self.channel,
            direction,
            kind,
            body,
            payload,
            sender_identity_id: inbound.then_some(c.identity_id.as_str()),
            author_kind: if inbound { "patient" } else { "staff" },
            author_staff_id: None,
            provider_message_id: None,
            status: if inbound { "received" } else { "queued" },
            at_ms: at,
        };
        let id = conversations::insert_message(tx.conn(), m).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn exec(&self, sql: &str, binds: &[&str]) -> anyhow::Result<()> {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(self.db.pool()).await.context(sql.to_string())?;
        Ok(())
    }
}

/// The four conversations: a finished one assigned to me, a fresh question, one with a failed
/// and an in-doubt reply, and a patient without a profile name (with markup in the text).
async fn seed(s: &Seed, me: &StaffId, nurse: &StaffId) -> anyhow::Result<[Conv; 4]> {
    let kenichi = s
        .conversation(
            "U100",
            "佐藤 健一",
            "先日はありがとうございました。",
            ago(60 * 30),
        )
        .await?;
    s.say(
        &kenichi,
        "out",
        "text",
        Some("お大事になさってください。"),
        "{}",
        ago(60 * 29),
    )
    .await?;
    s.exec(
        "UPDATE patients SET provisional = 0 WHERE id = $1",
        &[&kenichi.patient_id],
    )
    .await?;
    s.exec(
        "UPDATE conversations SET assignee_id = $1, unread_count = 0 WHERE id = $2",
        &[me.as_str(), kenichi.id.as_str()],
    )
    .await?;

    let misaki = s
        .conversation(
            "U101",
            "鈴木 美咲",
            "子どもが昨夜から38度の熱があります。今日の午後は診ていただけますか?",
            ago(95),
        )
        .await?;
    let text = "ご連絡ありがとうございます。本日15時30分にご予約をお取りできます。";
    s.say(&misaki, "out", "text", Some(text), "{}", ago(90))
        .await?;
    let sticker = r#"{"packageId":"446","stickerId":"1988"}"#;
    s.say(&misaki, "in", "sticker", None, sticker, ago(88))
        .await?;
    s.exec(
        "UPDATE conversations SET assignee_id = $1 WHERE id = $2",
        &[nurse.as_str(), misaki.id.as_str()],
    )
    .await?;

    let hanako = s
        .conversation("U102", "山田 花子", "おはようございます。", ago(40))
        .await?;
    let text = "明日10時の予約を11時に変更できますか?\n仕事が長引きそうで…";
    s.say(&hanako, "in", "text", Some(text), "{}", ago(39))
        .await?;
    let text = "おはようございます。11時で承りました。保険証をお持ちください。";
    s.say(&hanako, "out", "text", Some(text), "{}", ago(30))
        .await?;
    let failed = s
        .say(
            &hanako,
            "out",
            "text",
            Some("駐車場は裏手に3台ございます。"),
            "{}",
            ago(29),
        )
        .await?;
    s.exec(
        "UPDATE messages SET status = 'failed', failure_code = 'rejected_by_provider', failure_reason = 'LINE answered 429 (monthly limit)' WHERE id = $1",
        &[failed.as_str()],
    )
    .await?;
    let doubtful = s
        .say(
            &hanako,
            "out",
            "text",
            Some("お大事になさってください。"),
            "{}",
            ago(28),
        )
        .await?;
    s.exec(
        "UPDATE messages SET status = 'in_doubt', failure_code = 'in_doubt', failure_reason = 'no answer from LINE within the retry window (24 h)' WHERE id = $1",
        &[doubtful.as_str()],
    )
    .await?;
    let loc = r#"{"title":"さくら内科クリニック","address":"東京都千代田区丸の内1-1-1","latitude":35.681236,"longitude":139.767125}"#;
    s.say(
        &hanako,
        "in",
        "location",
        Some("さくら内科クリニック"),
        loc,
        ago(5),
    )
    .await?;
    let text = "ここで合っていますか?<b>念のため</b>";
    s.say(&hanako, "in", "text", Some(text), "{}", ago(2))
        .await?;

    let taro = s
        .conversation(
            "U103",
            "",
            "<script>alert('xss')</script> 予約したいです",
            ago(1),
        )
        .await?;
    Ok([hanako, misaki, kenichi, taro])
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr: SocketAddr = std::env::var("INBOX_DEMO_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8099".into())
        .parse()
        .context("INBOX_DEMO_ADDR is not host:port")?;
    let role: Role = std::env::var("INBOX_DEMO_ROLE")
        .unwrap_or_else(|_| "receptionist".into())
        .parse()
        .map_err(|_| {
            anyhow::anyhow!("INBOX_DEMO_ROLE is not a role (owner, admin, receptionist…)")
        })?;
    let t = tsunagu_testkit::test_db().await;
    let s = Arc::new(Seed::new(t.db.clone()).await?);
    let me = s.staff("受付 佐藤", role).await?;
    let nurse = s.staff("看護師 田中", Role::Clinician).await?;
    let convs = Arc::new(seed(&s, &me, &nurse).await?);
    let ids: Vec<String> = convs.iter().map(|c| c.id.to_string()).collect();
    println!(
        "conversations: hanako={} misaki={} kenichi={} taro={}",
        ids[0], ids[1], ids[2], ids[3]
    );

    let live = LiveHub::new();
    let state = AppState::new(
        t.db.clone(),
        Arc::new(Settings::default()),
        Arc::new(SystemClock),
        Cipher::new(&[7; 32]),
        live.clone(),
    );
    let cookie = HeaderValue::from_str(&format!("tsunagu_session={}", s.session(&me).await?))?;
    let poke = {
        let (s, convs) = (s.clone(), convs.clone());
        axum::Router::new().route(
            "/demo/inbound/{n}",
            axum::routing::post(move |Path(n): Path<usize>| {
                let (s, convs, live) = (s.clone(), convs.clone(), live.clone());
                async move {
                    let c = &convs[n.min(3)];
                    let at = SystemClock.now_ms();
                    if let Err(e) = s
                        .say(c, "in", "text", Some("追加の質問です。"), "{}", at)
                        .await
                    {
                        return format!("failed: {e:#}");
                    }
                    live.publish(LiveEvent {
                        clinic_id: s.clinic.to_string(),
                        conversation_id: c.id.to_string(),
                        kind: "message.created",
                    });
                    "ok".to_string()
                }
            }),
        )
    };
    let router = tsunagu_web::router(state)
        .merge(poke)
        .layer(axum::middleware::map_request(move |mut req: Request| {
            let cookie = cookie.clone();
            async move {
                req.headers_mut().insert("cookie", cookie);
                req
            }
        }));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("serving the seeded inbox on http://{addr}/app/inbox (Ctrl-C stops and cleans up)");
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    );
    // Open live streams never end by themselves, so Ctrl-C stops the server outright; the
    // temporary database goes with `t`.
    tokio::select! {
        r = server.into_future() => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(t);
    Ok(())
}
