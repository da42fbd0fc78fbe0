//! From links to work: what a comparison of the roster with the education or household list
//! means for the people who keep them (三方比对 → 差异清单). Pure rules over a [`Linkage`] whose
//! left side is the civil-affairs roster and right side the other department's list.
//!
//! - On the roster, at school age, but in no student list → possible dropout (seeds/000 二(三)
//!   全面落实控辍保学; seeds/004 二(四) asks the three lists be compared and settled; 义务教育法
//!   第十一条: school from six).
//! - On the roster but not in the household list → possible child without hukou (seeds/003
//!   （四）落实户籍登记责任: 民政 finds the children without hukou, 公安 registers them); in it as
//!   urban (非农业) hukou → possibly not a *rural* left-behind child (国发〔2016〕13号 definition).
//! - Linked, but the ID numbers differ → a suggested correction, applied only by a person.
//! - In the list as a child whose parents are away, but on no roster → possibly undiscovered.
//! - Pairs in the review band → a person decides whether they are the same child.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use shouwang_domain::code_enum;
use shouwang_domain::eligibility::age_on;
use shouwang_domain::text::clean;

use crate::link::{Decision, Linkage, Reason};
use crate::prepare::{Record, birth_of, id_of};

code_enum! {
    /// Which department's list the roster is compared with.
    pub enum ListKind {
        Education = ("education", "学籍名单（教育部门）"),
        Household = ("household", "户籍名单（公安部门）"),
    }
}

code_enum! {
    pub enum FindingKind {
        NotInSchoolList = ("not_in_school_list", "学籍名单中未找到（疑似失学辍学）"),
        NotInHouseholdList = ("not_in_household_list", "户籍名单中未找到（疑似无户籍）"),
        UrbanHukou = ("urban_hukou", "户籍为非农业户口（疑似不属农村留守儿童）"),
        IdNumber = ("id_number", "身份证号码不一致"),
        NotOnRoster = ("not_on_roster", "名单中的留守儿童未登记（疑似漏登）"),
        Review = ("review", "疑似同一人，待人工确认"),
    }
}

impl ListKind {
    /// The list's short name in messages ("学籍名单中的身份证号码…").
    pub fn list_name(self) -> &'static str {
        match self {
            ListKind::Education => "学籍名单",
            ListKind::Household => "户籍名单",
        }
    }
}

impl FindingKind {
    /// Who usually follows the finding up (the assignee a county user is offered first).
    pub fn follow_up(self, list: ListKind) -> &'static str {
        match (self, list) {
            (FindingKind::NotInSchoolList, _) => "school",
            (FindingKind::NotInHouseholdList, _) | (FindingKind::UrbanHukou, _) => "police",
            (FindingKind::IdNumber, ListKind::Household) => "police",
            (FindingKind::IdNumber, ListKind::Education) => "school",
            (FindingKind::NotOnRoster, _) | (FindingKind::Review, _) => "town",
        }
    }
}

code_enum! {
    /// 户口性质 as household lists write it.
    pub enum Hukou {
        Rural = ("rural", "农业户口"),
        Urban = ("urban", "非农业户口"),
    }
}

impl Hukou {
    /// Reads the wordings lists use: 农业/农村/农业家庭户口 → rural; 非农业/城镇/城市 → urban.
    pub fn read(s: &str) -> Option<Hukou> {
        let s = clean(s);
        if s.contains("非农") || s.contains("城镇") || s.contains("城市") || s == "urban" {
            Some(Hukou::Urban)
        } else if s.contains("农业") || s.contains("农村") || s == "rural" {
            Some(Hukou::Rural)
        } else {
            None
        }
    }
}

/// Reads a yes/no cell (是/否, 是否留守 columns, 1/0, Y/N).
pub fn read_yes_no(s: &str) -> Option<bool> {
    match clean(s).to_lowercase().as_str() {
        "是" | "有" | "1" | "y" | "yes" | "true" | "√" | "✓" | "留守" => Some(true),
        "否" | "无" | "0" | "n" | "no" | "false" | "非留守" => Some(false),
        _ => None,
    }
}

