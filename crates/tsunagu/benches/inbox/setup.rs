//! The clinic under test: tsunagu serving a database that holds the corpus (a million
//! messages), its four channels connected as an administrator does (`POST /api/v1/channels`),
//! 50 staff signed in (their sessions made as sign-in makes them), and an API token.
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tsunagu_accounts::{sessions, staff};
use tsunagu_core::config::Settings;
use tsunagu_core::{ClinicId, Clock, Role, StaffId, SystemClock, TokenScope};
use tsunagu_store::{clinics, Db};
use tsunagu_testkit::corpus::{self, Spec};

pub const STAFF: usize = 50;
pub const LINE_SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
const SLUG: &str = "bench-inbox";

pub struct Clinic {
    pub db: Db,
    pub id: ClinicId,
    pub base: String,
    pub token: String,
    /// (staff id, session cookie value), the first one the person with most conversations.
    pub staff: Vec<(StaffId, String)>,
    pub line_channel: String,
    pub line_webhook: String,
    /// What the corpus run wrote (`None` when an earlier run's corpus was reused).
    pub corpus: Option<corpus::Summary>,
}

/// tsunagu on `url`; the corpus is written unless the clinic is already there (a kept
/// `BENCH_CORPUS_DIR`).
pub async fn start(url: &str, spec: &Spec) -> anyhow::Result<Clinic> {
    let db = Db::connect_and_migrate(url).await?;
    let now = SystemClock.now_ms();
    let mut conn = db.pool().acquire().await?;
    let existing = clinics::by_slug(&mut conn, SLUG).await?;
    drop(conn);
    let fresh = existing.is_none();
    let id = match existing {
        Some(c) => c.clinic_id(),
        None => {
            let spec = tsunagu::admin::ClinicSpec {
                slug: SLUG,
                name: "さくら内科ベンチ",
                timezone: "Asia/Tokyo",
                locale: "ja",
                org: None,
            };
            tsunagu::admin::create_clinic(&db, spec, now).await?
        }
    };
    let (_, token) =
        tsunagu::admin::create_token(&db, SLUG, "bench", &[TokenScope::Admin], now).await?;
    let base = serve(db.clone()).await?;
    let http = reqwest::Client::new();
    if fresh {
        for kind in ["line", "whatsapp", "messenger", "sms"] {
            connect(&http, &base, &token, kind).await?;
        }
        add_staff(&db, &id, now).await?;
        // Service levels on, as a clinic that uses them: every row computes its clocks.
        let targets = tsunagu_inbox::sla::targets::Targets {
            first_response_minutes: Some(30),
            resolution_minutes: Some(480),
            warning_minutes: Some(10),
        };
        let mut conn = db.pool().acquire().await?;
        tsunagu_inbox::sla::targets::save(&mut conn, &id, &targets, now).await?;
    }
    let line_channel: String =
        sqlx::query_scalar("SELECT id FROM channels WHERE clinic_id = $1 AND kind = 'line'")
            .bind(id.as_str())
            .fetch_one(db.pool())
            .await?;
    let corpus = if fresh {
        let written = corpus::generate(&db, &id, spec).await?;
        // What autovacuum does on a database in service: visibility maps and statistics (the
        // bulk load is minutes old; a clinic's database has had them for months).
        if db.backend() == tsunagu_store::Backend::Postgres {
            sqlx::query("VACUUM (ANALYZE)").execute(db.pool()).await?;
        }
        Some(written)
    } else {
        // An earlier run's storm may have left its messages' jobs queued: the worker would
        // work through them during this run's quiet views.
        let left = sqlx::query("DELETE FROM outbox_jobs WHERE state = 'queued'")
            .execute(db.pool())
            .await?
            .rows_affected();
        if left > 0 {
            println!("dropped {left} jobs an earlier run left queued");
        }
        None
    };
    let staff = sign_in(&db, &id, now).await?;
    Ok(Clinic {
        line_webhook: format!("{base}/webhooks/line/{line_channel}"),
        db,
        id,
        base,
        token,
        staff,
        line_channel,
        corpus,
    })
}

/// The SQLite file of a kept corpus, or a fresh one in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}/tsunagu.db?mode=rwc", dir.display())
}

