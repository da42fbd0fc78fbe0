//! Who is a rural left-behind child on a reference date, and which key-target flags apply.
//!
//! Definition (国发〔2016〕13号; 沈阳 002 一; 景洪 000 前言): 父母双方外出务工或一方外出务工另一方无监护
//! 能力、不满16周岁的农村户籍未成年人.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::child::{
    ActualGuardianship, Assistance, ChildFile, GuardianshipType, HealthStatus, ManualFlag,
    Schooling, WhichParent,
};
use crate::code_enum;

/// Completed years of age on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// The roster's age rule as a date (国发〔2016〕13号: 不满十六周岁): a child born after the returned
/// date is under 16 on `on`; one born on or before it is 16 or older. The SQL of every list and
/// count uses this date, the same rule as [`age_on`]` < 16`.
pub fn under_sixteen_born_after(on: NaiveDate) -> NaiveDate {
    birth_anniversary_back(on, 16)
}

/// The 16th birthday; a child born on 29 February turns 16 on 1 March in a common year.
pub fn sixteenth_birthday(birth: NaiveDate) -> NaiveDate {
    birth_anniversary(birth, 16)
}

/// The date on which someone born on `birth` turns `years`.
pub fn birth_anniversary(birth: NaiveDate, years: i32) -> NaiveDate {
    let year = birth.year() + years;
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .expect("1 March exists")
}

code_enum! {
    /// Reporting age bands 0–5 / 6(含)–13 / 14(含)–16 (民发〔2016〕42号; domain-research §1.0).
    pub enum AgeBand {
        Infant = ("0-5", "0—5周岁"),
        School = ("6-13", "6—13周岁"),
        Teen = ("14-16", "14—16周岁"),
    }
}

impl AgeBand {
    pub fn of_age(age: i32) -> Option<AgeBand> {
        match age {
            0..=5 => Some(AgeBand::Infant),
            6..=13 => Some(AgeBand::School),
            14..=15 => Some(AgeBand::Teen),
            _ => None,
        }
    }
    /// Birth dates (exclusive lower, inclusive upper) of children in this band on `on`:
    /// `(born after, born on or before)`.
    pub fn birth_range(self, on: NaiveDate) -> (NaiveDate, NaiveDate) {
        let (min_age, max_age) = match self {
            AgeBand::Infant => (0, 5),
            AgeBand::School => (6, 13),
            AgeBand::Teen => (14, 15),
        };
        // Age ≥ min ⇔ born on or before on − min years; age ≤ max ⇔ born after on − (max+1) years.
        (
            birth_anniversary_back(on, max_age + 1),
            birth_anniversary_back(on, min_age),
        )
    }
}

/// `on` moved back `years` years (29 Feb → 28 Feb).
pub fn birth_anniversary_back(on: NaiveDate, years: i32) -> NaiveDate {
    let year = on.year() - years;
    NaiveDate::from_ymd_opt(year, on.month(), on.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
        .expect("28 February exists")
}

/// One condition of the definition and whether it holds, with the reason in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Condition {
    pub met: bool,
    pub reason: String,
}

/// The eligibility decision with every condition's reason, as shown on the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Eligibility {
    pub reference_date: NaiveDate,
    pub age: i32,
    pub age_band: Option<AgeBand>,
    pub qualifies: bool,
    pub conditions: Vec<Condition>,
    /// Facts the definition needs that the file does not state (信息不全): while any is missing
    /// the child is neither on the roster nor "not left behind", but on the 信息不全 list.
    pub missing: Vec<&'static str>,
    /// The day the child turns 16 and leaves the roster without anyone editing the file.
    pub ages_out_on: NaiveDate,
}

impl Eligibility {
    /// One line: "符合：…" or "不符合：…" listing the conditions not met.
    pub fn summary(&self) -> String {
        if !self.missing.is_empty() {
            format!(
                "信息不全，暂不能认定是否属于农村留守儿童：请补充{}",
                self.missing.join("、")
            )
        } else if self.qualifies {
            format!(
                "符合农村留守儿童认定条件（{}）",
                self.conditions
                    .iter()
                    .map(|c| c.reason.as_str())
                    .collect::<Vec<_>>()
                    .join("；")
            )
        } else {
            format!(
                "不属于农村留守儿童：{}",
                self.conditions
                    .iter()
                    .filter(|c| !c.met)
                    .map(|c| c.reason.as_str())
                    .collect::<Vec<_>>()
                    .join("；")
            )
        }
    }
}

