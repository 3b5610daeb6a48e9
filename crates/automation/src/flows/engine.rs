//! The dialogue engine, pure: a run and the patient's input in, the new run and what to do out.
//! Storage, sending and the side effects of each `Action` are the caller's (`flows::runner`
//! for chat, the builder's preview for nothing at all), so the same steps run everywhere.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tsunagu_core::text::match_form;

use super::definition::{Answer, Definition, StepKind};
use super::input;

/// How many steps one input may pass through without waiting for an answer (a loop between
/// steps that ask nothing ends with a hand-over instead of spinning).
const MAX_STEPS_PER_INPUT: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Running,
    Completed,
    HandedOver,
    TimedOut,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Completed => "completed",
            State::HandedOver => "handed_over",
            State::TimedOut => "timed_out",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        [
            State::Running,
            State::Completed,
            State::HandedOver,
            State::TimedOut,
            State::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// One patient's way through one version of a flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub version: i64,
    /// The question waiting for an answer (while running).
    pub step: Option<String>,
    /// Answer key → the stored answer (a choice's label, a date `YYYY-MM-DD`, a number, text,
    /// `photo` for a photo).
    pub answers: BTreeMap<String, String>,
    /// Invalid answers to the current question.
    pub tries: u32,
    pub state: State,
}

/// What the patient did, or what happened to the run.
#[derive(Clone, Debug, PartialEq)]
pub enum Input<'a> {
    Text(&'a str),
    Photo,
    /// Nobody answered within the flow's timeout.
    Timeout,
    /// The patient asked for a person (an escape word) or staff stopped the run.
    Cancel,
}

/// What the bot says: a text, or a question with options (rendered natively per channel).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Say {
    Text { text: String },
    Choice { text: String, options: Vec<String> },
}

impl Say {
    pub fn text(&self) -> &str {
        match self {
            Say::Text { text } | Say::Choice { text, .. } => text,
        }
    }
}

/// What the caller does, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Say(Say),
    /// A patient custom field (by key) to a value from an answer.
    SetField {
        field: String,
        value: String,
    },
    Tag(String),
    SetPriority(String),
    AssignTeam(String),
    /// Post `flow.step` (`completed: false`) or `flow.completed` with the answers.
    Webhook {
        url: String,
        completed: bool,
    },
    /// The conversation goes to staff (the run has ended).
    HandOver,
}

/// Context the engine may not find out for itself.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// The clinic's date, for 明日 and 12/8.
    pub today: NaiveDate,
}

pub const REASK_PREFIX: &str = "すみません、";
const HAND_OVER_TEXT: &str =
    "うまく読み取れなかったため、スタッフにおつなぎします。このままお待ちください。";
pub const DEFAULT_TIMEOUT_TEXT: &str =
    "お返事がなかったため、いったん終了しました。続きはもう一度キーワードを送るか、スタッフにお声がけください。";
const LOOP_TEXT: &str = "スタッフにおつなぎします。このままお待ちください。";

/// A new run at the flow's first step: what it says until its first question. `params` (from
/// the code that starts it: booking's date, a source) are answers from the start, for branches
/// and `{{answer.key}}`.
pub fn start(
    def: &Definition,
    version: i64,
    params: BTreeMap<String, String>,
) -> (Run, Vec<Action>) {
    let run = Run {
        version,
        step: None,
        answers: params,
        tries: 0,
        state: State::Running,
    };
    let mut out = Vec::new();
    let first = def.steps.first().map(|s| s.id.clone());
    let run = go(def, run, first, &mut out);
    (run, out)
}

/// The run after `input`. A run that is not waiting for an answer does not move.
pub fn advance(def: &Definition, run: &Run, input: Input<'_>, ctx: Ctx) -> (Run, Vec<Action>) {
    let mut out = Vec::new();
    if run.state != State::Running {
        return (run.clone(), out);
    }
    let mut run = run.clone();
    match input {
        Input::Timeout => {
            let text = if def.timeout_text.trim().is_empty() {
                DEFAULT_TIMEOUT_TEXT.to_string()
            } else {
                def.timeout_text.clone()
            };
            out.push(Action::Say(Say::Text { text }));
            return (finish(run, State::TimedOut), out);
        }
        Input::Cancel => return (finish(run, State::Cancelled), out),
        _ => {}
    }
    let Some(step) = run
        .step
        .as_deref()
        .and_then(|id| def.index(id))
        .map(|i| &def.steps[i])
    else {
        // The question is gone (cannot happen on a frozen version): a person takes over.
        out.push(Action::Say(Say::Text {
            text: LOOP_TEXT.into(),
        }));
        out.push(Action::HandOver);
        return (finish(run, State::HandedOver), out);
    };
    let StepKind::Ask { key, answer, .. } = &step.kind else {
        return (run, out);
    };
    let read = read_answer(answer, &input, ctx);
    match read {
        Ok((value, chosen_next)) => {
            run.answers.insert(key.clone(), value);
            run.tries = 0;
            let next = chosen_next.or_else(|| after(def, &step.id));
            let run = go(def, run, next, &mut out);
            (run, out)
        }
        Err(hint) => {
            run.tries += 1;
            if run.tries >= def.max_tries {
                out.push(Action::Say(Say::Text {
                    text: HAND_OVER_TEXT.into(),
                }));
                out.push(Action::HandOver);
                return (finish(run, State::HandedOver), out);
            }
            out.push(Action::Say(Say::Text {
                text: format!("{REASK_PREFIX}{hint}"),
            }));
            out.push(Action::Say(question(step_text(&step.kind), answer)));
            (run, out)
        }
    }
}

fn finish(mut run: Run, state: State) -> Run {
    run.state = state;
    run.step = None;
    run
}

