//! [`EmailCodeSender`]: one-time codes by e-mail through the clinic's SMTP server
//! (`tsunagu-mail`). The message carries the clinic's name and the code, nothing from the record.
use tsunagu_core::config::SmtpSettings;
use tsunagu_core::ClinicId;
use tsunagu_mail::{Mailer, Outgoing};
use tsunagu_store::Db;

use super::code::{CodeSender, Reach, Target, CODE_TTL_MS};

pub struct EmailCodeSender {
    db: Db,
    mailer: Mailer,
}

impl EmailCodeSender {
    pub fn new(db: Db, cfg: &SmtpSettings) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            mailer: Mailer::new(cfg)?,
        })
    }

    async fn clinic_name(&self, clinic: &ClinicId) -> anyhow::Result<String> {
        let mut conn = self.db.pool().acquire().await?;
        tsunagu_store::clinics::name_of(&mut conn, clinic).await
    }
}

/// The e-mail's subject and text, Japanese first, then English.
pub fn compose(clinic: &str, code: &str) -> (String, String) {
    let minutes = CODE_TTL_MS / 60_000;
    let subject = format!("{clinic} 本人確認コード / Verification code");
    let body = format!(
        "{clinic} 本人確認コード: {code}（{minutes}分間有効）\n\
         このコードをトーク画面に送ってください。お心当たりのない場合は、このメールを破棄してください。\n\
         \n\
         {clinic} verification code: {code} (valid for {minutes} minutes)\n\
         Send this code in the chat. If you did not ask for it, please ignore this e-mail.\n"
    );
    (subject, body)
}

#[async_trait::async_trait]
impl CodeSender for EmailCodeSender {
    async fn reach(&self, _: &ClinicId) -> Reach {
        Reach {
            phone: false,
            email: true,
        }
    }
    async fn send(
        &self,
        clinic: &ClinicId,
        _patient_id: &str,
        to: &Target,
        code: &str,
    ) -> anyhow::Result<()> {
        let Target::Email(addr) = to else {
            anyhow::bail!("e-mail cannot send to a phone number");
        };
        let name = self.clinic_name(clinic).await?;
        let (subject, body) = compose(&name, code);
        let m = Outgoing {
            to: addr,
            from_name: &name,
            subject: &subject,
            body: &body,
        };
        self.mailer.send(m).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_says_the_clinic_code_and_lifetime_and_nothing_else() {
        let (subject, body) = compose("さくら内科", "123456");
        assert!(subject.contains("さくら内科 本人確認コード"));
        assert!(body.contains("さくら内科 本人確認コード: 123456（10分間有効）"));
        assert!(body.contains("valid for 10 minutes"));
    }
}
