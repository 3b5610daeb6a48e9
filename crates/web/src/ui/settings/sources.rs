//! `/app/settings/sources`: where patients come from (流入経路). Each source with its numbers
//! (patients it brought first, messages carrying its code, how many still follow), creating one
//! on a LINE, WhatsApp, SMS or Messenger channel, each channel's public address its links open
//! (LINE basic id, number, Page username), and per source a printable A4 page with its QR code (an SVG drawn here, served
//! from this origin under the strict CSP). Changes are audited.
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qrcodegen::{QrCode, QrCodeEcc};
use serde::{Deserialize, Serialize};
use tsunagu_automation::{line_login, source_edits, sources};
use tsunagu_core::Permission;

use super::audit_change;
use crate::client_ip::ClientIp;
use crate::i18n::{text, text_with};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

pub(super) const PAGE: &str = "/app/settings/sources";
use source_edits::KINDS;

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct SourceForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub channel_id: String,
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub welcome_text: String,
    #[serde(default)]
    pub welcome_flow_id: String,
    /// "1": 読み取るたび; else 初回のみ.
    #[serde(default)]
    pub welcome_every: String,
}

#[derive(Serialize)]
pub(super) struct FlowChoice {
    id: String,
    name: String,
}

#[derive(Serialize)]
pub(super) struct ChannelItem {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) kind: String,
    address: String,
    address_label: String,
    /// The linked LINE Login channel's id ('' when none; LINE channels only).
    login_channel_id: String,
}

#[derive(Serialize)]
struct Item {
    id: String,
    name: String,
    code: String,
    tag: String,
    channel: String,
    added: i64,
    messages: i64,
    following: i64,
    link: Option<String>,
    /// Its link goes through LINE Login (the add-friend option).
    via_login: bool,
    /// How the source welcomes, in words ('' for not at all).
    welcome: String,
}

pub(super) async fn channels(
    state: &AppState,
    staff: &Staff,
) -> Result<Vec<ChannelItem>, PageError> {
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let mut out = Vec::new();
    let logins = line_login::link::list(&mut c, &clinic).await?;
    for ch in tsunagu_store::channels::list(&mut c, &clinic).await? {
        if !KINDS.contains(&ch.kind.as_str()) {
            continue;
        }
        let address = sources::address(&mut c, &clinic, &ch.id).await?;
        out.push(ChannelItem {
            address_label: text(staff.lang, &format!("sources.address.{}", ch.kind)),
            address: address.unwrap_or_default(),
            login_channel_id: logins
                .iter()
                .find(|(c, _)| *c == ch.id)
                .map(|(_, l)| l.clone())
                .unwrap_or_default(),
            id: ch.id,
            name: ch.name,
            kind: ch.kind,
        });
    }
    Ok(out)
}

/// The link the source's QR code holds: through LINE Login when its LINE channel has a Login
/// channel linked, else the prefilled message — the rule of `line_login::source_link` (which
/// the API asks), here from the channels the page has read already.
fn link_of(state: &AppState, chs: &[ChannelItem], s: &sources::Source) -> Option<String> {
    let ch = chs.iter().find(|c| c.id == s.channel_id)?;
    if ch.kind == "line" && !ch.login_channel_id.is_empty() {
        return Some(line_login::source_url(&state.settings.public_base(), &s.id));
    }
    sources::chat_link(&ch.kind, &ch.address, &s.code)
}

/// The clinic's published, enabled flows a source may start.
pub(super) async fn published_flows(
    c: &mut sqlx::AnyConnection,
    clinic: &tsunagu_core::ClinicId,
) -> Result<Vec<FlowChoice>, PageError> {
    Ok(tsunagu_automation::flows::store::list(c, clinic)
        .await?
        .into_iter()
        .filter(|f| f.is_enabled() && f.published_version.is_some())
        .map(|f| FlowChoice {
            id: f.id,
            name: f.name,
        })
        .collect())
}

