//! `/app/settings/channels`: the clinic's provider accounts — what each serves, the webhook URL to
//! paste at the provider, events that arrived for addresses it does not serve — a form per kind
//! to connect one (stored like `POST /api/v1/channels`), and switching one on or off. Secrets go
//! in encrypted and are never shown again.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ChannelId, ClinicId, Code, Permission, Refusal};
use tsunagu_store::channels::{self, Channel, Endpoints, NewChannel};
use tsunagu_store::{flag, webhooks};

use super::channels_form::{self, ConnectForm, Draft, FieldView};
use super::{audit_change, render};
use crate::api::channels::base_url;
use crate::channel_setup;
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/channels";

#[derive(Deserialize)]
pub struct PageQuery {
    /// created | enabled | disabled: what was just done, for the notice.
    saved: Option<String>,
}

#[derive(Deserialize)]
pub struct EnabledForm {
    /// 1 to switch on, 0 to switch off.
    #[serde(default)]
    enabled: String,
}

#[derive(Serialize)]
struct ChannelItem {
    id: String,
    kind: String,
    kind_label: String,
    name: String,
    webhook_url: String,
    /// The phone numbers, pages or numbers it serves, as shown.
    endpoints: Vec<String>,
    api_base_url: String,
    enabled: bool,
    /// Its provider can show the patient 既読 (`Rules::marks_read`), and whether it is on.
    marks_read: bool,
    mark_read_on_open: bool,
    /// Webhook events for addresses this channel does not serve.
    unrouted: i64,
    templates_href: Option<String>,
}

#[derive(Serialize)]
struct KindForm {
    kind: &'static str,
    label: String,
    /// The kind's own fields, as its adapter describes them.
    fields: Vec<FieldView>,
}

/// A refused connect form: the error shown on the form of its kind.
struct Refused {
    why: Refusal,
    draft: Draft,
}

/// "LINE", "WhatsApp", "Messenger", "SMS (Twilio)"; an unknown kind as stored.
pub(super) fn kind_label(lang: &str, kind: &str) -> String {
    let key = format!("channels.kind.{kind}");
    let label = text(lang, &key);
    if label == key {
        kind.to_string()
    } else {
        label
    }
}

fn endpoint_lines(e: &Endpoints) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(w) = &e.waba_id {
        out.push(format!("WABA {w}"));
    }
    for p in &e.phone_numbers {
        out.push(match &p.display_phone_number {
            Some(d) => format!("{} ({d})", p.phone_number_id),
            None => p.phone_number_id.clone(),
        });
    }
    for p in &e.pages {
        out.push(match &p.name {
            Some(n) => format!("{} ({n})", p.page_id),
            None => p.page_id.clone(),
        });
    }
    out.extend(e.numbers.iter().cloned());
    if let Some(s) = &e.messaging_service_sid {
        out.push(format!("Messaging Service {s}"));
    }
    out
}

async fn items(
    state: &AppState,
    staff: &Staff,
    conn: &mut AnyConnection,
) -> Result<Vec<ChannelItem>, PageError> {
    let lang = staff.lang;
    let base = state.settings.public_base();
    let mut out = Vec::new();
    for c in channels::list(conn, &staff.clinic.clinic_id()).await? {
        let unrouted = webhooks::count_flagged(conn, &c.channel_id(), "unrouted").await?;
        let rules = ChannelKind::parse(&c.kind).map(|k| k.rules());
        let templates = rules.is_some_and(|r| r.templates);
        out.push(ChannelItem {
            kind_label: kind_label(lang, &c.kind),
            webhook_url: format!("{base}/webhooks/{}/{}", c.kind, c.id),
            endpoints: endpoint_lines(&c.endpoints()),
            enabled: flag(c.enabled),
            marks_read: rules.is_some_and(|r| r.marks_read),
            mark_read_on_open: flag(c.mark_read_on_open),
            unrouted,
            templates_href: templates.then(|| format!("{PAGE}/{}/templates", c.id)),
            api_base_url: c.api_base_url,
            id: c.id,
            kind: c.kind,
            name: c.name,
        });
    }
    Ok(out)
}

async fn build(
    state: &AppState,
    staff: &Staff,
    refused: Option<Refused>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let mut conn = crate::ui::conn(state).await?;
    let channels = items(state, staff, &mut conn).await?;
    drop(conn);
    let (error, draft) = match refused {
        Some(r) => (Some(i18n::refusal(lang, &r.why)), r.draft),
        None => (None, Draft::default()),
    };
    let kinds: Vec<KindForm> = ChannelKind::ALL
        .iter()
        .map(|&k| KindForm {
            kind: k.as_str(),
            label: kind_label(lang, k.as_str()),
            fields: channels_form::fields(lang, k, &draft),
        })
        .collect();
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "channels.title"),
        csrf_token => &staff.csrf_token, channels, kinds, draft, error, notice,
    };
    render(state, "settings/channels.html", ctx)
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
                "enabled",
                "disabled",
                "mark_read_on",
                "mark_read_off",
            ]
            .contains(&k.as_str())
        })
        .map(|k| text(staff.lang, &format!("channels.saved.{k}")));
    build(&state, &staff, None, notice).await
}

