//! 保护个案: a child in danger is reported (强制报告), reaches the police at once, gets the emergency
//! response its situation calls for, then the town's assessment and help, and the case closes with
//! the town's approval. The rules here are the seeds' (景洪 000 三(二)3 强制报告机制, 三(二)5 应急处置机制;
//! 内蒙古 001 四; 沈阳 002 一4, 一7–9; 龙里 003 五(一)(二); 武清 004 二(三)(五)–(七)) and the national ones
//! (`domain-research.md` §2.3 强制报告意见 Art. 4, 8; §2.4 未成年人保护法 Art. 11, 117).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::authz::{Actor, Role};
use crate::code_enum;
use crate::person::{PersonName, Sex};
use crate::region::{Divisions, RegionCode, RegionLevel};
use crate::text;
use crate::validation::ValidationErrors;

code_enum! {
    /// What was found. The first seven are the seeds' list (景洪 000 三(二)3: 脱离监护单独居住生活或失踪、
    /// 监护人丧失监护能力或不履行监护责任、疑似遭受家庭暴力、遭受意外伤害或不法侵害); the rest are the
    /// categories of 强制报告意见 Art. 4 that the seeds' list does not already name (its 6 and 7 are
    /// `abandoned` and `missing`). Several may apply to one report.
    pub enum Situation {
        LivingAlone = ("living_alone", "脱离监护单独居住生活"),
        Missing = ("missing", "失踪、来源不明或被拐卖、收买"),
        GuardianIncapable = ("guardian_incapable", "监护人丧失监护能力"),
        GuardianNeglect = ("guardian_neglect", "监护人不履行监护责任"),
        DomesticViolence = ("domestic_violence", "疑似遭受家庭暴力"),
        AccidentalInjury = ("accidental_injury", "疑似遭受意外伤害"),
        UnlawfulHarm = ("unlawful_harm", "疑似遭受不法侵害"),
        PrivatePartsInjury = ("private_parts_injury", "生殖器官或隐私部位遭受或疑似遭受非正常损伤"),
        SexualAssault = ("sexual_assault", "遭受或疑似遭受性侵害、怀孕、流产"),
        AbuseSigns = ("abuse_signs", "身体多处损伤、严重营养不良、意识不清，疑似受到欺凌、虐待、殴打或被麻醉"),
        AbnormalInjuryOrDeath = ("abnormal_injury_or_death", "因自杀、自残、工伤、中毒、被麻醉、殴打等非正常原因导致伤残、死亡"),
        Abandoned = ("abandoned", "被遗弃或长期处于无人照料状态"),
        OrganisedBegging = ("organised_begging", "被组织乞讨"),
        OtherSeriousHarm = ("other_serious_harm", "其他严重侵害身心健康的情形或正在面临不法侵害危险"),
    }
}

code_enum! {
    /// How urgent the reporter judges it.
    pub enum Severity {
        Urgent = ("urgent", "紧急：正在面临危险"),
        Serious = ("serious", "严重"),
        General = ("general", "一般"),
    }
}

code_enum! {
    /// Where a case stands. Each move is a [`CaseAction`] checked by [`transition`].
    pub enum CaseStatus {
        /// Filed; waiting for the police to receive it (受理).
        Reported = ("reported", "待受理"),
        /// Received by the police: the emergency response is under way.
        Responding = ("responding", "应急处置中"),
        /// The police notified the town (通报乡镇): the town assesses and helps.
        Assessing = ("assessing", "评估帮扶中"),
        /// Closing was asked with a reason; waits for the town's approval.
        Closing = ("closing", "待审批结案"),
        Closed = ("closed", "已结案"),
    }
}

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
            // 遭受家庭暴力的，公安机关要依法制止，必要时…安置到临时庇护场所.
            DomesticViolence => add(&[StopViolence, PreserveEvidence, ShelterPlacement]),
            // 遭受其他不法侵害、意外伤害的，公安机关要依法制止侵害行为、实施保护.
            AccidentalInjury | AbnormalInjuryOrDeath => {
                add(&[MedicalTreatment, InjuryAssessment, ContactParents])
            }
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

code_enum! {
    /// What the town's assessment looks at (景洪 000 三(二)4 评估帮扶机制: 安全、监护、身心健康).
    pub enum AssessmentArea {
        Safety = ("safety", "人身安全"),
        Guardianship = ("guardianship", "监护状况"),
        PhysicalHealth = ("physical_health", "身体健康"),
        MentalHealth = ("mental_health", "心理健康"),
    }
}

code_enum! {
    /// How an area stands, from no concern to danger.
    pub enum Concern {
        NoConcern = ("none", "无明显问题"),
        Some = ("some", "存在问题"),
        Serious = ("serious", "问题严重"),
        Danger = ("danger", "面临危险"),
    }
}

code_enum! {
    /// The assessment's result: it sets how often the child is visited.
    pub enum RiskLevel {
        Low = ("low", "低"),
        Medium = ("medium", "中"),
        High = ("high", "高"),
        Critical = ("critical", "极高"),
    }
}

/// The risk an assessment's areas add up to: the worst area, and critical when two or more are
/// serious or worse (several serious problems at once leave no margin).
pub fn risk_level(concerns: &[Concern]) -> RiskLevel {
    let serious = concerns
        .iter()
        .filter(|c| matches!(c, Concern::Serious | Concern::Danger))
        .count();
    match concerns.iter().max() {
        Some(Concern::Danger) => RiskLevel::Critical,
        _ if serious >= 2 => RiskLevel::Critical,
        Some(Concern::Serious) => RiskLevel::High,
        Some(Concern::Some) => RiskLevel::Medium,
        _ => RiskLevel::Low,
    }
}

