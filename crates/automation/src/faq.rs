//! The FAQ menu (よくある質問メニュー, issue 12 item 3): the clinic's routine questions (駐車場,
//! 診療時間, …) with answers staff wrote, so they take no staff time.
//!
//! Design: the menu is one choice question, sent as the flows' `Say::Choice`
//! (`inbox::reply::Outgoing::choice`), so each channel shows it its native way through the one
//! renderer (`channels::compose`: LINE quick replies, WhatsApp reply buttons up to three or a
//! list, Messenger quick replies, numbered text on SMS). A shown menu leaves a pending row
//! (like a flow's waiting question) holding the items in the order shown, so a typed 「2」 or
//! 「２」 counts only while it waits (30 minutes) and means what the patient saw; the choice is
//! read by `flows::input::choice` (number, label in any width or kana, a tap's text). A
//! rich menu area opens it with the postback `faq` or answers one item with `faq:<id>`.
//! `dispatch` runs it after a running flow and before the keyword rules; its answers go
//! through the outbox with the consent and reachability checks like every automated message.
//! Answers are the clinic's own text: nothing clinical is composed by a bot, red-flag triage
//! runs first, and each answer ends by saying how to reach a person.
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::text::match_form;
use tsunagu_core::{new_id, ClinicId, Code, Refusal};

use crate::flows::definition::{Opt, MAX_OPTIONS, MAX_OPTION_LABEL};
use crate::flows::{input, Say};

/// What a patient types to get the menu (compared in `match_form`).
pub const KEYWORDS: [&str; 4] = ["メニュー", "よくある質問", "FAQ", "よくあるご質問"];
/// A rich menu area's postback data that opens the menu; `faq:<item id>` answers one item.
pub const POSTBACK_MENU: &str = "faq";
pub const POSTBACK_ITEM: &str = "faq:";
/// LINE quick reply labels and WhatsApp buttons take 20 characters; a menu shows up to 10.
pub const MAX_QUESTION: usize = MAX_OPTION_LABEL;
pub const MAX_ITEMS: usize = MAX_OPTIONS;
pub const MAX_ANSWER: usize = 1000;
pub const MAX_INTRO: usize = 500;
/// How long a shown menu waits for a typed number.
pub const PENDING_MS: i64 = 30 * 60_000;
pub const CHANNEL_KINDS: [&str; 4] = ["line", "whatsapp", "messenger", "sms"];
pub const DEFAULT_INTRO: &str =
    "よくあるご質問です。知りたい項目をお選びください。診察や症状のご相談は「スタッフ」と送ってください。";
/// After each answer: where to go next (nobody is trapped in a bot).
pub const FOOTER: &str =
    "ほかのご質問は「メニュー」、スタッフへのご相談は「スタッフ」と送ってください。";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub question: String,
    pub answer: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Menu {
    pub intro_text: String,
    /// Channel kinds it is offered on.
    pub channels: Vec<String>,
    pub in_greeting: bool,
    /// In the order shown.
    pub items: Vec<Item>,
}

impl Default for Menu {
    fn default() -> Self {
        Menu {
            intro_text: DEFAULT_INTRO.into(),
            channels: CHANNEL_KINDS.iter().map(|k| k.to_string()).collect(),
            in_greeting: false,
            items: Vec::new(),
        }
    }
}

/// One item as staff typed it; `id` keeps an existing item (and a menu already shown to a
/// patient still answers it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ItemDraft {
    #[serde(default)]
    pub id: Option<String>,
    pub question: String,
    pub answer: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Draft {
    pub intro_text: String,
    pub channels: Vec<String>,
    pub in_greeting: bool,
    pub items: Vec<ItemDraft>,
}

fn refuse(what: &str, detail: &str) -> Refusal {
    Refusal::new(Code::InvalidFaqMenu)
        .detail(detail.to_string())
        .arg_key("what", format!("faq.problem.{what}"))
}

fn clean(s: &str) -> String {
    s.replace("\r\n", "\n").trim().to_string()
}

