//! The rich menu jobs: the only code that calls LINE for rich menus. A 429 or 5xx is retried
//! with the worker's backoff (LINE limits creating and deleting to 100 an hour); a 4xx or a
//! limit LINE's rules forbid marks the menu failed with a code staff read.
use std::time::Duration;

use bytes::Bytes;
use tsunagu_channels::line::richmenu::BatchOperation;
use tsunagu_channels::line::{LineClient, RichMenuCallError, SendError};
use tsunagu_core::jobs::{
    RichMenuAssign, RichMenuBatchProgress, RichMenuPublish, RichMenuSetDefault,
};
use tsunagu_core::{ChannelId, ClinicId, PatientId};
use tsunagu_outbox::channel::{load, Found};
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Worker};
use tsunagu_store::jobs::{enqueue, Enqueue, Job};

use super::assign::{desired_menu, record, recorded};
use super::batches;
use super::store::{self as menus, Menu};

/// How often a batch's progress is asked while LINE is still working on it.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// The channel's LINE client, or what the job comes to when there is none.
async fn client(
    w: &Worker,
    clinic: &ClinicId,
    channel: &ChannelId,
) -> anyhow::Result<Result<LineClient, Outcome>> {
    let ch = match load(&w.db, &w.cipher, Some(clinic), channel).await {
        Ok(Found::Channel(ch)) => ch,
        Ok(_) => return Ok(Err(Outcome::Done)),
        Err(e) => {
            return Ok(Err(Outcome::Retry {
                after: None,
                error: format!("loading the channel: {e:#}"),
            }))
        }
    };
    let Some(creds) = ch.creds.line() else {
        return Ok(Err(Outcome::Dead {
            code: "rich_menu_channel_not_line",
            error: "rich menus exist only on LINE channels".into(),
        }));
    };
    let data = ch
        .row
        .api_data_base_url
        .clone()
        .unwrap_or_else(|| ch.row.api_base_url.clone());
    Ok(Ok(LineClient::new(
        w.http.clone(),
        &ch.row.api_base_url,
        &data,
        &creds.channel_access_token,
    )))
}

/// A LINE failure as an outcome: retry what may pass later, else dead with `code`.
fn outcome(e: &SendError, code: &'static str) -> Outcome {
    if e.is_retryable() {
        Outcome::Retry {
            after: e.retry_after(),
            error: e.to_string(),
        }
    } else {
        Outcome::Dead {
            code,
            error: e.to_string(),
        }
    }
}

fn call_outcome(e: &RichMenuCallError) -> Outcome {
    match e {
        RichMenuCallError::Invalid(inv) => Outcome::Dead {
            code: inv.code(),
            error: inv.to_string(),
        },
        RichMenuCallError::Line(e) => outcome(e, "rich_menu_rejected"),
    }
}

/// Records a dead outcome on the menu, so its page shows why.
async fn settle(w: &Worker, menu: &Menu, o: Outcome) -> anyhow::Result<Outcome> {
    if let Outcome::Dead { code, .. } = &o {
        let mut conn = w.db.pool().acquire().await?;
        menus::set_state(&mut conn, &menu.id, "failed", Some(code), w.clock.now_ms()).await?;
    }
    Ok(o)
}

fn clinic_of(job: &Job) -> anyhow::Result<ClinicId> {
    job.clinic_id
        .clone()
        .map(ClinicId::from_db)
        .ok_or_else(|| anyhow::anyhow!("rich menu job without a clinic"))
}

pub struct Publish;

#[async_trait::async_trait]
impl JobHandler for Publish {
    type Job = RichMenuPublish;

