//! A real SMTP server for the mail tests (aiosmtpd, `tests/support/smtp_sink.py`): every
//! message it accepts is read back as JSON. Without python3 + aiosmtpd the tests say so loudly,
//! and fail when TSUNAGU_REQUIRE_BROWSER_TESTS=1 (as in CI).
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tsunagu_core::config::{SmtpSettings, SmtpTls};

/// The SMTP sink, killed on drop.
pub struct Sink {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the sink, or None (after a loud banner) when python3 or aiosmtpd is missing.
pub fn start_sink() -> Option<Sink> {
    let has_aiosmtpd = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_aiosmtpd {
        let msg =
            "SMTP TEST SKIPPED: missing python3 or aiosmtpd (python3 -m pip install aiosmtpd)";
        if std::env::var("TSUNAGU_REQUIRE_BROWSER_TESTS").is_ok_and(|v| v == "1") {
            panic!("{msg} (TSUNAGU_REQUIRE_BROWSER_TESTS=1)");
        }
        eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!! {msg}\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
        return None;
    }
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("tsunagu-smtp-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let sink = Sink { child, port, dir };
    assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
    Some(sink)
}

impl Sink {
    pub fn mails(&self) -> Vec<serde_json::Value> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits for the `n`th message (sending is done when the job is, but be patient).
    pub fn mail(&self, n: usize) -> serde_json::Value {
        let start = Instant::now();
        loop {
            if let Some(m) = self.mails().into_iter().nth(n - 1) {
                return m;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no mail #{n}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub fn smtp(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        from_address: "no-reply@sakura.example.jp".into(),
        tls: SmtpTls::None,
        timeout_seconds: 5,
        ..SmtpSettings::default()
    }
}
