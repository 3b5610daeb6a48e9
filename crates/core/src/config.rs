//! Settings: a TOML file layered with `TSUNAGU_*` environment variables. Flat names for the common
//! settings (`TSUNAGU_DATABASE_URL`), `TSUNAGU_SECTION__KEY` for nested ones.
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// A secret value whose `Debug` never shows it.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`; empty means `<data_dir>/tsunagu.db`.
    pub database_url: Option<Secret>,
    pub listen: String,
    /// The https address the world reaches tsunagu at; webhook URLs are built from it.
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    /// 32 bytes as 64 hex characters.
    pub encryption_key: Option<Secret>,
    /// Comma-separated addresses or CIDR ranges whose `X-Forwarded-For` is believed.
    pub trusted_proxies: String,
    pub security: SecuritySettings,
    pub webhooks: WebhookSettings,
    pub outbox: OutboxSettings,
    pub outbound: OutboundSettings,
    /// E-mail for one-time verification codes; unset means codes cannot be sent.
    pub smtp: Option<SmtpSettings>,
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server cannot.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a server on this machine (tests, a local relay).
    None,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from_address: String,
    /// Shown as the sender's name; empty: the clinic's name.
    pub from_name: String,
    pub tls: SmtpTls,
    pub timeout_seconds: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            username: None,
            password: None,
            from_address: String::new(),
            from_name: String::new(),
            tls: SmtpTls::Starttls,
            timeout_seconds: 10,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SecuritySettings {
    /// Minutes without user action before a staff session ends.
    pub idle_timeout_minutes: u32,
    /// Failed sign-ins per account-and-address pair (and per known device, and second-factor
    /// codes per account) within the window before a lock-out; each further lock-out doubles.
    pub login_max_failures: u32,
    pub login_window_minutes: u32,
    /// Failed sign-ins from one address, whatever the account (a clinic shares one address).
    pub login_max_failures_per_address: u32,
    /// Failed sign-ins for one account from browsers it never signed in from.
    pub login_max_failures_per_account: u32,
    /// The longest a growing lock-out lasts.
    pub login_max_lockout_minutes: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    pub max_body_bytes: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboxSettings {
    /// Run the delivery workers in this process.
    pub workers: bool,
    pub max_attempts: u32,
    /// Seconds between polls when the queue is idle.
    pub poll_seconds: u64,
    /// Seconds a claimed job stays a worker's before another instance takes it as abandoned.
    pub lease_secs: u64,
    /// On shutdown, seconds the job in hand may take to finish before it is given back.
    pub shutdown_grace_secs: u64,
}

/// Where tsunagu's own HTTP calls (provider APIs, the media links they hand out, future
/// outgoing webhooks) may go.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundSettings {
    /// Let those calls reach private, loopback, link-local and other non-public addresses, and
    /// plain http. Off in production (a channel's API address cannot point into the clinic's
    /// network); on only for provider emulators on this machine (the demo, tests).
    pub allow_private_addresses: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: None,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            data_dir: PathBuf::from("./data"),
            encryption_key: None,
            trusted_proxies: String::new(),
            security: SecuritySettings::default(),
            webhooks: WebhookSettings::default(),
            outbox: OutboxSettings::default(),
            outbound: OutboundSettings::default(),
            smtp: None,
        }
    }
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 30,
            login_max_failures: 5,
            login_window_minutes: 15,
            login_max_failures_per_address: 100,
            login_max_failures_per_account: 50,
            login_max_lockout_minutes: 24 * 60,
        }
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            workers: true,
            max_attempts: 12,
            poll_seconds: 1,
            lease_secs: 120,
            shutdown_grace_secs: 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read settings: {0}")]
    Load(String),
    #[error("TSUNAGU_DATABASE_URL must start with sqlite:// or postgres:// (got a {0} URL)")]
    DatabaseScheme(String),
    #[error("TSUNAGU_PUBLIC_URL is not a valid http(s) URL: {0}")]
    PublicUrl(String),
    #[error("TSUNAGU_ENCRYPTION_KEY must be 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`")]
    EncryptionKey,
    #[error("TSUNAGU_ENCRYPTION_KEY is not set: it encrypts channel credentials and 2FA secrets at rest; generate one with `openssl rand -hex 32`")]
    MissingEncryptionKey,
    #[error("[smtp] is incomplete or unsafe: {0}")]
    Smtp(&'static str),
    #[error("TSUNAGU_LISTEN is not an address like 127.0.0.1:8080: {0}")]
    Listen(String),
}

/// Settings read from the environment as they are written: figment would read a key of 64
/// digits (or an all-digit password) as a number and refuse it.
const TEXT_KEYS: [&str; 2] = ["encryption_key", "smtp.password"];

