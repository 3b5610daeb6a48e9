//! A clinic's safety settings (緊急対応): the guidance text, the crisis-lines text, minutes
//! before escalation, built-in rules switched off, and the clinic's own phrases. No row reads
//! as [`Settings::default`].
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::ids::new_id;
use tsunagu_core::ClinicId;
use tsunagu_triage::{Category, ClinicRules, Detector, ExtraPhrase};

/// The default guidance: emergencies to 119, advice at #7119 where the region has it, the
/// clinic's own number during opening hours (`{{clinic.phone}}` is filled in when sent).
pub const DEFAULT_GUIDANCE: &str = "【緊急の場合】命に関わる症状（強い胸の痛み、息が苦しい、意識がおかしい、激しい出血など）があるときは、すぐに119番へお電話ください。\n救急車を呼ぶか迷うときは、救急安心センター（#7119、実施地域のみ）にご相談ください。\n診療時間内は当院 {{clinic.phone}} へお電話ください。\nこのトークはスタッフが確認しますが、すぐにお返事できないことがあります。";
/// The default for crisis hits (suicidal intent): two national free lines whose numbers were
/// checked against their operators' pages (よりそいホットライン, 社会的包摂サポートセンター,
/// 24 hours; 自殺予防いのちの電話, 日本いのちの電話連盟, hours vary so none are quoted).
/// Clinics should check them again before relying on them (the settings page says so).
pub const DEFAULT_CRISIS: &str = "おつらい気持ちを伝えてくださってありがとうございます。あなたの命が危ないときは、すぐに119番へお電話ください。\n話を聴いてくれる窓口があります（通話無料）。\n・よりそいホットライン 0120-279-338（24時間）\n・自殺予防いのちの電話 0120-783-556\n診療時間内は当院 {{clinic.phone}} へお電話ください。スタッフもこのメッセージを確認します。";
/// The defaults of a clinic whose locale is English.
pub const DEFAULT_GUIDANCE_EN: &str = "If this may be an emergency (severe chest pain, trouble breathing, confusion, heavy bleeding…), call 119 now.\nIf you are unsure whether you need an ambulance, the advice line #7119 can help where it is available.\nDuring opening hours, call us at {{clinic.phone}}.\nStaff will read this chat, but may not be able to answer at once.";
pub const DEFAULT_CRISIS_EN: &str = "Thank you for telling us how you feel. If your life is in danger, call 119 now.\nThere are people who will listen (free calls):\n・Yorisoi Hotline 0120-279-338 (24 hours; some foreign languages)\n・Suicide prevention Inochi no Denwa 0120-783-556 (Japanese)\nDuring opening hours, call us at {{clinic.phone}}. Staff will also read this message.";
pub const MAX_TEXT: usize = 2000;
pub const ESCALATE_MINUTES: (i64, i64) = (1, 120);
pub const MAX_PHRASE: usize = 50;
pub const MAX_PHRASES: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub guidance_text: String,
    pub crisis_text: String,
    /// Minutes an alert waits for someone to open the conversation before the next person.
    pub escalate_minutes: i64,
    /// Built-in rule ids the clinic switched off.
    pub disabled_rules: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            guidance_text: DEFAULT_GUIDANCE.to_string(),
            crisis_text: DEFAULT_CRISIS.to_string(),
            escalate_minutes: 10,
            disabled_rules: Vec::new(),
        }
    }
}

impl Settings {
    /// The defaults in the clinic's language (Japanese unless it is English).
    pub fn default_for(locale: &str) -> Settings {
        match locale {
            "en" => Settings {
                guidance_text: DEFAULT_GUIDANCE_EN.to_string(),
                crisis_text: DEFAULT_CRISIS_EN.to_string(),
                ..Settings::default()
            },
            _ => Settings::default(),
        }
    }
}

#[derive(FromRow)]
struct Row {
    guidance_text: String,
    crisis_text: String,
    escalate_minutes: i64,
    disabled_rules: String,
}

