//! The demo clinic's event rules (自動ルール): a patient tagged 発熱 (by staff, the intake flow
//! or a keyword) goes to the 看護 team at high priority, and a message that arrives while the
//! clinic is closed is tagged 時間外 for the morning list. Each firing leaves its line.
use tsunagu_automation::event_rules::{store, Action, Condition, Draft, Kind, Trigger};
use tsunagu_core::ClinicId;

fn trigger(kind: Kind, tag: Option<&str>) -> Trigger {
    Trigger {
        kind,
        tag: tag.map(str::to_string),
        purpose: None,
        granted: None,
    }
}

pub async fn seed(
    conn: &mut sqlx::AnyConnection,
    clinic: &ClinicId,
    cipher: &tsunagu_privacy::Cipher,
    now_ms: i64,
) -> anyhow::Result<()> {
    let nursing = tsunagu_inbox::routing::teams::list(&mut *conn, clinic)
        .await?
        .into_iter()
        .find(|t| t.name == "看護")
        .map(|t| t.id);
    let mut fever = vec![Action::Priority {
        priority: "high".into(),
    }];
    if let Some(team_id) = nursing {
        fever.insert(0, Action::Assign { team_id });
    }
    let rules = [
        Draft {
            name: "発熱は看護チームへ".into(),
            enabled: true,
            stop_later: false,
            trigger: trigger(Kind::PatientTagged, Some("発熱")),
            conditions: vec![],
            actions: fever,
        },
        Draft {
            name: "時間外のメッセージに印".into(),
            enabled: true,
            stop_later: false,
            trigger: trigger(Kind::MessageReceived, None),
            conditions: vec![Condition::Open { open: false }],
            actions: vec![Action::Tag {
                tag: "時間外".into(),
            }],
        },
    ];
    for d in rules {
        store::create(&mut *conn, clinic, cipher, d, now_ms)
            .await?
            .map_err(|e| anyhow::anyhow!("the demo's event rules: {}", e.code))?;
    }
    Ok(())
}
