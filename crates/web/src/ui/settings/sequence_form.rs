//! The step sequence form (ステップ配信): what staff type, read back into a
//! `sequences::Draft`, and a sequence shown back in the form's fields. Steps are numbered rows
//! (`step_body_0`, `step_delay_0`, `step_unit_0`, `step_after_0`, `step_time_0`, `step_open_0`);
//! a row with no text is left out.
use std::collections::HashMap;

use serde::Serialize;
use tsunagu_automation::sequences::store::{Draft, Invalid, Sequence, SequenceStep, MAX_STEPS};
use tsunagu_automation::sequences::timing::Timing;
use tsunagu_automation::sequences::Trigger;
use tsunagu_calendar::parse::{hhmm, parse_hhmm};
use tsunagu_privacy::consent::Purpose;

/// The purposes a sequence may be for (photos are never a drip).
pub const PURPOSES: [Purpose; 4] = [
    Purpose::HealthInformation,
    Purpose::Marketing,
    Purpose::Reminders,
    Purpose::Care,
];

/// A step row as the form shows it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StepFields {
    pub body: String,
    pub delay: String,
    /// minutes | hours | days
    pub unit: String,
    /// enrollment | previous
    pub after: String,
    /// HH:MM or empty.
    pub time: String,
    pub open: bool,
}

/// The whole form as typed or as stored.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Fields {
    pub name: String,
    pub purpose: String,
    pub trigger_kind: String,
    pub trigger_channel: String,
    pub trigger_tag: String,
    pub trigger_field: String,
    pub trigger_value: String,
    pub goal_tag: String,
    pub reenroll: bool,
    pub enabled: bool,
    pub steps: Vec<StepFields>,
}

impl Fields {
    /// A new sequence's form: on friend-add, health information, one blank step the next day
    /// at 10:00, with two more rows to fill.
    pub fn blank() -> Fields {
        Fields {
            purpose: "health_information".into(),
            trigger_kind: "friend_added".into(),
            enabled: true,
            ..Fields::default()
        }
        .with_spare_rows()
    }

    /// Two empty step rows below those filled in (up to the limit).
    pub fn with_spare_rows(mut self) -> Fields {
        let want = (self.steps.len() + 2).clamp(3, MAX_STEPS);
        while self.steps.len() < want {
            let first = self.steps.is_empty();
            self.steps.push(StepFields {
                delay: if first { "1".into() } else { String::new() },
                unit: "days".into(),
                after: if first { "enrollment" } else { "previous" }.into(),
                time: if first { "10:00".into() } else { String::new() },
                ..StepFields::default()
            });
        }
        self
    }

    pub fn of(s: &Sequence) -> Fields {
        let (kind, ch, tag, field, value) = match &s.trigger {
            Trigger::FriendAdded { channel_id } => (
                "friend_added",
                channel_id.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                String::new(),
            ),
            Trigger::TagAdded { tag } => (
                "tag_added",
                String::new(),
                tag.clone(),
                String::new(),
                String::new(),
            ),
            Trigger::FieldSet { field_id, value } => (
                "field_set",
                String::new(),
                String::new(),
                field_id.clone(),
                value.clone(),
            ),
        };
        Fields {
            name: s.name.clone(),
            purpose: s.purpose.code().into(),
            trigger_kind: kind.into(),
            trigger_channel: ch,
            trigger_tag: tag,
            trigger_field: field,
            trigger_value: value,
            goal_tag: s.goal_tag.clone().unwrap_or_default(),
            reenroll: s.reenroll,
            enabled: s.enabled,
            steps: s.steps.iter().map(step_fields).collect(),
        }
        .with_spare_rows()
    }

