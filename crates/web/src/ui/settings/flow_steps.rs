//! `/app/settings/flows/{id}`: one flow's draft as an ordered list of step cards, each its own
//! form (type, text, options with their next step, validation, the field/tag/team/priority),
//! moved up or down, deleted, or added at the end. Steps are named to staff by their number;
//! an option's or a branch's next step is typed as `ラベル → 3`.
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_automation::flows::definition::{Answer, Case, Definition, Opt, Step, StepKind};
use tsunagu_automation::flows::store;
use tsunagu_core::Permission;

use super::audit_change;
use super::flows::{check_url, messages, problem_text, Empty, PageQuery, PAGE};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

pub const KINDS: [&str; 10] = [
    "message",
    "ask",
    "branch",
    "set_field",
    "tag",
    "set_priority",
    "assign_team",
    "webhook",
    "handover",
    "end",
];
const ANSWERS: [&str; 5] = ["text", "choice", "date", "number", "photo"];

fn kind_of(k: &StepKind) -> &'static str {
    match k {
        StepKind::Message { .. } => "message",
        StepKind::Ask { .. } => "ask",
        StepKind::Branch { .. } => "branch",
        StepKind::SetField { .. } => "set_field",
        StepKind::Tag { .. } => "tag",
        StepKind::SetPriority { .. } => "set_priority",
        StepKind::AssignTeam { .. } => "assign_team",
        StepKind::Webhook { .. } => "webhook",
        StepKind::Handover { .. } => "handover",
        StepKind::End { .. } => "end",
    }
}

/// A step's form as shown and as posted; every field is text, unused ones empty.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct StepForm {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub answer: String,
    /// One option per line: `ラベル` or `ラベル → 3`.
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub min: String,
    #[serde(default)]
    pub max: String,
    #[serde(default)]
    pub on: String,
    /// One case per line: `値 → 3`.
    #[serde(default)]
    pub cases: String,
    #[serde(default)]
    pub otherwise: String,
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub team: String,
    #[serde(default)]
    pub url: String,
    /// The next step's number (empty: the next in the list).
    #[serde(default)]
    pub next: String,
}

fn num_of(def: &Definition, id: &str) -> String {
    def.index(id)
        .map(|i| (i + 1).to_string())
        .unwrap_or_default()
}

/// `3` → the third step's id (an unknown number stays as typed, shown as a problem).
fn id_of(def: &Definition, n: &str) -> Option<String> {
    let n = n.trim();
    if n.is_empty() {
        return None;
    }
    Some(
        n.parse::<usize>()
            .ok()
            .and_then(|i| def.steps.get(i.wrapping_sub(1)))
            .map(|s| s.id.clone())
            .unwrap_or_else(|| format!("#{n}")),
    )
}

fn split_arrow(line: &str) -> (String, Option<String>) {
    let line = line.trim();
    for arrow in ["→", "->", "=>"] {
        if let Some((a, b)) = line.split_once(arrow) {
            return (a.trim().to_string(), Some(b.trim().to_string()));
        }
    }
    (line.to_string(), None)
}

fn num_text(n: f64) -> String {
    tsunagu_automation::flows::input::number_text(n)
}

impl StepForm {
    pub fn of(def: &Definition, s: &Step) -> StepForm {
        let mut f = StepForm {
            next: s
                .next
                .as_deref()
                .map(|n| num_of(def, n))
                .unwrap_or_default(),
            ..StepForm::default()
        };
        match &s.kind {
            StepKind::Message { text } | StepKind::Handover { text } | StepKind::End { text } => {
                f.text = text.clone()
            }
            StepKind::Ask { text, key, answer } => {
                f.text = text.clone();
                f.key = key.clone();
                match answer {
                    Answer::Text => f.answer = "text".into(),
                    Answer::Date => f.answer = "date".into(),
                    Answer::Photo => f.answer = "photo".into(),
                    Answer::Number { min, max } => {
                        f.answer = "number".into();
                        f.min = min.map(num_text).unwrap_or_default();
                        f.max = max.map(num_text).unwrap_or_default();
                    }
                    Answer::Choice { options } => {
                        f.answer = "choice".into();
                        f.options = options
                            .iter()
                            .map(|o| match &o.next {
                                Some(n) => format!("{} → {}", o.label, num_of(def, n)),
                                None => o.label.clone(),
                            })
                            .collect::<Vec<_>>()
                            .join("\n");
                    }
                }
            }
            StepKind::Branch {
                on,
                cases,
                otherwise,
            } => {
                f.on = on.clone();
                f.cases = cases
                    .iter()
                    .map(|c| format!("{} → {}", c.equals, num_of(def, &c.next)))
                    .collect::<Vec<_>>()
                    .join("\n");
                f.otherwise = otherwise
                    .as_deref()
                    .map(|o| num_of(def, o))
                    .unwrap_or_default();
            }
            StepKind::SetField { field, from } => {
                f.field = field.clone();
                f.from = from.clone();
            }
            StepKind::Tag { tag } => f.tag = tag.clone(),
            StepKind::SetPriority { priority } => f.priority = priority.clone(),
            StepKind::AssignTeam { team } => f.team = team.clone(),
            StepKind::Webhook { url } => f.url = url.clone(),
        }
        f
    }

