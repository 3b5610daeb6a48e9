//! A patient's image: downloaded at once through media info + the lookaside URL, stored with its
//! checksum, never downloaded twice.
use sha2::{Digest, Sha256};

use crate::harness::{spawn, ACCESS_TOKEN, PATIENT, PATIENT_NAME, PHONE_ID};

/// A small JPEG-like blob (content does not matter to WhatsApp, the checksum does).
fn photo() -> Vec<u8> {
    let mut b = vec![0xff, 0xd8, 0xff, 0xe0];
    b.extend((0..4096u32).map(|i| (i * 31 % 251) as u8));
    b.extend([0xff, 0xd9]);
    b
}

#[tokio::test]
async fn a_patient_image_is_downloaded_once_with_the_right_bytes() {
    let wa = spawn().await;
    let bytes = photo();
    let posted = wa
        .sb
        .user_image(
            PHONE_ID,
            PATIENT,
            PATIENT_NAME,
            bytes.clone(),
            "image/jpeg",
            Some("保険証の写真です"),
        )
        .await
        .unwrap();
    assert_eq!(posted.status, 200);
    assert_eq!(
        wa.app
            .count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'channel.fetch_media'")
            .await,
        1
    );
    wa.app.run_jobs().await;

    let conv = wa.conversation().await;
    let msgs = wa.messages(&conv).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["kind"], "image");
    assert_eq!(msgs[0]["text"], "保険証の写真です");
    let att = &msgs[0]["attachments"][0];
    assert_eq!(att["content_type"], "image/jpeg", "{msgs:?}");
    let sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(
        wa.text_of(
            "SELECT sha256 FROM attachments WHERE id = $1",
            att["id"].as_str().unwrap()
        )
        .await
        .as_deref(),
        Some(sha.as_str())
    );
    let r = wa
        .app
        .http
        .get(format!("{}{}", wa.app.base, att["url"].as_str().unwrap()))
        .bearer_auth(&wa.app.api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
    let media_id = wa.sb.chat(PHONE_ID, PATIENT)[0].message["image"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        wa.sb.calls_to(&format!("/{media_id}")),
        1,
        "media info once"
    );
    assert_eq!(wa.sb.calls_to("/attachments/"), 1, "downloaded once");

    // Meta redelivers the webhook: no new job, no second download.
    let before = wa.counts().await;
    assert_eq!(wa.sb.redeliver(&posted).await.unwrap(), 200);
    wa.app.clock.advance(chrono::Duration::minutes(1));
    wa.app.run_jobs().await;
    assert_eq!(wa.counts().await, before);
    assert_eq!(wa.sb.calls_to("/attachments/"), 1);
    assert!(!ACCESS_TOKEN.is_empty());
}

#[tokio::test]
async fn a_corrupted_download_is_not_stored() {
    let wa = spawn().await;
    let posted = wa
        .sb
        .user_image(PHONE_ID, PATIENT, PATIENT_NAME, photo(), "image/jpeg", None)
        .await
        .unwrap();
    assert_eq!(posted.status, 200);
    let media_id = wa.sb.chat(PHONE_ID, PATIENT)[0].message["image"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    wa.sb.replace_media(&media_id, b"not the photo".to_vec());
    wa.app.run_jobs().await;
    assert_eq!(wa.app.count("SELECT COUNT(*) FROM attachments").await, 0);
}
