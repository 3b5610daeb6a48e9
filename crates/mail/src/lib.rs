//! Sending e-mail over SMTP (lettre, tokio + rustls): one configured [`Mailer`] that the
//! verification codes use today and the e-mail channel will reuse. Errors name only their kind
//! and SMTP status: a server's reply text often quotes the recipient address.
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tsunagu_core::config::{SmtpSettings, SmtpTls};

/// A plain-text message to one person.
pub struct Outgoing<'a> {
    pub to: &'a str,
    /// Shown as the sender's name; empty means the configured `from_name`.
    pub from_name: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Address,
    from_name: String,
}

impl Mailer {
    /// A mailer for `[smtp]`; fails on settings that cannot work (a bad from address, TLS setup).
    pub fn new(cfg: &SmtpSettings) -> anyhow::Result<Self> {
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
            transport: builder.build(),
            from,
            from_name: cfg.from_name.clone(),
        })
    }

    /// Sends one plain-text message; the error never carries the address or the server's text.
    pub async fn send(&self, m: Outgoing<'_>) -> anyhow::Result<()> {
        let to: Address =
            m.to.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("the recipient is not a valid e-mail address"))?;
        let from_name = if self.from_name.is_empty() {
            m.from_name
        } else {
            &self.from_name
        };
        let msg = Message::builder()
            .from(Mailbox::new(Some(from_name.to_string()), self.from.clone()))
            .to(Mailbox::new(None, to))
            .subject(m.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.to_string())
            .map_err(|_| anyhow::anyhow!("could not build the e-mail"))?;
        self.transport
            .send(msg)
            .await
            .map_err(|e| anyhow::anyhow!(describe(&e)))?;
        Ok(())
    }
}

/// What logs may say about a failed send: kind and status code, never the server's text.
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
