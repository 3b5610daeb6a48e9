//! Flows (フロー, issue 12 item 4): dialogues built by staff without code — questions with
//! validation, branches, patient fields, tags, priority, a team, webhooks, a hand-over.
//! - `definition`: what a version freezes (serde JSON) and its checks;
//! - `input`: reading answers (choices, Japanese dates, numbers);
//! - `engine`: the pure step machine (`start`, `advance`);
//! - `sample`: the sample 「初診問診」;
//! - `preview`: a draft replayed for the builder and the API, nothing stored.
pub mod definition;
pub mod engine;
pub mod input;
pub mod jobs;
pub mod preview;
pub mod runtime;
pub mod sample;
pub mod store;

pub use definition::Definition;
pub use engine::{advance, start, Action, Ctx, Input, Run, Say, State};

#[cfg(test)]
mod tests;
