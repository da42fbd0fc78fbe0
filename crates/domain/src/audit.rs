//! What the audit log records: every action by its stable code (stored, chained, filtered on)
//! and its Chinese words (what a county administrator reads). 《个人信息保护法》第五十一条 asks for
//! access limited to the least and controlled, 第五十五、五十六条 for records of the processing
//! kept, and 《未成年人保护法》第一百一十七条 holds to account those who knew of harm and did not
//! report it: who read and changed a child's file, and when, has to be told afterwards, legibly.

use crate::code_enum;
use crate::protection::CaseAction;
use crate::review::Decision;

code_enum! {
    /// An audited action. The code is what the chain hashes and the API filters on; it never
    /// changes once written.
    pub enum AuditAction {
        // Signing in and accounts.
        Login = ("login", "登录"),
        LoginFailed = ("login_failed", "登录失败"),
        LoginThrottled = ("login_throttled", "登录被限制（尝试过多）"),
        Logout = ("logout", "退出登录"),
        SessionEnd = ("session_end", "结束会话"),
        PasswordChange = ("password_change", "修改密码"),
        TokenIssue = ("token_issue", "签发接口令牌"),
        TokenRevoke = ("token_revoke", "吊销接口令牌"),
        SecondFactorSetup = ("second_factor_setup", "设置双重验证"),
        SecondFactorOn = ("second_factor_on", "启用双重验证"),
        SecondFactorOff = ("second_factor_off", "关闭双重验证"),
        SecondFactorPassed = ("second_factor_passed", "通过双重验证"),
        SecondFactorFailed = ("second_factor_failed", "双重验证失败"),
        SecondFactorReset = ("second_factor_reset", "重置双重验证"),
        UserAdd = ("user_add", "添加用户"),
        UserDisable = ("user_disable", "停用用户"),
        CountySettingsSet = ("county_settings_set", "修改本县设置"),
        // Children's files.
        ChildRegister = ("child_register", "登记儿童"),
        ChildEdit = ("child_edit", "修改档案"),
        ChildExit = ("child_exit", "退出名册"),
        ChildTransfer = ("child_transfer", "转移档案"),
        ChildLinkAgency = ("child_link_agency", "关联服务机构"),
        ChildImport = ("child_import", "导入花名册"),
        ChildBulkInsert = ("child_bulk_insert", "批量写入档案"),
        ChildRead = ("child_read", "查看档案"),
        IdUnmask = ("id_unmask", "查看完整身份证号"),
        RosterRead = ("roster_read", "查看名册"),
        IdDuplicateElsewhere = ("id_duplicate_elsewhere", "身份证号已在他处登记"),
        NearDuplicateElsewhere = ("near_duplicate_elsewhere", "他处有疑似同一儿童"),
        ImportIdDuplicateElsewhere = ("import_id_duplicate_elsewhere", "导入的身份证号已在他处登记"),
        ArchiveList = ("archive_list", "查看档案库"),
        ArchiveRead = ("archive_read", "查看已归档档案"),
        RetentionArchive = ("retention_archive", "归档"),
        RetentionErase = ("retention_erase", "删除到期个人信息"),
        Export = ("export", "导出"),
        SummaryRead = ("summary_read", "查看汇总表"),
        // 留守老人.
        ElderRegister = ("elder_register", "登记留守老人"),
        ElderEdit = ("elder_edit", "修改留守老人信息"),
        ElderExit = ("elder_exit", "留守老人退出名册"),
        ElderRead = ("elder_read", "查看留守老人信息"),
        ElderRosterRead = ("elder_roster_read", "查看留守老人花名册"),
        // 发现报告.
        DiscoveryFile = ("discovery_file", "提交发现报告"),
        DiscoveryClose = ("discovery_close", "办结发现报告"),
        DiscoveryQueueRead = ("discovery_queue_read", "查看发现报告"),
        // 强制报告 and cases.
        ReportFile = ("report_file", "强制报告"),
        ReportEscalate = ("report_escalate", "报告超时上报"),
        ReportInboxRead = ("report_inbox_read", "查看报告收件箱"),
        UnreportedRead = ("unreported_read", "查看应报未报"),
        CaseRead = ("case_read", "查看个案"),
        CaseReporterRead = ("case_reporter_read", "查看报告人信息"),
        CaseReceive = ("case_receive", "受理报告"),
        CaseRespond = ("case_respond", "记录处置"),
        CaseNotifyTown = ("case_notify_town", "通报乡镇"),
        CaseRequestClose = ("case_request_close", "申请结案"),
        CaseApproveClose = ("case_approve_close", "批准结案"),
        CaseRejectClose = ("case_reject_close", "退回结案申请"),
        CaseReopen = ("case_reopen", "重新开启个案"),
        CaseAssess = ("case_assess", "评估"),
        CaseRefer = ("case_refer", "转介"),
        CasePlace = ("case_place", "临时安置"),
        CasePlacementEnd = ("case_placement_end", "结束安置"),
        CaseIntervene = ("case_intervene", "干预措施"),
        CaseAttachmentAdd = ("case_attachment_add", "上传证据材料"),
        CaseAttachmentRead = ("case_attachment_read", "查看证据材料"),
        CaseFiguresRead = ("case_figures_read", "查看个案统计"),
        ReferralAccepted = ("referral_accepted", "接收转介"),
        ReferralDeclined = ("referral_declined", "拒绝转介"),
        ReferralDelivered = ("referral_delivered", "转介服务已提供"),
        ReferralCompleted = ("referral_completed", "转介服务已完成"),
        ReferralsRead = ("referrals_read", "查看转介"),
        // Visits and guardianship.
        VisitRecord = ("visit_record", "记录走访"),
        VisitPhotoAdd = ("visit_photo_add", "上传走访照片"),
        VisitPhotoRead = ("visit_photo_read", "查看走访照片"),
        VisitsRead = ("visits_read", "查看走访记录"),
        VisitScheduleRead = ("visit_schedule_read", "查看走访计划"),
        VisitorAssign = ("visitor_assign", "指派走访人"),
        OfflinePackRead = ("offline_pack_read", "下载离线走访包"),
        ParentContactRecord = ("parent_contact_record", "记录父母联系"),
        ParentContactsRead = ("parent_contacts_read", "查看父母联系记录"),
        ContactLapsesRead = ("contact_lapses_read", "查看失联名单"),
        WorkRead = ("work_read", "查看待办事项"),
        CarerCheck = ("carer_check", "受委托监护人能力核查"),
        CarerChecksRead = ("carer_checks_read", "查看监护能力核查"),
        AgreementRecord = ("agreement_record", "登记委托监护协议"),
        AgreementScanRead = ("agreement_scan_read", "查看协议扫描件"),
        GuardianshipDueRead = ("guardianship_due_read", "查看待复核监护"),
        // School attendance and 劝返.
        AbsencesRecord = ("absences_record", "记录缺课"),
        AbsencesImport = ("absences_import", "导入缺课表"),
        ReturnOpen = ("return_open", "启动劝返"),
        ReturnStep = ("return_step", "记录劝返步骤"),
        ReturnFinish = ("return_finish", "结束劝返"),
        // 部门转办.
        RoutingSend = ("routing_send", "转办"),
        RoutingEvent = ("routing_event", "办理转办"),
        RoutingRead = ("routing_read", "查看转办"),
        RoutingsRead = ("routings_read", "查看转办列表"),
        // 三方比对.
        ReconcileRun = ("reconcile_run", "三方比对"),
        ReconcileItemsRead = ("reconcile_items_read", "查看比对结果"),
        ReconcileItemAccept = ("reconcile_item_accept", "确认比对条目"),
        ReconcileItemReject = ("reconcile_item_reject", "否定比对条目"),
        ReconcileItemAssign = ("reconcile_item_assign", "交办比对条目"),
        ReconcileRunWithdraw = ("reconcile_run_withdraw", "撤回三方比对"),
        ReconcileIdReveal = ("reconcile_id_reveal", "查看比对条目的完整身份证号码"),
        // Quarterly reports.
        QuarterlyReportFreeze = ("quarterly_report_freeze", "生成季度报告"),
        QuarterlyReportRefresh = ("quarterly_report_refresh", "更新季度报告"),
        QuarterlyReportSubmit = ("quarterly_report_submit", "上报季度报告"),
        QuarterlyReportVerify = ("quarterly_report_verify", "核实季度报告"),
        QuarterlyReportConfirm = ("quarterly_report_confirm", "签字确认季度报告"),
        QuarterlyReportScan = ("quarterly_report_scan", "上传季度报告签字盖章页"),
        QuarterlyReportApprove = ("quarterly_report_approve", "审核通过季度报告"),
        QuarterlyReportReturn = ("quarterly_report_return", "退回季度报告"),
        RankingRead = ("ranking_read", "查看定期通报"),
    }
}

