//! 今日待办: the open work of one person, each line a thing to do and the place where it is done.
//! Every capability says what it waits on the person for (`app::<room>::work`); this module only
//! names the kinds and orders the lines: what is late first, then what falls due soonest.

use chrono::NaiveDate;
use serde::Serialize;

use crate::code_enum;

code_enum! {
    /// What a line of work is, in the order the home page groups them when their urgency is equal.
    pub enum WorkKind {
        /// A child whose file or visit records 单独居住 or 无人监护 with no mandatory report filed
        /// (未成年人保护法 Art. 11 立即报告; Art. 117).
        ReportUnfiled = ("report_unfiled", "应报未报"),
        /// 强制报告 to receive (the police; the county once it is escalated).
        ReportUnreceived = ("report_unreceived", "强制报告待受理"),
        /// An emergency step, the feedback to the reporter, or a closing to approve.
        CaseStepDue = ("case_step_due", "个案待办"),
        /// A provider's referral to answer or to deliver.
        ReferralWaiting = ("referral_waiting", "转介待办"),
        /// A routing sent to this unit, not finished.
        RoutingWaiting = ("routing_waiting", "部门转办待办"),
        /// A pupil away from school: the 劝返 steps.
        DropoutTask = ("dropout_task", "控辍保学劝返"),
        /// A child due or overdue a visit.
        VisitDue = ("visit_due", "待走访"),
        /// Parents not heard from for longer than the county allows.
        ParentContactLapsed = ("parent_contact_lapsed", "父母联系中断"),
        /// A 发现报告 to register or dismiss.
        RegistrationWaiting = ("registration_waiting", "发现报告待登记"),
        /// Files that cannot be assessed, or whose form is to be completed.
        FileIncomplete = ("file_incomplete", "档案待补充"),
        /// The unit's quarterly report to submit.
        QuarterlyToPrepare = ("quarterly_to_prepare", "季度报表待提交"),
        /// A report on which this person is named 复核人 or 单位负责人, waiting for their confirmation.
        QuarterlyToSign = ("quarterly_to_sign", "季度报表待签字确认"),
        /// A town's report waiting for this department's check.
        QuarterlyToVerify = ("quarterly_to_verify", "季度报表待核实"),
        /// A report of a unit below waiting for approval.
        QuarterlyToApprove = ("quarterly_to_approve", "季度报表待审核"),
        /// The unit's report returned by the level above.
        QuarterlyReturned = ("quarterly_returned", "季度报表被退回"),
    }
}

/// One line of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkItem {
    pub kind: WorkKind,
    /// What to do, in words (names the child or the unit).
    pub title: String,
    /// The page where it is done.
    pub href: String,
    /// The last day it is on time (China's date), if it has one.
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    /// The child it is about, when it is about one.
    pub child_id: Option<String>,
}

impl WorkItem {
    pub fn new(kind: WorkKind, title: impl Into<String>, href: impl Into<String>) -> WorkItem {
        WorkItem {
            kind,
            title: title.into(),
            href: href.into(),
            due_on: None,
            overdue: false,
            child_id: None,
        }
    }

    /// Due on `day`: late when `today` is past it.
    pub fn due(mut self, day: NaiveDate, today: NaiveDate) -> WorkItem {
        self.due_on = Some(day);
        self.overdue = self.overdue || today > day;
        self
    }

    /// Late whatever its day says (a lapse that is already a lapse).
    pub fn late(mut self) -> WorkItem {
        self.overdue = true;
        self
    }

    pub fn about(mut self, child_id: impl Into<String>) -> WorkItem {
        self.child_id = Some(child_id.into());
        self
    }
}

/// Most urgent first: late lines, then by the day they fall due (the soonest first, lines without
/// a day after those with one), then by kind, then by title.
pub fn order(items: &mut [WorkItem]) {
    items.sort_by(|a, b| {
        (!a.overdue, a.due_on.is_none(), a.due_on, a.kind, &a.title).cmp(&(
            !b.overdue,
            b.due_on.is_none(),
            b.due_on,
            b.kind,
            &b.title,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn late_first_then_soonest_then_undated() {
        let today = d("2026-12-07");
        let mut items = vec![
            WorkItem::new(WorkKind::RoutingWaiting, "转办", "/routings/1"),
            WorkItem::new(WorkKind::VisitDue, "走访 乙", "/c/2").due(d("2026-12-20"), today),
            WorkItem::new(WorkKind::VisitDue, "走访 甲", "/c/1").due(d("2026-12-01"), today),
            WorkItem::new(WorkKind::ParentContactLapsed, "联系", "/c/3").late(),
            WorkItem::new(WorkKind::QuarterlyToPrepare, "报表", "/q").due(d("2026-12-10"), today),
        ];
        order(&mut items);
        let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        // The lapse has no day; among the late, the dated line comes first.
        assert_eq!(titles, ["走访 甲", "联系", "报表", "走访 乙", "转办"]);
        assert!(items[0].overdue && !items[2].overdue);
    }

    #[test]
    fn due_today_is_not_late() {
        let today = d("2026-12-07");
        let i = WorkItem::new(WorkKind::VisitDue, "t", "/").due(today, today);
        assert!(!i.overdue);
        assert!(i.due(d("2026-12-06"), today).overdue);
    }
}