/// A record of the other department's list with what the rules read besides the person.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListEntry {
    pub record: Record,
    /// The row in the uploaded sheet (1-based, the header is row 1).
    pub row: u32,
    pub hukou: Option<Hukou>,
    /// Marked in the list as a child whose parents are away (留守).
    pub parents_away: Option<bool>,
    /// Columns the rules do not read, kept to show (学校, 年级, 住址…): (title, value).
    pub extra: Vec<(String, String)>,
}

/// Where a list's ID number and the roster's disagree, and which side the suggestion corrects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdFix {
    /// `roster`: set the child's ID number to `to` (the list carries a valid number the roster
    /// lacks or has differently); `list`: the list's number fails its check, tell its keeper.
    pub side: String,
    pub to: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// Index into the roster.
    pub roster: Option<usize>,
    /// Index into the list.
    pub entry: Option<usize>,
    pub probability: Option<f64>,
    pub reasons: Vec<Reason>,
    pub fix: Option<IdFix>,
}

/// Counts of one comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tally {
    pub roster: usize,
    pub list: usize,
    pub matched: usize,
    pub review: usize,
    pub findings: usize,
    /// Roster children the list speaks for (see [`crate::coverage`]); only they can be "not in
    /// the list". None for runs made before it was counted (they compared the whole roster).
    #[serde(default)]
    pub covered: Option<usize>,
}

/// Compulsory-education age (义务教育法 第十一条: from six; nine years of school).
pub fn school_age(birth: NaiveDate, on: NaiveDate) -> bool {
    (6..=15).contains(&age_on(birth, on))
}

/// Whether a roster child who is in no list is a finding of this kind of list.
pub fn missing_from(list: ListKind, roster: &Record, on: NaiveDate) -> Option<FindingKind> {
    match list {
        ListKind::Education => birth_of(roster, id_of(roster).0.as_ref())
            .filter(|b| school_age(*b, on))
            .map(|_| FindingKind::NotInSchoolList),
        ListKind::Household => Some(FindingKind::NotInHouseholdList),
    }
}

/// Whether a list entry nobody on the roster matched is a finding (a child whose parents are away).
pub fn unmatched_entry(entry: &ListEntry) -> Option<FindingKind> {
    (entry.parents_away == Some(true)).then_some(FindingKind::NotOnRoster)
}

/// What to do about the ID numbers of a linked pair, if they disagree.
pub fn id_fix(list: ListKind, roster: &Record, entry: &Record) -> Option<IdFix> {
    // Only the ID numbers matter here (the whole record was prepared by the linkage).
    let id = |r: &Record| {
        let (valid, raw) = id_of(r);
        (valid.map(|n| n.as_str().to_owned()), raw)
    };
    let ((a, _), (b, b_raw)) = (id(roster), id(entry));
    let source = list.list_name();
    match (&a, &b, &b_raw) {
        (None, Some(to), _) => Some(IdFix {
            side: "roster".into(),
            to: Some(to.clone()),
            note: format!("花名册缺少身份证号码，{source}中有"),
        }),
        (Some(x), Some(to), _) if x != to => Some(IdFix {
            side: "roster".into(),
            to: Some(to.clone()),
            note: match list {
                ListKind::Household => "与户籍名单不一致，身份证号码以公安户籍为准".into(),
                ListKind::Education => "与学籍名单不一致，请对照户口簿核实".into(),
            },
        }),
        (Some(_), None, Some(_)) => Some(IdFix {
            side: "list".into(),
            to: None,
            note: format!("{source}中的身份证号码校验不通过（疑似录入错误），请告知对方更正"),
        }),
        _ => None,
    }
}

