//! UI strings: `locales/{ja,en}/*.toml` (flat `key = "text"` tables, one file per area),
//! compiled in. Japanese when the clinic's locale is ja; a missing key falls back to English,
//! then to the key itself (so a gap is visible, never a crash).
use std::collections::HashMap;
use std::sync::OnceLock;

use rust_embed::RustEmbed;
use tsunagu_core::{Arg, Code, Refusal};

#[derive(RustEmbed)]
#[folder = "locales/"]
struct Locales;

type Catalog = HashMap<String, String>;

fn catalogs() -> &'static HashMap<String, Catalog> {
    static C: OnceLock<HashMap<String, Catalog>> = OnceLock::new();
    C.get_or_init(|| {
        let mut all: HashMap<String, Catalog> = HashMap::new();
        for path in Locales::iter() {
            let Some((lang, _)) = path.split_once('/') else {
                continue;
            };
            let Some(f) = Locales::get(&path) else {
                continue;
            };
            let text = String::from_utf8_lossy(&f.data);
            match toml::from_str::<HashMap<String, String>>(&text) {
                Ok(map) => all.entry(lang.to_string()).or_default().extend(map),
                Err(e) => tracing::error!("locale file {path} does not parse: {e}"),
            }
        }
        all
    })
}

/// The text for `key` in `lang` (ja | en).
pub fn text(lang: &str, key: &str) -> String {
    let c = catalogs();
    c.get(lang)
        .and_then(|m| m.get(key))
        .or_else(|| c.get("en").and_then(|m| m.get(key)))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// The words for a stable code: `code.<code>` in `locales/{ja,en}/codes.toml`.
pub fn code(lang: &str, code: Code) -> String {
    text(lang, &format!("code.{code}"))
}

/// A refusal in words, as staff read it on a form or page (and the API's message when it has
/// no detail): its code's text, each `{name}` filled from its args (a key arg in `lang` too);
/// one it has no value for is left out, never shown as is.
pub fn refusal(lang: &str, r: &Refusal) -> String {
    let words = code(lang, r.code);
    // Filled in one pass, so a value that itself holds `{name}` (a canned response's unknown
    // `{{variable}}`) is shown as given, never read as a placeholder.
    fill(&words, |name| {
        r.args
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, arg)| match arg {
                Arg::Text(t) => t.clone(),
                Arg::Key(k) => text(lang, k),
            })
    })
}

/// The text for `key` with each `{name}` filled from `args` (one not given is left out).
pub fn text_with(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    fill(&text(lang, key), |name| {
        args.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    })
}

/// `words` with each `{name}` replaced by its value, or dropped when none was given (lowercase
/// names only: the `{{1}}` of a template hint is text).
fn fill(words: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(words.len());
    let mut rest = words;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name = after.split_once('}').map(|(n, _)| n);
        match name {
            Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                out.push_str(&value(n).unwrap_or_default());
                rest = &after[n.len() + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// The language for a clinic locale string.
pub fn lang_for(locale: &str) -> &'static str {
    if locale.starts_with("ja") {
        "ja"
    } else {
        "en"
    }
}

/// Templates call `t(lang, "key")`.
pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_function("t", |lang: String, key: String| text(&lang, &key));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{name}` placeholders in a text, sorted.
    fn placeholders(text: &str) -> Vec<String> {
        let mut out: Vec<String> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_code_has_japanese_and_english_text() {
        let c = catalogs();
        let mut missing = Vec::new();
        for &code in Code::ALL {
            let key = format!("code.{code}");
            for lang in ["ja", "en"] {
                let words = c.get(lang).and_then(|m| m.get(&key));
                if words.is_none_or(|w| w.trim().is_empty()) {
                    missing.push(format!("{lang}: {key}"));
                }
            }
        }
        assert!(missing.is_empty(), "codes without words: {missing:#?}");
        // …and no words for a code that does not exist (a typo, or a code removed).
        let known: Vec<String> = Code::ALL.iter().map(|c| format!("code.{c}")).collect();
        let stray: Vec<&String> = c
            .values()
            .flat_map(|m| m.keys())
            .filter(|k| k.starts_with("code.") && !known.contains(k))
            .collect();
        assert!(stray.is_empty(), "words for no code: {stray:?}");
    }

    #[test]
    fn both_languages_name_the_same_values_of_a_code() {
        for &code in Code::ALL {
            let (ja, en) = (super::code("ja", code), super::code("en", code));
            assert_eq!(placeholders(&ja), placeholders(&en), "{code}: {ja} / {en}");
        }
    }

    #[test]
    fn a_refusal_reads_with_its_values_in_the_reader_s_language() {
        let r = Refusal::new(Code::ConsentRequired)
            .detail("The patient has not consented to news and offers on this channel.")
            .arg_key("purpose", "consent.purpose.marketing");
        assert!(
            refusal("ja", &r).contains("「お知らせ・キャンペーン」"),
            "{}",
            refusal("ja", &r)
        );
        assert!(
            refusal("en", &r).contains("News and offers"),
            "{}",
            refusal("en", &r)
        );
        let long = Refusal::new(Code::MessageTooLong).arg("max", 1600);
        assert!(
            refusal("ja", &long).contains("1600"),
            "{}",
            refusal("ja", &long)
        );
        assert!(
            !refusal("en", &long).contains('{'),
            "{}",
            refusal("en", &long)
        );
        // A value not given is left out; the `{{1}}` of a template hint is text and stays.
        let bare = refusal("en", &Refusal::new(Code::InvalidCredentials));
        assert!(!bare.contains('{') && !bare.is_empty(), "{bare}");
        let hint = refusal("ja", &Refusal::new(Code::InvalidTemplatePlaceholders));
        assert!(hint.contains("{{1}}"), "{hint}");
    }

    #[test]
    fn every_japanese_key_has_an_english_twin_and_back() {
        let c = catalogs();
        let (ja, en) = (
            c.get("ja").cloned().unwrap_or_default(),
            c.get("en").cloned().unwrap_or_default(),
        );
        let missing_en: Vec<_> = ja.keys().filter(|k| !en.contains_key(*k)).collect();
        let missing_ja: Vec<_> = en.keys().filter(|k| !ja.contains_key(*k)).collect();
        assert!(
            missing_en.is_empty(),
            "keys without English: {missing_en:?}"
        );
        assert!(
            missing_ja.is_empty(),
            "keys without Japanese: {missing_ja:?}"
        );
    }
}
