//! A realistic Japanese clinic's inbox at scale, for the inbox benchmark and for trying the
//! inbox with a year of history (`cargo run -p tsunagu-testkit --features app --release --bin
//! corpus`): patients with names, readings, phones and card numbers; one conversation per
//! patient and channel, weighted as a Japanese clinic's are (LINE first); exchanges of patient
//! questions (予約, 発熱, 駐車場, 予防接種, 健康診断書, …) and staff answers, days or weeks
//! apart; states, priorities, assignees, teams and labels as a working inbox leaves them; every
//! text indexed for search by `store::search` itself. Deterministic for a seed.
//!
//! It writes into an existing clinic that has channels and staff (the demo's, or one made by
//! the bench), with multi-row INSERTs, in time order (so the search index's order is newest
//! first, as ingest leaves it).
mod people;
mod plan;
mod rows;
mod talk;
mod write;

use std::time::Instant;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{AnyConnection, Row};
use tsunagu_core::{ClinicId, Permission, Role};
use tsunagu_store::{labels, Db};

pub use people::Person;
use plan::{Conversation, Shape};
use write::{write_conversations, write_labels, write_messages, write_notes, write_patients};

/// How much to write.
#[derive(Clone, Debug)]
pub struct Spec {
    pub conversations: usize,
    pub messages: usize,
    /// Private notes between staff, on conversations picked at random.
    pub notes: usize,
    /// Days of history, ending at `now_ms`.
    pub days: i64,
    pub now_ms: i64,
    pub seed: u64,
}

impl Spec {
    /// The benchmark's size: 1,000,000 messages in 100,000 conversations over a year.
    pub fn million(now_ms: i64) -> Spec {
        Spec {
            conversations: 100_000,
            messages: 1_000_000,
            notes: 20_000,
            days: 365,
            now_ms,
            seed: 7,
        }
    }
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub patients: usize,
    pub conversations: usize,
    pub messages: usize,
    pub notes: usize,
    pub open: usize,
    pub seconds: f64,
    /// Where the time went: (step, seconds).
    pub steps: Vec<(&'static str, f64)>,
}

/// A LINE user id, WhatsApp number, Messenger PSID or SMS number for conversation `i`, as the
/// provider would give it (the benchmark sends webhooks from these people).
pub fn external_id(kind: &str, i: usize) -> String {
    match kind {
        "line" => format!("Uc0{i:030x}"),
        "whatsapp" => format!("8170{i:08}"),
        "messenger" => format!("7{i:015}"),
        _ => format!("+8180{i:08}"),
    }
}

/// Labels a clinic uses, with the share of conversations carrying each (クレーム is rare: a
/// rare label's view must be as fast as a common one's).
const LABELS: &[(&str, &str, f64)] = &[
    ("予約", "blue", 0.30),
    ("検査結果", "green", 0.08),
    ("処方", "purple", 0.10),
    ("予防接種", "teal", 0.06),
    ("書類", "gray", 0.04),
    ("会計", "orange", 0.03),
    ("要確認", "red", 0.02),
    ("クレーム", "red", 0.002),
];

const TEAMS: &[&str] = &["受付", "看護", "会計"];

/// Writes the corpus into `clinic`, which must have channels and staff who may reply.
pub async fn generate(db: &Db, clinic: &ClinicId, spec: &Spec) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut conn = db.pool().acquire().await?;
    let channels = channels(&mut conn, clinic).await?;
    anyhow::ensure!(
        !channels.is_empty(),
        "the clinic has no channels: connect one first"
    );
    let staff = replying_staff(&mut conn, clinic).await?;
    anyhow::ensure!(
        !staff.is_empty(),
        "the clinic has no staff who may reply: add one first"
    );
    let teams = teams(&mut conn, clinic, &staff, spec.now_ms).await?;
    let label_ids = labels(&mut conn, clinic, spec.now_ms).await?;
    drop(conn);

