//! The single-record case: at registration, is this child already on the roster? The same
//! comparisons as the list linkage, scored with a fixed model, because one record is no list to
//! estimate from: m is the prior of [`crate::model::PRIOR_M`] and u what two *different*
//! children of one county share by chance.
//!
//! The registry asks this (SYSTEM.md: duplicate check at entry, by ID number, then by name, birth
//! date and village; 民发〔2016〕42号 附件1 one 登记表 per child): exact ID numbers are refused
//! outright by the store; everything else here becomes a warning a person confirms past.

use crate::compare::{FIELDS, Pattern, compare};
use crate::link::{Reason, explain};
use crate::model::{Model, PRIOR_M, probability};
use crate::prepare::Prepared;

/// Warn at or above this probability.
pub const WARN_PROBABILITY: f64 = 0.5;

/// Chance agreement of two different children registered in the same county: a county has a few
/// thousand children born over sixteen years (≈5,800 days) in some fifteen towns of ten villages
/// each. (A child moved to the grandparents' town is the same child there.)
const COUNTY_U: [&[f64]; 5] = [
    // 姓名: namesakes and homophones are rare; one character different is common (siblings).
    &[0.002, 0.002, 0.03, 0.01, 0.956],
    // 出生日期
    &[0.0004, 0.0003, 0.01, 0.9893],
    // 身份证号码: only the same number or not (registered numbers all pass their check).
    &[1e-7, 1e-5, 1e-4, 0.99989],
    &[0.5, 0.5],
    // 住址: candidates come from one county.
    &[0.007, 0.06, 0.93, 0.003],
];
/// Prior share of duplicates per pair: a few in a hundred registrations are repeats, spread over
/// a county's few thousand children.
const LAMBDA: f64 = 1e-5;

/// The fixed model of the registration check.
pub fn registry_model() -> Model {
    Model {
        m: PRIOR_M.iter().map(|p| p.to_vec()).collect(),
        u: COUNTY_U.iter().map(|p| p.to_vec()).collect(),
        lambda: LAMBDA,
    }
}

/// A scored comparison with its reasons.
#[derive(Debug, Clone)]
pub struct Likeness {
    pub probability: f64,
    pub pattern: Pattern,
    pub reasons: Vec<Reason>,
}

impl Likeness {
    /// "姓名同音、出生日期相同、住址同村" — the fields that agree, as a person would say it.
    pub fn summary(&self) -> String {
        self.reasons
            .iter()
            .filter(|r| r.level != "缺失" && r.weight > 0.0)
            .map(|r| format!("{}{}", r.label, r.level))
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// Compares a new record with an existing one. `same_id`: `Some(true)` when both carry an ID
/// number and it is the same (known from a blind index when the numbers themselves are not at
/// hand), `Some(false)` when both carry different numbers, `None` to compare the records' own.
pub fn likeness(model: &Model, new: &Prepared, old: &Prepared, same_id: Option<bool>) -> Likeness {
    let mut pattern = compare(new, old);
    let id = FIELDS
        .iter()
        .position(|f| *f == crate::compare::Field::Id)
        .expect("compared");
    match same_id {
        Some(true) => pattern[id] = 0,
        Some(false) => pattern[id] = (FIELDS[id].levels().len() - 1) as u8,
        None => {}
    }
    let reasons = explain(model, &pattern);
    Likeness {
        probability: probability(model.score(&pattern)),
        pattern,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::Record;

    fn rec(name: &str, birth: &str, village: &str) -> Prepared {
        Prepared::of(&Record {
            record_id: "x".into(),
            name: Some(name.into()),
            sex: Some("男".into()),
            birth_date: Some(birth.into()),
            county: Some("龙里县".into()),
            town: Some("冠山街道".into()),
            village: Some(village.into()),
            ..Record::default()
        })
    }

    #[test]
    fn what_warns_and_what_does_not() {
        let m = registry_model();
        let new = rec("王小明", "2016-07-31", "冠山社区");
        let p = |old: &Prepared, id| likeness(&m, &new, old, id).probability;
        // The same child typed again, or with a homophone, or the day and month swapped.
        assert!(p(&rec("王小明", "2016-07-31", "冠山社区"), None) > 0.95);
        assert!(p(&rec("汪小明", "2016-07-31", "冠山社区"), None) > WARN_PROBABILITY);
        let early = rec("王小明", "2016-07-03", "冠山社区");
        let swapped = rec("王小明", "2016-03-07", "冠山社区");
        assert!(likeness(&m, &early, &swapped, None).probability > WARN_PROBABILITY);
        // A namesake born on another day, or a different name born the same day elsewhere.
        assert!(p(&rec("王小明", "2014-02-11", "冠山社区"), None) < WARN_PROBABILITY);
        assert!(p(&rec("李华", "2016-07-31", "西城社区"), None) < WARN_PROBABILITY);
        // The same name and birth date in another town of the county still warns (a child
        // registered again where the grandparents live); a homophone there does not.
        let elsewhere = |name: &str| {
            Prepared::of(&Record {
                record_id: "y".into(),
                name: Some(name.into()),
                sex: Some("男".into()),
                birth_date: Some("2016-07-31".into()),
                county: Some("龙里县".into()),
                town: Some("醒狮镇".into()),
                village: Some("醒狮村".into()),
                ..Record::default()
            })
        };
        assert!(p(&elsewhere("王小明"), None) > WARN_PROBABILITY);
        assert!(p(&elsewhere("汪晓明"), None) < WARN_PROBABILITY);
        // The same ID number settles it; different numbers weigh against.
        let other = rec("王晓明", "2015-03-02", "西城社区");
        assert!(p(&other, Some(true)) > 0.99);
        let same = rec("王小明", "2016-07-31", "冠山社区");
        assert!(p(&same, Some(false)) < p(&same, None));
        let l = likeness(&m, &new, &rec("汪小明", "2016-07-31", "冠山社区"), None);
        assert!(
            l.summary().starts_with("姓名同音、出生日期相同"),
            "{}",
            l.summary()
        );
    }
}
