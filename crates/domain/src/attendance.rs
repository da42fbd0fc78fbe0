//! 控辍保学 at school: unexplained absences of left-behind pupils, and the 劝返 (persuading back)
//! that more than a week away from school starts — 沈阳 002 一3 (对超过1周不到校的,要及时组织劝返;
//! 劝返无效的…在全国中小学生学籍信息管理系统中进行标识,并及时书面报告区、县(市)级教育部门和乡镇政府),
//! 龙里 003 五(三)2 (超过一个星期的，要及时组织劝返), 内蒙古 001 三(三), 武清 004 二(一)2; and for
//! 14–16-year-olds not in school, free secondary vocational education (龙里 003 五(三)3).

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::code_enum;
use crate::text;
use crate::validation::ValidationErrors;

/// Absences are recorded for school days at most this far back (a week's sheet typed in late).
pub const MAX_BACKDATE_DAYS: i64 = 60;
/// One record covers at most this many days (a range typed in as one).
pub const MAX_RANGE_DAYS: i64 = 31;

/// Absences as a school records them: one day, or a range of school days (Monday to Friday).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AbsenceInput {
    /// The first (or only) day absent, YYYY-MM-DD.
    pub from: Option<String>,
    /// The last day absent; the same day if absent.
    pub to: Option<String>,
    /// Whether the absence was explained (illness with a note, leave granted); only unexplained
    /// absences count towards 劝返.
    pub excused: Option<bool>,
    pub note: Option<String>,
}

/// The school days an [`AbsenceInput`] covers, checked: not ahead of today, not too old, at most
/// a month at once; weekends are left out of a range (a single day is taken as given).
pub fn absence_days(
    input: &AbsenceInput,
    today: NaiveDate,
) -> Result<(Vec<NaiveDate>, bool, Option<String>), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let date = |field: &str, v: &Option<String>, e: &mut ValidationErrors| -> Option<NaiveDate> {
        let v = v.as_deref().map(text::clean).filter(|s| !s.is_empty())?;
        match crate::input::parse_date(&v) {
            Some(d) if d > today => {
                e.add(field, "不能晚于今天");
                None
            }
            Some(d) if (today - d).num_days() > MAX_BACKDATE_DAYS => {
                e.add(field, format!("只能补录{MAX_BACKDATE_DAYS}天内的缺勤"));
                None
            }
            Some(d) => Some(d),
            None => {
                e.add(field, "日期格式不正确，应为 2026-11-16");
                None
            }
        }
    };
    let from = date("from", &input.from, &mut e);
    if input.from.as_deref().is_none_or(|s| s.trim().is_empty()) {
        e.add("from", "请填写缺勤日期");
    }
    let to = date("to", &input.to, &mut e).or(from);
    let note = input
        .note
        .as_deref()
        .map(text::clean)
        .filter(|s| !s.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        e.add("note", "说明请不超过500字");
    }
    let mut days = Vec::new();
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            e.add("to", "结束日期不能早于开始日期");
        } else if (to - from).num_days() >= MAX_RANGE_DAYS {
            e.add("to", format!("一次最多登记{MAX_RANGE_DAYS}天"));
        } else if from == to {
            days.push(from);
        } else {
            let mut d = from;
            while d <= to {
                if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                    days.push(d);
                }
                d += Duration::days(1);
            }
        }
    }
    e.into_result((days, input.excused.unwrap_or(false), note))
}

/// Whether a pupil's unexplained absences make the latest stretch "more than a week" away from
/// school (超过1周不到校): absent days no more than three calendar days apart (a weekend or a
/// holiday does not break a stretch) that number more than five school days or span more than
/// seven calendar days. Returns the stretch's first and last day.
pub fn away_more_than_a_week(unexcused: &[NaiveDate]) -> Option<(NaiveDate, NaiveDate)> {
    let mut days: Vec<NaiveDate> = unexcused.to_vec();
    days.sort();
    days.dedup();
    let last = *days.last()?;
    let mut first = last;
    let mut count = 1;
    for d in days.iter().rev().skip(1) {
        if (first - *d).num_days() > 3 {
            break;
        }
        first = *d;
        count += 1;
    }
    (count > 5 || (last - first).num_days() + 1 > 7).then_some((first, last))
}