/// Everything in the definition except age, which changes with time alone. Stored with the file so
/// the roster can be queried by birth date on any reference date. False while a fact the definition
/// needs is missing ([`missing_facts`]): a blank is never read as meeting it.
pub fn qualifies_except_age(file: &ChildFile) -> bool {
    file.hukou_rural == Some(true)
        && matches!(
            file.actual_guardianship(),
            ActualGuardianship::BothAway | ActualGuardianship::OneAwayOtherUnable(_)
        )
}

/// The version of the rules that derive a file's stored summary (`qualifies_except_age`,
/// `missing_facts`, `key_target_flags`, the masked ID number, the 汇总表's cells
/// `summary_table::cells_code`). Raise it with any change to them: the store derives every
/// file's summary again when it opens a database derived with another version.
pub const DERIVATION_VERSION: u32 = 10;

/// Everything the registration form asks that the file leaves blank, by the form's labels: the
/// facts the definition needs ([`missing_facts`]) and the other fields a complete 登记表 has
/// (民族…). A file with any is on the 待补充 list of its village; only identity and place (name,
/// sex, birth date, village) are needed to create it.
pub fn missing_fields(file: &ChildFile) -> Vec<&'static str> {
    let mut out = missing_facts(file);
    if file.hukou_rural.is_none() && !out.contains(&"户籍性质（是否农村户籍）") {
        out.push("户籍性质（是否农村户籍）");
    }
    for (parent, label) in [
        (&file.father, "父亲目前情况"),
        (&file.mother, "母亲目前情况"),
    ] {
        if parent.is_unknown() && !out.contains(&label) {
            out.push(label);
        }
    }
    if file.ethnicity.is_none() {
        out.push("民族");
    }
    if file.hukou_registered.is_none() {
        out.push("是否登记户口");
    }
    if file.health.status.is_none() {
        out.push("身体情况");
    }
    if file.boarding.is_none() {
        out.push("是否学校寄宿");
    }
    if file.living_alone.is_none() {
        out.push("是否脱离监护单独居住");
    }
    if file.schooling.is_none() {
        out.push("就学情况");
    }
    if file.guardianship_type.is_none() {
        out.push("监护类型");
    }
    for (parent, label) in [
        (&file.father, "父亲外出务工地点"),
        (&file.mother, "母亲外出务工地点"),
    ] {
        if parent.situation == Some(crate::child::ParentSituation::AwayForWork)
            && parent.work_place.is_none()
        {
            out.push(label);
        }
    }
    for (parent, label) in [
        (&file.father, "父亲无监护能力原因"),
        (&file.mother, "母亲无监护能力原因"),
    ] {
        if parent.status == crate::child::KinStatus::Alive
            && parent.situation == Some(crate::child::ParentSituation::Incapable)
            && parent.incapacity.is_none()
        {
            out.push(label);
        }
    }
    match file.health.status {
        Some(HealthStatus::Disabled) => {
            if file.health.disability_category.is_none() {
                out.push("残疾类别");
            }
            if file.health.disability_grade.is_none() {
                out.push("残疾等级");
            }
        }
        Some(HealthStatus::Ill) if file.health.illness.is_none() => out.push("患病类型"),
        _ => {}
    }
    // Asked of a child whose parents are away (no capable parent at home).
    if file.entrusted().is_none()
        && !file.father.capable_at_home()
        && !file.mother.capable_at_home()
    {
        out.push("父母外出是否委托其他监护人");
    }
    if let Some(g) = &file.entrusted_guardian {
        if g.name.is_none() {
            out.push("受委托监护人姓名");
        }
        if g.relation.is_none() {
            out.push("受委托监护人与儿童关系");
        }
    }
    out
}

/// How complete a file is, as stored in `children.incomplete`: 0 complete; 1 fields missing but
/// the definition decided; 2 the definition cannot be decided (the 信息不全 standing).
pub fn completeness(file: &ChildFile) -> i64 {
    if !missing_facts(file).is_empty() {
        2
    } else if !missing_fields(file).is_empty() {
        1
    } else {
        0
    }
}

