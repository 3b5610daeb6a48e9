//! `/app/settings/event-rules`: event rules (自動ルール). The list in the order tried (move up or
//! down, on or off, delete; each rule in plain words with how often it ran), a form per rule
//! (when / if / then), and an empty state with an example. Administrators only; every change
//! audited in its transaction.
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_automation::event_rules::{store, Action, Condition, Invalid, Kind, Rule};
use tsunagu_core::{Permission, Priority};
use tsunagu_privacy::consent::Purpose;

use super::audit_change;
use super::event_rule_form::{Fields, ACTION_KINDS, CONDITION_KINDS};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/event-rules";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ValueForm {
    #[serde(default)]
    pub value: String,
}

#[derive(Clone, Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct Item {
    id: String,
    name: String,
    enabled: bool,
    stop_later: bool,
    when: String,
    conditions: Vec<String>,
    actions: Vec<String>,
    fired: i64,
    first: bool,
    last: bool,
}

/// The clinic's names for what a rule refers to (`team:<id>` → 看護チーム).
struct Names {
    lang: &'static str,
    refs: HashMap<String, String>,
    fields: Vec<Choice>,
    channels: Vec<Choice>,
    teams: Vec<Choice>,
    flows: Vec<Choice>,
    sequences: Vec<Choice>,
}

fn purposes(lang: &str) -> Vec<Choice> {
    Purpose::ALL
        .iter()
        .map(|p| Choice {
            value: format!("purpose:{}", p.code()),
            label: p.label(lang).into(),
        })
        .collect()
}

fn priorities(lang: &str) -> Vec<Choice> {
    [
        Priority::Urgent,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ]
    .iter()
    .map(|p| Choice {
        value: format!("priority:{}", p.as_str()),
        label: text(lang, &format!("event_rules.priority.{}", p.as_str())),
    })
    .collect()
}

impl Names {
    async fn load(state: &AppState, staff: &Staff) -> Result<Names, PageError> {
        let lang = staff.lang;
        let clinic = staff.clinic.clinic_id();
        let mut c = conn(state).await?;
        let choice = |prefix: &str, id: String, label: String| Choice {
            value: format!("{prefix}:{id}"),
            label,
        };
        let fields = tsunagu_contacts::fields::list(&mut c, &clinic)
            .await?
            .into_iter()
            .map(|f| {
                choice(
                    "field",
                    f.key,
                    if lang == "ja" { f.label_ja } else { f.label_en },
                )
            })
            .collect::<Vec<_>>();
        let channels = tsunagu_store::channels::list(&mut c, &clinic)
            .await?
            .into_iter()
            .map(|ch| choice("channel", ch.id, ch.name))
            .collect::<Vec<_>>();
        let teams = tsunagu_inbox::routing::teams::list(&mut c, &clinic)
            .await?
            .into_iter()
            .map(|t| choice("team", t.id, t.name))
            .collect::<Vec<_>>();
        let flows = tsunagu_automation::flows::store::list(&mut c, &clinic)
            .await?
            .into_iter()
            .map(|f| choice("flow", f.id, f.name))
            .collect::<Vec<_>>();
        let sequences = tsunagu_automation::sequences::store::list(&mut c, &clinic)
            .await?
            .into_iter()
            .map(|s| choice("sequence", s.sequence.id, s.sequence.name))
            .collect::<Vec<_>>();
        let mut refs = HashMap::new();
        for c in fields
            .iter()
            .chain(&channels)
            .chain(&teams)
            .chain(&flows)
            .chain(&sequences)
        {
            refs.insert(c.value.clone(), c.label.clone());
        }
        for c in purposes(lang).into_iter().chain(priorities(lang)) {
            refs.insert(c.value, c.label);
        }
        Ok(Names {
            lang,
            refs,
            fields,
            channels,
            teams,
            flows,
            sequences,
        })
    }

    fn of(&self, prefix: &str, id: &str) -> String {
        self.refs
            .get(&format!("{prefix}:{id}"))
            .cloned()
            .unwrap_or_else(|| text(self.lang, "event_rules.gone"))
    }