code_enum! {
    /// The steps of a 劝返 (龙里 003 五(三)2: 电话沟通、入户家访等方式逐一核查，及时联系并督促…父母或其他监护人).
    pub enum ReturnStep {
        ContactParents = ("contact_parents", "联系父母"),
        ContactGuardian = ("contact_guardian", "联系监护人（受委托人）"),
        HomeVisit = ("home_visit", "会同村（居）委会入户家访"),
        Other = ("other", "其他措施"),
    }
}

code_enum! {
    /// Where a 劝返 stands.
    pub enum ReturnStatus {
        Open = ("open", "劝返中"),
        Returned = ("returned", "已返校"),
        /// 劝返无效: marked in the 学籍 system and reported in writing.
        Failed = ("failed", "劝返无效"),
    }
}

/// What may follow in a 劝返: steps while open; then it ends returned or failed, once.
pub fn may_record_step(status: ReturnStatus) -> bool {
    status == ReturnStatus::Open
}

/// A failed 劝返 needs at least one step tried (a phone call, a home visit) before it is failed.
pub fn may_fail(status: ReturnStatus, steps: usize) -> Result<(), &'static str> {
    match status {
        ReturnStatus::Open if steps == 0 => {
            Err("劝返无效前，请先记录已采取的劝返措施（联系父母、入户家访等）")
        }
        ReturnStatus::Open => Ok(()),
        _ => Err("该劝返已结束"),
    }
}

/// Whether a pupil who is not in school is offered free secondary vocational education (龙里 003
/// 五(三)3: 对…不在学（14岁至16岁未在学）的留守儿童，要加快推进中等职业教育免费制度的实施).
pub fn vocational_age(age: i32) -> bool {
    (14..16).contains(&age)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn more_than_a_week_away_counts_school_days_across_weekends() {
        // Monday 16 to Tuesday 24 November 2026: seven school days over a weekend.
        let input = AbsenceInput {
            from: Some("2026-11-16".into()),
            to: Some("2026-11-24".into()),
            ..Default::default()
        };
        let (days, excused, _) = absence_days(&input, ymd(2026, 11, 24)).unwrap();
        assert_eq!(days.len(), 7);
        assert!(!excused);
        assert_eq!(
            away_more_than_a_week(&days),
            Some((ymd(2026, 11, 16), ymd(2026, 11, 24)))
        );
        // Five school days, Monday to Friday: a week, not more.
        assert_eq!(away_more_than_a_week(&days[..5]), None);
        // A gap of more than a weekend starts a new stretch.
        let broken = [
            ymd(2026, 11, 2),
            ymd(2026, 11, 3),
            ymd(2026, 11, 9),
            ymd(2026, 11, 10),
        ];
        assert_eq!(away_more_than_a_week(&broken), None);
        // Eight calendar days with gaps of a day: more than a week.
        let spread = [
            ymd(2026, 11, 16),
            ymd(2026, 11, 18),
            ymd(2026, 11, 20),
            ymd(2026, 11, 23),
        ];
        assert_eq!(
            away_more_than_a_week(&spread),
            Some((ymd(2026, 11, 16), ymd(2026, 11, 23)))
        );
        assert_eq!(away_more_than_a_week(&[]), None);
    }

    #[test]
    fn absences_are_checked_and_each_bad_field_named() {
        let today = ymd(2026, 11, 24);
        let bad = AbsenceInput {
            from: Some("2026-11-25".into()),
            to: Some("2026/13/01".into()),
            note: Some("x".repeat(501)),
            ..Default::default()
        };
        let e = absence_days(&bad, today).unwrap_err();
        for f in ["from", "to", "note"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        let old = AbsenceInput {
            from: Some("2026-08-01".into()),
            ..Default::default()
        };
        assert!(absence_days(&old, today).unwrap_err().has("from"));
        let long = AbsenceInput {
            from: Some("2026-10-01".into()),
            to: Some("2026-11-20".into()),
            ..Default::default()
        };
        assert!(absence_days(&long, today).unwrap_err().has("to"));
        assert!(
            absence_days(&AbsenceInput::default(), today)
                .unwrap_err()
                .has("from")
        );
    }

    #[test]
    fn a_return_fails_only_after_a_step_and_once() {
        assert!(may_fail(ReturnStatus::Open, 0).is_err());
        assert!(may_fail(ReturnStatus::Open, 2).is_ok());
        assert!(may_fail(ReturnStatus::Failed, 2).is_err());
        assert!(may_record_step(ReturnStatus::Open));
        assert!(!may_record_step(ReturnStatus::Returned));
        assert!(
            vocational_age(14) && vocational_age(15) && !vocational_age(16) && !vocational_age(13)
        );
    }
}
