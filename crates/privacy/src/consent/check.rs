//! THE check every sender asks: a reply to the patient's own action needs no separate consent;
//! anything the clinic starts needs a current grant for its purpose on the channel.
use sqlx::AnyConnection;
use tsunagu_core::{ChannelId, ClinicId, Code, PatientId, Refusal};
use tsunagu_store::channels;

use super::state::{last_actions, resolve, Status};
use super::{history, Purpose};

/// On what grounds a message goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendBasis {
    /// An answer to the patient's own action (a message, a friend-add, a button tap, a code
    /// they asked for) on this channel, within the reply window: needs no separate consent.
    ReplyToPatient,
    /// Anything the clinic starts (drips, surveys, reminders, broadcasts, staff-initiated
    /// messages): needs a current grant for the purpose on the channel.
    Purpose(Purpose),
    /// What the patient asked for just now on another channel, and nothing else: a one-time
    /// verification code to the phone on their record. Needs no separate consent (reachability,
    /// e.g. an SMS STOP, still applies).
    RequestedByPatient,
}

impl SendBasis {
    /// How the basis is recorded on the message.
    pub fn code(self) -> String {
        match self {
            SendBasis::ReplyToPatient => "reply_to_patient".into(),
            SendBasis::Purpose(p) => format!("purpose:{}", p.code()),
            SendBasis::RequestedByPatient => "requested_by_patient".into(),
        }
    }
}

/// Not a reply: the patient has not acted on this channel within `days` (`outside_reply_window`).
pub fn outside_reply_window(days: i64) -> Refusal {
    Refusal::new(Code::OutsideReplyWindow)
        .detail(format!(
            "The patient has not written in the last {days} days, so this is not a reply. Send it for a purpose instead (it needs the patient's consent)."
        ))
        .arg("days", days)
}

/// `consent_required` (nothing on record) or `consent_withdrawn` for `purpose`; the catalog text
/// names the purpose (`{purpose}`, the key of its name in the staff's language).
pub fn purpose_refusal(code: Code, purpose: Purpose) -> Refusal {
    let en = purpose.label("en");
    let detail = if code == Code::ConsentWithdrawn {
        format!("The patient has withdrawn consent to {en} on this channel.")
    } else {
        format!("The patient has not consented to {en} on this channel.")
    };
    Refusal::new(code)
        .detail(detail)
        .arg_key("purpose", format!("consent.purpose.{}", purpose.code()))
}

/// A reply within this long after the patient's last action is still a reply: a staff answer
/// days later to the patient's question is one, a message out of the blue is not. A week covers
/// a clinic closed over a long weekend and holidays. Per channel: `reply_window_days` in the
/// channel's settings.
pub const DEFAULT_REPLY_WINDOW_DAYS: i64 = 7;
const DAY_MS: i64 = 86_400_000;

/// THE check every sender asks before a message to a patient leaves. `Ok(Err(refusal))` says no,
/// with the reason; `Err` is a database failure.
pub async fn may_send(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient_id: &PatientId,
    channel_id: &ChannelId,
    basis: SendBasis,
    now_ms: i64,
) -> anyhow::Result<Result<(), Refusal>> {
    let (last_action, last_written) =
        last_actions(&mut *conn, clinic, patient_id, channel_id.as_str()).await?;
    match basis {
        SendBasis::ReplyToPatient => {
            let days = reply_window_days(&mut *conn, clinic, channel_id).await?;
            if last_action.is_some_and(|at| now_ms - at <= days * DAY_MS) {
                return Ok(Ok(()));
            }
            Ok(Err(outside_reply_window(days)))
        }
        SendBasis::RequestedByPatient => Ok(Ok(())),
        SendBasis::Purpose(purpose) => {
            let events = history(&mut *conn, clinic, patient_id).await?;
            let state = resolve(
                &events,
                purpose,
                Some(channel_id.as_str()),
                last_written.is_some(),
            );
            Ok(match state.status {
                Status::Granted | Status::Implicit => Ok(()),
                Status::Withdrawn => Err(purpose_refusal(Code::ConsentWithdrawn, purpose)),
                Status::Unset => Err(purpose_refusal(Code::ConsentRequired, purpose)),
            })
        }
    }
}

async fn reply_window_days(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
) -> anyhow::Result<i64> {
    let settings = channels::by_id(conn, clinic, channel)
        .await?
        .map(|c| c.settings)
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&settings).unwrap_or_default();
    Ok(v.get("reply_window_days")
        .and_then(|d| d.as_i64())
        .filter(|d| *d > 0)
        .unwrap_or(DEFAULT_REPLY_WINDOW_DAYS))
}