/// The findings of one comparison, roster first in roster order, then the list's entries. Only a
/// roster child the list covers (`covered[r]`, see [`crate::coverage`]) is a finding for being
/// absent from it.
pub fn findings(
    list: ListKind,
    roster: &[Record],
    entries: &[ListEntry],
    linkage: &Linkage,
    covered: &[bool],
    on: NaiveDate,
) -> (Vec<Finding>, Tally) {
    let mut roster_link = vec![None; roster.len()];
    let mut entry_linked = vec![false; entries.len()];
    for (i, k) in linkage.links.iter().enumerate() {
        roster_link[k.left] = Some(i);
        entry_linked[k.right] = true;
    }
    let mut out = Vec::new();
    let mut tally = Tally {
        roster: roster.len(),
        list: entries.len(),
        covered: Some(covered.iter().filter(|c| **c).count()),
        ..Tally::default()
    };
    for (r, child) in roster.iter().enumerate() {
        let Some(i) = roster_link[r] else {
            if covered.get(r).copied().unwrap_or(false)
                && let Some(kind) = missing_from(list, child, on)
            {
                out.push(Finding {
                    kind,
                    roster: Some(r),
                    entry: None,
                    probability: None,
                    reasons: Vec::new(),
                    fix: None,
                });
            }
            continue;
        };
        let k = &linkage.links[i];
        let pair = |kind, fix| Finding {
            kind,
            roster: Some(r),
            entry: Some(k.right),
            probability: Some(k.probability),
            reasons: k.reasons.clone(),
            fix,
        };
        if k.decision == Decision::Review {
            tally.review += 1;
            out.push(pair(FindingKind::Review, None));
            continue;
        }
        tally.matched += 1;
        let entry = &entries[k.right];
        if let Some(fix) = id_fix(list, child, &entry.record) {
            out.push(pair(FindingKind::IdNumber, Some(fix)));
        }
        if list == ListKind::Household && entry.hukou == Some(Hukou::Urban) {
            out.push(pair(FindingKind::UrbanHukou, None));
        }
    }
    for (e, entry) in entries.iter().enumerate() {
        if entry_linked[e] {
            continue;
        }
        if let Some(kind) = unmatched_entry(entry) {
            out.push(Finding {
                kind,
                roster: None,
                entry: Some(e),
                probability: None,
                reasons: Vec::new(),
                fix: None,
            });
        }
    }
    tally.findings = out.len();
    (out, tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hukou_and_yes_no_wordings() {
        assert_eq!(Hukou::read("非农业家庭户口"), Some(Hukou::Urban));
        assert_eq!(Hukou::read("农业家庭户口"), Some(Hukou::Rural));
        assert_eq!(Hukou::read("城镇"), Some(Hukou::Urban));
        assert_eq!(Hukou::read("居民"), None);
        assert_eq!(read_yes_no(" 是 "), Some(true));
        assert_eq!(read_yes_no("否"), Some(false));
        assert_eq!(read_yes_no("不详"), None);
    }

    #[test]
    fn id_fixes() {
        let r = |id: Option<&str>| Record {
            record_id: "x".into(),
            id_number: id.map(Into::into),
            ..Record::default()
        };
        let born = NaiveDate::from_ymd_opt(2015, 3, 8).unwrap();
        let valid = &shouwang_domain::sample::id_number_for("522730", born, 12);
        let other = &shouwang_domain::sample::id_number_for("522730", born, 14);
        let bad = &format!(
            "{}{}",
            &valid[..17],
            if valid.ends_with('0') { '1' } else { '0' }
        );
        assert_eq!(
            id_fix(ListKind::Household, &r(None), &r(Some(valid)))
                .unwrap()
                .to
                .as_deref(),
            Some(valid.as_str())
        );
        let f = id_fix(ListKind::Household, &r(Some(other)), &r(Some(valid)));
        assert!(
            matches!(f, Some(IdFix { ref side, .. }) if side == "roster"),
            "{f:?}"
        );
        let f = id_fix(ListKind::Education, &r(Some(valid)), &r(Some(bad))).unwrap();
        assert_eq!((f.side.as_str(), f.to), ("list", None));
        assert_eq!(
            id_fix(ListKind::Education, &r(Some(valid)), &r(Some(valid))),
            None
        );
        assert_eq!(id_fix(ListKind::Education, &r(Some(valid)), &r(None)), None);
    }

    #[test]
    fn school_age_is_six_to_fifteen() {
        let on = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let born = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(!school_age(born(2020, 11, 25), on));
        assert!(school_age(born(2020, 11, 24), on));
        assert!(school_age(born(2010, 11, 25), on));
        assert!(!school_age(born(2010, 11, 24), on));
    }
}
