//! UI strings: `locales/{ja,en}/*.toml` (flat `key = "text"` tables, one file per area),
//! compiled in. Japanese when the clinic's locale is ja; a missing key falls back to English,
//! then to the key itself (so a gap is visible, never a crash).
use std::collections::HashMap;
use std::sync::OnceLock;

use rust_embed::RustEmbed;

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
