//! Alternating rounds: every server of a channel is warmed up, then measured in `ROUNDS` short
//! rounds taken in turn (floor, tsunagu, …, floor, tsunagu, …), and each server's rounds are
//! added up. A disk whose flush time drifts over minutes then weighs on every server alike,
//! instead of on whichever ran while it was slow.
use std::time::Duration;

use tsunagu_channels::ChannelKind;

use crate::deliveries::{self, USERS};
use crate::load::{drive_spread, Stats};
use crate::report::{check, Measured, Server};
use crate::{app, floor, peer};

/// A server under measurement and where its rows are counted afterwards.
pub enum Target<'a> {
    Floor(&'a floor::Floor),
    App(&'a app::App, app::Channel),
    /// The app's channel served by several instances: these base URLs besides its own.
    Instances(&'a app::App, app::Channel, Vec<String>),
    Peer(&'a peer::Peer),
}

pub struct Measuring<'a> {
    pub server: Server,
    pub target: Target<'a>,
    /// Where deliveries are posted (the first also signs Twilio's).
    urls: Vec<String>,
    warm: Option<Stats>,
    rounds: Vec<Stats>,
}

impl<'a> Measuring<'a> {
    pub fn new(server: Server, target: Target<'a>, kind: ChannelKind) -> Self {
        let urls = match &target {
            Target::Floor(f) => vec![f.url(kind)],
            Target::App(_, channel) => vec![channel.webhook_url.clone()],
            Target::Instances(app, channel, bases) => {
                let path = channel.webhook_url.trim_start_matches(app.base());
                let mut urls = vec![channel.webhook_url.clone()];
                urls.extend(bases.iter().map(|b| format!("{b}{path}")));
                urls
            }
            Target::Peer(p) => vec![p.url.clone()],
        };
        Measuring {
            server,
            target,
            urls,
            warm: None,
            rounds: Vec::new(),
        }
    }

    /// Its rows afterwards, counted against the deliveries it answered 200.
    async fn finish(self, kind: ChannelKind) -> anyhow::Result<Measured> {
        let counts: Vec<(&str, i64)> = match &self.target {
            Target::Floor(f) => {
                let (all, distinct) = f.stored(kind).await?;
                vec![("rows", all), ("distinct ids", distinct)]
            }
            Target::App(app, channel) | Target::Instances(app, channel, _) => {
                let (events, distinct, messages) = app.stored(channel).await?;
                vec![
                    ("processed events", events),
                    ("distinct ids", distinct),
                    ("inbound messages", messages),
                ]
            }
            Target::Peer(p) => {
                let (all, distinct) = p.stored().await?;
                vec![("rows", all), ("distinct ids", distinct)]
            }
        };
        let warm = self.warm.unwrap_or_else(Stats::empty);
        let stats = Stats::sum(self.rounds);
        let problem = check(&warm, &stats, &counts);
        Ok(Measured::new(kind, self.server, stats, problem))
    }
}

/// Warms every server up (the patients), then `rounds` rounds of `requests / rounds` distinct
/// deliveries each, the servers in turn; one row per server.
pub async fn measure(
    kind: ChannelKind,
    mut servers: Vec<Measuring<'_>>,
    requests: usize,
    rounds: usize,
    limit: Duration,
    now: i64,
) -> anyhow::Result<Vec<Measured>> {
    for s in &mut servers {
        let warm = deliveries::build(kind, &s.urls[0], 0, USERS, now);
        s.warm = Some(drive_spread(&s.urls, warm, limit).await);
    }
    let rounds = rounds.max(1);
    let per = requests.div_ceil(rounds);
    let round_limit = limit / rounds as u32;
    for r in 0..rounds {
        let first = USERS + r * per;
        let count = per.min(requests.saturating_sub(r * per));
        for s in &mut servers {
            let batch = deliveries::build(kind, &s.urls[0], first, count, now);
            s.rounds
                .push(drive_spread(&s.urls, batch, round_limit).await);
        }
    }
    let mut rows = Vec::with_capacity(servers.len());
    for s in servers {
        rows.push(s.finish(kind).await?);
    }
    Ok(rows)
}
