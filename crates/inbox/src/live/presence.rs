//! Who else has a conversation open (viewing) or is writing a reply in it (typing), so two people
//! at reception do not answer the same patient twice. Kept in memory only, per (conversation,
//! staff), forgotten after a short time without a beat. On PostgreSQL every beat also goes
//! through the hub's NOTIFY, so each instance's board hears every instance's staff.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// A page that stops beating drops off after this long (it beats every ~10 s).
pub const VIEWING_TTL_MS: i64 = 25_000;
/// "Typing" lasts this long after the last keystroke beat, then it is viewing again.
pub const TYPING_TTL_MS: i64 = 8_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activity {
    Viewing,
    Typing,
}

impl Activity {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewing" => Some(Self::Viewing),
            "typing" => Some(Self::Typing),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewing => "viewing",
            Self::Typing => "typing",
        }
    }
}

/// One beat from one page: ids and a word, never patient data.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Beat {
    pub clinic_id: String,
    pub conversation_id: String,
    pub staff_id: String,
    pub activity: Activity,
    /// The sender's clock (ms).
    pub at_ms: i64,
}

#[derive(Clone, Copy)]
struct Seen {
    viewing_at: i64,
    typing_at: Option<i64>,
}

impl Seen {
    fn activity(&self, now: i64) -> Option<Activity> {
        match self.typing_at {
            Some(t) if now - t < TYPING_TTL_MS => Some(Activity::Typing),
            _ if now - self.viewing_at < VIEWING_TTL_MS => Some(Activity::Viewing),
            _ => None,
        }
    }
}

type Key = (String, String);

#[derive(Clone, Default)]
pub struct Board {
    inner: Arc<Mutex<HashMap<Key, HashMap<String, Seen>>>>,
}

impl Board {
    /// Records a beat; true when what others should see changed (someone new, or
    /// viewing ⇄ typing), so pages are told only then.
    pub fn record(&self, b: &Beat) -> bool {
        let mut all = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Forget everyone gone quiet, so the map does not grow over the day.
        all.retain(|_, staff| {
            staff.retain(|_, s| s.activity(b.at_ms).is_some());
            !staff.is_empty()
        });
        let key = (b.clinic_id.clone(), b.conversation_id.clone());
        let staff = all.entry(key).or_default();
        let before = staff.get(&b.staff_id).and_then(|s| s.activity(b.at_ms));
        let entry = staff.entry(b.staff_id.clone()).or_insert(Seen {
            viewing_at: b.at_ms,
            typing_at: None,
        });
        entry.viewing_at = entry.viewing_at.max(b.at_ms);
        if b.activity == Activity::Typing {
            entry.typing_at = Some(entry.typing_at.unwrap_or(b.at_ms).max(b.at_ms));
        }
        before != entry.activity(b.at_ms)
    }

    /// Everyone with the conversation open at `now`, by staff id (the caller filters itself out).
    pub fn present(
        &self,
        clinic_id: &str,
        conversation_id: &str,
        now: i64,
    ) -> Vec<(String, Activity)> {
        let all = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (clinic_id.to_string(), conversation_id.to_string());
        let mut out: Vec<(String, Activity)> = all
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|(id, s)| s.activity(now).map(|a| (id.clone(), a)))
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(staff: &str, activity: Activity, at_ms: i64) -> Beat {
        Beat {
            clinic_id: "c".into(),
            conversation_id: "v".into(),
            staff_id: staff.into(),
            activity,
            at_ms,
        }
    }

    #[test]
    fn viewing_typing_and_expiry() {
        let board = Board::default();
        assert!(board.record(&beat("a", Activity::Viewing, 1_000)));
        assert!(!board.record(&beat("a", Activity::Viewing, 5_000)));
        assert!(board.record(&beat("a", Activity::Typing, 6_000)));
        assert_eq!(
            board.present("c", "v", 7_000),
            vec![("a".into(), Activity::Typing)]
        );
        assert_eq!(
            board.present("c", "v", 6_000 + TYPING_TTL_MS),
            vec![("a".into(), Activity::Viewing)]
        );
        assert!(board.present("c", "v", 6_000 + VIEWING_TTL_MS).is_empty());
        assert!(board.present("other", "v", 7_000).is_empty());
    }
}