impl AuditAction {
    /// A step of a protection case.
    pub fn case(action: CaseAction) -> AuditAction {
        match action {
            CaseAction::Receive => AuditAction::CaseReceive,
            CaseAction::Respond => AuditAction::CaseRespond,
            CaseAction::NotifyTown => AuditAction::CaseNotifyTown,
            CaseAction::RequestClose => AuditAction::CaseRequestClose,
            CaseAction::ApproveClose => AuditAction::CaseApproveClose,
            CaseAction::RejectClose => AuditAction::CaseRejectClose,
            CaseAction::Reopen => AuditAction::CaseReopen,
        }
    }

    /// A decision on a 三方比对 item.
    pub fn reconcile_item(decision: Decision) -> AuditAction {
        match decision {
            Decision::Accept => AuditAction::ReconcileItemAccept,
            Decision::Reject => AuditAction::ReconcileItemReject,
            Decision::Assign => AuditAction::ReconcileItemAssign,
        }
    }

    /// The words for a stored code; a code this version does not know (an older or newer
    /// server's) is shown as it is.
    pub fn words(code: &str) -> String {
        AuditAction::ALL
            .iter()
            .find(|a| a.code() == code)
            .map_or_else(|| code.to_owned(), |a| a.label().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_words_are_each_used_once() {
        let mut codes: Vec<&str> = AuditAction::ALL.iter().map(|a| a.code()).collect();
        let mut labels: Vec<&str> = AuditAction::ALL.iter().map(|a| a.label()).collect();
        let n = codes.len();
        codes.sort();
        codes.dedup();
        labels.sort();
        labels.dedup();
        assert_eq!((codes.len(), labels.len()), (n, n));
    }

    #[test]
    fn computed_actions_keep_the_codes_written_before() {
        assert_eq!(
            AuditAction::case(CaseAction::NotifyTown).code(),
            "case_notify_town"
        );
        assert_eq!(
            AuditAction::reconcile_item(Decision::Assign).code(),
            "reconcile_item_assign"
        );
        assert_eq!(
            AuditAction::words("login_throttled"),
            "登录被限制（尝试过多）"
        );
        assert_eq!(
            AuditAction::words("from_a_later_version"),
            "from_a_later_version"
        );
    }
}
