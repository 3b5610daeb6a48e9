//! The rich menu client against the LINE emulator: what it sends is what LINE takes, what LINE's
//! limits forbid never leaves, and 202 answers (bulk link, batch) are successes.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use bytes::Bytes;
use tsunagu_channels::line::richmenu::{
    Action, Area, BatchOperation, Bounds, RichMenu, RichMenuError, Size,
};
use tsunagu_channels::line::{LineClient, RichMenuCallError, SendError};
use tsunagu_sandbox::line::{ChannelConfig, LineSandbox, UserProfile};
use tsunagu_sandbox::png::png_sized;

const TOKEN: &str = "richmenu-client-token";
const USER: &str = "U1234567890abcdef1234567890abcdef";
const SIZE: Size = Size {
    width: 2500,
    height: 843,
};

async fn env() -> (LineSandbox, LineClient) {
    let sb = LineSandbox::new();
    sb.add_channel(ChannelConfig {
        access_token: TOKEN.into(),
        bot_user_id: "Ub0b00000000000000000000000000002".into(),
        ..Default::default()
    });
    sb.add_user(
        TOKEN,
        UserProfile {
            user_id: USER.into(),
            display_name: "山田 花子".into(),
            ..Default::default()
        },
    );
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let base = format!("http://{addr}");
    (
        sb,
        LineClient::new(reqwest::Client::new(), &base, &base, TOKEN),
    )
}

fn menu(text: &str) -> RichMenu {
    RichMenu {
        size: SIZE,
        selected: false,
        name: "初診".into(),
        chat_bar_text: "メニュー".into(),
        areas: vec![Area {
            bounds: Bounds {
                x: 0,
                y: 0,
                width: 2500,
                height: 843,
            },
            action: Action::Message {
                label: Some("予約".into()),
                text: text.into(),
            },
        }],
    }
}

#[tokio::test]
async fn a_menu_is_created_imaged_defaulted_linked_and_moved_by_a_batch() {
    let (sb, client) = env().await;
    let a = client.create_rich_menu(&menu("予約したい")).await.unwrap();
    let b = client.create_rich_menu(&menu("予約変更")).await.unwrap();
    for id in [&a, &b] {
        client
            .upload_rich_menu_image(id, SIZE, Bytes::from(png_sized(2500, 843)))
            .await
            .unwrap();
    }
    client.set_default_rich_menu(&a).await.unwrap();
    assert_eq!(sb.default_rich_menu(TOKEN), Some(a.clone()));
    client.create_rich_menu_alias("tab-b", &b).await.unwrap();
    client
        .bulk_link_rich_menu(&a, &[USER.to_owned()])
        .await
        .unwrap();
    assert!(!sb.linked_menu(TOKEN, USER).unwrap().is_default);
    let ops = [BatchOperation::Link {
        from: a.clone(),
        to: b.clone(),
    }];
    let request = client.rich_menu_batch(&ops, None).await.unwrap();
    assert_eq!(sb.linked_menu(TOKEN, USER).unwrap().rich_menu_id, b);
    let first = client.rich_menu_batch_progress(&request).await.unwrap();
    assert_eq!(first.phase, "ongoing");
    let done = client.rich_menu_batch_progress(&request).await.unwrap();
    assert_eq!(done.phase, "succeeded");
    client.unlink_rich_menu(USER).await.unwrap();
    assert!(sb.linked_menu(TOKEN, USER).unwrap().is_default);
    assert_eq!(client.list_rich_menus().await.unwrap().len(), 2);
    client.delete_rich_menu(&a).await.unwrap();
    assert_eq!(sb.rich_menu_ids(TOKEN), vec![b]);
}

#[tokio::test]
async fn what_lines_limits_forbid_never_leaves() {
    let (sb, client) = env().await;
    let mut long = menu("x");
    long.chat_bar_text = "あ".repeat(15);
    assert_eq!(
        client.create_rich_menu(&long).await,
        Err(RichMenuCallError::Invalid(RichMenuError::ChatBarText))
    );
    let wrong = client
        .upload_rich_menu_image("richmenu-x", SIZE, Bytes::from(png_sized(2500, 1686)))
        .await;
    assert!(matches!(
        wrong,
        Err(RichMenuCallError::Invalid(RichMenuError::ImageSize { .. }))
    ));
    assert_eq!(sb.calls_to("/v2/bot/richmenu"), 0);
    assert_eq!(sb.calls_to("/content"), 0);
}

#[tokio::test]
async fn lines_refusals_and_rate_limits_are_classified() {
    let (sb, client) = env().await;
    let id = client.create_rich_menu(&menu("x")).await.unwrap();
    // Linked before its image: LINE's 400, not worth a retry.
    match client.link_rich_menu(USER, &id).await {
        Err(SendError::Rejected {
            status, message, ..
        }) => {
            assert_eq!(status, 400);
            assert!(message.contains("must upload richmenu image"), "{message}");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    sb.fail_next("/v2/bot/richmenu", 429, 1);
    let limited = client.create_rich_menu(&menu("x")).await.unwrap_err();
    assert!(matches!(limited, RichMenuCallError::Line(ref e) if e.is_retryable()));
}
