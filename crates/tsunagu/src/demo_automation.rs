//! The demo clinic's automation (自動応答), so a patient on the LINE simulator who types 駐車場
//! (or ﾁｭｳｼｬｼﾞｮｳ) or 診療時間 gets the answer at once, one who writes outside opening hours
//! is told when the clinic opens, a new friend gets the greeting with the consent question
//! and the sample step sequence (the next day at 10:00 parking and access, three days later
//! vaccinations; health information, so it goes to those who answered the consent question
//! with that purpose, and stops with the reason shown for those who did not), 問診 starts the
//! sample intake flow (初診問診), and a waiting-room poster source (流入経路) whose QR link the
//! LINE simulator opens; two event rules (自動ルール, `demo_event_rules`); メニュー brings the FAQ
//! menu (駐車場, 診療時間, 予約の変更は?, 持ち物) on every channel, answered by tap, list row or number.
use anyhow::Context;
use tsunagu_automation::flows::{sample, store as flow_store};
use tsunagu_automation::sequences::{store as sequences, timing::Timing, SequenceStep, Trigger};
use tsunagu_automation::{faq, greetings, rules, settings, sources};
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_privacy::consent::Purpose;
use tsunagu_store::Db;

/// (name, match mode, keywords, reply). Parking answers only the question itself (a message
/// that merely mentions a car park may be about something else); hours answer any mention.
const RULES: [(&str, &str, &[&str], &str); 2] = [
    (
        "駐車場",
        "exact",
        &["駐車場", "ちゅうしゃじょう", "駐車場は", "駐車場はありますか", "車で行けますか", "parking"],
        "{{patient.name}}様、お問い合わせありがとうございます。駐車場は建物の裏に5台分ございます。満車の際は近くのコインパーキングをご利用ください。",
    ),
    (
        "診療時間",
        "contains",
        &["診療時間", "しんりょうじかん", "受付時間", "何時まで", "何時から", "opening hours"],
        "{{clinic.name}}の診療時間は、平日9:00〜12:30・14:00〜18:00、土曜9:00〜12:30です。日曜・祝日は休診です。ご不明な点は{{clinic.phone}}までお電話ください。",
    ),
];

pub(crate) async fn seed(
    db: &Db,
    clinic: &ClinicId,
    line: &ChannelId,
    cipher: &tsunagu_privacy::Cipher,
    now_ms: i64,
) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    for (name, mode, keywords, reply) in RULES {
        let draft = rules::Draft {
            name: name.into(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            match_mode: mode.into(),
            reply_text: reply.into(),
            channel_id: None,
            active_hours: "always".into(),
            team_id: None,
            flow_id: None,
            enabled: true,
        };
        rules::create(&mut conn, clinic, &draft, now_ms)
            .await?
            .map_err(|r| anyhow::anyhow!("the demo's keyword rule {name:?}: {}", r.code))?;
    }
    let s = settings::Settings {
        away_enabled: true,
        ..settings::Settings::default()
    };
    settings::save(&mut conn, clinic, &s, now_ms).await?;
    let greeting = greetings::Draft {
        enabled: true,
        greeting_text: greetings::DEFAULT_GREETING.into(),
        ask_consent: true,
        offer_verification: true,
    };
    greetings::save(&mut conn, clinic, line.as_str(), &greeting, now_ms)
        .await?
        .map_err(|r| anyhow::anyhow!("the demo's greeting: {}", r.code))
        .context("seeding the demo's greeting")?;
    let step = |delay_days: i64, after_previous, body: &str| SequenceStep {
        timing: Timing {
            delay_minutes: delay_days * 24 * 60,
            after_previous,
            send_at_minute: Some(10 * 60),
            open_hours_only: false,
        },
        body: body.into(),
    };
    let welcome = sequences::Draft {
        name: "新しい友だちへのご案内".into(),
        purpose: Purpose::HealthInformation,
        trigger: Trigger::FriendAdded { channel_id: None },
        goal_tag: Some("来院済み".into()),
        reenroll: false,
        enabled: true,
        steps: vec![
            step(1, false, "駐車場とアクセスのご案内です。駐車場は建物の裏に5台分ございます。最寄り駅からは徒歩5分です。"),
            step(3, true, "予防接種のご案内です。インフルエンザの予防接種を受け付けています。ご希望の方はこちらのトークでお知らせください。"),
        ],
    }
    .check()
    .map_err(|e| anyhow::anyhow!("the demo's step sequence: {}", e.key()))?;
    sequences::create(&mut conn, clinic, &welcome, now_ms).await?;
    // A waiting-room poster on LINE; the emulated account's basic id, so its QR code and
    // link work in the LINE simulator (paste the link into its message box).
    sources::set_address(&mut conn, clinic, line.as_str(), "@sakura-clinic", now_ms).await?;
    sources::create(
        &mut conn,
        clinic,
        line.as_str(),
        "待合室ポスター",
        "流入:待合室",
        now_ms,
    )
    .await?;
    seed_faq(&mut conn, clinic, now_ms).await?;
    seed_intake(&mut conn, clinic, cipher, now_ms).await?;
    crate::demo_event_rules::seed(&mut conn, clinic, cipher, now_ms).await
}

