//! The emergency response: its steps, their time limits and the playbook of the situations found.

use super::*;

code_enum! {
    /// A step of the emergency response (景洪 000 三(二)5 应急处置机制; 未保法 Art. 92–93).
    pub enum Step {
        OrderParentsBack = ("order_parents_back", "责令父母立即返回或确定受委托监护人"),
        AdmonishParents = ("admonish_parents", "对父母进行训诫"),
        ContactParents = ("contact_parents", "联系父母立即返回或委托其他亲属监护照料"),
        EscortToTemporaryCare = ("escort_to_temporary_care", "联系不上父母的，就近护送至近亲属、村（居）委会或救助管理机构、福利机构临时监护照料"),
        KeepContactingParents = ("keep_contacting_parents", "协助通知父母立即返回或重新确定受委托监护人"),
        StartMissingSearch = ("start_missing_search", "启动失踪儿童快速查找"),
        StopViolence = ("stop_violence", "依法制止家庭暴力"),
        ShelterPlacement = ("shelter_placement", "必要时通知并协助民政部门安置到临时庇护场所、救助管理机构或福利机构"),
        StopHarm = ("stop_harm", "依法制止侵害行为、实施保护"),
        PreserveEvidence = ("preserve_evidence", "固定证据"),
        MedicalTreatment = ("medical_treatment", "送医救治"),
        InjuryAssessment = ("injury_assessment", "伤情鉴定"),
        NotifyTown = ("notify_town", "通报乡镇人民政府（街道办）"),
    }
}

code_enum! {
    /// How a step went. A skipped step says why.
    pub enum StepOutcome {
        Done = ("done", "已完成"),
        Failed = ("failed", "未成功"),
        Skipped = ("skipped", "不适用（跳过）"),
    }
}

code_enum! {
    /// What the police record on a report (强制报告意见 Art. 8: 受案或立案, feedback to the reporting
    /// unit within 3 days of it).
    pub enum PoliceRecord {
        CaseAccepted = ("case_accepted", "受案"),
        CaseFiled = ("case_filed", "立案"),
        Feedback = ("feedback", "向报告人反馈"),
        Transferred = ("transferred", "移送其他机关"),
    }
}

impl Step {
    /// How long after the police received the report a step should be recorded. The seeds ask for
    /// 立即 and 第一时间 without hours (景洪 000 三(二)5; 武清 004 二(五); `domain-research.md` §2.3);
    /// these are Shouwang's defaults: what stops harm or finds a missing child within two hours, the
    /// parents and a carer found and the town told within a day, the rest within three days.
    pub fn time_limit(self) -> Duration {
        use Step::*;
        match self {
            StartMissingSearch | StopViolence | StopHarm | MedicalTreatment => Duration::hours(2),
            OrderParentsBack | ContactParents | EscortToTemporaryCare | NotifyTown => {
                Duration::hours(24)
            }
            AdmonishParents
            | KeepContactingParents
            | ShelterPlacement
            | PreserveEvidence
            | InjuryAssessment => Duration::days(3),
        }
    }
}

/// Whether a step not yet recorded is past its time limit.
pub fn step_overdue(step: Step, received_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now > received_at + step.time_limit()
}

/// Whether a reportable situation found on `found_on` (a visit) was reported the same day: a case
/// of the child opened since the start of that day in China (未成年人保护法 Art. 11 立即; Art. 117:
/// a failure to report is visible). The latest case's opening is enough — any later report counts.
pub fn reported_since(found_on: NaiveDate, last_case_opened: Option<DateTime<Utc>>) -> bool {
    last_case_opened.is_some_and(|opened| opened >= crate::clock::china_day_start(found_on))
}

/// The playbook of the situations found: the seeds' steps in order, each once, the town's
/// notification last (景洪 000 三(二)5; 内蒙古 001 四(二)).
pub fn playbook(situations: &[Situation]) -> Vec<Step> {
    use Situation::*;
    use Step::*;
    let mut steps = Vec::new();
    let mut add = |s: &[Step]| {
        for step in s {
            if !steps.contains(step) {
                steps.push(*step);
            }
        }
    };
    for situation in situations {
        match situation {
            // 单独居住生活的，公安机关要责令其父母立即返回或确定受委托监护人，并对父母进行训诫; 联系不上的，就近护送…
            LivingAlone | Abandoned => add(&[
                OrderParentsBack,
                AdmonishParents,
                EscortToTemporaryCare,
                KeepContactingParents,
            ]),
            // 监护人丧失监护能力或不履行监护责任的，公安机关要联系父母立即返回或委托其他亲属监护照料.
            GuardianIncapable | GuardianNeglect => {
                add(&[ContactParents, EscortToTemporaryCare, KeepContactingParents])
            }
            Missing => add(&[StartMissingSearch, ContactParents]),
            // 遭受家庭暴力的，公安机关要依法制止，必要时…安置到临时庇护场所; 对于上述情形，要按照有关
            // 规定调查取证，协助其就医、鉴定伤情 (内蒙古 001 四(二); 武清 004 二(五)).
            DomesticViolence => add(&[
                StopViolence,
                PreserveEvidence,
                MedicalTreatment,
                InjuryAssessment,
                ShelterPlacement,
            ]),
            // 遭受其他不法侵害、意外伤害的，公安机关要依法制止侵害行为、实施保护; and, as above,
            // 调查取证，协助其就医、鉴定伤情.
            AccidentalInjury | AbnormalInjuryOrDeath => add(&[
                MedicalTreatment,
                InjuryAssessment,
                PreserveEvidence,
                ContactParents,
            ]),
            UnlawfulHarm | PrivatePartsInjury | SexualAssault | AbuseSigns | OrganisedBegging
            | OtherSeriousHarm => add(&[
                StopHarm,
                PreserveEvidence,
                MedicalTreatment,
                InjuryAssessment,
            ]),
        }
    }
    add(&[NotifyTown]);
    steps
}
