//! WhatsApp message templates with Meta: drafts are submitted for review, and every template's
//! review state (approved, rejected with its reason, paused…) is recorded as Meta reports it.
//! Meta doc: WhatsApp Business Management API › Message templates.
use tsunagu_channels::whatsapp::client::CallError;
use tsunagu_channels::whatsapp::manage::NewTemplate;
use tsunagu_channels::whatsapp::WhatsAppClient;
use tsunagu_core::jobs::WhatsAppSyncTemplates;
use tsunagu_store::jobs::Job;
use tsunagu_store::templates::{self, StatusUpdate};

use crate::channel;
use crate::message_state::clinic_of;
use crate::outcome::Outcome;
use crate::worker::Worker;

/// Meta's review states in tsunagu's words (`IN_APPEAL` and the like are still pending).
fn local_status(meta: &str) -> &'static str {
    match meta {
        "APPROVED" => "approved",
        "REJECTED" => "rejected",
        "PAUSED" => "paused",
        "DISABLED" => "disabled",
        _ => "pending",
    }
}

pub(crate) async fn sync(
    w: &Worker,
    job: &Job,
    p: &WhatsAppSyncTemplates,
) -> anyhow::Result<Outcome> {
    let clinic = clinic_of(job)?;
    let channel = &p.channel_id;
    let ch = match channel::for_job(w, job, channel, || Outcome::Done).await? {
        Ok(ch) => ch,
        Err(outcome) => return Ok(outcome),
    };
    let Some(waba) = ch.endpoints().waba_id else {
        return Ok(Outcome::Dead {
            code: "no_waba_id",
            error: "the channel has no WhatsApp Business Account id".into(),
        });
    };
    let Some(creds) = ch.creds.whatsapp() else {
        return Ok(Outcome::Dead {
            code: "templates_unsupported",
            error: format!("a {} channel has no WhatsApp templates", ch.kind),
        });
    };
    let client = WhatsAppClient::new(w.http.clone(), &ch.row.api_base_url, &creds.access_token);
    let local = {
        let mut conn = w.db.pool().acquire().await?;
        templates::list_by_channel(&mut conn, &clinic, channel).await?
    };
    let now = w.clock.now_ms();
    for t in local.iter().filter(|t| t.status == "draft") {
        let new = NewTemplate {
            name: t.name.clone(),
            language: t.language.clone(),
            category: t.category.clone(),
            body_text: t.body.clone(),
            examples: (1..=t.variables).map(|i| format!("例{i}")).collect(),
        };
        let update = match client.create_template(&waba, &new).await {
            Ok(created) => (local_status(&created.status), Some(created.id), None),
            Err(CallError::Retry {
                message,
                retry_after,
            }) => {
                return Ok(Outcome::Retry {
                    after: retry_after,
                    error: message,
                })
            }
            Err(e) => ("rejected", None, Some(e.to_string())),
        };
        let mut conn = w.db.pool().acquire().await?;
        let u = StatusUpdate {
            status: update.0,
            provider_template_id: update.1.as_deref(),
            reason: update.2.as_deref(),
        };
        let _ = templates::set_status(&mut conn, &clinic, &t.id, u, now).await?;
    }
    let remote = match client.list_templates(&waba).await {
        Ok(r) => r,
        Err(CallError::Retry {
            message,
            retry_after,
        }) => {
            return Ok(Outcome::Retry {
                after: retry_after,
                error: message,
            })
        }
        Err(e) => {
            return Ok(Outcome::Dead {
                code: "rejected_by_provider",
                error: e.to_string(),
            })
        }
    };
    let mut conn = w.db.pool().acquire().await?;
    for t in templates::list_by_channel(&mut conn, &clinic, channel).await? {
        let Some(r) = remote
            .iter()
            .find(|r| r.name == t.name && r.language == t.language)
        else {
            continue;
        };
        let status = local_status(&r.status);
        let reason = r
            .rejected_reason
            .as_deref()
            .filter(|_| status != "approved");
        let changed = status != t.status
            || t.provider_template_id.as_deref() != Some(r.id.as_str())
            || t.status_reason.as_deref() != reason;
        if changed {
            let u = StatusUpdate {
                status,
                provider_template_id: Some(&r.id),
                reason,
            };
            let _ = templates::set_status(&mut conn, &clinic, &t.id, u, now).await?;
        }
    }
    tsunagu_store::jobs::complete(&mut conn, &job.job_id(), now).await?;
    Ok(Outcome::Done)
}
