use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::{app, T0};

#[tokio::test]
async fn inbox_pages_carry_the_strict_content_security_policy() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    for path in [
        "/app/inbox".to_string(),
        format!("/app/conversations/{}", c.id),
    ] {
        let res = app.get(&path, &me).await;
        assert_eq!(res.status, StatusCode::OK);
        let csp = res.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert!(res
            .text
            .contains(r#"<script src="/static/app.js" defer></script>"#));
        assert_eq!(
            res.text.matches("<script").count(),
            res.text.matches(r#"<script src="/static/"#).count(),
            "every script is a static file"
        );
    }
}

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            html_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

#[test]
fn templates_have_no_inline_script_style_or_handlers() {
    let mut files = Vec::new();
    html_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        &mut files,
    );
    assert!(files.len() >= 6, "{files:?}");
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let lower = src.to_lowercase();
        let name = f.display();
        for (i, _) in lower.match_indices("<script") {
            let tag_end = i + lower[i..].find('>').unwrap();
            assert!(
                lower[i..tag_end].contains(" src="),
                "{name}: a <script> without src"
            );
            assert!(
                lower[tag_end + 1..].starts_with("</script>"),
                "{name}: code inside a <script>"
            );
        }
        assert!(!lower.contains("<style"), "{name}: a <style> element");
        assert!(!lower.contains(" style="), "{name}: a style attribute");
        assert!(!lower.contains("javascript:"), "{name}: a javascript: URL");
        let handler = lower.split(|c: char| c.is_whitespace()).any(|w| {
            w.starts_with("on")
                && w.contains('=')
                && w[2..w.find('=').unwrap()]
                    .chars()
                    .all(|c| c.is_ascii_alphabetic())
        });
        assert!(!handler, "{name}: an inline event handler (onclick=…)");
    }
}

#[test]
fn the_script_builds_no_markup_from_strings() {
    let js = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("static/app.js"))
        .unwrap();
    for banned in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
    ] {
        assert!(!js.contains(banned), "app.js uses {banned}");
    }
}

#[test]
fn every_inbox_string_exists_in_japanese_and_english() {
    let keys = |lang: &str| -> std::collections::BTreeSet<String> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("locales/{lang}/inbox.toml"));
        let t: std::collections::BTreeMap<String, String> =
            toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        assert!(
            t.values().all(|v| !v.trim().is_empty()),
            "{lang}: an empty string"
        );
        t.into_keys().collect()
    };
    let (ja, en) = (keys("ja"), keys("en"));
    assert_eq!(
        ja.difference(&en).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "missing in English"
    );
    assert_eq!(
        en.difference(&ja).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "missing in Japanese"
    );
}

/// Every `t(lang, "…")` key in the inbox templates and the app shell has Japanese and English
/// words (keys built at render time, ending in `.`, are checked by the pages' own tests).
#[test]
fn every_key_in_the_inbox_templates_is_translated() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut files = Vec::new();
    html_files(&dir.join("inbox"), &mut files);
    files.push(dir.join("layout.html"));
    let mut missing = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for quote in ['"', '\''] {
            for piece in text.split(&format!("t(lang, {quote}")).skip(1) {
                let key = piece.split(quote).next().unwrap();
                for lang in ["ja", "en"] {
                    if !key.ends_with('.') && tsunagu_web::i18n::text(lang, key) == key {
                        missing.push(format!("{}: {lang}: {key}", f.display()));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "untranslated: {missing:?}");
}
