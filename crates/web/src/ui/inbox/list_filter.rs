//! The facet form above the inbox list (assignee, priority, label, dates, order), built from
//! the list's `FilterParams` so each select shows what is applied.
use serde::Serialize;
use tsunagu_core::Priority;
use tsunagu_store::inbox_views::Member;
use tsunagu_store::labels::Label;

use crate::conversation_filter::FilterParams;
use crate::i18n;

#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The facet form above the list.
#[derive(Clone, Debug, Serialize)]
pub struct FilterForm {
    pub priorities: Vec<Choice>,
    pub labels: Vec<Choice>,
    /// Who looks after them (tabs that do not name an assignee only).
    pub assignees: Option<Vec<Choice>>,
    pub sorts: Vec<Choice>,
    pub from: String,
    pub to: String,
    /// Any facet set (a link clears them).
    pub active: bool,
    /// The list's query string, for saving it as a view.
    pub query: String,
}

fn choices<T: Copy>(
    all: &[T],
    name: impl Fn(T) -> (String, String),
    current: Option<&str>,
) -> Vec<Choice> {
    all.iter()
        .map(|v| {
            let (value, label) = name(*v);
            Choice {
                selected: current == Some(value.as_str()),
                value,
                label,
            }
        })
        .collect()
}

/// The form for `facets`; `staff` only on tabs that do not name an assignee; `query` is the
/// list's own query string (to save it as a view).
pub fn form(
    lang: &str,
    facets: &FilterParams,
    staff: Option<Vec<Member>>,
    clinic_labels: &[Label],
    active: bool,
    query: String,
) -> FilterForm {
    let f = facets;
    FilterForm {
        assignees: staff.map(|staff_list| {
            let none = (String::from("none"), i18n::text(lang, "assign.nobody"));
            std::iter::once(none)
                .chain(staff_list.into_iter().map(|m| (m.staff_id, m.display_name)))
                .map(|(value, label)| Choice {
                    selected: f.assignee.as_deref() == Some(value.as_str()),
                    value,
                    label,
                })
                .collect()
        }),
        priorities: choices(
            &Priority::ALL,
            |p| {
                (
                    p.as_str().into(),
                    i18n::text(lang, &format!("priority.{}", p.as_str())),
                )
            },
            f.priority.as_deref(),
        ),
        labels: clinic_labels
            .iter()
            .map(|l| Choice {
                selected: f.label.as_deref() == Some(l.id.as_str()),
                value: l.id.clone(),
                label: l.name.clone(),
            })
            .collect(),
        sorts: choices(
            &["priority", "newest", "dissatisfied"],
            |s| (s.into(), i18n::text(lang, &format!("views.sort.{s}"))),
            Some(f.sort.as_deref().unwrap_or("priority")),
        ),
        from: f.from.clone().unwrap_or_default(),
        to: f.to.clone().unwrap_or_default(),
        active,
        query,
    }
}
