//! `tsunagu demo`: a sample clinic on embedded SQLite with LINE, WhatsApp, Messenger and SMS
//! channels wired to the built-in provider emulators on their own port, a patient simulator for
//! each, and printed sign-in details.
//! The emulator runs only here (and in tests); `serve` never mounts it.
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tsunagu_automation::line_login;
use tsunagu_core::config::{OutboundSettings, Secret, Settings};
use tsunagu_core::{OffsetClock, SharedClock, SystemClock};
use tsunagu_sandbox::line::{ChannelConfig, LoginChannelConfig, UserProfile};

/// The demo's LINE Login channel id (the sandbox's; a real one comes from the console).
const DEMO_LOGIN_CHANNEL: &str = "1650000001";
use tsunagu_store::{channels, clinics};

use crate::admin;

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Where the demo keeps its database and key (recreated at every start).
    #[arg(long, default_value = "./data/demo")]
    pub data_dir: PathBuf,
    /// The staff web UI.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The provider emulators (LINE at /, WhatsApp, Messenger, Twilio under their names) and
    /// their patient simulators.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub sandbox_listen: String,
    /// Require 2FA enrolment at first sign-in, as a real clinic does (relaxed by default so the
    /// demo opens in seconds).
    #[arg(long)]
    pub require_2fa: bool,
    /// Start the demo's clock at this instant (RFC 3339, e.g. 2026-12-08T02:00:00+09:00); it
    /// runs at real speed from there, so a night-time message can be tried by day.
    #[arg(long, value_parser = parse_start_at)]
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn parse_start_at(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| "expected an RFC 3339 time such as 2026-12-08T02:00:00+09:00".to_string())
}

pub const DEMO_PASSWORD: &str = "tsunagu-demo-2026";
pub const DEMO_RECEPTION: &str = "reception@sakura-clinic.example";
pub const DEMO_OWNER: &str = "owner@sakura-clinic.example";

