//! The values a conversation gives `{{variables}}`: the patient's name as they go by here and
//! the clinic's name and phone. Shared by the reply box's picker and automated answers, so both
//! address the patient the same way.
use sqlx::AnyConnection;
use tsunagu_core::{ChannelId, ClinicId, PatientId};
use tsunagu_store::conversations::Conversation;
use tsunagu_store::{clinics, patients};

use super::Vars;

/// The name the patient goes by here: their record's once it is more than provisional, else
/// the one their channel gave, else the provisional record's; empty in a group (a canned reply
/// there addresses no one by name).
pub async fn patient_name(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conv: &Conversation,
) -> anyhow::Result<String> {
    if conv.kind != "direct" {
        return Ok(String::new());
    }
    let channel = ChannelId::from_db(conv.channel_id.clone());
    let identity = patients::identity(&mut *conn, &channel, &conv.thread_key)
        .await?
        .filter(|i| i.clinic_id == clinic.as_str());
    let patient_id = conv
        .patient_id
        .clone()
        .or_else(|| identity.as_ref().map(|i| i.patient_id.clone()));
    let patient = match patient_id {
        Some(p) => patients::by_id(&mut *conn, clinic, &PatientId::from_db(p)).await?,
        None => None,
    };
    let (record, provisional) = match &patient {
        Some(p) => (Some(p.display_name.as_str()), p.provisional != 0),
        None => (None, true),
    };
    let given = identity.as_ref().and_then(|i| i.display_name.as_deref());
    let order = if provisional {
        [given, record]
    } else {
        [record, given]
    };
    let name = order
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|n| is_a_name(n))
        .unwrap_or_default()
        .to_string();
    Ok(name)
}

/// Whether a recorded name can address the patient: not empty, and not the phone number an
/// SMS contact is recorded under until someone names them ("+819012345678様" helps no one).
fn is_a_name(n: &str) -> bool {
    let phone = n.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c));
    !n.is_empty() && !phone
}

/// Every value for `conv`; `staff_name` is who sends (empty for automation).
pub async fn for_conversation(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conv: &Conversation,
    staff_name: &str,
) -> anyhow::Result<Vars> {
    let clinic_name = clinics::by_id(&mut *conn, clinic)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    Ok(Vars {
        patient_name: patient_name(&mut *conn, clinic, conv).await?,
        clinic_name,
        clinic_phone: clinics::phone(&mut *conn, clinic)
            .await?
            .unwrap_or_default(),
        staff_name: staff_name.trim().to_string(),
        appointment_next: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::is_a_name;

    #[test]
    fn a_phone_number_recorded_as_the_name_is_not_used_to_address_the_patient() {
        assert!(is_a_name("山田 花子") && is_a_name("Emily Carter"));
        assert!(!is_a_name("+819012345678") && !is_a_name("090-1234-5678") && !is_a_name(""));
    }
}