impl RiskLevel {
    /// Days between visits the risk calls for: weekly for the highest, monthly for high, quarterly
    /// for the others (沈阳 002 一2 每季度至少一次; the highest more often).
    pub fn visit_interval_days(self) -> u32 {
        match self {
            RiskLevel::Critical => 7,
            RiskLevel::High => 30,
            RiskLevel::Medium | RiskLevel::Low => 90,
        }
    }
}

/// An assessment as recorded (the API's body, the page's form).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AssessmentInput {
    /// Each area's concern: none, some, serious, danger.
    pub safety: Option<String>,
    pub guardianship: Option<String>,
    pub physical_health: Option<String>,
    pub mental_health: Option<String>,
    /// What was found, in words (always).
    pub findings: Option<String>,
    /// Who took part (names and units).
    pub participants: Option<String>,
    /// The child's own view (未成年人保护法 Art. 4(五): 听取未成年人的意见).
    pub child_view: Option<String>,
    /// Why the child's view could not be heard (too young, unwell…), when it was not.
    pub child_view_absent_reason: Option<String>,
}

/// An assessment that passed validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    pub safety: Concern,
    pub guardianship: Concern,
    pub physical_health: Concern,
    pub mental_health: Concern,
    pub findings: String,
    pub participants: String,
    pub child_view: Option<String>,
    pub child_view_absent_reason: Option<String>,
    pub risk: RiskLevel,
}

impl AssessmentInput {
    pub fn parse(&self) -> Result<Assessment, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let present = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
        let mut area =
            |field: &str, v: &Option<String>| match present(v).map(|c| Concern::parse(&c)) {
                Some(Some(c)) => c,
                _ => {
                    e.add(field, "请选择该项的评估结果");
                    Concern::NoConcern
                }
            };
        let safety = area("safety", &self.safety);
        let guardianship = area("guardianship", &self.guardianship);
        let physical_health = area("physical_health", &self.physical_health);
        let mental_health = area("mental_health", &self.mental_health);
        let long = |v: Option<String>, field: &str, e: &mut ValidationErrors| {
            if v.as_ref().is_some_and(|t| t.chars().count() > 2000) {
                e.add(field, "请不超过2000字");
            }
            v
        };
        let findings = long(present(&self.findings), "findings", &mut e).unwrap_or_default();
        if findings.is_empty() {
            e.add("findings", "请写明评估发现的情况");
        }
        let participants =
            long(present(&self.participants), "participants", &mut e).unwrap_or_default();
        if participants.is_empty() {
            e.add("participants", "请填写参与评估的人员");
        }
        let child_view = long(present(&self.child_view), "child_view", &mut e);
        let absent = long(
            present(&self.child_view_absent_reason),
            "child_view_absent_reason",
            &mut e,
        );
        if child_view.is_none() && absent.is_none() {
            e.add("child_view", "请记录儿童本人的意见；无法听取时请说明原因");
        }
        e.into_result(())?;
        Ok(Assessment {
            risk: risk_level(&[safety, guardianship, physical_health, mental_health]),
            safety,
            guardianship,
            physical_health,
            mental_health,
            findings,
            participants,
            child_view,
            child_view_absent_reason: absent,
        })
    }
}

code_enum! {
    /// What a help plan refers the child to (景洪 000 三(二)4; 内蒙古 001 四(三): 监护指导、医疗救治、
    /// 心理疏导、行为矫治、法律服务、法律援助; social assistance by 龙里 003 五(五)).
    pub enum HelpKind {
        GuardianshipGuidance = ("guardianship_guidance", "监护指导"),
        MedicalTreatment = ("medical_treatment", "医疗救治"),
        Counselling = ("counselling", "心理疏导"),
        BehaviourCorrection = ("behaviour_correction", "行为矫治"),
        LegalAid = ("legal_aid", "法律服务和法律援助"),
        HealthCheck = ("health_check", "健康体检"),
        Dibao = ("dibao", "最低生活保障"),
        TemporaryAssistance = ("temporary_assistance", "临时救助"),
        ExtremePovertySupport = ("extreme_poverty_support", "特困人员救助供养"),
        MedicalAssistance = ("medical_assistance", "医疗救助"),
        ChildWelfare = ("child_welfare", "儿童福利保障"),
    }
}

code_enum! {
    /// Where a referral to a provider stands.
    pub enum ReferralStatus {
        Pending = ("pending", "待接收"),
        Accepted = ("accepted", "已接收"),
        Declined = ("declined", "已拒绝"),
        Delivered = ("delivered", "已完成"),
    }
}

/// What a provider does with a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralAction {
    Accept,
    /// Declining says why.
    Decline,
    /// Records what was delivered (a session, a payment granted); may be recorded more than once
    /// until the referral is complete.
    Deliver {
        complete: bool,
    },
}

/// A referral's next status, or why not: accepted or declined when pending, delivered when
/// accepted.
pub fn referral_transition(
    status: ReferralStatus,
    action: ReferralAction,
) -> Result<ReferralStatus, String> {
    use ReferralStatus::*;
    match (status, action) {
        (Pending, ReferralAction::Accept) => Ok(Accepted),
        (Pending, ReferralAction::Decline) => Ok(Declined),
        (Accepted, ReferralAction::Deliver { complete: true }) => Ok(Delivered),
        (Accepted, ReferralAction::Deliver { complete: false }) => Ok(Accepted),
        (s, _) => Err(format!("该转介当前为“{}”，不能进行此操作", s.label())),
    }
}