/// 「あいさつ・フロー『初診問診』（初回のみ）」, or '' when the source sends nothing.
fn welcome_words(lang: &str, s: &sources::Source, flows: &[FlowChoice]) -> String {
    if !s.welcomes() {
        return String::new();
    }
    let mut parts = Vec::new();
    if !s.welcome_text.trim().is_empty() {
        parts.push(text(lang, "sources.welcome.greeting"));
    }
    if let Some(f) = &s.welcome_flow_id {
        let name = flows.iter().find(|c| &c.id == f).map(|c| c.name.as_str());
        let name = name.map_or_else(|| text(lang, "sources.welcome.flow_off"), str::to_string);
        parts.push(text_with(lang, "sources.welcome.flow", &[("name", &name)]));
    }
    let when = match s.welcome_every {
        0 => "sources.welcome.first",
        _ => "sources.welcome.every",
    };
    format!("{}（{}）", parts.join("・"), text(lang, when))
}

pub(super) async fn build(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let chs = channels(state, staff).await?;
    let mut c = conn(state).await?;
    let rows = sources::counted(&mut c, &staff.clinic.clinic_id()).await?;
    let flows = published_flows(&mut c, &staff.clinic.clinic_id()).await?;
    drop(c);
    let items: Vec<Item> = rows
        .into_iter()
        .map(|r| Item {
            welcome: welcome_words(lang, &r.source, &flows),
            link: link_of(state, &chs, &r.source),
            via_login: chs.iter().any(|c| {
                c.id == r.source.channel_id && c.kind == "line" && !c.login_channel_id.is_empty()
            }),
            channel: chs
                .iter()
                .find(|c| c.id == r.source.channel_id)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| text(lang, "sources.channel_gone")),
            id: r.source.id,
            name: r.source.name,
            code: r.source.code,
            tag: r.source.tag,
            added: r.added,
            messages: r.messages,
            following: r.following,
        })
        .collect();
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "sources.title"),
        csrf_token => &staff.csrf_token, sources => items, channels => chs, error, notice, flows,
        callback_url => line_login::callback_url(&state.settings.public_base()),
    };
    render(state, "settings/sources.html", ctx)
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let notice = q
        .saved
        .filter(|k| {
            [
                "created",
                "address",
                "updated",
                "deleted",
                "login",
                "login_removed",
            ]
            .contains(&k.as_str())
        })
        .map(|k| text(staff.lang, &format!("sources.saved.{k}")));
    build(&state, &staff, None, notice).await
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<SourceForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let lang = staff.lang;
    let chs = channels(&state, &staff).await?;
    let known = chs.iter().any(|c| c.id == form.channel_id);
    let checked = match source_edits::check(&form.name, &form.tag) {
        Ok(c) if known => c,
        _ => {
            let html = build(&state, &staff, Some(text(lang, "sources.invalid")), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    let (name, tag) = (checked.name.as_str(), checked.tag.as_str());
    let clinic = staff.clinic.clinic_id();
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let (text_in, flow) = (&form.welcome_text, Some(form.welcome_flow_id.as_str()));
    let every = form.welcome_every == "1";
    let welcome = source_edits::check_welcome(tx.conn(), &clinic, text_in, flow, every).await?;
    let Ok(welcome) = welcome else {
        drop(tx);
        let html = build(
            &state,
            &staff,
            Some(text(lang, "sources.invalid_welcome")),
            None,
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let id = sources::create(tx.conn(), &clinic, &form.channel_id, name, tag, now).await?;
    source_edits::set_welcome(tx.conn(), &clinic, &id, &welcome).await?;
    let subject = ("inflow_source", &[id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "inflow_source.create",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=created")).into_response())
}

/// The channel's public address (LINE basic id `@xxxx`, a number), which its links open.
pub async fn set_address(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(channel): Path<String>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let chs = channels(&state, &staff).await?;
    let Some(ch) = chs.iter().find(|c| c.id == channel) else {
        return Err(PageError::not_found());
    };
    let typed = form.get("address").map(String::as_str).unwrap_or_default();
    let Ok(address) = source_edits::check_address(&ch.kind, typed) else {
        let err = text(staff.lang, &format!("sources.invalid_address.{}", ch.kind));
        let html = build(&state, &staff, Some(err), None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    sources::set_address(tx.conn(), &clinic, &channel, &address, state.now_ms()).await?;
    let subject = ("channel", &[channel.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "inflow_source.address",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=address")).into_response())
}

/// The source, its chat link (none while its channel has no address) and its channel's kind.
async fn source_and_link(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<(sources::Source, Option<String>, String), PageError> {
    let mut c = conn(state).await?;
    let s = sources::get(&mut c, &staff.clinic.clinic_id(), id).await?;
    drop(c);
    let s = s.ok_or_else(PageError::not_found)?;
    let chs = channels(state, staff).await?;
    let link = link_of(state, &chs, &s);
    let kind = chs
        .iter()
        .find(|c| c.id == s.channel_id)
        .map(|c| c.kind.clone())
        .unwrap_or_default();
    Ok((s, link, kind))
}

/// `sources.csv`: per source and clinic-local day, patients added and messages (counts only,
/// no patient data), for a spreadsheet.
pub async fn export(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let tz: chrono_tz::Tz = staff
        .clinic
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let mut c = conn(&state).await?;
    let all = sources::list(&mut c, &clinic).await?;
    let days = sources::per_day(&mut c, &clinic, tz).await?;
    drop(c);
    let csv = source_edits::csv(&text(staff.lang, "sources.csv.header"), &all, &days);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sources.csv\"",
            ),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        csv,
    )
        .into_response())
}

/// The A4 page to print: the clinic's name, the QR code and a line saying what to do.
pub async fn print(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let (s, link, kind) = source_and_link(&state, &staff, &id).await?;
    let lang = staff.lang;
    let heading = text(lang, &format!("sources.poster.title.{kind}"));
    let login_prefix = line_login::source_url(&state.settings.public_base(), "");
    let via_login = link
        .as_deref()
        .is_some_and(|l| l.starts_with(&login_prefix));
    // Messenger opens the chat with no words to send: a new person taps はじめる instead; LINE
    // Login asks to log in and add the friend.
    let how = match kind.as_str() {
        _ if via_login => text(lang, "sources.poster.how_login"),
        "messenger" => text(lang, "sources.poster.how_messenger"),
        _ => text(lang, "sources.poster.how"),
    };
    let ctx = minijinja::context! {
        lang, title => s.name.clone(), clinic => &staff.clinic.name, source => s, link, heading,
        how,
    };
    render(&state, "settings/source_print.html", ctx)
}

/// The QR code of the source's link as an SVG (404 while the channel has no address).
pub async fn qr(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let (_, link, _) = source_and_link(&state, &staff, &id).await?;
    let link = link.ok_or_else(PageError::not_found)?;
    let code = QrCode::encode_text(&link, QrCodeEcc::Medium).map_err(|_| PageError::not_found())?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        svg(&code),
    )
        .into_response())
}

/// The QR code as an SVG path, with the four-module quiet zone the standard asks for.
pub(crate) fn svg(code: &QrCode) -> String {
    const QUIET: i32 = 4;
    let size = code.size();
    let full = size + 2 * QUIET;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET, y + QUIET));
            }
        }
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_has_a_quiet_zone_and_a_module_per_dark_square() {
        let code = QrCode::encode_text(
            "https://line.me/R/oaMessage/%40sakura/?a",
            QrCodeEcc::Medium,
        )
        .unwrap_or_else(|_| panic!("encodes"));
        let s = svg(&code);
        let full = code.size() + 8;
        assert!(s.contains(&format!("viewBox=\"0 0 {full} {full}\"")));
        // The top-left finder pattern starts at the quiet zone's edge.
        assert!(s.contains("M4,4h1v1h-1z"));
        assert!(!s.contains("<script"));
    }
}