    let shape = Shape {
        conversations: spec.conversations,
        messages: spec.messages,
        patients: spec.conversations * 9 / 10,
        channel_weights: channels.iter().map(|(_, k)| weight(k)).collect(),
        staff: staff.len(),
        teams: teams.len(),
        label_shares: LABELS.iter().map(|(_, _, s)| *s).collect(),
        now_ms: spec.now_ms,
        days: spec.days,
        seed: spec.seed,
    };
    let mut steps = Vec::new();
    let mut lap = Instant::now();
    let mut step = |name: &'static str| {
        steps.push((name, lap.elapsed().as_secs_f64()));
        lap = Instant::now();
    };
    let (convs, times) = plan::plan(&shape);
    let mut rng = StdRng::seed_from_u64(spec.seed ^ 0x5eed);
    let people: Vec<Person> = (0..shape.patients)
        .map(|i| {
            let kind = convs[i].channel;
            let english = match channels[kind].1.as_str() {
                "whatsapp" => rng.gen_bool(0.4),
                "messenger" => rng.gen_bool(0.1),
                _ => rng.gen_bool(0.02),
            };
            Person::new(&mut rng, i, english)
        })
        .collect();
    let ids = Ids::new(&convs, &people);

    step("plan");
    let mut tx = db.begin().await?;
    write_patients(tx.conn(), clinic, &people, &ids, &convs, &mut rng).await?;
    step("patients");
    write_conversations(
        tx.conn(),
        clinic,
        &convs,
        &channels,
        &people,
        &ids,
        &staff,
        &teams,
        spec,
    )
    .await?;
    write_labels(tx.conn(), clinic, &convs, &ids, &label_ids).await?;
    step("conversations");
    write_notes(tx.conn(), clinic, &convs, &ids, &staff, spec).await?;
    tx.commit().await?;
    step("notes");
    write_messages(
        db, clinic, &convs, &times, &channels, &people, &ids, &staff, spec,
    )
    .await?;
    step("messages");

    Ok(Summary {
        patients: people.len(),
        conversations: convs.len(),
        messages: times.len(),
        notes: spec.notes.min(convs.len() * 4),
        open: convs.iter().filter(|c| c.status == "open").count(),
        seconds: started.elapsed().as_secs_f64(),
        steps,
    })
}

/// The ids of what is written, made up front so rows can name each other.
struct Ids {
    patients: Vec<String>,
    conversations: Vec<String>,
    identities: Vec<String>,
}

impl Ids {
    fn new(convs: &[Conversation], people: &[Person]) -> Ids {
        let id = |_| uuid::Uuid::now_v7().to_string();
        Ids {
            patients: (0..people.len()).map(id).collect(),
            conversations: (0..convs.len()).map(id).collect(),
            identities: (0..convs.len()).map(id).collect(),
        }
    }
}

fn weight(kind: &str) -> f64 {
    match kind {
        "line" => 0.6,
        "sms" => 0.2,
        _ => 0.1,
    }
}

async fn channels(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT id, kind FROM channels WHERE clinic_id = $1 AND enabled = 1 ORDER BY created_at, id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("reading the clinic's channels")?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

async fn replying_staff(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT staff_id, role FROM memberships WHERE clinic_id = $1 ORDER BY created_at, staff_id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("reading the clinic's staff")?;
    Ok(rows
        .iter()
        .filter(|r| {
            r.get::<String, _>(1)
                .parse::<Role>()
                .is_ok_and(|role| role.can(Permission::Reply))
        })
        .map(|r| r.get(0))
        .collect())
}

/// 受付, 看護 and 会計 (made when missing), each with a share of the staff.
async fn teams(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &[String],
    now: i64,
) -> anyhow::Result<Vec<String>> {
    use tsunagu_inbox::routing::teams;
    let mut ids = Vec::new();
    for (t, name) in TEAMS.iter().enumerate() {
        teams::create(conn, clinic, name, teams::AssignMode::Off, now).await?;
        let team = teams::list(conn, clinic)
            .await?
            .into_iter()
            .find(|x| x.name == *name)
            .context("the team just made")?;
        for s in staff.iter().skip(t).step_by(TEAMS.len()) {
            teams::add_member(conn, clinic, &team.id, s).await?;
        }
        ids.push(team.id);
    }
    Ok(ids)
}

async fn labels(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    now: i64,
) -> anyhow::Result<Vec<String>> {
    for (name, color, _) in LABELS {
        labels::create(conn, clinic, name, color, now).await?;
    }
    let all = labels::list(conn, clinic).await?;
    LABELS
        .iter()
        .map(|(name, _, _)| {
            all.iter()
                .find(|l| l.name == *name)
                .map(|l| l.id.clone())
                .context("a label just made")
        })
        .collect()
}
