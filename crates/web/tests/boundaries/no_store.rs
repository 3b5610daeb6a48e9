//! Nothing showing patient data may be kept by a browser or a proxy: every page, export and
//! attachment of the staff UI and the API answers `Cache-Control: no-store`. Static assets,
//! which hold no patient data, may still be cached.
use super::ui_support::Res;
use super::world::world;

fn cache_control(res: &Res) -> &str {
    res.headers
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// `no-store` among the directives (`private, no-store` on attachments).
fn no_store(res: &Res) -> bool {
    cache_control(res)
        .split(',')
        .any(|d| d.trim() == "no-store")
}

#[tokio::test]
async fn patient_pages_exports_and_attachments_are_no_store() {
    let w = world().await;
    let a = &w.a;
    let (p, c) = (&a.patient, &a.conv);
    let pages = [
        format!("/app/patients/{p}"),
        format!("/app/patients/{p}/identity"),
        format!("/app/patients/{p}/consent"),
        format!("/app/patients/{p}/privacy"),
        format!("/app/patients/{p}/privacy/export.json"),
        format!("/app/patients/{p}/privacy/export.html"),
        format!("/app/conversations/{c}"),
        format!("/app/conversations/{c}/fragment"),
        format!("/app/attachments/{}", a.attachment),
        "/app/inbox".to_string(),
    ];
    for path in &pages {
        let res = w.page(path).await;
        assert_eq!(res.status.as_u16(), 200, "{path}");
        assert!(no_store(&res), "{path}: {:?}", cache_control(&res));
    }
    let api = [
        format!("/api/v1/patients/{p}"),
        format!("/api/v1/patients/{p}/export"),
        format!("/api/v1/patients/{p}/export.html"),
        format!("/api/v1/conversations/{c}/messages"),
        format!("/api/v1/attachments/{}", a.attachment),
    ];
    for path in &api {
        let res = w.api("GET", path, None).await;
        assert_eq!(res.status.as_u16(), 200, "{path}");
        assert!(no_store(&res), "{path}: {:?}", cache_control(&res));
    }
    // Refusals and redirects too: a 404 under /app names nothing, but is not kept either.
    let res = w.page(&format!("/app/patients/{}", w.b.patient)).await;
    assert_eq!(res.status.as_u16(), 404);
    assert!(no_store(&res), "{:?}", cache_control(&res));

    let res = w.page("/static/app.css").await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(cache_control(&res), "public, max-age=300");
}
