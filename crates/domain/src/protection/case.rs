//! A case's status and what moves it: the actions, the escalation of an unreceived report, the police's feedback.

use super::*;

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
    /// What a case's timeline records, in the words its line begins with (the line adds the
    /// step, the kind of help, the measure… from the event's code).
    pub enum CaseEventKind {
        Filed = ("filed", "提交强制报告"),
        Received = ("received", "公安机关受理"),
        Escalated = ("escalated", "超时未受理，上报县级"),
        Step = ("step", "应急处置"),
        PoliceRecord = ("police_record", "公安机关"),
        NotifiedTown = ("notified_town", "通报乡镇人民政府（街道办）"),
        CloseRequested = ("close_requested", "申请结案"),
        Closed = ("closed", "批准结案"),
        CloseRejected = ("close_rejected", "退回结案申请"),
        Reopened = ("reopened", "重新开启"),
        Attachment = ("attachment", "上传附件"),
        Referred = ("referred", "转介"),
        ReferralAnswered = ("referral_answered", "服务机构"),
        Placed = ("placed", "临时监护"),
        PlacementEnded = ("placement_ended", "临时监护结束"),
        ChildRegistered = ("child_registered", "儿童已登记建档，个案关联儿童档案"),
        FollowUp = ("follow_up", "随访"),
        Intervention = ("intervention", "监护干预"),
        Assessed = ("assessed", "评估"),
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
