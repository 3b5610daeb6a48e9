//! Event rules, 自動ルール (issue 12 item 5): when something happens (a message received, a
//! conversation opened or resolved, a patient tagged, a friend added or blocked, a consent
//! changed), if every condition holds (patient fields, tags, channel, text, time, consent,
//! verified), then the actions run (reply, tag, assign to a team, set priority, start a flow,
//! enroll in a sequence, send a webhook). Rules are tried in the clinic's order and one may stop
//! the later ones; each firing leaves a line on the conversation saying what it did.
//! Tables from migration 0030. Keyword rules (`crate::rules`) stay apart: they only answer text.
//! - `store`: the rules (create, change, order, delete) and the firing claims;
//! - `facts`: what the conditions look at, loaded once per event, and `Condition::holds`;
//! - `engine`: one event in, the matching rules fired in order (at most once each per event,
//!   never deeper than [`MAX_DEPTH`]);
//! - `jobs`: `event_rule.fire`, queued where each event happens (in its transaction).
pub mod engine;
pub mod facts;
pub mod jobs;
pub mod store;

use serde::{Deserialize, Serialize};
pub use tsunagu_core::jobs::RuleEventKind as Kind;

/// A rule's tag action tags, which is an event again: chains stop here (a "tagged" rule that
/// tags cannot run away).
pub const MAX_DEPTH: u8 = 3;
pub const MAX_CONDITIONS: usize = 10;
pub const MAX_ACTIONS: usize = 10;

/// When a rule runs: the event, narrowed where the event has a subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub kind: Kind,
    /// patient_tagged: only this tag (None: any tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// consent_changed: only this purpose (None: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// consent_changed: only grants (true) or withdrawals (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted: Option<bool>,
}

/// How a text condition compares (as keyword rules do, `crate::matching`).
pub use crate::matching::MatchMode;

/// One condition; a rule's conditions must all hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// The patient has (or, `has` false, lacks) the tag.
    Tag { tag: String, has: bool },
    /// A custom field (or `name`, `sex`, `language`) equals the value.
    Field { field: String, value: String },
    /// The conversation's channel.
    Channel { channel_id: String },
    /// The message's text (message_received only; other events have none, so it fails).
    Text { mode: MatchMode, value: String },
    /// Clinic-local time between `from` and `to` (minutes after midnight; across midnight when
    /// `from` > `to`).
    Time { from: u16, to: u16 },
    /// The clinic is open (true) or closed (false) by its calendar now.
    Open { open: bool },
    /// The patient's consent for a purpose allows sending (true) or not (false).
    Consent { purpose: String, allowed: bool },
    /// The patient's identity on this channel is verified (true) or not.
    Verified { verified: bool },
}

/// One action, run in the rule's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// A text to the patient: consent checked, through the outbox; never while a person handles
    /// the conversation or on a red flag.
    Reply {
        text: String,
    },
    Tag {
        tag: String,
    },
    Assign {
        team_id: String,
    },
    /// `normal`, `high`, `urgent`… (`core::Priority`).
    Priority {
        priority: String,
    },
    StartFlow {
        flow_id: String,
    },
    Enroll {
        sequence_id: String,
    },
    /// A signed JSON delivery (`flow.webhook`'s sender: SSRF-safe, retried 24 h).
    Webhook {
        url: String,
    },
}

/// A rule as stored.
#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub position: i64,
    pub enabled: bool,
    pub stop_later: bool,
    pub trigger: Trigger,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
}

/// What staff or the API ask for; [`Draft::check`] refuses what cannot work.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Draft {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub stop_later: bool,
    pub trigger: Trigger,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
}

fn yes() -> bool {
    true
}

/// Why a draft was refused: a stable key per field, worded by the UI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub code: &'static str,
}

impl Invalid {
    /// The refusal staff and the API see: `invalid_event_rule`, `why` worded from
    /// `event_rules.invalid.<code>`, the detail naming the field and code.
    pub fn refusal(&self) -> tsunagu_core::Refusal {
        tsunagu_core::Refusal::new(tsunagu_core::Code::InvalidEventRule)
            .arg_key("why", format!("event_rules.invalid.{}", self.code))
            .detail(format!("{}: {}", self.field, self.code))
    }
}

impl Draft {
    /// Trims what staff typed and checks each part on its own (references to teams, flows and
    /// sequences are checked against the clinic by `store`).
    pub fn check(mut self) -> Result<Draft, Invalid> {
        let bad = |field, code| Err(Invalid { field, code });
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 80 {
            return bad("name", "name_required");
        }
        if self.trigger.kind != Kind::PatientTagged {
            self.trigger.tag = None;
        }
        if self.trigger.kind != Kind::ConsentChanged {
            (self.trigger.purpose, self.trigger.granted) = (None, None);
        }
        self.trigger.tag = trimmed(self.trigger.tag.take());
        if let Some(p) = &self.trigger.purpose {
            if tsunagu_privacy::consent::Purpose::parse(p).is_none() {
                return bad("trigger", "unknown_purpose");
            }
        }
        if self.conditions.len() > MAX_CONDITIONS {
            return bad("conditions", "too_many_conditions");
        }
        for c in &mut self.conditions {
            check_condition(c, self.trigger.kind)?;
        }
        if self.actions.is_empty() {
            return bad("actions", "action_required");
        }
        if self.actions.len() > MAX_ACTIONS {
            return bad("actions", "too_many_actions");
        }
        for a in &mut self.actions {
            check_action(a)?;
        }
        Ok(self)
    }
}