/// A referral unanswered this long, or accepted and not delivered this long, is overdue. The seeds
/// set no limit (景洪 000 三(二)4 asks only that help be given); these are Shouwang's defaults.
pub const REFERRAL_ANSWER_DAYS: i64 = 7;
pub const REFERRAL_DELIVERY_DAYS: i64 = 30;

/// Whether a referral is overdue on `today`.
pub fn referral_overdue(
    status: ReferralStatus,
    referred_on: NaiveDate,
    accepted_on: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    match status {
        ReferralStatus::Pending => today - referred_on > Duration::days(REFERRAL_ANSWER_DAYS),
        ReferralStatus::Accepted => {
            today - accepted_on.unwrap_or(referred_on) > Duration::days(REFERRAL_DELIVERY_DAYS)
        }
        ReferralStatus::Declined | ReferralStatus::Delivered => false,
    }
}

code_enum! {
    /// Why civil affairs takes a child into temporary guardianship (未成年人保护法 Art. 92).
    pub enum TemporaryGuardianshipReason {
        UnknownIdentity = ("unknown_identity", "流浪乞讨或者身份不明，暂时查找不到父母或者其他监护人"),
        GuardianMissing = ("guardian_missing", "监护人下落不明且无其他人可以担任监护人"),
        GuardianUnable = ("guardian_unable", "监护人因自身客观原因或者因发生自然灾害、事故灾难、公共卫生事件等突发事件不能履行监护职责，导致未成年人监护缺失"),
        GuardianRefuses = ("guardian_refuses", "监护人拒绝或者怠于履行监护职责，导致未成年人处于无人照料的状态"),
        UsedForCrime = ("used_for_crime", "监护人教唆、利用未成年人实施违法犯罪行为，未成年人需要被带离安置"),
        HarmedByGuardian = ("harmed_by_guardian", "未成年人遭受监护人严重伤害或者面临人身安全威胁，需要被紧急安置"),
        Other = ("other", "法律规定的其他情形"),
    }
}

code_enum! {
    /// Where a child in temporary guardianship lives (未成年人保护法 Art. 93).
    pub enum Placement {
        Relatives = ("relatives", "委托亲属抚养"),
        FosterFamily = ("foster_family", "家庭寄养"),
        ProtectionInstitution = ("protection_institution", "未成年人救助保护机构"),
        WelfareInstitution = ("welfare_institution", "儿童福利机构"),
    }
}

/// A temporary guardianship as recorded: why, where, from when; its end says where the child went
/// and rests on an assessment (Art. 93: returned to the guardian after civil affairs assessed it).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PlacementInput {
    pub reason: Option<String>,
    pub placement: Option<String>,
    /// Who or which institution cares for the child.
    pub carer: Option<String>,
    /// YYYY-MM-DD; today if absent.
    pub start_date: Option<String>,
    pub note: Option<String>,
}

/// A placement that passed validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlacementRecord {
    pub reason: TemporaryGuardianshipReason,
    pub placement: Placement,
    pub carer: String,
    pub start_date: NaiveDate,
    pub note: Option<String>,
    /// Set when it ends.
    pub end_date: Option<NaiveDate>,
    /// The assessment before the child returns, and where the child went.
    pub end_assessment: Option<String>,
}

impl PlacementInput {
    pub fn parse(&self, today: NaiveDate) -> Result<PlacementRecord, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let present = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
        let reason = present(&self.reason).and_then(|r| TemporaryGuardianshipReason::parse(&r));
        if reason.is_none() {
            e.add("reason", "请选择临时监护的法定情形");
        }
        let placement = present(&self.placement).and_then(|p| Placement::parse(&p));
        if placement.is_none() {
            e.add("placement", "请选择安置方式");
        }
        let carer = present(&self.carer).unwrap_or_default();
        if carer.is_empty() || carer.chars().count() > 100 {
            e.add("carer", "请填写照料人或机构名称（100字以内）");
        }
        let start_date = match present(&self.start_date) {
            None => today,
            Some(d) => match crate::input::parse_date(&d) {
                Some(d) if d <= today => d,
                _ => {
                    e.add("start_date", "开始日期应为不晚于今天的日期");
                    today
                }
            },
        };
        let note = present(&self.note);
        if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
            e.add("note", "说明请不超过1000字");
        }
        e.into_result(())?;
        Ok(PlacementRecord {
            reason: reason.expect("checked"),
            placement: placement.expect("checked"),
            carer,
            start_date,
            note,
            end_date: None,
            end_assessment: None,
        })
    }
}

impl PlacementRecord {
    /// Ends the placement: on a date not before its start nor after today, with the assessment
    /// that lets the child go home or says where the child goes (Art. 93).
    pub fn ended(
        &self,
        end: Option<&str>,
        assessment: &str,
        today: NaiveDate,
    ) -> Result<PlacementRecord, ValidationErrors> {
        let mut e = ValidationErrors::default();
        if self.end_date.is_some() {
            e.add("end_date", "该临时监护已结束");
        }
        let end_date = match end.map(text::clean).filter(|s| !s.is_empty()) {
            None => today,
            Some(d) => match crate::input::parse_date(&d) {
                Some(d) if d <= today && d >= self.start_date => d,
                _ => {
                    e.add("end_date", "结束日期应在开始日期之后、不晚于今天");
                    today
                }
            },
        };
        let assessment = text::clean(assessment);
        if assessment.is_empty() {
            e.add(
                "assessment",
                "请填写评估意见（儿童返回监护人家庭前须经民政部门评估）及去向",
            );
        } else if assessment.chars().count() > 1000 {
            e.add("assessment", "评估意见请不超过1000字");
        }
        e.into_result(())?;
        Ok(PlacementRecord {
            end_date: Some(end_date),
            end_assessment: Some(assessment),
            ..self.clone()
        })
    }
}

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
        FollowUp = ("follow_up", "回访"),
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

