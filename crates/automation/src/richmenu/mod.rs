//! LINE rich menus managed from tsunagu (tables `rich_menus`, `rich_menu_rules`,
//! `rich_menu_links`, `rich_menu_batches`, migration 0024): staff make a draft (name, chat bar
//! text, size), upload its image and draw its areas; publishing queues `rich_menu.publish`,
//! which creates it on LINE. One menu per channel may be the default; tag rules and custom
//! field rules (`rich_menu_field_rules`, migration 0032: 初診/再診) give patients their own menu,
//! tried in one priority order, applied by `rich_menu.assign` whenever a rule, a menu or a
//! patient's tags or fields change. LINE is only ever called from jobs (retries, backoff, rate limits).
mod assign;
mod batches;
mod field_rules;
pub mod jobs;
mod rules;
mod store;

pub use assign::desired_menu;
pub use batches::{batches_of, Batch};
pub use field_rules::{add_field_rule, delete_field_rule, field_rules, FieldRule};
pub use rules::{add_rule, delete_rule, rules, Rule};
pub use store::{
    create, delete_draft, get, image, list, request_publish, set_areas, set_default, set_image,
    update, Draft, Menu,
};

use tsunagu_channels::line::richmenu::RichMenuError;
use tsunagu_core::{Code, Refusal};

/// The refusal staff see for what LINE's limits forbid.
pub fn refusal(e: &RichMenuError) -> Refusal {
    let code = Code::parse(e.code()).unwrap_or(Code::RichMenuRejected);
    Refusal::new(code).detail(e.to_string())
}