/// Whether a file meets the definition, age aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Definition {
    Met,
    NotMet,
    /// The file leaves blank a fact the definition needs ([`missing_facts`]).
    Undecided,
}

impl Definition {
    pub fn of(file: &ChildFile) -> Definition {
        Definition::from_stored(qualifies_except_age(file), !missing_facts(file).is_empty())
    }
    /// From the two stored columns (`qualifies`; `incomplete` = 2, see [`completeness`]).
    pub fn from_stored(qualifies: bool, undecided: bool) -> Definition {
        match (qualifies, undecided) {
            (true, _) => Definition::Met,
            (false, true) => Definition::Undecided,
            (false, false) => Definition::NotMet,
        }
    }
}

/// The facts the definition (沈阳 002 一: 父母双方外出务工或一方外出务工另一方无监护能力、不满16周岁的
/// 农村户籍未成年人) needs and the file leaves blank, by their labels on the form. Empty when the
/// file decides the question either way — a child whose mother cares at home is not left behind,
/// whatever is unknown of the father.
pub fn missing_facts(file: &ChildFile) -> Vec<&'static str> {
    let mut out = Vec::new();
    if file.hukou_rural.is_none() {
        out.push("户籍性质（是否农村户籍）");
    }
    if file.actual_guardianship() == ActualGuardianship::Unknown {
        if file.father.is_unknown() {
            out.push("父亲目前情况");
        }
        if file.mother.is_unknown() {
            out.push("母亲目前情况");
        }
    }
    // A decided "no" needs nothing more: a non-rural hukou, or a parent caring at home.
    let decided_no = file.hukou_rural == Some(false)
        || file.actual_guardianship() == ActualGuardianship::ParentAtHome;
    if decided_no { Vec::new() } else { out }
}

pub fn assess(file: &ChildFile, reference_date: NaiveDate) -> Eligibility {
    let age = age_on(file.birth_date, reference_date);
    let mut conditions = Vec::with_capacity(3);
    conditions.push(Condition {
        met: (0..16).contains(&age),
        reason: if age < 0 {
            "参考日期早于出生日期".to_owned()
        } else if age < 16 {
            format!("{age}周岁，不满16周岁")
        } else {
            format!("已满16周岁（{age}周岁）")
        },
    });
    conditions.push(Condition {
        met: file.hukou_rural == Some(true),
        reason: match file.hukou_rural {
            Some(true) => "农村户籍".to_owned(),
            Some(false) => "非农村户籍".to_owned(),
            None => "户籍性质未填写".to_owned(),
        },
    });
    let (met, reason) = match file.actual_guardianship() {
        ActualGuardianship::BothAway => (true, "父母双方外出务工".to_owned()),
        ActualGuardianship::OneAwayOtherUnable(which) => {
            let (away, other) = match which {
                WhichParent::Father => ("母亲", &file.father),
                WhichParent::Mother => ("父亲", &file.mother),
            };
            let why = match (other.status, other.situation) {
                (crate::child::KinStatus::Deceased, _) => "已故",
                (_, Some(s)) if s != crate::child::ParentSituation::Incapable => s.label(),
                _ => "无监护能力",
            };
            (true, format!("{away}外出务工，{}{why}", which.label()))
        }
        ActualGuardianship::ParentAtHome => (
            false,
            "父母至少一方在家且有监护能力，或未外出务工".to_owned(),
        ),
        ActualGuardianship::Unknown => (false, "父母目前情况不详".to_owned()),
    };
    conditions.push(Condition { met, reason });
    Eligibility {
        reference_date,
        age,
        age_band: AgeBand::of_age(age),
        qualifies: conditions.iter().all(|c| c.met),
        conditions,
        missing: missing_facts(file),
        ages_out_on: sixteenth_birthday(file.birth_date),
    }
}

