//! The populations the plans protect, each derived from the facts of one child file, with its
//! reasons (issue 27). One registry holds them all: a file may belong to more than one.
//!
//! - 农村留守儿童: the left-behind definition ([`crate::eligibility::assess`]), unchanged.
//! - 困境儿童 by category (国发〔2016〕36号 as issue 27 quotes it; domain-research §2.1; 龙里 003
//!   from its title on, "留守儿童困境儿童留守老人关爱救助"; 景洪 000 三(二)1): 因家庭贫困导致生活、
//!   就医、就学困难 (stated as 低保 or 特困供养, the same facts as the 生活困难 flag; 龙里 003
//!   五(五)3); 因自身残疾导致康复、照料、护理和社会融入困难 (身体情况 残疾); 因家庭监护缺失或监护
//!   不当遭受虐待、遗弃、意外伤害、不法侵害 (a harm a person stated, [`crate::child::Harm`]).
//! - 事实无人抚养儿童 (民发〔2019〕62号 as issue 27 lists it): both parents — or one, the other dead
//!   — 重残、重病、服刑在押、强制隔离戒毒、被执行其他限制人身自由的措施 or 失联.
//!
//! A blank is unknown, never a fact: a file that does not state poverty, disability or harm is
//! "未认定" for 困境儿童, not "不属于"; a parent left blank leaves 事实无人抚养 undecided (with the
//! facts it needs), not refused. Every population of the registry covers children under 16, the
//! registry's range (国发〔2016〕13号); 36号 and 62号 count children under 18, which the registry
//! does not keep yet.

use serde::Serialize;

use crate::child::{Assistance, ChildFile, HealthStatus, IncapacityReason, KinStatus, Parent};
use crate::child::{ParentSituation, WhichParent};
use crate::code_enum;
use crate::eligibility::Eligibility;

code_enum! {
    /// A population of the registry.
    pub enum Population {
        LeftBehind = ("left_behind", "农村留守儿童"),
        InDifficulty = ("in_difficulty", "困境儿童"),
        DeFactoUnsupported = ("de_facto_unsupported", "事实无人抚养儿童"),
    }
}

/// One population a child belongs to, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    pub code: Population,
    pub reasons: Vec<String>,
}

/// Bits of the stored, age-free mask (`children.populations`): the three categories of 困境儿童,
/// then 事实无人抚养 met, then undecided. The SQL of the lists tests them as literals.
pub const POVERTY: i64 = 1;
pub const DISABILITY: i64 = 2;
pub const HARM: i64 = 4;
/// Any category of 困境儿童.
pub const IN_DIFFICULTY: i64 = POVERTY | DISABILITY | HARM;
pub const DE_FACTO: i64 = 8;
pub const DE_FACTO_UNDECIDED: i64 = 16;

/// What one parent's facts say for 事实无人抚养.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Alive and unable, for a reason 62号 names.
    Unable(&'static str),
    Dead,
    /// Alive and not unable for a named reason (at home, away for work, incapable for another
    /// reason).
    Not,
    /// Nothing stated that decides it.
    Unknown,
}

fn standing(p: &Parent) -> Standing {
    match p.status {
        KinStatus::Deceased => Standing::Dead,
        KinStatus::Unknown => Standing::Unknown,
        KinStatus::Alive => match p.situation {
            None => Standing::Unknown,
            Some(ParentSituation::AtHome | ParentSituation::AwayForWork) => Standing::Not,
            Some(ParentSituation::Incapable) => match p.incapacity {
                Some(IncapacityReason::SeriousIllness) => Standing::Unable("重病"),
                Some(IncapacityReason::SevereDisability) => Standing::Unable("重残"),
                Some(IncapacityReason::Other) => Standing::Not,
                None => Standing::Unknown,
            },
            Some(s @ ParentSituation::Missing)
            | Some(
                s @ (ParentSituation::Imprisoned
                | ParentSituation::CompulsoryRehab
                | ParentSituation::Restricted),
            ) => Standing::Unable(s.label()),
        },
    }
}

