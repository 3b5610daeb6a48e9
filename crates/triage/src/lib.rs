//! Red-flag triage of patients' messages (issue 13): a maintained list of Japanese and English
//! phrases and patterns for emergencies, matched locally in the shared normalized form with
//! triage's own handling of okurigana, negation, past and resolved mentions, hypotheticals and
//! questions; each hit names its rule and its span in the original text. Also a small lexicon
//! sentiment (positive / neutral / negative), never used for clinical decisions.
//!
//! Pure: no database, no I/O. Nothing here logs.

mod context;
mod context_en;
mod context_ja;
pub mod evaluation;
mod matcher;
mod normalize;
mod rules;
mod sentiment;
mod words;

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

pub use rules::RuleInfo;
pub use sentiment::{sentiment, Sentiment};

/// What kind of emergency a rule recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ChestPain,
    Breathing,
    Stroke,
    Bleeding,
    Unconscious,
    Anaphylaxis,
    Seizure,
    Suicidal,
    ChildFever,
    Other,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::ChestPain,
        Category::Breathing,
        Category::Stroke,
        Category::Bleeding,
        Category::Unconscious,
        Category::Anaphylaxis,
        Category::Seizure,
        Category::Suicidal,
        Category::ChildFever,
        Category::Other,
    ];

    /// The stable name (`chest_pain`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::ChestPain => "chest_pain",
            Category::Breathing => "breathing",
            Category::Stroke => "stroke",
            Category::Bleeding => "bleeding",
            Category::Unconscious => "unconscious",
            Category::Anaphylaxis => "anaphylaxis",
            Category::Seizure => "seizure",
            Category::Suicidal => "suicidal",
            Category::ChildFever => "child_fever",
            Category::Other => "other",
        }
    }

    /// The category named `s` (`as_str`'s inverse).
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A phrase a clinic adds to the built-in list, in the same notation as the built-in patterns:
/// a literal (`動悸が止まらない`), `{a|b}` alternatives, and `A…B` for "A, then B within a few
/// characters" (`胸…苦し`). Matched in the normalized form (width, kana, case folded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraPhrase {
    pub phrase: String,
    pub category: Category,
}

/// Why a clinic's phrase cannot be used, as a stable code for the settings page's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhraseProblem {
    /// No letter or digit in it, or in one of its `…` parts (blank, only marks like `。`).
    Empty,
    /// Longer than `ExtraPhrase::MAX_CHARS`.
    TooLong,
}

impl PhraseProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            PhraseProblem::Empty => "triage_phrase_empty",
            PhraseProblem::TooLong => "triage_phrase_too_long",
        }
    }
}

impl ExtraPhrase {
    /// The longest phrase a clinic may add, in chars as typed.
    pub const MAX_CHARS: usize = 100;

    /// Whether `with_clinic` can use the phrase (it skips one it cannot): check before saving.
    pub fn check(&self) -> Result<(), PhraseProblem> {
        if self.phrase.chars().count() > Self::MAX_CHARS {
            return Err(PhraseProblem::TooLong);
        }
        let lettered = |part: &str| part.chars().any(char::is_alphanumeric);
        let parts: Vec<String> = self
            .phrase
            .replace("...", "…")
            .split('…')
            .map(String::from)
            .collect();
        if !parts.iter().all(|p| lettered(p)) || rules::Rule::clinic(1, self).is_none() {
            return Err(PhraseProblem::Empty);
        }
        Ok(())
    }
}

/// A clinic's own changes to the built-in list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicRules {
    pub extra: Vec<ExtraPhrase>,
    /// Ids of built-in rules the clinic switched off (`RuleInfo::id`).
    pub disabled: Vec<String>,
}

/// What triage found in one message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Any red flag: the message and conversation become urgent.
    pub urgent: bool,
    /// A suicidal-intent hit: the crisis lines are sent instead of the emergency guidance.
    pub crisis: bool,
    pub hits: Vec<Hit>,
}

/// One rule that matched, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub rule_id: String,
    pub category: Category,
    /// The rule's pattern that matched, as staff read it (`胸…痛`).
    pub phrase: String,
    /// Byte span in the original text (char boundaries), for highlighting.
    pub start: usize,
    pub end: usize,
}

/// The compiled rule list. Built once (parsing and expanding the patterns), then cheap to share
/// and to run on every inbound message.
#[derive(Clone, Debug)]
pub struct Detector {
    compiled: Arc<words::Compiled>,
}

impl Detector {
    /// The maintained list shipped in the crate (`rules/*.toml`).
    pub fn builtin() -> Detector {
        Detector {
            compiled: Arc::clone(builtin()),
        }
    }

    /// The built-in list without the clinic's disabled ids, plus its own phrases (ids
    /// `clinic.1`, `clinic.2`, … in the order given). A phrase `ExtraPhrase::check` refuses is
    /// skipped.
    pub fn with_clinic(clinic: &ClinicRules) -> Detector {
        let mut list: Vec<rules::Rule> = builtin()
            .rules
            .iter()
            .filter(|r| !clinic.disabled.iter().any(|d| d == &r.info.id))
            .cloned()
            .collect();
        for (i, extra) in clinic.extra.iter().enumerate() {
            if extra.check().is_err() {
                continue;
            }
            if let Some(rule) = rules::Rule::clinic(i + 1, extra) {
                list.push(rule);
            }
        }
        Detector {
            compiled: Arc::new(words::Compiled::new(list)),
        }
    }

    /// Red flags in `text`.
    pub fn assess(&self, text: &str) -> Assessment {
        let norm = normalize::Normalized::new(text);
        let found = self.compiled.find(&norm);
        let mut hits = Vec::new();
        if !found.is_empty() {
            for rule in &self.compiled.rules {
                matcher::hits_of(rule, &norm, &found, &mut hits);
            }
        }
        hits.sort_by_key(|h| (h.start, h.end));
        Assessment {
            urgent: !hits.is_empty(),
            crisis: hits.iter().any(|h| h.category == Category::Suicidal),
            hits,
        }
    }
}

fn builtin() -> &'static Arc<words::Compiled> {
    static RULES: OnceLock<Arc<words::Compiled>> = OnceLock::new();
    RULES.get_or_init(|| Arc::new(words::Compiled::new(rules::builtin())))
}

/// The built-in rules, for the settings page (to show and to disable by id).
pub fn builtin_rules() -> &'static [RuleInfo] {
    static INFOS: OnceLock<Vec<RuleInfo>> = OnceLock::new();
    INFOS.get_or_init(|| builtin().rules.iter().map(|r| r.info.clone()).collect())
}
