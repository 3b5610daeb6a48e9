//! The demo's emulated providers on one port: LINE at the root, WhatsApp under `/whatsapp`,
//! Messenger under `/messenger`, Twilio under `/twilio`, each with its patient simulator; and
//! the sample clinic's channels of every kind pointed at them, created the way an
//! administrator would (`channel_setup::prepare`, encrypted credentials).
use std::net::SocketAddr;

use anyhow::Context;
use serde_json::json;
use tsunagu_automation::sources;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ChannelId, ClinicId, SharedClock};
use tsunagu_sandbox::line::LineSandbox;
use tsunagu_sandbox::messenger::{MessengerSandbox, MessengerUser, PageConfig};
use tsunagu_sandbox::twilio::{NumberConfig, TwilioSandbox};
use tsunagu_sandbox::whatsapp::{PhoneNumberConfig, WhatsAppSandbox};
use tsunagu_store::{channels, templates, Db};
use tsunagu_web::channel_setup;

pub const WA_PHONE_ID: &str = "106540352242922";
const WA_WABA: &str = "102290129340398";
pub const WA_PATIENTS: [(&str, &str); 2] = [
    ("819011112222", "鈴木 一郎"),
    ("5511987654321", "Maria Santos"),
];
pub const FB_PAGE: &str = "1029384756473829";
pub const FB_PATIENTS: [(&str, &str, &str); 2] = [
    ("6120394857261034", "美咲", "田中"),
    ("6120394857261035", "John", "Miller"),
];
pub const SMS_NUMBER: &str = "+815012345678";
pub const SMS_PATIENTS: [&str; 2] = ["+819012345678", "+14155550123"];
const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";

pub struct Sandboxes {
    pub line: LineSandbox,
    pub whatsapp: WhatsAppSandbox,
    pub messenger: MessengerSandbox,
    pub twilio: TwilioSandbox,
    pub addr: SocketAddr,
}

/// Binds `addr` and serves every emulator there in a background task.
/// Every emulator on `addr`, on the demo's clock (so `--start-at` moves the patients' phones
/// too: their messages carry the demo's time and LINE reply tokens are fresh by it).
pub async fn serve(addr: &str, clock: SharedClock) -> anyhow::Result<Sandboxes> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the provider sandbox to {addr}"))?;
    let bound = listener
        .local_addr()
        .context("reading the sandbox address")?;
    let line = LineSandbox::with_clock(clock.clone());
    let whatsapp = WhatsAppSandbox::with_clock(clock.clone());
    let messenger = MessengerSandbox::with_clock(clock.clone());
    let twilio = TwilioSandbox::with_clock(clock);
    whatsapp.set_public_url(&format!("http://{bound}/whatsapp"));
    messenger.set_public_url(&format!("http://{bound}/messenger"));
    twilio.set_public_url(&format!("http://{bound}/twilio"));
    let app = line
        .simulator_router()
        .merge(line.router())
        .nest("/whatsapp", whatsapp.router())
        .nest("/messenger", messenger.router())
        .nest("/twilio", twilio.router());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "provider sandbox stopped");
        }
    });
    Ok(Sandboxes {
        line,
        whatsapp,
        messenger,
        twilio,
        addr: bound,
    })
}

fn secret() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

