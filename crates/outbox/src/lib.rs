//! Delivery workers: claim due jobs, do them, record the outcome. Retries use exponential
//! backoff with jitter; what cannot succeed is dead-lettered with its reason for staff, and what
//! might already have happened is marked in doubt rather than done twice. Sends, media and
//! profiles go through each channel's provider adapter (`tsunagu_channels::provider::Deliver`);
//! nothing here names a provider.
mod aliases;
pub mod backoff;
pub mod channel;
mod early_reports;
pub mod handlers;
mod job_trace;
mod media;
mod message_state;
mod outcome;
mod pacing;
mod profile;
mod read_marks;
mod record;
pub mod retry;
mod send;
mod whatsapp_templates;
pub mod worker;

/// How long a LINE reply token is used for (the adapter's rule), for callers that schedule by it.
pub use tsunagu_channels::line::REPLY_TOKEN_LIFETIME_MS;
pub use worker::{JobHandler, Registry, Worker, WorkerConfig};
