//! The API's mutating routes, with clinic A's `admin` token and clinic B's ids.
use serde_json::json;

use super::routes::Case;
use super::world::World;

const TEMPLATE: &str = "/api/v1/channels/{id}/templates/{template_id}";
const SCHEDULED: &str = "/api/v1/conversations/{id}/scheduled/{scheduled_id}";
const SCHEDULED_CANCEL: &str = "/api/v1/conversations/{id}/scheduled/{scheduled_id}/cancel";

pub fn cases(w: &World) -> Vec<Case> {
    let (a, b) = (&w.a, &w.b);
    let patch_template = |ch: &str, t: &str, what| {
        let path = format!("/api/v1/channels/{ch}/templates/{t}");
        Case::json(
            "PATCH",
            TEMPLATE,
            path,
            Some(json!({"status": "approved"})),
            what,
        )
    };
    let consent = json!({"purpose": "marketing", "granted": true, "source": "web_form", "wording": "お知らせを受け取る"});
    let consent_on_b = json!({"purpose": "marketing", "channel": b.line.as_str(), "granted": true, "source": "web_form", "wording": "お知らせを受け取る"});
    let rule = |channel: Option<&str>, team: Option<&str>| {
        json!({"name": "乗っ取り", "keywords": ["駐車場"], "match_mode": "exact",
               "reply_text": "本文", "channel_id": channel, "team_id": team})
    };
    let mut out = vec![
        Case::json(
            "POST",
            "/api/v1/automation/keyword-rules",
            "/api/v1/automation/keyword-rules".to_string(),
            Some(rule(Some(b.line.as_str()), None)),
            "B's channel in a new keyword rule",
        ),
        Case::json(
            "PATCH",
            "/api/v1/automation/keyword-rules/{id}",
            format!("/api/v1/automation/keyword-rules/{}", b.keyword_rule),
            Some(json!({"name": "乗っ取り"})),
            "B's keyword rule",
        ),
        Case::json(
            "PATCH",
            "/api/v1/automation/keyword-rules/{id}",
            format!("/api/v1/automation/keyword-rules/{}", a.keyword_rule),
            Some(json!({"team_id": b.team.as_str()})),
            "B's team in A's keyword rule",
        ),
        Case::json(
            "DELETE",
            "/api/v1/automation/keyword-rules/{id}",
            format!("/api/v1/automation/keyword-rules/{}", b.keyword_rule),
            None,
            "B's keyword rule",
        ),
        Case::json(
            "POST",
            "/api/v1/automation/event-rules",
            "/api/v1/automation/event-rules".to_string(),
            Some(
                json!({"name": "乗っ取り", "trigger": {"kind": "friend_added"},
                "actions": [{"type": "assign", "team_id": b.team.as_str()}]}),
            ),
            "B's team in a new event rule",
        ),
        Case::json(
            "PUT",
            "/api/v1/automation/event-rules/{id}",
            format!("/api/v1/automation/event-rules/{}", b.event_rule),
            Some(
                json!({"name": "乗っ取り", "trigger": {"kind": "friend_added"},
                "actions": [{"type": "tag", "tag": "x"}]}),
            ),
            "B's event rule",
        ),
        Case::json(
            "PUT",
            "/api/v1/automation/event-rules/order",
            "/api/v1/automation/event-rules/order".to_string(),
            Some(json!({"ids": [b.event_rule.as_str()]})),
            "B's event rule in A's order",
        ),
        Case::json(
            "DELETE",
            "/api/v1/automation/event-rules/{id}",
            format!("/api/v1/automation/event-rules/{}", b.event_rule),
            None,
            "B's event rule",
        ),
        Case::json(
            "PATCH",
            "/api/v1/canned-responses/{id}",
            format!("/api/v1/canned-responses/{}", b.canned),
            Some(json!({"title": "乗っ取り"})),
            "B's canned response",
        ),
        Case::json(
            "DELETE",
            "/api/v1/canned-responses/{id}",
            format!("/api/v1/canned-responses/{}", b.canned),
            None,
            "B's canned response",
        ),
        Case::json(
            "POST",
            "/api/v1/conversations/{id}/assignment",
            format!("/api/v1/conversations/{}/assignment", b.conv),
            Some(json!({"staff_id": null})),
            "B's conversation",
        ),
        Case::json(
            "POST",
            "/api/v1/conversations/{id}/assignment",
            format!("/api/v1/conversations/{}/assignment", a.conv),
            Some(json!({"staff_id": b.owner.staff_id.as_str()})),
            "B's staff member for A's conversation",
        ),
        Case::json(
            "POST",
            "/api/v1/conversations/{id}/assignment",
            format!("/api/v1/conversations/{}/assignment", a.conv),
            Some(json!({"team_id": b.team.as_str()})),
            "B's team for A's conversation",
        ),
        Case::json(
            "POST",
            "/api/v1/channels/{id}/templates",
            format!("/api/v1/channels/{}/templates", b.wa),
            Some(
                json!({"name": "probe", "language": "ja", "category": "UTILITY", "body": "こんにちは"}),
            ),
            "B's channel",
        ),
        Case::json(
            "POST",
            "/api/v1/channels/{id}/templates/sync",
            format!("/api/v1/channels/{}/templates/sync", b.wa),
            None,
            "B's channel",
        ),
        patch_template(b.wa.as_str(), &b.template, "B's channel and template"),
        patch_template(a.wa.as_str(), &b.template, "B's template via A's channel"),
        patch_template(
            a.wa2.as_str(),
            &a.template,
            "A's template via its other channel",
        ),
        Case::json(
            "POST",
            "/api/v1/conversations/{id}/messages",
            format!("/api/v1/conversations/{}/messages", b.conv),
            Some(json!({"text": "こんにちは"})),
            "B's conversation",
        ),
        Case::json(
            "POST",
            "/api/v1/conversations/{id}/scheduled",
            format!("/api/v1/conversations/{}/scheduled", b.conv),
            Some(json!({"text": "こんにちは", "send_at": "2099-01-01T10:00:00+09:00"})),
            "B's conversation",
        ),
        Case::json(
            "PATCH",
            SCHEDULED,
            format!("/api/v1/conversations/{}/scheduled/{}", b.conv, b.scheduled),
            Some(json!({"text": "乗っ取り"})),
            "B's conversation and scheduled message",
        ),
        Case::json(
            "PATCH",
            SCHEDULED,
            format!("/api/v1/conversations/{}/scheduled/{}", a.conv, b.scheduled),
            Some(json!({"text": "乗っ取り"})),
            "B's scheduled message on A's conversation",
        ),
        Case::json(
            "PATCH",
            SCHEDULED,
            format!(
                "/api/v1/conversations/{}/scheduled/{}",
                a.other_conv, a.scheduled
            ),
            Some(json!({"text": "乗っ取り"})),
            "A's scheduled message of another conversation",
        ),
        Case::json(
            "POST",
            SCHEDULED_CANCEL,
            format!(
                "/api/v1/conversations/{}/scheduled/{}/cancel",
                a.conv, b.scheduled
            ),
            None,
            "B's scheduled message on A's conversation",
        ),
        Case::json(
            "POST",
            SCHEDULED_CANCEL,
            format!(
                "/api/v1/conversations/{}/scheduled/{}/cancel",
                b.conv, b.scheduled
            ),
            None,
            "B's conversation and scheduled message",
        ),
        Case::json(
            "POST",
            SCHEDULED_CANCEL,
            format!(
                "/api/v1/conversations/{}/scheduled/{}/cancel",
                a.other_conv, a.scheduled
            ),
            None,
            "A's scheduled message of another conversation",
        ),
        Case::json(
            "PATCH",
            "/api/v1/conversations/{id}",
            format!("/api/v1/conversations/{}", b.conv),
            Some(json!({"status": "resolved"})),
            "B's conversation",
        ),
        Case::json(
            "POST",
            "/api/v1/conversations/{id}/labels",
            format!("/api/v1/conversations/{}/labels", b.conv),
            Some(json!({"label_id": b.label.as_str()})),
            "B's conversation and label",
        ),
        Case::json(
            "POST",
            "/api/v1/conversations/{id}/labels",
            format!("/api/v1/conversations/{}/labels", a.conv),
            Some(json!({"label_id": b.label.as_str()})),
            "B's label on A's conversation",
        ),
        Case::json(
            "DELETE",
            "/api/v1/conversations/{id}/labels/{label_id}",
            format!("/api/v1/conversations/{}/labels/{}", a.conv, b.label),
            None,
            "B's label off A's conversation",
        ),
        Case::json(
            "PATCH",
            "/api/v1/patients/{id}",
            format!("/api/v1/patients/{}", b.patient),
            Some(json!({"name": "乗っ取り"})),
            "B's patient",
        ),
        Case::json(
            "DELETE",
            "/api/v1/calendar/closures/{id}",
            format!("/api/v1/calendar/closures/{}", b.closure),
            None,
            "B's closure",
        ),
        Case::json(
            "POST",
            "/api/v1/patients/{id}/messages",
            format!("/api/v1/patients/{}/messages", b.patient),
            Some(json!({"purpose": "care", "text": "ご予約の確認です"})),
            "B's patient",
        ),
        Case::json(
            "POST",
            "/api/v1/patients/{id}/messages",
            format!("/api/v1/patients/{}/messages", a.patient),
            Some(
                json!({"purpose": "care", "text": "ご予約の確認です", "channel": b.line.as_str()}),
            ),
            "B's channel for A's patient",
        )
        .expect(422),
        Case::json(
            "POST",
            "/api/v1/patients/{id}/consents",
            format!("/api/v1/patients/{}/consents", b.patient),
            Some(consent),
            "B's patient",
        ),
        Case::json(
            "POST",
            "/api/v1/patients/{id}/consents",
            format!("/api/v1/patients/{}/consents", a.patient),
            Some(consent_on_b),
            "B's channel for A's patient",
        )
        .expect(422),
        Case::json(
            "POST",
            "/api/v1/identities/{id}/link",
            format!("/api/v1/identities/{}/link", b.identity),
            Some(json!({"patient_id": a.other, "reason": "確認"})),
            "B's identity",
        ),
        Case::json(
            "POST",
            "/api/v1/identities/{id}/link",
            format!("/api/v1/identities/{}/link", a.identity_unlocked),
            Some(json!({"patient_id": b.patient, "reason": "確認"})),
            "B's patient as link target",
        )
        .expect(422),
        Case::json(
            "POST",
            "/api/v1/links/{id}/undo",
            format!("/api/v1/links/{}/undo", b.link),
            None,
            "B's link",
        ),
        Case::json(
            "POST",
            "/api/v1/patients/{id}/proxies",
            format!("/api/v1/patients/{}/proxies", b.patient),
            Some(json!({"proxy_patient_id": a.other, "relationship": "parent"})),
            "B's patient",
        ),
        Case::json(
            "POST",
            "/api/v1/patients/{id}/proxies",
            format!("/api/v1/patients/{}/proxies", a.patient),
            Some(json!({"proxy_identity_id": b.identity, "relationship": "parent"})),
            "B's identity as proxy",
        )
        .expect(422),
        Case::json(
            "DELETE",
            "/api/v1/patients/{id}",
            format!("/api/v1/patients/{}", b.patient),
            Some(json!({"reason": "依頼"})),
            "B's patient",
        ),
    ];
    out.extend(super::routes_api_automation::cases(w));
    out
}