code_enum! {
    /// What evidence a case takes: photos as phones save them, and PDFs (a medical record, a
    /// written statement).
    pub enum EvidenceKind {
        Jpeg = ("image/jpeg", "照片（JPEG）"),
        Png = ("image/png", "图片（PNG）"),
        Webp = ("image/webp", "图片（WebP）"),
        Pdf = ("application/pdf", "PDF 文件"),
    }
}

/// The largest evidence file, and how many a case holds.
pub const MAX_EVIDENCE_BYTES: usize = 10 << 20;
pub const MAX_EVIDENCE_PER_CASE: i64 = 30;

impl EvidenceKind {
    /// What the bytes are, from their first bytes (the name and the declared type are not trusted).
    pub fn sniff(bytes: &[u8]) -> Result<EvidenceKind, String> {
        if bytes.is_empty() {
            return Err("文件是空的".into());
        }
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(format!(
                "文件超过 {} MB，请压缩后上传",
                MAX_EVIDENCE_BYTES >> 20
            ));
        }
        Ok(if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            EvidenceKind::Jpeg
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            EvidenceKind::Png
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            EvidenceKind::Webp
        } else if bytes.starts_with(b"%PDF-") {
            EvidenceKind::Pdf
        } else {
            return Err(
                "只能上传照片（JPEG、PNG、WebP）或 PDF 文件；苹果手机的 HEIC 照片请在相机设置中选择“兼容性最佳”或截图后上传"
                    .into(),
            );
        })
    }
}

/// A file's name as kept: the last path component, without control characters, at most 100
/// characters.
pub fn evidence_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).take(100).collect();
    if clean.trim().is_empty() {
        "附件".into()
    } else {
        clean.trim().to_owned()
    }
}

/// Something done to a case, checked against its status and the actor's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAction {
    /// The police receive the report (受理).
    Receive,
    /// A step of the emergency response, or a police record (受案、立案、反馈).
    Respond,
    /// The police notify the town (通报乡镇): the town's assessment and help begin.
    NotifyTown,
    /// The town asks to close, with a reason.
    RequestClose,
    ApproveClose,
    RejectClose,
    Reopen,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("该个案当前状态为“{0}”，不能{1}")]
    OutOfOrder(&'static str, &'static str),
    #[error("您的角色不能{0}")]
    Role(&'static str),
    #[error("结案申请需由另一名乡镇或县级工作人员审批")]
    SelfApproval,
}

impl CaseAction {
    pub fn label(self) -> &'static str {
        match self {
            CaseAction::Receive => "受理",
            CaseAction::Respond => "记录处置",
            CaseAction::NotifyTown => "通报乡镇",
            CaseAction::RequestClose => "申请结案",
            CaseAction::ApproveClose => "批准结案",
            CaseAction::RejectClose => "退回结案申请",
            CaseAction::Reopen => "重新开启",
        }
    }
}

/// The case's next status after `action` by someone of `role`, or why not.
///
/// - The police receive and respond (景洪 000 三(二)3: 第一时间向公安机关报告; 三(二)5);
///   the county's civil affairs may receive a report that escalated to it.
/// - The police notify the town; then the town (or the county) assesses, helps and asks to close
///   (景洪 000 三(二)4 评估帮扶; 内蒙古 001 四(三)).
/// - Closing needs a reason and another town or county user's approval; a closed case reopens.
pub fn transition(
    status: CaseStatus,
    action: CaseAction,
    role: Role,
) -> Result<CaseStatus, CaseError> {
    use CaseAction::*;
    use CaseStatus::*;
    let civil = matches!(role, Role::Town | Role::County | Role::CountyAdmin);
    let police = role == Role::Police;
    let allowed = match action {
        Receive => police || matches!(role, Role::County | Role::CountyAdmin),
        Respond | NotifyTown => police,
        RequestClose | ApproveClose | RejectClose | Reopen => civil,
    };
    if !allowed {
        return Err(CaseError::Role(action.label()));
    }
    match (status, action) {
        (Reported, Receive) => Ok(Responding),
        (Responding, Respond) => Ok(Responding),
        // The police keep recording (feedback, a transfer) after the town took over.
        (Assessing | Closing, Respond) => Ok(status),
        (Responding, NotifyTown) => Ok(Assessing),
        (Assessing, RequestClose) => Ok(Closing),
        (Closing, ApproveClose) => Ok(Closed),
        (Closing, RejectClose) => Ok(Assessing),
        (Closed, Reopen) => Ok(Assessing),
        _ => Err(CaseError::OutOfOrder(status.label(), action.label())),
    }
}

/// A report not received this long after filing goes up to the county and shows on the oversight
/// view (the seeds say 第一时间; the delay is the operator's, default one hour).
pub const DEFAULT_ESCALATION: Duration = Duration::hours(1);

/// Whether an unreceived report is overdue for escalation at `now`.
pub fn escalation_due(filed_at: DateTime<Utc>, now: DateTime<Utc>, delay: Duration) -> bool {
    now - filed_at >= delay
}

/// The police feed back to the reporting unit within three days of 受案 or 立案 (强制报告意见 Art. 8).
pub const FEEDBACK_DAYS: i64 = 3;

/// The date by which feedback is due after the police accepted or filed the case.
pub fn feedback_due(accepted_on: NaiveDate) -> NaiveDate {
    accepted_on + Duration::days(FEEDBACK_DAYS)
}

