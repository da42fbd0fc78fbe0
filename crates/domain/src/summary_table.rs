//! 《农村留守儿童基本情况汇总表》 (民发〔2016〕42号 附件3; domain-research §1.3): 32 counts per
//! reporting unit on a reference date, and the 表间勾稽关系 the figures must satisfy.
//!
//! The public copies of 附件3 carry the cross-check rules but not the column headers. The labels
//! below fit those rules and the 登记表's categories; they are held here, in this one table, until
//! an original header is obtained. Changing a label changes every output; the rules are fixed.

use chrono::NaiveDate;

use crate::child::Schooling as S;
use crate::child::{ActualGuardianship, ChildFile, GuardianRelation, HealthStatus, Schooling};
use crate::eligibility::{AgeBand, age_on, qualifies_except_age};
use crate::person::Sex;

/// One column: its number on the form, the group it sits under and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryColumn {
    pub number: usize,
    pub group: &'static str,
    pub label: &'static str,
}

const fn col(number: usize, group: &'static str, label: &'static str) -> SummaryColumn {
    SummaryColumn {
        number,
        group,
        label,
    }
}

/// The 32 columns. Confirm against an original 附件3 before relying on the labels of 21–29.
pub const COLUMNS: [SummaryColumn; 32] = [
    col(1, "合计", "农村留守儿童总数"),
    col(2, "0—5周岁", "小计"),
    col(3, "0—5周岁", "男"),
    col(4, "0—5周岁", "女"),
    col(5, "6—13周岁", "小计"),
    col(6, "6—13周岁", "男"),
    col(7, "6—13周岁", "女"),
    col(8, "14—16周岁", "小计"),
    col(9, "14—16周岁", "男"),
    col(10, "14—16周岁", "女"),
    col(11, "就学情况", "幼儿园"),
    col(12, "就学情况", "未入园"),
    col(13, "就学情况", "小学"),
    col(14, "就学情况", "初中"),
    col(15, "就学情况", "高中"),
    col(16, "就学情况", "中职"),
    col(17, "就学情况", "辍学"),
    col(18, "就学情况", "不在学"),
    col(19, "实际监护情况", "父母双方外出"),
    col(20, "实际监护情况", "一方外出另一方无监护能力"),
    col(21, "学段及寄宿", "学前（幼儿园、未入园）"),
    col(22, "学段及寄宿", "高中阶段（高中、中职）"),
    col(23, "学段及寄宿", "辍学、不在学"),
    col(24, "学段及寄宿", "义务教育阶段寄宿"),
    col(25, "学段及寄宿", "义务教育阶段非寄宿"),
    col(26, "委托监护", "（外）祖父母监护"),
    col(27, "委托监护", "其他亲属监护"),
    col(28, "委托监护", "亲友邻居等监护"),
    col(29, "委托监护", "未委托监护人"),
    col(30, "身体状况", "健康"),
    col(31, "身体状况", "残疾"),
    col(32, "身体状况", "患病"),
];

/// 表间勾稽关系 as printed with 附件3: each left column equals the sum of the right ones.
pub const CROSS_CHECKS: &[(&[usize], &[usize])] = &[
    (&[1], &[2, 5, 8]),
    (&[1], &[11, 12, 13, 14, 15, 16, 17, 18]),
    (&[1], &[19, 20]),
    (&[1], &[21, 22, 23, 24, 25]),
    (&[1], &[26, 27, 28, 29]),
    (&[1], &[30, 31, 32]),
    (&[2], &[3, 4]),
    (&[5], &[6, 7]),
    (&[8], &[9, 10]),
    (&[13, 14], &[24, 25]),
];

/// The 32 figures of one reporting unit; `values[0]` is column 1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub values: [u64; 32],
}

impl Figures {
    pub fn get(&self, column: usize) -> u64 {
        self.values[column - 1]
    }

    /// Figures as stored (column 1 first); missing columns are 0, extra values ignored.
    pub fn from_values(values: &[u64]) -> Figures {
        let mut f = Figures::default();
        for (a, b) in f.values.iter_mut().zip(values) {
            *a = *b;
        }
        f
    }

    pub fn merge(&mut self, other: &Figures) {
        for (a, b) in self.values.iter_mut().zip(other.values) {
            *a += b;
        }
    }

