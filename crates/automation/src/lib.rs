//! Automation: what answers and shapes a patient's chat without staff time.
pub mod richmenu;
