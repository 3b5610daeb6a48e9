//! Search documents written in group commits: on SQLite they are indexed when the batch commits
//! (one FTS5 segment per batch, not per document). Each is found once its work is answered, a
//! document taken out again in the same transaction (an edit) is found only by its new text,
//! and a work that fails leaves nothing indexed. Runs on SQLite and (with TEST_DATABASE_URL) on
//! PostgreSQL, where documents are indexed as they are written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use tsunagu_core::new_id;
use tsunagu_store::batch::Batch;
use tsunagu_store::search::{self, grams::Needle};
use tsunagu_store::{clinics, Backend, BoxFuture, Db, Staged};
use tsunagu_testkit::test_db;

/// Indexes a patient (and a `companion` after them) by `key`; then, with `renamed`, indexes the
/// patient again by that key (in the same transaction, as an edit does); with `fail`, fails
/// after writing.
struct Index {
    clinic: String,
    patient: String,
    companion: Option<String>,
    key: String,
    renamed: Option<String>,
    fail: bool,
}

impl Staged for Index {
    type Output = ();
    type Queued = ();

    fn first(&self, b: &mut Batch) -> anyhow::Result<()> {
        search::push_patient(b, &self.clinic, &self.patient, &self.key);
        if let Some(c) = &self.companion {
            search::push_patient(b, &self.clinic, c, &self.key);
        }
        Ok(())
    }

    fn then<'c>(
        &'c self,
        conn: &'c mut sqlx::AnyConnection,
        _: (),
        _: Vec<sqlx::any::AnyRow>,
    ) -> BoxFuture<'c, anyhow::Result<()>> {
        Box::pin(async move {
            if let Some(key) = &self.renamed {
                search::reindex_patient(conn, &self.clinic, &self.patient, key).await?;
            }
            anyhow::ensure!(!self.fail, "refused after indexing");
            Ok(())
        })
    }
}

async fn found(db: &Db, clinic: &str, term: &str) -> Vec<String> {
    let sqlite = db.backend() == Backend::Sqlite;
    let needle = Needle::of(term).expect("a searchable term");
    let sql = search::matching_ids(sqlite, search::PATIENT, 1, 2) + " ORDER BY 1";
    sqlx::query_scalar(&sql)
        .bind(needle.query_for(sqlite))
        .bind(clinic)
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_of_a_grouped_batch_are_found_once_answered_and_an_edit_keeps_only_its_text() {
    let t = test_db().await;
    let db = t.db.clone();
    let mut conn = db.pool().acquire().await.unwrap();
    let org = clinics::create_organization(&mut conn, "検索", 1)
        .await
        .unwrap();
    let new = clinics::NewClinic {
        organization_id: &org,
        slug: "search",
        name: "検索医院",
        timezone: "Asia/Tokyo",
        locale: "ja",
    };
    let clinic = clinics::create_clinic(&mut conn, new, 1).await.unwrap();
    let clinic = clinic.as_str().to_owned();
    let mut patients = Vec::new();
    for i in 0..42 {
        let id = new_id();
        sqlx::query(
            "INSERT INTO patients (id, clinic_id, display_name, provisional, created_at, updated_at)
             VALUES ($1, $2, $3, 1, 1, 1)",
        )
        .bind(&id)
        .bind(&clinic)
        .bind(format!("患者{i}"))
        .execute(&mut *conn)
        .await
        .unwrap();
        patients.push(id);
    }
    drop(conn);
    // The last two are for one work alone, below.
    let (alone, companion) = (patients.pop().unwrap(), patients.pop().unwrap());

    // Forty works at once share batches; every fifth is renamed in its own transaction, every
    // seventh fails.
    let calls: Vec<_> = patients
        .iter()
        .enumerate()
        .map(|(i, patient)| {
            let (db, clinic) = (db.clone(), clinic.clone());
            let work = Index {
                clinic: clinic.clone(),
                patient: patient.clone(),
                companion: None,
                key: "やまだ たろう".into(),
                renamed: (i % 5 == 0).then(|| "すずき はなこ".into()),
                fail: i % 7 == 3,
            };
            tokio::spawn(async move {
                let answered = db.write_staged(work).await;
                // Found from the moment the work is answered (or, failed, never).
                let now = found(&db, &clinic, "すずき").await;
                (i, answered.is_ok(), now)
            })
        })
        .collect();
    let (mut old, mut renamed) = (Vec::new(), Vec::new());
    for (c, patient) in calls.into_iter().zip(&patients) {
        let (i, ok, now) = c.await.unwrap();
        assert_eq!(ok, i % 7 != 3, "work {i}");
        match (ok, i % 5 == 0) {
            (false, _) => {}
            (true, true) => {
                assert!(now.contains(patient), "work {i} found once answered");
                renamed.push(patient.clone());
            }
            (true, false) => old.push(patient.clone()),
        }
    }
    old.sort();
    renamed.sort();
    assert_eq!(
        found(&db, &clinic, "やまだ").await,
        old,
        "the old text: only the unrenamed"
    );
    assert_eq!(
        found(&db, &clinic, "すずき").await,
        renamed,
        "the new text: the renamed"
    );
    // One work alone, whose patient is renamed after a companion was indexed behind it: the
    // new text gets a new `seq`, and the old text left pending must not reach the index.
    let work = Index {
        clinic: clinic.clone(),
        patient: alone.clone(),
        companion: Some(companion.clone()),
        key: "やまだ たろう".into(),
        renamed: Some("たなか じろう".into()),
        fail: false,
    };
    db.write_staged(work).await.unwrap();
    assert_eq!(found(&db, &clinic, "たなか").await, vec![alone.clone()]);
    old.push(companion);
    old.sort();
    assert_eq!(found(&db, &clinic, "やまだ").await, old);
    renamed.push(alone);
    if db.backend() == Backend::Sqlite {
        // Nothing left behind: one full-text row per document, none pending.
        let docs: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM search_docs WHERE kind = 'patient'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM search_patient_fts_docsize")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(docs as usize, old.len() + renamed.len());
        assert_eq!(rows, docs, "one full-text row per document");
    }
}
