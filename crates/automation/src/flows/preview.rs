//! The builder's preview: a draft played by the pure engine with the answers typed so far,
//! nothing stored or sent. The staff page and `POST /api/v1/automation/flows/{id}/preview`
//! both replay through here, so they cannot disagree on what the patient would see.
use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::definition::Definition;
use super::engine::{self, Action, Ctx, Input, State};

/// At most this many answers are replayed (a preview, not a load test).
pub const MAX_ANSWERS: usize = 100;

/// One turn: the patient's answer (none for the start), then what the flow did.
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    pub answer: Option<String>,
    pub actions: Vec<Action>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Played {
    pub turns: Vec<Turn>,
    pub state: State,
}

/// The draft from its start through `answers` (those after the run ended are not played).
/// Call only with a definition without problems (`Definition::check`).
pub fn play(def: &Definition, answers: &[String], today: NaiveDate) -> Played {
    let ctx = Ctx { today };
    let (mut run, actions) = engine::start(def, 0, BTreeMap::new());
    let mut turns = vec![Turn {
        answer: None,
        actions,
    }];
    for a in answers.iter().take(MAX_ANSWERS) {
        if run.state != State::Running {
            break;
        }
        let (next, actions) = engine::advance(def, &run, Input::Text(a), ctx);
        run = next;
        turns.push(Turn {
            answer: Some(a.clone()),
            actions,
        });
    }
    Played {
        turns,
        state: run.state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::engine::Say;
    use crate::flows::sample;

    #[test]
    fn the_sample_asks_its_first_question_and_stops_replaying_once_it_ends() {
        let def = sample::intake(None);
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
        let played = play(&def, &[], today);
        assert_eq!(played.state, State::Running);
        assert_eq!(played.turns.len(), 1);
        assert!(played.turns[0].actions.iter().any(|a| matches!(
            a,
            Action::Say(Say::Choice { .. }) | Action::Say(Say::Text { .. })
        )));
        let many: Vec<String> = (0..MAX_ANSWERS + 50).map(|_| "？？".to_string()).collect();
        let played = play(&def, &many, today);
        assert_ne!(
            played.state,
            State::Running,
            "unreadable answers end in a hand-over"
        );
        assert!(played.turns.len() <= MAX_ANSWERS + 1);
    }
}
