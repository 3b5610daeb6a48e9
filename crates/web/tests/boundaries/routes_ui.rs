//! The staff UI's mutating routes, as clinic A's owner: with clinic B's ids, and with ids of
//! one of A's patients through the path of another (P1's identity, link or proxy via P2).
use super::routes::Case;
use super::world::World;

const LINK: &str = "/app/patients/{id}/identity/link";
const UNDO: &str = "/app/patients/{id}/identity/undo";
const UNLOCK: &str = "/app/patients/{id}/identity/unlock";
const PROXY: &str = "/app/patients/{id}/identity/proxies";
const REVOKE: &str = "/app/patients/{id}/identity/proxies/revoke";

fn identity(p: &str, action: &str) -> String {
    format!("/app/patients/{p}/identity/{action}")
}

pub fn cases(w: &World) -> Vec<Case> {
    let (a, b) = (&w.a, &w.b);
    let mut out = identity_cases(w);
    out.extend(super::routes_settings::settings_cases(w));
    out.extend(team_cases(w));
    out.extend(super::routes_drips::cases(w));
    out.extend(super::routes_event_rules::cases(w));
    out.extend([
        Case::form(
            "/app/patients/{id}",
            format!("/app/patients/{}", b.patient),
            &[("name", "乗っ取り")],
            "B's patient",
        ),
        Case::form(
            "/app/conversations/{id}/verify",
            format!("/app/conversations/{}/verify", b.conv),
            &[],
            "B's conversation",
        ),
        Case::form(
            "/app/patients/{id}/consent",
            format!("/app/patients/{}/consent", b.patient),
            &[
                ("purpose", "marketing"),
                ("decision", "grant"),
                ("source", "staff"),
                ("reason", "電話で確認"),
            ],
            "B's patient",
        ),
        Case::form(
            "/app/patients/{id}/consent",
            format!("/app/patients/{}/consent", a.patient),
            &[
                ("purpose", "marketing"),
                ("channel", b.line.as_str()),
                ("decision", "grant"),
                ("source", "staff"),
                ("reason", "電話で確認"),
            ],
            "B's channel for A's patient",
        )
        .expect(422),
        Case::form(
            "/app/patients/{id}/consent/send",
            format!("/app/patients/{}/consent/send", b.patient),
            &[("purpose", "care"), ("text", "ご予約の確認です")],
            "B's patient",
        ),
        Case::form(
            "/app/conversations/{id}/reply",
            format!("/app/conversations/{}/reply", b.conv),
            &[("text", "こんにちは")],
            "B's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/template",
            format!("/app/conversations/{}/template", b.conv),
            &[("template_id", a.template.as_str()), ("param", "山田")],
            "B's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/notes",
            format!("/app/conversations/{}/notes", b.conv),
            &[("text", "メモ")],
            "B's conversation",
        ),
        Case::form(
            "/app/conversations/bulk",
            "/app/conversations/bulk".to_string(),
            &[("ids", b.conv.as_str()), ("action", "resolve")],
            "B's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/presence",
            format!("/app/conversations/{}/presence", b.conv),
            &[("state", "typing")],
            "B's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/scheduled",
            format!("/app/conversations/{}/scheduled", b.conv),
            &[("text", "x"), ("date", "2099-01-01"), ("time", "09:00")],
            "B's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/scheduled/{sid}",
            format!("/app/conversations/{}/scheduled/{}", b.conv, b.scheduled),
            &[("text", "x"), ("date", "2099-01-01"), ("time", "09:00")],
            "B's conversation and scheduled message",
        ),
        Case::form(
            "/app/conversations/{id}/scheduled/{sid}",
            format!("/app/conversations/{}/scheduled/{}", a.conv, b.scheduled),
            &[("text", "x"), ("date", "2099-01-01"), ("time", "09:00")],
            "B's scheduled message on A's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/scheduled/{sid}/cancel",
            format!(
                "/app/conversations/{}/scheduled/{}/cancel",
                a.conv, b.scheduled
            ),
            &[],
            "B's scheduled message on A's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/scheduled/{sid}/cancel",
            format!(
                "/app/conversations/{}/scheduled/{}/cancel",
                a.other_conv, a.scheduled
            ),
            &[],
            "A's scheduled message of another conversation",
        ),
        Case::form(
            "/app/conversations/{id}/assign",
            format!("/app/conversations/{}/assign", b.conv),
            &[("assignee", a.owner.staff_id.as_str())],
            "B's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/assign",
            format!("/app/conversations/{}/assign", a.conv),
            &[("assignee", b.owner.staff_id.as_str())],
            "B's staff member for A's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/assign",
            format!("/app/conversations/{}/assign", a.conv),
            &[("team", b.team.as_str())],
            "B's team for A's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/status",
            format!("/app/conversations/{}/status", b.conv),
            &[("status", "resolved")],
            "B's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/priority",
            format!("/app/conversations/{}/priority", b.conv),
            &[("priority", "urgent")],
            "B's conversation",
        ),
        Case::form(
            "/app/conversations/{id}/labels",
            format!("/app/conversations/{}/labels", b.conv),
            &[("label", b.label.as_str()), ("op", "add")],
            "B's conversation and label",
        ),
        Case::form(
            "/app/conversations/{id}/labels",
            format!("/app/conversations/{}/labels", a.conv),
            &[("label", b.label.as_str()), ("op", "add")],
            "B's label on A's conversation",
        ),
        Case::form(
            "/app/inbox/views/{id}/rename",
            format!("/app/inbox/views/{}/rename", b.saved_view),
            &[("name", "乗っ取り")],
            "B's owner's saved view",
        ),
        Case::form(
            "/app/inbox/views/{id}/delete",
            format!("/app/inbox/views/{}/delete", b.saved_view),
            &[],
            "B's owner's saved view",
        ),
        Case::form(
            "/app/settings/rich-menus",
            "/app/settings/rich-menus".into(),
            &[
                ("channel_id", b.line.as_str()),
                ("name", "乗っ取り"),
                ("chat_bar_text", "メニュー"),
                ("size", "2500x843"),
            ],
            "B's LINE channel",
        )
        .expect(422),
        Case::form(
            "/app/settings/flows/{id}",
            format!("/app/settings/flows/{}", b.flow),
            &[
                ("name", "乗っ取り"),
                ("timeout_minutes", "30"),
                ("max_tries", "3"),
            ],
            "B's flow",
        ),
        Case::form(
            "/app/settings/flows/{id}/publish",
            format!("/app/settings/flows/{}/publish", b.flow),
            &[],
            "B's flow",
        ),
        Case::form(
            "/app/settings/flows/{id}/enabled",
            format!("/app/settings/flows/{}/enabled", b.flow),
            &[("on", "1")],
            "B's flow",
        ),
        Case::form(
            "/app/settings/flows/{id}/delete",
            format!("/app/settings/flows/{}/delete", b.flow),
            &[],
            "B's flow",
        ),
        Case::form(
            "/app/settings/flows/{id}/preview",
            format!("/app/settings/flows/{}/preview", b.flow),
            &[("answers", "[]")],
            "B's flow",
        ),
        Case::form(
            "/app/settings/flows/{id}/steps",
            format!("/app/settings/flows/{}/steps", b.flow),
            &[("kind", "tag")],
            "B's flow",
        ),
        Case::form(
            "/app/settings/flows/{id}/steps/{n}",
            format!("/app/settings/flows/{}/steps/1", b.flow),
            &[("text", "乗っ取り")],
            "B's flow",
        ),
        Case::form(
            "/app/settings/flows/{id}/steps/{n}/up",
            format!("/app/settings/flows/{}/steps/2/up", b.flow),
            &[],
            "B's flow",
        ),
        Case::form(
            "/app/settings/flows/{id}/steps/{n}/down",
            format!("/app/settings/flows/{}/steps/1/down", b.flow),
            &[],
            "B's flow",
        ),
        Case::form(
            "/app/settings/flows/{id}/steps/{n}/delete",
            format!("/app/settings/flows/{}/steps/1/delete", b.flow),
            &[],
            "B's flow",
        ),
        Case::form(
            "/app/settings/rich-menus/rules",
            "/app/settings/rich-menus/rules".into(),
            &[("tag", "初診"), ("rich_menu_id", b.rich_menu.as_str())],
            "B's rich menu",
        ),
        Case::form(
            "/app/settings/rich-menus/rules/{id}/delete",
            format!("/app/settings/rich-menus/rules/{}/delete", b.rich_menu_rule),
            &[],
            "B's rich menu rule",
        ),
        Case::form(
            "/app/settings/rich-menus/field-rules",
            "/app/settings/rich-menus/field-rules".into(),
            &[
                ("field_key", "visit"),
                ("value", "再診"),
                ("rich_menu_id", b.rich_menu.as_str()),
            ],
            "B's rich menu",
        ),
        Case::form(
            "/app/settings/rich-menus/field-rules/{id}/delete",
            format!(
                "/app/settings/rich-menus/field-rules/{}/delete",
                b.rich_menu_field_rule
            ),
            &[],
            "B's rich menu field rule",
        ),
        Case::form(
            "/app/settings/rich-menus/{id}",
            format!("/app/settings/rich-menus/{}", b.rich_menu),
            &[("name", "乗っ取り"), ("chat_bar_text", "メニュー")],
            "B's rich menu",
        ),
        Case::form(
            "/app/settings/rich-menus/{id}/image",
            format!("/app/settings/rich-menus/{}/image", b.rich_menu),
            &[],
            "B's rich menu",
        ),
        Case::form(
            "/app/settings/rich-menus/{id}/areas",
            format!("/app/settings/rich-menus/{}/areas", b.rich_menu),
            &[("areas", "[]")],
            "B's rich menu",
        ),
        Case::form(
            "/app/settings/rich-menus/{id}/publish",
            format!("/app/settings/rich-menus/{}/publish", b.rich_menu),
            &[],
            "B's rich menu",
        ),
        Case::form(
            "/app/settings/rich-menus/{id}/default",
            format!("/app/settings/rich-menus/{}/default", b.rich_menu),
            &[("on", "1")],
            "B's rich menu",
        ),
        Case::form(
            "/app/settings/rich-menus/{id}/delete",
            format!("/app/settings/rich-menus/{}/delete", b.rich_menu),
            &[],
            "B's rich menu",
        ),
        Case::form(
            "/app/settings/safety/phrases/{id}/delete",
            format!("/app/settings/safety/phrases/{}/delete", b.triage_phrase),
            &[],
            "B's triage phrase",
        ),
        Case::form(
            "/app/settings/on-call/{id}/delete",
            format!("/app/settings/on-call/{}/delete", b.on_call),
            &[],
            "B's on-call entry",
        ),
        Case::form(
            "/app/settings/on-call",
            "/app/settings/on-call".to_string(),
            &[
                ("staff_id", b.owner.staff_id.as_str()),
                ("start_date", "2026-12-08"),
                ("start_time", "18:00"),
                ("end_date", "2026-12-09"),
                ("end_time", "09:00"),
            ],
            "B's owner put on A's rota",
        )
        .expect(422),
        Case::form(
            "/app/settings/labels/{id}/delete",
            format!("/app/settings/labels/{}/delete", b.label),
            &[],
            "B's label",
        ),
        Case::form(
            "/app/messages/{id}/retry",
            format!("/app/messages/{}/retry", b.message),
            &[("confirm", "1")],
            "B's message",
        ),
        Case::form(
            "/app/patients/{id}/privacy/erase",
            format!("/app/patients/{}/privacy/erase", b.patient),
            &[
                ("confirm_name", b.patient_name.as_str()),
                ("reason", "依頼"),
            ],
            "B's patient",
        ),
        Case::form(
            "/app/clinic",
            "/app/clinic".into(),
            &[("clinic_id", b.clinic.as_str())],
            "B's clinic (not a member)",
        )
        .expect(403),
    ]);
    out
}

