//! The privacy pages over the real router: exports for owners and admins, erasure only after
//! the patient's name is typed and a reason given, retention settings for admins.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "inbox/support.rs"]
mod support;

use axum::http::StatusCode;
use tsunagu_core::Role;

use support::{app, T0};

#[tokio::test]
async fn an_admin_exports_then_erases_a_patient_after_typing_their_name() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "腰が痛みます", T0)
        .await;
    let page = format!("/app/patients/{}/privacy", c.patient_id);

    let desk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let res = app.get(&page, &desk).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res
        .text
        .contains("書き出しはオーナーと管理者のみ行えます。"));
    let res = app.get(&format!("{page}/export.json"), &desk).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let admin = app.sign_in(&s.clinic, Role::Admin, "管理 鈴木").await;
    let res = app.get(&page, &admin).await;
    assert!(res.text.contains(r#"data-testid="erase-form""#));
    assert!(!res.text.contains("style=") && res.text.matches("<script").count() == 1);
    let res = app.get(&format!("{page}/export.html"), &admin).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text.contains("腰が痛みます") && res.text.contains("患者さんの情報(開示用)"));
    let res = app.get(&format!("{page}/export.json"), &admin).await;
    assert!(res.text.contains("腰が痛みます"));
    assert_eq!(app.audits("patient.export").await.len(), 2);

    let action = format!("{page}/erase");
    let mut fields = vec![
        ("csrf_token", admin.csrf.as_str()),
        ("confirm_name", "山田"),
        ("reason", "本人からの請求"),
    ];
    let res = app.post_form(&action, &admin, &fields).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("入力された氏名が一致しません。"));
    fields[1] = ("confirm_name", "山田 花子");
    let res = app.post_form(&action, &admin, &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE id = $1", &c.patient_id)
            .await,
        0
    );
    assert_eq!(app.audits("patient.erased").await.len(), 1);
    assert_eq!(app.get(&page, &admin).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admins_set_retention_and_others_may_not() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let desk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    assert_eq!(
        app.get("/app/settings/retention", &desk).await.status,
        StatusCode::FORBIDDEN
    );
    let admin = app.sign_in(&s.clinic, Role::Owner, "院長").await;
    let res = app.get("/app/settings/retention", &admin).await;
    assert!(res.text.contains(r#"value="30""#) && res.text.contains(r#"value="5""#));
    // A tab among the settings, current here and reachable from the others.
    assert!(
        res.text
            .contains(r#"href="/app/settings/retention" aria-current="page""#),
        "{}",
        res.text
    );
    let calendar = app.get("/app/settings/calendar", &admin).await.text;
    assert!(calendar.contains(r#"data-testid="settings-nav-retention""#));
    let bad = [
        ("csrf_token", admin.csrf.as_str()),
        ("raw_webhook_body_days", "0"),
        ("conversation_years", "5"),
    ];
    let res = app.post_form("/app/settings/retention", &admin, &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text
        .contains("保存日数は 1〜3650 の整数で入力してください。"));
    let good = [
        ("csrf_token", admin.csrf.as_str()),
        ("raw_webhook_body_days", "14"),
        ("conversation_years", "7"),
    ];
    let res = app
        .post_form("/app/settings/retention", &admin, &good)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = app.get(res.location(), &admin).await;
    assert!(res.text.contains("保存しました。") && res.text.contains(r#"value="14""#));
    assert_eq!(app.audits("retention.updated").await.len(), 1);
}

/// The audit page names patients and staff, speaks every action in words and narrows by
/// staff member, action, patient and date, keeping the filters on the next page's link.
#[tokio::test]
async fn the_audit_page_names_people_and_filters_by_staff_action_patient_and_date() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let hanako = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let ichiro = app
        .conversation(&s, "U2", "鈴木 一郎", "こんにちは", T0)
        .await;
    let desk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let nurse = app.sign_in(&s.clinic, Role::Clinician, "看護 田中").await;
    // Real reads, each recorded by the page: the consent and identity pages of two patients.
    for (who, p) in [(&desk, &hanako), (&nurse, &ichiro)] {
        for tab in ["consent", "identity"] {
            let path = format!("/app/patients/{}/{tab}", p.patient_id);
            assert_eq!(app.get(&path, who).await.status, StatusCode::OK);
        }
    }
    let owner = app.sign_in(&s.clinic, Role::Owner, "院長").await;
    let rows = |html: &str| html.matches("data-testid=\"audit-row\"").count();

    let all = app.get("/app/audit", &owner).await.text;
    assert!(
        all.contains("同意の閲覧") && all.contains("本人確認の閲覧"),
        "{all}"
    );
    assert!(!all.contains(">consent.read<") && !all.contains(">identity.read<"));
    assert!(
        all.contains(">山田 花子</a>") && all.contains(">鈴木 一郎</a>"),
        "{all}"
    );
    assert!(!all.contains(&format!(">{}<", hanako.patient_id)));

    let by_desk = app
        .get(&format!("/app/audit?staff={}", desk.staff_id), &owner)
        .await
        .text;
    assert_eq!(rows(&by_desk), 2, "{by_desk}");
    assert!(by_desk.contains("山田 花子") && !by_desk.contains(">鈴木 一郎</a>"));

    let consent_reads = app.get("/app/audit?action=consent.read", &owner).await.text;
    assert_eq!(rows(&consent_reads), 2);
    assert!(consent_reads.contains(r#"<option value="consent.read" selected>"#));

    // By the patient's name: their reads only (the patient list reads name both and are not
    // made here).
    let suzuki = app
        .get("/app/audit?patient=%E9%88%B4%E6%9C%A8", &owner)
        .await
        .text;
    assert_eq!(rows(&suzuki), 2, "{suzuki}");
    assert!(!suzuki.contains(">山田 花子</a>"));
    let nobody = app
        .get(
            "/app/audit?patient=%E5%AD%98%E5%9C%A8%E3%81%97%E3%81%AA%E3%81%84",
            &owner,
        )
        .await
        .text;
    assert_eq!(rows(&nobody), 0);
    assert!(nobody.contains("data-testid=\"audit-none\""));

    // T0 is 2026-11-23 in Tokyo: nothing the day before, everything that day.
    let before = app
        .get("/app/audit?from=2026-11-20&to=2026-11-22", &owner)
        .await
        .text;
    assert_eq!(rows(&before), 0, "{before}");
    let that_day = app
        .get(
            "/app/audit?from=2026-11-23&to=2026-11-23&action=identity.read",
            &owner,
        )
        .await
        .text;
    assert_eq!(rows(&that_day), 2, "{that_day}");
}