    fn when(&self, r: &Rule) -> String {
        let lang = self.lang;
        let mut s = text(
            lang,
            &format!("event_rules.when.{}", r.trigger.kind.as_str()),
        );
        if let Some(tag) = &r.trigger.tag {
            s.push_str(&text(lang, "event_rules.when.tag_only").replace("{tag}", tag));
        }
        if let Some(p) = &r.trigger.purpose {
            s.push_str(&format!("（{}）", self.of("purpose", p)));
        }
        match r.trigger.granted {
            Some(true) => s.push_str(&text(lang, "event_rules.when.granted_only")),
            Some(false) => s.push_str(&text(lang, "event_rules.when.withdrawn_only")),
            None => {}
        }
        s
    }

    fn condition(&self, c: &Condition) -> String {
        let t = |k: &str| text(self.lang, &format!("event_rules.cond.{k}"));
        match c {
            Condition::Tag { tag, has } => {
                t(if *has { "tag_has" } else { "tag_lacks" }).replace("{v}", tag)
            }
            Condition::Field { field, value } => format!("{}: {}", self.of("field", field), value),
            Condition::Channel { channel_id } => {
                format!("{}: {}", t("channel"), self.of("channel", channel_id))
            }
            Condition::Text { mode, value } => {
                format!("{}「{value}」", t(&format!("text_{}", mode.as_str())))
            }
            Condition::Time { from, to } => format!(
                "{} {:02}:{:02}〜{:02}:{:02}",
                t("time"),
                from / 60,
                from % 60,
                to / 60,
                to % 60
            ),
            Condition::Open { open } => t(if *open { "open" } else { "closed" }),
            Condition::Consent { purpose, allowed } => format!(
                "{}: {}",
                t(if *allowed {
                    "consent_allowed"
                } else {
                    "consent_refused"
                }),
                self.of("purpose", purpose)
            ),
            Condition::Verified { verified } => {
                t(if *verified { "verified" } else { "unverified" })
            }
        }
    }

    fn action(&self, a: &Action) -> String {
        let t = |k: &str| text(self.lang, &format!("event_rules.act.{k}"));
        match a {
            Action::Reply { text } => format!("{}「{text}」", t("reply")),
            Action::Tag { tag } => format!("{}「{tag}」", t("tag")),
            Action::Assign { team_id } => format!("{}: {}", t("assign"), self.of("team", team_id)),
            Action::Priority { priority } => {
                format!("{}: {}", t("priority"), self.of("priority", priority))
            }
            Action::StartFlow { flow_id } => {
                format!("{}: {}", t("start_flow"), self.of("flow", flow_id))
            }
            Action::Enroll { sequence_id } => {
                format!("{}: {}", t("enroll"), self.of("sequence", sequence_id))
            }
            Action::Webhook { url } => format!("{}: {url}", t("webhook")),
        }
    }
}

fn notice(lang: &str, saved: Option<String>) -> Option<String> {
    const KEYS: [&str; 6] = [
        "created", "updated", "enabled", "disabled", "moved", "deleted",
    ];
    saved
        .filter(|k| KEYS.contains(&k.as_str()))
        .map(|k| text(lang, &format!("event_rules.saved.{k}")))
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let names = Names::load(&state, &staff).await?;
    let mut c = conn(&state).await?;
    let rules = store::list(&mut c, &clinic).await?;
    let counts: HashMap<String, i64> = store::firing_counts(&mut c, &clinic)
        .await?
        .into_iter()
        .collect();
    drop(c);
    let n = rules.len();
    let items: Vec<Item> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| Item {
            id: r.id.clone(),
            name: r.name.clone(),
            enabled: r.enabled,
            stop_later: r.stop_later,
            when: names.when(r),
            conditions: r.conditions.iter().map(|c| names.condition(c)).collect(),
            actions: r.actions.iter().map(|a| names.action(a)).collect(),
            fired: counts.get(&r.id).copied().unwrap_or(0),
            first: i == 0,
            last: i + 1 == n,
        })
        .collect();
    let ctx = minijinja::context! {
        lang, shell => shell(&state, &staff, "settings").await?, title => text(lang, "event_rules.title"),
        csrf_token => &staff.csrf_token, rules => items, notice => notice(lang, q.saved),
    };
    render(&state, "settings/event_rules.html", ctx)
}

