//! `tsunagu rotate-key`: every secret moves from the old key to the new one in one transaction,
//! the app works on with the new key, and a bad key or a bad call changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT, SECRET};
use serde_json::json;
use tsunagu::rotate_key::rotate;
use tsunagu_core::{Clock, Role};
use tsunagu_privacy::Cipher;
use tsunagu_store::{channels, Db};

/// The key `spawn_app` runs with.
const OLD: [u8; 32] = [9; 32];
const NEW: [u8; 32] = [0x5a; 32];
const TOTP_SEED: &[u8] = b"12345678901234567890";

/// A staff member with 2FA on, the seed encrypted under `key`.
async fn staff_with_totp(db: &Db, key: &[u8; 32], email: &str) {
    let added = tsunagu_accounts::staff::add_user(db, "sakura", email, Role::Receptionist, None, 1)
        .await
        .unwrap();
    sqlx::query("UPDATE staff SET totp_secret_enc = $1, totp_enabled = 1 WHERE id = $2")
        .bind(Cipher::new(key).encrypt(TOTP_SEED))
        .bind(added.staff_id.as_str())
        .execute(db.pool())
        .await
        .unwrap();
}

/// Every stored secret: (channel credentials…, TOTP seeds…), as stored.
async fn secrets(db: &Db) -> (Vec<String>, Vec<String>) {
    let creds = sqlx::query_scalar("SELECT credentials_enc FROM channels ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let seeds = sqlx::query_scalar(
        "SELECT totp_secret_enc FROM staff WHERE totp_secret_enc IS NOT NULL ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    (creds, seeds)
}

/// True when `key` opens every stored secret, and they hold what was stored.
async fn all_open_with(db: &Db, key: &[u8; 32]) -> bool {
    let c = Cipher::new(key);
    let (creds, seeds) = secrets(db).await;
    assert!(!creds.is_empty() && !seeds.is_empty());
    creds.iter().all(|v| {
        c.decrypt_json(v).is_ok_and(|j| {
            j["channel_secret"] == SECRET && j["channel_access_token"] == ACCESS_TOKEN
        })
    }) && seeds
        .iter()
        .all(|v| c.decrypt(v).is_ok_and(|s| s == TOTP_SEED))
}

async fn patient_says(app: &TestApp, text: &str) {
    let event = app.sandbox.user_text(PATIENT, text);
    let status = app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap();
    assert_eq!(status, 200);
    app.run_jobs().await;
}

#[tokio::test]
async fn every_secret_moves_to_the_new_key_and_the_app_sends_with_it() {
    let app = spawn_app().await;
    staff_with_totp(&app.db, &OLD, "desk@example.jp").await;
    patient_says(&app, "予約の確認をお願いします").await;
    assert!(all_open_with(&app.db, &OLD).await);
    let flow = {
        let mut conn = app.db.pool().acquire().await.unwrap();
        let def = tsunagu_automation::flows::sample::intake(None);
        let (clinic, old, now) = (&app.clinic, &Cipher::new(&OLD), app.clock.now_ms());
        tsunagu_automation::flows::store::create(&mut conn, clinic, "問診", &def, old, now)
            .await
            .unwrap()
    };
    let rule = {
        use tsunagu_automation::event_rules::{store, Action, Draft, Kind, Trigger};
        let mut conn = app.db.pool().acquire().await.unwrap();
        let trigger = Trigger {
            kind: Kind::ConversationResolved,
            tag: None,
            purpose: None,
            granted: None,
        };
        let url = "https://example.jp/hook".to_string();
        let d = Draft {
            name: "連携".into(),
            enabled: true,
            stop_later: false,
            trigger,
            conditions: vec![],
            actions: vec![Action::Webhook { url }],
        };
        let (clinic, old, now) = (&app.clinic, &Cipher::new(&OLD), app.clock.now_ms());
        store::create(&mut conn, clinic, old, d, now)
            .await
            .unwrap()
            .unwrap()
    };
    {
        // A LINE Login channel linked for the sources' add-friend option.
        use tsunagu_automation::line_login::link;
        let mut conn = app.db.pool().acquire().await.unwrap();
        let (clinic, old, now) = (&app.clinic, &Cipher::new(&OLD), app.clock.now_ms());
        let pair = ("1660000000", "0123456789abcdef0123456789abcdef");
        link::set(&mut conn, old, clinic, app.channel.as_str(), pair, now)
            .await
            .unwrap();
    }

    let now = app.clock.now_ms();
    let done = rotate(&app.db, &OLD, &NEW, false, now).await.unwrap();
    assert_eq!(
        done.columns,
        vec![
            ("channel credentials", 1, 0),
            ("2FA secrets", 1, 0),
            ("flow webhook keys", 1, 0),
            ("event rule webhook keys", 1, 0),
            ("LINE Login channel secrets", 1, 0)
        ]
    );
    {
        use tsunagu_automation::line_login::link;
        let mut conn = app.db.pool().acquire().await.unwrap();
        let new = Cipher::new(&NEW);
        let got = link::get(&mut conn, &new, &app.clinic, app.channel.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.secret, "0123456789abcdef0123456789abcdef");
    }
    let mut conn = app.db.pool().acquire().await.unwrap();
    let key = tsunagu_automation::flows::store::webhook_secret(&mut conn, &app.clinic, &flow)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    assert!(
        Cipher::new(&NEW).decrypt(&key).is_ok(),
        "the flow's key moved too"
    );
    let mut conn = app.db.pool().acquire().await.unwrap();
    let key = tsunagu_automation::event_rules::store::webhook_secret(&mut conn, &app.clinic, &rule)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    assert!(
        Cipher::new(&NEW).decrypt(&key).is_ok(),
        "the rule's key too"
    );
    assert!(all_open_with(&app.db, &NEW).await);
    let (creds, seeds) = secrets(&app.db).await;
    let old = Cipher::new(&OLD);
    assert!(creds.iter().chain(&seeds).all(|v| old.decrypt(v).is_err()));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'encryption_key.rotate'")
            .await,
        1
    );
    tsunagu::admin::verify_audit(&app.db).await.unwrap();

    // The same rotation again finds everything moved and changes nothing.
    let again = rotate(&app.db, &OLD, &NEW, false, now).await.unwrap();
    assert_eq!(again.total(), 0);
    assert_eq!(secrets(&app.db).await, (creds, seeds));

    // A tsunagu started with the new key loads the channel and delivers a reply.
    let conv: String = sqlx::query_scalar("SELECT id FROM conversations")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let (status, body) = app
        .api_post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"text": "はい、承りました。"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let settings = app.services.state.settings.as_ref().clone();
    let rotated = app.another_instance(settings, &NEW);
    rotated.worker.run_until_idle().await.unwrap();
    let texts: Vec<_> = app.sandbox.delivered_to(PATIENT);
    assert!(
        texts.iter().any(|m| m["text"] == "はい、承りました。"),
        "{texts:?}"
    );
    let sent: String = sqlx::query_scalar("SELECT status FROM messages WHERE direction = 'out'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(sent, "sent");
}

#[tokio::test]
async fn a_wrong_old_key_or_the_same_key_changes_nothing() {
    let app = spawn_app().await;
    staff_with_totp(&app.db, &OLD, "desk@example.jp").await;
    let before = secrets(&app.db).await;
    let now = app.clock.now_ms();

    let err = rotate(&app.db, &[1; 32], &NEW, false, now)
        .await
        .unwrap_err();
    let err = format!("{err:#}");
    assert!(err.contains("does not decrypt 2 stored secret"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    let err = rotate(&app.db, &OLD, &OLD, false, now).await.unwrap_err();
    assert!(format!("{err:#}").contains("the same"), "{err:#}");
    let dry = rotate(&app.db, &OLD, &NEW, true, now).await.unwrap();
    assert_eq!(dry.total(), 2, "a dry run counts what would move");

    assert_eq!(secrets(&app.db).await, before);
    assert!(all_open_with(&app.db, &OLD).await);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'encryption_key.rotate'")
            .await,
        0
    );
}

/// The binary as an operator runs it, over a database of its own.
struct Cli {
    url: String,
}

impl Cli {
    fn run(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tsunagu"));
        cmd.arg("rotate-key")
            .args(args)
            .env("TSUNAGU_DATABASE_URL", &self.url)
            .env_remove("TSUNAGU_CONFIG")
            .env_remove("TSUNAGU_ENCRYPTION_KEY")
            .env_remove("TSUNAGU_OLD_ENCRYPTION_KEY")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn the_command_rotates_once_and_refuses_bad_keys() {
    let t = tsunagu_testkit::test_db().await;
    let spec = tsunagu::admin::ClinicSpec {
        slug: "sakura",
        name: "さくら内科",
        timezone: "Asia/Tokyo",
        locale: "ja",
        org: None,
    };
    let clinic = tsunagu::admin::create_clinic(&t.db, spec, 1).await.unwrap();
    let creds = json!({"channel_secret": SECRET, "channel_access_token": ACCESS_TOKEN});
    let mut tx = t.db.begin().await.unwrap();
    let new_channel = channels::NewChannel {
        clinic_id: &clinic,
        kind: "line",
        name: "LINE",
        credentials_enc: &Cipher::new(&OLD).encrypt_json(&creds),
        api_base_url: "http://127.0.0.1:1",
        api_data_base_url: None,
        settings: "{}",
    };
    channels::create(tx.conn(), new_channel, 1).await.unwrap();
    tx.commit().await.unwrap();
    staff_with_totp(&t.db, &OLD, "desk@example.jp").await;
    let before = secrets(&t.db).await;

    let cli = Cli { url: t.url.clone() };
    let old_hex = hex::encode(OLD);
    // Digits only: the settings layer must read it as text, not as the number 12345678.
    let new_hex = format!("{}12345678", "0".repeat(56));
    let new_key: [u8; 32] = hex::decode(&new_hex).unwrap().try_into().unwrap();
    let new_env = ("TSUNAGU_ENCRYPTION_KEY", new_hex.as_str());
    let wrong = hex::encode([1u8; 32]);

    let refusals = [
        (
            vec![new_env, ("TSUNAGU_OLD_ENCRYPTION_KEY", "abcd")],
            "64 hex",
        ),
        (
            vec![new_env, ("TSUNAGU_OLD_ENCRYPTION_KEY", new_hex.as_str())],
            "the same",
        ),
        (
            vec![new_env, ("TSUNAGU_OLD_ENCRYPTION_KEY", wrong.as_str())],
            "does not decrypt",
        ),
        (vec![new_env], "old key is missing"),
        (
            vec![("TSUNAGU_OLD_ENCRYPTION_KEY", old_hex.as_str())],
            "TSUNAGU_ENCRYPTION_KEY is not set",
        ),
        (
            vec![
                ("TSUNAGU_ENCRYPTION_KEY", "xyz"),
                ("TSUNAGU_OLD_ENCRYPTION_KEY", old_hex.as_str()),
            ],
            "64 hex",
        ),
    ];
    for (env, expected) in refusals {
        let out = cli.run(&[], &env, None);
        assert!(!out.status.success(), "{env:?}");
        assert!(text(&out).contains(expected), "{env:?}: {}", text(&out));
    }
    let both = cli.run(
        &["--old-key-stdin"],
        &[new_env, ("TSUNAGU_OLD_ENCRYPTION_KEY", old_hex.as_str())],
        Some(&old_hex),
    );
    assert!(
        !both.status.success() && text(&both).contains("not both"),
        "{}",
        text(&both)
    );
    let dry = cli.run(
        &["--dry-run", "--old-key-stdin"],
        &[new_env],
        Some(&format!("{old_hex}\n")),
    );
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(text(&dry).contains("nothing changed"), "{}", text(&dry));
    assert_eq!(
        secrets(&t.db).await,
        before,
        "refusals and the dry run changed nothing"
    );

    let ok = cli.run(
        &["--old-key-stdin"],
        &[new_env],
        Some(&format!("{old_hex}\n")),
    );
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("re-encrypted 1 channel credentials, 1 2FA secrets"),
        "{}",
        text(&ok)
    );
    assert!(all_open_with(&t.db, &new_key).await);

    let env = [new_env, ("TSUNAGU_OLD_ENCRYPTION_KEY", old_hex.as_str())];
    let again = cli.run(&[], &env, None);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("0 channel credentials (1 already under the new key)"),
        "{}",
        text(&again)
    );
    assert!(all_open_with(&t.db, &new_key).await);
}
