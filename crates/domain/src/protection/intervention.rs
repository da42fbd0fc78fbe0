//! Guardianship intervention: the measures in the law's order and their stages; the grounds for revoking a guardian's qualification.

use super::*;

code_enum! {
    /// The measures of guardianship intervention, in the law's order of severity (未成年人保护法 Art.
    /// 108, 118; 反家庭暴力法 告诫书 and 人身安全保护令; 民法典 Art. 36 撤销监护资格).
    pub enum Measure {
        CriticismEducation = ("criticism_education", "批评教育"),
        Admonition = ("admonition", "训诫"),
        WarningLetter = ("warning_letter", "告诫书"),
        ProtectionOrder = ("protection_order", "人身安全保护令"),
        AdministrativePenalty = ("administrative_penalty", "行政处罚"),
        CriminalReferral = ("criminal_referral", "移送追究刑事责任"),
        Revocation = ("revocation", "撤销监护资格"),
    }
}

code_enum! {
    /// A step a measure goes through. Which steps a measure has, and in which order:
    /// [`Measure::stages`].
    pub enum Stage {
        Done = ("done", "已实施"),
        Issued = ("issued", "已出具"),
        Served = ("served", "已送达"),
        VillageTold = ("village_told", "已告知村（居）委会"),
        FollowUp = ("follow_up", "入户跟踪查访"),
        Applied = ("applied", "已申请"),
        Granted = ("granted", "已裁定"),
        Breached = ("breached", "违反保护令"),
        Filed = ("filed", "已立案"),
        Heard = ("heard", "已开庭"),
        Judged = ("judged", "已判决"),
        NewGuardian = ("new_guardian", "已指定新监护人"),
    }
}

code_enum! {
    /// Why a guardian's qualification is revoked (民法典 Art. 36).
    pub enum RevocationGround {
        SeriousHarm = ("serious_harm", "实施严重损害被监护人身心健康的行为"),
        NeglectInDanger = ("neglect_in_danger", "怠于履行监护职责，或者无法履行监护职责且拒绝将监护职责部分或者全部委托给他人，导致被监护人处于危困状态"),
        OtherInfringement = ("other_infringement", "实施严重侵害被监护人合法权益的其他行为"),
    }
}

/// Whom a recorded measure tells beyond the case's timeline, each with what they are asked to do:
/// - a served 告诫书 or 人身保护令 tells the village committee (to follow up at home, to help enforce
///   it), and a breach of a 保护令 tells the police and the town (有关部门) (内蒙古 001 四(四));
/// - 批评教育 of a guardian who abandoned a child and was spared a penalty as too minor is
///   "通报当地村(居)民委员会" (沈阳 002 一9; 龙里 003 五(一)3 严惩遗弃行为).
pub fn who_is_told(
    measure: Measure,
    stage: Stage,
    situations: &[crate::protection::Situation],
) -> Vec<(crate::authz::Role, &'static str)> {
    use crate::authz::Role::*;
    match (measure, stage) {
        (Measure::WarningLetter | Measure::ProtectionOrder, Stage::Served) => vec![(
            Village,
            "该文书已送达当事人。请村（居）民委员会做好入户跟踪查访，协助落实执行；发现不能落实的，及时报告。",
        )],
        (Measure::ProtectionOrder, Stage::Breached) => {
            let body = "村（居）委会报告：一名儿童的人身安全保护令未得到遵守，请及时处置。";
            vec![(Police, body), (Town, body)]
        }
        (Measure::CriticismEducation, _)
            if situations.contains(&crate::protection::Situation::Abandoned) =>
        {
            vec![(
                Village,
                "公安机关对遗弃儿童的监护人给予了批评教育，现通报村（居）民委员会，请加强对该儿童的关注和走访。",
            )]
        }
        _ => vec![],
    }
}

