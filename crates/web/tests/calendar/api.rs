//! `/api/v1/calendar*`: the opening answer, reading and editing the calendar, validation,
//! scopes and clinic isolation.
use axum::http::{Method, StatusCode};
use serde_json::json;
use tsunagu_core::TokenScope;

use super::support::app;

const OPENING: &str = "/api/v1/calendar/opening";

#[tokio::test]
async fn saturday_afternoon_before_coming_of_age_day_opens_on_tuesday() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let read = app.token(&c, &[TokenScope::Read]).await;

    // `at` defaults to the clock: Saturday 2027-01-09 13:00 in Tokyo.
    let res = app.api(Method::GET, OPENING, &read, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["open"], false);
    assert_eq!(res.body["next_opening"], "2027-01-12T00:00:00.000Z");
    assert_eq!(res.body["closes_at"], serde_json::Value::Null);
    assert_eq!(res.body["timezone"], "Asia/Tokyo");

    // The same instant written with its offset; an unencoded `+` (read as a space) still works.
    for at in [
        "2027-01-09T13:00:00%2B09:00",
        "2027-01-09T13:00:00+09:00",
        "2027-01-09T04:00:00Z",
    ] {
        let res = app
            .api(Method::GET, &format!("{OPENING}?at={at}"), &read, None)
            .await;
        assert_eq!(res.body["next_opening"], "2027-01-12T00:00:00.000Z", "{at}");
    }

    // Tuesday 10:00: open now, until the lunch break.
    let res = app
        .api(
            Method::GET,
            &format!("{OPENING}?at=2027-01-12T01:00:00Z"),
            &read,
            None,
        )
        .await;
    assert_eq!(res.body["open"], true);
    assert_eq!(res.body["next_opening"], "2027-01-12T01:00:00.000Z");
    assert_eq!(res.body["closes_at"], "2027-01-12T03:30:00.000Z");
}

#[tokio::test]
async fn the_clock_moves_the_default_instant() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let token = app.token(&c, &[TokenScope::Broadcast]).await;
    // Friday 2027-01-15 18:30 in Tokyo: Saturday morning is next.
    app.clock
        .set(tsunagu_core::clock::from_ms(1_800_005_400_000));
    let res = app.api(Method::GET, OPENING, &token, None).await;
    assert_eq!(res.status, StatusCode::OK, "any scope may ask");
    assert_eq!(res.body["next_opening"], "2027-01-16T00:00:00.000Z");
}

#[tokio::test]
async fn an_unreadable_instant_is_invalid_time() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let read = app.token(&c, &[TokenScope::Read]).await;
    for at in ["tomorrow", "2027-01-09", "2027-01-09T13:00:00"] {
        let res = app
            .api(Method::GET, &format!("{OPENING}?at={at}"), &read, None)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{at}");
        assert_eq!(res.code(), "invalid_time", "{at}");
    }
}

#[tokio::test]
async fn a_new_clinic_reads_default_hours_and_two_years_of_holidays() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let read = app.token(&c, &[TokenScope::Read]).await;
    let res = app.api(Method::GET, "/api/v1/calendar", &read, None).await;
    assert_eq!(res.status, StatusCode::OK);
    let b = &res.body;
    assert_eq!(b["configured"], false);
    assert_eq!(b["national_holidays_closed"], true);
    assert_eq!(
        b["weekly"]["mon"],
        json!([{"start": "09:00", "end": "12:30"}, {"start": "14:00", "end": "18:00"}])
    );
    assert_eq!(
        b["weekly"]["sat"],
        json!([{"start": "09:00", "end": "12:30"}])
    );
    assert_eq!(b["weekly"]["sun"], json!([]));
    let hols = b["national_holidays"].as_array().unwrap();
    assert_eq!(hols.first().unwrap()["date"], "2027-01-01");
    assert_eq!(hols.last().unwrap()["date"], "2028-11-23");
    let seijin = hols.iter().find(|h| h["date"] == "2027-01-11").unwrap();
    assert_eq!(seijin["name_ja"], "成人の日");
    assert_eq!(seijin["open"], false);
}