fn trimmed(s: Option<String>) -> Option<String> {
    s.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

fn check_condition(c: &mut Condition, kind: Kind) -> Result<(), Invalid> {
    let bad = |code| {
        Err(Invalid {
            field: "conditions",
            code,
        })
    };
    match c {
        Condition::Tag { tag, .. } | Condition::Field { field: tag, .. } => {
            *tag = tag.trim().to_string();
            if tag.is_empty() {
                return bad("condition_incomplete");
            }
        }
        Condition::Channel { channel_id } if channel_id.trim().is_empty() => {
            return bad("condition_incomplete")
        }
        Condition::Text { mode, value } => {
            if kind != Kind::MessageReceived {
                return bad("text_needs_message");
            }
            *value = value.trim().to_string();
            if value.is_empty() {
                return bad("condition_incomplete");
            }
            if crate::matching::Matcher::new(*mode, std::slice::from_ref(value)).is_err() {
                return bad("invalid_pattern");
            }
        }
        Condition::Time { from, to } if *from >= 1440 || *to >= 1440 || from == to => {
            return bad("invalid_time_window")
        }
        Condition::Consent { purpose, .. }
            if tsunagu_privacy::consent::Purpose::parse(purpose).is_none() =>
        {
            return bad("unknown_purpose")
        }
        _ => {}
    }
    Ok(())
}

fn check_action(a: &mut Action) -> Result<(), Invalid> {
    let bad = |code| {
        Err(Invalid {
            field: "actions",
            code,
        })
    };
    match a {
        Action::Reply { text } => {
            *text = text.trim().to_string();
            if text.is_empty() || text.chars().count() > 2000 {
                return bad("reply_required");
            }
        }
        Action::Tag { tag } => {
            *tag = tag.trim().to_string();
            if tag.is_empty() || tag.chars().count() > 40 {
                return bad("tag_required");
            }
        }
        Action::Priority { priority } => {
            if tsunagu_core::Priority::parse(priority).is_none() {
                return bad("unknown_priority");
            }
        }
        Action::Webhook { url } => {
            *url = url.trim().to_string();
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 500 {
                return bad("invalid_url");
            }
        }
        Action::Assign { team_id: id }
        | Action::StartFlow { flow_id: id }
        | Action::Enroll { sequence_id: id } => {
            if id.trim().is_empty() {
                return bad("action_incomplete");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(kind: Kind) -> Draft {
        Draft {
            name: " 発熱 ".into(),
            enabled: true,
            stop_later: false,
            trigger: Trigger {
                kind,
                tag: Some("発熱".into()),
                purpose: None,
                granted: None,
            },
            conditions: vec![],
            actions: vec![Action::Priority {
                priority: "high".into(),
            }],
        }
    }

    #[test]
    fn a_tag_filter_is_kept_only_for_the_tagged_trigger() {
        let d = draft(Kind::PatientTagged).check().unwrap();
        assert_eq!(
            (d.name.as_str(), d.trigger.tag.as_deref()),
            ("発熱", Some("発熱"))
        );
        let d = draft(Kind::ConversationResolved).check().unwrap();
        assert_eq!(d.trigger.tag, None);
    }

    #[test]
    fn a_text_condition_needs_a_message_event() {
        let mut d = draft(Kind::PatientTagged);
        d.conditions.push(Condition::Text {
            mode: MatchMode::Contains,
            value: "熱".into(),
        });
        assert_eq!(d.check().unwrap_err().code, "text_needs_message");
    }

    #[test]
    fn a_rule_without_actions_or_with_an_unknown_priority_is_refused() {
        let mut d = draft(Kind::FriendAdded);
        d.actions.clear();
        assert_eq!(d.check().unwrap_err().code, "action_required");
        let mut d = draft(Kind::FriendAdded);
        d.actions = vec![Action::Priority {
            priority: "soon".into(),
        }];
        assert_eq!(d.check().unwrap_err().code, "unknown_priority");
    }

    #[test]
    fn stored_json_reads_back() {
        let c: Condition = serde_json::from_str(r#"{"type":"time","from":1080,"to":540}"#).unwrap();
        assert_eq!(
            c,
            Condition::Time {
                from: 1080,
                to: 540
            }
        );
        let a: Action = serde_json::from_str(r#"{"type":"tag","tag":"発熱"}"#).unwrap();
        assert_eq!(
            a,
            Action::Tag {
                tag: "発熱".into()
            }
        );
    }
}
