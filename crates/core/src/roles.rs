//! Roles, API-token scopes and the permission matrix. The matrix is the single place that says
//! who may do what; handlers ask `can(..)` and never compare role names themselves.
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Patient records (names, profiles) and conversation lists.
    ReadPatients,
    /// Message bodies.
    ReadMessages,
    Reply,
    Broadcast,
    Merge,
    Export,
    ReadAudit,
    /// Channels, staff, clinic settings, tokens.
    Administer,
    /// Aggregate figures without message bodies.
    ReadFigures,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::ReadPatients,
        Permission::ReadMessages,
        Permission::Reply,
        Permission::Broadcast,
        Permission::Merge,
        Permission::Export,
        Permission::ReadAudit,
        Permission::Administer,
        Permission::ReadFigures,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadPatients => "read_patients",
            Permission::ReadMessages => "read_messages",
            Permission::Reply => "reply",
            Permission::Broadcast => "broadcast",
            Permission::Merge => "merge",
            Permission::Export => "export",
            Permission::ReadAudit => "read_audit",
            Permission::Administer => "administer",
            Permission::ReadFigures => "read_figures",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Clinician,
    Receptionist,
    Broadcaster,
    Analyst,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Owner,
        Role::Admin,
        Role::Clinician,
        Role::Receptionist,
        Role::Broadcaster,
        Role::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Clinician => "clinician",
            Role::Receptionist => "receptionist",
            Role::Broadcaster => "broadcaster",
            Role::Analyst => "analyst",
        }
    }

    /// The permission matrix (documented in README "Roles and permissions").
    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner | Role::Admin => true,
            Role::Clinician => {
                matches!(p, ReadPatients | ReadMessages | Reply | Merge | ReadFigures)
            }
            Role::Receptionist => {
                matches!(p, ReadPatients | ReadMessages | Reply | Merge | ReadFigures)
            }
            Role::Broadcaster => matches!(p, ReadPatients | Broadcast | ReadFigures),
            Role::Analyst => matches!(p, ReadFigures),
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?} (one of owner, admin, clinician, receptionist, broadcaster, analyst)"))
    }
}

/// What an API token may do inside its one clinic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    Admin,
    Read,
    Reply,
    Broadcast,
}

impl TokenScope {
    pub const ALL: [TokenScope; 4] = [
        TokenScope::Admin,
        TokenScope::Read,
        TokenScope::Reply,
        TokenScope::Broadcast,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Admin => "admin",
            TokenScope::Read => "read",
            TokenScope::Reply => "reply",
            TokenScope::Broadcast => "broadcast",
        }
    }

    pub fn grants(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            TokenScope::Admin => true,
            TokenScope::Read => matches!(p, ReadPatients | ReadMessages | ReadFigures),
            TokenScope::Reply => matches!(p, ReadPatients | ReadMessages | Reply),
            TokenScope::Broadcast => matches!(p, ReadPatients | Broadcast),
        }
    }
}

impl FromStr for TokenScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TokenScope::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?} (one of admin, read, reply, broadcast)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysts_see_figures_but_not_message_bodies() {
        assert!(Role::Analyst.can(Permission::ReadFigures));
        assert!(!Role::Analyst.can(Permission::ReadMessages));
        assert!(!Role::Analyst.can(Permission::ReadPatients));
    }

    #[test]
    fn only_owners_and_admins_read_the_audit_or_administer() {
        for r in Role::ALL {
            let expected = matches!(r, Role::Owner | Role::Admin);
            assert_eq!(r.can(Permission::ReadAudit), expected, "{r:?}");
            assert_eq!(r.can(Permission::Administer), expected, "{r:?}");
        }
    }

    #[test]
    fn a_read_token_cannot_reply() {
        assert!(!TokenScope::Read.grants(Permission::Reply));
        assert!(TokenScope::Reply.grants(Permission::Reply));
    }
}
