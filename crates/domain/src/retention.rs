//! How long a file that left the roster is kept (个人信息保护法 Art. 19: no longer than the
//! purpose needs; Art. 47: deleted when the purpose is achieved or the period ends).
//!
//! A file leaves the roster when the child exits (its exit date) or turns 16 (the 16th birthday;
//! 国发〔2016〕13号 defines left-behind children as under 16). After
//! [`Retention::archive_after_days`] it is **archived**: out of every working list, search,
//! export and count, readable only by the county's staff with a stated reason. After
//! [`Retention::erase_after_years`] its personal fields are **erased**: name, ID number, the
//! file itself and its field-level history go; the row that is counted stays (village, sex,
//! birth year, status, exit reason and date, the summary columns), and so does the audit log.

use chrono::{Datelike, NaiveDate};

use crate::eligibility::sixteenth_birthday;
use crate::lifecycle::ChildStatus;

/// The periods, set by the operator (`shouwang serve --archive-after-days --erase-after-years`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Days after leaving the roster before a file is archived (the unit that exited it still
    /// sees it meanwhile: the month's changes, a report being written).
    pub archive_after_days: u32,
    /// Years after leaving the roster before the personal fields are erased.
    pub erase_after_years: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            archive_after_days: 30,
            erase_after_years: 3,
        }
    }
}

impl Retention {
    /// Checked periods: archiving within a year, erasure after 1 to 30 years and not before
    /// archiving.
    pub fn new(archive_after_days: u32, erase_after_years: u32) -> Result<Self, String> {
        if archive_after_days > 365 {
            return Err("归档期限应在0—365天之间".into());
        }
        if !(1..=30).contains(&erase_after_years) {
            return Err("删除期限应在1—30年之间".into());
        }
        Ok(Retention {
            archive_after_days,
            erase_after_years,
        })
    }

    /// Files that left the roster on or before this date are archived on `today`.
    pub fn archive_cutoff(&self, today: NaiveDate) -> NaiveDate {
        today - chrono::Duration::days(i64::from(self.archive_after_days))
    }

    /// Files that left the roster on or before this date have their personal fields erased.
    pub fn erase_cutoff(&self, today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_months(chrono::Months::new(12 * self.erase_after_years))
            .unwrap_or(NaiveDate::MIN)
    }
}

/// The day a file left the roster, if it has: its exit date, or the 16th birthday if that came
/// first and has passed.
pub fn left_roster_on(
    status: ChildStatus,
    exit_date: Option<NaiveDate>,
    birth: NaiveDate,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let sixteen = sixteenth_birthday(birth);
    let aged_out = (sixteen <= today).then_some(sixteen);
    match (status, exit_date) {
        (ChildStatus::Exited, Some(d)) => Some(aged_out.map_or(d, |a| a.min(d))),
        _ => aged_out,
    }
}

/// What is kept of a birth date once the file is erased: the year (1 January), enough for the
/// counts by age that reports of past years show.
pub fn erased_birth_date(birth: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(birth.year(), 1, 1).expect("1 January exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_file_leaves_the_roster_on_its_exit_or_its_sixteenth_birthday_whichever_came_first() {
        let today = d(2026, 12, 1);
        assert_eq!(
            left_roster_on(
                ChildStatus::Exited,
                Some(d(2025, 3, 1)),
                d(2015, 1, 1),
                today
            ),
            Some(d(2025, 3, 1))
        );
        // Never exited, turned 16 last year.
        assert_eq!(
            left_roster_on(ChildStatus::Active, None, d(2009, 6, 30), today),
            Some(d(2025, 6, 30))
        );
        // Exited after turning 16: the birthday counts.
        assert_eq!(
            left_roster_on(
                ChildStatus::Exited,
                Some(d(2026, 1, 5)),
                d(2009, 6, 30),
                today
            ),
            Some(d(2025, 6, 30))
        );
        assert_eq!(
            left_roster_on(ChildStatus::Active, None, d(2015, 1, 1), today),
            None
        );
    }

    #[test]
    fn periods_count_back_from_today() {
        let r = Retention::default();
        let today = d(2026, 12, 1);
        assert_eq!(r.archive_cutoff(today), d(2026, 11, 1));
        assert_eq!(r.erase_cutoff(today), d(2023, 12, 1));
        assert_eq!(Retention::new(0, 3).unwrap().archive_cutoff(today), today);
        assert!(Retention::new(400, 3).is_err());
        assert!(Retention::new(30, 0).is_err());
        assert_eq!(
            Retention::new(30, 1).unwrap().erase_cutoff(d(2024, 2, 29)),
            d(2023, 2, 28)
        );
    }

    #[test]
    fn an_erased_birth_date_keeps_the_year() {
        assert_eq!(erased_birth_date(d(2012, 8, 17)), d(2012, 1, 1));
    }
}