/// 事实无人抚养: `Some(Ok(reasons))` a member, `Some(Err(missing))` undecided with the facts it
/// needs, `None` not a member (a parent who can care or who is away for work, or both parents
/// dead — a 孤儿, another population).
fn de_facto(file: &ChildFile) -> Option<Result<Vec<String>, Vec<String>>> {
    let parents = [
        (WhichParent::Father, standing(&file.father)),
        (WhichParent::Mother, standing(&file.mother)),
    ];
    let any = |f: fn(&Standing) -> bool| parents.iter().any(|(_, s)| f(s));
    if any(|s| *s == Standing::Not) || parents.iter().all(|(_, s)| *s == Standing::Dead) {
        return None;
    }
    if any(|s| *s == Standing::Unknown) {
        let missing = parents
            .iter()
            .filter(|(_, s)| *s == Standing::Unknown)
            .map(|(w, _)| format!("{}目前情况", w.label()))
            .collect();
        return Some(Err(missing));
    }
    // Both unable, or one unable and the other dead.
    Some(Ok(parents
        .iter()
        .map(|(w, s)| match s {
            Standing::Unable(why) => format!("{}{why}", w.label()),
            _ => format!("{}已故", w.label()),
        })
        .collect()))
}

/// 困境儿童's categories the file states, with their reasons.
fn in_difficulty(file: &ChildFile) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    if file.assistance.contains(&Assistance::Dibao) {
        out.push((POVERTY, "家庭贫困：享受最低生活保障".to_owned()));
    } else if file.assistance.contains(&Assistance::ExtremePoverty) {
        out.push((POVERTY, "家庭贫困：特困人员救助供养".to_owned()));
    }
    if file.health.status == Some(HealthStatus::Disabled) {
        let detail: Vec<&str> = [
            file.health.disability_category.map(|c| c.label()),
            file.health.disability_grade.map(|g| g.label()),
        ]
        .into_iter()
        .flatten()
        .collect();
        out.push((
            DISABILITY,
            if detail.is_empty() {
                "自身残疾".to_owned()
            } else {
                format!("自身残疾（{}）", detail.join("，"))
            },
        ));
    }
    if !file.harm.is_empty() {
        let harms: Vec<&str> = file.harm.iter().map(|h| h.label()).collect();
        out.push((
            HARM,
            format!("因监护缺失或不当{}", harms.join("、").replace("遭受", "")),
        ));
    }
    out
}

/// The stored mask of a file's populations other than 农村留守儿童 (which is `qualifies`),
/// without the age: the lists add it as a birth-date bound.
pub fn mask(file: &ChildFile) -> i64 {
    let difficulty = in_difficulty(file).iter().fold(0, |m, (bit, _)| m | bit);
    difficulty
        | match de_facto(file) {
            Some(Ok(_)) => DE_FACTO,
            Some(Err(_)) => DE_FACTO_UNDECIDED,
            None => 0,
        }
}

/// The populations other than 农村留守儿童 a stored mask says are established (undecided ones
/// are not).
pub fn members_of_mask(mask: i64) -> Vec<Population> {
    let mut out = Vec::new();
    if mask & IN_DIFFICULTY != 0 {
        out.push(Population::InDifficulty);
    }
    if mask & DE_FACTO != 0 {
        out.push(Population::DeFactoUnsupported);
    }
    out
}

/// The populations the child belongs to on the eligibility's reference date, each with its
/// reasons. Only memberships: a population the facts do not establish is not listed.
pub fn of(file: &ChildFile, eligibility: &Eligibility) -> Vec<Membership> {
    let mut out = Vec::new();
    if eligibility.qualifies {
        out.push(Membership {
            code: Population::LeftBehind,
            reasons: eligibility
                .conditions
                .iter()
                .map(|c| c.reason.clone())
                .collect(),
        });
    }
    if !(0..16).contains(&eligibility.age) {
        return out;
    }
    let difficulty = in_difficulty(file);
    if !difficulty.is_empty() {
        out.push(Membership {
            code: Population::InDifficulty,
            reasons: difficulty.into_iter().map(|(_, r)| r).collect(),
        });
    }
    if let Some(Ok(reasons)) = de_facto(file) {
        out.push(Membership {
            code: Population::DeFactoUnsupported,
            reasons,
        });
    }
    out
}

