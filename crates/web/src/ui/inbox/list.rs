//! `GET /app/inbox` and its live fragment: conversations newest first, in three tabs
//! (未対応 unassigned, 自分の担当 mine, すべて all), a page at a time.
use axum::extract::{Query, State};
use axum::response::Html;
use serde::{Deserialize, Serialize};
use tsunagu_core::Permission;
use tsunagu_store::conversations::{self, InboxFilter};

use super::view::{self, Zone};
use super::{
    audit_event, audit_throttled, conn, cursor_param, parse_cursor, queries, render, shell,
};
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub view: Option<String>,
    pub before: Option<String>,
    /// The conversation open beside the list (highlighted).
    pub current: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Unassigned,
    Mine,
    All,
}

impl Tab {
    pub fn parse(s: Option<&str>) -> Option<Tab> {
        match s? {
            "unassigned" => Some(Tab::Unassigned),
            "mine" => Some(Tab::Mine),
            "all" => Some(Tab::All),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Unassigned => "unassigned",
            Tab::Mine => "mine",
            Tab::All => "all",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TabView {
    pub key: &'static str,
    pub label: String,
    pub count: i64,
    pub href: String,
    pub current: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ListItem {
    pub id: String,
    pub href: Option<String>,
    pub name: String,
    pub channel_kind: String,
    pub channel_label: String,
    pub preview: Option<String>,
    pub time_label: String,
    pub time_iso: String,
    pub unread: i64,
    pub unverified: bool,
    pub group: bool,
    pub current: bool,
    /// Who looks after it (their display name).
    pub assignee: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ListView {
    pub view: &'static str,
    pub tabs: Vec<TabView>,
    pub items: Vec<ListItem>,
    pub older_href: Option<String>,
    pub newest_href: Option<String>,
    pub fragment_href: String,
    pub unread_total: i64,
}

/// One page of the list for `staff`, as the templates show it.
pub async fn load(state: &AppState, staff: &Staff, q: &ListQuery) -> Result<ListView, PageError> {
    staff.require(Permission::ReadPatients)?;
    let clinic = staff.clinic.clinic_id();
    let lang = staff.lang;
    let mut conn = conn(state).await?;
    let counts = queries::counts(&mut conn, &clinic, staff.staff_id.as_str()).await?;
    let tab = Tab::parse(q.view.as_deref()).unwrap_or(if counts.unassigned > 0 {
        Tab::Unassigned
    } else {
        Tab::All
    });
    let filter = match tab {
        Tab::Unassigned => InboxFilter::Unassigned,
        Tab::Mine => InboxFilter::AssignedTo(staff.staff_id.as_str()),
        Tab::All => InboxFilter::All,
    };
    let cursor = parse_cursor(q.before.as_deref());
    let current = q
        .current
        .as_deref()
        .and_then(|c| uuid::Uuid::try_parse(c).ok())
        .map(|u| u.to_string());
    let mut rows = conversations::list(
        &mut conn,
        &clinic,
        filter,
        cursor.as_ref().map(|(at, id)| (*at, id.as_str())),
        PAGE + 1,
    )
    .await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
    let decos = queries::list_decorations(&mut conn, &clinic, &ids).await?;
    let zone = Zone::of(&staff.clinic);
    let now = state.now_ms();
    let can_open = staff.can(Permission::ReadMessages);
    let view = tab.as_str();
    let items = rows
        .iter()
        .map(|c| {
            let d = decos.get(&c.id).cloned().unwrap_or_default();
            let group = c.kind != "direct";
            let name = if group {
                view::first_name(lang, &[c.title.as_deref()], "inbox.group_untitled")
            } else {
                view::first_name(
                    lang,
                    &[d.patient_name.as_deref(), d.identity_name.as_deref()],
                    "inbox.unknown_patient",
                )
            };
            ListItem {
                href: can_open.then(|| format!("/app/conversations/{}?view={view}", c.id)),
                name,
                channel_label: view::channel_label(lang, &d.channel_kind),
                channel_kind: d.channel_kind,
                preview: if can_open {
                    c.last_message_preview
                        .as_deref()
                        .map(|p| view::preview_label(lang, p))
                } else {
                    None
                },
                time_label: zone.label(c.last_message_at, now),
                time_iso: zone.iso(c.last_message_at),
                unread: c.unread_count,
                unverified: !group && d.provisional.unwrap_or(1) != 0,
                group,
                current: current.as_deref() == Some(c.id.as_str()),
                assignee: c.assignee_id.as_ref().map(|_| {
                    d.assignee_name
                        .clone()
                        .unwrap_or_else(|| i18n::text(lang, "msg.author.staff"))
                }),
                id: c.id.clone(),
            }
        })
        .collect();
    let tabs = [
        (Tab::Unassigned, counts.unassigned),
        (Tab::Mine, counts.mine),
        (Tab::All, counts.total),
    ]
    .into_iter()
    .map(|(t, count)| TabView {
        key: t.as_str(),
        label: i18n::text(lang, &format!("inbox.tab.{}", t.as_str())),
        count,
        href: format!("/app/inbox?view={}", t.as_str()),
        current: t == tab,
    })
    .collect();
    let older = more
        .then(|| rows.last().map(|c| cursor_param(c.last_message_at, &c.id)))
        .flatten();
    let mut fragment_href = format!("/app/inbox/fragment?view={view}");
    if let Some((at, id)) = &cursor {
        fragment_href.push_str(&format!("&before={}", cursor_param(*at, id)));
    }
    if let Some(c) = &current {
        fragment_href.push_str(&format!("&current={c}"));
    }
    Ok(ListView {
        view,
        tabs,
        items,
        older_href: older.map(|o| format!("/app/inbox?view={view}&before={o}")),
        newest_href: cursor.is_some().then(|| format!("/app/inbox?view={view}")),
        fragment_href,
        unread_total: counts.unread,
    })
}

fn shown_ids(list: &ListView) -> Vec<&str> {
    list.items.iter().map(|i| i.id.as_str()).collect()
}

pub async fn page(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let list = load(&state, &staff, &ListQuery { current: None, ..q }).await?;
    audit_event(
        &state,
        &staff,
        &ip,
        "inbox.list",
        "conversation",
        &shown_ids(&list),
    )
    .await?;
    let shell = shell::shell(&state, &staff, "inbox").await?;
    render(
        &state,
        "inbox/index.html",
        minijinja::context! { lang => staff.lang, shell, list, title => i18n::text(staff.lang, "inbox.title") },
    )
}

/// The list alone, for a live refresh. Refreshes showing the same rows within a minute are one
/// entry in the trail.
pub async fn fragment(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let list = load(&state, &staff, &q).await?;
    audit_throttled(
        &state,
        &staff,
        &ip,
        "inbox.list",
        "conversation",
        &shown_ids(&list),
    )
    .await?;
    render(
        &state,
        "inbox/_list.html",
        minijinja::context! { lang => staff.lang, list },
    )
}
