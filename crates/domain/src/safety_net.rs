//! 兜底保障: what the safety net owes a child by the facts of the file (龙里 003 五(五)2–3). Each is
//! said with the facts it rests on; where the plan needs a fact the form does not keep (无劳动能力、
//! 无生活来源), the child is named for verification, not declared eligible.

use serde::Serialize;

use crate::child::{Assistance, ChildFile, DisabilityGrade, HealthStatus, KinStatus, Parent};
use crate::child::{IncapacityReason, ParentSituation};
use crate::code_enum;

code_enum! {
    /// A measure of 龙里 003 五(五).
    pub enum Benefit {
        /// 五(五)2: 无劳动能力、无生活来源、法定抚养人无抚养能力的未满16周岁儿童，纳入特困人员救助供养范围.
        ExtremePoverty = ("extreme_poverty_support", "纳入特困人员救助供养"),
        /// 五(五)3 三: 纳入特困人员救助供养范围的儿童参加城乡居民基本医疗保险按规定给予全额资助.
        InsuranceFullyPaid = ("insurance_fully_paid", "城乡居民医保全额资助"),
        /// 五(五)3 二: 最低生活保障家庭儿童、重度残疾儿童参加城乡居民基本医疗保险的个人缴费部分按规定给予补贴.
        InsuranceSubsidy = ("insurance_subsidy", "城乡居民医保个人缴费补贴"),
        /// 五(五)3 一: 已参加城乡基本医疗保险的重病、重残贫困留守儿童，实行大病保险倾斜性支付政策.
        SeriousIllnessInsurance = ("serious_illness_insurance", "大病保险倾斜性支付"),
    }
}

/// One measure the facts call for, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entitlement {
    pub benefit: Benefit,
    pub reason: String,
    /// The file does not state everything the measure needs: to be verified, not granted.
    pub to_verify: bool,
}

/// A parent who cannot raise the child by what the file states: dead, or alive and missing,
/// deprived of liberty, or at home without capacity.
fn cannot_raise(p: &Parent) -> bool {
    match p.status {
        KinStatus::Deceased => true,
        KinStatus::Unknown => false,
        KinStatus::Alive => matches!(
            p.situation,
            Some(
                ParentSituation::Incapable
                    | ParentSituation::Missing
                    | ParentSituation::Imprisoned
                    | ParentSituation::CompulsoryRehab
                    | ParentSituation::Restricted
            )
        ),
    }
}

/// 重度残疾: 一级 or 二级 (残疾人证的等级).
fn severely_disabled(file: &ChildFile) -> bool {
    file.health.status == Some(HealthStatus::Disabled)
        && matches!(
            file.health.disability_grade,
            Some(DisabilityGrade::One | DisabilityGrade::Two)
        )
}