    /// Counts one child, if they are a 农村留守儿童 on the reference date and the table can place
    /// them ([`unplaced`]).
    pub fn count(&mut self, file: &ChildFile, on: NaiveDate) -> bool {
        if !counts_on(file, on) {
            return false;
        }
        let Some(cells) = cells(file) else {
            return false;
        };
        let Some(band) = AgeBand::of_age(age_on(file.birth_date, on)) else {
            return false;
        };
        self.add_group(band, file.sex, &cells, 1);
        true
    }

    /// Adds `n` children of one age band and sex who count in the same `cells` ([`cells`]): the
    /// one rule of [`Figures::count`], for counts a database grouped.
    pub fn add_group(&mut self, band: AgeBand, sex: Sex, cells: &[usize], n: u64) {
        let base = match band {
            AgeBand::Infant => 2,
            AgeBand::School => 5,
            AgeBand::Teen => 8,
        };
        let sex_column = base + if sex == Sex::Male { 1 } else { 2 };
        for column in [1, base, sex_column].iter().chain(cells) {
            self.values[column - 1] += n;
        }
    }

    /// The rules these figures break, each in words ("第1栏(10) ≠ 第2+5+8栏(9)").
    pub fn cross_check(&self) -> Vec<String> {
        CROSS_CHECKS
            .iter()
            .filter_map(|(left, right)| {
                let l: u64 = left.iter().map(|c| self.get(*c)).sum();
                let r: u64 = right.iter().map(|c| self.get(*c)).sum();
                (l != r).then(|| {
                    let name = |cols: &[usize]| {
                        cols.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("+")
                    };
                    format!("第{}栏({l}) ≠ 第{}栏({r})", name(left), name(right))
                })
            })
            .collect()
    }
}

/// The columns a qualifying file counts in besides the total and the age-and-sex ones (which
/// depend on the reference date): one each of 就学情况 (11–18), 实际监护情况 (19–20), 学段及寄宿
/// (21–25), 委托监护 (26–29) and 身体状况 (30–32). None when the table cannot place the file
/// ([`unplaced`]).
pub fn cells(file: &ChildFile) -> Option<[usize; 5]> {
    let schooling = file.schooling?;
    let schooling_index = Schooling::ALL
        .iter()
        .position(|s| *s == schooling)
        .expect("every schooling value is listed");
    Some([
        11 + schooling_index,
        match file.actual_guardianship() {
            ActualGuardianship::BothAway => 19,
            _ => 20,
        },
        match schooling {
            S::Kindergarten | S::NotInKindergarten => 21,
            S::SeniorHigh | S::Vocational => 22,
            S::DroppedOut | S::NotInSchool => 23,
            S::Primary | S::JuniorHigh => match file.boarding? {
                true => 24,
                false => 25,
            },
        },
        // A carer whose relation the file does not say cannot be placed (附件1's columns 26–28),
        // nor a child of whom nobody said whether the parents entrusted anyone (column 29 is
        // "未委托", a stated fact).
        match (
            file.entrusted(),
            file.entrusted_guardian.as_ref().map(|g| g.relation),
        ) {
            (
                _,
                Some(Some(GuardianRelation::Grandparent | GuardianRelation::MaternalGrandparent)),
            ) => 26,
            (_, Some(Some(GuardianRelation::Sibling | GuardianRelation::OtherRelative))) => 27,
            (_, Some(Some(GuardianRelation::FriendNeighbour | GuardianRelation::Other))) => 28,
            (Some(false), None) => 29,
            _ => return None,
        },
        match file.health.status? {
            HealthStatus::Healthy => 30,
            HealthStatus::Disabled => 31,
            HealthStatus::Ill => 32,
        },
    ])
}