async fn serve(db: Db) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut settings = Settings {
        public_url: Some(base.clone()),
        ..Settings::default()
    };
    // Workers run as in production (dispatch and routing of each arriving message); the
    // channels' API base points nowhere, and nothing a returning patient's message starts sends.
    settings.outbox.workers = true;
    settings.outbound.allow_private_addresses = true;
    let clock: tsunagu_core::SharedClock = Arc::new(SystemClock);
    let services = tsunagu::Services::with_db(db, settings, clock, &[7u8; 32]);
    tokio::spawn(async move {
        let (_stop, rx) = tokio::sync::watch::channel(false);
        if let Err(e) = services.run(listener, rx).await {
            eprintln!("tsunagu stopped: {e:#}");
        }
    });
    Ok(base)
}

async fn connect(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    kind: &str,
) -> anyhow::Result<()> {
    let credentials = match kind {
        "line" => json!({"channel_secret": LINE_SECRET, "channel_access_token": "bench-token"}),
        "whatsapp" => json!({
            "app_secret": "5f1c0a9e8b7d6c5b4a39281706f5e4d3", "verify_token": "bench-verify",
            "access_token": "bench-token", "waba_id": "102290129340398",
            "phone_numbers": [{"phone_number_id": "106540352242922", "display_phone_number": "+1 555-078-3881"}],
        }),
        "messenger" => json!({
            "app_secret": "5f1c0a9e8b7d6c5b4a39281706f5e4d3", "verify_token": "bench-verify",
            "pages": [{"page_id": "104385229123456", "name": "さくら内科", "access_token": "bench-page-token"}],
        }),
        _ => json!({
            "account_sid": "AC0123456789abcdef0123456789abcdef",
            "auth_token": "5f2c9a8b7e6d4c3b2a1908f7e6d5c4b3", "numbers": ["+815012345678"],
        }),
    };
    let resp = http
        .post(format!("{base}/api/v1/channels"))
        .bearer_auth(token)
        .json(&json!({"kind": kind, "name": format!("さくら内科 {kind}"),
                      "credentials": credentials, "api_base_url": "http://127.0.0.1:9"}))
        .send()
        .await
        .with_context(|| format!("connecting the {kind} channel"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "connecting {kind}: {status} {body}");
    Ok(())
}

/// 50 people who may reply: receptionists, nurses and doctors.
async fn add_staff(db: &Db, clinic: &ClinicId, now: i64) -> anyhow::Result<()> {
    const NAMES: &[&str] = &[
        "小林", "高橋", "中村", "森", "佐藤", "田中", "伊藤", "山本", "渡辺", "加藤",
    ];
    let mut tx = db.begin().await?;
    for i in 0..STAFF {
        let role = match i % 5 {
            0..=2 => Role::Receptionist,
            3 => Role::Clinician,
            _ => Role::Admin,
        };
        let name = format!("{} {}", NAMES[i % NAMES.len()], i + 1);
        let email = format!("staff{i}@bench.example");
        let id = staff::create(tx.conn(), &email, &name, "$argon2id$unused", now).await?;
        staff::add_membership(tx.conn(), &id, clinic, role, now).await?;
    }
    tx.commit().await
}

/// A session for each of the 50, as signing in with 2FA leaves it; the person with the most
/// open conversations first (their 自分の担当 is the fullest).
async fn sign_in(db: &Db, clinic: &ClinicId, now: i64) -> anyhow::Result<Vec<(StaffId, String)>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT m.staff_id FROM memberships m
         LEFT JOIN conversations c ON c.assignee_id = m.staff_id AND c.status = 'open'
         WHERE m.clinic_id = $1 GROUP BY m.staff_id ORDER BY COUNT(c.id) DESC, m.staff_id",
    )
    .bind(clinic.as_str())
    .fetch_all(db.pool())
    .await?;
    let mut tx = db.begin().await?;
    let mut out = Vec::new();
    for id in ids.into_iter().take(STAFF) {
        let staff_id = StaffId::parse(&id).context("a staff id")?;
        let s = sessions::create(
            tx.conn(),
            &staff_id,
            Some(clinic),
            true,
            Some("127.0.0.1"),
            now,
        )
        .await?;
        out.push((staff_id, s.token));
    }
    tx.commit().await?;
    Ok(out)
}