    /// The step of kind `kind` this form describes (the draft's problems say what is wrong).
    pub fn kind(&self, def: &Definition, kind: &str) -> StepKind {
        let text = self.text.replace("\r\n", "\n").trim().to_string();
        match kind {
            "ask" => {
                let answer = match self.answer.as_str() {
                    "choice" => Answer::Choice {
                        options: self
                            .options
                            .lines()
                            .filter(|l| !l.trim().is_empty())
                            .map(|l| {
                                let (label, next) = split_arrow(l);
                                Opt {
                                    label,
                                    next: next.and_then(|n| id_of(def, &n)),
                                }
                            })
                            .collect(),
                    },
                    "date" => Answer::Date,
                    "number" => Answer::Number {
                        min: self.min.trim().parse().ok(),
                        max: self.max.trim().parse().ok(),
                    },
                    "photo" => Answer::Photo,
                    _ => Answer::Text,
                };
                StepKind::Ask {
                    text,
                    key: self.key.trim().to_string(),
                    answer,
                }
            }
            "branch" => StepKind::Branch {
                on: self.on.trim().to_string(),
                cases: self
                    .cases
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| {
                        let (equals, next) = split_arrow(l);
                        Case {
                            equals,
                            next: next.and_then(|n| id_of(def, &n)).unwrap_or_default(),
                        }
                    })
                    .collect(),
                otherwise: id_of(def, &self.otherwise),
            },
            "set_field" => StepKind::SetField {
                field: self.field.trim().to_string(),
                from: self.from.trim().to_string(),
            },
            "tag" => StepKind::Tag {
                tag: self.tag.trim().to_string(),
            },
            "set_priority" => StepKind::SetPriority {
                priority: self.priority.trim().to_string(),
            },
            "assign_team" => StepKind::AssignTeam {
                team: self.team.trim().to_string(),
            },
            "webhook" => StepKind::Webhook {
                url: self.url.trim().to_string(),
            },
            "handover" => StepKind::Handover { text },
            "end" => StepKind::End { text },
            _ => StepKind::Message { text },
        }
    }
}

/// A new step of `kind` with words to start from.
fn new_step(def: &Definition, kind: &str) -> Step {
    let n = (1..)
        .find(|n| def.index(&format!("s{n}")).is_none())
        .unwrap_or(1);
    let id = format!("s{n}");
    let text = |s: &str| s.to_string();
    let kind = match kind {
        "ask" => StepKind::Ask {
            text: text("ご質問の文を入力してください"),
            key: format!("回答{n}"),
            answer: Answer::Text,
        },
        "branch" => StepKind::Branch {
            on: String::new(),
            cases: Vec::new(),
            otherwise: None,
        },
        "set_field" => StepKind::SetField {
            field: String::new(),
            from: String::new(),
        },
        "tag" => StepKind::Tag { tag: String::new() },
        "set_priority" => StepKind::SetPriority {
            priority: "high".into(),
        },
        "assign_team" => StepKind::AssignTeam {
            team: String::new(),
        },
        "webhook" => StepKind::Webhook { url: String::new() },
        "handover" => StepKind::Handover {
            text: text("スタッフにおつなぎします。このままお待ちください。"),
        },
        "end" => StepKind::End {
            text: text("ありがとうございました。"),
        },
        _ => StepKind::Message {
            text: text("メッセージを入力してください"),
        },
    };
    Step {
        id,
        kind,
        next: None,
    }
}