const PATIENTS: [(&str, &str); 3] = [
    ("U4af4980629a1b2c3d4e5f60718293a4b", "山田 花子"),
    ("U5bf5091730b2c3d4e5f60718293a4b5c", "佐藤 健一"),
    ("U6c06102841c3d4e5f60718293a4b5c6d", "Emily Carter"),
];

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let clock: SharedClock = match args.start_at {
        Some(at) => Arc::new(OffsetClock::starting_at(at)),
        None => Arc::new(SystemClock),
    };
    if args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)
            .with_context(|| format!("resetting {}", args.data_dir.display()))?;
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let key = demo_key(&args.data_dir)?;
    let settings = Settings {
        listen: args.listen.clone(),
        data_dir: args.data_dir.clone(),
        encryption_key: Some(Secret::new(hex::encode(key))),
        // The provider emulators run on this machine (127.0.0.1): the demo's channels point
        // there, which production's outbound rule refuses.
        outbound: OutboundSettings {
            allow_private_addresses: true,
        },
        ..Settings::default()
    };
    settings.validate()?;
    let services = crate::Services::start(settings, clock.clone()).await?;
    let db = services.state.db.clone();
    let now = clock.now_ms();

    let spec = admin::ClinicSpec {
        slug: "sakura",
        name: "さくら内科クリニック",
        timezone: "Asia/Tokyo",
        locale: "ja",
        org: Some("医療法人さくら会"),
    };
    let clinic = admin::create_clinic(&db, spec, now).await?;
    let mut conn = db.pool().acquire().await?;
    clinics::set_require_2fa(&mut conn, &clinic, args.require_2fa).await?;
    drop(conn);
    crate::demo_routing::seed(&db, &clinic, now).await?;
    crate::demo_canned::seed(&db, &clinic, now).await?;
    crate::demo_safety::seed(&db, &clinic, now).await?;
    crate::demo_satisfaction::seed(&db, &clinic, now).await?;
    // Service levels, so the first conversations show their 返信期限 / 解決期限.
    let mut conn = db.pool().acquire().await?;
    tsunagu_inbox::sla::targets::save(&mut conn, &clinic, &DEMO_SERVICE_LEVELS, now).await?;
    drop(conn);
    let (_, token) = admin::create_token(
        &db,
        "sakura",
        "demo",
        &[tsunagu_core::TokenScope::Admin],
        now,
    )
    .await?;

    // Every provider's emulator on the sandbox port; the LINE channel first.
    let sandboxes = crate::demo_channels::serve(&args.sandbox_listen, clock.clone()).await?;
    let sandbox = sandboxes.line.clone();
    let sandbox_url = format!("http://{}", sandboxes.addr);
    let secret = hex::encode(rand::random::<[u8; 16]>());
    let access_token = format!("demo-{}", hex::encode(rand::random::<[u8; 24]>()));
    let creds = services.state.cipher.encrypt_json(&serde_json::json!({
        "channel_secret": secret, "channel_access_token": access_token,
    }));
    let mut tx = db.begin().await?;
    let channel = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: &clinic,
            kind: "line",
            name: "さくら内科 LINE公式アカウント",
            credentials_enc: &creds,
            api_base_url: &sandbox_url,
            api_data_base_url: Some(&sandbox_url),
            settings: "{}",
        },
        now,
    )
    .await?;
    tx.commit().await?;
    crate::demo_automation::seed(&db, &clinic, &channel, &services.state.cipher, now).await?;
    sandbox.add_channel(ChannelConfig {
        channel_secret: secret,
        access_token: access_token.clone(),
        bot_user_id: "Ubot0000000000000000000000000demo".into(),
        webhook_url: Some(format!("http://{}/webhooks/line/{channel}", args.listen)),
        quota: None,
    });
    // A LINE Login channel linked to the account: the poster's QR code opens LINE Login's
    // add-friend screen (the sandbox's consent page) instead of a prefilled message.
    let login_secret = hex::encode(rand::random::<[u8; 16]>());
    sandbox.add_login_channel(LoginChannelConfig {
        channel_id: DEMO_LOGIN_CHANNEL.into(),
        channel_secret: login_secret.clone(),
        linked_access_token: access_token.clone(),
    });
    {
        let mut conn = db.pool().acquire().await?;
        let pair = (DEMO_LOGIN_CHANNEL, login_secret.as_str());
        let cipher = &services.state.cipher;
        line_login::link::set(&mut conn, cipher, &clinic, channel.as_str(), pair, now).await?;
    }
    for (user_id, name) in PATIENTS {
        sandbox.add_user(
            &access_token,
            UserProfile {
                user_id: user_id.into(),
                display_name: name.into(),
                picture_url: None,
                status_message: None,
                language: Some(if name.is_ascii() { "en" } else { "ja" }.into()),
            },
        );
    }

    crate::demo_channels::connect(&services, &db, &clinic, &sandboxes, &args.listen, now)
        .await
        .context("connecting the demo's WhatsApp, Messenger and SMS channels")?;
    crate::demo_routing::route_channels(&db, &clinic).await?;

    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {} (is another tsunagu running?)", args.listen))?;
    let shutdown = crate::shutdown_signal();
    let server = tokio::spawn(services.run(listener, shutdown));

    // A first patient message so the inbox is not empty.
    let first = sandbox.user_text(PATIENTS[0].0, "明日の予約を午後に変更できますか？");
    if let Err(e) = sandbox.send_event(&access_token, first).await {
        tracing::warn!("seeding the first demo message: {e:#}");
    }
    crate::demo_channels::seed_first_messages(&sandboxes).await;

    println!();
    println!(
        "  tsunagu demo is running (data in {}, recreated at every start)",
        args.data_dir.display()
    );
    println!();
    println!("  Staff inbox        http://{}/login", args.listen);
    println!("    reception        {DEMO_RECEPTION}  /  {DEMO_PASSWORD}");
    println!("    owner            {DEMO_OWNER}  /  {DEMO_PASSWORD}");
    println!(
        "    nurse, billing   {}, {}  /  {DEMO_PASSWORD}",
        crate::demo_routing::DEMO_NURSE,
        crate::demo_routing::DEMO_BILLING
    );
    if let Some(at) = args.start_at {
        println!(
            "    clock            started at {} (runs at real speed)",
            at.to_rfc3339()
        );
    }
    println!("    on call          nurse, then owner (/app/settings/on-call)");
    if args.require_2fa {
        println!("    2FA              required: enrol with any TOTP app at first sign-in");
    } else {
        println!("    2FA              relaxed for this demo clinic (use --require-2fa to try it)");
    }
    println!("  Patient simulators (chat as a patient)");
    println!("    LINE             {sandbox_url}/simulator");
    println!("    WhatsApp         {sandbox_url}/whatsapp/simulator");
    println!("    Messenger        {sandbox_url}/messenger/simulator");
    println!("    SMS (Twilio)     {sandbox_url}/twilio/simulator");
    println!(
        "  API                http://{}/api/v1/openapi.json",
        args.listen
    );
    println!("    admin token      {token}");
    println!();
    println!("  Ctrl-C stops the demo.");
    server.await.context("the web server task")??;
    Ok(())
}

/// 30 minutes to a first reply, 8 opening hours to resolve, amber 10 minutes before.
const DEMO_SERVICE_LEVELS: tsunagu_inbox::sla::Targets = tsunagu_inbox::sla::Targets {
    first_response_minutes: Some(30),
    resolution_minutes: Some(8 * 60),
    warning_minutes: Some(10),
};

/// The demo's own encryption key, generated once per data directory.
fn demo_key(dir: &std::path::Path) -> anyhow::Result<[u8; 32]> {
    let path = dir.join("encryption.key");
    let key: [u8; 32] = rand::random();
    std::fs::write(&path, hex::encode(key))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}
