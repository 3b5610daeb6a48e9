//! The consent page (`/app/patients/{id}/consent`) over the real router: badges per purpose ×
//! channel, the history, staff entries that need a reason, and a message for a purpose that is
//! refused with the ledger's reason. SQLite by default, PostgreSQL with `TEST_DATABASE_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "inbox/support.rs"]
mod support;

use axum::http::StatusCode;
use tsunagu_core::Role;

use support::{app, T0};

#[tokio::test]
async fn staff_record_a_withdrawal_with_a_reason_and_see_it_in_the_history() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let page = format!("/app/patients/{}/consent", c.patient_id);

    let res = app.get(&page, &me).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text.contains("山田 花子") && res.text.contains("配信の同意"));
    assert!(
        res.text.contains("同意あり(本人からの連絡)"),
        "care is implied: the patient wrote"
    );
    assert!(res.text.contains("まだ記録はありません。"));
    assert!(!res.text.contains("style=") && res.text.matches("<script").count() == 1);

    let mut fields = vec![
        ("csrf_token", me.csrf.as_str()),
        ("purpose", "marketing"),
        ("channel", s.channel.as_str()),
        ("decision", "withdraw"),
        ("source", "staff"),
        ("wording", "お知らせ・キャンペーンの配信を停止します"),
        ("reason", ""),
    ];
    let res = app.post_form(&page, &me, &fields).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text.contains("理由を入力してください。"),
        "the reason is required"
    );
    assert!(
        res.text
            .contains("お知らせ・キャンペーンの配信を停止します"),
        "the typed words are kept"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM consent_events WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        0
    );

    fields[6] = ("reason", "受付で口頭にて申し出");
    let res = app.post_form(&page, &me, &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let res = app.get(res.location(), &me).await;
    assert!(res.text.contains("記録しました。"));
    assert_eq!(res.text.matches(r#"data-testid="consent-line""#).count(), 1);
    assert!(
        res.text.contains("受付で口頭にて申し出")
            && res.text.contains("受付 佐藤")
            && res.text.contains("スタッフ入力")
    );
    assert!(res.text.contains(r#"data-status="withdrawn""#));
    let audits = app.audits("consent.withdraw").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].0.as_deref(), Some(me.staff_id.as_str()));
    assert_eq!(audits[0].1, format!("[\"{}\"]", c.patient_id));
}

#[tokio::test]
async fn a_message_for_a_purpose_without_consent_shows_the_reason_and_care_goes_out() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let path = format!("/app/patients/{}/consent/send", c.patient_id);

    // A campaign is not a receptionist's to send, whatever the consent says.
    let mut marketing = [
        ("csrf_token", me.csrf.as_str()),
        ("purpose", "marketing"),
        ("channel", ""),
        ("text", "秋のキャンペーンのお知らせです"),
    ];
    let res = app.post_form(&path, &me, &marketing).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text
            .contains("この種類のメッセージを送る権限がありません"),
        "{}",
        res.text
    );
    let page = app
        .get(&format!("/app/patients/{}/consent", c.patient_id), &me)
        .await;
    let send_select = page.text.split(r#"id="send-purpose""#).nth(1).unwrap();
    let send_select = send_select.split("</select>").next().unwrap();
    assert!(send_select.contains(r#"value="care""#), "{send_select}");
    assert!(
        !send_select.contains(r#"value="marketing""#),
        "{send_select}"
    );

    let owner = app.sign_in(&s.clinic, Role::Owner, "院長 田中").await;
    marketing[0] = ("csrf_token", owner.csrf.as_str());
    let res = app.post_form(&path, &owner, &marketing).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text
            .contains("「お知らせ・キャンペーン」を送る同意を患者さんから得ていません"),
        "{}",
        res.text
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = $1", "out")
            .await,
        0
    );

    let care = [
        ("csrf_token", me.csrf.as_str()),
        ("purpose", "care"),
        ("channel", ""),
        ("text", "検査結果が出ました"),
    ];
    let res = app.post_form(&path, &me, &care).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM messages WHERE send_basis = $1",
            "purpose:care"
        )
        .await,
        1
    );
    assert_eq!(app.audits("message.send").await.len(), 1);
}

#[tokio::test]
async fn an_inbox_reply_long_after_the_patient_wrote_points_to_the_consent_page() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    app.clock.advance(chrono::Duration::days(8));
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let path = format!("/app/conversations/{}/reply", c.id);
    let res = app
        .post_form(
            &path,
            &me,
            &[
                ("csrf_token", me.csrf.as_str()),
                ("text", "その後いかがですか"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("返信としては送れません"), "{}", res.text);
}

#[tokio::test]
async fn an_analyst_cannot_open_the_consent_page() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app.sign_in(&s.clinic, Role::Analyst, "分析 田中").await;
    let res = app
        .get(&format!("/app/patients/{}/consent", c.patient_id), &me)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[test]
fn every_key_in_the_consent_template_is_translated() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/consent/page.html");
    let text = std::fs::read_to_string(path).unwrap();
    let mut missing = Vec::new();
    for quote in ['"', '\''] {
        for piece in text.split(&format!("t(lang, {quote}")).skip(1) {
            let key = piece.split(quote).next().unwrap();
            for lang in ["ja", "en"] {
                if !key.ends_with('.') && tsunagu_web::i18n::text(lang, key) == key {
                    missing.push(format!("{lang}: {key}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "untranslated: {missing:?}");
}

#[tokio::test]
async fn a_broadcaster_cannot_send_a_care_message_and_nothing_is_queued() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app.sign_in(&s.clinic, Role::Broadcaster, "広報 鈴木").await;
    let path = format!("/app/patients/{}/consent/send", c.patient_id);
    let care = [
        ("csrf_token", me.csrf.as_str()),
        ("purpose", "care"),
        ("channel", ""),
        ("text", "検査結果が出ました"),
    ];
    let res = app.post_form(&path, &me, &care).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text
        .contains("この種類のメッセージを送る権限がありません"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = $1", "out")
            .await,
        0
    );
}

#[tokio::test]
async fn a_patients_pages_share_the_page_frame_with_tabs_and_a_way_back() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app.sign_in(&s.clinic, Role::Owner, "院長").await;
    let patient = format!("/app/patients/{}", c.patient_id);
    for (tab, path) in [
        ("consent", format!("{patient}/consent")),
        ("identity", format!("{patient}/identity")),
        ("privacy", format!("{patient}/privacy")),
    ] {
        let res = app.get(&path, &me).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        let page = res.text;
        // The framed column every other page uses, not content flush left.
        assert!(page.contains(r#"<div class="audit "#), "{path}: {page}");
        assert!(
            page.contains(&format!(r#"<a class="back-link" href="{patient}""#)),
            "{path}: no way back"
        );
        assert!(page.contains(r#"data-testid="patient-tabs""#), "{path}");
        assert!(
            page.contains(&format!(
                r#"href="{path}" aria-current="page" data-testid="tab-{tab}""#
            )),
            "{path}: its own tab is not current"
        );
    }
}
