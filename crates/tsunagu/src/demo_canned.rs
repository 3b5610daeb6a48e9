//! The demo clinic's canned responses (定型文), so typing `/` in the reply box shows something
//! on the first day: the questions reception answers most (parking, hours), and its phone.
use tsunagu_core::ClinicId;
use tsunagu_inbox::canned::{self, Draft};
use tsunagu_store::{clinics, Db};

const PHONE: &str = "03-1234-5678";

const CANNED: [(&str, &str, &str); 3] = [
    (
        "駐車場",
        "駐車場のご案内",
        "{{patient.name}}様、お問い合わせありがとうございます。駐車場は建物の裏に5台分ございます。満車の際は近くのコインパーキングをご利用ください。",
    ),
    (
        "診療時間",
        "診療時間のご案内",
        "{{clinic.name}}の診療時間は、平日9:00〜12:30・14:30〜18:00、土曜9:00〜12:30です。日曜・祝日は休診です。ご不明な点は{{clinic.phone}}までお電話ください。",
    ),
    (
        "折り返し",
        "お電話での折り返し",
        "{{patient.name}}様、担当の{{staff.name}}です。詳しくお伺いしたいので、{{clinic.phone}}からお電話を差し上げてもよろしいでしょうか。",
    ),
];

pub(crate) async fn seed(db: &Db, clinic: &ClinicId, now_ms: i64) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    clinics::set_phone(&mut conn, clinic, Some(PHONE)).await?;
    for (shortcut, title, body) in CANNED {
        let draft = Draft {
            shortcut,
            title,
            body,
        };
        canned::create(&mut conn, clinic, draft, now_ms)
            .await?
            .map_err(|e| anyhow::anyhow!("the demo's canned response {shortcut:?}: {e}"))?;
    }
    Ok(())
}