async fn create(
    services: &crate::Services,
    clinic: &ClinicId,
    kind: ChannelKind,
    name: &str,
    credentials: serde_json::Value,
    api_base: &str,
    now: i64,
) -> anyhow::Result<ChannelId> {
    let setup = channel_setup::prepare(kind, Some(credentials))?.map_err(anyhow::Error::new)?;
    let db = &services.state.db;
    let mut tx = db.begin().await?;
    let id = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: clinic,
            kind: kind.as_str(),
            name,
            credentials_enc: &services.state.cipher.encrypt_json(&setup.creds),
            api_base_url: api_base,
            api_data_base_url: None,
            settings: &serde_json::to_string(&setup.endpoints)?,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// WhatsApp, Messenger and SMS channels for the sample clinic, each wired to its emulator.
pub async fn connect(
    services: &crate::Services,
    db: &Db,
    clinic: &ClinicId,
    sb: &Sandboxes,
    web: &str,
    now: i64,
) -> anyhow::Result<()> {
    let base = format!("http://{}", sb.addr);
    // WhatsApp: one number, two patients, an approved appointment template.
    let (app_secret, token) = (secret(), format!("demo-wa-{}", secret()));
    let creds = json!({"app_secret": app_secret, "verify_token": secret(), "access_token": token,
        "waba_id": WA_WABA, "phone_numbers": [{"phone_number_id": WA_PHONE_ID, "display_phone_number": "+81 3-1234-5678"}]});
    let wa = create(
        services,
        clinic,
        ChannelKind::WhatsApp,
        "さくら内科 WhatsApp",
        creds,
        &format!("{base}/whatsapp/v23.0"),
        now,
    )
    .await?;
    sb.whatsapp.add_phone_number(PhoneNumberConfig {
        phone_number_id: WA_PHONE_ID.into(),
        display_phone_number: "81312345678".into(),
        waba_id: WA_WABA.into(),
        access_token: token,
        app_secret,
        webhook_url: Some(format!("http://{web}/webhooks/whatsapp/{wa}")),
    });
    for (wa_id, name) in WA_PATIENTS {
        sb.whatsapp.add_user(wa_id, name);
    }
    sb.whatsapp
        .set_auto_status(Some(std::time::Duration::from_secs(1)));
    // A template staff add in the demo is approved at once, so "Sync with Meta" completes.
    sb.whatsapp.set_auto_approve(true);
    let body = "{{1}}様、{{2}}にご予約をお取りしています。変更はこのメッセージにご返信ください。";
    sb.whatsapp
        .add_template(WA_WABA, "appointment_reminder", "ja", body, "APPROVED");
    let mut tx = db.begin().await?;
    let new = templates::NewTemplate {
        clinic_id: clinic,
        channel_id: &wa,
        name: "appointment_reminder",
        language: "ja",
        category: "UTILITY",
        body,
    };
    if let Ok(t) = templates::create(tx.conn(), new, now).await? {
        let approved = templates::StatusUpdate {
            status: "approved",
            provider_template_id: None,
            reason: None,
        };
        let _ = templates::set_status(tx.conn(), clinic, &t.id, approved, now).await?;
    }
    tx.commit().await?;

    // Messenger: one page, two people.
    let (app_secret, token) = (secret(), format!("demo-fb-{}", secret()));
    let creds = json!({"app_secret": app_secret, "verify_token": secret(),
        "pages": [{"page_id": FB_PAGE, "name": "さくら内科クリニック", "access_token": token}]});
    let fb = create(
        services,
        clinic,
        ChannelKind::Messenger,
        "さくら内科 Facebook",
        creds,
        &format!("{base}/messenger/v23.0"),
        now,
    )
    .await?;
    sb.messenger.add_page(PageConfig {
        page_id: FB_PAGE.into(),
        name: "さくら内科クリニック".into(),
        access_token: token,
        app_secret,
        webhook_url: Some(format!("http://{web}/webhooks/messenger/{fb}")),
        instagram: false,
    });
    for (psid, first, last) in FB_PATIENTS {
        let user = MessengerUser {
            psid: psid.into(),
            first_name: first.into(),
            last_name: last.into(),
            profile_pic: None,
        };
        sb.messenger.add_user(FB_PAGE, user);
    }
    sb.messenger.set_auto_receipts(true);
    // A website button on Messenger (`m.me/sakura.clinic?ref=…`): the simulator's
    // 「リンクから開く」 with the source's code plays a person following it.
    let mut conn = db.pool().acquire().await?;
    let fb = fb.as_str();
    sources::set_address(&mut conn, clinic, fb, "sakura.clinic", now).await?;
    sources::create(
        &mut conn,
        clinic,
        fb,
        "ホームページ",
        "流入:ホームページ",
        now,
    )
    .await?;
    drop(conn);

    // SMS: one Twilio number.
    let auth_token = secret();
    let creds =
        json!({"account_sid": TWILIO_SID, "auth_token": auth_token, "numbers": [SMS_NUMBER]});
    let sms = create(
        services,
        clinic,
        ChannelKind::Sms,
        "さくら内科 SMS",
        creds,
        &format!("{base}/twilio"),
        now,
    )
    .await?;
    sb.twilio.add_number(NumberConfig {
        account_sid: TWILIO_SID.into(),
        auth_token,
        phone_number: SMS_NUMBER.into(),
        sms_url: Some(format!("http://{web}/webhooks/sms/{sms}")),
        messaging_service_sid: None,
    });
    sb.twilio.set_auto_status(true);
    Ok(())
}

/// A first message on each channel, so the inbox shows every kind from the start.
pub async fn seed_first_messages(sb: &Sandboxes) {
    let (wa_id, name) = WA_PATIENTS[0];
    let wa = sb
        .whatsapp
        .user_text(WA_PHONE_ID, wa_id, name, "駐車場はありますか？")
        .await;
    let fb = sb
        .messenger
        .user_text(FB_PAGE, FB_PATIENTS[0].0, "予防接種の予約はできますか？")
        .await;
    let sms = sb
        .twilio
        .user_sms(
            SMS_NUMBER,
            SMS_PATIENTS[0],
            "明日の診療時間を教えてください",
        )
        .await;
    for (what, r) in [
        ("WhatsApp", wa.err()),
        ("Messenger", fb.err()),
        ("SMS", sms.err()),
    ] {
        if let Some(e) = r {
            tracing::warn!("seeding the first demo {what} message: {e:#}");
        }
    }
}
