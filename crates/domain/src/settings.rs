//! A county's own settings: how often children are visited by risk (the seeds ask for every child
//! at least once a quarter — 沈阳 002 一2 每季度至少一次; 武清 004 二(二) — and leave the rest to the
//! county), how many days after a quarter's end the towns' and the county's reports are due (龙里
//! 003 七(二) 每季度末), when a parents' silence is a lapse (未成年人保护法 Art. 23: at least weekly),
//! and the term of a 委托监护 agreement when none is written. The defaults are what Shouwang did
//! before a county chose.

use serde::{Deserialize, Serialize};

use crate::guardianship::{DEFAULT_LAPSE_DAYS, DEFAULT_TERM_MONTHS, MAX_TERM_MONTHS};
use crate::quarterly::Deadlines;
use crate::validation::ValidationErrors;
use crate::visits::{Cadence, VisitPolicy};

/// A county's settings, as kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountySettings {
    pub visits: VisitPolicy,
    /// Days after the quarter's end a town's report is due.
    pub town_report_days: u32,
    /// Days after the quarter's end the county's own report is due.
    pub county_report_days: u32,
    /// Days without reaching the parents before it is a lapse.
    pub contact_lapse_days: i64,
    /// The term of an agreement when none is written, in months.
    pub agreement_term_months: u32,
}

impl Default for CountySettings {
    fn default() -> Self {
        let d = Deadlines::default();
        Self {
            visits: VisitPolicy::default(),
            town_report_days: d.town,
            county_report_days: d.county,
            contact_lapse_days: DEFAULT_LAPSE_DAYS,
            agreement_term_months: DEFAULT_TERM_MONTHS,
        }
    }
}

impl CountySettings {
    /// The deadlines of this county's towns and of the county, `above` as the server has it.
    pub fn deadlines(&self, server: Deadlines) -> Deadlines {
        Deadlines {
            town: self.town_report_days,
            county: self.county_report_days,
            above: server.above,
        }
    }
}

/// A change to a county's settings: any of the fields (the others stay).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SettingsInput {
    /// weekly | monthly | quarterly — for children whose open case is of the highest risk.
    pub visit_critical: Option<String>,
    /// For high risk.
    pub visit_high: Option<String>,
    /// For the watched flags (无人监护, 单独居住, 监护能力不足, 遭受侵害).
    pub visit_watched: Option<String>,
    /// For every other child (at least quarterly).
    pub visit_other: Option<String>,
    pub town_report_days: Option<i64>,
    pub county_report_days: Option<i64>,
    pub contact_lapse_days: Option<i64>,
    pub agreement_term_months: Option<i64>,
}

impl SettingsInput {
    /// `base` with the fields given, checked as a whole: each wrong field named.
    pub fn apply(&self, base: &CountySettings) -> Result<CountySettings, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let mut s = *base;
        let mut cadence = |field: &str, v: &Option<String>, into: &mut Cadence| {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                match Cadence::parse(v) {
                    Some(c) => *into = c,
                    None => e.add(
                        field,
                        "走访频次应为每周（weekly）、每月（monthly）或每季度（quarterly）",
                    ),
                }
            }
        };
        cadence(
            "visit_critical",
            &self.visit_critical,
            &mut s.visits.critical,
        );
        cadence("visit_high", &self.visit_high, &mut s.visits.high);
        cadence("visit_watched", &self.visit_watched, &mut s.visits.watched);
        cadence("visit_other", &self.visit_other, &mut s.visits.other);
        let mut number = |field: &str, v: Option<i64>, range: std::ops::RangeInclusive<i64>| {
            let n = v?;
            if range.contains(&n) {
                Some(n)
            } else {
                let label = match field {
                    "town_report_days" => "乡镇报送期限（天）",
                    "county_report_days" => "县级报送期限（天）",
                    "contact_lapse_days" => "父母未联系提醒天数",
                    _ => "协议默认有效期（月）",
                };
                e.add(
                    field,
                    format!("{label}应在{}到{}之间", range.start(), range.end()),
                );
                None
            }
        };
        if let Some(n) = number("town_report_days", self.town_report_days, 1..=90) {
            s.town_report_days = n as u32;
        }
        if let Some(n) = number("county_report_days", self.county_report_days, 1..=90) {
            s.county_report_days = n as u32;
        }
        if let Some(n) = number("contact_lapse_days", self.contact_lapse_days, 7..=180) {
            s.contact_lapse_days = n;
        }
        if let Some(n) = number(
            "agreement_term_months",
            self.agreement_term_months,
            3..=i64::from(MAX_TERM_MONTHS),
        ) {
            s.agreement_term_months = n as u32;
        }
        // A higher risk is visited at least as often as a lower one.
        let v = s.visits;
        if v.critical > v.high {
            e.add("visit_critical", "最高风险的走访不能少于高风险");
        }
        if v.high > v.other {
            e.add("visit_high", "高风险的走访不能少于一般儿童");
        }
        if v.watched > v.other {
            e.add("visit_watched", "重点关注儿童的走访不能少于一般儿童");
        }
        // The county sums its towns' reports: its own is due after theirs.
        if s.county_report_days <= s.town_report_days {
            e.add(
                "county_report_days",
                "县级报送期限应晚于乡镇报送期限（县级汇总各乡镇报表）",
            );
        }
        e.into_result(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_county_changes_what_it_gives_and_keeps_the_rest() {
        let base = CountySettings::default();
        let s = SettingsInput {
            visit_high: Some("weekly".into()),
            visit_critical: Some("每周".into()),
            town_report_days: Some(5),
            ..Default::default()
        }
        .apply(&base)
        .unwrap();
        assert_eq!(s.visits.high, Cadence::Weekly);
        assert_eq!(s.visits.other, Cadence::Quarterly);
        assert_eq!(s.town_report_days, 5);
        assert_eq!(s.county_report_days, base.county_report_days);
        let d = s.deadlines(Deadlines {
            town: 10,
            county: 15,
            above: 25,
        });
        assert_eq!((d.town, d.county, d.above), (5, 15, 25));
    }

    #[test]
    fn each_wrong_setting_is_named() {
        let base = CountySettings::default();
        let e = SettingsInput {
            visit_other: Some("yearly".into()),
            town_report_days: Some(0),
            contact_lapse_days: Some(3),
            agreement_term_months: Some(120),
            ..Default::default()
        }
        .apply(&base)
        .unwrap_err();
        for f in [
            "visit_other",
            "town_report_days",
            "contact_lapse_days",
            "agreement_term_months",
        ] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        // Lower risk visited more often than higher: refused.
        let e = SettingsInput {
            visit_critical: Some("quarterly".into()),
            visit_high: Some("monthly".into()),
            ..Default::default()
        }
        .apply(&base)
        .unwrap_err();
        assert!(e.has("visit_critical"));
        let e = SettingsInput {
            town_report_days: Some(20),
            county_report_days: Some(20),
            ..Default::default()
        }
        .apply(&base)
        .unwrap_err();
        assert!(e.has("county_report_days"));
    }
}
