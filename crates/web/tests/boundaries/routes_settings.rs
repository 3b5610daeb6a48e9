//! The settings pages' mutating routes, as clinic A's owner, with clinic B's ids (and A's
//! template through A's other channel).
use super::routes::Case;
use super::world::World;

const STATUS: &str = "/app/settings/channels/{id}/templates/{template_id}/status";
const DELETE: &str = "/app/settings/channels/{id}/templates/{template_id}/delete";

/// Calendar closures, channels and their templates: B's, and A's template via A's other channel.
pub(super) fn settings_cases(w: &World) -> Vec<Case> {
    let (a, b) = (&w.a, &w.b);
    let tpl = |route, ch: &str, t: &str, action: &str, what| {
        let path = format!("/app/settings/channels/{ch}/templates/{t}/{action}");
        Case::form(route, path, &[("status", "approved")], what)
    };
    let rule_form = |channel: &str, team: &str| {
        vec![
            ("name", "乗っ取り".to_string()),
            ("keywords", "駐車場".to_string()),
            ("match_mode", "exact".to_string()),
            ("reply_text", "本文".to_string()),
            ("active_hours", "always".to_string()),
            ("channel_id", channel.to_string()),
            ("team_id", team.to_string()),
        ]
    };
    let mut out = vec![
        Case::form(
            "/app/settings/automation/rules/{id}",
            format!("/app/settings/automation/rules/{}", b.keyword_rule),
            &rule_form("", "")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
            "B's keyword rule",
        ),
        Case::form(
            "/app/settings/automation/rules/{id}/enabled",
            format!("/app/settings/automation/rules/{}/enabled", b.keyword_rule),
            &[("enabled", "0")],
            "B's keyword rule",
        ),
        Case::form(
            "/app/settings/automation/rules/{id}/delete",
            format!("/app/settings/automation/rules/{}/delete", b.keyword_rule),
            &[],
            "B's keyword rule",
        ),
        Case::form(
            "/app/settings/automation/rules",
            "/app/settings/automation/rules".to_string(),
            &rule_form(b.line.as_str(), "")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
            "B's channel in a new rule",
        ),
        Case::form(
            "/app/settings/automation/rules/{id}",
            format!("/app/settings/automation/rules/{}", a.keyword_rule),
            &rule_form("", b.team.as_str())
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
            "B's team in A's keyword rule",
        ),
        Case::form(
            "/app/settings/automation/greetings/{channel_id}",
            format!("/app/settings/automation/greetings/{}", b.line),
            &[("enabled", "on"), ("greeting_text", "こんにちは")],
            "B's channel",
        ),
        Case::form(
            "/app/settings/canned/{id}",
            format!("/app/settings/canned/{}", b.canned),
            &[("shortcut", "x"), ("title", "乗っ取り"), ("body", "本文")],
            "B's canned response",
        ),
        Case::form(
            "/app/settings/canned/{id}/delete",
            format!("/app/settings/canned/{}/delete", b.canned),
            &[],
            "B's canned response",
        ),
        Case::form(
            "/app/settings/calendar/closures/{id}/delete",
            format!("/app/settings/calendar/closures/{}/delete", b.closure),
            &[],
            "B's closure",
        ),
        Case::form(
            "/app/settings/channels/{id}/enabled",
            format!("/app/settings/channels/{}/enabled", b.line),
            &[("enabled", "0")],
            "B's channel",
        ),
        Case::form(
            "/app/settings/channels/{id}/mark-read",
            format!("/app/settings/channels/{}/mark-read", b.line),
            &[("on", "1")],
            "B's channel",
        ),
        Case::form(
            "/app/settings/channels/{id}/templates",
            format!("/app/settings/channels/{}/templates", b.wa),
            &[
                ("name", "probe"),
                ("language", "ja"),
                ("category", "UTILITY"),
                ("body", "こんにちは"),
            ],
            "B's channel",
        ),
        Case::form(
            "/app/settings/channels/{id}/templates/sync",
            format!("/app/settings/channels/{}/templates/sync", b.wa),
            &[],
            "B's channel",
        ),
    ];
    for (route, action) in [(STATUS, "status"), (DELETE, "delete")] {
        out.push(tpl(
            route,
            b.wa.as_str(),
            &b.template,
            action,
            "B's channel and template",
        ));
        out.push(tpl(
            route,
            a.wa.as_str(),
            &b.template,
            action,
            "B's template via A's channel",
        ));
        out.push(tpl(
            route,
            a.wa2.as_str(),
            &a.template,
            action,
            "A's template via its other channel",
        ));
    }
    out
}
