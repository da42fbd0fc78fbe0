//! The 汇总表 of a county, a prefecture or a province read from the roll-up the triggers keep
//! (migration 0022: per area, birth-date bucket, sex and cells, how many files are on the roster).
//!
//! Only age moves with the date asked for. A child's band on a date is decided by three birthdays
//! back from it (16, 14 and 6 years) and the date itself, each in a different year; every other
//! year lies whole in one band and is read as one bucket. In a year holding a boundary the smaller
//! side of it is read by month and by day and moved from the year's band to its own, so a date's
//! table is a few hundred rows whatever the number of children.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use sqlx::Row;

use shouwang_domain::eligibility::{AgeBand, under_sixteen_born_after};
use shouwang_domain::person::Sex;
use shouwang_domain::region::{RegionCode, RegionLevel};

use super::SummaryGroup;
use crate::rooms::QuarterlyRoom;
use crate::{Result, StoreError};

/// The band a birth date counts in on `on`: none before birth or from the 16th birthday (the
/// same rule as `scope::on_roster` and the age bands of the table).
pub(crate) fn band_of(birth: NaiveDate, on: NaiveDate) -> Option<AgeBand> {
    if birth > on || birth <= under_sixteen_born_after(on) {
        None
    } else if birth > AgeBand::Infant.birth_range(on).0 {
        Some(AgeBand::Infant)
    } else if birth > AgeBand::School.birth_range(on).0 {
        Some(AgeBand::School)
    } else {
        Some(AgeBand::Teen)
    }
}

/// One bucket to read for a date: its children count `sign` times in `band`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub key: String,
    pub band: AgeBand,
    pub sign: i64,
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|d| d.pred_opt()).map_or(28, |d| d.day())
}

/// The buckets whose signed sums give each band's children on `on`.
pub(crate) fn plan(on: NaiveDate) -> Vec<Part> {
    let boundaries = [
        under_sixteen_born_after(on),
        AgeBand::School.birth_range(on).0,
        AgeBand::Infant.birth_range(on).0,
        on,
    ];
    let mut parts = Vec::new();
    let mut push = |key: &str, band: Option<AgeBand>, sign: i64| {
        if let Some(band) = band {
            parts.push(Part {
                key: key.to_owned(),
                band,
                sign,
            });
        }
    };
    for year in boundaries[0].year()..=on.year() {
        let whole = format!("{year:04}");
        let Some(&b) = boundaries.iter().find(|b| b.year() == year) else {
            let jan1 = NaiveDate::from_ymd_opt(year, 1, 1);
            push(&whole, jan1.and_then(|d| band_of(d, on)), 1);
            continue;
        };
        // Born on or before the boundary: `lo`; after it: `hi`.
        let lo = band_of(b, on);
        let hi = b.succ_opt().and_then(|d| band_of(d, on));
        let (m, d) = (b.month(), b.day());
        let month = |mm: u32| format!("{year:04}-{mm:02}");
        let day = |dd: u32| format!("{year:04}-{m:02}-{dd:02}");
        let lower: Vec<String> = (1..m).map(month).chain((1..=d).map(day)).collect();
        let upper: Vec<String> = ((d + 1)..=days_in_month(year, m))
            .map(day)
            .chain(((m + 1)..=12).map(month))
            .collect();
        let (year_band, side, side_band) = if lower.len() <= upper.len() {
            (hi, lower, lo)
        } else {
            (lo, upper, hi)
        };
        push(&whole, year_band, 1);
        for key in side {
            push(&key, side_band, 1);
            push(&key, year_band, -1);
        }
    }
    parts
}