/// The smallest count of reports by one kind of reporter that figures show to someone who may not
/// see reporters: fewer could name the reporter of a case (强制报告意见 keeps the reporter's
/// identity confidential, as [`sees_reporter`] does; the figures must not undo it).
pub const MIN_REPORTER_CELL: i64 = 5;

/// Who sees the reporter's name, unit and contact: the police handling the report and the county's
/// civil affairs bureau (强制报告意见: the reporter's identity is kept confidential), and the reporter.
/// Everyone else working on the case reads 报告人信息已保密.
pub fn sees_reporter(actor: &Actor, handling_org: &RegionCode, reporter_user_id: &str) -> bool {
    actor.user_id == reporter_user_id
        || (actor.role == Role::Police && actor.region.contains(handling_org))
        || (matches!(actor.role, Role::County | Role::CountyAdmin)
            && handling_org
                .at_level(RegionLevel::County)
                .is_some_and(|c| actor.region.contains(&c)))
}

/// Who may file a mandatory report: the units the seeds and 强制报告意见 Art. 3 name — village
/// committees (儿童主任), town offices, schools, hospitals, social-work and welfare bodies and mass
/// organisations (agency users), the county's staff, and the police themselves.
pub fn may_report(role: Role) -> bool {
    !matches!(role, Role::Oversight | Role::Court | Role::Procuratorate)
}

/// A child not yet on the registry, with whatever is known.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct NewChildInput {
    pub name: Option<String>,
    /// 男 / 女, or male / female
    pub sex: Option<String>,
    /// YYYY-MM-DD, if known
    pub birth_date: Option<String>,
    /// The 12-digit code of the village where the child is.
    pub village_code: Option<String>,
}

/// A report as filed (the API's body, and the page's form).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ReportInput {
    /// A child on the registry …
    pub child_id: Option<String>,
    /// … or a child not on it, with whatever is known (then also queued for registration).
    pub child: Option<NewChildInput>,
    /// One or more situation codes.
    pub situations: Vec<String>,
    /// What happened.
    pub description: Option<String>,
    /// urgent, serious (default) or general
    pub severity: Option<String>,
    /// Where the child is now.
    pub place: Option<String>,
    /// When it was found (RFC 3339); now if absent.
    pub discovered_at: Option<String>,
    /// How the police reach the reporter (kept confidential).
    pub reporter_phone: Option<String>,
}

/// Who the report is about, checked.
#[derive(Debug, Clone)]
pub enum ReportedChild {
    Registered(String),
    New {
        name: PersonName,
        sex: Option<Sex>,
        birth: Option<NaiveDate>,
        village: RegionCode,
    },
}

/// A report that passed validation.
#[derive(Debug, Clone)]
pub struct Report {
    pub child: ReportedChild,
    pub situations: Vec<Situation>,
    pub description: String,
    pub severity: Severity,
    pub place: Option<String>,
    pub discovered_at: DateTime<Utc>,
    pub reporter_phone: Option<String>,
}

pub const MAX_DESCRIPTION_CHARS: usize = 2000;

