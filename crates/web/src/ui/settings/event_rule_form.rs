//! The event rule form (自動ルール) as staff fill it in: fixed rows of conditions and actions,
//! each a kind, a choice (a custom field, channel, consent purpose, team, flow, sequence or
//! priority, sent as `field:<id>`, `team:<id>`…) and a value; read into a `Draft` (refused
//! with the part's key) and written back from a stored rule for editing.
use std::collections::HashMap;

use serde::Serialize;
use tsunagu_automation::event_rules::{
    Action, Condition, Draft, Invalid, Kind, MatchMode, Rule, Trigger,
};

pub const CONDITION_ROWS: usize = 3;
pub const ACTION_ROWS: usize = 4;

pub const CONDITION_KINDS: [&str; 14] = [
    "tag_has",
    "tag_lacks",
    "field",
    "channel",
    "text_contains",
    "text_exact",
    "text_pattern",
    "time",
    "open",
    "closed",
    "consent_allowed",
    "consent_refused",
    "verified",
    "unverified",
];

pub const ACTION_KINDS: [&str; 7] = [
    "reply",
    "tag",
    "assign",
    "priority",
    "start_flow",
    "enroll",
    "webhook",
];

#[derive(Clone, Debug, Default, Serialize)]
pub struct Row {
    pub kind: String,
    pub choice: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Fields {
    pub name: String,
    pub enabled: bool,
    pub stop_later: bool,
    pub trigger: String,
    pub trigger_tag: String,
    pub trigger_purpose: String,
    pub trigger_granted: String,
    pub conditions: Vec<Row>,
    pub actions: Vec<Row>,
}

fn pad(mut rows: Vec<Row>, n: usize) -> Vec<Row> {
    while rows.len() < n {
        rows.push(Row::default());
    }
    rows
}

fn invalid(field: &'static str, code: &'static str) -> Invalid {
    Invalid { field, code }
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// `18:00-9:00` (any width, 〜 or ～ too) → minutes after midnight.
fn window(s: &str) -> Option<(u16, u16)> {
    let s = tsunagu_core::text::fold_width(s).replace(['〜', '～', '~'], "-");
    let (a, b) = s.split_once('-')?;
    let minute = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    Some((minute(a)?, minute(b)?))
}

impl Fields {
    pub fn blank() -> Fields {
        Fields {
            name: String::new(),
            enabled: true,
            stop_later: false,
            trigger: Kind::MessageReceived.as_str().into(),
            trigger_tag: String::new(),
            trigger_purpose: String::new(),
            trigger_granted: String::new(),
            conditions: pad(vec![], CONDITION_ROWS),
            actions: pad(vec![], ACTION_ROWS),
        }
    }

    pub fn read(form: &HashMap<String, String>) -> Fields {
        let get = |k: &str| {
            form.get(k)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        let rows = |prefix: &str, n: usize| {
            (0..n)
                .map(|i| Row {
                    kind: get(&format!("{prefix}_kind_{i}")),
                    choice: get(&format!("{prefix}_choice_{i}")),
                    value: get(&format!("{prefix}_value_{i}")),
                })
                .collect()
        };
        Fields {
            name: get("name"),
            enabled: get("enabled") == "1",
            stop_later: get("stop_later") == "1",
            trigger: get("trigger"),
            trigger_tag: get("trigger_tag"),
            trigger_purpose: get("trigger_purpose"),
            trigger_granted: get("trigger_granted"),
            conditions: rows("cond", CONDITION_ROWS),
            actions: rows("act", ACTION_ROWS),
        }
    }

    pub fn of(r: &Rule) -> Fields {
        let row = |kind: &str, choice: String, value: String| Row {
            kind: kind.into(),
            choice,
            value,
        };
        let conditions = r
            .conditions
            .iter()
            .map(|c| match c {
                Condition::Tag { tag, has } => row(
                    if *has { "tag_has" } else { "tag_lacks" },
                    String::new(),
                    tag.clone(),
                ),
                Condition::Field { field, value } => {
                    row("field", format!("field:{field}"), value.clone())
                }
                Condition::Channel { channel_id } => {
                    row("channel", format!("channel:{channel_id}"), String::new())
                }
                Condition::Text { mode, value } => row(
                    &format!("text_{}", mode.as_str()),
                    String::new(),
                    value.clone(),
                ),
                Condition::Time { from, to } => row(
                    "time",
                    String::new(),
                    format!("{}-{}", hhmm(*from), hhmm(*to)),
                ),
                Condition::Open { open } => row(
                    if *open { "open" } else { "closed" },
                    String::new(),
                    String::new(),
                ),
                Condition::Consent { purpose, allowed } => row(
                    if *allowed {
                        "consent_allowed"
                    } else {
                        "consent_refused"
                    },
                    format!("purpose:{purpose}"),
                    String::new(),
                ),
                Condition::Verified { verified } => row(
                    if *verified { "verified" } else { "unverified" },
                    String::new(),
                    String::new(),
                ),
            })
            .collect();
        let actions = r
            .actions
            .iter()
            .map(|a| match a {
                Action::Reply { text } => row("reply", String::new(), text.clone()),
                Action::Tag { tag } => row("tag", String::new(), tag.clone()),
                Action::Assign { team_id } => {
                    row("assign", format!("team:{team_id}"), String::new())
                }
                Action::Priority { priority } => {
                    row("priority", format!("priority:{priority}"), String::new())
                }
                Action::StartFlow { flow_id } => {
                    row("start_flow", format!("flow:{flow_id}"), String::new())
                }
                Action::Enroll { sequence_id } => {
                    row("enroll", format!("sequence:{sequence_id}"), String::new())
                }
                Action::Webhook { url } => row("webhook", String::new(), url.clone()),
            })
            .collect();
        Fields {
            name: r.name.clone(),
            enabled: r.enabled,
            stop_later: r.stop_later,
            trigger: r.trigger.kind.as_str().into(),
            trigger_tag: r.trigger.tag.clone().unwrap_or_default(),
            trigger_purpose: r.trigger.purpose.clone().unwrap_or_default(),
            trigger_granted: match r.trigger.granted {
                Some(true) => "1".into(),
                Some(false) => "0".into(),
                None => String::new(),
            },
            conditions: pad(conditions, CONDITION_ROWS),
            actions: pad(actions, ACTION_ROWS),
        }
    }

    /// The draft the form describes (`Draft::check` follows when it is saved).
    pub fn draft(&self) -> Result<Draft, Invalid> {
        let kind = Kind::parse(&self.trigger).ok_or(invalid("trigger", "trigger_required"))?;
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let trigger = Trigger {
            kind,
            tag: some(&self.trigger_tag),
            purpose: some(&self.trigger_purpose),
            granted: match self.trigger_granted.as_str() {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            },
        };
        let mut conditions = Vec::new();
        for r in self.conditions.iter().filter(|r| !r.kind.is_empty()) {
            conditions.push(condition(r)?);
        }
        let mut actions = Vec::new();
        for r in self.actions.iter().filter(|r| !r.kind.is_empty()) {
            actions.push(action(r)?);
        }
        Ok(Draft {
            name: self.name.clone(),
            enabled: self.enabled,
            stop_later: self.stop_later,
            trigger,
            conditions,
            actions,
        })
    }
}

/// The id after `prefix:` in a row's choice.
fn chosen(r: &Row, prefix: &str, field: &'static str) -> Result<String, Invalid> {
    r.choice
        .strip_prefix(prefix)
        .and_then(|s| s.strip_prefix(':'))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or(invalid(
            field,
            if field == "conditions" {
                "condition_incomplete"
            } else {
                "action_incomplete"
            },
        ))
}

fn condition(r: &Row) -> Result<Condition, Invalid> {
    let v = r.value.clone();
    let text = |mode| Condition::Text {
        mode,
        value: v.clone(),
    };
    Ok(match r.kind.as_str() {
        "tag_has" => Condition::Tag { tag: v, has: true },
        "tag_lacks" => Condition::Tag { tag: v, has: false },
        "field" => Condition::Field {
            field: chosen(r, "field", "conditions")?,
            value: v,
        },
        "channel" => Condition::Channel {
            channel_id: chosen(r, "channel", "conditions")?,
        },
        "text_contains" => text(MatchMode::Contains),
        "text_exact" => text(MatchMode::Exact),
        "text_pattern" => text(MatchMode::Pattern),
        "time" => {
            let (from, to) = window(&v).ok_or(invalid("conditions", "invalid_time_window"))?;
            Condition::Time { from, to }
        }
        "open" => Condition::Open { open: true },
        "closed" => Condition::Open { open: false },
        "consent_allowed" | "consent_refused" => Condition::Consent {
            purpose: chosen(r, "purpose", "conditions")?,
            allowed: r.kind == "consent_allowed",
        },
        "verified" => Condition::Verified { verified: true },
        "unverified" => Condition::Verified { verified: false },
        _ => return Err(invalid("conditions", "condition_incomplete")),
    })
}

fn action(r: &Row) -> Result<Action, Invalid> {
    let v = r.value.clone();
    Ok(match r.kind.as_str() {
        "reply" => Action::Reply { text: v },
        "tag" => Action::Tag { tag: v },
        "assign" => Action::Assign {
            team_id: chosen(r, "team", "actions")?,
        },
        "priority" => Action::Priority {
            priority: chosen(r, "priority", "actions")?,
        },
        "start_flow" => Action::StartFlow {
            flow_id: chosen(r, "flow", "actions")?,
        },
        "enroll" => Action::Enroll {
            sequence_id: chosen(r, "sequence", "actions")?,
        },
        "webhook" => Action::Webhook { url: v },
        _ => return Err(invalid("actions", "action_incomplete")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_window_is_read_in_any_width_and_dash() {
        assert_eq!(window("18:00-9:00"), Some((1080, 540)));
        assert_eq!(window("１８：００〜２０：３０"), Some((1080, 1230)));
        assert_eq!(window("25:00-9:00"), None);
    }

    #[test]
    fn a_form_reads_into_a_draft_and_back() {
        let mut f = HashMap::new();
        for (k, v) in [
            ("name", "発熱は看護へ"),
            ("enabled", "1"),
            ("trigger", "patient_tagged"),
            ("trigger_tag", "発熱"),
            ("cond_kind_0", "closed"),
            ("act_kind_0", "assign"),
            ("act_choice_0", "team:t1"),
            ("act_kind_1", "priority"),
            ("act_choice_1", "priority:high"),
        ] {
            f.insert(k.to_string(), v.to_string());
        }
        let d = Fields::read(&f).draft().unwrap();
        assert_eq!(d.conditions, vec![Condition::Open { open: false }]);
        assert_eq!(
            d.actions[0],
            Action::Assign {
                team_id: "t1".into()
            }
        );
        let mut f2 = f.clone();
        f2.insert("act_choice_0".into(), String::new());
        assert_eq!(
            Fields::read(&f2).draft().unwrap_err().code,
            "action_incomplete"
        );
    }
}
