//! Step (drip) sequences, ステップ配信 (issue 12 item 7): messages for one consent purpose sent
//! N minutes/hours/days after an event (friend-add, a tag added, a custom field set), at a
//! chosen clinic-local time, until the steps run out, the goal tag is reached, or the patient
//! blocks or withdraws consent. Tables from migration 0029.
//! - `store`: sequences and their steps (create, change, enable), counts per state;
//! - `enrollments`: a patient in a sequence (enroll once, unless re-enrolling is allowed; stop
//!   with a reason), each step due as a `sequence.step` job;
//! - `timing`: when a step is due;
//! - `jobs`: `sequence.step` (re-checks, sends through the outbox, schedules the next) and
//!   `sequence.trigger` (tags and fields changed: enroll, or stop at the goal).
pub mod enrollments;
pub mod jobs;
pub mod store;
pub mod timing;

pub use store::{Draft, Sequence, SequenceStep};

/// What enrolls a patient. (Visits will join once booking exists.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Friend-add (LINE follow, or unblock) on this channel, or any channel.
    FriendAdded { channel_id: Option<String> },
    /// A tag the patient did not have.
    TagAdded { tag: String },
    /// A custom field set to this value.
    FieldSet { field_id: String, value: String },
}

impl Trigger {
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::FriendAdded { .. } => "friend_added",
            Trigger::TagAdded { .. } => "tag_added",
            Trigger::FieldSet { .. } => "field_set",
        }
    }
}

/// Why an enrollment stopped (stored as its code, shown to staff in Japanese).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The patient blocked the account (LINE unfollow).
    Blocked,
    /// No channel reaches the patient (opted out, bounced, no identity).
    Unreachable,
    ConsentWithdrawn,
    /// The patient never gave consent for the sequence's purpose.
    ConsentRequired,
    /// The patient reached the goal tag.
    Goal,
    /// A staff member stopped it.
    Staff,
    /// The sequence was turned off.
    SequenceDisabled,
}

impl StopReason {
    pub const ALL: [StopReason; 7] = [
        StopReason::Blocked,
        StopReason::Unreachable,
        StopReason::ConsentWithdrawn,
        StopReason::ConsentRequired,
        StopReason::Goal,
        StopReason::Staff,
        StopReason::SequenceDisabled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            StopReason::Blocked => "blocked",
            StopReason::Unreachable => "unreachable",
            StopReason::ConsentWithdrawn => "consent_withdrawn",
            StopReason::ConsentRequired => "consent_required",
            StopReason::Goal => "goal",
            StopReason::Staff => "staff",
            StopReason::SequenceDisabled => "sequence_disabled",
        }
    }

    pub fn parse(s: &str) -> Option<StopReason> {
        StopReason::ALL.into_iter().find(|r| r.code() == s)
    }

    /// What a refusal at send time means for the enrollment.
    pub fn from_refusal(code: tsunagu_core::Code) -> StopReason {
        use tsunagu_core::Code;
        match code {
            Code::ConsentWithdrawn => StopReason::ConsentWithdrawn,
            Code::ConsentRequired => StopReason::ConsentRequired,
            Code::RecipientBlocked => StopReason::Blocked,
            _ => StopReason::Unreachable,
        }
    }
}
