//! `GET /app/inbox` and its live fragment: conversations in tabs whose words are true (対応中
//! open, 未割り当て open and unassigned, 自分の担当 open and mine, 保留 pending, スヌーズ
//! snoozed, 解決済み resolved, すべて all), narrowed by the facets of `conversation_filter`
//! (label, priority, channel, team, dates, sort), urgent first by default, a page at a time.
use axum::extract::{Query, State};
use axum::response::Html;
use serde::{Deserialize, Serialize};
use tsunagu_core::{ConversationStatus, Permission, Priority};
use tsunagu_store::conversations::filter::Cursor;
use tsunagu_store::labels;

use super::list_filter;
pub use super::list_filter::FilterForm;
pub use super::tabs::Tab;
use super::view::{self, Zone};
use super::{audit_event, audit_throttled, conn, queries, render, shell};
use crate::client_ip::ClientIp;
use crate::conversation_filter::FilterParams;
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
    /// The facets beyond the tab (its status and assignee come from the tab).
    #[serde(flatten)]
    pub facets: FilterParams,
}

#[derive(Clone, Debug, Serialize)]
pub struct TabView {
    pub key: &'static str,
    pub label: String,
    /// `999+` past the cap.
    pub count: String,
    /// Conversations in the tab with unread messages (`99+` past the cap; `0` not shown).
    pub unread: String,
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
    /// open | pending | snoozed | resolved, as shown now.
    pub status: &'static str,
    pub status_label: String,
    /// urgent | high | normal | low.
    pub priority: &'static str,
    pub priority_label: Option<String>,
    pub labels: Vec<labels::Label>,
    /// The service-level clocks running (返信期限, 解決期限), as badges.
    pub sla: Vec<super::sla_view::SlaBadge>,
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
    pub filter: FilterForm,
    /// A facet did not read: the page says so and shows the tab without it.
    pub filter_error: bool,
    /// The person's saved views.
    pub saved: Vec<super::saved_views::SavedItem>,
    /// The bar for checked conversations (for those who may reply).
    pub bulk: Option<super::bulk::Bar>,
    /// The words `static/sla.js` fills durations with.
    pub sla_words: super::sla_view::DurationWords,
}