code_enum! {
    /// 重点对象 flags: the derived ones and the manual ones (龙里 003 二; 沈阳 002 三).
    pub enum KeyTargetFlag {
        Unsupervised = ("unsupervised", "无人监护"),
        LivingAlone = ("living_alone", "单独居住"),
        ParentIncapable = ("parent_incapable", "父或母无监护能力"),
        EntrustedInsufficient = ("entrusted_insufficient", "受委托监护人监护能力不足"),
        DroppedOut = ("dropped_out", "失学辍学"),
        NotInSchool = ("not_in_school", "不在学"),
        NoHukou = ("no_hukou", "无户籍"),
        Disabled = ("disabled", "残疾"),
        SeriouslyIll = ("seriously_ill", "重病"),
        Hardship = ("hardship", "生活困难"),
        Withdrawn = ("withdrawn", "性格孤僻"),
        BadTendencies = ("bad_tendencies", "不良倾向"),
        Victimised = ("victimised", "遭受侵害"),
    }
}

impl KeyTargetFlag {
    /// Bit for the stored flag mask (filterable in SQL).
    pub fn bit(self) -> i64 {
        1 << (Self::ALL.iter().position(|f| *f == self).expect("in ALL") as i64)
    }
    pub fn from_mask(mask: i64) -> Vec<KeyTargetFlag> {
        Self::ALL
            .iter()
            .copied()
            .filter(|f| mask & f.bit() != 0)
            .collect()
    }
}

impl From<ManualFlag> for KeyTargetFlag {
    fn from(value: ManualFlag) -> Self {
        match value {
            ManualFlag::Withdrawn => KeyTargetFlag::Withdrawn,
            ManualFlag::BadTendencies => KeyTargetFlag::BadTendencies,
            ManualFlag::Victimised => KeyTargetFlag::Victimised,
        }
    }
}

/// A flag and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagReason {
    pub flag: KeyTargetFlag,
    /// False for flags set by hand.
    pub derived: bool,
    pub because: String,
}

/// The key-target flags of a file, derived from its facts where the facts decide them.
pub fn key_target_flags(file: &ChildFile) -> Vec<FlagReason> {
    let mut out = Vec::new();
    let mut derived = |flag, because: &str| {
        out.push(FlagReason {
            flag,
            derived: true,
            because: because.to_owned(),
        })
    };
    // From stated facts only: a parent left blank may be at home. With both parents stated to
    // be away, a carer nobody named is a child to look at (a safety flag errs towards a visit),
    // and the reason says it is not known rather than that there is none.
    let nobody_home = !file.father.capable_at_home()
        && !file.mother.capable_at_home()
        && !file.father.is_unknown()
        && !file.mother.is_unknown();
    if file.guardianship_type == Some(GuardianshipType::Unsupervised) {
        derived(KeyTargetFlag::Unsupervised, "监护类型为“无人监护”");
    } else if nobody_home && file.entrusted() == Some(false) {
        derived(
            KeyTargetFlag::Unsupervised,
            "父母均不在家且未委托其他监护人",
        );
    } else if nobody_home && file.entrusted().is_none() {
        derived(
            KeyTargetFlag::Unsupervised,
            "父母均不在家，未说明是否委托其他监护人（待核实）",
        );
    }
    if file.living_alone == Some(true) {
        derived(KeyTargetFlag::LivingAlone, "登记为脱离监护单独居住");
    }
    if file.guardianship_type == Some(GuardianshipType::ParentIncapable) {
        derived(
            KeyTargetFlag::ParentIncapable,
            "监护类型为“父或母无监护能力”",
        );
    } else if file.father.status == crate::child::KinStatus::Alive
        && file.father.situation == Some(crate::child::ParentSituation::Incapable)
    {
        derived(KeyTargetFlag::ParentIncapable, "父亲在家但无监护能力");
    } else if file.mother.status == crate::child::KinStatus::Alive
        && file.mother.situation == Some(crate::child::ParentSituation::Incapable)
    {
        derived(KeyTargetFlag::ParentIncapable, "母亲在家但无监护能力");
    }
    if file.guardianship_type == Some(GuardianshipType::EntrustedInsufficient) {
        derived(
            KeyTargetFlag::EntrustedInsufficient,
            "监护类型为“受委托监护人监护能力不足”",
        );
    }
    match file.schooling {
        Some(Schooling::DroppedOut) => derived(KeyTargetFlag::DroppedOut, "就学情况为“辍学”"),
        Some(Schooling::NotInSchool) => derived(KeyTargetFlag::NotInSchool, "就学情况为“不在学”"),
        _ => {}
    }
    // Only a stated "未登记户口" makes the flag (龙里 003 五(四)); a blank, or a missing ID number,
    // says nothing.
    if file.hukou_registered == Some(false) {
        derived(KeyTargetFlag::NoHukou, "未登记户口");
    }
    match file.health.status {
        Some(HealthStatus::Disabled) => derived(KeyTargetFlag::Disabled, "身体情况为“残疾”"),
        Some(HealthStatus::Ill) => derived(KeyTargetFlag::SeriouslyIll, "患有重特大疾病"),
        Some(HealthStatus::Healthy) | None => {}
    }
    if file.assistance.contains(&Assistance::Dibao) {
        derived(KeyTargetFlag::Hardship, "家庭享受低保");
    } else if file.assistance.contains(&Assistance::ExtremePoverty) {
        derived(KeyTargetFlag::Hardship, "特困供养");
    }
    // A stated harm (困境儿童's third category) is what 遭受侵害 marks, unless a person marked it.
    if !file.harm.is_empty() && !file.manual_flags.contains(&ManualFlag::Victimised) {
        let harms: Vec<&str> = file.harm.iter().map(|h| h.label()).collect();
        derived(KeyTargetFlag::Victimised, &harms.join("、"));
    }
    for m in &file.manual_flags {
        out.push(FlagReason {
            flag: (*m).into(),
            derived: false,
            because: "人工标记".to_owned(),
        });
    }
    out
}