impl QuarterlyRoom<'_> {
    /// [`Store::summary_groups`] from the roll-up: `region` a county or above, `by` none or a
    /// level down to the county.
    pub(crate) async fn summary_groups_rolled(
        &self,
        region: &RegionCode,
        on: NaiveDate,
        by: Option<RegionLevel>,
    ) -> Result<Vec<SummaryGroup>> {
        let regions: Vec<String> = match by {
            None => vec![region.as_str().to_owned()],
            Some(level) => self
                .regions()
                .regions_within(region, level)
                .await?
                .into_iter()
                .map(|r| r.code)
                .collect(),
        };
        self.rolled_in(&regions, on, by.is_some()).await
    }

    /// The 汇总表 groups of the whole country on `on` (every province this database holds): the
    /// roll-up's own area '' (migration 0039), as many rows to read as a province.
    pub async fn summary_groups_national(&self, on: NaiveDate) -> Result<Vec<SummaryGroup>> {
        self.rolled_in(&[String::new()], on, false).await
    }

    async fn rolled_in(
        &self,
        regions: &[String],
        on: NaiveDate,
        per_unit: bool,
    ) -> Result<Vec<SummaryGroup>> {
        let parts = plan(on);
        if regions.is_empty() || parts.is_empty() {
            return Ok(Vec::new());
        }
        let mut by_key: HashMap<&str, Vec<(AgeBand, i64)>> = HashMap::new();
        for p in &parts {
            by_key.entry(&p.key).or_default().push((p.band, p.sign));
        }
        let keys: Vec<&str> = by_key.keys().copied().collect();
        let marks = |from: usize, n: usize| {
            (from..from + n)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Summed over the regions by the database when the units are not asked for: the whole
        // country is a few hundred rows to decode, not the provinces' thousands.
        let (region, n, group) = if per_unit {
            ("region", "n", "")
        } else {
            (
                "''",
                "CAST(SUM(n) AS BIGINT)",
                " GROUP BY bucket, sex, cells",
            )
        };
        let sql = format!(
            "SELECT {region} AS region, bucket, sex, cells, {n} AS n FROM roster_rollup \
             WHERE region IN ({}) AND bucket IN ({}) AND n <> 0{group}",
            marks(1, regions.len()),
            marks(regions.len() + 1, keys.len()),
        );
        let mut q = sqlx::query(&sql);
        for r in regions {
            q = q.bind(r.as_str());
        }
        for k in &keys {
            q = q.bind(*k);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut sums: HashMap<(String, AgeBand, String, String), i64> = HashMap::new();
        for r in &rows {
            let bucket: String = r.try_get("bucket")?;
            let n: i64 = r.try_get("n")?;
            let unit: String = if per_unit {
                r.try_get("region")?
            } else {
                String::new()
            };
            for (band, sign) in by_key.get(bucket.as_str()).into_iter().flatten() {
                *sums
                    .entry((unit.clone(), *band, r.try_get("sex")?, r.try_get("cells")?))
                    .or_default() += sign * n;
            }
        }
        let mut out = Vec::with_capacity(sums.len());
        for ((unit, band, sex, cells), count) in sums {
            if count == 0 {
                continue;
            }
            out.push(SummaryGroup {
                unit: per_unit.then_some(unit),
                sex: Sex::parse(&sex).ok_or_else(|| StoreError::Config(format!("sex {sex}")))?,
                band,
                cells,
                count: u64::try_from(count)
                    .map_err(|_| StoreError::Config(format!("roll-up below zero: {count}")))?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// One child born on every day of 20 years, counted into the roll-up's buckets, read back by
    /// the plan for many dates (every boundary on each side of a month's and a year's end, 29
    /// February): each band holds exactly the children the rule puts there.
    #[test]
    fn the_plan_gives_every_band_exactly_its_children_on_any_date() {
        let mut buckets: HashMap<String, i64> = HashMap::new();
        let first = ymd(2008, 1, 1);
        let mut d = first;
        while d <= ymd(2031, 12, 31) {
            for key in [
                format!("{:04}", d.year()),
                d.format("%Y-%m").to_string(),
                d.format("%Y-%m-%d").to_string(),
            ] {
                *buckets.entry(key).or_default() += 1;
            }
            d = d.succ_opt().unwrap();
        }
        let mut dates = vec![
            ymd(2026, 12, 1),
            ymd(2028, 2, 29),
            ymd(2028, 3, 1),
            ymd(2027, 2, 28),
            ymd(2026, 12, 31),
            ymd(2027, 1, 1),
            ymd(2026, 6, 30),
            ymd(2026, 7, 1),
            ymd(2026, 1, 15),
        ];
        let mut on = ymd(2025, 1, 1);
        while on <= ymd(2029, 12, 31) {
            dates.push(on);
            on = on.checked_add_days(chrono::Days::new(13)).unwrap();
        }
        for on in dates {
            let mut want: HashMap<AgeBand, i64> = HashMap::new();
            let mut d = first;
            while d <= ymd(2031, 12, 31) {
                if let Some(band) = band_of(d, on) {
                    *want.entry(band).or_default() += 1;
                }
                d = d.succ_opt().unwrap();
            }
            let mut got: HashMap<AgeBand, i64> = HashMap::new();
            let parts = plan(on);
            for p in &parts {
                *got.entry(p.band).or_default() += p.sign * buckets[&p.key];
            }
            got.retain(|_, n| *n != 0);
            assert_eq!(got, want, "on {on}");
            let keys: std::collections::HashSet<&str> =
                parts.iter().map(|p| p.key.as_str()).collect();
            assert!(keys.len() <= 110, "{} buckets on {on}", keys.len());
        }
    }

    #[test]
    fn bands_follow_the_birthdays() {
        let on = ymd(2026, 12, 1);
        assert_eq!(band_of(ymd(2026, 12, 1), on), Some(AgeBand::Infant));
        assert_eq!(band_of(ymd(2026, 12, 2), on), None);
        assert_eq!(band_of(ymd(2020, 12, 1), on), Some(AgeBand::School));
        assert_eq!(band_of(ymd(2020, 12, 2), on), Some(AgeBand::Infant));
        assert_eq!(band_of(ymd(2012, 12, 1), on), Some(AgeBand::Teen));
        assert_eq!(band_of(ymd(2010, 12, 2), on), Some(AgeBand::Teen));
        assert_eq!(band_of(ymd(2010, 12, 1), on), None);
    }
}
