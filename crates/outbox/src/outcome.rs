//! What a job handler decided; the worker records it (kept apart so every module can name it
//! without importing the worker loop).
use std::time::Duration;

/// What a job handler decided.
#[derive(Debug)]
pub enum Outcome {
    /// Finished; the handler recorded its effects.
    Done,
    /// Try again later (rate limit, 5xx, timeout).
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Cannot succeed: shown to staff with the reason.
    Dead { code: &'static str, error: String },
    /// May already have happened: never repeated automatically.
    InDoubt { error: String },
    /// Not yet (pacing): run again at `until_ms` without using up an attempt.
    Defer { until_ms: i64 },
}
