//! The sandbox's rich menu API over real HTTP: LINE's validation, images, default and per-user
//! links, aliases, batch control with progress, and what the simulator's tap sends.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use serde_json::{json, Value};
use tsunagu_sandbox::png::png_sized;

fn menu(width: u32, height: u32, areas: Value) -> Value {
    json!({
        "size": {"width": width, "height": height},
        "selected": false,
        "name": "初診の方",
        "chatBarText": "メニュー",
        "areas": areas,
    })
}

fn message_area(x: u32, width: u32, text: &str) -> Value {
    json!({"bounds": {"x": x, "y": 0, "width": width, "height": 843},
           "action": {"type": "message", "label": text, "text": text}})
}

async fn upload(env: &Env, id: &str, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
    let resp = env
        .http
        .post(format!("{}/v2/bot/richmenu/{id}/content", env.base))
        .bearer_auth(TOKEN)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn created(env: &Env) -> String {
    let (status, _, body) = env
        .post(
            "/v2/bot/richmenu",
            &menu(2500, 843, json!([message_area(0, 2500, "予約")])),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["richMenuId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_menu_with_an_area_outside_the_image_or_a_long_chat_bar_is_refused_like_line() {
    let env = Env::start().await;
    let mut bad = menu(2500, 843, json!([message_area(2000, 600, "x")]));
    bad["chatBarText"] = json!("あ".repeat(15));
    let (status, headers, body) = env.post("/v2/bot/richmenu", &bad, None).await;
    assert_eq!(status, 400, "{body}");
    assert!(headers.contains_key("x-line-request-id"));
    let props: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["property"].as_str().unwrap())
        .collect();
    assert!(props.contains(&"chatBarText"), "{body}");
    assert!(props.contains(&"areas[0].bounds"), "{body}");
    let wrong_size = menu(2500, 2000, json!([]));
    let (status, _, body) = env
        .post("/v2/bot/richmenu/validate", &wrong_size, None)
        .await;
    assert_eq!(status, 400, "{body}");
    let bad_action = menu(
        2500,
        843,
        json!([{"bounds": {"x": 0, "y": 0, "width": 10, "height": 10},
                "action": {"type": "teleport"}}]),
    );
    let (status, _, _) = env.post("/v2/bot/richmenu", &bad_action, None).await;
    assert_eq!(status, 400);
    assert!(env.sb.rich_menu_ids(TOKEN).is_empty());
}

#[tokio::test]
async fn the_image_must_be_a_png_or_jpeg_of_the_menus_size_and_is_taken_once() {
    let env = Env::start().await;
    let id = created(&env).await;
    let (status, _) = upload(&env, &id, "image/gif", b"GIF89a".to_vec()).await;
    assert_eq!(status, 415);
    let (status, body) = upload(&env, &id, "image/png", png_sized(2500, 1686)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "Image size is not the same as the rich menu size"
    );
    // Not usable before its image.
    let (status, _, body) = env
        .post(&format!("/v2/bot/user/all/richmenu/{id}"), &json!({}), None)
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "must upload richmenu image before applying it to user"
    );
    let (status, _) = upload(&env, &id, "image/png", png_sized(2500, 843)).await;
    assert_eq!(status, 200);
    let (status, _) = upload(&env, &id, "image/png", png_sized(2500, 843)).await;
    assert_eq!(status, 400);
    let (status, _, _) = env
        .post(&format!("/v2/bot/user/all/richmenu/{id}"), &json!({}), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(env.sb.default_rich_menu(TOKEN), Some(id.clone()));
    let seen = env.sb.linked_menu(TOKEN, USER).unwrap();
    assert!(seen.is_default);
    assert_eq!(seen.name, "初診の方");
}

#[tokio::test]
async fn a_user_link_beats_the_default_and_a_batch_moves_everyone_with_progress() {
    let env = Env::start().await;
    let a = created(&env).await;
    let b = created(&env).await;
    for id in [&a, &b] {
        assert_eq!(
            upload(&env, id, "image/png", png_sized(2500, 843)).await.0,
            200
        );
    }
    let (status, _, _) = env
        .post(
            &format!("/v2/bot/user/{USER}/richmenu/{a}"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(env.sb.linked_menu(TOKEN, USER).unwrap().rich_menu_id, a);
    let ops = json!({"operations": [{"type": "link", "from": a, "to": b}]});
    let (status, headers, _) = env.post("/v2/bot/richmenu/batch", &ops, None).await;
    assert_eq!(status, 202);
    let request_id = headers["x-line-request-id"].to_str().unwrap().to_owned();
    assert_eq!(env.sb.linked_menu(TOKEN, USER).unwrap().rich_menu_id, b);
    let path = format!("/v2/bot/richmenu/progress/batch?requestId={request_id}");
    let (_, _, first) = env.get(&path).await;
    assert_eq!(first["phase"], "ongoing");
    let (_, _, then) = env.get(&path).await;
    assert_eq!(then["phase"], "succeeded");
    assert!(then["completedTime"].is_string());
    let too_many = json!({"operations": vec![json!({"type": "unlinkAll"}); 1001]});
    let (status, _, _) = env.post("/v2/bot/richmenu/batch", &too_many, None).await;
    assert_eq!(status, 400);
    let unknown = json!({"operations": [{"type": "link", "from": a, "to": "richmenu-nope"}]});
    let (status, _, body) = env.post("/v2/bot/richmenu/batch", &unknown, None).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn aliases_are_unique_and_a_switch_tap_sends_lines_postback() {
    let env = Env::start().await;
    let a = created(&env).await;
    let b = created(&env).await;
    for id in [&a, &b] {
        upload(&env, id, "image/png", png_sized(2500, 843)).await;
    }
    let alias = json!({"richMenuAliasId": "tab-b", "richMenuId": b});
    assert_eq!(
        env.post("/v2/bot/richmenu/alias", &alias, None).await.0,
        200
    );
    let (status, _, body) = env.post("/v2/bot/richmenu/alias", &alias, None).await;
    assert_eq!(
        (status, body["message"].clone()),
        (400, json!("conflict richmenu alias id"))
    );
    let bad = json!({"richMenuAliasId": "Tab B", "richMenuId": b});
    assert_eq!(env.post("/v2/bot/richmenu/alias", &bad, None).await.0, 400);
    assert_eq!(env.sb.rich_menu_alias(TOKEN, "tab-b"), Some(b.clone()));

    // A menu with a tab that switches to alias tab-b, as the user's menu.
    let (_, _, body) = env
        .post(
            "/v2/bot/richmenu",
            &menu(
                2500,
                843,
                json!([{"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
                        "action": {"type": "richmenuswitch", "richMenuAliasId": "tab-b", "data": "tab=b"}},
                       message_area(1250, 1250, "駐車場")]),
            ),
            None,
        )
        .await;
    let tabbed = body["richMenuId"].as_str().unwrap().to_owned();
    upload(&env, &tabbed, "image/png", png_sized(2500, 843)).await;
    env.post(
        &format!("/v2/bot/user/{USER}/richmenu/{tabbed}"),
        &json!({}),
        None,
    )
    .await;

    let tap = |area: usize| {
        env.http
            .post(format!("{}/simulator/api/richmenu/tap", env.base))
            .json(&json!({"channel": BOT, "user": USER, "area": area}))
            .send()
    };
    assert_eq!(tap(1).await.unwrap().status().as_u16(), 200);
    let sent = env.hook_json(env.hooks_len() - 1);
    assert_eq!(sent["events"][0]["message"]["text"], "駐車場");
    assert_eq!(tap(0).await.unwrap().status().as_u16(), 200);
    let sent = env.hook_json(env.hooks_len() - 1);
    assert_eq!(sent["events"][0]["type"], "postback");
    assert_eq!(sent["events"][0]["postback"]["data"], "tab=b");
    assert_eq!(
        sent["events"][0]["postback"]["params"],
        json!({"newRichMenuAliasId": "tab-b", "status": "SUCCESS"})
    );
    assert_eq!(env.sb.linked_menu(TOKEN, USER).unwrap().rich_menu_id, b);
}

#[tokio::test]
async fn an_injected_429_changes_nothing() {
    let env = Env::start().await;
    env.sb.fail_next("/v2/bot/richmenu", 429, 1);
    let (status, _, _) = env
        .post(
            "/v2/bot/richmenu",
            &menu(2500, 843, json!([message_area(0, 2500, "予約")])),
            None,
        )
        .await;
    assert_eq!(status, 429);
    assert!(env.sb.rich_menu_ids(TOKEN).is_empty());
}
