//! A canned response's `{{variables}}`: which names exist, checking a body before it is saved,
//! and filling one in for a conversation. The result is plain text; escaping is the page's job.

/// Every variable a body may use, in the order the settings page lists them.
pub const VARIABLES: [&str; 5] = [
    "patient.name",
    "clinic.name",
    "clinic.phone",
    "staff.name",
    "appointment.next",
];

/// The values for one conversation. `appointment_next` stays empty until booking exists.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub patient_name: String,
    pub clinic_name: String,
    pub clinic_phone: String,
    pub staff_name: String,
    pub appointment_next: String,
}

impl Vars {
    fn value(&self, name: &str) -> Option<&str> {
        Some(match name {
            "patient.name" => &self.patient_name,
            "clinic.name" => &self.clinic_name,
            "clinic.phone" => &self.clinic_phone,
            "staff.name" => &self.staff_name,
            "appointment.next" => &self.appointment_next,
            _ => return None,
        })
    }
}

/// A piece of a body: text as written, or a variable by its name (spaces inside the braces
/// trimmed), or an opening `{{` never closed.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
    Unclosed(&'a str),
}

fn pieces(body: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                out.push(Piece::Var(after[..close].trim()));
                rest = &after[close + 2..];
            }
            None => {
                out.push(Piece::Unclosed(&rest[open..]));
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// The first variable the body uses that does not exist, as written (`{{patient.nmae}}`), so
/// the refusal can quote it; `None` when every one is known.
pub fn unknown_variable(body: &str) -> Option<String> {
    pieces(body).into_iter().find_map(|p| match p {
        Piece::Var(name) if !VARIABLES.contains(&name) => Some(format!("{{{{{name}}}}}")),
        Piece::Unclosed(text) => Some(text.chars().take(30).collect()),
        _ => None,
    })
}

/// The body with every variable replaced by its value for this conversation. A body saved
/// before a variable was removed keeps the unknown one as written rather than losing text.
pub fn render(body: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(body.len());
    for p in pieces(body) {
        match p {
            Piece::Text(t) | Piece::Unclosed(t) => out.push_str(t),
            Piece::Var(name) => match vars.value(name) {
                Some(v) => out.push_str(v),
                None => {
                    out.push_str("{{");
                    out.push_str(name);
                    out.push_str("}}");
                }
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            patient_name: "山田 花子".into(),
            clinic_name: "さくら内科".into(),
            clinic_phone: "03-1234-5678".into(),
            staff_name: "佐藤".into(),
            appointment_next: String::new(),
        }
    }

    #[test]
    fn every_variable_is_filled_in_for_the_conversation() {
        let body = "{{patient.name}}様\n{{clinic.name}}({{ clinic.phone }})の{{staff.name}}です。";
        assert_eq!(
            render(body, &vars()),
            "山田 花子様\nさくら内科(03-1234-5678)の佐藤です。"
        );
        assert_eq!(unknown_variable(body), None);
    }

    #[test]
    fn the_next_appointment_renders_empty_until_booking_exists() {
        assert_eq!(render("次回: {{appointment.next}}。", &vars()), "次回: 。");
    }

    #[test]
    fn an_unknown_or_unclosed_variable_is_named() {
        assert_eq!(
            unknown_variable("{{patient.name}}様 {{patient.nmae}}"),
            Some("{{patient.nmae}}".into())
        );
        assert_eq!(unknown_variable("{{}}"), Some("{{}}".into()));
        assert_eq!(
            unknown_variable("お名前 {{patient.name"),
            Some("{{patient.name".into())
        );
        assert_eq!(unknown_variable("波括弧 { だけ } は文字"), None);
    }

    #[test]
    fn text_without_variables_is_kept_as_written() {
        let body = "駐車場は建物の裏にあります。<b>&</b>";
        assert_eq!(render(body, &vars()), body);
    }

    #[test]
    fn a_value_is_inserted_once_and_never_read_again_as_a_variable() {
        let v = Vars {
            patient_name: "{{clinic.name}}".into(),
            ..vars()
        };
        assert_eq!(render("{{patient.name}}様", &v), "{{clinic.name}}様");
    }
}
