//! Media: a patient's picture, as the emulator's driver posts it, verifies, parses into a message
//! with a media reference, and that reference downloads the picture from the emulator.
use tsunagu_channels::provider::deliver::Channel;
use tsunagu_channels::provider::inbound::What;

use super::kit::{for_each_provider, Fault};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[tokio::test]
async fn a_patients_picture_is_fetched_from_the_emulator() {
    for_each_provider(|kit, adapter| async move {
        let emu = kit.start(Fault::None).await;
        let creds = adapter.credentials(&emu.stored).unwrap();
        let picture = emu.control.patient_sends_picture().await;
        let req = picture.posted.request();
        assert!(
            adapter.verify(&creds, &req),
            "the emulator's delivery did not verify"
        );
        let items = adapter.parse(&req, emu.now_ms).unwrap();
        let media = items.iter().find_map(|i| match &i.what {
            What::Message(m) => m.media.clone(),
            _ => None,
        });
        let media = media.expect("the picture's message has no media to fetch");
        let http = reqwest::Client::new();
        let ch = Channel {
            http: &http,
            id: "c1",
            api_base_url: &emu.api_base_url,
            api_data_base_url: emu.api_data_base_url.as_deref(),
            creds: &creds,
            default_via: emu.default_via.as_deref(),
            messaging_service_sid: None,
            public_base: "https://clinic.example",
        };
        let files = match adapter.fetch_media(&ch, &media).await {
            Ok(files) => files,
            Err(e) => panic!("fetching {media} failed: {e:?}"),
        };
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].content_type, "image/png");
        assert!(
            files[0].bytes.starts_with(PNG_SIGNATURE),
            "not the PNG sent"
        );
        if let Some(bytes) = picture.bytes {
            assert_eq!(files[0].bytes.as_ref(), bytes.as_slice());
        }
    })
    .await;
}
