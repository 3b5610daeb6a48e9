//! Patients as the clinic records them: the newtypes every edge parses into (phone, e-mail,
//! birth date with the Japanese era calendar, kana reading, card number), record CRUD scoped by
//! clinic, custom fields, tags, search, and CSV import with a dry run.
pub mod birth_date;
pub mod email;
pub mod fields;
pub mod import;
pub mod input;
mod invalid;
pub mod kana;
pub mod patients;
pub mod phone;
pub mod search;

pub use birth_date::BirthDate;
pub use email::Email;
pub use input::{validate, Changes, Mode, PatientInput};
pub use invalid::{message_for, FieldError, Invalid};
pub use kana::{CardNumber, Kana, Sex};
pub use patients::{PatientError, PatientRecord};
pub use phone::PhoneE164;
