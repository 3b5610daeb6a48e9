//! The one list of providers. A new provider is one line in `providers!` (its kind, its stored
//! name, its adapter, its secrets type); the kind enum, its names, the kind → adapter lookup and
//! the typed credentials follow from it, so a match over kinds elsewhere is never needed.
use serde::{Deserialize, Serialize};

use super::Adapter;

macro_rules! providers {
    ($($kind:ident => $name:literal => $adapter:path => $secrets:ty),+ $(,)?) => {
        /// The kinds of channel a clinic connects; stored and in URLs as its name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ChannelKind {
            $(#[serde(rename = $name)] $kind,)+
        }

        impl ChannelKind {
            pub const ALL: &'static [ChannelKind] = &[$(ChannelKind::$kind),+];

            /// The stored and URL form: `line`, `whatsapp`, `messenger`, `sms`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ChannelKind::$kind => $name,)+
                }
            }

            /// The provider's adapter.
            pub fn adapter(self) -> &'static dyn Adapter {
                match self {
                    $(ChannelKind::$kind => &$adapter,)+
                }
            }
        }

        /// A channel's secrets, typed by its provider (`Adapter::credentials` reads them).
        /// Never logged (no `Debug`).
        #[derive(Clone)]
        pub enum Credentials {
            $($kind($secrets),)+
        }

        impl Credentials {
            /// The form they are stored in (encrypted by the caller).
            pub fn to_stored(&self) -> serde_json::Value {
                let v = match self {
                    $(Credentials::$kind(c) => serde_json::to_value(c),)+
                };
                v.unwrap_or(serde_json::Value::Null)
            }
        }
    };
}

providers! {
    Line => "line" => crate::line::Line => crate::line::LineSecrets,
    WhatsApp => "whatsapp" => crate::whatsapp::WhatsApp => crate::whatsapp::WhatsAppSecrets,
    Messenger => "messenger" => crate::messenger::Messenger => crate::messenger::MessengerSecrets,
    Sms => "sms" => crate::sms::Sms => crate::sms::TwilioSecrets,
}

impl ChannelKind {
    /// `None` for a kind no adapter serves: callers must refuse it (fail closed).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn rules(self) -> super::Rules {
        self.adapter().rules()
    }
}

impl std::fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The adapter serving a stored kind; `None` for a kind no adapter serves.
pub fn adapter(kind: &str) -> Option<&'static dyn Adapter> {
    ChannelKind::parse(kind).map(ChannelKind::adapter)
}

/// Every provider, in the registry's order.
pub fn adapters() -> impl Iterator<Item = &'static dyn Adapter> {
    ChannelKind::ALL.iter().map(|k| k.adapter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_has_its_adapter() {
        for &k in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(k.as_str()), Some(k));
            assert_eq!(k.adapter().kind(), k);
            let json = serde_json::to_string(&k).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(ChannelKind::parse("email"), None);
        assert!(adapter("fax").is_none());
    }
}
