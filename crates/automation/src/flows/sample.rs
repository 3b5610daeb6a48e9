//! The sample 「初診問診」 (first-visit intake) a clinic can create from the empty list, and the
//! demo clinic starts with the keyword 問診.
use super::definition::{Answer, Definition, Opt, Step, StepKind};

pub const NAME: &str = "初診問診";
pub const KEYWORD: &str = "問診";

fn step(id: &str, kind: StepKind) -> Step {
    Step {
        id: id.into(),
        kind,
        next: None,
    }
}

fn opt(label: &str, next: Option<&str>) -> Opt {
    Opt {
        label: label.into(),
        next: next.map(str::to_string),
    }
}

/// Symptoms → (fever: temperature, tag 発熱, priority high, the nursing team) → since when →
/// tag 初診 → thanks. Without a team id the fever path routes nowhere.
pub fn intake(nursing_team: Option<&str>) -> Definition {
    let mut fever_tail = vec![
        step(
            "fever_tag",
            StepKind::Tag {
                tag: "発熱".into()
            },
        ),
        step(
            "fever_priority",
            StepKind::SetPriority {
                priority: "high".into(),
            },
        ),
    ];
    if let Some(team) = nursing_team {
        fever_tail.push(step(
            "fever_team",
            StepKind::AssignTeam { team: team.into() },
        ));
    }
    if let Some(last) = fever_tail.last_mut() {
        last.next = Some("onset".into());
    }
    let mut steps = vec![
        step(
            "intro",
            StepKind::Message {
                text: "初診の問診を始めます。途中で「スタッフ」と送ると、いつでもスタッフにつながります。".into(),
            },
        ),
        step(
            "symptom",
            StepKind::Ask {
                text: "今日はどのような症状でご来院の予定ですか？".into(),
                key: "症状".into(),
                answer: Answer::Choice {
                    options: vec![
                        opt("発熱", Some("fever")),
                        opt("せき・のどの痛み", None),
                        opt("おなかの痛み", None),
                        opt("その他", None),
                    ],
                },
            },
        ),
        step(
            "onset",
            StepKind::Ask {
                text: "いつ頃からですか？（例: 12/8、昨日）".into(),
                key: "発症日".into(),
                answer: Answer::Date,
            },
        ),
        step(
            "first_visit",
            StepKind::Tag {
                tag: "初診".into(),
            },
        ),
        step(
            "thanks",
            StepKind::End {
                text: "ありがとうございました。内容をスタッフが確認し、必要があればご連絡します。"
                    .into(),
            },
        ),
        step(
            "fever",
            StepKind::Ask {
                text: "今の体温を教えてください（例: 38.5）。".into(),
                key: "体温".into(),
                answer: Answer::Number {
                    min: Some(34.0),
                    max: Some(43.0),
                },
            },
        ),
    ];
    steps.extend(fever_tail);
    Definition {
        format: super::definition::FORMAT,
        timeout_minutes: super::definition::DEFAULT_TIMEOUT_MINUTES,
        max_tries: super::definition::DEFAULT_MAX_TRIES,
        timeout_text: String::new(),
        completed_webhook: None,
        steps,
    }
}