/// [`cells`] as stored beside a file ("13,19,25,26,30"); empty when the file does not qualify or
/// cannot be placed, so that a database counts the table without opening a file.
pub fn cells_code(file: &ChildFile) -> String {
    if !qualifies_except_age(file) {
        return String::new();
    }
    cells(file)
        .map(|c| {
            c.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// Reads a stored [`cells_code`]: five columns in their ranges, or None.
pub fn parse_cells(code: &str) -> Option<[usize; 5]> {
    let v: Vec<usize> = code
        .split(',')
        .map(|c| c.parse().ok())
        .collect::<Option<_>>()?;
    let ranges = [11..=18, 19..=20, 21..=25, 26..=29, 30..=32];
    (v.len() == 5 && v.iter().zip(ranges).all(|(c, r)| r.contains(c)))
        .then(|| [v[0], v[1], v[2], v[3], v[4]])
}

/// What a file on the roster leaves blank that the table sorts every child by (就学情况: columns
/// 11–18 and 21–25 each hold every child once). Such a child cannot be counted without breaking
/// the 表间勾稽关系; the export says how many were left out and why.
pub fn unplaced(file: &ChildFile) -> Option<&'static str> {
    let in_compulsory = matches!(
        file.schooling,
        Some(Schooling::Primary | Schooling::JuniorHigh)
    );
    if file.schooling.is_none() {
        Some("就学情况")
    } else if file.health.status.is_none() {
        Some("身体情况")
    } else if in_compulsory && file.boarding.is_none() {
        Some("是否学校寄宿")
    } else if file.entrusted().is_none() {
        Some("父母外出是否委托其他监护人")
    } else if file
        .entrusted_guardian
        .as_ref()
        .is_some_and(|g| g.relation.is_none())
    {
        Some("受委托监护人与儿童关系")
    } else {
        None
    }
}

/// Whether a file counts as a 农村留守儿童 on a date (under 16 then, and the facts qualify).
/// Whether the child was on the roster then (registered, not yet exited) is the caller's part.
pub fn counts_on(file: &ChildFile, on: NaiveDate) -> bool {
    (0..16).contains(&age_on(file.birth_date, on)) && qualifies_except_age(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ParseContext;
    use crate::region::Divisions;
    use crate::sample::left_behind_boy;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn file(edit: impl FnOnce(&mut crate::input::ChildInput)) -> ChildFile {
        let mut input = left_behind_boy("522730001001", ymd(2016, 7, 31));
        edit(&mut input);
        input
            .parse(&ParseContext {
                today: ymd(2026, 11, 24),
                divisions: Divisions::shipped(),
            })
            .unwrap()
    }

    /// 是否委托 left blank with no carer named is not known: the file asks for it (待补充) and the
    /// table cannot place the child; stated 否 is column 29; a file written before the answer
    /// was kept reads as it says (a carer named: yes; none: not known).
    #[test]
    fn not_entrusted_is_a_stated_fact_not_a_blank() {
        // No carer named; 是否委托 as `entrusted` says, the 监护类型 as `kind`.
        let without_carer = |entrusted: Option<&str>, kind: &str| {
            file(|i| {
                i.entrusted = entrusted.map(str::to_owned);
                i.guardian_name = None;
                i.guardian_relation = None;
                i.guardian_phone = None;
                i.guardian_id_number = None;
                i.guardian_address = None;
                i.guardianship_type = Some(kind.to_owned());
            })
        };
        let blank = without_carer(None, "无人监护");
        assert_eq!(blank.entrusted(), None);
        assert!(blank.entrusted_guardian.is_none());
        assert!(crate::eligibility::missing_fields(&blank).contains(&"父母外出是否委托其他监护人"));
        assert_eq!(unplaced(&blank), Some("父母外出是否委托其他监护人"));
        assert_eq!(cells(&blank), None);
        // Both parents away and no carer named: a child to look at, and the reason says why.
        let unsure = without_carer(None, "监护情况一般");
        let flags = crate::eligibility::key_target_flags(&unsure);
        assert!(
            flags.iter().any(
                |f| f.flag == crate::eligibility::KeyTargetFlag::Unsupervised
                    && f.because.contains("未说明是否委托")
            ),
            "{flags:?}"
        );
        let no = without_carer(Some("否"), "无人监护");
        assert_eq!(no.entrusted(), Some(false));
        assert_eq!(cells(&no).map(|c| c[3]), Some(29));
        assert!(!crate::eligibility::missing_fields(&no).contains(&"父母外出是否委托其他监护人"));
        // A carer named says yes (column 26: a grandparent).
        let yes = file(|i| i.entrusted = None);
        assert_eq!(yes.entrusted(), Some(true));
        assert_eq!(cells(&yes).map(|c| c[3]), Some(26));
        // Files kept before: no `entrusted` in the stored document.
        let mut old = serde_json::to_value(&no).unwrap();
        old.as_object_mut().unwrap().remove("entrusted");
        let old: ChildFile = serde_json::from_value(old).unwrap();
        assert_eq!(old.entrusted(), None);
        let mut old = serde_json::to_value(&yes).unwrap();
        old.as_object_mut().unwrap().remove("entrusted");
        let old: ChildFile = serde_json::from_value(old).unwrap();
        assert_eq!(old.entrusted(), Some(true));
    }

    #[test]
    fn every_column_is_numbered_in_order() {
        for (i, c) in COLUMNS.iter().enumerate() {
            assert_eq!(c.number, i + 1);
        }
    }

    #[test]
    fn each_child_lands_once_in_every_breakdown_and_the_rules_hold() {
        let on = ymd(2026, 11, 24);
        let mut f = Figures::default();
        assert!(f.count(&file(|_| {}), on));
        assert!(f.count(
            &file(|i| {
                i.name = Some("王小红".into());
                i.sex = Some("女".into());
                i.id_number = None;
                i.birth_date = Some("2014-01-05".into());
                i.schooling = Some("初中".into());
                i.boarding = Some("是".into());
                i.health = Some("患病".into());
                i.illness = Some("白血病".into());
                i.mother_situation = Some("在家但无监护能力".into());
                i.mother_incapacity = Some("重病".into());
                i.mother_work_place = None;
                i.guardianship_type = Some("父或母无监护能力".into());
                i.entrusted = Some("否".into());
            }),
            on
        ));
        // A child whose mother is at home is not left behind and is not counted.
        assert!(!f.count(
            &file(|i| {
                i.mother_situation = Some("在家".into());
                i.mother_work_place = None;
            }),
            on
        ));
        assert_eq!(f.get(1), 2);
        assert_eq!((f.get(5), f.get(6), f.get(7)), (2, 1, 1));
        assert_eq!((f.get(13), f.get(14)), (1, 1));
        assert_eq!((f.get(19), f.get(20)), (1, 1));
        assert_eq!((f.get(24), f.get(25)), (1, 1));
        assert_eq!((f.get(26), f.get(29)), (1, 1));
        assert_eq!((f.get(30), f.get(32)), (1, 1));
        assert!(f.cross_check().is_empty(), "{:?}", f.cross_check());
    }

    #[test]
    fn counting_by_stored_cells_gives_the_same_table_as_counting_files() {
        let on = ymd(2026, 11, 24);
        let files = [
            file(|_| {}),
            file(|i| {
                i.sex = Some("女".into());
                i.id_number = None;
                i.birth_date = Some("2011-02-01".into());
                i.schooling = Some("初中".into());
                i.boarding = Some("是".into());
                i.health = Some("残疾".into());
                i.disability_category = Some("肢体残疾".into());
                i.disability_grade = Some("二级".into());
            }),
        ];
        let mut by_file = Figures::default();
        let mut by_cells = Figures::default();
        for f in &files {
            assert!(by_file.count(f, on));
            let cells = parse_cells(&cells_code(f)).unwrap();
            let band = AgeBand::of_age(age_on(f.birth_date, on)).unwrap();
            by_cells.add_group(band, f.sex, &cells, 1);
        }
        assert_eq!(by_file, by_cells);
        assert_eq!(parse_cells("13,19,25,26"), None);
        assert_eq!(parse_cells("13,19,25,26,33"), None);
        assert_eq!(parse_cells(""), None);
        let not_left_behind = file(|i| {
            i.mother_situation = Some("在家".into());
            i.mother_work_place = None;
        });
        assert_eq!(cells_code(&not_left_behind), "");
    }

    #[test]
    fn a_broken_rule_is_named_with_its_columns() {
        let mut f = Figures::default();
        f.values[0] = 3;
        f.values[1] = 2;
        let broken = f.cross_check();
        assert!(
            broken.iter().any(|b| b == "第1栏(3) ≠ 第2+5+8栏(2)"),
            "{broken:?}"
        );
    }

    #[test]
    fn a_child_turning_16_before_the_reference_date_is_not_counted() {
        let f = file(|_| {});
        assert!(counts_on(&f, ymd(2032, 7, 30)));
        assert!(!counts_on(&f, ymd(2032, 7, 31)));
    }

    #[test]
    fn a_child_whose_schooling_is_blank_is_left_out_not_misplaced() {
        let on = ymd(2026, 11, 24);
        let f = file(|i| i.schooling = None);
        assert_eq!(unplaced(&f), Some("就学情况"));
        let mut figures = Figures::default();
        assert!(counts_on(&f, on), "still a 农村留守儿童");
        assert!(!figures.count(&f, on));
        assert_eq!(figures, Figures::default());
        // 监护类型 is not a column: a blank one does not keep the child out.
        let f = file(|i| i.guardianship_type = None);
        assert!(figures.count(&f, on));
        assert!(figures.cross_check().is_empty());
    }
}
