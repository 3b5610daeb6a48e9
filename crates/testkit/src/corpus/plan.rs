//! The shape of the corpus before any text: which channel and patient each conversation has,
//! how many messages, when each was written and by whom, and what state the conversation is
//! in now (derived from its last messages, as the inbox itself would have left it).
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const MINUTE: i64 = 60_000;
pub const DAY: i64 = 24 * 60 * MINUTE;

/// Who wrote a message, and what it is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Said {
    Patient,
    Staff,
}

impl Said {
    pub fn inbound(self) -> bool {
        self == Said::Patient
    }
}

/// One message, in the order all messages are written (by time).
#[derive(Clone, Copy, Debug)]
pub struct At {
    pub ms: i64,
    pub conversation: u32,
    /// Its place in the conversation (0 = first).
    pub k: u16,
    pub said: Said,
}

/// What a conversation is now.
#[derive(Clone, Debug)]
pub struct Conversation {
    pub channel: usize,
    pub patient: usize,
    pub created_ms: i64,
    pub last_ms: i64,
    pub last_inbound_ms: Option<i64>,
    /// Messages after the last staff reply, when the patient wrote last.
    pub unread: i64,
    pub status: &'static str,
    pub snoozed_until: Option<i64>,
    pub resolved_at: Option<i64>,
    /// The SLA clocks' starts: the patient's first unanswered message (open or snoozed and
    /// waiting), and the first message of the last exchange (not resolved).
    pub waiting_since: Option<i64>,
    pub opened_at: Option<i64>,
    /// Stored as the inbox stores it: low −1, normal 0, high 1, urgent 2.
    pub priority: i64,
    /// Index into the clinic's replying staff.
    pub assignee: Option<usize>,
    /// Index into the teams.
    pub team: Option<usize>,
    pub labels: Vec<usize>,
    pub last: At,
}

/// The plan's inputs.
pub struct Shape {
    pub conversations: usize,
    pub messages: usize,
    pub patients: usize,
    /// Channel weights, one per channel of the clinic.
    pub channel_weights: Vec<f64>,
    pub staff: usize,
    pub teams: usize,
    /// Each label's share of conversations.
    pub label_shares: Vec<f64>,
    pub now_ms: i64,
    pub days: i64,
    pub seed: u64,
}

/// Every conversation and every message's time, sorted by time.
pub fn plan(s: &Shape) -> (Vec<Conversation>, Vec<At>) {
    let mut rng = StdRng::seed_from_u64(s.seed);
    let counts = message_counts(&mut rng, s.conversations, s.messages);
    let total_w: f64 = s.channel_weights.iter().sum();
    let mut convs = Vec::with_capacity(s.conversations);
    let mut all = Vec::with_capacity(s.messages);
    for (i, &n) in counts.iter().enumerate() {
        let channel = pick(&mut rng, &s.channel_weights, total_w);
        // Most patients have one conversation; the rest write on a second channel too.
        let patient = if i < s.patients {
            i
        } else {
            rng.gen_range(0..s.patients)
        };
        let span = s.days * DAY;
        // When the patient last wrote or was answered: spread over the year, a little more
        // often lately (a growing clinic); the exchanges before it are laid out backwards.
        let age = MINUTE + (rng.gen::<f64>().powf(1.3) * span as f64) as i64;
        let mut t = 0;
        let mut msgs = Vec::with_capacity(n);
        let mut k = 0u16;
        while (k as usize) < n {
            // An exchange: the patient writes one to three messages, staff answer, maybe thanks.
            let asks = rng.gen_range(1..=3).min(n - k as usize);
            for _ in 0..asks {
                msgs.push((t, Said::Patient));
                k += 1;
                t += rng.gen_range(10_000..3 * MINUTE);
            }
            if (k as usize) < n {
                t += rng.gen_range(MINUTE..90 * MINUTE);
                msgs.push((t, Said::Staff));
                k += 1;
            }
            // The next exchange days or weeks later.
            t += rng.gen_range(DAY / 2..30 * DAY);
        }
        let shift = msgs.last().map_or(0, |(last, _)| s.now_ms - age - *last);
        for (at, _) in msgs.iter_mut() {
            *at += shift;
        }
        for (k, (ms, said)) in msgs.iter().enumerate() {
            all.push(At {
                ms: *ms,
                conversation: i as u32,
                k: k as u16,
                said: *said,
            });
        }
        convs.push(state(&mut rng, s, i, channel, patient, &msgs));
    }
    all.sort_by_key(|a| (a.ms, a.conversation, a.k));
    (convs, all)
}