#[tokio::test]
async fn admins_save_hours_closures_and_holidays_and_each_change_is_audited() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let admin = app.token(&c, &[TokenScope::Admin]).await;
    let at = |t: &str| format!("{OPENING}?at={t}");

    // 臨時休診 on Tuesday 2027-01-12: the opening moves to Wednesday.
    let body = json!({"date": "2027-01-12", "reason": "臨時休診 院長学会出張"});
    let res = app
        .api(
            Method::POST,
            "/api/v1/calendar/closures",
            &admin,
            Some(body.clone()),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.body["items"][0]["id"].as_str().unwrap().to_string();
    let res = app
        .api(Method::GET, &at("2027-01-09T04:00:00Z"), &admin, None)
        .await;
    assert_eq!(res.body["next_opening"], "2027-01-13T00:00:00.000Z");
    let again = app
        .api(
            Method::POST,
            "/api/v1/calendar/closures",
            &admin,
            Some(body),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "closure_exists")
    );

    // Opening on 成人の日 anyway: Monday 09:00.
    let res = app
        .api(
            Method::PUT,
            "/api/v1/calendar/holidays/2027-01-11",
            &admin,
            Some(json!({"open": true})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["name_ja"], "成人の日");
    let res = app
        .api(Method::GET, &at("2027-01-09T04:00:00Z"), &admin, None)
        .await;
    assert_eq!(res.body["next_opening"], "2027-01-11T00:00:00.000Z");

    // Weekday hours only, in London: Saturday afternoon Tokyo time is Saturday morning there.
    let hours = json!({"weekly": {"mon": [{"start": "09:00", "end": "17:00"}], "tue": [{"start": "09:00", "end": "17:00"}]}, "timezone": "Europe/London"});
    let res = app
        .api(Method::PUT, "/api/v1/calendar/hours", &admin, Some(hours))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["configured"], true);
    assert_eq!(res.body["timezone"], "Europe/London");
    assert_eq!(res.body["weekly"]["fri"], json!([]));
    let res = app
        .api(Method::GET, &at("2027-01-09T04:00:00Z"), &admin, None)
        .await;
    assert_eq!(res.body["timezone"], "Europe/London");
    assert_eq!(res.body["next_opening"], "2027-01-11T09:00:00.000Z");

    let res = app
        .api(
            Method::DELETE,
            &format!("/api/v1/calendar/closures/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = app
        .api(
            Method::DELETE,
            &format!("/api/v1/calendar/closures/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    for action in [
        "closure.create",
        "holiday.update",
        "hours.update",
        "closure.delete",
    ] {
        assert_eq!(
            app.audits(&format!("api.calendar.{action}")).await,
            1,
            "{action}"
        );
    }
}

#[tokio::test]
async fn a_year_end_range_adds_one_closure_per_day() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let admin = app.token(&c, &[TokenScope::Admin]).await;
    let body = json!({"date": "2027-12-29", "until": "2028-01-03", "reason": "年末年始休診"});
    let res = app
        .api(
            Method::POST,
            "/api/v1/calendar/closures",
            &admin,
            Some(body),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.body["items"].as_array().unwrap().len(), 6);
    assert_eq!(app.closures(&c).await, 6);
}

#[tokio::test]
async fn invalid_edits_are_refused_with_stable_codes_and_change_nothing() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let admin = app.token(&c, &[TokenScope::Admin]).await;
    let day = |v: serde_json::Value| json!({"weekly": {"mon": v}});
    let iv = |s: &str, e: &str| json!({"start": s, "end": e});
    let cases = [
        (
            day(json!([iv("09:00", "13:00"), iv("12:00", "18:00")])),
            "overlapping_intervals",
        ),
        (day(json!([iv("18:00", "09:00")])), "invalid_interval"),
        (day(json!([iv("9:00", "12:00")])), "invalid_time"),
        (
            day(json!([
                iv("08:00", "09:00"),
                iv("10:00", "11:00"),
                iv("12:00", "13:00"),
                iv("14:00", "15:00")
            ])),
            "too_many_intervals",
        ),
        (
            json!({"weekly": {}, "timezone": "Tokyo/Asia"}),
            "invalid_timezone",
        ),
        (json!({"weekly": {"tues": []}}), "invalid_request"),
    ];
    for (body, code) in cases {
        let res = app
            .api(Method::PUT, "/api/v1/calendar/hours", &admin, Some(body))
            .await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code)
        );
    }
    let closures = [
        (json!({"date": "2027-02-30", "reason": "x"}), "invalid_date"),
        (json!({"date": "2027/02/01", "reason": "x"}), "invalid_date"),
        (
            json!({"date": "2027-02-01", "reason": "  "}),
            "invalid_reason",
        ),
        (
            json!({"date": "2027-02-01", "until": "2027-01-31", "reason": "x"}),
            "invalid_date_range",
        ),
    ];
    for (body, code) in closures {
        let res = app
            .api(
                Method::POST,
                "/api/v1/calendar/closures",
                &admin,
                Some(body),
            )
            .await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code)
        );
    }
    for (date, code) in [
        ("2027-01-12", "not_a_holiday"),
        ("2027-13-01", "invalid_date"),
    ] {
        let path = format!("/api/v1/calendar/holidays/{date}");
        let res = app
            .api(Method::PUT, &path, &admin, Some(json!({"open": true})))
            .await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code)
        );
    }
    let res = app.api(Method::GET, "/api/v1/calendar", &admin, None).await;
    assert_eq!(res.body["configured"], false);
    assert_eq!(app.closures(&c).await, 0);
}

