//! Service levels (返信期限 / 解決期限) on the inbox rows, the conversation's state bar and the
//! settings page, with the fake clock: a badge goes ok → warning → breached as time passes, a
//! staff reply stops the first-response clock and the patient's next message starts it again,
//! a message while the clinic is closed starts counting at the next opening, and the settings
//! refuse bad input (changing nothing) and reception, and are audited.
use axum::http::StatusCode;
use chrono::TimeZone;
use tsunagu_core::Role;

use super::support::{app, App, Seeded, Session, T0};

/// Epoch ms of a Tokyo wall time in November 2026 (T0 is Monday 11/23 09:41, a national
/// holiday the default calendar keeps closed; Tuesday opens 09:00–12:30, 14:00–18:00).
fn tokyo(d: u32, h: u32, m: u32) -> i64 {
    chrono_tz::Asia::Tokyo
        .with_ymd_and_hms(2026, 11, d, h, m, 0)
        .unwrap()
        .timestamp_millis()
}

fn at(app: &App, ms: i64) {
    let by = ms - app.now();
    assert!(by >= 0, "the fake clock only goes forward");
    app.clock.advance(chrono::Duration::milliseconds(by));
}

async fn set_targets(app: &App, me: &Session, fields: [&str; 3]) -> super::support::Res {
    let f = [
        ("csrf_token", me.csrf.as_str()),
        ("first_response", fields[0]),
        ("resolution_hours", fields[1]),
        ("warning", fields[2]),
    ];
    app.post_form("/app/settings/service-levels", me, &f).await
}

/// The row of conversation `id` in the inbox list.
async fn row(app: &App, me: &Session, id: &str) -> String {
    let res = app.get("/app/inbox", me).await;
    let page = format!("{} {} {}", res.status, res.location(), res.text);
    let start = page
        .find(&format!("data-conversation-id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row for {id}: {page}"));
    let end = page[start..].find("</li>").unwrap() + start;
    page[start..end].to_string()
}

fn badge(row: &str, kind: &str) -> Option<(String, String)> {
    let start = row.find(&format!("data-sla-kind=\"{kind}\""))?;
    let open = row[..start].rfind("<span")?;
    let tag = &row[open..];
    let class_at = tag.find("class=\"")? + 7;
    let class = tag[class_at..class_at + tag[class_at..].find('"')?].to_string();
    let text_at = tag.find('>')? + 1;
    let text = tag[text_at..text_at + tag[text_at..].find('<')?].replace("&#x2f;", "/");
    Some((class, text))
}

