//! The account and audit pages, and the words on every page of this area.
use axum::http::StatusCode;
use tsunagu_core::Role;
use tsunagu_privacy::audit::{self, Actor, AuditEntry};

use super::support::{app, between, Browser, T0};

#[tokio::test]
async fn a_receptionist_may_not_read_the_audit_log() {
    let app = app(false).await;
    app.staff("uketsuke@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    app.sign_in(&mut b, "uketsuke@example.jp").await;
    let res = app.get(&mut b, "/app/audit").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(!app.actions().await.contains(&"audit.read".to_string()));
}

#[tokio::test]
async fn an_owner_reads_the_audit_log_newest_first_in_clinic_time_and_the_read_is_recorded() {
    let app = app(false).await;
    let owner = app.staff("incho@example.jp", Role::Owner).await;
    let mut b = Browser::from_ip("192.0.2.10");
    app.sign_in(&mut b, "incho@example.jp").await;
    let res = app.get(&mut b, "/app/audit").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // T0 is 00:00 UTC, 09:00 in Tokyo.
    assert!(res.body.contains("2026-01-05 09:00:00"), "{}", res.body);
    assert!(
        res.body.contains(">incho<"),
        "the actor's display name: {}",
        res.body
    );
    assert!(res.body.contains("192.0.2.10"));
    assert!(
        res.body
            .contains(r#"<a href="/app/audit" aria-current="page">"#)
            && res.body.contains(r#"class="app-header""#),
        "in the app shell, with the audit entry current"
    );
    let first = between(&res.body, "data-action=\"", "\"").unwrap();
    assert_eq!(first, "auth.sign_in");
    // The signed-in staff member is named as the subject and offered as a filter.
    assert!(res
        .body
        .contains(&format!(r#"<option value="{owner}">incho</option>"#)));
    assert_eq!(
        app.actions().await.last().map(String::as_str),
        Some("audit.read")
    );
}

#[tokio::test]
async fn the_audit_log_pages_by_a_hundred_with_an_older_link() {
    let app = app(false).await;
    app.staff("incho@example.jp", Role::Owner).await;
    for i in 0..150 {
        let e = AuditEntry {
            clinic_id: Some(&app.clinic),
            actor: &Actor::System,
            action: "test.filler",
            subject_type: None,
            subject_ids: &[],
            source_ip: None,
        };
        audit::record_now(&app.db, e, T0 + i).await.unwrap();
    }
    let mut b = Browser::default();
    app.sign_in(&mut b, "incho@example.jp").await;
    let page1 = app.get(&mut b, "/app/audit").await;
    assert_eq!(page1.body.matches("data-testid=\"audit-row\"").count(), 100);
    let older = between(&page1.body, "href=\"/app/audit?before=", "\"").unwrap();
    let page2 = app.get(&mut b, &format!("/app/audit?before={older}")).await;
    // 150 fillers + staff added + sign-in = 152 rows before the first read.
    assert_eq!(page2.body.matches("data-testid=\"audit-row\"").count(), 52);
    assert!(!page2.body.contains("data-testid=\"audit-older\""));
    let seqs: Vec<i64> = page2
        .body
        .split("data-seq=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
}

#[tokio::test]
async fn the_account_page_says_who_is_signed_in_in_the_clinic_language() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Clinician).await;
    let mut b = Browser {
        accept_language: Some("en".into()),
        ..Default::default()
    };
    app.sign_in(&mut b, "sato@example.jp").await;
    let res = app.get(&mut b, "/app/account").await;
    assert_eq!(res.status, StatusCode::OK);
    // After sign-in the clinic's locale (ja) wins over the browser's.
    assert!(res.body.contains("lang=\"ja\""));
    assert!(
        res.body.contains("sato@example.jp")
            && res.body.contains("医療職")
            && res.body.contains("未設定")
    );
    assert!(
        res.body
            .contains(r#"<a href="/app/account" aria-current="page">"#)
            && res.body.contains(r#"class="app-header""#),
        "in the app shell, with the account entry current"
    );
    let forms = res.body.matches("<form").count();
    assert_eq!(res.body.matches("name=\"csrf_token\"").count(), forms);
}

/// Every `t(lang, "…")` key in this area's templates has Japanese and English words.
#[test]
fn every_key_in_the_auth_and_audit_templates_is_translated() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut missing = Vec::new();
    for sub in ["auth", "audit"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for quote in ['"', '\''] {
                let open = format!("t(lang, {quote}");
                for piece in text.split(&open).skip(1) {
                    let key = piece.split(quote).next().unwrap();
                    for lang in ["ja", "en"] {
                        if tsunagu_web::i18n::text(lang, key) == key {
                            missing.push(format!("{lang}: {key}"));
                        }
                    }
                }
            }
        }
    }
    for role in tsunagu_core::Role::ALL {
        for lang in ["ja", "en"] {
            let key = format!("auth.role.{}", role.as_str());
            if tsunagu_web::i18n::text(lang, &key) == key {
                missing.push(format!("{lang}: {key}"));
            }
        }
    }
    assert!(missing.is_empty(), "untranslated: {missing:?}");
}

#[tokio::test]
async fn the_root_address_leads_to_sign_in_and_on_to_the_app_when_signed_in() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    let res = app.get(&mut b, "/").await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/login")
    );
    app.sign_in(&mut b, "sato@example.jp").await;
    let res = app.get(&mut b, "/").await;
    assert_eq!(res.location(), "/login");
    let res = app.get(&mut b, "/login").await;
    assert_eq!(res.location(), "/app");
}