fn step_text(k: &StepKind) -> &str {
    match k {
        StepKind::Ask { text, .. } => text,
        _ => "",
    }
}

fn question(text: &str, answer: &Answer) -> Say {
    match answer {
        Answer::Choice { options } => Say::Choice {
            text: text.to_string(),
            options: options.iter().map(|o| o.label.clone()).collect(),
        },
        _ => Say::Text {
            text: text.to_string(),
        },
    }
}

/// The stored answer and, for a choice with its own next step, that step; or the hint of the
/// polite re-ask.
fn read_answer(
    answer: &Answer,
    input: &Input<'_>,
    ctx: Ctx,
) -> Result<(String, Option<String>), String> {
    let text = match input {
        Input::Text(t) => t.trim(),
        Input::Photo if *answer == Answer::Photo => return Ok(("photo".into(), None)),
        Input::Photo => "",
        _ => "",
    };
    match answer {
        Answer::Text if !text.is_empty() => Ok((text.chars().take(1000).collect(), None)),
        Answer::Text => Err("お返事を文字でお送りください。".into()),
        Answer::Choice { options } => match input::choice(options, text) {
            Some(i) => Ok((options[i].label.clone(), options[i].next.clone())),
            None => Err("選択肢の中からお選びいただくか、番号でお答えください。".into()),
        },
        Answer::Date => match input::date(text, ctx.today) {
            Some(d) => Ok((d.format("%Y-%m-%d").to_string(), None)),
            None => Err("日付は「12/8」や「12月8日」「明日」のようにお送りください。".into()),
        },
        Answer::Number { min, max } => {
            let range = || match (min, max) {
                (Some(lo), Some(hi)) => format!(
                    "{}から{}までの",
                    input::number_text(*lo),
                    input::number_text(*hi)
                ),
                (Some(lo), None) => format!("{}以上の", input::number_text(*lo)),
                (None, Some(hi)) => format!("{}以下の", input::number_text(*hi)),
                (None, None) => String::new(),
            };
            match input::number(text) {
                Some(n) if min.is_none_or(|lo| n >= lo) && max.is_none_or(|hi| n <= hi) => {
                    Ok((input::number_text(n), None))
                }
                _ => Err(format!("{}数字でお答えください。", range())),
            }
        }
        Answer::Photo => Err("写真をお送りください。".into()),
    }
}

/// The step after `id` in list order, or its own `next`.
fn after(def: &Definition, id: &str) -> Option<String> {
    let i = def.index(id)?;
    def.steps[i]
        .next
        .clone()
        .or_else(|| def.steps.get(i + 1).map(|s| s.id.clone()))
}

/// Runs steps from `next` until a question waits or the run ends.
fn go(def: &Definition, mut run: Run, mut next: Option<String>, out: &mut Vec<Action>) -> Run {
    for _ in 0..MAX_STEPS_PER_INPUT {
        let Some(i) = next.as_deref().and_then(|id| def.index(id)) else {
            // Past the last step: the flow is done.
            return complete(def, run, out);
        };
        let step = &def.steps[i];
        next = after(def, &step.id);
        match &step.kind {
            StepKind::Message { text } => out.push(Action::Say(Say::Text {
                text: fill(text, &run),
            })),
            StepKind::Ask { text, answer, .. } => {
                out.push(Action::Say(question(&fill(text, &run), answer)));
                run.step = Some(step.id.clone());
                run.tries = 0;
                return run;
            }
            StepKind::Branch {
                on,
                cases,
                otherwise,
            } => {
                let given = run.answers.get(on).map(|a| match_form(a));
                if let Some(c) = cases
                    .iter()
                    .find(|c| given.as_deref() == Some(match_form(&c.equals).as_str()))
                {
                    next = Some(c.next.clone());
                } else if let Some(o) = otherwise {
                    next = Some(o.clone());
                }
            }
            StepKind::SetField { field, from } => {
                if let Some(v) = run.answers.get(from) {
                    out.push(Action::SetField {
                        field: field.clone(),
                        value: v.clone(),
                    });
                }
            }
            StepKind::Tag { tag } => out.push(Action::Tag(tag.clone())),
            StepKind::SetPriority { priority } => out.push(Action::SetPriority(priority.clone())),
            StepKind::AssignTeam { team } => out.push(Action::AssignTeam(team.clone())),
            StepKind::Webhook { url } => out.push(Action::Webhook {
                url: url.clone(),
                completed: false,
            }),
            StepKind::Handover { text } => {
                out.push(Action::Say(Say::Text {
                    text: fill(text, &run),
                }));
                out.push(Action::HandOver);
                return finish(run, State::HandedOver);
            }
            StepKind::End { text } => {
                out.push(Action::Say(Say::Text {
                    text: fill(text, &run),
                }));
                return complete(def, run, out);
            }
        }
    }
    out.push(Action::Say(Say::Text {
        text: LOOP_TEXT.into(),
    }));
    out.push(Action::HandOver);
    finish(run, State::HandedOver)
}

fn complete(def: &Definition, run: Run, out: &mut Vec<Action>) -> Run {
    if let Some(url) = def.completed_webhook.as_ref().filter(|u| !u.is_empty()) {
        out.push(Action::Webhook {
            url: url.clone(),
            completed: true,
        });
    }
    finish(run, State::Completed)
}

/// `{{answer.key}}` in a text becomes that answer (nothing when not given yet).
fn fill(text: &str, run: &Run) -> String {
    if !text.contains("{{") {
        return text.to_string();
    }
    let mut out = text.to_string();
    for (k, v) in &run.answers {
        out = out.replace(&format!("{{{{answer.{k}}}}}"), v);
    }
    out
}
