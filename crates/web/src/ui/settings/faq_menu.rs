//! `/app/settings/faq-menu`: the FAQ menu (よくある質問メニュー) — questions with the clinic's
//! answers, their order, the channels it is offered on and whether it follows the greeting —
//! saved whole from one form (like the API's PUT). A refused form is shown again with the
//! error and what was typed.
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_automation::faq::{self, Draft, ItemDraft, CHANNEL_KINDS, MAX_ITEMS};
use tsunagu_core::{Permission, Refusal};

use super::{audit_change, render};
use crate::api::refusal::status;
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/faq-menu";
/// Empty rows under the saved ones, for new questions.
const BLANK_ROWS: usize = 2;

#[derive(Deserialize)]
pub struct PageQuery {
    saved: Option<String>,
}

#[derive(Serialize)]
struct Row {
    id: String,
    question: String,
    answer: String,
    order: usize,
}

#[derive(Serialize)]
struct Channel {
    kind: &'static str,
    name: String,
    on: bool,
}

/// The form as posted: repeated `id`/`order`/`question`/`answer` per row, in page order.
fn draft(pairs: &[(String, String)]) -> Draft {
    let all = |key: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let (ids, orders, qs, ans) = (all("id"), all("order"), all("question"), all("answer"));
    let mut rows: Vec<(usize, usize, ItemDraft)> = qs
        .iter()
        .enumerate()
        .map(|(n, q)| {
            let order = orders
                .get(n)
                .and_then(|o| tsunagu_core::text::fold_width(o).trim().parse().ok())
                .unwrap_or(n + 1);
            let item = ItemDraft {
                id: ids.get(n).map(|s| s.to_string()).filter(|s| !s.is_empty()),
                question: q.to_string(),
                answer: ans.get(n).map(|s| s.to_string()).unwrap_or_default(),
            };
            (order, n, item)
        })
        .collect();
    rows.sort_by_key(|(order, n, _)| (*order, *n));
    Draft {
        intro_text: all("intro_text")
            .first()
            .copied()
            .unwrap_or_default()
            .into(),
        channels: all("channel").iter().map(|c| c.to_string()).collect(),
        in_greeting: !all("in_greeting").is_empty(),
        items: rows.into_iter().map(|(_, _, i)| i).collect(),
    }
}

async fn build(
    state: &AppState,
    staff: &Staff,
    refused: Option<(Refusal, Draft)>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let saved = {
        let mut conn = crate::ui::conn(state).await?;
        faq::load(&mut conn, &clinic).await?
    };
    let (error, shown) = match refused {
        Some((why, d)) => (Some(i18n::refusal(lang, &why)), d),
        None => (
            None,
            Draft {
                intro_text: saved.intro_text.clone(),
                channels: saved.channels.clone(),
                in_greeting: saved.in_greeting,
                items: saved
                    .items
                    .iter()
                    .map(|i| ItemDraft {
                        id: Some(i.id.clone()),
                        question: i.question.clone(),
                        answer: i.answer.clone(),
                    })
                    .collect(),
            },
        ),
    };
    let mut rows: Vec<Row> = shown
        .items
        .iter()
        .map(|i| Row {
            id: i.id.clone().unwrap_or_default(),
            question: i.question.clone(),
            answer: i.answer.clone(),
            order: 0,
        })
        .collect();
    let blanks = BLANK_ROWS.min(MAX_ITEMS.saturating_sub(rows.len()));
    rows.extend((0..blanks).map(|_| Row {
        id: String::new(),
        question: String::new(),
        answer: String::new(),
        order: 0,
    }));
    for (n, r) in rows.iter_mut().enumerate() {
        r.order = n + 1;
    }
    let channels: Vec<Channel> = CHANNEL_KINDS
        .iter()
        .map(|k| Channel {
            kind: k,
            name: text(lang, &format!("faq.channel.{k}")),
            on: shown.channels.iter().any(|c| c == k),
        })
        .collect();
    let keywords = faq::KEYWORDS[..3].join("」「");
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "faq.title"),
        action => PAGE, csrf_token => &staff.csrf_token, rows, channels,
        intro_text => shown.intro_text, in_greeting => shown.in_greeting,
        saved_count => saved.items.len(), max_items => MAX_ITEMS, keywords, error, notice,
    };
    render(state, "settings/faq_menu.html", ctx)
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let notice = q
        .saved
        .filter(|k| k == "1")
        .map(|_| text(staff.lang, "faq.saved"));
    build(&state, &staff, None, notice).await
}

pub async fn save(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let d = draft(&form);
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if let Err(why) = faq::save(tx.conn(), &clinic, &d, state.now_ms()).await? {
        drop(tx);
        let code = status(why.code);
        let html = build(&state, &staff, Some((why, d)), None).await?;
        return Ok((code, html).into_response());
    }
    let subject = ("faq_menu", &[staff.clinic.id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "ui.automation.faq_menu.update",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=1")).into_response())
}

#[cfg(test)]
mod tests {
    use super::draft;

    #[test]
    fn rows_are_read_in_the_order_staff_numbered_them() {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        let form = vec![
            p("intro_text", "ご質問"),
            p("channel", "line"),
            p("channel", "sms"),
            p("id", "a"),
            p("order", "2"),
            p("question", "駐車場"),
            p("answer", "裏に5台"),
            p("id", ""),
            p("order", "１"),
            p("question", "持ち物"),
            p("answer", "保険証"),
        ];
        let d = draft(&form);
        assert_eq!(d.channels, vec!["line", "sms"]);
        assert!(!d.in_greeting);
        let qs: Vec<&str> = d.items.iter().map(|i| i.question.as_str()).collect();
        assert_eq!(qs, vec!["持ち物", "駐車場"], "full-width １ counts");
        assert_eq!(d.items[1].id.as_deref(), Some("a"));
        assert_eq!(d.items[0].id, None);
    }
}
