//! What a list can speak for. A list is evidence about the children it was made for — a school's
//! pupils, a town's households, children of the ages it holds — and silent about the rest: a
//! child missing from one school's list of six is not a possible dropout if the child goes to
//! another school or lives in another town. The roster is compared only with the children the
//! list covers (seeds/004 二(四): the three lists are compared to settle one true set — each
//! list for what it holds), and a comparison whose sizes do not fit says so.
//!
//! - Area: the villages of the list's people — the village of the roster child a row was matched
//!   to, or the village or town the row itself names. A row that says no place and matched nobody
//!   widens nothing (a list of place-less rows covers only where its matched children live).
//! - Schools (a student list): where the list names its schools (a 学校 column), a child whose
//!   file names another school is not covered; a child whose file names no school is covered if
//!   they live in the list's area.
//! - Ages: the birth dates the list holds, a year wider on each side (a pupil held back or ahead).

use std::collections::BTreeSet;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use shouwang_domain::text::clean;

use crate::discrepancy::{ListEntry, ListKind, Tally};
use crate::prepare::{birth_of, id_of};

/// Titles of a list's column that names the pupil's school.
const SCHOOL_TITLES: [&str; 6] = [
    "学校",
    "学校名称",
    "就读学校",
    "所在学校",
    "学校名",
    "school",
];

/// The school a list's row names, if its sheet has a school column.
pub fn school_of(entry: &ListEntry) -> Option<String> {
    entry
        .extra
        .iter()
        .find(|(title, _)| SCHOOL_TITLES.contains(&clean(title).replace(' ', "").as_str()))
        .map(|(_, v)| school_key(v))
        .filter(|s| !s.is_empty())
}

/// A school's name as compared: cleaned, without spaces.
fn school_key(name: &str) -> String {
    clean(name).replace(' ', "")
}

/// Two writings of one school: the same, or one inside the other ("冠山小学" in "都匀市冠山小学"),
/// if the shorter has at least four characters.
fn same_school(a: &str, b: &str) -> bool {
    let (short, long) = if a.chars().count() <= b.chars().count() {
        (a, b)
    } else {
        (b, a)
    };
    short == long || (short.chars().count() >= 4 && long.contains(short))
}

/// The part of the roster a list speaks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Division codes (villages, or towns where a row named only its town).
    pub places: BTreeSet<String>,
    /// The schools the list names.
    pub schools: BTreeSet<String>,
    /// Born on or after / on or before.
    pub born: Option<(NaiveDate, NaiveDate)>,
}

/// A roster child as coverage sees them.
#[derive(Debug, Clone, Copy)]
pub struct RosterChild<'a> {
    pub village: &'a str,
    pub school: Option<&'a str>,
    pub birth: Option<NaiveDate>,
}

impl Coverage {
    /// The coverage of a list whose rows were placed at `places` (the villages of the children
    /// its rows matched, and the villages or towns its rows name).
    pub fn of(entries: &[ListEntry], places: impl IntoIterator<Item = String>) -> Coverage {
        let mut c = Coverage {
            places: places.into_iter().collect(),
            ..Coverage::default()
        };
        for e in entries {
            if let Some(s) = school_of(e) {
                c.schools.insert(s);
            }
            let (id, _) = id_of(&e.record);
            if let Some(b) = birth_of(&e.record, id.as_ref()) {
                c.born = Some(match c.born {
                    None => (b, b),
                    Some((lo, hi)) => (lo.min(b), hi.max(b)),
                });
            }
        }
        c.born = c.born.map(|(lo, hi)| {
            (
                lo.checked_sub_months(Months::new(12)).unwrap_or(lo),
                hi.checked_add_months(Months::new(12)).unwrap_or(hi),
            )
        });
        c
    }

    fn in_area(&self, village: &str) -> bool {
        self.places.iter().any(|p| village.starts_with(p.as_str()))
    }

    /// Whether a roster child's absence from the list says something.
    pub fn covers(&self, list: ListKind, child: RosterChild<'_>) -> bool {
        if let (Some((lo, hi)), Some(b)) = (self.born, child.birth)
            && (b < lo || b > hi)
        {
            return false;
        }
        if list == ListKind::Education && !self.schools.is_empty() {
            return match child.school.map(school_key).filter(|s| !s.is_empty()) {
                Some(s) => self.schools.iter().any(|named| same_school(named, &s)),
                None => self.in_area(child.village),
            };
        }
        self.in_area(child.village)
    }
}

