//! Everything logged in this test binary, at TRACE, spans opened and closed included, from
//! every thread and task (a global subscriber, installed once; `log` records bridged too).
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::fmt::format::FmtSpan;

static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

struct Writer(Arc<Mutex<Vec<u8>>>);

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn install() {
    BUFFER.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
            .with_writer(move || Writer(sink.clone()))
            .try_init()
            .expect("the only subscriber of this test binary");
        buffer
    });
}

/// What was logged so far.
pub fn text() -> String {
    let buffer = BUFFER.get().expect("capture::install first");
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}
