//! Automation (自動応答, issue 12): what answers and shapes a patient's chat when no person needs to. This crate
//! owns the automation tables (migrations 0023, 0028–0032) and decides; `dispatch` runs its steps in the
//! "who answers" order and sends through the outbox.
//! - `matching`: keyword rules' spellings compared in `core::text::match_form` (width, kana,
//!   case and surrounding punctuation ignored), or a size-limited pattern;
//! - `rules`: keyword auto-replies (per channel, active hours, optional hand-off to a team);
//! - `settings`: the away message, the human escape words, the quiet window;
//! - `greetings`: the greeting per channel, once per identity;
//! - `conversation`: per-conversation state (handed to a person, away message sent, answered
//!   messages claimed once, whether a person is handling it);
//! - `away`: whether the clinic is closed and the next opening in Japanese;
//! - `lines`: the visible line on the conversation saying what automation did and why;
//! - `flows`: dialogues built by staff (questions, branches, fields, tags, priority, a team,
//!   webhooks, a hand-over): the pure engine, its versions and runs, and their jobs;
//! - `sequences`: step (drip) sequences (ステップ配信): triggers, steps at clinic-local times,
//!   enrollments stopped by blocking, consent withdrawal or the goal tag;
//! - `sources`: where patients come from (流入経路): sources with codes and chat links for
//!   their QR codes, attribution of a message carrying a code (tag, counted once);
//! - `source_edits`: a source's name and tag checked, renaming, removing, the daily CSV;
//! - `satisfaction`: the satisfaction survey (満足度アンケート) after a resolve, its answers
//!   and the results per month, staff member and team;
//! - `faq`: the FAQ menu (よくある質問メニュー): questions with the clinic's answers, shown as
//!   a choice each channel renders natively, answered by tap, label or a typed number while it
//!   waits;
//! - `richmenu`: LINE rich menus managed from tsunagu (drafts, images, areas, publishing,
//!   the default menu, tag rules and bulk relinking through outbox jobs).
pub mod away;
pub mod conversation;
pub mod event_rules;
pub mod faq;
pub mod flows;
pub mod greetings;
pub mod line_login;
pub mod lines;
pub mod matching;
pub mod richmenu;
pub mod rules;
pub mod satisfaction;
pub mod sequences;
pub mod settings;
pub mod source_edits;
pub mod sources;