/// What a comparison's sizes say about it, in words for the person who ran it.
pub fn warnings(tally: &Tally) -> Vec<String> {
    let mut out = Vec::new();
    let linked = tally.matched + tally.review;
    if tally.list >= 5 && linked * 2 < tally.list {
        out.push(format!(
            "名单共 {} 行，只有 {linked} 行与花名册中的儿童对上：请确认名单属于本辖区、列对应无误。",
            tally.list
        ));
    }
    // Runs made before coverage was counted say nothing of it.
    let Some(covered) = tally.covered else {
        return out;
    };
    if covered >= 20 && covered > tally.list.saturating_mul(3) {
        out.push(format!(
            "比对范围内花名册有 {covered} 名儿童，而名单只有 {} 行：名单可能不全（例如只是一所学校或一个年级），“名单中未找到”的多数可能并非失学或无户籍，请先核对名单再处理。",
            tally.list
        ));
    }
    if covered == 0 && tally.roster > 0 {
        out.push(
            "名单所及的花名册儿童为 0 人（名单中的人所在的村、名单列出的学校都对不上花名册），因此没有列出“名单中未找到”的儿童；名单如缺乡镇、村两列，请补上后重新比对。"
                .into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::Record;

    fn entry(birth: &str, school: Option<&str>) -> ListEntry {
        ListEntry {
            record: Record {
                record_id: "1".into(),
                name: Some("张三".into()),
                birth_date: Some(birth.into()),
                ..Record::default()
            },
            row: 2,
            hukou: None,
            parents_away: None,
            extra: school
                .map(|s| vec![("学校名称".to_owned(), s.to_owned())])
                .unwrap_or_default(),
        }
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_school_list_covers_its_school_its_area_and_its_ages() {
        let list = [
            entry("2015-03-01", Some("冠山中心小学")),
            entry("2016-09-01", Some("冠山中心小学")),
        ];
        let c = Coverage::of(&list, ["522730100201".to_owned()]);
        assert_eq!(c.born, Some((ymd(2014, 3, 1), ymd(2017, 9, 1))));
        let child = |village, school, birth| RosterChild {
            village,
            school,
            birth: Some(birth),
        };
        let e = ListKind::Education;
        // Its pupil's school written longer, in another village: covered.
        assert!(c.covers(
            e,
            child("522730100305", Some("都匀市冠山中心小学"), ymd(2015, 6, 1))
        ));
        // Another school: not covered, wherever they live.
        assert!(!c.covers(e, child("522730100201", Some("城关一小"), ymd(2015, 6, 1))));
        // No school on file: covered in the list's area only.
        assert!(c.covers(e, child("522730100201", None, ymd(2015, 6, 1))));
        assert!(!c.covers(e, child("522730100305", None, ymd(2015, 6, 1))));
        // Too old for the list.
        assert!(!c.covers(e, child("522730100201", None, ymd(2011, 6, 1))));
        // A household list covers its area.
        assert!(c.covers(
            ListKind::Household,
            child("522730100201", Some("城关一小"), ymd(2015, 6, 1))
        ));
        assert!(!c.covers(
            ListKind::Household,
            child("522730100305", None, ymd(2015, 6, 1))
        ));
    }

    #[test]
    fn a_town_named_covers_its_villages_and_a_placeless_list_covers_nothing() {
        let list = [entry("2015-03-01", None)];
        let c = Coverage::of(&list, ["522730100".to_owned()]);
        let kid = |v| RosterChild {
            village: v,
            school: None,
            birth: Some(ymd(2015, 1, 1)),
        };
        assert!(c.covers(ListKind::Education, kid("522730100201")));
        assert!(!c.covers(ListKind::Education, kid("522730101201")));
        let none = Coverage::of(&list, []);
        assert!(!none.covers(ListKind::Education, kid("522730100201")));
    }

    #[test]
    fn sizes_that_do_not_fit_are_said() {
        let t = |list, matched, covered| Tally {
            roster: 4000,
            list,
            matched,
            covered: Some(covered),
            ..Tally::default()
        };
        assert!(warnings(&t(200, 190, 220)).is_empty());
        let w = warnings(&t(6, 6, 3765));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("3765") && w[0].contains("只有 6 行"), "{w:?}");
        assert_eq!(warnings(&t(100, 10, 100)).len(), 1);
        assert!(warnings(&t(6, 0, 0))[1].contains("乡镇、村两列"));
        // A run made before coverage was counted.
        let old = Tally {
            covered: None,
            ..t(6, 6, 0)
        };
        assert!(warnings(&old).is_empty());
    }
}
