//! What a patient's message writes on their identity and record, as statements queued with the
//! message (`Batch`) and applying only when it is stored (`Ref` through the message).
use crate::batch::{changed, Batch, Ref};

/// The provider gave the identity's name with a message (WhatsApp's contact profile): set on
/// the identity when it differs (compared as the statement runs), and the call's rows then say
/// so (`renamed`): the caller completes it with `set_profile` (the provisional patient's name,
/// its search key).
pub fn push_rename(b: &mut Batch, identity: &Ref, name: &str, now_ms: i64) {
    b.arg(name.to_owned());
    b.arg(now_ms);
    b.push_counted(
        "UPDATE channel_identities SET display_name = $1, updated_at = $2
         WHERE id = {ref} AND (display_name IS NULL OR display_name <> $1)",
        Some(identity),
        "renamed_identity",
        "storing the name the provider gave",
    );
}

/// Whether a call with `push_rename` renamed the identity.
pub fn renamed(rows: &[sqlx::any::AnyRow]) -> bool {
    changed(rows, "renamed_identity")
}

/// `set_follow_state` as a statement of `b`.
pub fn push_follow_state(b: &mut Batch, identity: &Ref, state: &str, now_ms: i64) {
    b.arg(state.to_owned());
    b.arg(now_ms);
    b.push_ref(
        "UPDATE channel_identities SET follow_state = $1, updated_at = $2 WHERE id = {ref}",
        identity,
        "recording the follow state",
    );
}

/// `set_phone_if_missing`'s update as a statement of `b`; whether it set the phone comes back
/// in the call's rows (`phone_set`): the caller then refreshes the patient's search key.
pub fn push_phone_if_missing(b: &mut Batch, patient: &Ref, phone_e164: &str) {
    b.arg(phone_e164.to_owned());
    b.push_counted(
        "UPDATE patients SET phone = $1 WHERE id = {ref} AND phone IS NULL",
        Some(patient),
        "phone_set",
        "recording the patient's phone number",
    );
}

/// Whether a call with `push_phone_if_missing` set the phone.
pub fn phone_set(rows: &[sqlx::any::AnyRow]) -> bool {
    changed(rows, "phone_set")
}
