//! Whether the reply box can send at all, asked when the conversation page renders: the same
//! `inbox::reachability::check` the send makes, so a patient who sent STOP, blocked the account,
//! bounced or is outside the provider's window gets a closed box with why and what to do
//! instead, not a refusal after 送信.
use serde::Serialize;
use tsunagu_channels::ChannelKind;
use tsunagu_core::ChannelId;
use tsunagu_inbox::reachability::{self, Unreachable};
use tsunagu_store::conversations::Conversation;
use tsunagu_store::{channels, patients};

use super::conn;
use crate::i18n;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

/// Why a reply cannot go now, in the staff's words.
#[derive(Clone, Debug, Serialize)]
pub struct Closed {
    /// blocked | opted_out | bounced | outside_window
    pub reason: &'static str,
    pub why: String,
    pub instead: String,
}

/// `None` when a text reply may go (or the conversation is a group, which has no one identity).
pub async fn closed(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
) -> Result<Option<Closed>, PageError> {
    if conv.kind != "direct" {
        return Ok(None);
    }
    let clinic = staff.clinic.clinic_id();
    let channel_id = ChannelId::from_db(conv.channel_id.clone());
    let mut conn = conn(state).await?;
    let Some(kind) = channels::by_id(&mut conn, &clinic, &channel_id)
        .await?
        .and_then(|c| ChannelKind::parse(&c.kind))
    else {
        return Ok(None);
    };
    let ident = patients::identity(&mut conn, &channel_id, &conv.thread_key)
        .await?
        .filter(|i| i.clinic_id == staff.clinic.id);
    let check = reachability::check(
        kind,
        ident.as_ref(),
        conv.last_inbound_at,
        true,
        "text",
        state.now_ms(),
    );
    Ok(check.err().map(|u| words(staff.lang, kind, &u)))
}

fn words(lang: &str, kind: ChannelKind, u: &Unreachable) -> Closed {
    let reason = match u {
        Unreachable::Blocked => "blocked",
        Unreachable::OptedOut => "opted_out",
        Unreachable::Bounced { .. } => "bounced",
        Unreachable::OutsideServiceWindow { .. } => "outside_window",
    };
    let instead = match u {
        // Only an approved template may go outside the window on this provider.
        Unreachable::OutsideServiceWindow { .. } if kind.rules().template_outside_window => {
            "reply.closed.instead_template"
        }
        Unreachable::OutsideServiceWindow { .. } => "reply.closed.instead_wait",
        Unreachable::Blocked => "reply.closed.instead_blocked",
        Unreachable::OptedOut => "reply.closed.instead_opted_out",
        Unreachable::Bounced { .. } => "reply.closed.instead_bounced",
    };
    Closed {
        reason,
        why: i18n::text(lang, &format!("reply.closed.{reason}")),
        instead: i18n::text(lang, instead),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_in_words_with_something_to_do_instead() {
        let all = [
            Unreachable::Blocked,
            Unreachable::OptedOut,
            Unreachable::Bounced {
                reason: "30003".into(),
            },
            Unreachable::OutsideServiceWindow {
                kind: ChannelKind::WhatsApp,
            },
        ];
        for lang in ["ja", "en"] {
            for u in &all {
                for kind in [ChannelKind::WhatsApp, ChannelKind::Messenger] {
                    let c = words(lang, kind, u);
                    assert!(!c.why.starts_with("reply.closed"), "{lang} {u:?}");
                    assert!(!c.instead.starts_with("reply.closed"), "{lang} {u:?}");
                }
            }
        }
        let wa = words("ja", ChannelKind::WhatsApp, &all[3]);
        assert!(wa.instead.contains("テンプレート"), "{}", wa.instead);
    }
}
