//! "Today" comes from one clock that tests can set (SYSTEM.md: Time).

use chrono::{DateTime, NaiveDate, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// The calendar date in China (UTC+8), where all the deadlines and ages are counted.
    fn today(&self) -> NaiveDate {
        china_date(self.now())
    }
}

/// The calendar date in China (UTC+8) of an instant.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

/// The instant a day begins in China (midnight UTC+8): a day's records are those from this
/// instant to the next day's.
pub fn china_day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - chrono::Duration::hours(8)
}

/// A clock that always answers the same instant (tests, reports "as of" a date).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl FixedClock {
    pub fn on(date: NaiveDate) -> Self {
        FixedClock(date.and_hms_opt(4, 0, 0).expect("valid time").and_utc())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