async fn edit_page(
    state: &AppState,
    staff: &Staff,
    id: Option<&str>,
    form: Fields,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let names = Names::load(state, staff).await?;
    let label = |prefix: &str, k: &str| Choice {
        value: k.into(),
        label: text(lang, &format!("event_rules.{prefix}.{k}")),
    };
    let kinds: Vec<Choice> = Kind::ALL
        .iter()
        .map(|k| label("when", k.as_str()))
        .collect();
    let cond_kinds: Vec<Choice> = CONDITION_KINDS.iter().map(|k| label("cond", k)).collect();
    let act_kinds: Vec<Choice> = ACTION_KINDS.iter().map(|k| label("act", k)).collect();
    let title = match id {
        Some(_) => form.name.clone(),
        None => text(lang, "event_rules.new"),
    };
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title, csrf_token => &staff.csrf_token,
        id, form, error, notice, kinds, cond_kinds, act_kinds,
        purposes => purposes(lang), priorities => priorities(lang), fields_list => names.fields,
        channels => names.channels, teams => names.teams, flows => names.flows, sequences => names.sequences,
    };
    render(state, "settings/event_rule_edit.html", ctx)
}

pub async fn new_page(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    edit_page(&state, &staff, None, Fields::blank(), None, None).await
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let mut c = conn(&state).await?;
    let rule = store::get(&mut c, &staff.clinic.clinic_id(), &id).await?;
    drop(c);
    let rule = rule.ok_or_else(PageError::not_found)?;
    let n = notice(staff.lang, q.saved);
    edit_page(&state, &staff, Some(&id), Fields::of(&rule), None, n).await
}

fn refused(lang: &str, e: &Invalid) -> String {
    text(lang, &format!("event_rules.invalid.{}", e.code))
}

/// Saves the form (`id` None: a new rule). The form again with the reason when refused.
async fn save(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: Option<&str>,
    form: HashMap<String, String>,
) -> Result<Response, PageError> {
    let fields = Fields::read(&form);
    let clinic = staff.clinic.clinic_id();
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let saved = match fields.draft() {
        Err(e) => Err(e),
        Ok(d) => match id {
            None => store::create(tx.conn(), &clinic, &state.cipher, d, now).await?,
            Some(id) => store::update(tx.conn(), &clinic, id, d, now)
                .await?
                .map(|done| if done { id.to_string() } else { String::new() }),
        },
    };
    let saved_id = match saved {
        Ok(s) if s.is_empty() => return Err(PageError::not_found()),
        Ok(s) => s,
        Err(e) => {
            drop(tx);
            let err = Some(refused(staff.lang, &e));
            let html = edit_page(state, staff, id, fields, err, None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    let action = if id.is_some() {
        "event_rule.update"
    } else {
        "event_rule.create"
    };
    audit_change(
        &mut tx,
        state,
        staff,
        ip,
        action,
        ("event_rule", &[saved_id.as_str()]),
    )
    .await?;
    tx.commit().await?;
    let what = if id.is_some() { "updated" } else { "created" };
    Ok(Redirect::to(&format!("{PAGE}?saved={what}")).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    save(&state, &staff, &ip, None, form).await
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    save(&state, &staff, &ip, Some(&id), form).await
}

/// `value`: `1` on, `0` off.
pub async fn set_enabled(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ValueForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let on = form.value == "1";
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !store::set_enabled(tx.conn(), &clinic, &id, on, state.now_ms()).await? {
        return Err(PageError::not_found());
    }
    let action = if on {
        "event_rule.enable"
    } else {
        "event_rule.disable"
    };
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        action,
        ("event_rule", &[id.as_str()]),
    )
    .await?;
    tx.commit().await?;
    let saved = if on { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("{PAGE}?saved={saved}")).into_response())
}

/// `value`: `up` or `down`, one place.
pub async fn shift(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ValueForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if store::get(tx.conn(), &clinic, &id).await?.is_none() {
        return Err(PageError::not_found());
    }
    let up = form.value == "up";
    if !store::shift(tx.conn(), &clinic, &id, up, state.now_ms()).await? {
        return Ok(Redirect::to(PAGE).into_response()); // already first or last
    }
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "event_rule.reorder",
        ("event_rule", &[id.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=moved")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<ValueForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !store::delete(tx.conn(), &clinic, &id).await? {
        return Err(PageError::not_found());
    }
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "event_rule.delete",
        ("event_rule", &[id.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=deleted")).into_response())
}
