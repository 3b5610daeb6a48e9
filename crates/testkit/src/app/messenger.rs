//! The sample clinic's Messenger channel (one Facebook Page and one Instagram account of the
//! same Meta app) on the Messenger sandbox, a page of another clinic on the same app, and one
//! person on each.
use std::sync::Arc;

use serde_json::json;
use tsunagu_sandbox::messenger::{MessengerSandbox, MessengerUser, PageConfig};

use super::providers::create_through_api;
use super::{Connected, TestApp};

pub const APP_SECRET: &str = "3f1c0a6d9b2e4f5a8c7d6e5f4a3b2c1d";
pub const VERIFY_TOKEN: &str = "sakura-verify-7781";
pub const PAGE: &str = "104385229123456";
pub const PAGE_TOKEN: &str = "EAAGpage-token-sakura-0001";
pub const IG: &str = "17841400000000001";
pub const IG_TOKEN: &str = "IGAApage-token-sakura-0002";
/// A page the channel does not list (another clinic's page on the same Meta app).
pub const OTHER_PAGE: &str = "999000111222333";
/// Hanako Yamada on the page (and Jiro Sato on the other page).
pub const PSID: &str = "6789012345678901";
/// Taro Suzuki on Instagram.
pub const IGSID: &str = "1357924680135792";

/// The secrets the channel holds.
#[derive(Clone, Copy, Debug)]
pub struct Fixture {
    pub app_secret: &'static str,
    pub page_token: &'static str,
}

impl Fixture {
    pub const SAMPLE: Fixture = Fixture {
        app_secret: APP_SECRET,
        page_token: PAGE_TOKEN,
    };
}

pub(crate) async fn connect(app: &TestApp, f: Fixture) -> Connected<MessengerSandbox> {
    let sandbox = MessengerSandbox::with_clock(Arc::new(app.clock.clone()));
    let addr = sandbox.spawn("127.0.0.1:0").await.unwrap();
    let (channel, webhook_url) = create_through_api(
        app,
        json!({
            "kind": "messenger",
            "name": "さくら内科 Messenger",
            "credentials": {
                "app_secret": f.app_secret,
                "verify_token": VERIFY_TOKEN,
                "pages": [
                    {"page_id": PAGE, "name": "さくら内科", "access_token": f.page_token},
                    {"page_id": IG, "name": "sakura_clinic", "access_token": IG_TOKEN},
                ],
            },
            "api_base_url": format!("http://{addr}/v23.0"),
        }),
    )
    .await;
    let pages = [
        (PAGE, f.page_token, false, PSID, "Hanako", "Yamada"),
        (IG, IG_TOKEN, true, IGSID, "Taro", "Suzuki"),
        (OTHER_PAGE, "EAAGother", false, PSID, "Jiro", "Sato"),
    ];
    for (page, token, instagram, user, first, last) in pages {
        sandbox.add_page(PageConfig {
            page_id: page.into(),
            name: format!("page {page}"),
            access_token: token.into(),
            app_secret: f.app_secret.into(),
            webhook_url: Some(webhook_url.clone()),
            instagram,
        });
        sandbox.add_user(
            page,
            MessengerUser {
                psid: user.into(),
                first_name: first.into(),
                last_name: last.into(),
                profile_pic: None,
            },
        );
    }
    Connected {
        sandbox,
        channel,
        webhook_url,
    }
}
