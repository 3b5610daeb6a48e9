//! Weekly opening hours: per weekday up to three open intervals in local wall-clock time, so a
//! lunch break is the gap between the morning and the afternoon.
use crate::parse::{hhmm, parse_hhmm, Invalid, MAX_INTERVALS_PER_DAY, MINUTES_PER_DAY};

/// One open stretch of a day, in minutes after local midnight; lunch breaks are the gaps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    start: u16,
    end: u16,
}

impl Interval {
    /// `start < end <= 24:00`.
    pub fn new(start: u16, end: u16) -> Result<Self, Invalid> {
        if start >= end || end > MINUTES_PER_DAY {
            return Err(Invalid::Interval(hhmm(start), hhmm(end)));
        }
        Ok(Self { start, end })
    }
    /// From `HH:MM` text.
    pub fn parse(start: &str, end: &str) -> Result<Self, Invalid> {
        Self::new(parse_hhmm(start)?, parse_hhmm(end)?)
    }
    pub fn start(&self) -> u16 {
        self.start
    }
    pub fn end(&self) -> u16 {
        self.end
    }
    pub fn start_hhmm(&self) -> String {
        hhmm(self.start)
    }
    pub fn end_hhmm(&self) -> String {
        hhmm(self.end)
    }
    pub(crate) fn contains(&self, seconds_of_day: u32) -> bool {
        u32::from(self.start) * 60 <= seconds_of_day && seconds_of_day < u32::from(self.end) * 60
    }
}

/// Open intervals per weekday, Monday first; sorted, non-overlapping, at most three a day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeeklyHours {
    days: [Vec<Interval>; 7],
}

const WEEK: [chrono::Weekday; 7] = {
    use chrono::Weekday::*;
    [Mon, Tue, Wed, Thu, Fri, Sat, Sun]
};

impl WeeklyHours {
    /// Checks each day: sorted here, refused when intervals overlap or are too many.
    pub fn new(mut days: [Vec<Interval>; 7]) -> Result<Self, Invalid> {
        for (wd, day) in WEEK.iter().zip(days.iter_mut()) {
            day.sort();
            if day.len() > MAX_INTERVALS_PER_DAY {
                return Err(Invalid::TooMany(*wd));
            }
            // Touching intervals (12:00–13:00, 13:00–14:00) are allowed; they read as one.
            if day.windows(2).any(|w| w[1].start < w[0].end) {
                return Err(Invalid::Overlap(*wd));
            }
        }
        Ok(Self { days })
    }

    /// What a Japanese clinic usually keeps: Mon–Fri 09:00–12:30 and 14:00–18:00, Saturday
    /// morning, closed on Sunday.
    pub fn japanese_clinic_default() -> Self {
        let (morning, afternoon) = (
            Interval {
                start: 540,
                end: 750,
            },
            Interval {
                start: 840,
                end: 1080,
            },
        );
        let full = vec![morning, afternoon];
        Self {
            days: [
                full.clone(),
                full.clone(),
                full.clone(),
                full.clone(),
                full,
                vec![morning],
                vec![],
            ],
        }
    }

    /// From `(start, end)` text pairs per weekday, Monday first.
    pub fn parse<S: AsRef<str>>(days: [Vec<(S, S)>; 7]) -> Result<Self, Invalid> {
        let mut out: [Vec<Interval>; 7] = Default::default();
        for (slot, day) in out.iter_mut().zip(days) {
            for (start, end) in day {
                slot.push(Interval::parse(start.as_ref(), end.as_ref())?);
            }
        }
        Self::new(out)
    }

    /// Monday first.
    pub fn days(&self) -> &[Vec<Interval>; 7] {
        &self.days
    }

    pub fn day(&self, wd: chrono::Weekday) -> &[Interval] {
        &self.days[wd.num_days_from_monday() as usize]
    }

    /// `(weekday, intervals)` Monday first.
    pub fn iter(&self) -> impl Iterator<Item = (chrono::Weekday, &[Interval])> {
        WEEK.iter()
            .copied()
            .zip(self.days.iter().map(Vec::as_slice))
    }
}
