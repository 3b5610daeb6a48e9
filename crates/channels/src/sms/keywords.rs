//! Twilio's default opt-out / opt-in / help keywords.

/// What a default keyword does on Twilio's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// Twilio blocks further messages to the sender.
    OptOut,
    /// Twilio lifts the block.
    OptIn,
    /// Twilio answers with the help text.
    Help,
}

const OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "REVOKE",
];
const OPT_IN: [&str; 3] = ["START", "YES", "UNSTOP"];
const HELP: [&str; 2] = ["HELP", "INFO"];

/// Twilio doc: Messaging › Advanced Opt-Out › "Default opt-out, opt-in and help keywords" —
/// the whole message, trimmed, matched case-insensitively. ASCII-only folding, so look-alikes
/// (e.g. `ſtop`, full-width `ＳＴＯＰ`) are not keywords, just as Twilio does not treat them.
pub fn classify(body: &str) -> Option<Keyword> {
    let word = body.trim();
    let hit = |list: &[&str]| list.iter().any(|k| k.eq_ignore_ascii_case(word));
    if hit(&OPT_OUT) {
        Some(Keyword::OptOut)
    } else if hit(&OPT_IN) {
        Some(Keyword::OptIn)
    } else if hit(&HELP) {
        Some(Keyword::Help)
    } else {
        None
    }
}