impl ReportInput {
    /// Checks a report: who (a registered child or a new one with a village), at least one known
    /// situation, what happened; when, if given, not in the future.
    pub fn parse(&self, now: DateTime<Utc>) -> Result<Report, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let present = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
        let child = match (present(&self.child_id), &self.child) {
            (Some(id), None) => Some(ReportedChild::Registered(id)),
            (None, Some(c)) => {
                let name = match present(&c.name).map(|n| PersonName::parse(&n)) {
                    Some(Ok(n)) => Some(n),
                    Some(Err(err)) => {
                        e.add("child.name", err.to_string());
                        None
                    }
                    None => match PersonName::parse("姓名不详") {
                        Ok(n) => Some(n),
                        Err(err) => {
                            e.add("child.name", err.to_string());
                            None
                        }
                    },
                };
                let sex = match present(&c.sex) {
                    None => None,
                    Some(s) => match Sex::parse(&s) {
                        Some(x) => Some(x),
                        None => {
                            e.add("child.sex", "性别应为“男”或“女”");
                            None
                        }
                    },
                };
                let birth = match present(&c.birth_date) {
                    None => None,
                    Some(d) => match crate::input::parse_date(&d) {
                        Some(b) if b <= now.date_naive() => Some(b),
                        _ => {
                            e.add(
                                "child.birth_date",
                                "出生日期应为不晚于今天的日期，如 2016-07-31",
                            );
                            None
                        }
                    },
                };
                let village = match present(&c.village_code) {
                    None => {
                        e.add("child.village_code", "请选择儿童所在的村（社区）");
                        None
                    }
                    Some(v) => match Divisions::shipped().parse_existing(&v) {
                        Ok(r) if r.level() == RegionLevel::Village => Some(r),
                        Ok(_) => {
                            e.add("child.village_code", "请选择到村（社区）一级");
                            None
                        }
                        Err(err) => {
                            e.add("child.village_code", err.to_string());
                            None
                        }
                    },
                };
                match (name, village) {
                    (Some(name), Some(village)) => Some(ReportedChild::New {
                        name,
                        sex,
                        birth,
                        village,
                    }),
                    _ => None,
                }
            }
            (Some(_), Some(_)) => {
                e.add(
                    "child_id",
                    "请只填写 child_id（已登记儿童）或 child（未登记儿童）之一",
                );
                None
            }
            (None, None) => {
                e.add("child_id", "请选择已登记的儿童，或填写未登记儿童的情况");
                None
            }
        };
        let mut situations = Vec::new();
        for code in &self.situations {
            match Situation::parse(code) {
                Some(s) if !situations.contains(&s) => situations.push(s),
                Some(_) => {}
                None => e.add(
                    "situations",
                    format!("未知的情形代码“{}”", text::clean(code)),
                ),
            }
        }
        if self.situations.is_empty() {
            e.add("situations", "请至少选择一种情形");
        }
        let description = present(&self.description).unwrap_or_default();
        if description.is_empty() {
            e.add("description", "请简要说明发现的情况");
        } else if description.chars().count() > MAX_DESCRIPTION_CHARS {
            e.add(
                "description",
                format!("情况说明请不超过{MAX_DESCRIPTION_CHARS}字"),
            );
        }
        let severity = match present(&self.severity) {
            None => Severity::Serious,
            Some(s) => Severity::parse(&s).unwrap_or_else(|| {
                e.add("severity", "紧急程度应为 urgent、serious 或 general");
                Severity::Serious
            }),
        };
        let place = present(&self.place);
        if place.as_ref().is_some_and(|p| p.chars().count() > 200) {
            e.add("place", "地点请不超过200字");
        }
        let discovered_at = match present(&self.discovered_at) {
            None => now,
            Some(t) => match DateTime::parse_from_rfc3339(&t) {
                // A phone's clock may run a few minutes ahead.
                Ok(t) if t.with_timezone(&Utc) <= now + Duration::minutes(10) => {
                    t.with_timezone(&Utc)
                }
                Ok(_) => {
                    e.add("discovered_at", "发现时间不能晚于现在");
                    now
                }
                Err(_) => {
                    e.add(
                        "discovered_at",
                        "发现时间应为 RFC 3339 格式，如 2026-11-24T09:30:00+08:00",
                    );
                    now
                }
            },
        };
        let reporter_phone = match present(&self.reporter_phone) {
            None => None,
            Some(p) => match crate::person::PhoneNumber::parse(&p) {
                Ok(p) => Some(p.as_str().to_owned()),
                Err(err) => {
                    e.add("reporter_phone", err.to_string());
                    None
                }
            },
        };
        e.into_result(())?;
        Ok(Report {
            child: child.expect("checked"),
            situations,
            description,
            severity,
            place,
            discovered_at,
            reporter_phone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, region: &str, id: &str) -> Actor {
        Actor {
            user_id: id.into(),
            username: id.into(),
            role,
            region: RegionCode::parse(region).unwrap(),
            agency_id: None,
        }
    }

    #[test]
    fn living_alone_orders_the_parents_back_admonishes_them_and_escorts_the_child_if_unreachable() {
        // 景洪 000 三(二)5.
        let steps = playbook(&[Situation::LivingAlone]);
        assert_eq!(
            steps,
            vec![
                Step::OrderParentsBack,
                Step::AdmonishParents,
                Step::EscortToTemporaryCare,
                Step::KeepContactingParents,
                Step::NotifyTown
            ]
        );
    }

    #[test]
    fn several_situations_merge_their_steps_once_each_with_the_town_notified_last() {
        let steps = playbook(&[Situation::DomesticViolence, Situation::GuardianNeglect]);
        assert_eq!(steps.first(), Some(&Step::StopViolence));
        assert_eq!(steps.last(), Some(&Step::NotifyTown));
        let mut unique = steps.clone();
        unique.dedup();
        assert_eq!(unique.len(), steps.len());
        assert!(steps.contains(&Step::ShelterPlacement) && steps.contains(&Step::ContactParents));
    }

    #[test]
    fn the_police_receive_respond_and_notify_the_town_which_closes_with_another_users_approval() {
        use CaseAction::*;
        use CaseStatus::*;
        assert_eq!(transition(Reported, Receive, Role::Police), Ok(Responding));
        assert_eq!(
            transition(Responding, Respond, Role::Police),
            Ok(Responding)
        );
        assert_eq!(
            transition(Responding, NotifyTown, Role::Police),
            Ok(Assessing)
        );
        assert_eq!(transition(Assessing, RequestClose, Role::Town), Ok(Closing));
        assert_eq!(transition(Closing, RejectClose, Role::Town), Ok(Assessing));
        assert_eq!(transition(Closing, ApproveClose, Role::County), Ok(Closed));
        assert_eq!(transition(Closed, Reopen, Role::Town), Ok(Assessing));
    }

    #[test]
    fn a_transition_out_of_order_or_by_the_wrong_role_is_refused() {
        use CaseAction::*;
        use CaseStatus::*;
        assert!(matches!(
            transition(Reported, NotifyTown, Role::Police),
            Err(CaseError::OutOfOrder(..))
        ));
        assert!(matches!(
            transition(Responding, RequestClose, Role::Town),
            Err(CaseError::OutOfOrder(..))
        ));
        assert_eq!(
            transition(Reported, Receive, Role::School),
            Err(CaseError::Role("受理"))
        );
        assert_eq!(
            transition(Responding, NotifyTown, Role::Town),
            Err(CaseError::Role("通报乡镇"))
        );
        // An escalated report is received by the county's civil affairs.
        assert_eq!(transition(Reported, Receive, Role::County), Ok(Responding));
    }

    #[test]
    fn the_worst_area_sets_the_risk_and_two_serious_ones_make_it_critical() {
        use Concern::*;
        assert_eq!(risk_level(&[NoConcern, NoConcern]), RiskLevel::Low);
        assert_eq!(risk_level(&[Some, NoConcern]), RiskLevel::Medium);
        assert_eq!(risk_level(&[Serious, Some]), RiskLevel::High);
        assert_eq!(risk_level(&[Serious, Serious]), RiskLevel::Critical);
        assert_eq!(risk_level(&[Danger]), RiskLevel::Critical);
        assert_eq!(RiskLevel::Critical.visit_interval_days(), 7);
        assert_eq!(RiskLevel::Low.visit_interval_days(), 90);
    }

    #[test]
    fn an_assessment_hears_the_child_or_says_why_not() {
        let mut input = AssessmentInput {
            safety: Some("some".into()),
            guardianship: Some("serious".into()),
            physical_health: Some("none".into()),
            mental_health: Some("bad".into()),
            findings: Some("姑姑临时照料，父亲未返乡".into()),
            participants: Some("镇儿童督导员、村儿童主任".into()),
            ..Default::default()
        };
        let e = input.parse().unwrap_err();
        assert!(e.message_for("mental_health").is_some());
        assert!(e.message_for("child_view").is_some());
        input.mental_health = Some("some".into());
        input.child_view = Some("想和爸爸一起住".into());
        assert_eq!(input.parse().unwrap().risk, RiskLevel::High);
    }

    #[test]
    fn a_provider_accepts_or_declines_then_delivers_and_silence_becomes_overdue() {
        use ReferralAction::*;
        use ReferralStatus::*;
        assert_eq!(referral_transition(Pending, Accept), Ok(Accepted));
        assert_eq!(referral_transition(Pending, Decline), Ok(Declined));
        assert_eq!(
            referral_transition(Accepted, Deliver { complete: false }),
            Ok(Accepted)
        );
        assert_eq!(
            referral_transition(Accepted, Deliver { complete: true }),
            Ok(Delivered)
        );
        assert!(referral_transition(Declined, Accept).is_err());
        assert!(referral_transition(Pending, Deliver { complete: true }).is_err());
        let d = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert!(!referral_overdue(Pending, d, None, d + Duration::days(7)));
        assert!(referral_overdue(Pending, d, None, d + Duration::days(8)));
        assert!(referral_overdue(
            Accepted,
            d,
            Some(d),
            d + Duration::days(31)
        ));
        assert!(!referral_overdue(
            Delivered,
            d,
            Some(d),
            d + Duration::days(300)
        ));
    }

    #[test]
    fn a_temporary_guardianship_names_its_legal_ground_and_ends_on_an_assessment() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let e = PlacementInput::default().parse(today).unwrap_err();
        assert!(e.message_for("reason").is_some() && e.message_for("placement").is_some());
        let p = PlacementInput {
            reason: Some("guardian_refuses".into()),
            placement: Some("relatives".into()),
            carer: Some("姑姑王某".into()),
            start_date: Some("2026-11-20".into()),
            ..Default::default()
        }
        .parse(today)
        .unwrap();
        assert!(p.ended(None, "", today).is_err());
        assert!(p.ended(Some("2026-11-19"), "父亲返乡", today).is_err());
        let ended = p
            .ended(Some("2026-11-24"), "父亲返乡，评估具备监护能力", today)
            .unwrap();
        assert_eq!(ended.end_date, Some(today));
        assert!(ended.ended(None, "再次", today).is_err());
    }