pub fn flag_mask(flags: &[FlagReason]) -> i64 {
    flags.iter().fold(0, |m, f| m | f.flag.bit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child::{KinStatus, ParentSituation};
    use crate::input::{ChildInput, ParseContext};
    use crate::region::Divisions;
    use crate::sample::left_behind_boy;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn parse(i: &ChildInput) -> ChildFile {
        i.parse(&ParseContext {
            today: ymd(2026, 11, 24),
            divisions: Divisions::shipped(),
        })
        .unwrap()
    }

    #[test]
    fn health_boarding_and_living_alone_left_blank_are_unknown_not_healthy_or_no() {
        let mut i = left_behind_boy("522730001001", ymd(2016, 7, 31));
        i.health = None;
        i.boarding = None;
        i.living_alone = None;
        let f = parse(&i);
        assert_eq!(f.health.status, None);
        assert_eq!((f.boarding, f.living_alone), (None, None));
        let missing = missing_fields(&f);
        for label in ["身体情况", "是否学校寄宿", "是否脱离监护单独居住"] {
            assert!(missing.contains(&label), "{label}: {missing:?}");
        }
        // The definition does not need them: the file qualifies, on the 待补充 list.
        assert_eq!(completeness(&f), 1);
        assert!(qualifies_except_age(&f));
        // No flag is derived from what nobody said, and the 汇总表 cannot place the child.
        assert!(key_target_flags(&f).is_empty());
        assert_eq!(crate::summary_table::unplaced(&f), Some("身体情况"));
        // Stated, they count: 单独居住 is a key target.
        i.living_alone = Some("是".into());
        assert!(!key_target_flags(&parse(&i)).is_empty());
    }

    /// The sample boy (father and mother away for work) with the mother's column left blank.
    fn mother_blank() -> ChildInput {
        let mut i = left_behind_boy("522730001001", ymd(2016, 7, 31));
        i.mother_status = None;
        i.mother_name = None;
        i.mother_birth_date = None;
        i.mother_id_number = None;
        i.mother_situation = None;
        i.mother_work_place = None;
        i.mother_phone = None;
        i
    }

    #[test]
    fn a_parent_left_blank_is_not_unable_to_care() {
        let file = parse(&mother_blank());
        assert_eq!(file.mother.status, KinStatus::Unknown);
        assert!(!file.mother.unable_to_care());
        assert!(file.mother.is_unknown());
    }

    #[test]
    fn one_parent_away_and_the_other_blank_waits_on_the_incomplete_list() {
        let file = parse(&mother_blank());
        assert_eq!(file.actual_guardianship(), ActualGuardianship::Unknown);
        assert!(!qualifies_except_age(&file));
        assert_eq!(Definition::of(&file), Definition::Undecided);
        let e = assess(&file, ymd(2026, 11, 24));
        assert!(!e.qualifies);
        assert_eq!(e.missing, vec!["母亲目前情况"]);
        assert!(e.summary().starts_with("信息不全"), "{}", e.summary());
    }

    #[test]
    fn a_living_parent_whose_situation_is_blank_is_unknown_not_an_error() {
        let mut i = left_behind_boy("522730001001", ymd(2016, 7, 31));
        i.mother_situation = None;
        i.mother_work_place = None;
        let file = parse(&i);
        assert_eq!(file.mother.status, KinStatus::Alive);
        assert_eq!(Definition::of(&file), Definition::Undecided);
    }

    #[test]
    fn a_deceased_or_missing_parent_beside_one_away_for_work_is_left_behind() {
        // 龙里 003 四: 无法与父母正常共同生活.
        let mut dead = mother_blank();
        dead.mother_status = Some("已故".into());
        let file = parse(&dead);
        assert_eq!(Definition::of(&file), Definition::Met);
        assert!(
            assess(&file, ymd(2026, 11, 24))
                .summary()
                .contains("母亲已故")
        );

        let mut gone = left_behind_boy("522730001001", ymd(2016, 7, 31));
        gone.mother_situation = Some("失联".into());
        gone.mother_work_place = None;
        let file = parse(&gone);
        assert_eq!(file.mother.situation, Some(ParentSituation::Missing));
        assert_eq!(Definition::of(&file), Definition::Met);
    }

    #[test]
    fn a_parent_caring_at_home_decides_not_left_behind_whatever_the_other() {
        let mut i = mother_blank();
        i.father_situation = Some("在家".into());
        i.father_work_place = None;
        let file = parse(&i);
        assert_eq!(Definition::of(&file), Definition::NotMet);
        assert!(missing_facts(&file).is_empty());
    }

    #[test]
    fn parents_left_blank_do_not_make_a_child_unsupervised() {
        let mut i = mother_blank();
        i.father_status = None;
        i.father_name = None;
        i.father_birth_date = None;
        i.father_situation = None;
        i.father_work_place = None;
        i.father_phone = None;
        i.entrusted = None;
        i.guardian_name = None;
        i.guardian_phone = None;
        i.guardian_relation = None;
        i.guardian_address = None;
        let file = parse(&i);
        assert!(
            !key_target_flags(&file)
                .iter()
                .any(|f| f.flag == KeyTargetFlag::Unsupervised),
            "{:?}",
            key_target_flags(&file)
        );
        assert_eq!(Definition::of(&file), Definition::Undecided);
    }

    #[test]
    fn rural_hukou_is_not_assumed_when_left_blank() {
        // 沈阳 002 一: the definition requires 农村户籍.
        let mut i = left_behind_boy("522730001001", ymd(2016, 7, 31));
        i.hukou_rural = None;
        let file = parse(&i);
        assert_eq!(file.hukou_rural, None);
        assert_eq!(Definition::of(&file), Definition::Undecided);
        assert_eq!(missing_facts(&file), vec!["户籍性质（是否农村户籍）"]);

        i.hukou_rural = Some("否".into());
        let file = parse(&i);
        assert_eq!(Definition::of(&file), Definition::NotMet);
        assert!(missing_facts(&file).is_empty());
    }

    #[test]
    fn a_missing_id_number_does_not_mean_no_hukou() {
        let mut i = left_behind_boy("522730001001", ymd(2016, 7, 31));
        i.id_number = None;
        i.hukou_registered = None;
        let file = parse(&i);
        assert_eq!(file.hukou_registered, None);
        assert!(
            !key_target_flags(&file)
                .iter()
                .any(|f| f.flag == KeyTargetFlag::NoHukou)
        );
        // Only a stated 未登记户口 makes the flag.
        i.hukou_registered = Some("否".into());
        let file = parse(&i);
        assert!(
            key_target_flags(&file)
                .iter()
                .any(|f| f.flag == KeyTargetFlag::NoHukou)
        );
    }
}
