//! Writes a realistic Japanese clinic's inbox at scale into a tsunagu database: e.g. a year of
//! chats into the demo's clinic, to try the inbox and search at a million messages.
//!
//! `cargo run -p tsunagu-testkit --features app --release --bin corpus -- \
//!     --database sqlite:///tmp/demo/tsunagu.db --clinic sakura`
//! (the clinic must exist and have channels and staff; stop `tsunagu demo` first on SQLite).
use clap::Parser;
use tsunagu_core::{Clock, SystemClock};
use tsunagu_store::{clinics, Db};
use tsunagu_testkit::corpus::{self, Spec};

#[derive(Parser)]
#[command(about = "Write a realistic Japanese clinic inbox corpus into a tsunagu database")]
struct Args {
    /// The database (`sqlite:///path/tsunagu.db` or `postgres://…`), migrated by tsunagu.
    #[arg(long, env = "TSUNAGU_DATABASE_URL")]
    database: String,
    /// The clinic's slug (`tsunagu clinic list`); the demo's is `sakura`.
    #[arg(long, default_value = "sakura")]
    clinic: String,
    #[arg(long, default_value_t = 100_000)]
    conversations: usize,
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    #[arg(long, default_value_t = 20_000)]
    notes: usize,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 365)]
    days: i64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let db = Db::connect_and_migrate(&args.database).await?;
    let mut conn = db.pool().acquire().await?;
    let clinic = clinics::by_slug(&mut conn, &args.clinic)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no clinic with slug {:?}", args.clinic))?;
    drop(conn);
    let spec = Spec {
        conversations: args.conversations,
        messages: args.messages,
        notes: args.notes,
        days: args.days,
        now_ms: SystemClock.now_ms(),
        seed: args.seed,
    };
    let s = corpus::generate(&db, &clinic.clinic_id(), &spec).await?;
    println!(
        "wrote {} patients, {} conversations ({} open), {} messages, {} notes in {:.1} s",
        s.patients, s.conversations, s.open, s.messages, s.notes, s.seconds
    );
    db.close().await;
    Ok(())
}
