//! [`EmailCodeSender`]: one-time codes by e-mail over SMTP (lettre, tokio + rustls). The message
//! carries the clinic's name and the code, nothing from the record. Errors name only their kind
//! and SMTP status: a server's reply text often quotes the recipient address.
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tsunagu_core::config::{SmtpSettings, SmtpTls};
use tsunagu_core::ClinicId;
use tsunagu_store::Db;

use super::code::{CodeSender, Reach, Target, CODE_TTL_MS};

pub struct EmailCodeSender {
    db: Db,
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Address,
    from_name: String,
}

impl EmailCodeSender {
    pub fn new(db: Db, cfg: &SmtpSettings) -> anyhow::Result<Self> {
        cfg.validate()?;
        let builder = match cfg.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
                .context("setting up SMTP with STARTTLS")?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)
                .context("setting up SMTP over TLS")?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
        };
        let mut builder = builder
            .port(cfg.port)
            .timeout(Some(Duration::from_secs(cfg.timeout_seconds.max(1))));
        if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.expose().into()));
        }
        let from = cfg
            .from_address
            .parse()
            .map_err(|_| anyhow::anyhow!("[smtp] from_address is not a valid e-mail address"))?;
        Ok(Self {
            db,
            mailer: builder.build(),
            from,
            from_name: cfg.from_name.clone(),
        })
    }

    async fn clinic_name(&self, clinic: &ClinicId) -> anyhow::Result<String> {
        sqlx::query_scalar("SELECT name FROM clinics WHERE id = $1")
            .bind(clinic.as_str())
            .fetch_one(self.db.pool())
            .await
            .context("reading the clinic's name for the code e-mail")
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

/// What staff logs may say about a failed send: kind and status code, never the server's text.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_permanent() {
        "rejected (permanent)"
    } else if e.is_transient() {
        "rejected (transient)"
    } else if e.is_tls() {
        "TLS failed"
    } else if e.is_client() {
        "client error"
    } else {
        "connection failed"
    };
    match e.status() {
        Some(code) => format!("SMTP {kind}, status {code}"),
        None => format!("SMTP {kind}"),
    }
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
        let to: Address = addr
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("the e-mail on the record is not a valid address"))?;
        let name = self.clinic_name(clinic).await?;
        let (subject, body) = compose(&name, code);
        let from_name = if self.from_name.is_empty() {
            name
        } else {
            self.from_name.clone()
        };
        let msg = Message::builder()
            .from(Mailbox::new(Some(from_name), self.from.clone()))
            .to(Mailbox::new(None, to))
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|_| anyhow::anyhow!("could not build the code e-mail"))?;
        self.mailer
            .send(msg)
            .await
            .map_err(|e| anyhow::anyhow!(describe(&e)))?;
        Ok(())
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
