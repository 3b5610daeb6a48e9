//! The fixed search mix (`GET /api/v1/search?q=…`: messages newest first and matching
//! patients, audited as staff searches are), beside the bare index query for its messages
//! (`store::search::find::messages`, no HTTP, no patients, no audit).
use anyhow::Context;
use tsunagu_core::text::search_form;
use tsunagu_store::search::find::{self, Facets};
use tsunagu_store::search::grams::Needle;

use crate::measure::{self, Sample};
use crate::setup::Clinic;

/// 1-, 2-, 3- and 5-character Japanese terms, a kana name, an English word, a phone number
/// (a patient's, as staff type it: national digits).
pub async fn mix(c: &Clinic) -> anyhow::Result<Vec<(String, String)>> {
    let phones: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM patients WHERE clinic_id = $1 AND phone LIKE '+81%'",
    )
    .bind(c.id.as_str())
    .fetch_one(c.db.pool())
    .await?;
    let phone: String = sqlx::query_scalar(
        "SELECT phone FROM patients WHERE clinic_id = $1 AND phone LIKE '+81%'
         ORDER BY id LIMIT 1 OFFSET $2",
    )
    .bind(c.id.as_str())
    .bind(phones / 3)
    .fetch_one(c.db.pool())
    .await?;
    let national = format!("0{}", &phone[3..]);
    let terms: Vec<(&str, String)> = vec![
        ("1 char 熱", "熱".into()),
        ("2 chars 予約", "予約".into()),
        ("3 chars 駐車場", "駐車場".into()),
        ("5 chars 健康診断書", "健康診断書".into()),
        ("kana name タナカ", "タナカ".into()),
        ("English fever", "fever".into()),
        ("a patient's phone", national),
    ];
    Ok(terms.into_iter().map(|(n, q)| (n.to_owned(), q)).collect())
}

pub async fn api(c: &Clinic, http: &reqwest::Client, q: &str, n: usize) -> anyhow::Result<Sample> {
    let url = reqwest::Url::parse_with_params(&format!("{}/api/v1/search", c.base), &[("q", q)])?;
    let url = url.to_string();
    Ok(measure::time(3, n, || measure::get(http, &url, None, Some(&c.token))).await)
}

pub async fn floor(c: &Clinic, q: &str, n: usize) -> anyhow::Result<(Sample, usize)> {
    let needle = Needle::of(&search_form(q)).context("an empty search term")?;
    let mut conn = c.db.pool().acquire().await?;
    let mut s = Sample::default();
    let mut found = 0;
    for i in 0..n + 3 {
        let t = std::time::Instant::now();
        let hits = find::messages(&mut conn, &c.id, &needle, &Facets::default(), None, 51).await?;
        if i >= 3 {
            s.ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        found = hits.len();
    }
    Ok((s, found))
}
