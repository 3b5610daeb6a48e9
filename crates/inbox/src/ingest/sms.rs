//! Twilio SMS/MMS into the inbox: incoming messages (routed by the number they were sent to,
//! with STOP/START/HELP mirrored in the patient's reachability) and status callbacks. Twilio
//! doc: Messaging › Webhooks; Advanced Opt-Out.
use serde_json::json;
use sqlx::AnyConnection;
use tsunagu_channels::sms::keywords::{classify, Keyword};
use tsunagu_channels::sms::{InboundSms, MessageStatus, StatusCallback};
use tsunagu_store::channels::Endpoints;
use tsunagu_store::{jobs, patients, reachability, statuses, Db};

use super::inbound::{self, ChannelRef, PatientMessage, RawEvent, Stored};
use super::IngestReport;
use tsunagu_store::GroupWork;

/// Carrier answers that mean the number cannot receive SMS at all (unknown destination,
/// landline or unreachable carrier).
const UNREACHABLE: [u32; 2] = [30005, 30006];
/// "Attempt to send to unsubscribed recipient": the patient texted STOP to this sender.
const OPTED_OUT: u32 = 21610;

/// Twilio's `OptOutType` (Advanced Opt-Out) when present, else the default keywords.
fn keyword(sms: &InboundSms) -> Option<Keyword> {
    let declared = sms
        .raw
        .iter()
        .find(|(k, _)| k == "OptOutType")
        .map(|(_, v)| v.as_str());
    match declared {
        Some("STOP") => Some(Keyword::OptOut),
        Some("START") => Some(Keyword::OptIn),
        Some("HELP") => Some(Keyword::Help),
        _ => classify(&sms.body),
    }
}

fn served(endpoints: &Endpoints, sms: &InboundSms) -> bool {
    let service = sms
        .raw
        .iter()
        .find(|(k, _)| k == "MessagingServiceSid")
        .map(|(_, v)| v);
    endpoints.serves(&sms.to)
        || (service.is_some() && service == endpoints.messaging_service_sid.as_ref())
}

async fn receive_in(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    endpoints: &Endpoints,
    sms: &InboundSms,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    let raw: serde_json::Map<String, serde_json::Value> =
        sms.raw.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let raw = serde_json::Value::Object(raw).to_string();
    let ev = RawEvent {
        event_id: &sms.message_sid,
        event_type: "message",
        body: &raw,
        sender: Some(&sms.from),
    };
    let mut report = IngestReport::default();
    if !served(endpoints, sms) {
        let fresh = inbound::record_unrouted(&mut *conn, ch, &ev, now_ms).await?;
        tally(&mut report, fresh, None);
        return Ok(report);
    }
    let word = keyword(sms);
    let kind = match sms.media.first().map(|(_, ct)| ct.as_str()) {
        Some(ct) if ct.starts_with("image/") => "image",
        Some(ct) if ct.starts_with("video/") => "video",
        Some(ct) if ct.starts_with("audio/") => "audio",
        Some(_) => "file",
        None => "text",
    };
    let media = (!sms.media.is_empty()).then(|| json!({"urls": sms.media}));
    let body = (!sms.body.is_empty()).then_some(sms.body.as_str());
    let pm = PatientMessage {
        from: &sms.from,
        profile_name: None,
        fallback_name: &sms.from,
        via: Some(&sms.to),
        kind,
        body,
        payload: json!({"to": sms.to, "num_media": sms.num_media}),
        provider_message_id: Some(&sms.message_sid),
        at_ms: now_ms,
        media,
        // Twilio answers the keywords itself; tsunagu must not answer them too.
        dispatch: word.is_none(),
    };
    let stored = inbound::store_message(&mut *conn, ch, &ev, &pm, now_ms).await?;
    let Stored::New {
        conversation_id,
        identity,
        ..
    } = stored
    else {
        tally(&mut report, false, None);
        return Ok(report);
    };
    patients::set_phone_if_missing(&mut *conn, &identity.patient_id, &sms.from).await?;
    match word {
        Some(Keyword::OptOut) => {
            let source = format!("sms:{}", sms.body.trim().to_uppercase());
            reachability::set_opted_out(&mut *conn, &identity.id, now_ms, &source).await?;
            inbound::system_note(&mut *conn, ch, &sms.from, "opted_out", now_ms).await?;
        }
        Some(Keyword::OptIn) => {
            reachability::clear_opt_out(&mut *conn, &identity.id, now_ms).await?;
            inbound::system_note(&mut *conn, ch, &sms.from, "opted_in", now_ms).await?;
        }
        Some(Keyword::Help) | None => {}
    }
    tally(&mut report, true, Some(conversation_id));
    Ok(report)
}

