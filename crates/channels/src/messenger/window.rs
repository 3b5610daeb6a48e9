//! Which kind of send the Messenger Platform allows right now for one person, decided before
//! calling Meta so staff get a clear refusal instead of error 10/2018278.
use super::client::MessagingKind;

/// Meta doc: Send messages › "Standard messaging" (24 hours after the person's last message).
pub const STANDARD_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// Meta doc: Message tags › "HUMAN_AGENT" (a person's reply, up to 7 days).
pub const HUMAN_AGENT_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowRefusal {
    /// The person never wrote to the page: Messenger allows no first message from a business.
    #[error("messenger_no_conversation: the person has not written to the page yet")]
    NeverWrote,
    /// 24 hours to 7 days, and not typed by a person: automation waits for the person to write.
    #[error(
        "messenger_window_closed: more than 24 hours since the person's last message; \
         only a staff member may reply (up to 7 days)"
    )]
    AutomatedAfter24h,
    /// More than 7 days: nothing may be sent until the person writes again.
    #[error(
        "messenger_window_closed: more than 7 days since the person's last message; \
         wait for them to write again"
    )]
    After7Days,
}

/// Meta doc: Send messages › "Messaging types" and Message tags › "HUMAN_AGENT".
///
/// ≤ 24 h since the person's last message → `Response`; up to 7 days and typed by a person
/// (`by_person`) → `HumanAgent`; otherwise refused. A clock skew that puts the last message in
/// the future counts as inside the window.
pub fn allowed_kind(
    last_user_message_ms: Option<i64>,
    now_ms: i64,
    by_person: bool,
) -> Result<MessagingKind, WindowRefusal> {
    let Some(last) = last_user_message_ms else {
        return Err(WindowRefusal::NeverWrote);
    };
    let age = now_ms.saturating_sub(last);
    if age <= STANDARD_WINDOW_MS {
        Ok(MessagingKind::Response)
    } else if age > HUMAN_AGENT_WINDOW_MS {
        Err(WindowRefusal::After7Days)
    } else if by_person {
        Ok(MessagingKind::HumanAgent)
    } else {
        Err(WindowRefusal::AutomatedAfter24h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_743_500_000_000;

    #[test]
    fn exactly_24_hours_is_still_a_response_and_one_ms_more_needs_a_person() {
        let last = Some(NOW - STANDARD_WINDOW_MS);
        assert_eq!(allowed_kind(last, NOW, false), Ok(MessagingKind::Response));
        let later = Some(NOW - STANDARD_WINDOW_MS - 1);
        assert_eq!(
            allowed_kind(later, NOW, false),
            Err(WindowRefusal::AutomatedAfter24h)
        );
        assert_eq!(
            allowed_kind(later, NOW, true),
            Ok(MessagingKind::HumanAgent)
        );
    }

    #[test]
    fn a_person_may_reply_until_exactly_7_days_and_never_after() {
        let edge = Some(NOW - HUMAN_AGENT_WINDOW_MS);
        assert_eq!(allowed_kind(edge, NOW, true), Ok(MessagingKind::HumanAgent));
        let past = Some(NOW - HUMAN_AGENT_WINDOW_MS - 1);
        assert_eq!(
            allowed_kind(past, NOW, true),
            Err(WindowRefusal::After7Days)
        );
        assert_eq!(
            allowed_kind(past, NOW, false),
            Err(WindowRefusal::After7Days)
        );
    }

    #[test]
    fn no_message_from_the_person_means_nothing_may_be_sent() {
        assert_eq!(
            allowed_kind(None, NOW, true),
            Err(WindowRefusal::NeverWrote)
        );
    }

    #[test]
    fn a_last_message_slightly_in_the_future_counts_as_inside_the_window() {
        assert_eq!(
            allowed_kind(Some(NOW + 5_000), NOW, false),
            Ok(MessagingKind::Response)
        );
    }
}
