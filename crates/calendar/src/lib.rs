//! The clinic calendar: weekly hours with breaks, closures (臨時休診), Japan's national holidays
//! (computed by the holiday law, editable per clinic) and the clinic's zone, behind one answer:
//! [`Schedule::is_open`] / [`Schedule::next_opening`]. The away message, SLA clocks and booking
//! load a clinic's [`Schedule`] with [`store::load`] and ask it.
pub mod holidays;
pub mod hours;
pub mod parse;
pub mod schedule;
pub mod store;

pub use hours::{Interval, WeeklyHours};
pub use parse::Invalid;
pub use schedule::{DayOff, HolidayStatus, Schedule, HORIZON_DAYS};
pub use store::{Calendar, ClosureRow};
