//! The bench's table: one row per channel and server, then each channel's ratios against the
//! floor (and LINE's against the peer) measured in the same run, and the targets of issue 9.
use tsunagu_channels::ChannelKind;

use crate::load::Stats;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Floor,
    Tsunagu,
    TsunaguPostgres,
    /// Several instances on the same PostgreSQL database, the connections spread over them.
    TsunaguPostgresInstances,
    Peer,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Floor => "floor (bare axum + SQLite)",
            Server::Tsunagu => "tsunagu (SQLite)",
            Server::TsunaguPostgres => "tsunagu (PostgreSQL)",
            Server::TsunaguPostgresInstances => "tsunagu (PostgreSQL, 3 inst.)",
            Server::Peer => "peer (LINE SDK + FastAPI)",
        }
    }
}

/// One channel's figures for one server, and whether its rows add up.
pub struct Measured {
    kind: ChannelKind,
    server: Server,
    stats: Stats,
    /// `None` when every delivery answered 200 is stored exactly once; else what is wrong.
    problem: Option<String>,
}

impl Measured {
    pub fn new(kind: ChannelKind, server: Server, stats: Stats, problem: Option<String>) -> Self {
        Measured {
            kind,
            server,
            stats,
            problem,
        }
    }
}

/// Every delivery posted must have been answered 200 and stored once: each count equals the
/// deliveries answered 200 (warm-up and measured).
pub fn check(warm: &Stats, measured: &Stats, counts: &[(&str, i64)]) -> Option<String> {
    let answered = (warm.ok() + measured.ok()) as i64;
    let mut wrong: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n != answered)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if warm.errors + measured.errors > 0 {
        wrong.push(format!(
            "{} deliveries not answered 200",
            warm.errors + measured.errors
        ));
    }
    (!wrong.is_empty()).then(|| format!("{} for {answered} answered 200", wrong.join(", ")))
}

pub fn print(kinds: &[ChannelKind], rows: &[Measured]) -> anyhow::Result<()> {
    println!(
        "\n{:<10} {:<30} {:>11} {:>8} {:>8} {:>7} {:>6}  stored once",
        "channel", "server", "webhooks/s", "p50 ms", "p99 ms", "sent", "errors"
    );
    for r in rows {
        let s = &r.stats;
        println!(
            "{:<10} {:<30} {:>11.0} {:>8.2} {:>8.2} {:>7} {:>6}  {}",
            r.kind.as_str(),
            r.server.name(),
            s.rate(),
            s.pct(0.5),
            s.pct(0.99),
            s.ok(),
            s.errors,
            r.problem
                .as_deref()
                .map_or("yes".to_owned(), |p| format!("NO: {p}"))
        );
    }
    println!();
    let (mut floor_x2, mut peer_x5, mut p99) = (Vec::new(), None, Vec::new());
    for &kind in kinds {
        let find = |server| rows.iter().find(|r| r.kind == kind && r.server == server);
        let (Some(floor), Some(ours)) = (find(Server::Floor), find(Server::Tsunagu)) else {
            continue;
        };
        let ratio =
            |a: &Measured, b: &Measured| a.stats.rate() / b.stats.rate().max(f64::MIN_POSITIVE);
        let mut line = format!(
            "{:<10} tsunagu / floor {:.2}x ({:.0} vs {:.0}/s, p99 {:.1} vs {:.1} ms)",
            kind.as_str(),
            ratio(ours, floor),
            ours.stats.rate(),
            floor.stats.rate(),
            ours.stats.pct(0.99),
            floor.stats.pct(0.99),
        );
        floor_x2.push((kind, ratio(ours, floor)));
        p99.push((kind, ours.stats.pct(0.99)));
        if let Some(peer) = find(Server::Peer) {
            line += &format!(
                "; tsunagu / peer {:.2}x ({:.0}/s)",
                ratio(ours, peer),
                peer.stats.rate()
            );
            peer_x5 = Some(ratio(ours, peer));
        }
        if let Some(pg) = find(Server::TsunaguPostgres) {
            line += &format!(
                "; PostgreSQL / SQLite floor {:.2}x ({:.0}/s, p99 {:.1} ms)",
                ratio(pg, floor),
                pg.stats.rate(),
                pg.stats.pct(0.99)
            );
        }
        if let (Some(pg), Some(spread)) = (
            find(Server::TsunaguPostgres),
            find(Server::TsunaguPostgresInstances),
        ) {
            line += &format!(
                "; PostgreSQL 3 instances / 1 {:.2}x ({:.0}/s, p99 {:.1} ms)",
                ratio(spread, pg),
                spread.stats.rate(),
                spread.stats.pct(0.99)
            );
        }
        println!("{line}");
    }
    let list = |v: &[(ChannelKind, f64)], unit: &str| {
        v.iter()
            .map(|(k, x)| format!("{} {x:.2}{unit}", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "\ntargets on SQLite: every channel >= 2x floor: {} ({}); p99 <= 25 ms: {} ({}); \
         LINE >= 5x peer: {}",
        verdict(floor_x2.iter().all(|(_, x)| *x >= 2.0)),
        list(&floor_x2, "x"),
        verdict(p99.iter().all(|(_, ms)| *ms <= 25.0)),
        list(&p99, " ms"),
        peer_x5.map_or("no peer measured".to_owned(), |x| format!(
            "{} ({x:.2}x)",
            verdict(x >= 5.0)
        )),
    );
    anyhow::ensure!(
        rows.iter().all(|r| r.problem.is_none()),
        "deliveries lost, duplicated or refused: see `stored once` above"
    );
    Ok(())
}