    #[test]
    fn a_warning_letter_is_issued_served_and_told_to_the_village_before_follow_ups() {
        use Stage::*;
        let m = Measure::WarningLetter;
        assert!(next_stage(m, &[], Issued).is_ok());
        assert!(next_stage(m, &[], Served).unwrap_err().contains("已出具"));
        assert!(next_stage(m, &[Issued], Served).is_ok());
        assert!(next_stage(m, &[Issued, Served], Issued).is_err());
        assert!(next_stage(m, &[Issued, Served, VillageTold], FollowUp).is_ok());
        assert!(next_stage(m, &[Issued, Served, VillageTold, FollowUp], FollowUp).is_ok());
        assert!(next_stage(m, &[], Judged).is_err());
        // A one-step measure is recorded once.
        assert!(next_stage(Measure::Admonition, &[Done], Done).is_err());
    }

    #[test]
    fn the_police_admonish_and_civil_affairs_apply_to_revoke() {
        use crate::authz::Role;
        assert!(Measure::Admonition.recorded_by(Stage::Done, Role::Police));
        assert!(!Measure::Admonition.recorded_by(Stage::Done, Role::Town));
        assert!(Measure::Revocation.recorded_by(Stage::Applied, Role::County));
        assert!(!Measure::Revocation.recorded_by(Stage::Applied, Role::School));
        // The court records its decisions, not the application.
        assert!(Measure::Revocation.recorded_by(Stage::Judged, Role::Court));
        assert!(!Measure::Revocation.recorded_by(Stage::Applied, Role::Court));
        assert!(Measure::CriminalReferral.recorded_by(Stage::Filed, Role::Procuratorate));
        assert!(!Measure::CriminalReferral.recorded_by(Stage::Done, Role::Procuratorate));
    }

    #[test]
    fn a_hundred_and_eighty_days_of_temporary_guardianship_meet_a_ground_until_someone_applies() {
        let today = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
        let mut facts = GuardianshipFacts {
            placement_since: Some(today - Duration::days(179)),
            ..Default::default()
        };
        assert!(revocation_grounds(&facts, today).is_empty());
        facts.placement_since = Some(today - Duration::days(180));
        let grounds = revocation_grounds(&facts, today);
        assert_eq!(grounds[0].0, RevocationGround::NeglectInDanger);
        facts.protection_order_breached = true;
        assert_eq!(revocation_grounds(&facts, today).len(), 2);
        facts.revocation_applied = true;
        assert!(revocation_grounds(&facts, today).is_empty());
    }

