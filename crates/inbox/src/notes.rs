//! Private notes on a conversation: staff write to each other beside the patient's messages,
//! never to the patient. `@名前` mentions a colleague of the clinic; the mentioned see it among
//! their mentions (and a browser notification, without the note's words) until they open the
//! conversation.
use tsunagu_core::{ClinicId, Code, ConversationId, Refusal};
use tsunagu_store::batch::Batch;
use tsunagu_store::{search, Db};

mod rows;

pub use rows::{between, mark_seen, mentions_for, unseen_count, Mention, Note};

/// The longest note.
pub const MAX_CHARS: usize = 2000;

/// A colleague who may be mentioned: their staff id and display name.
pub struct Member<'a> {
    pub staff_id: &'a str,
    pub name: &'a str,
}

/// The members `@`-mentioned in `body` (by their display name, with or without its spaces),
/// each once, never the author.
pub fn mentioned<'a>(body: &str, members: &[Member<'a>], author: &str) -> Vec<&'a str> {
    let squeezed: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out: Vec<&'a str> = Vec::new();
    for m in members {
        let name = m.name.trim();
        if name.is_empty() || m.staff_id == author || out.contains(&m.staff_id) {
            continue;
        }
        let tight: String = name.chars().filter(|c| !c.is_whitespace()).collect();
        let at = |n: &str| format!("@{n}");
        if body.contains(&at(name)) || squeezed.contains(&at(&tight)) {
            out.push(m.staff_id);
        }
    }
    out
}

/// Adds a note, its mentions and its search document in one transaction (found by search from
/// the moment it is committed); the note and whom it mentioned.
pub async fn add(
    db: &Db,
    clinic: &ClinicId,
    conversation: &ConversationId,
    author: &str,
    body: &str,
    members: &[Member<'_>],
    now_ms: i64,
) -> anyhow::Result<Result<(Note, Vec<String>), Refusal>> {
    let body = body.trim();
    if body.is_empty() {
        return Ok(Err(
            Refusal::new(Code::EmptyMessage).detail("the note is empty")
        ));
    }
    if body.chars().count() > MAX_CHARS {
        return Ok(Err(Refusal::new(Code::MessageTooLong).arg("max", MAX_CHARS)));
    }
    let who: Vec<String> = mentioned(body, members, author)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut tx = db.begin().await?;
    let note = rows::insert(tx.conn(), clinic, conversation, author, body, now_ms).await?;
    for staff in &who {
        rows::insert_mention(tx.conn(), &note, staff, now_ms).await?;
    }
    let mut b = Batch::new(tx.conn());
    search::push_note(&mut b, &note.clinic_id, &note.id, &note.body);
    b.run(tx.conn()).await?;
    tx.commit().await?;
    Ok(Ok((note, who)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team() -> Vec<Member<'static>> {
        vec![
            Member {
                staff_id: "s1",
                name: "受付 佐藤",
            },
            Member {
                staff_id: "s2",
                name: "看護師 鈴木",
            },
            Member {
                staff_id: "s3",
                name: "院長",
            },
        ]
    }

    #[test]
    fn mentions_are_found_by_name_with_or_without_its_space() {
        let who = mentioned("@受付 佐藤 と @看護師鈴木 へ。院長は不要", &team(), "s3");
        assert_eq!(who, vec!["s1", "s2"]);
    }

    #[test]
    fn the_author_and_names_without_an_at_sign_are_not_mentioned() {
        assert!(mentioned("@院長 自分宛て", &team(), "s3").is_empty());
        assert!(mentioned("受付 佐藤さんに電話", &team(), "s3").is_empty());
        assert_eq!(mentioned("@院長 @院長", &team(), "s1"), vec!["s3"]);
    }
}
