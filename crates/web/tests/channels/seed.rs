//! A WhatsApp channel, approved templates and the queued send jobs, for either harness.
#![allow(dead_code)]

use serde_json::Value;
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_store::templates::{self, NewTemplate, StatusUpdate};
use tsunagu_store::{channels, Db};

pub const HOUR_MS: i64 = 3_600_000;

/// A WhatsApp channel serving one phone number id.
pub async fn whatsapp_channel(db: &Db, clinic: &ClinicId) -> ChannelId {
    let mut tx = db.begin().await.unwrap();
    let id = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: clinic,
            kind: "whatsapp",
            name: "WhatsApp 受付",
            credentials_enc: "v1:seed",
            api_base_url: "http://127.0.0.1:1",
            api_data_base_url: None,
            settings: r#"{"phone_numbers":[{"phone_number_id":"106540352242922","display_phone_number":"+81 3-1234-5678"}]}"#,
        },
        1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// An approved template on the channel; its id.
pub async fn approved_template(
    db: &Db,
    clinic: &ClinicId,
    channel: &ChannelId,
    name: &str,
    body: &str,
) -> String {
    let mut tx = db.begin().await.unwrap();
    let t = NewTemplate {
        clinic_id: clinic,
        channel_id: channel,
        name,
        language: "ja",
        category: "UTILITY",
        body,
    };
    let row = templates::create(tx.conn(), t, 1).await.unwrap().unwrap();
    let approved = StatusUpdate {
        status: "approved",
        provider_template_id: Some("594425479261596"),
        reason: None,
    };
    templates::set_status(tx.conn(), clinic, &row.id, approved, 2)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    row.id
}

/// The payloads of the queued `message.send` jobs, oldest first.
pub async fn send_jobs(db: &Db) -> Vec<Value> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM outbox_jobs WHERE kind = $1 ORDER BY created_at")
            .bind("message.send")
            .fetch_all(db.pool())
            .await
            .unwrap();
    rows.iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect()
}
