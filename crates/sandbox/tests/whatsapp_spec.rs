//! Send bodies against Meta's OpenAPI spec: every request example in the spec is accepted,
//! bodies Meta would refuse get (#100) Invalid parameter with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod whatsapp_common;

use serde_json::{json, Value};
use tsunagu_sandbox::whatsapp::spec;
use whatsapp_common::*;

const SPEC_YAML: &str = include_str!("../spec/whatsapp/send-message.yaml");

/// Meta's 50 request examples, by name.
fn examples() -> Vec<(String, Value)> {
    let doc: Value = serde_yaml::from_str(SPEC_YAML).unwrap();
    let ex = doc
        .pointer("/paths/~1{Version}~1{Phone-Number-ID}~1messages/post/requestBody/content/application~1json/examples")
        .and_then(Value::as_object)
        .unwrap();
    ex.iter()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect()
}

/// Documentation placeholders stand where real values go: a phone number, a real header type.
fn fill(example: &Value, to: &str, read_id: &str) -> Value {
    let text = example.to_string();
    let text = text
        .replace("{{Recipient-Phone-Number}}", to)
        .replace("{{Recipient-WA-Phone-Number}}", to)
        .replace("<HEADER_TYPE>", "text");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    if v.get("status").is_some() {
        v["message_id"] = json!(read_id);
    }
    v
}

#[test]
fn every_request_example_in_metas_spec_passes_the_schema() {
    let spec = spec::spec().unwrap();
    let all = examples();
    assert_eq!(all.len(), 50);
    for (name, example) in all {
        let mut body = fill(&example, USER, "wamid.x");
        let problems = if body.get("status").is_some() {
            spec.validate_mark_read(&body)
        } else {
            spec::infer_type(&mut body);
            spec.validate_message(&body)
        };
        assert!(problems.is_empty(), "{name}: {problems:?}");
    }
}

#[tokio::test]
async fn every_request_example_is_accepted_over_http() {
    let env = Env::start().await;
    env.sb
        .set_pair_rate_limit(1000, std::time::Duration::from_secs(1));
    let inbound = env
        .sb
        .user_text(PHONE, USER, NAME, "こんにちは")
        .await
        .unwrap();
    let read_id = inbound.wamid.unwrap();
    for (name, example) in examples() {
        let body = fill(&example, USER, &read_id);
        // Each template example needs an approved template with as many body variables.
        if let Some(t) = body.get("template") {
            let n = t["components"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["type"] == "body")
                .map(|c| c["parameters"].as_array().map_or(0, Vec::len))
                .sum::<usize>();
            let text: Vec<String> = (1..=n).map(|i| format!("{{{{{i}}}}}")).collect();
            let (tname, code) = (
                t["name"].as_str().unwrap(),
                t["language"]["code"].as_str().unwrap(),
            );
            if !env
                .sb
                .templates(WABA)
                .iter()
                .any(|x| x.name == tname && x.language == code)
            {
                env.sb.add_template(
                    WABA,
                    tname,
                    code,
                    &format!("x {}", text.join(" ")),
                    "APPROVED",
                );
            }
        }
        let to: String = body["to"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        env.sb.open_window(PHONE, &to);
        env.clock.advance(chrono::Duration::seconds(1));
        let (status, answer) = env.send(&body).await;
        assert_eq!(status, 200, "{name}: {answer}");
    }
    assert_eq!(env.sb.received().len(), 50);
}

#[tokio::test]
async fn bodies_meta_would_refuse_get_code_100_with_details() {
    let env = Env::start().await;
    env.sb.open_window(PHONE, USER);
    let cases = [
        (
            "no text",
            json!({"messaging_product":"whatsapp","to":USER,"type":"text","text":{}}),
            "text.body",
        ),
        ("too long", text(USER, &"あ".repeat(4097)), "4096"),
        (
            "unknown type",
            json!({"messaging_product":"whatsapp","to":USER,"type":"hologram"}),
            "type",
        ),
        (
            "stray field",
            json!({"messaging_product":"whatsapp","to":USER,"type":"text","text":{"body":"a"},"colour":"red"}),
            "colour",
        ),
        ("four buttons", buttons(4, "ok"), "buttons"),
        ("long title", buttons(1, &"x".repeat(21)), "title"),
        ("eleven rows", list(11), "rows"),
        (
            "media without id or link",
            json!({"messaging_product":"whatsapp","to":USER,"type":"image","image":{}}),
            "image",
        ),
        (
            "wrong product",
            json!({"messaging_product":"sms","to":USER,"type":"text","text":{"body":"a"}}),
            "messaging_product",
        ),
    ];
    for (name, body, mention) in cases {
        let (status, answer) = env.send(&body).await;
        assert_eq!(status, 400, "{name}: {answer}");
        assert_eq!(answer["error"]["code"], 100, "{name}");
        assert_eq!(answer["error"]["type"], "OAuthException");
        assert!(answer["error"]["fbtrace_id"].is_string());
        let details = answer["error"]["error_data"]["details"].as_str().unwrap();
        assert!(details.contains(mention), "{name}: {details}");
    }
    assert!(env.sb.received().is_empty());
}

#[tokio::test]
async fn a_wrong_token_gets_190_and_a_foreign_number_gets_100_subcode_33() {
    let env = Env::start().await;
    let (status, answer) = env.send_as("nope", &text(USER, "a")).await;
    assert_eq!((status, answer["error"]["code"].as_i64()), (401, Some(190)));
    let url = format!("{}/{V}/999999/messages", env.base);
    let resp = env
        .http
        .post(url)
        .bearer_auth(TOKEN)
        .json(&text(USER, "a"))
        .send()
        .await
        .unwrap();
    let (status, answer) = answer_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(
        (
            answer["error"]["code"].as_i64(),
            answer["error"]["error_subcode"].as_i64()
        ),
        (Some(100), Some(33))
    );
    let url = format!("{}/latest/{PHONE}/messages", env.base);
    let resp = env
        .http
        .post(url)
        .bearer_auth(TOKEN)
        .json(&text(USER, "a"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer_of(resp).await.1["error"]["code"], 2500);
}

async fn answer_of(resp: reqwest::Response) -> (u16, Value) {
    whatsapp_common::answer(resp).await
}

fn buttons(n: usize, title: &str) -> Value {
    let b: Vec<Value> = (0..n).map(|i| json!({"type":"reply","reply":{"id":format!("b{i}"),"title":format!("{title}{}", if n > 1 { i.to_string() } else { String::new() })}})).collect();
    json!({"messaging_product":"whatsapp","to":USER,"type":"interactive",
           "interactive":{"type":"button","body":{"text":"ご都合は？"},"action":{"buttons":b}}})
}

fn list(rows: usize) -> Value {
    let r: Vec<Value> = (0..rows)
        .map(|i| json!({"id":format!("r{i}"),"title":format!("{i}時")}))
        .collect();
    json!({"messaging_product":"whatsapp","to":USER,"type":"interactive",
           "interactive":{"type":"list","body":{"text":"時間を選んでください"},
                          "action":{"button":"選ぶ","sections":[{"title":"午前","rows":r}]}}})
}