impl Measure {
    /// The steps of a measure in order; the last of a list may repeat (follow-up visits,
    /// breaches).
    pub fn stages(self) -> &'static [Stage] {
        use Stage::*;
        match self {
            Measure::CriticismEducation | Measure::Admonition | Measure::AdministrativePenalty => {
                &[Done]
            }
            // Referred by the police, received (受理) by the procuratorate, decided by the court.
            Measure::CriminalReferral => &[Done, Filed, Judged],
            Measure::WarningLetter => &[Issued, Served, VillageTold, FollowUp],
            Measure::ProtectionOrder => &[Applied, Granted, Served, Breached],
            Measure::Revocation => &[Applied, Filed, Heard, Judged, NewGuardian],
        }
    }

    /// Who records it: the police admonish, warn and refer (反家庭暴力法; 景洪 000 三(二)5 训诫);
    /// civil affairs apply for protection orders and revocations (民法典 Art. 36: 民政 must apply when
    /// nobody else does) and educate; both record what a court decided.
    pub fn recorded_by(self, stage: Stage, role: crate::authz::Role) -> bool {
        use crate::authz::Role::*;
        let civil = matches!(role, Town | County | CountyAdmin);
        // What the court and the procuratorate decide, they record on the cases sent to them.
        match (self, stage) {
            (Measure::ProtectionOrder, Stage::Granted)
            | (Measure::Revocation, Stage::Filed | Stage::Heard | Stage::Judged)
            | (Measure::CriminalReferral, Stage::Judged) => return role == Court || civil,
            (Measure::CriminalReferral, Stage::Filed) => return role == Procuratorate,
            // The village's part (内蒙古 001 四(四)): told of a served 告诫书, it does the 入户跟踪
            // 查访; it helps enforce a 人身保护令 and reports when it is not kept.
            (Measure::WarningLetter, Stage::FollowUp)
            | (Measure::ProtectionOrder, Stage::Breached) => {
                return role == Village || role == Police || civil;
            }
            _ => {}
        }
        match self {
            Measure::CriticismEducation => civil || role == Police,
            Measure::Admonition | Measure::WarningLetter | Measure::CriminalReferral => {
                role == Police
            }
            Measure::AdministrativePenalty => role == Police,
            Measure::ProtectionOrder | Measure::Revocation => civil || role == Police,
        }
    }
}

/// Whether `next` may follow the stages already recorded for one measure: the first stage
/// first, then each in order; the last may repeat (another follow-up visit, another breach).
pub fn next_stage(measure: Measure, done: &[Stage], next: Stage) -> Result<(), String> {
    let stages = measure.stages();
    let Some(pos) = stages.iter().position(|s| *s == next) else {
        return Err(format!("“{}”没有“{}”这一步", measure.label(), next.label()));
    };
    let reached = done
        .iter()
        .filter_map(|d| stages.iter().position(|s| s == d))
        .max();
    let last = stages.len() - 1;
    match reached {
        None if pos == 0 => Ok(()),
        Some(r) if pos == r + 1 => Ok(()),
        Some(r) if pos == r && r == last && stages.len() > 1 => Ok(()),
        None => Err(format!("请先记录“{}”", stages[0].label())),
        Some(r) if pos <= r => Err(format!("“{}”已记录", next.label())),
        Some(r) => Err(format!("请先记录“{}”", stages[r + 1].label())),
    }
}

/// What a case records that bears on revoking a guardian's qualification.
#[derive(Debug, Clone, Default)]
pub struct GuardianshipFacts {
    /// Since when a temporary guardianship has run without the parents taking the child back.
    pub placement_since: Option<NaiveDate>,
    /// A personal safety protection order was breached.
    pub protection_order_breached: bool,
    /// The guardian was referred for criminal liability.
    pub criminal_referral: bool,
    /// A revocation was applied for already.
    pub revocation_applied: bool,
    /// Since when the parents' contact log records neither contact nor support
    /// (`guardianship::silent_since`).
    pub parents_silent_since: Option<NaiveDate>,
}

/// Days after which the parents' failure is a ground by itself: 武清 004 二(一)1 监护人拒不履行监护职责
/// 六个月以上导致农村留守儿童生活无着的 … 要依法向人民法院申请撤销监护人资格. 180 days is never later than
/// six calendar months, so civil affairs is reminded no later than the seed requires.
pub const NEGLECT_DAYS: i64 = 180;

/// The grounds of 民法典 Art. 36 the recorded facts meet, each with why — so that civil affairs,
/// which must apply when nobody else does, is reminded. Nothing when a revocation was applied for.
pub fn revocation_grounds(
    facts: &GuardianshipFacts,
    today: NaiveDate,
) -> Vec<(RevocationGround, String)> {
    if facts.revocation_applied {
        return vec![];
    }
    let mut out = Vec::new();
    if let Some(since) = facts.placement_since
        && (today - since).num_days() >= NEGLECT_DAYS
    {
        out.push((
            RevocationGround::NeglectInDanger,
            format!(
                "临时监护已持续{}天，父母仍未履行监护职责",
                (today - since).num_days()
            ),
        ));
    }
    if let Some(since) = facts.parents_silent_since
        && (today - since).num_days() >= NEGLECT_DAYS
    {
        out.push((
            RevocationGround::NeglectInDanger,
            format!(
                "父母已{}天未与儿童联系，也未给付生活费用",
                (today - since).num_days()
            ),
        ));
    }
    if facts.protection_order_breached {
        out.push((
            RevocationGround::SeriousHarm,
            "监护人违反人身安全保护令".to_owned(),
        ));
    }
    if facts.criminal_referral {
        out.push((
            RevocationGround::OtherInfringement,
            "监护人已被移送追究刑事责任".to_owned(),
        ));
    }
    out
}
