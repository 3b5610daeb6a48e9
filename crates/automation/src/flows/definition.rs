//! A flow's definition: what the builder saves and a published version freezes (serde JSON,
//! `format` 1). Steps run in list order unless a step (or a chosen option) names its `next`.
use serde::{Deserialize, Serialize};

/// The format this code reads and writes; an older one would be migrated here.
pub const FORMAT: u32 = 1;
pub const DEFAULT_TIMEOUT_MINUTES: u32 = 30;
pub const DEFAULT_MAX_TRIES: u32 = 3;
/// LINE quick reply labels and WhatsApp reply buttons allow 20 characters.
pub const MAX_OPTION_LABEL: usize = 20;
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 10;
pub const MAX_STEPS: usize = 100;
pub const MAX_TEXT: usize = 1000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    #[serde(default = "format")]
    pub format: u32,
    /// A run nobody answers for this long ends politely (`timeout_text`).
    #[serde(default = "timeout")]
    pub timeout_minutes: u32,
    /// Invalid answers to one question before the conversation goes to a person.
    #[serde(default = "tries")]
    pub max_tries: u32,
    #[serde(default)]
    pub timeout_text: String,
    /// Where `flow.completed` is posted when a run completes (none: not posted).
    #[serde(default)]
    pub completed_webhook: Option<String>,
    pub steps: Vec<Step>,
}

fn format() -> u32 {
    FORMAT
}
fn timeout() -> u32 {
    DEFAULT_TIMEOUT_MINUTES
}
fn tries() -> u32 {
    DEFAULT_MAX_TRIES
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    #[serde(flatten)]
    pub kind: StepKind,
    /// The step after this one (none: the next in the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepKind {
    Message {
        text: String,
    },
    /// A question; the answer is kept under `key`.
    Ask {
        text: String,
        key: String,
        answer: Answer,
    },
    /// Goes on at the first case whose value equals an earlier answer (compared in
    /// `core::text::match_form`), else at `otherwise` (none: the next step).
    Branch {
        on: String,
        cases: Vec<Case>,
        #[serde(default)]
        otherwise: Option<String>,
    },
    /// A patient custom field (its key) from an answer.
    SetField {
        field: String,
        from: String,
    },
    Tag {
        tag: String,
    },
    /// low | normal | high | urgent
    SetPriority {
        priority: String,
    },
    /// A team by id.
    AssignTeam {
        team: String,
    },
    /// Posts `flow.step` with the answers so far.
    Webhook {
        url: String,
    },
    /// To a person: the conversation goes to staff and the run ends.
    Handover {
        text: String,
    },
    /// The closing text; the run completes.
    End {
        text: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub equals: String,
    pub next: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    Text,
    Choice {
        options: Vec<Opt>,
    },
    /// A date in the clinic's zone, stored as `YYYY-MM-DD`.
    Date,
    Number {
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
    },
    Photo,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Opt {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Why a definition cannot be saved or published (shown to staff in Japanese by the page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The step's position from 1 (0: the flow itself).
    pub step: usize,
    pub what: &'static str,
}

impl Definition {
    /// A new flow's draft: no steps, the default timeout and tries.
    pub fn empty() -> Definition {
        Definition {
            format: FORMAT,
            timeout_minutes: DEFAULT_TIMEOUT_MINUTES,
            max_tries: DEFAULT_MAX_TRIES,
            timeout_text: String::new(),
            completed_webhook: None,
            steps: Vec::new(),
        }
    }

    /// Every team a step assigns to, and every address a step or the completion posts to (the
    /// caller checks they are the clinic's and public).
    pub fn teams_and_urls(&self) -> (Vec<&str>, Vec<&str>) {
        let (mut teams, mut urls) = (Vec::new(), Vec::new());
        for s in &self.steps {
            match &s.kind {
                StepKind::AssignTeam { team } => teams.push(team.as_str()),
                StepKind::Webhook { url } => urls.push(url.as_str()),
                _ => {}
            }
        }
        urls.extend(self.completed_webhook.as_deref());
        (teams, urls)
    }

    pub fn parse(json: &str) -> anyhow::Result<Definition> {
        Ok(serde_json::from_str(json)?)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// Every problem, in step order; empty when the flow can run.
    pub fn check(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut p = |step: usize, what: &'static str| out.push(Problem { step, what });
        if self.steps.is_empty() {
            p(0, "no_steps");
        }
        if self.steps.len() > MAX_STEPS {
            p(0, "too_many_steps");
        }
        if !(1..=24 * 60).contains(&self.timeout_minutes) {
            p(0, "timeout");
        }
        if !(1..=10).contains(&self.max_tries) {
            p(0, "max_tries");
        }
        let known = |id: &str| self.steps.iter().any(|s| s.id == id);
        let mut keys: Vec<&str> = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            let n = i + 1;
            if s.id.trim().is_empty() || self.steps[..i].iter().any(|o| o.id == s.id) {
                p(n, "step_id");
            }
            if s.next.as_deref().is_some_and(|x| !known(x)) {
                p(n, "unknown_next");
            }
            let text_ok = |t: &str| !t.trim().is_empty() && t.chars().count() <= MAX_TEXT;
            match &s.kind {
                StepKind::Message { text }
                | StepKind::Handover { text }
                | StepKind::End { text } => {
                    if !text_ok(text) {
                        p(n, "text");
                    }
                }
                StepKind::Ask { text, key, answer } => {
                    if !text_ok(text) {
                        p(n, "text");
                    }
                    if key.trim().is_empty() || keys.contains(&key.as_str()) {
                        p(n, "answer_key");
                    }
                    keys.push(key);
                    match answer {
                        Answer::Choice { options } => {
                            if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&options.len()) {
                                p(n, "option_count");
                            }
                            for o in options {
                                let len = o.label.trim().chars().count();
                                if len == 0 || len > MAX_OPTION_LABEL {
                                    p(n, "option_label");
                                }
                                if o.next.as_deref().is_some_and(|x| !known(x)) {
                                    p(n, "unknown_next");
                                }
                            }
                        }
                        Answer::Number {
                            min: Some(lo),
                            max: Some(hi),
                        } if lo > hi => p(n, "number_range"),
                        _ => {}
                    }
                }
                StepKind::Branch {
                    on,
                    cases,
                    otherwise,
                } => {
                    // An earlier answer, or a parameter the code that starts the flow gives.
                    if on.trim().is_empty() {
                        p(n, "branch_on");
                    }
                    if cases.iter().any(|c| !known(&c.next))
                        || otherwise.as_deref().is_some_and(|x| !known(x))
                    {
                        p(n, "unknown_next");
                    }
                }
                StepKind::SetField { field, from } => {
                    if field.trim().is_empty() || !keys.contains(&from.as_str()) {
                        p(n, "set_field");
                    }
                }
                StepKind::Tag { tag } => {
                    if tag.trim().is_empty() || tag.chars().count() > 50 {
                        p(n, "tag");
                    }
                }
                StepKind::SetPriority { priority } => {
                    if tsunagu_core::Priority::parse(priority).is_none() {
                        p(n, "priority");
                    }
                }
                StepKind::AssignTeam { team } => {
                    if team.trim().is_empty() {
                        p(n, "team");
                    }
                }
                StepKind::Webhook { url } => {
                    if !url.starts_with("https://") && !url.starts_with("http://") {
                        p(n, "webhook_url");
                    }
                }
            }
        }
        out
    }
}
