//! Referrals to services: what a provider does with one, and when it is overdue.

use super::*;

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
