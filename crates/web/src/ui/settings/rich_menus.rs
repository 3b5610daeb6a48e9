//! `/app/settings/rich-menus` (リッチメニュー): the clinic's LINE rich menus with their states,
//! a new draft, the tag rules ("patients tagged X get menu Y") and the batch relinks' progress.
//! Each menu's own page (`rich_menu_edit`) takes its image, areas, publishing and default.
//! Every change is audited; a refusal comes back as `?error=<code>` and reads as its words.
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_automation::richmenu::{self, Draft};
use tsunagu_channels::line::richmenu::TEMPLATE_SIZES;
use tsunagu_core::{ChannelId, Code, Permission, Refusal};

use super::audit_change;
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

pub(super) const PAGE: &str = "/app/settings/rich-menus";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
    pub error: Option<String>,
}

/// The notice and error a redirect named, read only from known keys and codes.
pub(super) fn messages(lang: &str, q: &PageQuery) -> (Option<String>, Option<String>) {
    const SAVED: [&str; 9] = [
        "created",
        "updated",
        "image",
        "areas",
        "publishing",
        "default",
        "deleted",
        "rule",
        "rule_deleted",
    ];
    let notice = q
        .saved
        .as_deref()
        .filter(|k| SAVED.contains(k))
        .map(|k| text(lang, &format!("richmenu.saved.{k}")));
    let error = q
        .error
        .as_deref()
        .and_then(Code::parse)
        .map(|c| i18n::code(lang, c));
    (notice, error)
}

pub(super) fn refused(to: &str, r: &Refusal) -> Response {
    Redirect::to(&format!("{to}?error={}", r.code.as_str())).into_response()
}

#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    channel: String,
    chat_bar_text: String,
    size: String,
    state: String,
    state_label: String,
    failure: Option<String>,
    is_default: bool,
    has_image: bool,
    areas: usize,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    let channels: Vec<_> = tsunagu_store::channels::list(&mut c, &clinic)
        .await?
        .into_iter()
        .filter(|ch| ch.kind == "line")
        .collect();
    let menus = richmenu::list(&mut c, &clinic).await?;
    let rules = richmenu::rules(&mut c, &clinic).await?;
    let field_rules = richmenu::field_rules(&mut c, &clinic).await?;
    let fields = tsunagu_contacts::fields::list(&mut c, &clinic).await?;
    let batches = richmenu::batches_of(&mut c, &clinic).await?;
    drop(c);
    let channel_name = |id: &str| {
        channels
            .iter()
            .find(|ch| ch.id == id)
            .map(|ch| ch.name.clone())
            .unwrap_or_default()
    };
    let rows: Vec<Row> = menus
        .iter()
        .map(|m| Row {
            id: m.id.clone(),
            name: m.name.clone(),
            channel: channel_name(&m.channel_id),
            chat_bar_text: m.chat_bar_text.clone(),
            size: format!("{} × {}", m.width, m.height),
            state: m.state.clone(),
            state_label: text(lang, &format!("richmenu.state.{}", m.state)),
            failure: m
                .failure_code
                .as_deref()
                .and_then(Code::parse)
                .map(|c| i18n::code(lang, c)),
            is_default: m.is_default == 1,
            has_image: m.image_type.is_some(),
            areas: m.areas().len(),
        })
        .collect();
    let menu_choices: Vec<Choice> = menus
        .iter()
        .map(|m| Choice {
            value: m.id.clone(),
            label: format!("{}（{}）", m.name, channel_name(&m.channel_id)),
        })
        .collect();
    let sizes: Vec<Choice> = TEMPLATE_SIZES
        .iter()
        .map(|(w, h)| Choice {
            value: format!("{w}x{h}"),
            label: text(lang, &format!("richmenu.size.{w}x{h}")),
        })
        .collect();
    let channel_choices: Vec<Choice> = channels
        .iter()
        .map(|ch| Choice {
            value: ch.id.clone(),
            label: ch.name.clone(),
        })
        .collect();
    let batch_rows: Vec<_> = batches
        .iter()
        .map(|b| {
            let menu = menus
                .iter()
                .find(|m| m.id == b.rich_menu_id)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            minijinja::context! {
                menu, phase => text(lang, &format!("richmenu.batch.{}", b.phase)),
                done => b.phase != "ongoing",
            }
        })
        .collect();
    // A field's name in the staff's language; a deleted field is said so.
    let field_label = |key: &str| {
        fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| {
                if lang == "ja" {
                    f.label_ja.clone()
                } else {
                    f.label_en.clone()
                }
            })
            .unwrap_or_else(|| text(lang, "richmenu.field_rules.deleted_field"))
    };
    let field_rule_rows: Vec<_> = field_rules
        .iter()
        .map(|r| {
            minijinja::context! {
                id => r.id, field => field_label(&r.field_key), value => r.value,
                menu_name => r.menu_name,
            }
        })
        .collect();
    let field_choices: Vec<Choice> = fields
        .iter()
        .map(|f| Choice {
            value: f.key.clone(),
            label: field_label(&f.key),
        })
        .collect();
    let (notice, error) = messages(lang, &q);
    let ctx = minijinja::context! {
        field_rules => field_rule_rows, field_choices,
        lang, shell => shell(&state, &staff, "settings").await?, title => text(lang, "richmenu.title"),
        action => PAGE, csrf_token => &staff.csrf_token, menus => rows, rules, menu_choices,
        sizes, channels => channel_choices, batches => batch_rows, notice, error,
    };
    render(&state, "settings/rich_menus.html", ctx)
}

#[derive(Debug, Default, Deserialize)]
pub struct NewMenu {
    #[serde(default)]
    pub channel_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub chat_bar_text: String,
    #[serde(default)]
    pub size: String,
    #[serde(default)]
    pub alias_id: String,
}

/// `2500x843` → (2500, 843).
pub(super) fn parse_size(s: &str) -> (u32, u32) {
    let (w, h) = s.split_once('x').unwrap_or(("0", "0"));
    (w.parse().unwrap_or(0), h.parse().unwrap_or(0))
}

pub(super) fn alias(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<NewMenu>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let (width, height) = parse_size(&form.size);
    let draft = Draft {
        name: form.name,
        chat_bar_text: form.chat_bar_text,
        width,
        height,
        alias_id: alias(&form.alias_id),
    };
    let channel = ChannelId::from_db(form.channel_id);
    let mut tx = state.db.begin().await?;
    let id = match richmenu::create(tx.conn(), &clinic, &channel, &draft, state.now_ms()).await? {
        Ok(id) => id,
        // Another clinic's channel, or none: not a form mistake to show inline.
        Err(r) if r.code == Code::ChannelMissing => return Err(Code::ChannelMissing.into()),
        Err(r) => return Ok(refused(PAGE, &r)),
    };
    let subject = ("rich_menu", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "rich_menu.create", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}/{id}?saved=created")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub rich_menu_id: String,
}

pub async fn add_rule(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let now = state.now_ms();
    let id =
        match richmenu::add_rule(tx.conn(), &clinic, &form.rich_menu_id, &form.tag, now).await? {
            Ok(id) => id,
            Err(r) if r.code == Code::NotFound => return Err(PageError::not_found()),
            Err(r) => return Ok(refused(PAGE, &r)),
        };
    let subject = ("rich_menu_rule", &[id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "rich_menu.rule_create",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=rule")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn delete_rule(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !richmenu::delete_rule(tx.conn(), &clinic, &id, state.now_ms()).await? {
        return Err(PageError::not_found());
    }
    let subject = ("rich_menu_rule", &[id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "rich_menu.rule_delete",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=rule_deleted")).into_response())
}