async fn seed(app: &App) -> (Seeded, Session) {
    let s = app.clinic("sakura", "さくら内科").await;
    let owner = app.sign_in(&s.clinic, Role::Owner, "院長").await;
    let r = set_targets(app, &owner, ["30", "8", "10"]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    (s, owner)
}

#[tokio::test]
async fn a_row_badge_goes_ok_warning_breached_and_a_reply_stops_the_clock() {
    let app = app().await;
    let (s, _) = seed(&app).await;
    // Arrives on the holiday: the clock starts at Tuesday's opening, 09:00, due 09:30.
    let c = app
        .conversation(&s, "U1", "患者 一", "予約の変更", T0)
        .await;
    let id = c.id.to_string();
    at(&app, tokyo(24, 9, 5));
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let r = row(&app, &me, &id).await;
    let (class, text) = badge(&r, "first_response").expect("a first-response badge");
    assert!(class.contains("sla-ok"), "{r}");
    assert_eq!(text, "返信期限 09:30");
    // 8 h of opening time from Tuesday 09:00: 7 h 30 min on Tuesday, 30 min on Wednesday.
    let (_, text) = badge(&r, "resolution").expect("a resolution badge");
    assert_eq!(text, "解決期限 11/25 09:30");
    // …kept out of sight on the row while the reply is what matters.
    assert!(r.contains("data-sla-quiet=\"1\""), "{r}");
    assert_eq!(r.matches(" hidden data-sla-quiet").count(), 1, "{r}");
    assert!(
        r.contains(&format!("data-sla-due=\"{}\"", tokyo(24, 9, 30))),
        "{r}"
    );
    assert!(
        r.contains(&format!("data-sla-warn=\"{}\"", tokyo(24, 9, 20))),
        "{r}"
    );

    at(&app, tokyo(24, 9, 22));
    let r = row(&app, &me, &id).await;
    let (class, text) = badge(&r, "first_response").unwrap();
    assert!(class.contains("sla-warning"), "{r}");
    assert_eq!(text, "返信期限まであと8分");

    at(&app, tokyo(24, 9, 42));
    let r = row(&app, &me, &id).await;
    let (class, text) = badge(&r, "first_response").unwrap();
    assert!(class.contains("sla-breached"), "{r}");
    assert_eq!(text, "返信期限を12分超過");
    // The patient writing again while waiting does not restart the clock.
    app.message(&s, &c, "in", "text", Some("まだですか"), "{}", app.now())
        .await;
    let r = row(&app, &me, &id).await;
    assert_eq!(badge(&r, "first_response").unwrap().1, "返信期限を12分超過");

    // A staff reply through the reply box stops it; the resolution clock still runs.
    let reply = app
        .post_form(
            &format!("/app/conversations/{id}/reply"),
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("text", "お待たせしました。"),
                ("view", "all"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let all = app.get("/app/inbox?view=all", &me).await.text;
    assert!(all.contains(&id));
    let page = app.get(&format!("/app/conversations/{id}"), &me).await.text;
    assert!(!page.contains("data-sla-kind=\"first_response\""), "{page}");
    assert!(page.contains("解決期限 11&#x2f;25 09:30"), "{page}");

    // The patient's next message starts a new wait from now.
    at(&app, tokyo(24, 9, 50));
    app.message(
        &s,
        &c,
        "in",
        "text",
        Some("ありがとうございます"),
        "{}",
        app.now(),
    )
    .await;
    let r = row(&app, &me, &id).await;
    let (class, text) = badge(&r, "first_response").unwrap();
    assert!(class.contains("sla-ok"), "{r}");
    assert_eq!(text, "返信期限 10:20");
    // …and the conversation page shows both clocks by its state bar.
    let page = app.get(&format!("/app/conversations/{id}"), &me).await.text;
    assert!(page.contains("返信期限 10:20"), "{page}");
    assert!(page.contains("/static/sla.js"));

    // Resolved: no clock at all.
    let r = app
        .post_form(
            &format!("/app/conversations/{id}/status"),
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("view", "all"),
                ("status", "resolved"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let all = app.get("/app/inbox?view=all", &me).await.text;
    assert!(
        all.contains(&id) && !all.contains("data-testid=\"sla-badge\""),
        "{all}"
    );
}

#[tokio::test]
async fn a_message_at_night_is_due_after_the_next_opening_and_the_warning_counts_back_over_the_night(
) {
    let app = app().await;
    let (s, _) = seed(&app).await;
    // Tuesday 17:45: 15 minutes before closing, 15 more from Wednesday 09:00.
    at(&app, tokyo(24, 17, 45));
    let c = app
        .conversation(&s, "U2", "患者 二", "薬がなくなりそう", app.now())
        .await;
    let id = c.id.to_string();
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let r = row(&app, &me, &id).await;
    assert!(
        r.contains(&format!("data-sla-due=\"{}\"", tokyo(25, 9, 15))),
        "{r}"
    );
    assert!(
        r.contains(&format!("data-sla-warn=\"{}\"", tokyo(25, 9, 5))),
        "{r}"
    );
    assert_eq!(
        badge(&r, "first_response").unwrap().1,
        "返信期限 11/25 09:15"
    );
    // At night nothing counts, and the row is still calm before the warning instant.
    at(&app, tokyo(25, 8, 0));
    // An idle night ends a session: sign in again.
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田 二").await;
    let r = row(&app, &me, &id).await;
    assert!(
        badge(&r, "first_response").unwrap().0.contains("sla-ok"),
        "{r}"
    );
    at(&app, tokyo(25, 9, 6));
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田 三").await;
    let r = row(&app, &me, &id).await;
    assert_eq!(
        badge(&r, "first_response").unwrap().1,
        "返信期限まであと9分"
    );
}

#[tokio::test]
async fn a_clinic_without_targets_shows_no_badge() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "患者 一", "予約の変更", T0)
        .await;
    at(&app, tokyo(24, 11, 0));
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let r = row(&app, &me, c.id.as_str()).await;
    assert!(!r.contains("sla-badge"), "{r}");
}

#[tokio::test]
async fn the_settings_refuse_bad_input_and_change_nothing() {
    let app = app().await;
    let (s, owner) = seed(&app).await;
    assert_eq!(app.audits("service_levels.update").await.len(), 1);
    for (fields, words) in [
        (
            ["abc", "8", "10"],
            "返信期限は1〜10080の数字(分)で入力してください",
        ),
        (
            ["30", "1.5", "10"],
            "解決期限は1〜720の数字(時間)で入力してください",
        ),
        (
            ["30", "8", "-1"],
            "事前の注意は1〜1440の数字(分)で入力してください",
        ),
        (
            ["10", "8", "10"],
            "事前の注意は返信期限・解決期限より短くしてください",
        ),
    ] {
        let r = set_targets(&app, &owner, fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(r.text.contains(words), "{fields:?}: {}", r.text);
        assert!(r.text.contains("変更は保存されていません"));
        // What was typed is shown again.
        assert!(
            r.text.contains(&format!("value=\"{}\"", fields[0])),
            "{}",
            r.text
        );
    }
    assert_eq!(app.audits("service_levels.update").await.len(), 1);
    let kept = app
        .count(
            "SELECT first_response_minutes * 1000000 + resolution_minutes * 100 + warning_minutes FROM service_levels WHERE clinic_id = $1",
            s.clinic.as_str(),
        )
        .await;
    assert_eq!(
        kept,
        30 * 1_000_000 + 480 * 100 + 10,
        "the saved targets stay"
    );
    // The page shows what is saved; empty fields turn a target off.
    let page = app.get("/app/settings/service-levels", &owner).await.text;
    assert!(
        page.contains("name=\"first_response\" value=\"30\""),
        "{page}"
    );
    assert!(
        page.contains("name=\"resolution_hours\" value=\"8\""),
        "{page}"
    );
    let r = set_targets(&app, &owner, ["", "", ""]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app
        .get("/app/settings/service-levels?saved=1", &owner)
        .await
        .text
        .contains("サービスレベルを保存しました。"));
    assert_eq!(app.audits("service_levels.update").await.len(), 2);
    let off = app
        .count(
            "SELECT COUNT(*) FROM service_levels WHERE clinic_id = $1 AND first_response_minutes IS NULL AND resolution_minutes IS NULL AND warning_minutes IS NULL",
            s.clinic.as_str(),
        )
        .await;
    assert_eq!(off, 1);
}

#[tokio::test]
async fn reception_may_not_see_or_change_the_service_levels() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    assert_eq!(
        app.get("/app/settings/service-levels", &me).await.status,
        StatusCode::FORBIDDEN
    );
    let r = set_targets(&app, &me, ["30", "8", "10"]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM service_levels WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        0
    );
    assert!(app.audits("service_levels.update").await.is_empty());
    // A forged form is refused too.
    let owner = app.sign_in(&s.clinic, Role::Owner, "院長").await;
    let forged = app
        .post_form(
            "/app/settings/service-levels",
            &owner,
            &[("csrf_token", "forged"), ("first_response", "30")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}
