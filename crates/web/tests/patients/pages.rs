use axum::http::StatusCode;
use tsunagu_core::Role;

use super::ui_support::{app, T0};

#[tokio::test]
async fn the_list_shows_patients_with_the_unverified_badge_and_finds_kana_in_any_script() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    app.conversation(&s, "U1", "やまだ はなこ", "こんにちは", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let res = app.get("/app/patients", &me).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.text.contains("data-testid=\"nav-patients\""),
        "the nav has 患者"
    );
    assert!(res.text.contains("やまだ はなこ"));
    assert!(
        res.text.contains("unverified-badge"),
        "a provisional patient is marked unverified"
    );
    for q in ["%E3%83%A4%E3%83%9E%E3%83%80", "%E3%82%84%E3%81%BE%E3%81%A0"] {
        let res = app.get(&format!("/app/patients?q={q}"), &me).await;
        assert_eq!(
            res.text.matches("data-testid=\"patient-row\"").count(),
            1,
            "{q}"
        );
    }
    let res = app.get("/app/patients?q=%E4%BD%90%E8%97%A4", &me).await;
    assert!(res.text.contains("patients-empty"));
    assert_eq!(
        app.audits("patient.list").await.len(),
        4,
        "one event per page view"
    );
}

#[tokio::test]
async fn analysts_may_not_see_patients() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app.conversation(&s, "U1", "山田", "こんにちは", T0).await;
    let analyst = app.sign_in(&s.clinic, Role::Analyst, "分析 担当").await;
    for path in [
        "/app/patients".to_string(),
        format!("/app/patients/{}", c.patient_id),
        "/app/patients/new".into(),
    ] {
        assert_eq!(
            app.get(&path, &analyst).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let res = app
        .post_form(
            "/app/patients/new",
            &analyst,
            &[("csrf_token", &analyst.csrf), ("name", "x")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(!app
        .get("/app/inbox", &analyst)
        .await
        .text
        .contains("nav-patients"));
}

#[tokio::test]
async fn staff_create_a_record_and_refused_fields_are_shown_on_the_form() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let form = |phone: &'static str| {
        vec![
            ("csrf_token", me.csrf.as_str()),
            ("name", "山田 太郎"),
            ("kana", "やまだ"),
            ("birth_date", "S50.4.1"),
            ("sex", "male"),
            ("phone", phone),
            ("tags", "新患; 定期"),
        ]
    };
    let res = app
        .post_form("/app/patients/new", &me, &form("090-12"))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("data-testid=\"error-phone\""));
    assert!(res.text.contains("電話番号が正しくありません"));
    assert!(
        res.text.contains("value=\"090-12\""),
        "what was typed stays"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM patients WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        0
    );

    let res = app
        .post_form("/app/patients/new", &me, &form("090-1234-5678"))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = app.get(res.location(), &me).await;
    assert!(page.text.contains("患者を登録しました"));
    assert!(page.text.contains("ヤマダ"));
    assert!(page.text.contains("1975-04-01（昭和50年4月1日）"));
    assert!(page.text.contains("090-1234-5678"));
    assert!(
        !page.text.contains("unverified-badge"),
        "a record staff entered has no unverified identity"
    );

    let no_csrf = app
        .post_form("/app/patients/new", &me, &[("name", "山田")])
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_record_page_shows_identities_conversations_and_the_consent_and_identity_tabs() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "予約したいです", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let res = app
        .get(&format!("/app/patients/{}", c.patient_id), &me)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let html = res.urls();
    assert!(html.contains("data-testid=\"unverified-badge\""));
    assert!(html.contains("data-testid=\"identity-unverified\""));
    assert!(html.contains("友だち"), "the follow state is shown");
    assert!(html.contains(&format!("href=\"/app/conversations/{}\"", c.id)));
    assert!(html.contains(&format!("href=\"/app/patients/{}/consent\"", c.patient_id)));
    assert!(html.contains(&format!("href=\"/app/patients/{}/identity\"", c.patient_id)));
    assert!(html.contains("data-testid=\"patient-form\""));
    assert_eq!(app.audits("patient.read").await.len(), 1);

    // The conversation header links the name to this page.
    let conv = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    assert!(conv
        .urls()
        .contains(&format!("/app/conversations/{}/patient", c.id)));
    let hop = app
        .get(&format!("/app/conversations/{}/patient", c.id), &me)
        .await;
    assert_eq!(hop.location(), format!("/app/patients/{}", c.patient_id));
}

