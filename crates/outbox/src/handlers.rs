//! The outbox's own job kinds, each registered with its handler: the worker loop names none of
//! them. The binary adds the kinds other crates run (dispatch, retention) to the same registry.
//! One send, one media and one profile job serve every provider; the kinds they replaced stay
//! registered as aliases so jobs queued before the upgrade still run.
use tsunagu_core::jobs::{
    FetchMedia, FetchProfile, LineFetchContent, LineFetchProfile, LineReply, MarkRead,
    MessengerFetchProfile, SendMessage, ShowLoading, WhatsAppSyncTemplates,
};
use tsunagu_store::jobs::Job;
use tsunagu_store::Tx;

use crate::outcome::Outcome;
use crate::worker::{JobHandler, Registry, Worker};
use crate::{aliases, media, message_state, profile, read_marks, send, whatsapp_templates};

/// A registry holding every job kind the outbox runs.
pub fn registry() -> Registry {
    let mut r = Registry::default();
    r.register(SendJob)
        .register(MediaJob)
        .register(ProfileJob)
        .register(ReadMarkJob)
        .register(LoadingJob)
        .register(SyncTemplates)
        .register(LineReplyAlias)
        .register(LineProfileAlias)
        .register(LineContentAlias)
        .register(MessengerProfileAlias);
    r
}

/// `message.send`, on whichever channel the message leaves by.
struct SendJob;

#[async_trait::async_trait]
impl JobHandler for SendJob {
    type Job = SendMessage;

    async fn run(&self, w: &Worker, job: &Job, p: SendMessage) -> anyhow::Result<Outcome> {
        send::send(w, job, &p).await
    }

    fn repeatable(&self, p: &SendMessage) -> bool {
        send::repeatable(p)
    }

    async fn settled(&self, tx: &mut Tx, job: &Job, o: &Outcome) -> anyhow::Result<Option<String>> {
        message_state::settled(tx, job, o).await
    }
}

/// `channel.fetch_media`: an inbound message's media.
struct MediaJob;

#[async_trait::async_trait]
impl JobHandler for MediaJob {
    type Job = FetchMedia;

    async fn run(&self, w: &Worker, job: &Job, p: FetchMedia) -> anyhow::Result<Outcome> {
        media::fetch(w, job, &p).await
    }
}

/// `channel.fetch_profile`: a new patient's name and picture.
struct ProfileJob;

#[async_trait::async_trait]
impl JobHandler for ProfileJob {
    type Job = FetchProfile;

    async fn run(&self, w: &Worker, job: &Job, p: FetchProfile) -> anyhow::Result<Outcome> {
        profile::fetch(w, job, &p).await
    }
}

/// `channel.mark_read`: the patient sees that a person read their messages.
struct ReadMarkJob;

#[async_trait::async_trait]
impl JobHandler for ReadMarkJob {
    type Job = MarkRead;

    async fn run(&self, w: &Worker, job: &Job, p: MarkRead) -> anyhow::Result<Outcome> {
        read_marks::mark(w, job, &p).await
    }
}

/// `channel.show_loading`: LINE's loading indicator, best effort.
struct LoadingJob;

#[async_trait::async_trait]
impl JobHandler for LoadingJob {
    type Job = ShowLoading;

    async fn run(&self, w: &Worker, job: &Job, p: ShowLoading) -> anyhow::Result<Outcome> {
        read_marks::show_loading(w, job, &p).await
    }
}

struct SyncTemplates;

#[async_trait::async_trait]
impl JobHandler for SyncTemplates {
    type Job = WhatsAppSyncTemplates;

    async fn run(&self, w: &Worker, job: &Job, p: Self::Job) -> anyhow::Result<Outcome> {
        whatsapp_templates::sync(w, job, &p).await
    }
}

/// `line.reply` (before the upgrade) → `message.send` with a reply token: single-use, so an
/// unknown outcome is never repeated.
struct LineReplyAlias;

#[async_trait::async_trait]
impl JobHandler for LineReplyAlias {
    type Job = LineReply;

    async fn run(&self, w: &Worker, job: &Job, p: LineReply) -> anyhow::Result<Outcome> {
        send::send(w, job, &aliases::line_reply(p)).await
    }

    fn repeatable(&self, _: &LineReply) -> bool {
        false
    }

    async fn settled(&self, tx: &mut Tx, job: &Job, o: &Outcome) -> anyhow::Result<Option<String>> {
        message_state::settled(tx, job, o).await
    }
}

/// `line.fetch_profile` (before the upgrade) → `channel.fetch_profile`.
struct LineProfileAlias;

#[async_trait::async_trait]
impl JobHandler for LineProfileAlias {
    type Job = LineFetchProfile;

    async fn run(&self, w: &Worker, job: &Job, p: LineFetchProfile) -> anyhow::Result<Outcome> {
        profile::fetch(w, job, &aliases::line_profile(p)).await
    }
}

/// `line.fetch_content` (before the upgrade) → `channel.fetch_media`.
struct LineContentAlias;

#[async_trait::async_trait]
impl JobHandler for LineContentAlias {
    type Job = LineFetchContent;

    async fn run(&self, w: &Worker, job: &Job, p: LineFetchContent) -> anyhow::Result<Outcome> {
        media::fetch(w, job, &aliases::line_content(p)).await
    }
}

/// `messenger.fetch_profile` (before the upgrade) → `channel.fetch_profile`.
struct MessengerProfileAlias;

#[async_trait::async_trait]
impl JobHandler for MessengerProfileAlias {
    type Job = MessengerFetchProfile;

    async fn run(&self, w: &Worker, job: &Job, p: Self::Job) -> anyhow::Result<Outcome> {
        profile::fetch(w, job, &aliases::messenger_profile(p)).await
    }
}