impl Draft {
    /// The menu it saves, or why not (the first problem). Blank rows are left out.
    pub fn check(&self) -> Result<Menu, Refusal> {
        let intro = clean(&self.intro_text);
        if intro.is_empty() || intro.chars().count() > MAX_INTRO {
            return Err(refuse("intro", "intro_text: 1 to 500 characters"));
        }
        let mut channels = Vec::new();
        for c in &self.channels {
            if !CHANNEL_KINDS.contains(&c.as_str()) {
                return Err(refuse(
                    "channel",
                    "channels: line, whatsapp, messenger, sms",
                ));
            }
            if !channels.contains(c) {
                channels.push(c.clone());
            }
        }
        let mut items: Vec<Item> = Vec::new();
        for d in &self.items {
            let (q, a) = (clean(&d.question), clean(&d.answer));
            if q.is_empty() && a.is_empty() {
                continue;
            }
            if q.is_empty() || q.chars().count() > MAX_QUESTION {
                return Err(refuse("question", "question: 1 to 20 characters"));
            }
            if a.is_empty() || a.chars().count() > MAX_ANSWER {
                return Err(refuse("answer", "answer: 1 to 1000 characters"));
            }
            if items
                .iter()
                .any(|i| match_form(&i.question) == match_form(&q))
            {
                return Err(refuse("duplicate", "two questions read the same"));
            }
            let id = d.id.clone().filter(|i| !i.is_empty()).unwrap_or_default();
            items.push(Item {
                id,
                question: q,
                answer: a,
            });
        }
        if items.len() > MAX_ITEMS {
            return Err(refuse("too_many", "at most 10 questions"));
        }
        Ok(Menu {
            intro_text: intro,
            channels,
            in_greeting: self.in_greeting,
            items,
        })
    }
}

impl Menu {
    /// Whether the menu is offered on a channel of this kind (and has something to offer).
    pub fn offered_on(&self, kind: &str) -> bool {
        !self.items.is_empty() && self.channels.iter().any(|c| c == kind)
    }

    /// The menu as a choice question.
    pub fn say(&self) -> Say {
        Say::Choice {
            text: self.intro_text.clone(),
            options: self.items.iter().map(|i| i.question.clone()).collect(),
        }
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }
}

/// Whether the text asks for the menu (メニュー, よくある質問, ＦＡＱ, 「めにゅー」…).
pub fn asks_for_menu(text: &str) -> bool {
    let typed = match_form(text);
    !typed.is_empty() && KEYWORDS.iter().any(|k| match_form(k) == typed)
}

/// What a postback asks: `Some(None)` the menu, `Some(Some(id))` one item, `None` not ours.
pub fn postback(data: &str) -> Option<Option<&str>> {
    match data.strip_prefix(POSTBACK_ITEM) {
        Some(id) if !id.is_empty() => Some(Some(id)),
        _ => (data == POSTBACK_MENU).then_some(None),
    }
}

/// The item the patient chose among those shown (by number, label or a tap's text).
pub fn choose<'a>(shown: &'a [Item], text: &str) -> Option<&'a Item> {
    let opts: Vec<Opt> = shown
        .iter()
        .map(|i| Opt {
            label: i.question.clone(),
            next: None,
        })
        .collect();
    input::choice(&opts, text).map(|n| &shown[n])
}

/// The answer as sent: the clinic's text and the way on.
pub fn answer_text(item: &Item) -> String {
    format!("{}\n\n{FOOTER}", item.answer)
}

#[derive(FromRow)]
struct MenuRow {
    intro_text: String,
    channels: String,
    in_greeting: i64,
}

#[derive(FromRow)]
struct ItemRow {
    id: String,
    question: String,
    answer: String,
}

