//! Identity verification (DESIGN §3): a channel identity is linked to a patient record only
//! after proof — card number + birth date in chat (`session`), a one-time code sent to a contact
//! on file (`code`), or a staff member with a reason (`link::link_by_staff`). A link moves the
//! provisional patient's conversations, identities and consent rows to the record and can be
//! undone exactly (`link::undo`). Proxies act for a patient without being merged (`proxies`).
//!
//! Every template and automation that would put record data (appointments, results, anything
//! from the record) into a message must first ask [`may_include_record_data`].
pub mod code;
pub mod email;
pub mod link;
mod moves;
pub mod normalize;
pub mod proxies;
pub mod session;
pub mod undo;

use sqlx::AnyConnection;

pub use link::{link_by_staff, LinkActor, LinkRow};
pub use session::{on_answer, start, Answer, Started, Subject};
pub use undo::undo;

/// Wrong answers before the dialogue locks.
pub const MAX_ATTEMPTS: i64 = 3;
/// How long a lock lasts (staff can unlock earlier).
pub const LOCK_MS: i64 = 24 * 60 * 60_000;
/// How long the dialogue waits for the next answer.
pub const ANSWER_TTL_MS: i64 = 10 * 60_000;
/// What staff read in the conversation when the dialogue locks.
pub const LOCKED_NOTE: &str = "本人確認が3回失敗したためロックされました";

/// Whether a message to this identity may carry data from the patient's record: only when the
/// identity is verified and linked to a (non-provisional) record. Fails closed: an unknown
/// identity or a database error answers `false`. Every template and automation calls this.
pub async fn may_include_record_data(conn: &mut AnyConnection, identity_id: &str) -> bool {
    let row: Result<Option<(i64, i64)>, sqlx::Error> = sqlx::query_as(
        "SELECT ci.verified, p.provisional FROM channel_identities ci
         JOIN patients p ON p.id = ci.patient_id WHERE ci.id = $1",
    )
    .bind(identity_id)
    .fetch_optional(conn)
    .await;
    match row {
        Ok(Some((verified, provisional))) => verified != 0 && provisional == 0,
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(error = %e, "checking verification; record data withheld");
            false
        }
    }
}