fn state(
    rng: &mut StdRng,
    s: &Shape,
    i: usize,
    channel: usize,
    patient: usize,
    msgs: &[(i64, Said)],
) -> Conversation {
    // `message_counts` gives every conversation at least one message.
    let (last_ms, last_said) = msgs.last().copied().unwrap_or((s.now_ms, Said::Patient));
    let last_inbound_ms = msgs
        .iter()
        .rev()
        .find(|(_, m)| m.inbound())
        .map(|(t, _)| *t);
    let trailing = msgs.iter().rev().take_while(|(_, m)| m.inbound()).count() as i64;
    let age = s.now_ms - last_ms;
    let (status, unread) = if last_said.inbound() {
        // The patient wrote last: recent ones are waiting; old ones were dealt with by phone.
        if age < 2 * DAY || rng.gen_bool(0.05) {
            ("open", if age < 2 * DAY { trailing } else { 0 })
        } else {
            ("resolved", 0)
        }
    } else if age < 7 * DAY && rng.gen_bool(0.6) {
        ("pending", 0)
    } else {
        ("resolved", 0)
    };
    let (status, snoozed_until) = if status == "pending" && rng.gen_bool(0.08) {
        (
            "snoozed",
            Some(s.now_ms + rng.gen_range(1..72) * 60 * MINUTE),
        )
    } else {
        (status, None)
    };
    let priority = match rng.gen_range(0..1000) {
        0..=4 => 2,
        5..=39 => 1,
        40..=89 => -1,
        _ => 0,
    };
    let assignee = (s.staff > 0 && rng.gen_bool(if status == "open" { 0.55 } else { 0.8 }))
        .then(|| rng.gen_range(0..s.staff));
    let team = (s.teams > 0 && rng.gen_bool(0.95)).then(|| {
        // 受付 most, then 看護, then the rest.
        let r: f64 = rng.gen();
        if r < 0.6 || s.teams == 1 {
            0
        } else if r < 0.85 || s.teams == 2 {
            1
        } else {
            2 + rng.gen_range(0..s.teams - 2)
        }
    });
    let labels = s
        .label_shares
        .iter()
        .enumerate()
        .filter(|(_, share)| rng.gen_bool(**share))
        .map(|(l, _)| l)
        .collect();
    let first_trailing = msgs.len() - trailing as usize;
    let waiting_since =
        (matches!(status, "open" | "snoozed") && trailing > 0).then(|| msgs[first_trailing].0);
    let exchange = (1..msgs.len())
        .rev()
        .find(|&k| msgs[k].0 - msgs[k - 1].0 >= DAY / 2)
        .unwrap_or(0);
    let opened_at = (status != "resolved").then(|| msgs[exchange].0);
    Conversation {
        channel,
        patient,
        waiting_since,
        opened_at,
        created_ms: msgs[0].0,
        last_ms,
        last_inbound_ms,
        unread,
        status,
        snoozed_until,
        resolved_at: (status == "resolved").then(|| last_ms + rng.gen_range(MINUTE..DAY)),
        priority,
        assignee,
        team,
        labels,
        last: At {
            ms: last_ms,
            conversation: i as u32,
            k: (msgs.len() - 1) as u16,
            said: last_said,
        },
    }
}

/// `total` messages over `n` conversations: at least one each, skewed (many short chats, a few
/// long ones), summing exactly to `total`.
fn message_counts(rng: &mut StdRng, n: usize, total: usize) -> Vec<usize> {
    let total = total.max(n);
    let weights: Vec<f64> = (0..n).map(|_| -(1.0 - rng.gen::<f64>()).ln()).collect();
    let sum: f64 = weights.iter().sum();
    let extra = (total - n) as f64;
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| 1 + (w / sum * extra).floor() as usize)
        .collect();
    let mut short = total - counts.iter().sum::<usize>();
    let mut i = 0;
    while short > 0 {
        counts[i % n] += 1;
        short -= 1;
        i += 7919;
    }
    counts
}

fn pick(rng: &mut StdRng, weights: &[f64], total: f64) -> usize {
    let mut r = rng.gen::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}