    #[test]
    fn a_finding_is_reported_by_a_case_opened_from_the_start_of_its_day_in_china() {
        let found = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let t = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        assert!(!reported_since(found, None));
        // 07:00 in China on the day is 23:00 UTC the day before.
        assert!(reported_since(found, t("2026-11-23T23:00:00Z")));
        assert!(!reported_since(found, t("2026-11-23T15:59:00Z")));
        assert!(reported_since(found, t("2026-11-30T02:00:00Z")));
    }

    #[test]
    fn steps_that_stop_harm_are_due_in_two_hours_the_parents_in_a_day() {
        let received = "2026-11-24T02:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let at = |h: i64| received + Duration::hours(h);
        assert!(!step_overdue(Step::StopViolence, received, at(2)));
        assert!(step_overdue(Step::StopViolence, received, at(3)));
        assert!(!step_overdue(Step::OrderParentsBack, received, at(24)));
        assert!(step_overdue(Step::OrderParentsBack, received, at(25)));
        assert!(!step_overdue(Step::PreserveEvidence, received, at(72)));
        assert!(step_overdue(Step::PreserveEvidence, received, at(73)));
    }

    #[test]
    fn parents_silent_for_a_hundred_and_eighty_days_meet_a_ground() {
        // 武清 004 二(一)1: 监护人拒不履行监护职责六个月以上 → 申请撤销监护人资格.
        let today = NaiveDate::from_ymd_opt(2028, 3, 1).unwrap();
        let mut facts = GuardianshipFacts {
            parents_silent_since: Some(today - Duration::days(179)),
            ..Default::default()
        };
        assert!(revocation_grounds(&facts, today).is_empty());
        facts.parents_silent_since = Some(today - Duration::days(180));
        let grounds = revocation_grounds(&facts, today);
        assert_eq!(grounds.len(), 1);
        assert_eq!(grounds[0].0, RevocationGround::NeglectInDanger);
        assert!(grounds[0].1.contains("180天"));
    }

    #[test]
    fn evidence_is_what_its_bytes_say_within_the_size() {
        assert_eq!(EvidenceKind::sniff(b"%PDF-1.7\n..."), Ok(EvidenceKind::Pdf));
        assert_eq!(
            EvidenceKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Ok(EvidenceKind::Jpeg)
        );
        assert!(EvidenceKind::sniff(b"<html><script>").is_err());
        assert!(EvidenceKind::sniff(b"").is_err());
        assert!(EvidenceKind::sniff(&vec![0xFF; MAX_EVIDENCE_BYTES + 1]).is_err());
        assert_eq!(evidence_name("C:\\fakepath\\伤情.jpg"), "伤情.jpg");
        assert_eq!(evidence_name("../../etc/passwd"), "passwd");
        assert_eq!(evidence_name("\u{0}\n"), "附件");
    }

    #[test]
    fn an_unreceived_report_escalates_after_the_delay() {
        let filed = DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(!escalation_due(
            filed,
            filed + Duration::minutes(59),
            DEFAULT_ESCALATION
        ));
        assert!(escalation_due(
            filed,
            filed + Duration::minutes(60),
            DEFAULT_ESCALATION
        ));
    }

    #[test]
    fn feedback_is_due_three_days_after_the_case_is_accepted() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(
            feedback_due(d),
            NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
        );
    }

    #[test]
    fn only_the_handling_police_the_county_bureau_and_the_reporter_see_who_reported() {
        let town = RegionCode::parse("522730001").unwrap();
        let teacher = actor(Role::School, "522730001", "teacher");
        assert!(sees_reporter(&teacher, &town, "teacher"));
        assert!(sees_reporter(
            &actor(Role::Police, "522730001", "p"),
            &town,
            "teacher"
        ));
        assert!(sees_reporter(
            &actor(Role::Police, "522730", "cp"),
            &town,
            "teacher"
        ));
        assert!(sees_reporter(
            &actor(Role::County, "522730", "c"),
            &town,
            "teacher"
        ));
        assert!(!sees_reporter(
            &actor(Role::Town, "522730001", "t"),
            &town,
            "teacher"
        ));
        assert!(!sees_reporter(
            &actor(Role::Village, "522730001001", "v"),
            &town,
            "teacher"
        ));
        assert!(!sees_reporter(
            &actor(Role::Police, "522730100", "p2"),
            &town,
            "teacher"
        ));
        assert!(!sees_reporter(
            &actor(Role::County, "522731", "c2"),
            &town,
            "teacher"
        ));
    }

    #[test]
    fn a_report_names_its_child_known_situations_and_what_happened() {
        let now = Utc::now();
        let ok = ReportInput {
            child: Some(NewChildInput {
                name: Some("李某".into()),
                village_code: Some("522730001001".into()),
                ..Default::default()
            }),
            situations: vec!["living_alone".into(), "脱离监护单独居住生活".into()],
            description: Some("独自在家三天".into()),
            ..Default::default()
        }
        .parse(now)
        .unwrap();
        assert_eq!(ok.situations, vec![Situation::LivingAlone]);
        assert_eq!(ok.severity, Severity::Serious);
        let bad = ReportInput {
            child_id: Some("x".into()),
            situations: vec!["alone".into()],
            discovered_at: Some("2099-01-01T00:00:00Z".into()),
            ..Default::default()
        }
        .parse(now)
        .unwrap_err();
        assert!(bad.message_for("situations").unwrap().contains("alone"));
        assert!(bad.message_for("description").is_some());
        assert!(bad.message_for("discovered_at").is_some());
    }
}