#[derive(Serialize)]
struct Card {
    n: usize,
    kind: &'static str,
    kind_label: String,
    form: StepForm,
    last: bool,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

fn choices(lang: &str, prefix: &str, values: &[&str]) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: v.to_string(),
            label: text(lang, &format!("{prefix}.{v}")),
        })
        .collect()
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Reply)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    let flow = store::get(&mut c, &clinic, &id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let teams = tsunagu_inbox::routing::teams::list(&mut c, &clinic).await?;
    let fields = tsunagu_contacts::fields::list(&mut c, &clinic).await?;
    let secret = store::webhook_secret(&mut c, &clinic, &id).await?;
    drop(c);
    let can_edit = staff.can(Permission::Administer);
    // The signing key, for the receiver's checks: administrators only.
    let secret = secret
        .filter(|_| can_edit)
        .and_then(|s| state.cipher.decrypt(&s).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let def = flow.draft();
    let n = def.steps.len();
    let cards: Vec<Card> = def
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| Card {
            n: i + 1,
            kind: kind_of(&s.kind),
            kind_label: text(lang, &format!("flows.kind.{}", kind_of(&s.kind))),
            form: StepForm::of(&def, s),
            last: i + 1 == n,
        })
        .collect();
    let problems: Vec<String> = def.check().iter().map(|p| problem_text(lang, p)).collect();
    let team_choices: Vec<Choice> = teams
        .iter()
        .map(|t| Choice {
            value: t.id.clone(),
            label: t.name.clone(),
        })
        .collect();
    let field_choices: Vec<Choice> = fields
        .iter()
        .map(|f| Choice {
            value: f.key.clone(),
            label: f.label_ja.clone(),
        })
        .collect();
    let (notice, error) = messages(lang, &q);
    let ctx = minijinja::context! {
        lang, shell => shell(&state, &staff, "settings").await?, title => flow.name.clone(),
        action => format!("{PAGE}/{id}"), list => PAGE, csrf_token => &staff.csrf_token,
        flow => minijinja::context! {
            id => flow.id, name => flow.name, enabled => flow.is_enabled(),
            version => flow.published_version,
        },
        settings => minijinja::context! {
            timeout_minutes => def.timeout_minutes, max_tries => def.max_tries,
            timeout_text => def.timeout_text, completed_webhook => def.completed_webhook,
        },
        cards, problems, can_edit, secret, notice, error,
        kinds => choices(lang, "flows.kind", &KINDS),
        answers => choices(lang, "flows.answer", &ANSWERS),
        priorities => choices(lang, "flows.priority", &["urgent", "high", "normal", "low"]),
        teams => team_choices, fields => field_choices,
    };
    render(&state, "settings/flow_edit.html", ctx)
}

/// Loads the draft, changes it, saves it with its audit entry; where to go after.
async fn change(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: &str,
    saved: &str,
    f: impl FnOnce(&mut Definition) -> bool,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let flow = store::get(tx.conn(), &clinic, id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let mut def = flow.draft();
    if !f(&mut def) {
        return Err(PageError::not_found());
    }
    store::save_draft(tx.conn(), &clinic, id, &flow.name, &def, state.now_ms()).await?;
    let subject = ("flow", &[id][..]);
    audit_change(&mut tx, state, staff, ip, "flow.update", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}/{id}?saved={saved}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    pub kind: String,
}

pub async fn add(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> Result<Response, PageError> {
    let kind = KINDS
        .iter()
        .find(|k| **k == form.kind)
        .copied()
        .unwrap_or("message");
    change(&state, &staff, &ip, &id, "step_added", |def| {
        if def.steps.len() >= tsunagu_automation::flows::definition::MAX_STEPS {
            return true; // shown as a problem: nothing added
        }
        let step = new_step(def, kind);
        def.steps.push(step);
        true
    })
    .await
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path((id, n)): Path<(String, usize)>,
    CsrfForm(form): CsrfForm<StepForm>,
) -> Result<Response, PageError> {
    if !form.url.trim().is_empty() {
        if let Err(code) = check_url(&state, form.url.trim()).await {
            let to = format!("{PAGE}/{id}?error={}", code.as_str());
            return Ok(Redirect::to(&to).into_response());
        }
    }
    change(&state, &staff, &ip, &id, "step", |def| {
        let Some(i) = n.checked_sub(1).filter(|i| *i < def.steps.len()) else {
            return false;
        };
        let kind = form.kind(def, kind_of(&def.steps[i].kind));
        let next = id_of(def, &form.next);
        def.steps[i].kind = kind;
        def.steps[i].next = next;
        true
    })
    .await
}

pub async fn move_up(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path((id, n)): Path<(String, usize)>,
    CsrfForm(_): CsrfForm<StepForm>,
) -> Result<Response, PageError> {
    change(&state, &staff, &ip, &id, "step", |def| {
        if n < 2 || n > def.steps.len() {
            return n >= 1 && n <= def.steps.len();
        }
        def.steps.swap(n - 2, n - 1);
        true
    })
    .await
}

pub async fn move_down(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path((id, n)): Path<(String, usize)>,
    CsrfForm(_): CsrfForm<StepForm>,
) -> Result<Response, PageError> {
    change(&state, &staff, &ip, &id, "step", |def| {
        if n == 0 || n > def.steps.len() {
            return false;
        }
        if n < def.steps.len() {
            def.steps.swap(n - 1, n);
        }
        true
    })
    .await
}

pub async fn remove(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path((id, n)): Path<(String, usize)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    change(&state, &staff, &ip, &id, "step_deleted", |def| {
        if n == 0 || n > def.steps.len() {
            return false;
        }
        def.steps.remove(n - 1);
        true
    })
    .await
}
