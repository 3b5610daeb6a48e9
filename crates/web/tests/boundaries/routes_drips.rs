//! Step sequences and inflow sources in the staff UI, as clinic A's owner with clinic B's ids:
//! B's sequence, enrollment, channel, inflow source and custom references are refused and change
//! nothing.
use super::routes::Case;
use super::world::World;

fn sequence_fields(channel: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", "乗っ取り"),
        ("purpose", "health_information"),
        ("trigger_kind", "friend_added"),
        ("trigger_channel", channel),
        ("enabled", "1"),
        ("step_body_0", "こんにちは"),
        ("step_delay_0", "1"),
        ("step_unit_0", "days"),
        ("step_after_0", "enrollment"),
    ]
}

pub fn cases(w: &World) -> Vec<Case> {
    let (a, b) = (&w.a, &w.b);
    vec![
        Case::form(
            "/app/settings/sequences",
            "/app/settings/sequences".into(),
            &sequence_fields(b.line.as_str()),
            "B's LINE channel as the trigger",
        )
        .expect(422),
        Case::form(
            "/app/settings/sequences/{id}",
            format!("/app/settings/sequences/{}", b.sequence),
            &sequence_fields(""),
            "B's sequence",
        ),
        Case::form(
            "/app/settings/sequences/{id}/enabled",
            format!("/app/settings/sequences/{}/enabled", b.sequence),
            &[("enabled", "0")],
            "B's sequence",
        ),
        Case::form(
            "/app/settings/sequences/{id}/enrollments/{enrollment}/stop",
            format!(
                "/app/settings/sequences/{}/enrollments/{}/stop",
                a.sequence, b.enrollment
            ),
            &[],
            "B's enrollment under A's sequence",
        ),
        Case::form(
            "/app/settings/sources",
            "/app/settings/sources".into(),
            &[("name", "乗っ取り"), ("channel_id", b.line.as_str())],
            "B's LINE channel",
        )
        .expect(422),
        Case::form(
            "/app/settings/sources/{id}/edit",
            format!("/app/settings/sources/{}/edit", b.source),
            &[("name", "乗っ取り"), ("tag", "乗っ取り")],
            "B's inflow source",
        ),
        Case::form(
            "/app/settings/sources/{id}/delete",
            format!("/app/settings/sources/{}/delete", b.source),
            &[],
            "B's inflow source",
        ),
        Case::form(
            "/app/settings/sources/channels/{channel}/address",
            format!("/app/settings/sources/channels/{}/address", b.line),
            &[("address", "@momiji")],
            "B's LINE channel",
        ),
        Case::form(
            "/app/settings/sources/channels/{channel}/line-login",
            format!("/app/settings/sources/channels/{}/line-login", b.line),
            &[
                ("login_channel_id", "1660000000"),
                ("login_channel_secret", "0123456789abcdef0123456789abcdef"),
            ],
            "B's LINE channel",
        ),
        Case::form(
            "/app/settings/sources/channels/{channel}/line-login/remove",
            format!(
                "/app/settings/sources/channels/{}/line-login/remove",
                b.line
            ),
            &[],
            "B's LINE channel",
        ),
    ]
}