#[tokio::test]
async fn a_read_token_may_look_but_not_change() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let read = app.token(&c, &[TokenScope::Read]).await;
    assert_eq!(
        app.api(Method::GET, "/api/v1/calendar", &read, None)
            .await
            .status,
        StatusCode::OK
    );
    let writes = [
        (
            Method::PUT,
            "/api/v1/calendar/hours",
            Some(json!({"weekly": {}})),
        ),
        (
            Method::POST,
            "/api/v1/calendar/closures",
            Some(json!({"date": "2027-01-12", "reason": "臨時休診"})),
        ),
        (
            Method::DELETE,
            "/api/v1/calendar/closures/0190aaaa-0000-7000-8000-000000000000",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/calendar/holidays/2027-01-11",
            Some(json!({"open": true})),
        ),
    ];
    for (method, path, body) in writes {
        let res = app.api(method.clone(), path, &read, body).await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{method} {path}"
        );
    }
    assert_eq!(app.closures(&c).await, 0);
}

#[tokio::test]
async fn another_clinics_closure_is_not_found_and_stays() {
    let app = app().await;
    let ours = app.clinic("sakura").await;
    let theirs = app.clinic("momiji").await;
    let their_admin = app.token(&theirs, &[TokenScope::Admin]).await;
    let our_admin = app.token(&ours, &[TokenScope::Admin]).await;
    let body = json!({"date": "2027-01-12", "reason": "臨時休診"});
    let res = app
        .api(
            Method::POST,
            "/api/v1/calendar/closures",
            &their_admin,
            Some(body),
        )
        .await;
    let id = res.body["items"][0]["id"].as_str().unwrap().to_string();

    let res = app
        .api(
            Method::DELETE,
            &format!("/api/v1/calendar/closures/{id}"),
            &our_admin,
            None,
        )
        .await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert_eq!(app.closures(&theirs).await, 1);
    // Nor does it close our clinic.
    let res = app
        .api(
            Method::GET,
            &format!("{OPENING}?at=2027-01-09T04:00:00Z"),
            &our_admin,
            None,
        )
        .await;
    assert_eq!(res.body["next_opening"], "2027-01-12T00:00:00.000Z");
    let res = app
        .api(Method::GET, "/api/v1/calendar", &our_admin, None)
        .await;
    assert_eq!(res.body["closures"], json!([]));
}