/// Identity links, locks and proxies: B's, and P1's through P2's path.
fn identity_cases(w: &World) -> Vec<Case> {
    let (a, b) = (&w.a, &w.b);
    let link = |p: &str, ident: &str, to: &str, what| {
        let f = [
            ("identity_id", ident),
            ("patient_id", to),
            ("reason", "確認"),
        ];
        Case::form(LINK, identity(p, "link"), &f, what)
    };
    let undo =
        |p: &str, l: &str, what| Case::form(UNDO, identity(p, "undo"), &[("link_id", l)], what);
    let unlock = |p: &str, i: &str, what| {
        Case::form(UNLOCK, identity(p, "unlock"), &[("identity_id", i)], what)
    };
    let revoke = |p: &str, x: &str, what| {
        Case::form(
            REVOKE,
            identity(p, "proxies/revoke"),
            &[("proxy_id", x)],
            what,
        )
    };
    let proxy = |p: &str, field: &str, id: &str, what| {
        let f = [(field, id), ("relationship", "parent")];
        Case::form(PROXY, identity(p, "proxies"), &f, what)
    };
    vec![
        link(
            &b.patient,
            &b.identity,
            &b.other,
            "B's patient and identity",
        ),
        link(
            &b.patient,
            &a.identity_unlocked,
            &a.other,
            "A's identity via B's patient",
        ),
        link(
            &a.patient,
            &b.identity,
            &a.other,
            "B's identity via A's patient",
        ),
        link(
            &a.other,
            &a.identity_unlocked,
            &a.other,
            "P1's identity via P2",
        ),
        link(
            &a.patient,
            &a.identity_unlocked,
            &b.patient,
            "B's patient as link target",
        )
        .expect(422),
        undo(&b.patient, &b.link, "B's patient and link"),
        undo(&a.patient, &b.link, "B's link via A's patient"),
        undo(&b.patient, &a.link, "A's link via B's patient"),
        undo(&a.other, &a.link, "P1's link via P2"),
        unlock(&b.patient, &b.identity, "B's patient and identity"),
        unlock(&a.patient, &b.identity, "B's identity via A's patient"),
        unlock(&b.patient, &a.identity, "A's identity via B's patient"),
        unlock(&a.other, &a.identity, "P1's identity via P2"),
        unlock(
            &a.patient,
            &a.identity_unlocked,
            "P1's identity that is not locked",
        )
        .expect(422),
        proxy(&b.patient, "proxy_patient_id", &b.other, "B's patient"),
        proxy(
            &b.patient,
            "proxy_patient_id",
            &a.other,
            "B's patient, A's proxy",
        ),
        proxy(
            &a.patient,
            "proxy_identity_id",
            &b.identity,
            "B's identity as proxy",
        )
        .expect(422),
        revoke(&b.patient, &b.proxy, "B's patient and proxy"),
        revoke(&a.patient, &b.proxy, "B's proxy via A's patient"),
        revoke(&b.patient, &a.proxy, "A's proxy via B's patient"),
        revoke(&a.other, &a.proxy, "P1's proxy via P2"),
    ]
}

