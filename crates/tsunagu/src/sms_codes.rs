//! Verification codes by text message: the code goes to the phone number on the patient's
//! record through the clinic's SMS channel and the normal outbox (consent basis, reachability,
//! pacing, retries, in-doubt handling, the message kept in the patient's SMS conversation),
//! so it is as durable and accountable as any message. Lives here because it needs the inbox,
//! which the privacy crate (where `CodeSender` is) cannot depend on.
use anyhow::Context;
use serde_json::json;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ChannelId, ClinicId, SharedClock};
use tsunagu_inbox::reply::{queue_in, Author, Outgoing, ReplyOutcome};
use tsunagu_privacy::consent::SendBasis;
use tsunagu_privacy::verification::code::{CodeSender, Reach, Target, CODE_TTL_MS};
use tsunagu_store::conversations::{self, NewConversation};
use tsunagu_store::{channels, patients, Db};

pub struct SmsCodeSender {
    db: Db,
    clock: SharedClock,
}

impl SmsCodeSender {
    pub fn new(db: Db, clock: SharedClock) -> Self {
        Self { db, clock }
    }

    /// The clinic's first enabled SMS channel.
    async fn channel(&self, clinic: &ClinicId) -> anyhow::Result<Option<channels::Channel>> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(channels::list(&mut conn, clinic)
            .await?
            .into_iter()
            .find(|c| c.enabled != 0 && ChannelKind::parse(&c.kind) == Some(ChannelKind::Sms)))
    }

    async fn clinic_name(&self, clinic: &ClinicId) -> anyhow::Result<String> {
        let mut conn = self.db.pool().acquire().await?;
        tsunagu_store::clinics::name_of(&mut conn, clinic).await
    }
}

/// The text message: short (two segments), Japanese then English, nothing from the record.
pub fn compose(clinic: &str, code: &str) -> String {
    let minutes = CODE_TTL_MS / 60_000;
    format!(
        "{clinic} 本人確認コード: {code}（{minutes}分間有効）トーク画面に送ってください。\n\
         Verification code: {code} ({minutes} min). Send it in the chat."
    )
}

#[async_trait::async_trait]
impl CodeSender for SmsCodeSender {
    async fn reach(&self, clinic: &ClinicId) -> Reach {
        let phone = match self.channel(clinic).await {
            Ok(ch) => ch.is_some(),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "looking for an SMS channel for codes");
                false
            }
        };
        Reach {
            phone,
            email: false,
        }
    }

    async fn send(
        &self,
        clinic: &ClinicId,
        patient_id: &str,
        to: &Target,
        code: &str,
    ) -> anyhow::Result<()> {
        let Target::Phone(phone) = to else {
            anyhow::bail!("SMS cannot send to an e-mail address");
        };
        let phone = phone.trim();
        if !phone.starts_with('+') {
            anyhow::bail!("the phone number on the record is not in E.164 form");
        }
        let channel = self
            .channel(clinic)
            .await?
            .context("the clinic has no enabled SMS channel")?;
        let channel_id = ChannelId::from_db(channel.id.clone());
        let text = compose(&self.clinic_name(clinic).await?, code);
        let now = self.clock.now_ms();
        let mut tx = self.db.begin().await?;
        // The number's identity on the channel (whoever's it is: the code goes to the number on
        // the record), else a new one for this patient.
        let ident =
            patients::add_identity(tx.conn(), clinic, &channel_id, phone, patient_id, now).await?;
        let new = NewConversation {
            clinic_id: clinic,
            channel_id: &channel_id,
            kind: "direct",
            thread_key: phone,
            patient_id: Some(&ident.patient_id),
            channel_identity_id: Some(&ident.id),
            title: None,
        };
        let conversation = conversations::find_or_create(tx.conn(), new, now).await?;
        // Staff see that a code went, not the code.
        let content = Outgoing {
            kind: "text".into(),
            body: Some(text.replace(code, "••••••")),
            payload: json!({"type": "text", "text": text}),
        };
        let basis = SendBasis::RequestedByPatient;
        match queue_in(
            &mut tx,
            clinic,
            &conversation,
            Author::Automation,
            content,
            basis,
            now,
        )
        .await?
        {
            ReplyOutcome::Queued(_) => {
                tx.commit().await.context("queueing the code message")?;
                Ok(())
            }
            // Dropping the transaction takes back the identity and conversation made for it.
            ReplyOutcome::Refused(why) => anyhow::bail!("the code SMS was refused: {}", why.code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_says_the_clinic_code_and_lifetime_in_two_segments() {
        let text = compose("さくら内科", "123456");
        assert!(text.starts_with("さくら内科 本人確認コード: 123456（10分間有効）"));
        assert!(text.contains("Verification code: 123456 (10 min)"));
        assert!(tsunagu_channels::sms::segments(&text) <= 2, "{text}");
    }
}