/// The measures of 龙里 003 五(五)2–3 the file's facts call for.
pub fn of(file: &ChildFile) -> Vec<Entitlement> {
    let mut out = Vec::new();
    let te_kun = file.assistance.contains(&Assistance::ExtremePoverty);
    let dibao = file.assistance.contains(&Assistance::Dibao);
    if te_kun {
        out.push(Entitlement {
            benefit: Benefit::InsuranceFullyPaid,
            reason: "已纳入特困人员救助供养".to_owned(),
            to_verify: false,
        });
    } else if cannot_raise(&file.father) && cannot_raise(&file.mother) {
        // The form keeps neither 劳动能力 nor 生活来源 as such: named for the town to verify.
        let why = |p: &Parent, who: &str| match (p.status, p.situation, p.incapacity) {
            (KinStatus::Deceased, _, _) => format!("{who}已故"),
            (_, Some(ParentSituation::Incapable), Some(r)) if r != IncapacityReason::Other => {
                format!("{who}{}", r.label())
            }
            (_, Some(s), _) => format!("{who}{}", s.label()),
            _ => who.to_owned(),
        };
        out.push(Entitlement {
            benefit: Benefit::ExtremePoverty,
            reason: format!(
                "法定抚养人无抚养能力（{}、{}），请核实有无生活来源",
                why(&file.father, "父亲"),
                why(&file.mother, "母亲")
            ),
            to_verify: true,
        });
    }
    if !te_kun && (dibao || severely_disabled(file)) {
        out.push(Entitlement {
            benefit: Benefit::InsuranceSubsidy,
            reason: if dibao {
                "最低生活保障家庭儿童".to_owned()
            } else {
                "重度残疾儿童".to_owned()
            },
            to_verify: false,
        });
    }
    let seriously = file.health.status == Some(HealthStatus::Ill) || severely_disabled(file);
    if seriously && (dibao || te_kun) {
        out.push(Entitlement {
            benefit: Benefit::SeriousIllnessInsurance,
            reason: format!(
                "{}且家庭贫困（{}）",
                if severely_disabled(file) {
                    "重度残疾"
                } else {
                    "患重病"
                },
                if te_kun { "特困供养" } else { "低保" }
            ),
            to_verify: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::input::{ChildInput, ParseContext};
    use crate::region::Divisions;
    use crate::sample::left_behind_boy;

    fn file(edit: impl FnOnce(&mut ChildInput)) -> ChildFile {
        let mut i = left_behind_boy(
            "522730001001",
            NaiveDate::from_ymd_opt(2016, 7, 31).unwrap(),
        );
        edit(&mut i);
        i.parse(&ParseContext {
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            divisions: Divisions::shipped(),
        })
        .unwrap()
    }

    fn benefits(f: &ChildFile) -> Vec<Benefit> {
        of(f).into_iter().map(|e| e.benefit).collect()
    }

    #[test]
    fn a_child_whose_parents_cannot_raise_it_is_named_for_te_kun_support_to_verify() {
        let f = file(|i| {
            i.father_situation = Some("服刑在押".into());
            i.father_work_place = None;
            i.mother_status = Some("已故".into());
            i.mother_situation = None;
            i.mother_work_place = None;
        });
        let e = of(&f);
        assert_eq!(e[0].benefit, Benefit::ExtremePoverty);
        assert!(e[0].to_verify);
        assert!(
            e[0].reason.contains("父亲服刑在押、母亲已故"),
            "{}",
            e[0].reason
        );
        // Parents away for work can raise the child: nothing.
        assert!(of(&file(|_| {})).is_empty());
    }

    #[test]
    fn te_kun_children_have_their_insurance_paid_in_full_dibao_and_severe_disability_subsidised() {
        let t = file(|i| i.assistance = Some(vec!["特困供养".into()]));
        assert_eq!(benefits(&t), [Benefit::InsuranceFullyPaid]);
        let d = file(|i| i.assistance = Some(vec!["享受低保".into()]));
        assert_eq!(benefits(&d), [Benefit::InsuranceSubsidy]);
        let severe = file(|i| {
            i.health = Some("残疾".into());
            i.disability_category = Some("肢体残疾".into());
            i.disability_grade = Some("二级".into());
        });
        assert_eq!(benefits(&severe), [Benefit::InsuranceSubsidy]);
        // 三级 is not 重度.
        let mild = file(|i| {
            i.health = Some("残疾".into());
            i.disability_category = Some("肢体残疾".into());
            i.disability_grade = Some("三级".into());
        });
        assert!(benefits(&mild).is_empty());
    }

    #[test]
    fn a_poor_seriously_ill_child_gets_the_serious_illness_insurance_terms() {
        let f = file(|i| {
            i.assistance = Some(vec!["享受低保".into()]);
            i.health = Some("患病".into());
            i.illness = Some("白血病".into());
        });
        assert_eq!(
            benefits(&f),
            [Benefit::InsuranceSubsidy, Benefit::SeriousIllnessInsurance]
        );
        // Ill without a stated poverty: not this measure.
        let g = file(|i| {
            i.health = Some("患病".into());
            i.illness = Some("白血病".into());
        });
        assert!(benefits(&g).is_empty());
    }
}
