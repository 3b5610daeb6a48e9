//! Typed ids. Every id is a UUIDv7 string (time-ordered, so primary-key inserts stay local and
//! cursors sort by creation), the same text in URLs, the API and the database.
use serde::{Deserialize, Serialize};
use std::fmt;

/// A fresh UUIDv7 as a lowercase hyphenated string.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[derive(Debug, thiserror::Error)]
#[error("invalid_id")]
pub struct InvalidId;

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new() -> Self { Self(new_id()) }
            /// Accepts only a well-formed UUID, so user input never reaches SQL unchecked.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                uuid::Uuid::try_parse(s).map(|u| Self(u.to_string())).map_err(|_| InvalidId)
            }
            /// Wraps a value read back from our own database.
            pub fn from_db(s: String) -> Self { Self(s) }
            pub fn as_str(&self) -> &str { &self.0 }
            pub fn into_string(self) -> String { self.0 }
        }
        impl Default for $name { fn default() -> Self { Self::new() } }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
        impl AsRef<str> for $name { fn as_ref(&self) -> &str { &self.0 } }
    )*};
}

id_type!(
    OrganizationId,
    ClinicId,
    ChannelId,
    StaffId,
    PatientId,
    ChannelIdentityId,
    ConversationId,
    MessageId,
    WebhookEventId,
    JobId,
    TokenId,
    TeamId,
    AttachmentId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v7_and_sort_by_creation() {
        let a = PatientId::new();
        let b = PatientId::new();
        assert!(a <= b);
        assert_eq!(
            uuid::Uuid::parse_str(a.as_str())
                .map(|u| u.get_version_num())
                .ok(),
            Some(7)
        );
    }

    #[test]
    fn a_non_uuid_id_is_refused() {
        assert!(ClinicId::parse("1 OR 1=1").is_err());
        assert!(ClinicId::parse(&new_id()).is_ok());
    }
}
