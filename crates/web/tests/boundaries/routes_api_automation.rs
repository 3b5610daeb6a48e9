//! The automation API's mutating routes (settings, flows, sequences, sources, rich menus), with
//! clinic A's `admin` token and clinic B's ids.
use serde_json::{json, Value};

use super::routes::Case;
use super::world::World;

const FLOW: &str = "/api/v1/automation/flows/{id}";
const SEQUENCE: &str = "/api/v1/automation/sequences/{id}";
const SOURCE: &str = "/api/v1/automation/sources/{id}";
const MENU: &str = "/api/v1/automation/rich-menus/{id}";
const STOP: &str = "/api/v1/automation/sequences/{id}/enrollments/{enrollment_id}/stop";

fn sequence(trigger: Value) -> Value {
    json!({"name": "乗っ取り", "purpose": "care", "trigger": trigger,
           "steps": [{"delay_minutes": 60, "body": "本文"}]})
}

pub fn cases(w: &World) -> Vec<Case> {
    let (a, b) = (&w.a, &w.b);
    let flow = |id: &str, tail: &str| format!("/api/v1/automation/flows/{id}{tail}");
    let seq = |id: &str| format!("/api/v1/automation/sequences/{id}");
    let stop = |s: &str, e: &str| format!("{}/enrollments/{e}/stop", seq(s));
    let on_b_team = json!({"name": "乗っ取り", "definition": {"steps": [
        {"id": "t", "type": "assign_team", "team": b.team.as_str()},
        {"id": "e", "type": "end", "text": "終わり"}]}});
    let tag = json!({"kind": "tag_added", "tag": "初診"});
    let menu = |tail: &str| format!("/api/v1/automation/rich-menus/{}{tail}", b.rich_menu);
    vec![
        Case::json(
            "PUT",
            "/api/v1/automation/settings",
            "/api/v1/automation/settings".to_string(),
            Some(
                json!({"away": {"enabled": false, "text": "時間外", "every_hours": 12},
                "escape_words": ["スタッフ"], "quiet_minutes": 30,
                "greetings": [{"channel_id": b.line.as_str(), "enabled": true, "text": "乗っ取り",
                    "ask_consent": true, "offer_verification": true}]}),
            ),
            "B's channel in the greetings",
        ),
        Case::json(
            "POST",
            "/api/v1/automation/flows",
            "/api/v1/automation/flows".to_string(),
            Some(on_b_team.clone()),
            "B's team in a new flow",
        ),
        Case::json(
            "PATCH",
            FLOW,
            flow(&b.flow, ""),
            Some(json!({"name": "乗っ取り", "enabled": true})),
            "B's flow",
        ),
        Case::json(
            "PATCH",
            FLOW,
            flow(&a.flow, ""),
            Some(json!({"definition": on_b_team["definition"]})),
            "B's team in A's flow",
        ),
        Case::json("DELETE", FLOW, flow(&b.flow, ""), None, "B's flow"),
        Case::json(
            "POST",
            "/api/v1/automation/flows/{id}/publish",
            flow(&b.flow, "/publish"),
            None,
            "B's flow",
        ),
        Case::json(
            "POST",
            "/api/v1/automation/flows/{id}/preview",
            flow(&b.flow, "/preview"),
            Some(json!({"answers": ["発熱"]})),
            "B's flow",
        ),
        Case::json(
            "POST",
            "/api/v1/automation/sequences",
            "/api/v1/automation/sequences".to_string(),
            Some(sequence(
                json!({"kind": "friend_added", "channel_id": b.line.as_str()}),
            )),
            "B's channel in a new sequence",
        ),
        Case::json(
            "PUT",
            SEQUENCE,
            seq(&b.sequence),
            Some(sequence(tag.clone())),
            "B's sequence",
        ),
        Case::json(
            "PUT",
            SEQUENCE,
            seq(&a.sequence),
            Some(sequence(
                json!({"kind": "friend_added", "channel_id": b.line.as_str()}),
            )),
            "B's channel in A's sequence",
        ),
        Case::json(
            "PATCH",
            SEQUENCE,
            seq(&b.sequence),
            Some(json!({"enabled": false})),
            "B's sequence",
        ),
        Case::json("DELETE", SEQUENCE, seq(&b.sequence), None, "B's sequence"),
        Case::json(
            "POST",
            STOP,
            stop(&b.sequence, &b.enrollment),
            None,
            "B's enrollment",
        ),
        Case::json(
            "POST",
            STOP,
            stop(&a.sequence, &b.enrollment),
            None,
            "B's enrollment under A's sequence",
        ),
        Case::json(
            "POST",
            "/api/v1/automation/sources",
            "/api/v1/automation/sources".to_string(),
            Some(json!({"channel_id": b.line.as_str(), "name": "乗っ取り"})),
            "B's channel in a new source",
        ),
        Case::json(
            "PATCH",
            SOURCE,
            format!("/api/v1/automation/sources/{}", b.source),
            Some(json!({"name": "乗っ取り"})),
            "B's source",
        ),
        Case::json(
            "DELETE",
            SOURCE,
            format!("/api/v1/automation/sources/{}", b.source),
            None,
            "B's source",
        ),
        Case::json(
            "PUT",
            "/api/v1/automation/sources/channels/{id}/address",
            format!("/api/v1/automation/sources/channels/{}/address", b.line),
            Some(json!({"address": "@momiji"})),
            "B's LINE channel's address",
        ),
        Case::json(
            "PUT",
            "/api/v1/automation/sources/channels/{id}/line-login",
            format!("/api/v1/automation/sources/channels/{}/line-login", b.line),
            Some(json!({"login_channel_id": "1660000000",
                "login_channel_secret": "0123456789abcdef0123456789abcdef"})),
            "B's LINE channel's LINE Login",
        ),
        Case::json(
            "DELETE",
            "/api/v1/automation/sources/channels/{id}/line-login",
            format!("/api/v1/automation/sources/channels/{}/line-login", b.line),
            None,
            "B's LINE channel's LINE Login",
        ),
        Case::json(
            "POST",
            "/api/v1/automation/rich-menus",
            "/api/v1/automation/rich-menus".to_string(),
            Some(json!({"channel_id": b.line.as_str(), "name": "乗っ取り",
                "chat_bar_text": "メニュー", "width": 2500, "height": 843})),
            "B's channel in a new rich menu",
        ),
        Case::json(
            "PATCH",
            MENU,
            menu(""),
            Some(json!({"name": "乗っ取り"})),
            "B's rich menu",
        ),
        Case::json("DELETE", MENU, menu(""), None, "B's rich menu"),
        Case::json(
            "POST",
            "/api/v1/automation/rich-menus/{id}/publish",
            menu("/publish"),
            None,
            "B's rich menu",
        ),
        Case::json(
            "PUT",
            "/api/v1/automation/rich-menus/{id}/default",
            menu("/default"),
            Some(json!({"default": true})),
            "B's rich menu",
        ),
        Case::json(
            "POST",
            "/api/v1/automation/rich-menu-rules",
            "/api/v1/automation/rich-menu-rules".to_string(),
            Some(json!({"tag": "乗っ取り", "rich_menu_id": b.rich_menu})),
            "B's rich menu in a new rule",
        ),
        Case::json(
            "DELETE",
            "/api/v1/automation/rich-menu-rules/{id}",
            format!("/api/v1/automation/rich-menu-rules/{}", b.rich_menu_rule),
            None,
            "B's rich menu rule",
        ),
    ]
}
