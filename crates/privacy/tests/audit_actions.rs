//! `audit::ACTIONS` names every action the code records: each string literal shaped like an
//! action (`area.verb`) written near the word "action" or "audit" in the workspace's sources
//! must be in the list (the audit page offers the list as a filter and a test gives each words).
use std::path::{Path, PathBuf};

use tsunagu_privacy::audit::ACTIONS;

/// Literals of that shape near those words which are not actions.
const NOT_ACTIONS: &[&str] = &[
    // Live events and a placeholder in a doc comment.
    "message.created",
    "message.updated",
    "conversation.updated",
    "x.y",
    // Words of the audit and consent pages, and a WhatsApp body path.
    "consent.title",
    "interactive.action.sections",
];

/// UI keys of the audit page (`audit.title`, `audit.actor.…`); `audit.read` is the one action.
fn audit_page_key(s: &str) -> bool {
    s.starts_with("audit.") && s != "audit.read"
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !matches!(name, "tests" | "target" | "benches" | "sandbox") {
                sources(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// "action" as a word or a name's start (`action:`, `audit_action`), not inside another word
/// (satisfaction, transaction).
fn names_action(before: &str) -> bool {
    before.match_indices("action").any(|(i, _)| {
        !before[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_lowercase())
    })
}

fn action_shaped(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// Every `"…"` literal in `text` with the 160 bytes before it.
fn literals(text: &str) -> Vec<(String, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            if let Some(len) = text[i + 1..].find('"') {
                let lit = &text[i + 1..i + 1 + len];
                let mut start = i.saturating_sub(160);
                while !text.is_char_boundary(start) {
                    start += 1;
                }
                out.push((lit.to_string(), text[start..i].to_string()));
                i += len + 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

#[test]
fn every_action_the_code_records_is_in_the_list() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 50, "the workspace's sources were not found");
    let mut unlisted = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        // Test modules record actions of their own.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for (lit, before) in literals(text) {
            let near = names_action(&before) || before.contains("audit");
            if near
                && action_shaped(&lit)
                && !ACTIONS.contains(&lit.as_str())
                && !NOT_ACTIONS.contains(&lit.as_str())
                && !audit_page_key(&lit)
            {
                unlisted.push(format!("{}: {lit}", f.display()));
            }
        }
    }
    unlisted.sort();
    unlisted.dedup();
    assert!(
        unlisted.is_empty(),
        "actions recorded but not in audit::ACTIONS (or add to NOT_ACTIONS): {unlisted:#?}"
    );
}