#[tokio::test]
async fn an_edit_saves_and_another_clinics_patient_is_not_found() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let other = app.clinic("other", "よそ医院").await;
    let mine = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let theirs = app
        .conversation(&other, "U2", "他院 患者", "こんにちは", T0)
        .await;
    let me = app.sign_in(&s.clinic, Role::Clinician, "医師 鈴木").await;
    let path = format!("/app/patients/{}", mine.patient_id);
    let fields = [
        ("csrf_token", me.csrf.as_str()),
        ("name", "山田 花子"),
        ("card_number", "ＡＢ－１２"),
        ("email", ""),
    ];
    let res = app.post_form(&path, &me, &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = app.get(res.location(), &me).await;
    assert!(page.text.contains("AB12") && page.text.contains("保存しました"));
    assert_eq!(app.audits("patient.update").await.len(), 1);

    let theirs_path = format!("/app/patients/{}", theirs.patient_id);
    assert_eq!(
        app.get(&theirs_path, &me).await.status,
        StatusCode::NOT_FOUND
    );
    let res = app
        .post_form(
            &theirs_path,
            &me,
            &[("csrf_token", me.csrf.as_str()), ("name", "乗っ取り")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/app/patients/not-a-uuid", &me).await.status,
        StatusCode::NOT_FOUND
    );

    let broadcaster = app.sign_in(&s.clinic, Role::Broadcaster, "配信 担当").await;
    let view = app.get(&path, &broadcaster).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(
        !view.text.contains("data-testid=\"patient-form\""),
        "no edit form without Reply"
    );
    let res = app
        .post_form(
            &path,
            &broadcaster,
            &[("csrf_token", broadcaster.csrf.as_str()), ("name", "x")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_patient_known_only_by_their_number_is_named_in_the_national_format_everywhere() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "+819012345678", "+819012345678", "予約したいです", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    for path in [
        "/app/inbox".to_string(),
        format!("/app/conversations/{}", c.id),
        "/app/patients".to_string(),
        format!("/app/patients/{}", c.patient_id),
        format!("/app/patients/{}/consent", c.patient_id),
        format!("/app/patients/{}/identity", c.patient_id),
    ] {
        let res = app.get(&path, &me).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(res.text.contains("090-1234-5678"), "{path}: {}", res.text);
        assert!(!res.text.contains(">+819012345678<"), "{path}");
    }
}

#[tokio::test]
async fn the_language_is_picked_by_name_stored_as_its_code_and_shown_by_name() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "グエン ヴァン アン", "こんにちは", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let path = format!("/app/patients/{}", c.patient_id);
    let form = app.get(&path, &me).await.text;
    assert!(form.contains(r#"<select id="pf-language" name="language""#));
    assert!(form.contains(r#"<option value="vi">Tiếng Việt(ベトナム語)</option>"#));
    let fields = [
        ("csrf_token", me.csrf.as_str()),
        ("name", "グエン ヴァン アン"),
        ("language", "vi"),
    ];
    let res = app.post_form(&path, &me, &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let stored = app
        .count(
            "SELECT COUNT(*) FROM patients WHERE id = $1 AND language = 'vi'",
            &c.patient_id,
        )
        .await;
    assert_eq!(stored, 1, "the code is stored");
    let page = app.get(&path, &me).await.text;
    assert!(page.contains(r#"<option value="vi" selected>"#), "{page}");
    let facts = page
        .split("data-testid=\"patient-facts\"")
        .nth(1)
        .and_then(|rest| rest.split("</dl>").next())
        .unwrap_or_default()
        .to_string();
    assert!(facts.contains("Tiếng Việt(ベトナム語)"), "{facts}");
    assert!(!facts.contains(">vi<"), "{facts}");
}

/// The page's text as a person reads it: tags dropped, attributes (hrefs, form values) unseen.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn the_identity_page_names_people_and_a_proxy_is_picked_by_searching_for_them() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let child = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let parent = app
        .conversation(&s, "U2", "山田 太郎", "娘の予約です", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let page = format!("/app/patients/{}/identity", child.patient_id);
    let html = app.get(&page, &me).await.text;
    assert!(
        !html.contains("アカウントID") && !html.contains("患者ID"),
        "no id to type"
    );

    // Searching by name offers the other 山田, never the patient themself.
    let found = app.get(&format!("{page}?proxy_q=山田"), &me).await.text;
    let offered: Vec<&str> = found
        .split("data-testid=\"proxy-candidate\"")
        .skip(1)
        .collect();
    assert_eq!(offered.len(), 1, "{found}");
    assert!(offered[0].contains(&format!("value=\"{}\"", parent.patient_id)));
    assert!(offered[0].contains("山田 太郎"));

    let res = app
        .post_form(
            &format!("{page}/proxies"),
            &me,
            &[
                ("csrf_token", me.csrf.as_str()),
                ("proxy_patient_id", parent.patient_id.as_str()),
                ("relationship", "parent"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let after = app.get(&page, &me).await.text;
    let text = visible(&after);
    assert!(text.contains("山田 太郎"), "the proxy by name: {text}");
    for id in [
        &child.patient_id,
        &parent.patient_id,
        &child.identity_id,
        &parent.identity_id,
    ] {
        assert!(
            !text.contains(id.as_str()),
            "a raw id on the page: {id}\n{text}"
        );
    }
}
