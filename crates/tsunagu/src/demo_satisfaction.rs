//! The demo clinic's satisfaction survey (満足度アンケート): on, one minute after a resolve (so
//! a conversation resolved in the demo is surveyed while one watches the simulator), and three
//! months of past results spread over the staff and their teams, so 満足度 has figures.
use tsunagu_automation::satisfaction::jobs::month_of;
use tsunagu_automation::satisfaction::settings::{self, Settings};
use tsunagu_automation::satisfaction::surveys::{self, PastSurvey};
use tsunagu_core::ClinicId;
use tsunagu_store::Db;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Comments patients left (score, words), used in turn.
const COMMENTS: [(i64, &str); 5] = [
    (5, "受付の方がとても丁寧でした。"),
    (4, "返信が早くて助かりました。"),
    (5, "LINEで予約変更できて便利です。"),
    (2, "返信まで少し時間がかかりました。"),
    (3, "駐車場の案内がもう少し詳しいとうれしいです。"),
];

pub(crate) async fn seed(db: &Db, clinic: &ClinicId, now: i64) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    let on = Settings {
        enabled: true,
        delay_minutes: 1,
        min_days: 0,
        ..Settings::default()
    };
    settings::save(&mut conn, clinic, &on, now).await?;
    let members = tsunagu_inbox::routing::teams::members(&mut conn, clinic).await?;
    if members.is_empty() {
        return Ok(());
    }
    // A fixed spread: mostly 4–5, some 3, a few low; every seventh not answered.
    const SCORES: [i64; 14] = [5, 4, 5, 5, 3, 4, 0, 5, 4, 2, 5, 4, 1, 0];
    let mut comments = COMMENTS.iter().cycle();
    for i in 0..60_i64 {
        let at = now - (i * 3 / 2 + 1) * DAY_MS;
        let member = &members[i as usize % members.len()];
        // Every fifth left a comment, with the score it goes with.
        let (score, comment) = match i % 5 {
            0 => comments.next().map_or((5, None), |(s, w)| (*s, Some(*w))),
            _ => (SCORES[i as usize % SCORES.len()], None),
        };
        let month = month_of(&mut conn, clinic, at).await?;
        surveys::record_past(
            &mut conn,
            clinic,
            PastSurvey {
                conversation_id: &format!("demo-past-{i}"),
                staff_id: &member.staff_id,
                team_id: &member.team_id,
                resolved_at: at,
                month: &month,
                score: (score > 0).then_some(score),
                comment,
            },
        )
        .await?;
    }
    Ok(())
}
