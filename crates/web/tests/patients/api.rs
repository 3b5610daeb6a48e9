use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::TokenScope;

use super::api_support::{app, ids, T0};

#[tokio::test]
async fn a_record_is_created_with_every_field_read_as_people_write_it() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Reply]).await;
    let body = json!({
        "name": "山田　太郎", "kana": "やまだ たろう", "birth_date": "S50.4.1", "sex": "男性",
        "phone": "０９０-1234-5678", "email": "taro@Example.JP", "card_number": "00-123",
        "preferred_channel": "LINE", "language": "日本語", "tags": ["糖尿病、定期検診"],
    });
    let res = app.post("/api/v1/patients", &token, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let p = &res.body;
    assert_eq!(p["display_name"], "山田 太郎");
    assert_eq!(p["kana"], "ヤマダ タロウ");
    assert_eq!(p["birth_date"], "1975-04-01");
    assert_eq!(p["sex"], "male");
    assert_eq!(p["phone"], "+819012345678");
    assert_eq!(p["email"], "taro@example.jp");
    assert_eq!(p["card_number"], "00123");
    assert_eq!(
        (p["preferred_channel"].as_str(), p["language"].as_str()),
        (Some("line"), Some("ja"))
    );
    assert_eq!(p["tags"], json!(["定期検診", "糖尿病"]));
    assert_eq!(p["provisional"], false);
    let id = p["id"].as_str().unwrap();
    let audits = app.audits("api.patient.create").await;
    assert_eq!(audits.len(), 1);
    assert!(audits[0].1.contains(id));
}

#[tokio::test]
async fn refused_fields_come_back_together_in_the_extended_envelope() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let res = app
        .post(
            "/api/v1/patients",
            &token,
            json!({"name": "山田", "phone": "12345", "birth_date": "1990-02-30"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.code(), "invalid_patient");
    assert!(res.body["error"]["message"].is_string());
    let fields: Vec<(String, String)> = res.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().into(),
                f["code"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("birth_date".to_string(), "invalid_birth_date".to_string()),
            ("phone".into(), "invalid_phone_number".into())
        ]
    );
    let res = app
        .post(
            "/api/v1/patients",
            &token,
            json!({"name": "x", "phone_number": "1"}),
        )
        .await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        "unknown keys are refused"
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM patients WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_patch_changes_what_it_names_and_null_clears() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Reply]).await;
    let created = app
        .post(
            "/api/v1/patients",
            &token,
            json!({"name": "山田", "email": "a@b.jp", "phone": "0312345678"}),
        )
        .await;
    let path = format!("/api/v1/patients/{}", created.body["id"].as_str().unwrap());
    let patch = json!({"email": null, "kana": "ﾔﾏﾀﾞ", "tags": ["新患"]});
    let res = app
        .call(Method::PATCH, &path, Some(&token), Some(&patch), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["email"], Value::Null);
    assert_eq!(
        (res.body["kana"].as_str(), res.body["phone"].as_str()),
        (Some("ヤマダ"), Some("+81312345678"))
    );
    assert_eq!(res.body["tags"], json!(["新患"]));
    assert_eq!(app.audits("api.patient.update").await.len(), 1);
}

#[tokio::test]
async fn the_list_searches_japanese_names_in_any_script_and_is_audited_once() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let yamada = app
        .post(
            "/api/v1/patients",
            &token,
            json!({"name": "山田 太郎", "kana": "ヤマダ タロウ"}),
        )
        .await;
    app.post(
        "/api/v1/patients",
        &token,
        json!({"name": "佐藤 花子", "kana": "サトウ ハナコ", "phone": "090-1111-2222"}),
    )
    .await;
    let yamada_id = yamada.body["id"].as_str().unwrap().to_string();
    for q in [
        "山田",
        "ヤマダ",
        "やまだ",
        "%EF%BE%94%EF%BE%8F%EF%BE%80%EF%BE%9E",
    ] {
        let res = app
            .get(&format!("/api/v1/patients?q={}", urlencode(q)), &token)
            .await;
        assert_eq!(ids(&res.body), vec![yamada_id.clone()], "{q}");
    }
    let res = app.get("/api/v1/patients?q=090-1111", &token).await;
    assert_eq!(res.body["items"][0]["display_name"], "佐藤 花子");
    let res = app.get("/api/v1/patients?limit=1", &token).await;
    assert_eq!(res.body["items"].as_array().unwrap().len(), 1);
    let next = res.body["next_cursor"].as_str().unwrap();
    let res = app
        .get(&format!("/api/v1/patients?limit=1&cursor={next}"), &token)
        .await;
    assert_eq!(ids(&res.body), vec![yamada_id.clone()]);
    assert_eq!(res.body["next_cursor"], Value::Null);
    let lists = app.audits("api.patient.list").await;
    assert_eq!(lists.len(), 7, "one event per list call");
    assert!(lists[0].1.contains(&yamada_id));
}