    async fn run(&self, w: &Worker, job: &Job, p: RichMenuPublish) -> anyhow::Result<Outcome> {
        let clinic = clinic_of(job)?;
        let mut conn = w.db.pool().acquire().await?;
        let Some(menu) = menus::get(&mut conn, &clinic, &p.rich_menu_id).await? else {
            return Ok(Outcome::Done);
        };
        // Edited again since (back to draft) or published by a later job: nothing to do.
        if menu.state != "publishing" {
            return Ok(Outcome::Done);
        }
        let image = menus::image(&mut conn, &clinic, &menu.id).await?;
        drop(conn);
        let line = match client(w, &clinic, &menu.channel()).await? {
            Ok(c) => c,
            Err(o) => return settle(w, &menu, o).await,
        };
        let Some((_, image)) = image else {
            let o = Outcome::Dead {
                code: "rich_menu_image_missing",
                error: "no image".into(),
            };
            return settle(w, &menu, o).await;
        };
        // A retry after the create went through keeps the menu LINE made then.
        let line_id = match &menu.line_rich_menu_id {
            Some(id) => id.clone(),
            None => match line.create_rich_menu(&menu.line_body()).await {
                Ok(id) => {
                    let mut conn = w.db.pool().acquire().await?;
                    menus::set_line_id(&mut conn, &menu.id, &id).await?;
                    id
                }
                Err(e) => return settle(w, &menu, call_outcome(&e)).await,
            },
        };
        match line
            .upload_rich_menu_image(&line_id, menu.size(), Bytes::from(image))
            .await
        {
            Ok(()) => {}
            // Uploaded by an earlier attempt whose answer was lost.
            Err(RichMenuCallError::Line(SendError::Rejected { message, .. }))
                if message.contains("already been uploaded") => {}
            Err(e) => return settle(w, &menu, call_outcome(&e)).await,
        }
        if let Some(alias) = &menu.alias_id {
            let made = line.create_rich_menu_alias(alias, &line_id).await;
            let moved = match made {
                Err(RichMenuCallError::Line(SendError::Rejected { status: 400, .. })) => {
                    line.update_rich_menu_alias(alias, &line_id).await
                }
                other => other,
            };
            if let Err(e) = moved {
                return settle(w, &menu, call_outcome(&e)).await;
            }
        }
        if menu.is_default == 1 {
            if let Err(e) = line.set_default_rich_menu(&line_id).await {
                return settle(w, &menu, outcome(&e, "rich_menu_rejected")).await;
            }
        }
        let now = w.clock.now_ms();
        if let Some(old) = &menu.replaced_line_rich_menu_id {
            // Everyone LINE has on the old menu moves to the new one in one request.
            let ops = [BatchOperation::Link {
                from: old.clone(),
                to: line_id.clone(),
            }];
            let request_id = match line.rich_menu_batch(&ops, None).await {
                Ok(id) => id,
                Err(e) => return settle(w, &menu, call_outcome(&e)).await,
            };
            let mut tx = w.db.begin().await?;
            let batch = batches::insert_batch(tx.conn(), &menu, &request_id, 1, now).await?;
            enqueue(
                tx.conn(),
                &RichMenuBatchProgress {
                    batch_id: batch.clone(),
                },
                Enqueue {
                    clinic_id: Some(&clinic),
                    idempotency_key: &format!("rich_menu.batch_progress:{batch}"),
                    run_at: now,
                },
                now,
            )
            .await?;
            tx.commit().await?;
        }
        let mut tx = w.db.begin().await?;
        menus::set_state(tx.conn(), &menu.id, "published", None, now).await?;
        menus::queue_channel(tx.conn(), &clinic, &menu.channel(), now).await?;
        tx.commit().await?;
        Ok(Outcome::Done)
    }
}

pub struct SetDefault;

#[async_trait::async_trait]
impl JobHandler for SetDefault {
    type Job = RichMenuSetDefault;

    async fn run(&self, w: &Worker, job: &Job, p: RichMenuSetDefault) -> anyhow::Result<Outcome> {
        let clinic = clinic_of(job)?;
        let mut conn = w.db.pool().acquire().await?;
        let default = menus::default_of(&mut conn, &p.channel_id).await?;
        drop(conn);
        let line = match client(w, &clinic, &p.channel_id).await? {
            Ok(c) => c,
            Err(o) => return Ok(o),
        };
        let done = match default.and_then(|m| m.line_rich_menu_id) {
            Some(id) => line.set_default_rich_menu(&id).await,
            None => line.cancel_default_rich_menu().await,
        };
        Ok(match done {
            Ok(()) => Outcome::Done,
            Err(e) => outcome(&e, "rich_menu_rejected"),
        })
    }
}

pub struct Assign;

#[async_trait::async_trait]
impl JobHandler for Assign {
    type Job = RichMenuAssign;

