//! Delivery workers: claim due jobs, do them, record the outcome. Retries use exponential
//! backoff with jitter; what cannot succeed is dead-lettered with its reason for staff, and what
//! might already have happened is marked in doubt rather than done twice.
pub mod backoff;
pub mod channel;
pub mod handlers;
mod job_trace;
mod line_jobs;
mod line_reply;
mod message_state;
mod messenger_jobs;
mod outcome;
mod provider;
pub mod retry;
mod send;
mod sms_jobs;
mod whatsapp_jobs;
mod whatsapp_templates;
pub mod worker;

pub use line_reply::REPLY_TOKEN_LIFETIME_MS;
pub use worker::{JobHandler, Registry, Worker, WorkerConfig};