fn urlencode(s: &str) -> String {
    if s.starts_with('%') {
        return s.to_string();
    }
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn another_clinics_patient_is_not_found() {
    let app = app().await;
    let a = app.clinic("a-clinic").await;
    let b = app.clinic("b-clinic").await;
    let token_a = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let token_b = app.token(&b.clinic, &[TokenScope::Admin]).await;
    let theirs = app
        .post("/api/v1/patients", &token_b, json!({"name": "他院 患者"}))
        .await;
    let path = format!("/api/v1/patients/{}", theirs.body["id"].as_str().unwrap());
    assert_eq!(app.get(&path, &token_a).await.status, StatusCode::NOT_FOUND);
    let res = app
        .call(
            Method::PATCH,
            &path,
            Some(&token_a),
            Some(&json!({"name": "乗っ取り"})),
            &[],
        )
        .await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert!(ids(&app.get("/api/v1/patients", &token_a).await.body).is_empty());
}

#[tokio::test]
async fn scopes_decide_who_reads_writes_and_administers() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let read = app.token(&s.clinic, &[TokenScope::Read]).await;
    let broadcast = app.token(&s.clinic, &[TokenScope::Broadcast]).await;
    let reply = app.token(&s.clinic, &[TokenScope::Reply]).await;
    for t in [&read, &broadcast] {
        assert_eq!(
            app.post("/api/v1/patients", t, json!({"name": "x"}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(app.get("/api/v1/patients", t).await.status, StatusCode::OK);
    }
    let field = json!({"key": "blood_type", "label_ja": "血液型", "kind": "choice", "choices": ["A型", "B型"]});
    assert_eq!(
        app.post("/api/v1/custom-fields", &reply, field.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let res = app
        .call(
            Method::POST,
            "/api/v1/patients/import",
            Some(&reply),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM patients WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        0
    );
}

#[tokio::test]
async fn custom_fields_are_defined_by_admins_and_checked_on_records() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let admin = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let field = json!({"key": "blood_type", "label_ja": "血液型", "label_en": "Blood type", "kind": "choice", "choices": ["A型", "B型"]});
    let res = app
        .post("/api/v1/custom-fields", &admin, field.clone())
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["choices"], json!(["A型", "B型"]));
    let again = app.post("/api/v1/custom-fields", &admin, field).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_custom_field")
    );
    assert_eq!(
        again.body["error"]["fields"][0]["code"],
        "duplicate_field_key"
    );
    app.post(
        "/api/v1/custom-fields",
        &admin,
        json!({"key": "height", "label_ja": "身長", "kind": "number"}),
    )
    .await;
    let list = app.get("/api/v1/custom-fields", &admin).await;
    let keys: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["blood_type", "height"]);

    let bad = app
        .post(
            "/api/v1/patients",
            &admin,
            json!({"name": "山田", "custom_fields": {"blood_type": "C型", "height": "高い"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let codes: Vec<&str> = bad.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["invalid_choice", "invalid_number"]);
    let ok = app
        .post(
            "/api/v1/patients",
            &admin,
            json!({"name": "山田", "custom_fields": {"blood_type": "Ａ型", "height": 170.5}}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert_eq!(
        ok.body["custom_fields"],
        json!({"blood_type": "A型", "height": "170.5"})
    );
    let read = app
        .get(
            &format!("/api/v1/patients/{}", ok.body["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(read.body["custom_fields"]["blood_type"], "A型");
    let _ = T0;
}
