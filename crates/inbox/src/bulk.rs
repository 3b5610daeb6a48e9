//! One change to several conversations at once (the list's checkboxes): assign, label, resolve,
//! snooze. All or nothing: one transaction, and if any id (or the staff member, or the label)
//! is not the clinic's, nothing is written. Each conversation gets its own system line and audit
//! entry, as if changed one by one; the caller publishes a live event per changed conversation.
use tsunagu_core::{ClinicId, ConversationId, ConversationStatus};
use tsunagu_privacy::audit::Actor;
use tsunagu_store::{conversations, labels, Db};

use crate::routing::assign::{self, Target};
use crate::state::{self, Change};

/// At most this many conversations in one request.
pub const MAX: usize = 200;

#[derive(Clone, Copy, Debug)]
pub enum Action<'a> {
    /// A staff id (who may reply here), or `None` to unassign.
    Assign(Option<&'a str>),
    Label(&'a str),
    Status(ConversationStatus, Option<i64>),
}

pub struct By<'a> {
    pub actor: &'a Actor,
    pub staff_id: Option<&'a str>,
    pub ip: Option<&'a str>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Something named is not the clinic's: nothing written.
    NotFound,
    /// Committed; these conversations changed (the others already were so).
    Done(Vec<String>),
}

pub async fn apply(
    db: &Db,
    clinic: &ClinicId,
    ids: &[ConversationId],
    action: Action<'_>,
    by: By<'_>,
    now: i64,
) -> anyhow::Result<Outcome> {
    let mut tx = db.begin().await?;
    for id in ids {
        if conversations::by_id(tx.conn(), clinic, id).await?.is_none() {
            return Ok(Outcome::NotFound);
        }
    }
    if let Action::Label(l) = action {
        if labels::get(tx.conn(), clinic, l).await?.is_none() {
            return Ok(Outcome::NotFound);
        }
    }
    let backend = db.backend();
    let mut changed = Vec::new();
    for id in ids {
        let state_by = state::By {
            actor: by.actor,
            staff_id: by.staff_id,
            ip: by.ip,
        };
        let did = match action {
            Action::Assign(staff) => {
                let target = Target {
                    staff: Some(staff),
                    team: None,
                };
                let assign_by = assign::By {
                    actor: by.actor,
                    source_ip: by.ip,
                };
                match assign::assign_in(
                    tx.conn(),
                    backend,
                    clinic,
                    id.as_str(),
                    target,
                    assign_by,
                    now,
                )
                .await?
                {
                    assign::Change::NotFound => return Ok(Outcome::NotFound),
                    assign::Change::Unchanged => false,
                    assign::Change::Changed => true,
                }
            }
            Action::Label(l) => {
                state::label_in(tx.conn(), backend, clinic, id, (l, true), state_by, now).await?
            }
            Action::Status(s, until) => {
                let change = Change::Status(s, until);
                state::change_in(tx.conn(), backend, clinic, id, change, state_by, now).await?
            }
        };
        if did {
            changed.push(id.as_str().to_string());
        }
    }
    tx.commit().await?;
    Ok(Outcome::Done(changed))
}