/// Teams, members, capacity and each channel's team: B's, and B's ids through A's.
fn team_cases(w: &World) -> Vec<Case> {
    let (a, b) = (&w.a, &w.b);
    let member = "/app/settings/teams/{id}/members/{staff_id}/delete";
    vec![
        Case::form(
            "/app/settings/teams/{id}",
            format!("/app/settings/teams/{}", b.team),
            &[("name", "乗っ取り"), ("mode", "round_robin")],
            "B's team",
        ),
        Case::form(
            "/app/settings/teams/{id}/delete",
            format!("/app/settings/teams/{}/delete", b.team),
            &[],
            "B's team",
        ),
        Case::form(
            "/app/settings/teams/{id}/members",
            format!("/app/settings/teams/{}/members", b.team),
            &[("staff_id", a.owner.staff_id.as_str())],
            "B's team",
        ),
        Case::form(
            "/app/settings/teams/{id}/members",
            format!("/app/settings/teams/{}/members", a.team),
            &[("staff_id", b.owner.staff_id.as_str())],
            "B's staff member for A's team",
        ),
        Case::form(
            member,
            format!(
                "/app/settings/teams/{}/members/{}/delete",
                b.team, b.owner.staff_id
            ),
            &[],
            "B's team and member",
        ),
        Case::form(
            member,
            format!(
                "/app/settings/teams/{}/members/{}/delete",
                a.team, b.owner.staff_id
            ),
            &[],
            "B's member via A's team",
        ),
        Case::form(
            "/app/settings/staff/{staff_id}/capacity",
            format!("/app/settings/staff/{}/capacity", b.owner.staff_id),
            &[("capacity", "0")],
            "B's staff member",
        ),
        Case::form(
            "/app/settings/channels/{id}/team",
            format!("/app/settings/channels/{}/team", b.line),
            &[("team_id", "")],
            "B's channel",
        ),
        Case::form(
            "/app/settings/channels/{id}/team",
            format!("/app/settings/channels/{}/team", a.line),
            &[("team_id", b.team.as_str())],
            "B's team for A's channel",
        ),
    ]
}
