//! The demo in Debian's chromium, driven by playwright-core (tests/browser/). Runs when the
//! browser and the npm package are installed; otherwise it says so loudly, and fails when
//! TSUNAGU_REQUIRE_BROWSER_TESTS=1 (as in CI), so a missing browser cannot hide a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn missing_tools() -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !Path::new("/usr/bin/chromium").exists() {
        missing.push("Debian's chromium (apt-get install chromium)");
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node");
    }
    if !repo()
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        missing.push("playwright-core (cd tests/browser && npm ci)");
    }
    missing
}

struct Demo(std::process::Child);
impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the demo on free ports; the process ends when the guard drops.
fn start_demo(dir: &Path) -> (Demo, u16, u16) {
    let (web, sb) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["demo", "--require-2fa", "--data-dir"])
        .arg(dir)
        .args([
            "--listen",
            &format!("127.0.0.1:{web}"),
            "--sandbox-listen",
            &format!("127.0.0.1:{sb}"),
        ])
        .env("TSUNAGU_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let demo = Demo(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", web)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the demo did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (demo, web, sb)
}

/// Says loudly that the browser tests cannot run here (and fails under
/// TSUNAGU_REQUIRE_BROWSER_TESTS=1); `true` when they can.
fn tools_present() -> bool {
    let missing = missing_tools();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("BROWSER TEST SKIPPED: missing {}", missing.join(", "));
    if std::env::var("TSUNAGU_REQUIRE_BROWSER_TESTS").is_ok_and(|v| v == "1") {
        panic!("{msg} (TSUNAGU_REQUIRE_BROWSER_TESTS=1)");
    }
    eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!! {msg}\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
    false
}

/// Runs `tests/browser/{script}` against a fresh demo (its own data directory, `name`) with the
/// demo's password, the URLs and `env`, and expects it to succeed and print `ok_line`.
fn walk(script: &str, name: &str, env: &[(&str, &str)], ok_line: &str) {
    if !tools_present() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tsunagu-{name}-{}", std::process::id()));
    let (_demo, web, sb) = start_demo(&dir);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(repo().join("tests/browser").join(script))
        .current_dir(repo().join("tests/browser"))
        .env("TSUNAGU_URL", format!("http://127.0.0.1:{web}"))
        .env("SIMULATOR_URL", format!("http://127.0.0.1:{sb}"))
        .env("STAFF_PASSWORD", tsunagu::demo::DEMO_PASSWORD)
        .env("SCREENSHOT_DIR", &shots)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser test failed (screenshots in {}):\n{stdout}\n{stderr}",
        shots.display()
    );
    assert!(stdout.contains(ok_line), "{stdout}");
}

#[test]
fn two_staff_work_one_conversation_together_in_real_browsers() {
    let env = [
        ("RECEPTION_EMAIL", tsunagu::demo::DEMO_RECEPTION),
        ("NURSE_EMAIL", "nurse@sakura-clinic.example"),
    ];
    walk("inbox_teamwork.mjs", "teamwork", &env, "inbox teamwork: ok");
}

#[test]
fn the_demo_round_trip_works_in_a_real_browser() {
    let env = [("STAFF_EMAIL", tsunagu::demo::DEMO_RECEPTION)];
    walk(
        "demo_round_trip.mjs",
        "browser",
        &env,
        "browser round trip: ok",
    );
}

#[test]
fn the_settings_pages_and_a_red_flag_read_in_japanese_in_a_real_browser() {
    let env = [("OWNER_EMAIL", tsunagu::demo::DEMO_OWNER)];
    walk(
        "settings_safety.mjs",
        "settings",
        &env,
        "settings and safety: ok",
    );
}

#[test]
fn the_satisfaction_settings_and_results_read_in_japanese_in_a_real_browser() {
    let env = [("OWNER_EMAIL", tsunagu::demo::DEMO_OWNER)];
    walk("satisfaction.mjs", "csat", &env, "satisfaction: ok");
}

#[test]
fn a_patient_added_through_line_login_is_counted_once_in_a_real_browser() {
    let env = [("OWNER_EMAIL", tsunagu::demo::DEMO_OWNER)];
    walk("line_login.mjs", "line-login", &env, "line login: ok");
}