/// The facts 事实无人抚养 needs that the file leaves blank (empty when it is decided).
pub fn de_facto_missing(file: &ChildFile) -> Vec<String> {
    match de_facto(file) {
        Some(Err(missing)) => missing,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::child::Harm;
    use crate::eligibility::assess;
    use crate::input::{ChildInput, ParseContext};
    use crate::region::Divisions;
    use crate::sample::left_behind_boy;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn file(edit: impl FnOnce(&mut ChildInput)) -> ChildFile {
        let mut i = left_behind_boy("522730001001", ymd(2016, 7, 31));
        edit(&mut i);
        i.parse(&ParseContext {
            today: ymd(2026, 11, 24),
            divisions: Divisions::shipped(),
        })
        .unwrap()
    }

    fn parent(i: &mut ChildInput, which: WhichParent, situation: Option<&str>, why: Option<&str>) {
        let (status, sit, inc, place) = match which {
            WhichParent::Father => (
                &mut i.father_status,
                &mut i.father_situation,
                &mut i.father_incapacity,
                &mut i.father_work_place,
            ),
            WhichParent::Mother => (
                &mut i.mother_status,
                &mut i.mother_situation,
                &mut i.mother_incapacity,
                &mut i.mother_work_place,
            ),
        };
        *place = None;
        match situation {
            Some("deceased") => {
                *status = Some("deceased".into());
                *sit = None;
            }
            s => {
                *status = Some("alive".into());
                *sit = s.map(Into::into);
            }
        }
        *inc = why.map(Into::into);
    }

    fn codes(f: &ChildFile) -> Vec<Population> {
        of(f, &assess(f, ymd(2026, 12, 1)))
            .into_iter()
            .map(|m| m.code)
            .collect()
    }

    #[test]
    fn both_parents_imprisoned_or_one_dead_the_other_in_rehab_is_de_facto_unsupported() {
        let both = file(|i| {
            parent(i, WhichParent::Father, Some("imprisoned"), None);
            parent(i, WhichParent::Mother, Some("服刑在押"), None);
        });
        assert_eq!(mask(&both), DE_FACTO);
        let m = of(&both, &assess(&both, ymd(2026, 12, 1)));
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].code, Population::DeFactoUnsupported);
        assert_eq!(m[0].reasons, ["父亲服刑在押", "母亲服刑在押"]);
        let dead_and_rehab = file(|i| {
            parent(i, WhichParent::Father, Some("deceased"), None);
            parent(i, WhichParent::Mother, Some("compulsory_rehab"), None);
        });
        assert_eq!(codes(&dead_and_rehab), [Population::DeFactoUnsupported]);
        // 重病 and 失联 are named by 62号 as well; "其他原因" is not.
        let ill_and_missing = file(|i| {
            parent(
                i,
                WhichParent::Father,
                Some("incapable"),
                Some("serious_illness"),
            );
            parent(i, WhichParent::Mother, Some("missing"), None);
        });
        assert_eq!(codes(&ill_and_missing), [Population::DeFactoUnsupported]);
        let other_reason = file(|i| {
            parent(i, WhichParent::Father, Some("incapable"), Some("other"));
            parent(i, WhichParent::Mother, Some("missing"), None);
        });
        assert_eq!(mask(&other_reason) & (DE_FACTO | DE_FACTO_UNDECIDED), 0);
    }

    #[test]
    fn a_parent_at_home_or_away_for_work_is_not_de_facto_unsupported() {
        let away = file(|i| {
            parent(i, WhichParent::Father, Some("away_for_work"), None);
            parent(i, WhichParent::Mother, Some("imprisoned"), None);
            i.father_work_place = Some("440300".into());
        });
        assert_eq!(mask(&away), 0);
        // She is a left-behind child: her father is away and her mother cannot care for her.
        assert_eq!(codes(&away), [Population::LeftBehind]);
        let home = file(|i| {
            parent(i, WhichParent::Father, Some("at_home"), None);
            parent(i, WhichParent::Mother, Some("missing"), None);
        });
        assert_eq!(mask(&home), 0);
        assert!(codes(&home).is_empty());
    }

    #[test]
    fn a_parent_left_blank_leaves_de_facto_undecided() {
        let f = file(|i| {
            parent(i, WhichParent::Father, Some("restricted"), None);
            parent(i, WhichParent::Mother, None, None);
        });
        assert_eq!(mask(&f), DE_FACTO_UNDECIDED);
        assert_eq!(de_facto_missing(&f), ["母亲目前情况"]);
        assert!(codes(&f).is_empty());
        let unknown = file(|i| {
            parent(i, WhichParent::Father, Some("deceased"), None);
            i.mother_status = Some("unknown".into());
            i.mother_situation = None;
            i.mother_work_place = None;
        });
        assert_eq!(mask(&unknown), DE_FACTO_UNDECIDED);
    }

    #[test]
    fn both_parents_dead_is_an_orphan_not_de_facto() {
        let f = file(|i| {
            parent(i, WhichParent::Father, Some("deceased"), None);
            parent(i, WhichParent::Mother, Some("deceased"), None);
        });
        assert_eq!(mask(&f), 0);
        assert!(de_facto_missing(&f).is_empty());
    }

    #[test]
    fn dibao_or_te_kun_is_in_difficulty_by_poverty() {
        let f = file(|i| {
            parent(i, WhichParent::Father, Some("at_home"), None);
            i.assistance = Some(vec!["享受低保".into()]);
        });
        assert_eq!(mask(&f), POVERTY);
        let m = of(&f, &assess(&f, ymd(2026, 12, 1)));
        assert_eq!(m[0].code, Population::InDifficulty);
        assert_eq!(m[0].reasons, ["家庭贫困：享受最低生活保障"]);
        let t = file(|i| i.assistance = Some(vec!["extreme_poverty".into()]));
        assert_eq!(mask(&t), POVERTY);
        // Still left behind as well: one file, two populations.
        assert_eq!(
            codes(&t),
            [Population::LeftBehind, Population::InDifficulty]
        );
        // Temporary aid alone is not a stated 家庭贫困.
        let aid = file(|i| i.assistance = Some(vec!["temporary_aid".into()]));
        assert_eq!(mask(&aid), 0);
    }

    #[test]
    fn a_disabled_child_is_in_difficulty() {
        let f = file(|i| {
            i.health = Some("disabled".into());
            i.disability_category = Some("肢体残疾".into());
            i.disability_grade = Some("二级".into());
        });
        assert_eq!(mask(&f), DISABILITY);
        let m = of(&f, &assess(&f, ymd(2026, 12, 1)));
        assert!(m[1].reasons[0].starts_with("自身残疾（"), "{m:?}");
        // Health left blank is unknown: no category.
        assert_eq!(mask(&file(|i| i.health = None)), 0);
    }

    #[test]
    fn a_stated_harm_is_in_difficulty_a_suspicion_is_not() {
        let f = file(|i| i.harm = Some(vec!["abuse".into(), "遭受遗弃".into()]));
        assert_eq!(f.harm.len(), 2);
        assert!(f.harm.contains(&Harm::Abuse));
        assert_eq!(mask(&f), HARM);
        let m = of(&f, &assess(&f, ymd(2026, 12, 1)));
        assert_eq!(m[1].reasons, ["因监护缺失或不当虐待、遗弃"]);
        // The 遭受侵害 key-target flag follows from it.
        assert!(
            crate::eligibility::key_target_flags(&f)
                .iter()
                .any(|r| r.flag == crate::eligibility::KeyTargetFlag::Victimised && r.derived)
        );
        // Nothing stated: not a member, and no flag.
        let none = file(|_| {});
        assert_eq!(mask(&none), 0);
        assert!(
            !crate::eligibility::key_target_flags(&none)
                .iter()
                .any(|r| r.flag == crate::eligibility::KeyTargetFlag::Victimised)
        );
    }

    #[test]
    fn a_child_of_sixteen_is_in_no_population_of_the_registry() {
        let f = file(|i| i.assistance = Some(vec!["dibao".into()]));
        assert!(codes(&f).contains(&Population::InDifficulty));
        assert!(of(&f, &assess(&f, ymd(2032, 7, 31))).is_empty());
    }

    #[test]
    fn mask_agrees_with_of() {
        let cases = [
            file(|_| {}),
            file(|i| i.assistance = Some(vec!["dibao".into()])),
            file(|i| {
                parent(i, WhichParent::Father, Some("imprisoned"), None);
                parent(i, WhichParent::Mother, Some("deceased"), None);
                i.health = Some("disabled".into());
                i.disability_category = Some("intellectual".into());
                i.disability_grade = Some("1".into());
                i.harm = Some(vec!["accidental_injury".into()]);
            }),
        ];
        for f in &cases {
            let m = mask(f);
            let members = codes(f);
            assert_eq!(
                m & IN_DIFFICULTY != 0,
                members.contains(&Population::InDifficulty)
            );
            assert_eq!(
                m & DE_FACTO != 0,
                members.contains(&Population::DeFactoUnsupported)
            );
        }
    }
}
