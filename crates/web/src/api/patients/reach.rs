//! Reachability of a patient's channel identity, as the patient API shows it beside each
//! identity (the same `reachability::describe` the patient page and every sender use).
use serde::Serialize;
use tsunagu_channels::ChannelKind;
use tsunagu_inbox::reachability;
use tsunagu_store::patients;
use utoipa::ToSchema;

use crate::api::extract::rfc3339;

#[derive(Serialize, ToSchema)]
pub struct ReachabilityOut {
    /// `following`, `blocked`, `opted_out` (SMS STOP or the provider's opt-out), `bounced` (the
    /// provider said the address cannot receive) or `unknown`.
    pub state: String,
    /// RFC 3339 UTC.
    pub opted_out_at: Option<String>,
    /// What opted the patient out (`sms:STOP`, `provider:21610`).
    pub opt_out_source: Option<String>,
    pub bounce_reason: Option<String>,
    /// WhatsApp and Messenger: whether the 24-hour service window is open now (null on
    /// channels without one).
    pub window_open: Option<bool>,
    /// RFC 3339 UTC: when the window closes (or closed).
    pub window_closes_at: Option<String>,
}

pub(crate) fn reachability_out(kind: &str, i: &patients::Identity, now_ms: i64) -> ReachabilityOut {
    let r = ChannelKind::parse(kind).map(|k| reachability::describe(k, i, now_ms));
    ReachabilityOut {
        state: r.as_ref().map_or("unknown", |r| r.state).to_string(),
        opted_out_at: i.opted_out_at.map(rfc3339),
        opt_out_source: i.opt_out_source.clone(),
        bounce_reason: i.bounce_reason.clone(),
        window_open: r.as_ref().and_then(|r| r.window_open),
        window_closes_at: r.and_then(|r| r.window_closes_at).map(rfc3339),
    }
}
