//! The LINE peer: `peer_line.py` (LINE's Python SDK behind FastAPI on uvicorn, each event stored
//! in SQLite with one durable commit per request), started as a subprocess when `python3` has
//! `linebot`, `fastapi` and `uvicorn` (`pip install line-bot-sdk fastapi uvicorn`). Without them
//! the bench says so loudly and goes on without the peer.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::deliveries::LINE_SECRET;

pub struct Peer {
    child: Child,
    db: PathBuf,
    pub url: String,
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/ingest/peer_line.py");

impl Peer {
    /// The running peer, or why there is none.
    pub async fn start(dir: &Path) -> Result<Peer, String> {
        let probe = Command::new("python3")
            .args(["-c", "import linebot.v3, fastapi, uvicorn"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match probe {
            Ok(s) if s.success() => {}
            Ok(_) => return Err("python3 lacks line-bot-sdk, fastapi or uvicorn".into()),
            Err(e) => return Err(format!("no python3 ({e})")),
        }
        // A free port: bound, read and released (uvicorn binds it again at once).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let db = dir.join("peer_line.db");
        let child = Command::new("python3")
            .arg(SCRIPT)
            .env("PEER_PORT", port.to_string())
            .env("PEER_DB", &db)
            .env("PEER_CHANNEL_SECRET", LINE_SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {SCRIPT}: {e}"))?;
        let mut peer = Peer {
            child,
            db,
            url: format!("http://127.0.0.1:{port}/callback"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(peer);
            }
            if let Ok(Some(status)) = peer.child.try_wait() {
                return Err(format!("{SCRIPT} exited: {status}"));
            }
            if Instant::now() > deadline {
                peer.stop();
                return Err(format!("{SCRIPT} did not listen within 30 s"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Rows the peer stored: (all, distinct event ids).
    pub async fn stored(&self) -> anyhow::Result<(i64, i64)> {
        let mut conn = SqliteConnectOptions::new()
            .filename(&self.db)
            .read_only(true)
            .connect()
            .await?;
        let row: (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT webhook_event_id) FROM line_events")
                .fetch_one(&mut conn)
                .await?;
        conn.close().await?;
        Ok(row)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}
