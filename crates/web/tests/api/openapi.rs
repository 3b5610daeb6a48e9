//! The OpenAPI document matches the mounted routes, both ways.
use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::support::app;

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_parses_and_lists_exactly_the_mounted_routes() {
    let app = app().await;
    let res = app
        .call(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let doc: Value = serde_json::from_slice(&res.bytes).expect("the document is JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let mounted: BTreeSet<(String, String)> = tsunagu_web::api::routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let in_doc = documented(&doc);
    assert_eq!(
        mounted,
        in_doc,
        "mounted but undocumented: {:?}; documented but not mounted: {:?}",
        mounted.difference(&in_doc).collect::<Vec<_>>(),
        in_doc.difference(&mounted).collect::<Vec<_>>()
    );

    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let envelope = &doc["components"]["schemas"]["ErrorBody"];
    assert!(
        envelope["properties"]["error"].is_object(),
        "the error envelope is documented"
    );
    for (method, path) in &mounted {
        let op = &doc["paths"][path][method.to_lowercase()];
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{method} {path} has a tag"
        );
        if path != "/api/v1/openapi.json" {
            let text = format!("{} {}", op["summary"], op["description"]);
            assert!(
                text.contains("Scope:"),
                "{method} {path} documents its scope"
            );
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} documents 401"
            );
        }
    }
}

#[tokio::test]
async fn every_listed_route_is_really_mounted() {
    let app = app().await;
    let id = uuid::Uuid::now_v7().to_string();
    for (method, path) in tsunagu_web::api::routes() {
        let path = path.replace("{id}", &id);
        let method: Method = method.parse().unwrap();
        let body = (method == Method::POST).then(|| serde_json::json!({}));
        let res = app
            .call(method.clone(), &path, None, body.as_ref(), &[])
            .await;
        let expected = if path.ends_with("openapi.json") {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(res.status, expected, "{method} {path}");
    }
}

/// `POST`s that need not honour `Idempotency-Key`, each with its reason. Empty: every `POST`
/// creates or acts, so every one takes the key (and `api::post` applies it).
const POSTS_WITHOUT_IDEMPOTENCY_KEY: &[(&str, &str)] = &[];

#[tokio::test]
async fn every_post_documents_the_idempotency_key() {
    let doc = serde_json::to_value(tsunagu_web::api::openapi::document()).unwrap();
    let mut posts = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("post") else { continue };
        if POSTS_WITHOUT_IDEMPOTENCY_KEY.iter().any(|(p, _)| p == path) {
            continue;
        }
        posts += 1;
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let header = params
            .iter()
            .find(|p| p["name"] == "Idempotency-Key")
            .unwrap_or_else(|| panic!("POST {path} documents the Idempotency-Key header"));
        assert_eq!(header["in"], "header", "POST {path}");
        assert_eq!(header["required"], false, "POST {path}");
        for (status, code) in [
            ("409", "idempotency_key_in_progress"),
            ("422", "idempotency_key_reused"),
        ] {
            let text = op["responses"][status]["description"]
                .as_str()
                .unwrap_or("");
            assert!(text.contains(code), "POST {path} documents {status} {code}");
        }
    }
    assert!(posts >= 12, "only {posts} POSTs found");
}