    /// Reads the posted form (every field optional: a missing one reads as empty).
    pub fn read(form: &HashMap<String, String>) -> Fields {
        let get = |k: &str| {
            form.get(k)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        let on = |k: &str| form.get(k).is_some_and(|v| v == "1" || v == "on");
        let steps = (0..MAX_STEPS)
            .map(|i| StepFields {
                body: form
                    .get(&format!("step_body_{i}"))
                    .cloned()
                    .unwrap_or_default(),
                delay: get(&format!("step_delay_{i}")),
                unit: get(&format!("step_unit_{i}")),
                after: get(&format!("step_after_{i}")),
                time: get(&format!("step_time_{i}")),
                open: on(&format!("step_open_{i}")),
            })
            .filter(|s| !s.body.trim().is_empty())
            .collect();
        Fields {
            name: get("name"),
            purpose: get("purpose"),
            trigger_kind: get("trigger_kind"),
            trigger_channel: get("trigger_channel"),
            trigger_tag: get("trigger_tag"),
            trigger_field: get("trigger_field"),
            trigger_value: get("trigger_value"),
            goal_tag: get("goal_tag"),
            reenroll: on("reenroll"),
            enabled: on("enabled"),
            steps,
        }
    }

    /// The checked draft, or what is wrong (`drips.invalid.<key>`).
    pub fn draft(&self) -> Result<Draft, Invalid> {
        let purpose = Purpose::parse(&self.purpose)
            .filter(|p| PURPOSES.contains(p))
            .ok_or(Invalid::Trigger)?;
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let trigger = match self.trigger_kind.as_str() {
            "friend_added" => Trigger::FriendAdded {
                channel_id: some(&self.trigger_channel),
            },
            "tag_added" => Trigger::TagAdded {
                tag: self.trigger_tag.clone(),
            },
            "field_set" => Trigger::FieldSet {
                field_id: self.trigger_field.clone(),
                value: self.trigger_value.clone(),
            },
            _ => return Err(Invalid::Trigger),
        };
        let steps = self
            .steps
            .iter()
            .map(read_step)
            .collect::<Result<Vec<_>, _>>()?;
        Draft {
            name: self.name.clone(),
            purpose,
            trigger,
            goal_tag: some(&self.goal_tag),
            reenroll: self.reenroll,
            enabled: self.enabled,
            steps,
        }
        .check()
    }
}

fn step_fields(s: &SequenceStep) -> StepFields {
    let m = s.timing.delay_minutes;
    let (delay, unit) = if m % (24 * 60) == 0 && m > 0 {
        (m / (24 * 60), "days")
    } else if m % 60 == 0 && m > 0 {
        (m / 60, "hours")
    } else {
        (m, "minutes")
    };
    StepFields {
        body: s.body.clone(),
        delay: delay.to_string(),
        unit: unit.into(),
        after: if s.timing.after_previous {
            "previous"
        } else {
            "enrollment"
        }
        .into(),
        time: s
            .timing
            .send_at_minute
            .map(|m| hhmm(m as u16))
            .unwrap_or_default(),
        open: s.timing.open_hours_only,
    }
}

fn read_step(f: &StepFields) -> Result<SequenceStep, Invalid> {
    let n: i64 = if f.delay.is_empty() {
        0
    } else {
        f.delay.parse().map_err(|_| Invalid::StepDelay)?
    };
    let per = match f.unit.as_str() {
        "minutes" => 1,
        "hours" => 60,
        "days" => 24 * 60,
        _ => return Err(Invalid::StepDelay),
    };
    let send_at_minute = if f.time.is_empty() {
        None
    } else {
        Some(i64::from(
            parse_hhmm(&f.time).map_err(|_| Invalid::StepTime)?,
        ))
    };
    Ok(SequenceStep {
        timing: Timing {
            delay_minutes: n.checked_mul(per).ok_or(Invalid::StepDelay)?,
            after_previous: f.after == "previous",
            send_at_minute,
            open_hours_only: f.open,
        },
        body: f.body.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_form_reads_as_the_next_day_at_ten_then_three_days_later() {
        let form: HashMap<String, String> = [
            ("name", "新しい友だちへのご案内"),
            ("purpose", "health_information"),
            ("trigger_kind", "friend_added"),
            ("enabled", "1"),
            ("step_body_0", "駐車場とアクセスのご案内"),
            ("step_delay_0", "1"),
            ("step_unit_0", "days"),
            ("step_after_0", "enrollment"),
            ("step_time_0", "10:00"),
            ("step_body_1", "予防接種のご案内"),
            ("step_delay_1", "3"),
            ("step_unit_1", "days"),
            ("step_after_1", "previous"),
            ("step_body_2", "  "),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let d = Fields::read(&form)
            .draft()
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.steps.len(), 2);
        assert_eq!(d.steps[0].timing.delay_minutes, 24 * 60);
        assert_eq!(d.steps[0].timing.send_at_minute, Some(600));
        assert!(d.steps[1].timing.after_previous);
        assert_eq!(d.trigger, Trigger::FriendAdded { channel_id: None });
    }

    #[test]
    fn a_bad_time_or_no_steps_is_refused() {
        let mut f = Fields::blank();
        f.name = "x".into();
        f.steps.clear();
        assert_eq!(f.draft().err(), Some(Invalid::NoSteps));
        f.steps.push(StepFields {
            body: "a".into(),
            delay: "1".into(),
            unit: "days".into(),
            after: "enrollment".into(),
            time: "25:00".into(),
            open: false,
        });
        assert_eq!(f.draft().err(), Some(Invalid::StepTime));
    }
}