/// One page of the list for `staff`, as the templates show it.
pub async fn load(state: &AppState, staff: &Staff, q: &ListQuery) -> Result<ListView, PageError> {
    staff.require(Permission::ReadPatients)?;
    let clinic = staff.clinic.clinic_id();
    let lang = staff.lang;
    let me = staff.staff_id.as_str();
    let tz = staff
        .clinic
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let tab = Tab::parse(q.view.as_deref()).unwrap_or(Tab::Open);
    let (status, assignee) = tab.params();
    // The tab decides the state, and the assignee when it names one (未割り当て, 自分の担当).
    let mut facets = FilterParams {
        status: None,
        assignee: if assignee.is_some() {
            None
        } else {
            q.facets.assignee.clone()
        },
        ..q.facets.clone()
    };
    let mut params = FilterParams {
        status: Some(status.into()),
        assignee: assignee.map(str::to_owned).or(facets.assignee.clone()),
        ..facets.clone()
    };
    let (filter, filter_error) = match params.to_filter(Some(me), tz) {
        Ok(f) => (f, false),
        Err(_) => {
            facets = FilterParams::default();
            params = FilterParams {
                status: params.status,
                assignee: assignee.map(str::to_owned),
                ..facets.clone()
            };
            (params.to_filter(Some(me), tz).unwrap_or_default(), true)
        }
    };
    let now = state.now_ms();
    let mut conn = conn(state).await?;
    let counts = filter.counts(&mut conn, &clinic, me, now).await?;
    let unread_total = queries::unread_total(&mut conn, &clinic).await?;
    let cursor = q.before.as_deref().and_then(Cursor::parse);
    let current = q
        .current
        .as_deref()
        .and_then(|c| uuid::Uuid::try_parse(c).ok())
        .map(|u| u.to_string());
    let mut rows = filter
        .list(&mut conn, &clinic, now, cursor.as_ref(), PAGE + 1)
        .await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
    let decos = queries::list_decorations(&mut conn, &clinic, &ids).await?;
    let mut tags = labels::of_conversations(&mut conn, &clinic, &ids).await?;
    let clinic_labels = labels::list(&mut conn, &clinic).await?;
    let saved = tsunagu_store::saved_views::list(&mut conn, &clinic, me).await?;
    // Targets and calendar once per page; each row's clocks are arithmetic on them.
    let clocks = tsunagu_inbox::sla::Clocks::load(&mut conn, &clinic).await?;
    let may_change = staff.can(Permission::Reply);
    let staff_list = if assignee.is_none() || may_change {
        queries::assignable_staff(&mut conn, &clinic).await?
    } else {
        Vec::new()
    };
    drop(conn);
    let zone = Zone::of(&staff.clinic);
    let can_open = staff.can(Permission::ReadMessages);
    let view = tab.as_str();
    let facet_query = facets.query();
    let with_facets = |base: String| {
        if facet_query.is_empty() {
            base
        } else {
            format!("{base}&{facet_query}")
        }
    };
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
            let st = ConversationStatus::effective(&c.status, c.snoozed_until, now).as_str();
            let pr = Priority::from_i64(c.priority);
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
                status: st,
                status_label: i18n::text(lang, &format!("state.{st}")),
                priority: pr.as_str(),
                priority_label: (pr != Priority::Normal)
                    .then(|| i18n::text(lang, &format!("priority.{}", pr.as_str()))),
                labels: tags.remove(&c.id).unwrap_or_default(),
                sla: super::sla_view::row_badges(
                    lang,
                    &zone,
                    clocks.as_ref().and_then(|k| k.of(c, now)).as_ref(),
                    now,
                ),
                id: c.id.clone(),
            }
        })
        .collect();
    let tabs = Tab::ALL
        .into_iter()
        .map(|t| {
            let n = t.count(&counts);
            TabView {
                key: t.as_str(),
                label: i18n::text(lang, &format!("inbox.tab.{}", t.as_str())),
                count: n.total_label(),
                unread: if n.unread > 0 {
                    n.unread_label()
                } else {
                    String::new()
                },
                href: with_facets(format!("/app/inbox?view={}", t.as_str())),
                current: t == tab,
            }
        })
        .collect();
    let older = more
        .then(|| {
            rows.last()
                .map(|c| Cursor::after_in(c, filter.sort).encode())
        })
        .flatten();
    let mut fragment_href = with_facets(format!("/app/inbox/fragment?view={view}"));
    if let Some(c) = &cursor {
        fragment_href.push_str(&format!("&before={}", c.encode()));
    }
    if let Some(c) = &current {
        fragment_href.push_str(&format!("&current={c}"));
    }
    let bulk = may_change.then(|| super::bulk::bar(view, &staff_list, &clinic_labels));
    let filter_form = list_filter::form(
        lang,
        &facets,
        assignee.is_none().then_some(staff_list),
        &clinic_labels,
        !facet_query.is_empty(),
        with_facets(format!("view={view}")),
    );
    let saved = super::saved_views::items(saved, &filter_form.query);
    Ok(ListView {
        view,
        tabs,
        items,
        older_href: older.map(|o| with_facets(format!("/app/inbox?view={view}&before={o}"))),
        newest_href: cursor
            .is_some()
            .then(|| with_facets(format!("/app/inbox?view={view}"))),
        fragment_href,
        unread_total,
        filter: filter_form,
        filter_error,
        saved,
        bulk,
        sla_words: super::sla_view::duration_words(lang),
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
        minijinja::context! { lang => staff.lang, shell, list, csrf_token => &staff.csrf_token, title => i18n::text(staff.lang, "inbox.title") },
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
        minijinja::context! { lang => staff.lang, list, csrf_token => &staff.csrf_token },
    )
}