/// A status callback for one of our messages; out-of-order callbacks never move it backwards.
/// `ours`: the message id tsunagu put in the StatusCallback URL (covered by the signature), so
/// a callback finds its message even before (or without) the send's answer giving the sid.
async fn status_in(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    cb: &StatusCallback,
    ours: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    let raw: serde_json::Map<String, serde_json::Value> =
        cb.raw.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let raw = serde_json::Value::Object(raw).to_string();
    let key = format!("{}:{}", cb.message_sid, cb.status.as_str());
    let to = cb
        .raw
        .iter()
        .find(|(k, _)| k == "To")
        .map(|(_, v)| v.as_str());
    let ev = RawEvent {
        event_id: &key,
        event_type: "status",
        body: &raw,
        sender: to,
    };
    let word = match cb.status {
        MessageStatus::Sent => Some("sent"),
        MessageStatus::Delivered => Some("delivered"),
        MessageStatus::Read => Some("read"),
        MessageStatus::Undelivered | MessageStatus::Failed | MessageStatus::Canceled => {
            Some("failed")
        }
        _ => None,
    };
    let mut report = IngestReport::default();
    let Some(word) = word else {
        let fresh = inbound::record_event(&mut *conn, ch, &ev, now_ms).await?;
        tally(&mut report, fresh, None);
        return Ok(report);
    };
    let code = cb.error_code.map(|c| c.to_string());
    let reason = cb.error_code.map(|c| {
        format!(
            "Twilio {} (error {c}: https://www.twilio.com/docs/errors/{c})",
            cb.status.as_str()
        )
    });
    let r = statuses::Report {
        channel_id: ch.channel_id,
        provider_message_id: &cb.message_sid,
        status: word,
        failure_code: code.as_deref(),
        failure_reason: reason.as_deref(),
        at_ms: now_ms,
    };
    if let Some(ours) = ours {
        if statuses::adopt(&mut *conn, ch.channel_id, ours, &cb.message_sid).await? {
            settle_in_doubt(&mut *conn, ours, now_ms).await?;
        }
    }
    let (fresh, applied) = inbound::store_status(&mut *conn, ch, &ev, r, now_ms).await?;
    if fresh && cb.error_code == Some(OPTED_OUT) {
        // A Messaging Service accepts the send and reports the opt-out by callback.
        if let Some(ident) = identity_of(&mut *conn, ch, to).await? {
            let source = format!("provider:{OPTED_OUT}");
            reachability::set_opted_out(&mut *conn, &ident.id, now_ms, &source).await?;
        }
    } else if fresh && cb.error_code.is_some_and(|c| UNREACHABLE.contains(&c)) {
        bounce(
            &mut *conn,
            ch,
            to,
            reason.as_deref().unwrap_or("unreachable"),
            now_ms,
        )
        .await?;
    }
    tally(&mut report, fresh, applied.map(|a| a.conversation_id));
    Ok(report)
}

/// One incoming SMS/MMS, committed before the answer (`inbound::commit`: the group commit on
/// SQLite); a redelivered `MessageSid` changes nothing.
pub async fn receive(
    db: &Db,
    ch: ChannelRef<'_>,
    endpoints: &Endpoints,
    sms: &InboundSms,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    // Shared, not cloned, by every run of the work (the group writer may run it again).
    let data = std::sync::Arc::new((
        ch.clinic_id.clone(),
        ch.channel_id.clone(),
        endpoints.clone(),
        sms.clone(),
    ));
    let work: GroupWork<IngestReport> = Box::new(move |conn| {
        let data = data.clone();
        Box::pin(async move {
            let (clinic_id, channel_id, endpoints, sms) = &*data;
            let ch = ChannelRef {
                clinic_id,
                channel_id,
            };
            receive_in(conn, ch, endpoints, sms, now_ms).await
        })
    });
    inbound::commit(db, work).await
}

/// A status callback, committed before the answer; `ours` is the message id tsunagu put in the
/// StatusCallback URL (covered by the signature).
pub async fn status(
    db: &Db,
    ch: ChannelRef<'_>,
    cb: &StatusCallback,
    ours: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    let data = std::sync::Arc::new((
        ch.clinic_id.clone(),
        ch.channel_id.clone(),
        cb.clone(),
        ours.map(str::to_string),
    ));
    let work: GroupWork<IngestReport> = Box::new(move |conn| {
        let data = data.clone();
        Box::pin(async move {
            let (clinic_id, channel_id, cb, ours) = &*data;
            let ch = ChannelRef {
                clinic_id,
                channel_id,
            };
            status_in(conn, ch, cb, ours.as_deref(), now_ms).await
        })
    });
    inbound::commit(db, work).await
}

/// The send job of a message Twilio turns out to have accepted: it is no longer in doubt, and
/// staff must not be offered to send it again.
async fn settle_in_doubt(
    conn: &mut AnyConnection,
    message_id: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    if let Some(job) = jobs::by_key(&mut *conn, &format!("send:{message_id}")).await? {
        if job.state == "in_doubt" {
            jobs::complete(conn, &job.job_id(), now_ms).await?;
        }
    }
    Ok(())
}

async fn identity_of(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    to: Option<&str>,
) -> anyhow::Result<Option<patients::Identity>> {
    match to {
        Some(to) => patients::identity(conn, ch.channel_id, to).await,
        None => Ok(None),
    }
}

async fn bounce(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    to: Option<&str>,
    why: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    if let Some(ident) = identity_of(&mut *conn, ch, to).await? {
        reachability::set_bounced(conn, &ident.id, now_ms, why).await?;
    }
    Ok(())
}

fn tally(report: &mut IngestReport, fresh: bool, conv: Option<String>) {
    if fresh {
        report.new_events += 1;
    } else {
        report.duplicate_events += 1;
    }
    report.touched_conversations.extend(conv);
}