/// The clinic's menu (the default, empty, when never saved).
pub async fn load(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Menu> {
    let row: Option<MenuRow> = sqlx::query_as(
        "SELECT intro_text, channels, in_greeting FROM automation_faq_menus WHERE clinic_id = $1",
    )
    .bind(clinic.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("loading the FAQ menu")?;
    let items: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, question, answer FROM automation_faq_items WHERE clinic_id = $1 ORDER BY position, id",
    )
    .bind(clinic.as_str())
    .fetch_all(&mut *conn)
    .await
    .context("loading the FAQ items")?;
    let mut menu = match row {
        Some(r) => Menu {
            intro_text: r.intro_text,
            channels: r
                .channels
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            in_greeting: r.in_greeting != 0,
            items: Vec::new(),
        },
        None => Menu::default(),
    };
    menu.items = items
        .into_iter()
        .map(|r| Item {
            id: r.id,
            question: r.question,
            answer: r.answer,
        })
        .collect();
    Ok(menu)
}

/// Saves the whole menu (items in the given order; those left out are deleted, an unknown id
/// becomes a new item). Run it in the transaction that records the audit entry.
pub async fn save(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    d: &Draft,
    now_ms: i64,
) -> anyhow::Result<Result<Menu, Refusal>> {
    let mut menu = match d.check() {
        Ok(m) => m,
        Err(r) => return Ok(Err(r)),
    };
    sqlx::query(
        "INSERT INTO automation_faq_menus (clinic_id, intro_text, channels, in_greeting, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (clinic_id) DO UPDATE SET intro_text = excluded.intro_text,
           channels = excluded.channels, in_greeting = excluded.in_greeting,
           updated_at = excluded.updated_at",
    )
    .bind(clinic.as_str())
    .bind(&menu.intro_text)
    .bind(menu.channels.join(","))
    .bind(i64::from(menu.in_greeting))
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("saving the FAQ menu")?;
    let existing = load(&mut *conn, clinic).await?.items;
    for item in &mut menu.items {
        if !existing.iter().any(|e| e.id == item.id) {
            item.id = new_id();
        }
    }
    for e in &existing {
        if !menu.items.iter().any(|i| i.id == e.id) {
            sqlx::query("DELETE FROM automation_faq_items WHERE clinic_id = $1 AND id = $2")
                .bind(clinic.as_str())
                .bind(&e.id)
                .execute(&mut *conn)
                .await
                .context("deleting a FAQ item")?;
        }
    }
    for (pos, item) in menu.items.iter().enumerate() {
        sqlx::query(
            "INSERT INTO automation_faq_items (id, clinic_id, position, question, answer, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET position = excluded.position,
               question = excluded.question, answer = excluded.answer,
               updated_at = excluded.updated_at",
        )
        .bind(&item.id)
        .bind(clinic.as_str())
        .bind(pos as i64)
        .bind(&item.question)
        .bind(&item.answer)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .context("saving a FAQ item")?;
    }
    Ok(Ok(menu))
}

/// The menu was shown in the conversation: typed numbers count until it expires.
pub async fn set_pending(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    shown: &[Item],
    now_ms: i64,
) -> anyhow::Result<()> {
    let ids: Vec<&str> = shown.iter().map(|i| i.id.as_str()).collect();
    sqlx::query(
        "INSERT INTO automation_faq_pending (conversation_id, clinic_id, item_ids, expires_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (conversation_id) DO UPDATE SET item_ids = excluded.item_ids,
           expires_at = excluded.expires_at",
    )
    .bind(conversation_id)
    .bind(clinic.as_str())
    .bind(serde_json::to_string(&ids)?)
    .bind(now_ms + PENDING_MS)
    .execute(conn)
    .await
    .context("marking the FAQ menu as waiting")?;
    Ok(())
}

/// The items of the menu waiting in the conversation, in the order shown (those deleted since
/// left out); empty when none waits.
pub async fn pending(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    now_ms: i64,
) -> anyhow::Result<Vec<Item>> {
    let ids: Option<String> = sqlx::query_scalar(
        "SELECT item_ids FROM automation_faq_pending
         WHERE clinic_id = $1 AND conversation_id = $2 AND expires_at > $3",
    )
    .bind(clinic.as_str())
    .bind(conversation_id)
    .bind(now_ms)
    .fetch_optional(&mut *conn)
    .await
    .context("loading the waiting FAQ menu")?;
    let Some(ids) = ids else {
        return Ok(Vec::new());
    };
    let ids: Vec<String> = serde_json::from_str(&ids).unwrap_or_default();
    let menu = load(conn, clinic).await?;
    Ok(ids.iter().filter_map(|id| menu.item(id).cloned()).collect())
}

/// The patient moved on (wrote something that is not a choice, started a flow): numbers no
/// longer answer the menu.
pub async fn clear_pending(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM automation_faq_pending WHERE clinic_id = $1 AND conversation_id = $2")
        .bind(clinic.as_str())
        .bind(conversation_id)
        .execute(conn)
        .await
        .context("clearing the waiting FAQ menu")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, q: &str) -> Item {
        Item {
            id: id.into(),
            question: q.into(),
            answer: format!("{q}の答え"),
        }
    }

    #[test]
    fn the_menu_is_asked_for_in_any_width_kana_or_case() {
        for t in [
            "メニュー",
            "めにゅー",
            "ﾒﾆｭｰ",
            "「メニュー」",
            "よくある質問",
            "faq",
            "ＦＡＱ",
        ] {
            assert!(asks_for_menu(t), "{t}");
        }
        for t in ["メニューを見たい気もする", "駐車場", "", "1"] {
            assert!(!asks_for_menu(t), "{t}");
        }
    }

    #[test]
    fn a_choice_is_read_by_number_full_width_number_or_label() {
        let shown = [
            item("a", "アクセス"),
            item("b", "診療時間"),
            item("c", "持ち物"),
        ];
        assert_eq!(choose(&shown, "2").map(|i| i.id.as_str()), Some("b"));
        assert_eq!(choose(&shown, "２").map(|i| i.id.as_str()), Some("b"));
        assert_eq!(choose(&shown, "ｱｸｾｽ").map(|i| i.id.as_str()), Some("a"));
        assert_eq!(
            choose(&shown, "あくせす？").map(|i| i.id.as_str()),
            Some("a")
        );
        assert_eq!(choose(&shown, "持ち物").map(|i| i.id.as_str()), Some("c"));
        assert!(choose(&shown, "4").is_none());
        assert!(choose(&shown, "熱があります").is_none());
    }

    #[test]
    fn postbacks_open_the_menu_or_answer_one_item() {
        assert_eq!(postback("faq"), Some(None));
        assert_eq!(postback("faq:abc"), Some(Some("abc")));
        assert_eq!(postback("faq:"), None);
        assert_eq!(postback("richmenu:tab2"), None);
    }

    #[test]
    fn a_draft_is_checked_and_blank_rows_dropped() {
        let d = |q: &str, a: &str| ItemDraft {
            id: None,
            question: q.into(),
            answer: a.into(),
        };
        let mut draft = Draft {
            intro_text: " よくある質問です ".into(),
            channels: vec!["line".into(), "sms".into(), "line".into()],
            in_greeting: true,
            items: vec![
                d("駐車場", "10台あります"),
                d("", ""),
                d("持ち物", "保険証"),
            ],
        };
        let m = draft.check().unwrap();
        assert_eq!(m.intro_text, "よくある質問です");
        assert_eq!(m.channels, vec!["line", "sms"]);
        assert_eq!(m.items.len(), 2);
        assert!(m.offered_on("sms") && !m.offered_on("whatsapp"));
        let what = |r: Refusal| match &r.args[0].1 {
            tsunagu_core::Arg::Key(k) => k.clone(),
            other => format!("{other:?}"),
        };
        draft.items.push(d("「駐車場」", "同じ"));
        assert_eq!(what(draft.check().unwrap_err()), "faq.problem.duplicate");
        draft.items.pop();
        draft.items.push(d(&"あ".repeat(21), "長い"));
        assert_eq!(what(draft.check().unwrap_err()), "faq.problem.question");
        draft.items.pop();
        draft.items.push(d("答えなし", ""));
        assert_eq!(what(draft.check().unwrap_err()), "faq.problem.answer");
        draft.items.pop();
        draft.channels.push("fax".into());
        assert_eq!(what(draft.check().unwrap_err()), "faq.problem.channel");
        draft.channels.pop();
        draft.items = (0..11).map(|n| d(&format!("質問{n}"), "答え")).collect();
        assert_eq!(what(draft.check().unwrap_err()), "faq.problem.too_many");
    }
}
