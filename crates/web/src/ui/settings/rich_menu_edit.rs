//! `/app/settings/rich-menus/{id}`: one rich menu: its details, its image (checked as LINE
//! would: PNG/JPEG, ≤ 1 MB, the menu's size), its tappable areas (drawn over the image by
//! `static/richmenu.js`, saved as LINE's area objects), publishing and the default switch.
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_automation::richmenu::{self, Draft};
use tsunagu_channels::line::richmenu::Area;
use tsunagu_core::{Code, Permission, Refusal};

use super::audit_change;
use super::rich_menus::{alias, messages, refused, PageQuery, PAGE};
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::patients::multipart::CsrfMultipart;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    let Some(menu) = richmenu::get(&mut c, &clinic, &id).await? else {
        return Err(PageError::not_found());
    };
    // The tabs this menu's areas may switch to: the channel's other menus with an alias.
    let aliases: Vec<_> = richmenu::list(&mut c, &clinic)
        .await?
        .into_iter()
        .filter(|m| m.channel_id == menu.channel_id && m.id != menu.id)
        .filter_map(|m| {
            m.alias_id
                .map(|a| minijinja::context! { value => a, label => m.name })
        })
        .collect();
    drop(c);
    let (mut notice, error) = messages(lang, &q);
    // Reloaded after publishing: say how it went, not that it is still going.
    if q.saved.as_deref() == Some("publishing") && menu.state != "publishing" {
        notice = (menu.state == "published").then(|| text(lang, "richmenu.saved.published"));
    }
    let failure = menu
        .failure_code
        .as_deref()
        .and_then(Code::parse)
        .map(|c| i18n::code(lang, c));
    let state_label = text(lang, &format!("richmenu.state.{}", menu.state));
    let areas_json = serde_json::to_string(&menu.areas()).unwrap_or_else(|_| "[]".into());
    let ctx = minijinja::context! {
        lang, shell => shell(&state, &staff, "settings").await?, title => menu.name.clone(),
        action => format!("{PAGE}/{}", menu.id), back => PAGE, csrf_token => &staff.csrf_token,
        has_image => menu.image_type.is_some(), areas_json, aliases, state_label, failure,
        is_default => menu.is_default == 1, menu, notice, error,
    };
    render(&state, "settings/rich_menu_edit.html", ctx)
}

/// The stored image, for the page (same origin, so the strict CSP allows it).
pub async fn image(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let mut c = conn(&state).await?;
    let Some((content_type, bytes)) =
        richmenu::image(&mut c, &staff.clinic.clinic_id(), &id).await?
    else {
        return Err(PageError::not_found());
    };
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub chat_bar_text: String,
    #[serde(default)]
    pub alias_id: String,
}

/// Runs one change in a transaction with its audit entry, then back to the menu's page.
async fn change<F>(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: &str,
    (action, saved): (&str, &str),
    f: F,
) -> Result<Response, PageError>
where
    F: for<'c> FnOnce(
        &'c mut sqlx::AnyConnection,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = anyhow::Result<Result<(), Refusal>>> + Send + 'c>,
    >,
{
    staff.require(Permission::Administer)?;
    let to = format!("{PAGE}/{id}");
    let mut tx = state.db.begin().await?;
    if let Err(r) = f(tx.conn()).await? {
        if r.code == Code::NotFound {
            return Err(PageError::not_found());
        }
        return Ok(refused(&to, &r));
    }
    audit_change(&mut tx, state, staff, ip, action, ("rich_menu", &[id])).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{to}?saved={saved}")).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<DetailsForm>,
) -> Result<Response, PageError> {
    let clinic = staff.clinic.clinic_id();
    let now = state.now_ms();
    let draft = Draft {
        name: form.name,
        chat_bar_text: form.chat_bar_text,
        alias_id: alias(&form.alias_id),
        ..Draft::default()
    };
    let menu = id.clone();
    change(
        &state,
        &staff,
        &ip,
        &id,
        ("rich_menu.update", "updated"),
        move |c| Box::pin(async move { richmenu::update(c, &clinic, &menu, &draft, now).await }),
    )
    .await
}

pub async fn upload(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    form: Result<CsrfMultipart, Response>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    // Another clinic's menu is not found, whatever the body.
    let mut c = conn(&state).await?;
    let mine = richmenu::get(&mut c, &clinic, &id).await?.is_some();
    drop(c);
    if !mine {
        return Err(PageError::not_found());
    }
    let form = match form {
        Ok(f) => f,
        Err(rejection) => return Ok(rejection),
    };
    let now = state.now_ms();
    let bytes = form.0.get("image").cloned().unwrap_or_default();
    let menu = id.clone();
    change(
        &state,
        &staff,
        &ip,
        &id,
        ("rich_menu.update", "image"),
        move |c| Box::pin(async move { richmenu::set_image(c, &clinic, &menu, &bytes, now).await }),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct AreasForm {
    #[serde(default)]
    pub areas: String,
}

pub async fn save_areas(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AreasForm>,
) -> Result<Response, PageError> {
    let clinic = staff.clinic.clinic_id();
    let now = state.now_ms();
    let menu = id.clone();
    let parsed: Result<Vec<Area>, _> = serde_json::from_str(&form.areas);
    change(
        &state,
        &staff,
        &ip,
        &id,
        ("rich_menu.update", "areas"),
        move |c| {
            Box::pin(async move {
                match parsed {
                    Ok(areas) => richmenu::set_areas(c, &clinic, &menu, areas, now).await,
                    Err(_) => Ok(Err(Refusal::new(Code::RichMenuActionInvalid))),
                }
            })
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn publish(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let clinic = staff.clinic.clinic_id();
    let now = state.now_ms();
    let menu = id.clone();
    change(
        &state,
        &staff,
        &ip,
        &id,
        ("rich_menu.publish", "publishing"),
        move |c| Box::pin(async move { richmenu::request_publish(c, &clinic, &menu, now).await }),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct DefaultForm {
    #[serde(default)]
    pub on: String,
}

pub async fn set_default(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<DefaultForm>,
) -> Result<Response, PageError> {
    let clinic = staff.clinic.clinic_id();
    let now = state.now_ms();
    let menu = id.clone();
    let on = form.on == "1";
    change(
        &state,
        &staff,
        &ip,
        &id,
        ("rich_menu.default", "default"),
        move |c| Box::pin(async move { richmenu::set_default(c, &clinic, &menu, on, now).await }),
    )
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !richmenu::delete_draft(tx.conn(), &clinic, &id).await? {
        return Err(PageError::not_found());
    }
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "rich_menu.delete",
        ("rich_menu", &[id.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=deleted")).into_response())
}