    async fn run(&self, w: &Worker, _: &Job, p: RichMenuAssign) -> anyhow::Result<Outcome> {
        let clinic = p.clinic_id.clone();
        let mut conn = w.db.pool().acquire().await?;
        let people = match (&p.patient_id, &p.channel_id) {
            (Some(patient), _) => {
                let patient = PatientId::from_db(patient.clone());
                tsunagu_store::patients::identities_of(&mut conn, &clinic, &patient).await?
            }
            (None, Some(channel)) => {
                tsunagu_store::patients::identities_of_channel(&mut conn, &clinic, channel).await?
            }
            (None, None) => return Ok(Outcome::Done),
        };
        // Per channel: who should move to which menu (None: back to the default).
        let mut changes: Vec<(String, String, String, Option<(String, String)>)> = Vec::new();
        for person in people {
            if person.follow_state == "unfollowed" {
                continue;
            }
            let channel = ChannelId::from_db(person.channel_id.clone());
            let want = desired_menu(&mut conn, &clinic, &channel, &person.patient_id).await?;
            let told = recorded(&mut conn, &person.id).await?;
            let want_id = want.as_ref().map(|(id, _)| id.clone());
            // Never told and nothing to link: they already see the default.
            let same = match &told {
                Some(t) => *t == want_id,
                None => want_id.is_none(),
            };
            if !same {
                changes.push((person.channel_id, person.id, person.external_id, want));
            }
        }
        drop(conn);
        for (channel, identity, user, want) in changes {
            let channel_id = ChannelId::from_db(channel.clone());
            let line = match client(w, &clinic, &channel_id).await? {
                Ok(c) => c,
                Err(o) => return Ok(o),
            };
            let done = match &want {
                Some((_, line_id)) => line.link_rich_menu(&user, line_id).await,
                None => line.unlink_rich_menu(&user).await,
            };
            match done {
                Ok(()) => {}
                // No longer a friend (blocked, left): nothing to show them.
                Err(SendError::Rejected { status: 404, .. }) => continue,
                Err(e) => return Ok(outcome(&e, "rich_menu_rejected")),
            }
            let mut conn = w.db.pool().acquire().await?;
            let menu = want.as_ref().map(|(id, _)| id.as_str());
            record(
                &mut conn,
                clinic.as_str(),
                &channel,
                &identity,
                menu,
                w.clock.now_ms(),
            )
            .await?;
        }
        Ok(Outcome::Done)
    }
}

pub struct BatchProgress;

#[async_trait::async_trait]
impl JobHandler for BatchProgress {
    type Job = RichMenuBatchProgress;

    async fn run(
        &self,
        w: &Worker,
        job: &Job,
        p: RichMenuBatchProgress,
    ) -> anyhow::Result<Outcome> {
        let clinic = clinic_of(job)?;
        let mut conn = w.db.pool().acquire().await?;
        let Some(batch) = batches::batch(&mut conn, &p.batch_id).await? else {
            return Ok(Outcome::Done);
        };
        let menu = menus::by_id_unscoped(&mut conn, &batch.rich_menu_id).await?;
        drop(conn);
        let channel = ChannelId::from_db(batch.channel_id.clone());
        let line = match client(w, &clinic, &channel).await? {
            Ok(c) => c,
            Err(o) => return Ok(o),
        };
        let progress = match line.rich_menu_batch_progress(&batch.request_id).await {
            Ok(p) => p,
            Err(e) => return Ok(outcome(&e, "rich_menu_rejected")),
        };
        let now = w.clock.now_ms();
        let mut conn = w.db.pool().acquire().await?;
        if progress.phase == "ongoing" {
            batches::set_batch_phase(&mut conn, &batch.id, "ongoing", None).await?;
            let wait = i64::try_from(PROGRESS_EVERY.as_millis()).unwrap_or(10_000);
            return Ok(Outcome::Defer {
                until_ms: now + wait,
            });
        }
        let phase = if progress.phase == "succeeded" {
            "succeeded"
        } else {
            "failed"
        };
        batches::set_batch_phase(&mut conn, &batch.id, phase, Some(now)).await?;
        drop(conn);
        // Everyone has moved: the old LINE menu can go.
        if let (Some(menu), "succeeded") = (menu, phase) {
            if let Some(old) = &menu.replaced_line_rich_menu_id {
                match line.delete_rich_menu(old).await {
                    Ok(()) | Err(SendError::Rejected { status: 404, .. }) => {}
                    Err(e) => return Ok(outcome(&e, "rich_menu_rejected")),
                }
                let mut conn = w.db.pool().acquire().await?;
                menus::clear_replaced(&mut conn, &menu.id).await?;
            }
        }
        Ok(Outcome::Done)
    }
}
