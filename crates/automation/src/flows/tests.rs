use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::definition::{Answer, Case, Definition, Opt, Step, StepKind};
use super::engine::{advance, start, Action, Ctx, Input, Say, State};
use super::sample;

fn ctx() -> Ctx {
    Ctx {
        today: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
    }
}

fn said(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Say(s) => Some(s.text().to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_sample_intake_checks_and_walks_the_fever_path_to_the_nursing_team() {
    let def = sample::intake(Some("team-nursing"));
    assert_eq!(def.check(), vec![]);
    // Saved and read back unchanged (versions are frozen JSON).
    assert_eq!(Definition::parse(&def.to_json()).unwrap(), def);

    let (run, out) = start(&def, 1, BTreeMap::new());
    assert_eq!(run.state, State::Running);
    assert_eq!(run.step.as_deref(), Some("symptom"));
    assert!(matches!(&out[1], Action::Say(Say::Choice { options, .. }) if options.len() == 4));

    let (run, out) = advance(&def, &run, Input::Text("１"), ctx());
    assert_eq!(run.answers["症状"], "発熱");
    assert_eq!(run.step.as_deref(), Some("fever"));
    assert_eq!(said(&out), vec!["今の体温を教えてください（例: 38.5）。"]);

    let (run, out) = advance(&def, &run, Input::Text("３８．５度"), ctx());
    assert_eq!(run.answers["体温"], "38.5");
    assert_eq!(
        out[..3],
        [
            Action::Tag("発熱".into()),
            Action::SetPriority("high".into()),
            Action::AssignTeam("team-nursing".into())
        ]
    );
    assert_eq!(run.step.as_deref(), Some("onset"));

    let (run, out) = advance(&def, &run, Input::Text("明日"), ctx());
    assert_eq!(run.answers["発症日"], "2026-12-08");
    assert_eq!(run.state, State::Completed);
    assert_eq!(run.step, None);
    assert_eq!(out[0], Action::Tag("初診".into()));
    assert!(said(&out)[0].starts_with("ありがとうございました"));

    // A finished run does not move again.
    let (again, out) = advance(&def, &run, Input::Text("1"), ctx());
    assert_eq!((again, out), (run, vec![]));
}

#[test]
fn another_symptom_by_its_label_skips_the_fever_questions() {
    let def = sample::intake(None);
    assert_eq!(def.check(), vec![]);
    let (run, _) = start(&def, 1, BTreeMap::new());
    let (run, _) = advance(&def, &run, Input::Text("ｾｷ･ﾉﾄﾞﾉ痛ﾐ"), ctx());
    assert_eq!(run.answers["症状"], "せき・のどの痛み");
    assert_eq!(run.step.as_deref(), Some("onset"));
}

#[test]
fn a_wrong_answer_is_asked_again_politely_then_handed_to_a_person() {
    let def = sample::intake(None);
    let (run, _) = start(&def, 1, BTreeMap::new());
    let (run, _) = advance(&def, &run, Input::Text("発熱"), ctx());
    let (run, out) = advance(&def, &run, Input::Text("50"), ctx());
    assert_eq!(run.tries, 1);
    assert_eq!(run.state, State::Running);
    let texts = said(&out);
    assert_eq!(texts[0], "すみません、34から43までの数字でお答えください。");
    assert_eq!(texts[1], "今の体温を教えてください（例: 38.5）。");
    let (run, _) = advance(&def, &run, Input::Text("熱っぽい"), ctx());
    assert_eq!(run.tries, 2);
    let (run, out) = advance(&def, &run, Input::Photo, ctx());
    assert_eq!(run.state, State::HandedOver);
    assert_eq!(out.last(), Some(&Action::HandOver));
    assert!(!run.answers.contains_key("体温"));
}

#[test]
fn timeout_and_cancel_end_the_run() {
    let def = sample::intake(None);
    let (run, _) = start(&def, 3, BTreeMap::new());
    let (t, out) = advance(&def, &run, Input::Timeout, ctx());
    assert_eq!(t.state, State::TimedOut);
    assert_eq!(t.version, 3);
    assert_eq!(said(&out).len(), 1, "a polite closing text");
    let (c, out) = advance(&def, &run, Input::Cancel, ctx());
    assert_eq!(c.state, State::Cancelled);
    assert!(out.is_empty(), "the escape word answers for itself");
}

fn ask(id: &str, key: &str, answer: Answer) -> Step {
    Step {
        id: id.into(),
        kind: StepKind::Ask {
            text: format!("{key}?"),
            key: key.into(),
            answer,
        },
        next: None,
    }
}

fn step(id: &str, kind: StepKind) -> Step {
    Step {
        id: id.into(),
        kind,
        next: None,
    }
}

fn flow(steps: Vec<Step>) -> Definition {
    Definition {
        format: 1,
        timeout_minutes: 30,
        max_tries: 3,
        timeout_text: String::new(),
        completed_webhook: Some("https://hooks.example/done".into()),
        steps,
    }
}

#[test]
fn branches_fields_photos_params_and_webhooks() {
    let def = flow(vec![
        ask("who", "who", Answer::Text),
        step(
            "br",
            StepKind::Branch {
                on: "kind".into(),
                cases: vec![Case {
                    equals: "ワクチン".into(),
                    next: "photo".into(),
                }],
                otherwise: Some("bye".into()),
            },
        ),
        ask("photo", "card", Answer::Photo),
        step(
            "field",
            StepKind::SetField {
                field: "memo".into(),
                from: "who".into(),
            },
        ),
        step(
            "hook",
            StepKind::Webhook {
                url: "https://hooks.example/step".into(),
            },
        ),
        step(
            "bye",
            StepKind::End {
                text: "{{answer.who}}さん、ありがとう".into(),
            },
        ),
    ]);
    assert_eq!(def.check(), vec![]);
    let params = BTreeMap::from([("kind".to_string(), "わくちん".to_string())]);
    let (run, _) = start(&def, 1, params);
    let (run, _) = advance(&def, &run, Input::Text(" 山田 "), ctx());
    assert_eq!(
        run.step.as_deref(),
        Some("photo"),
        "the branch read the param"
    );
    let (same, out) = advance(&def, &run, Input::Text("写真です"), ctx());
    assert_eq!(same.tries, 1);
    assert_eq!(said(&out)[0], "すみません、写真をお送りください。");
    let (run, out) = advance(&def, &same, Input::Photo, ctx());
    assert_eq!(run.state, State::Completed);
    assert_eq!(
        out,
        vec![
            Action::SetField {
                field: "memo".into(),
                value: "山田".into()
            },
            Action::Webhook {
                url: "https://hooks.example/step".into(),
                completed: false
            },
            Action::Say(Say::Text {
                text: "山田さん、ありがとう".into()
            }),
            Action::Webhook {
                url: "https://hooks.example/done".into(),
                completed: true
            },
        ]
    );
}

#[test]
fn a_loop_without_questions_hands_over_instead_of_spinning() {
    let mut a = step("a", StepKind::Tag { tag: "x".into() });
    a.next = Some("a".into());
    let def = flow(vec![a]);
    let (run, out) = start(&def, 1, BTreeMap::new());
    assert_eq!(run.state, State::HandedOver);
    assert_eq!(out.last(), Some(&Action::HandOver));
}

#[test]
fn broken_definitions_are_refused_with_the_step_and_reason() {
    let mut bad = flow(vec![
        ask(
            "q",
            "q",
            Answer::Choice {
                options: vec![Opt {
                    label: "ひとつだけ".into(),
                    next: Some("nowhere".into()),
                }],
            },
        ),
        ask(
            "q",
            "n",
            Answer::Number {
                min: Some(5.0),
                max: Some(1.0),
            },
        ),
        step(
            "b",
            StepKind::Branch {
                on: " ".into(),
                cases: vec![],
                otherwise: None,
            },
        ),
        step(
            "p",
            StepKind::SetPriority {
                priority: "very".into(),
            },
        ),
    ]);
    bad.max_tries = 0;
    let what: Vec<(usize, &str)> = bad.check().iter().map(|p| (p.step, p.what)).collect();
    assert_eq!(
        what,
        vec![
            (0, "max_tries"),
            (1, "option_count"),
            (1, "unknown_next"),
            (2, "step_id"),
            (2, "number_range"),
            (3, "branch_on"),
            (4, "priority"),
        ]
    );
    assert_eq!(
        flow(vec![])
            .check()
            .iter()
            .map(|p| p.what)
            .collect::<Vec<_>>(),
        vec!["no_steps"]
    );
}