pub async fn load(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Settings> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT guidance_text, crisis_text, escalate_minutes, disabled_rules
         FROM safety_settings WHERE clinic_id = $1",
    )
    .bind(clinic.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("loading the clinic's safety settings")?;
    Ok(match row {
        None => {
            let locale: Option<String> =
                sqlx::query_scalar("SELECT locale FROM clinics WHERE id = $1")
                    .bind(clinic.as_str())
                    .fetch_optional(conn)
                    .await
                    .context("reading the clinic's language")?;
            Settings::default_for(locale.as_deref().unwrap_or("ja"))
        }
        Some(r) => Settings {
            guidance_text: r.guidance_text,
            crisis_text: r.crisis_text,
            escalate_minutes: r.escalate_minutes,
            disabled_rules: serde_json::from_str(&r.disabled_rules).unwrap_or_default(),
        },
    })
}

pub async fn save(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    s: &Settings,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO safety_settings (clinic_id, guidance_text, crisis_text, escalate_minutes, disabled_rules, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (clinic_id) DO UPDATE SET guidance_text = excluded.guidance_text,
           crisis_text = excluded.crisis_text, escalate_minutes = excluded.escalate_minutes,
           disabled_rules = excluded.disabled_rules, updated_at = excluded.updated_at",
    )
    .bind(clinic.as_str())
    .bind(&s.guidance_text)
    .bind(&s.crisis_text)
    .bind(s.escalate_minutes)
    .bind(serde_json::to_string(&s.disabled_rules)?)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("saving the clinic's safety settings")?;
    Ok(())
}

/// One of the clinic's own phrases.
#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct Phrase {
    pub id: String,
    pub phrase: String,
    pub category: String,
}

impl Phrase {
    pub fn category(&self) -> Option<Category> {
        category_of(&self.category)
    }
}

/// A category from its stored name.
pub fn category_of(name: &str) -> Option<Category> {
    Category::parse(name)
}

/// A category's stored name (`chest_pain`).
pub fn category_name(c: &Category) -> String {
    c.as_str().to_string()
}

pub async fn phrases(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Phrase>> {
    sqlx::query_as(
        "SELECT id, phrase, category FROM triage_phrases WHERE clinic_id = $1 ORDER BY created_at, id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's triage phrases")
}

/// Adds a phrase; `None` when the clinic already has it.
pub async fn add_phrase(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    phrase: &str,
    category: &Category,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let id = new_id();
    let done = sqlx::query(
        "INSERT INTO triage_phrases (id, clinic_id, phrase, category, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (clinic_id, phrase) DO NOTHING",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(phrase)
    .bind(category_name(category))
    .bind(now_ms)
    .execute(conn)
    .await
    .context("adding a triage phrase")?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// `false`: not the clinic's phrase.
pub async fn remove_phrase(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM triage_phrases WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("removing a triage phrase")?;
    Ok(done.rows_affected() == 1)
}

/// The clinic's detector: the built-in rules less those switched off, plus its own phrases.
/// Two small reads; built per message (cheaper than keeping a cache true across instances).
pub async fn detector(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<(Detector, Settings)> {
    let settings = load(&mut *conn, clinic).await?;
    let extra = phrases(&mut *conn, clinic)
        .await?
        .into_iter()
        .filter_map(|p| {
            Some(ExtraPhrase {
                category: p.category()?,
                phrase: p.phrase,
            })
        })
        .collect();
    let rules = ClinicRules {
        extra,
        disabled: settings.disabled_rules.clone(),
    };
    Ok((Detector::with_clinic(&rules), settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_follow_the_clinics_language_and_name_119() {
        let ja = Settings::default_for("ja");
        assert!(ja.guidance_text.contains("119番") && ja.guidance_text.contains("#7119"));
        assert!(ja.crisis_text.contains("0120-279-338"));
        let en = Settings::default_for("en");
        assert!(en.guidance_text.starts_with("If this may be an emergency"));
        assert!(en.crisis_text.contains("0120-279-338"));
        assert_eq!(en.escalate_minutes, 10);
    }

    #[test]
    fn every_category_reads_back_from_its_stored_name() {
        for c in tsunagu_triage::Category::ALL {
            assert_eq!(category_of(&category_name(&c)), Some(c));
        }
    }
}