/// A channel checked and ready to store.
struct Prepared {
    kind: ChannelKind,
    name: String,
    creds: serde_json::Value,
    settings: String,
    api_base: String,
    data_base: Option<String>,
}

fn prepare(form: &ConnectForm) -> anyhow::Result<Result<Prepared, Refusal>> {
    let Some(kind) = ChannelKind::parse(&form.kind) else {
        return Ok(Err(Refusal::new(Code::InvalidKind)));
    };
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Ok(Err(Refusal::new(Code::InvalidChannelName)));
    }
    let typed = match form.credentials(kind) {
        Ok(typed) => typed,
        Err(code) => return Ok(Err(Refusal::new(code))),
    };
    let Ok(setup) = channel_setup::prepare(kind, Some(typed))? else {
        // What this kind needs, in the staff's words.
        let needed = format!("channels.credentials.{}", kind.as_str());
        return Ok(Err(
            Refusal::new(Code::InvalidCredentials).arg_key("needed", needed)
        ));
    };
    let given = Some(form.api_base_url.as_str());
    let Ok(api_base) = base_url(given, setup.default_api_base, "api_base_url") else {
        return Ok(Err(Refusal::new(Code::InvalidBaseUrl)));
    };
    // The form has no field for a separate content host: the provider's own.
    let data_base = setup.default_data_api_base.map(str::to_string);
    let settings = serde_json::to_string(&setup.endpoints)?;
    Ok(Ok(Prepared {
        kind,
        name: name.to_string(),
        creds: setup.creds,
        settings,
        api_base,
        data_base,
    }))
}

/// `POST /app/settings/channels`: connect a channel of the form's kind.
pub async fn create(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(form): CsrfForm<ConnectForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let checked = match prepare(&form)? {
        Ok(p) => {
            let typed = Some(form.api_base_url.as_str());
            match channel_setup::check_api_base(&state.settings, typed, &p.api_base).await {
                Ok(()) => Ok(p),
                Err(_) => Err(Refusal::new(Code::OutboundAddressRefused)),
            }
        }
        Err(why) => Err(why),
    };
    let p = match checked {
        Ok(p) => p,
        Err(why) => {
            let refused = Refused {
                why,
                draft: form.draft(),
            };
            let html = build(&state, &staff, Some(refused), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    let clinic: ClinicId = staff.clinic.clinic_id();
    let credentials_enc = state.cipher.encrypt_json(&p.creds);
    let mut tx = state.db.begin().await?;
    let id = channels::create(
        tx.conn(),
        NewChannel {
            clinic_id: &clinic,
            kind: p.kind.as_str(),
            name: &p.name,
            credentials_enc: &credentials_enc,
            api_base_url: &p.api_base,
            api_data_base_url: p.data_base.as_deref(),
            settings: &p.settings,
        },
        state.now_ms(),
    )
    .await?;
    let subject = ("channel", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.channel.create", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=created")).into_response())
}

/// `POST /app/settings/channels/{id}/enabled`: a disabled channel sends nothing (replies are
/// refused with `channel_disabled`).
pub async fn enable(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(form): CsrfForm<EnabledForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let id = ChannelId::parse(&id).map_err(|_| PageError::not_found())?;
    let on = form.enabled == "1";
    let mut tx = state.db.begin().await?;
    if !channels::set_enabled(tx.conn(), &staff.clinic.clinic_id(), &id, on).await? {
        return Err(PageError::not_found());
    }
    let action = if on {
        "ui.channel.enable"
    } else {
        "ui.channel.disable"
    };
    let subject = ("channel", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, action, subject).await?;
    tx.commit().await?;
    // Its webhooks see the change at once here (other instances within `channel_cache::TTL`).
    state.channel_cache.forget(&id);
    let done = if on { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("{PAGE}?saved={done}")).into_response())
}

/// The clinic's channel named in a settings path, or 404.
pub(super) async fn find(state: &AppState, staff: &Staff, id: &str) -> Result<Channel, PageError> {
    let id = ChannelId::parse(id).map_err(|_| PageError::not_found())?;
    let mut conn = crate::ui::conn(state).await?;
    channels::by_id(&mut conn, &staff.clinic.clinic_id(), &id)
        .await?
        .ok_or_else(PageError::not_found)
}
