//! The outbox's own job kinds, each registered with its handler: the worker loop names none of
//! them. The binary adds the kinds other crates run (dispatch, retention) to the same registry.
use tsunagu_core::jobs::{
    FetchMedia, LineFetchContent, LineFetchProfile, LineReply, MessengerFetchProfile, SendMessage,
    WhatsAppSyncTemplates,
};
use tsunagu_store::jobs::Job;
use tsunagu_store::Tx;

use crate::outcome::Outcome;
use crate::worker::{JobHandler, Registry, Worker};
use crate::{line_jobs, line_reply, message_state, messenger_jobs, send, whatsapp_templates};

/// A registry holding every job kind the outbox runs.
pub fn registry() -> Registry {
    let mut r = Registry::default();
    r.register(Deliver)
        .register(Reply)
        .register(FetchLineProfile)
        .register(FetchLineContent)
        .register(FetchChannelMedia)
        .register(FetchMessengerProfile)
        .register(SyncTemplates);
    r
}

/// `message.send`, on whichever channel the message leaves by.
struct Deliver;

#[async_trait::async_trait]
impl JobHandler for Deliver {
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

/// `line.reply`: a reply token is single-use, so an unknown outcome is never repeated.
struct Reply;

#[async_trait::async_trait]
impl JobHandler for Reply {
    type Job = LineReply;

    async fn run(&self, w: &Worker, job: &Job, p: LineReply) -> anyhow::Result<Outcome> {
        line_reply::reply(w, job, &p).await
    }

    fn repeatable(&self, _: &LineReply) -> bool {
        false
    }

    async fn settled(&self, tx: &mut Tx, job: &Job, o: &Outcome) -> anyhow::Result<Option<String>> {
        message_state::settled(tx, job, o).await
    }
}

struct FetchLineProfile;

#[async_trait::async_trait]
impl JobHandler for FetchLineProfile {
    type Job = LineFetchProfile;

    async fn run(&self, w: &Worker, job: &Job, p: LineFetchProfile) -> anyhow::Result<Outcome> {
        line_jobs::fetch_profile(w, job, &p).await
    }
}

struct FetchLineContent;

#[async_trait::async_trait]
impl JobHandler for FetchLineContent {
    type Job = LineFetchContent;

    async fn run(&self, w: &Worker, job: &Job, p: LineFetchContent) -> anyhow::Result<Outcome> {
        line_jobs::fetch_content(w, job, &p).await
    }
}

struct FetchChannelMedia;

#[async_trait::async_trait]
impl JobHandler for FetchChannelMedia {
    type Job = FetchMedia;

    async fn run(&self, w: &Worker, job: &Job, p: FetchMedia) -> anyhow::Result<Outcome> {
        send::fetch_media(w, job, &p).await
    }
}

struct FetchMessengerProfile;

#[async_trait::async_trait]
impl JobHandler for FetchMessengerProfile {
    type Job = MessengerFetchProfile;

    async fn run(&self, w: &Worker, job: &Job, p: Self::Job) -> anyhow::Result<Outcome> {
        messenger_jobs::fetch_profile(w, job, &p).await
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
