//! Event rules (自動ルール) in the staff UI, as clinic A's owner with clinic B's ids: B's rule
//! and team are refused and change nothing.
use super::routes::Case;
use super::world::World;

fn fields(team: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", "乗っ取り"),
        ("trigger", "conversation_resolved"),
        ("enabled", "1"),
        ("act_kind_0", "assign"),
        ("act_choice_0", team),
    ]
}

pub fn cases(w: &World) -> Vec<Case> {
    let b = &w.b;
    let team = format!("team:{}", b.team);
    let tag = [
        ("name", "乗っ取り"),
        ("trigger", "friend_added"),
        ("act_kind_0", "tag"),
        ("act_value_0", "x"),
    ];
    vec![
        Case::form(
            "/app/settings/event-rules",
            "/app/settings/event-rules".into(),
            &fields(&team),
            "B's team in a new rule",
        )
        .expect(422),
        Case::form(
            "/app/settings/event-rules/{id}",
            format!("/app/settings/event-rules/{}", b.event_rule),
            &tag,
            "B's rule",
        ),
        Case::form(
            "/app/settings/event-rules/{id}/enabled",
            format!("/app/settings/event-rules/{}/enabled", b.event_rule),
            &[("value", "0")],
            "B's rule",
        ),
        Case::form(
            "/app/settings/event-rules/{id}/move",
            format!("/app/settings/event-rules/{}/move", b.event_rule),
            &[("value", "up")],
            "B's rule",
        ),
        Case::form(
            "/app/settings/event-rules/{id}/delete",
            format!("/app/settings/event-rules/{}/delete", b.event_rule),
            &[],
            "B's rule",
        ),
    ]
}