impl Settings {
    /// Defaults, then the TOML file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError::Load(format!(
                    "config file {} does not exist",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file(f));
        }
        let mut ignored = vec!["config"];
        ignored.extend(TEXT_KEYS);
        fig = fig.merge(Env::prefixed("TSUNAGU_").split("__").ignore(&ignored));
        for key in TEXT_KEYS {
            let var = format!("TSUNAGU_{}", key.replace('.', "__").to_ascii_uppercase());
            if let Ok(v) = std::env::var(var) {
                fig = fig.merge(Serialized::default(key, v));
            }
        }
        let s: Settings = fig
            .extract()
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database_url {
            let u = url.expose();
            if !(u.starts_with("sqlite:")
                || u.starts_with("postgres://")
                || u.starts_with("postgresql://"))
            {
                let scheme = u.split(':').next().unwrap_or("").to_string();
                return Err(ConfigError::DatabaseScheme(scheme));
            }
        }
        if let Some(p) = &self.public_url {
            let ok = url::Url::parse(p)
                .map(|u| matches!(u.scheme(), "http" | "https"))
                .unwrap_or(false);
            if !ok {
                return Err(ConfigError::PublicUrl(p.clone()));
            }
        }
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Listen(self.listen.clone()));
        }
        if let Some(k) = &self.encryption_key {
            self::parse_key(k.expose())?;
        }
        if let Some(smtp) = &self.smtp {
            smtp.validate()?;
        }
        Ok(())
    }

    /// The database URL to use: the configured one or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) if !u.expose().is_empty() => u.expose().to_string(),
            _ => format!("sqlite://{}/tsunagu.db?mode=rwc", self.data_dir.display()),
        }
    }

    /// The 32-byte key, or a clear error when it is missing.
    pub fn encryption_key(&self) -> Result<[u8; 32], ConfigError> {
        match &self.encryption_key {
            Some(k) => parse_key(k.expose()),
            None => Err(ConfigError::MissingEncryptionKey),
        }
    }

    /// The base URL webhooks are reached at (no trailing slash).
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Cookies carry `Secure` when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

impl SmtpSettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(ConfigError::Smtp("host is required"));
        }
        if !self.from_address.contains('@') {
            return Err(ConfigError::Smtp("from_address must be an e-mail address"));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(ConfigError::Smtp(
                "set both username and password, or neither",
            ));
        }
        // Codes in clear text over the network would defeat them.
        let local = matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1");
        if self.tls == SmtpTls::None && !local {
            return Err(ConfigError::Smtp(
                "tls = \"none\" is only allowed for localhost",
            ));
        }
        Ok(())
    }
}

pub fn parse_key(hex_key: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| ConfigError::EncryptionKey)?;
    bytes.try_into().map_err(|_| ConfigError::EncryptionKey)
}

/// The commented example printed by `tsunagu print-config`.
pub const EXAMPLE_CONFIG: &str = include_str!("../tsunagu.example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses_to_the_defaults() {
        let parsed: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(EXAMPLE_CONFIG))
            .extract()
            .unwrap_or_else(|e| panic!("example config does not parse: {e}"));
        let d = Settings::default();
        assert_eq!(parsed.listen, d.listen);
        assert_eq!(
            parsed.security.idle_timeout_minutes,
            d.security.idle_timeout_minutes
        );
        assert_eq!(parsed.webhooks.max_body_bytes, d.webhooks.max_body_bytes);
        assert_eq!(parsed.outbox.max_attempts, d.outbox.max_attempts);
        assert_eq!(parsed.outbox.lease_secs, d.outbox.lease_secs);
        assert_eq!(
            parsed.outbox.shutdown_grace_secs,
            d.outbox.shutdown_grace_secs
        );
        assert!(!d.outbound.allow_private_addresses);
        assert!(!parsed.outbound.allow_private_addresses);
        assert!(parsed.smtp.is_none(), "[smtp] stays commented out");
    }

    #[test]
    fn the_commented_smtp_section_parses_when_uncommented() {
        let section = EXAMPLE_CONFIG
            .split("# [smtp]")
            .nth(1)
            .unwrap_or_else(|| panic!("the example has no [smtp] section"));
        let toml: String = std::iter::once("[smtp]")
            .chain(section.lines().filter_map(|l| l.strip_prefix("# ")))
            .map(|l| format!("{l}\n"))
            .collect();
        let parsed: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(&toml))
            .extract()
            .unwrap_or_else(|e| panic!("[smtp] does not parse: {e}\n{toml}"));
        let smtp = parsed.smtp.unwrap_or_else(|| panic!("no [smtp] in {toml}"));
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::Starttls));
        assert_eq!(
            smtp.timeout_seconds,
            SmtpSettings::default().timeout_seconds
        );
        assert!(smtp.validate().is_ok());
        assert!(!format!("{smtp:?}").contains("app-password"));
    }

    #[test]
    fn plain_smtp_is_refused_off_localhost() {
        let mut smtp = SmtpSettings {
            host: "mail.example.jp".into(),
            from_address: "no-reply@example.jp".into(),
            tls: SmtpTls::None,
            ..Default::default()
        };
        assert!(smtp.validate().is_err());
        smtp.host = "127.0.0.1".into();
        assert!(smtp.validate().is_ok());
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let s = Settings {
            encryption_key: Some(Secret::new("00".repeat(32))),
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("0000"));
    }

    #[test]
    fn a_mysql_url_is_refused_with_a_clear_error() {
        let s = Settings {
            database_url: Some(Secret::new("mysql://x")),
            ..Default::default()
        };
        assert!(matches!(s.validate(), Err(ConfigError::DatabaseScheme(_))));
    }

    #[test]
    fn a_key_of_digits_only_in_the_environment_is_read_as_text() {
        // The only test here that touches the process environment.
        // Figment would read this one as the number 12345678.
        let key = format!("{}12345678", "0".repeat(56));
        std::env::set_var("TSUNAGU_ENCRYPTION_KEY", &key);
        let loaded = Settings::load(None);
        std::env::remove_var("TSUNAGU_ENCRYPTION_KEY");
        let s = loaded.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.encryption_key.as_ref().map(Secret::expose),
            Some(key.as_str())
        );
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(parse_key("abcd").is_err());
        assert!(parse_key(&"ab".repeat(32)).is_ok());
    }
}