/// The FAQ menu: the clinic's own answers to its four routine questions.
const FAQ: [(&str, &str); 4] = [
    ("駐車場", "駐車場は建物の裏に5台分ございます。満車の際は近くのコインパーキングをご利用ください。"),
    ("診療時間", "診療時間は平日9:00〜12:30・14:00〜18:00、土曜9:00〜12:30です。日曜・祝日は休診です。"),
    ("予約の変更は?", "ご予約の変更・キャンセルは、こちらのトークで「スタッフ」と送ってご希望の日時をお知らせいただくか、お電話でご連絡ください。"),
    ("持ち物", "保険証(マイナ保険証)、診察券、お薬手帳をお持ちください。初めての方は問診票の記入がありますので、10分ほど早めにお越しください。"),
];

async fn seed_faq(
    conn: &mut sqlx::AnyConnection,
    clinic: &ClinicId,
    now_ms: i64,
) -> anyhow::Result<()> {
    let draft = faq::Draft {
        intro_text: faq::DEFAULT_INTRO.into(),
        channels: faq::CHANNEL_KINDS.iter().map(|k| k.to_string()).collect(),
        in_greeting: false,
        items: FAQ
            .iter()
            .map(|(q, a)| faq::ItemDraft {
                id: None,
                question: q.to_string(),
                answer: a.to_string(),
            })
            .collect(),
    };
    faq::save(conn, clinic, &draft, now_ms)
        .await?
        .map_err(|r| anyhow::anyhow!("the demo's FAQ menu: {}", r.code))?;
    Ok(())
}

/// The sample 「初診問診」, published and on, started by the keyword 問診; fever goes to 看護.
async fn seed_intake(
    conn: &mut sqlx::AnyConnection,
    clinic: &ClinicId,
    cipher: &tsunagu_privacy::Cipher,
    now_ms: i64,
) -> anyhow::Result<()> {
    let nursing = tsunagu_inbox::routing::teams::list(&mut *conn, clinic)
        .await?
        .into_iter()
        .find(|t| t.name == "看護")
        .map(|t| t.id);
    let def = sample::intake(nursing.as_deref());
    let id = flow_store::create(&mut *conn, clinic, sample::NAME, &def, cipher, now_ms).await?;
    flow_store::publish(&mut *conn, clinic, &id, None, now_ms)
        .await?
        .map_err(|p| anyhow::anyhow!("the demo's intake flow: {p:?}"))?;
    flow_store::set_enabled(&mut *conn, clinic, &id, true, now_ms).await?;
    let draft = rules::Draft {
        name: sample::NAME.into(),
        keywords: vec![sample::KEYWORD.into(), "もんしん".into()],
        match_mode: "exact".into(),
        reply_text: String::new(),
        channel_id: None,
        active_hours: "always".into(),
        team_id: None,
        flow_id: Some(id),
        enabled: true,
    };
    rules::create(&mut *conn, clinic, &draft, now_ms)
        .await?
        .map_err(|r| anyhow::anyhow!("the demo's intake keyword: {}", r.code))?;
    Ok(())
}
