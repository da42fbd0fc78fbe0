//! The cases waiting on a person (`app::work`): reports to receive, emergency steps and feedback
//! due, cases to assess, closings to approve, and a provider's referrals. Not audited here: the
//! work list is audited once.

use super::*;
use shouwang_domain::protection::{CaseEventKind, ReferralStatus};
use shouwang_domain::work::{WorkItem, WorkKind};

/// The most cases one list reads (a county's open cases are far fewer).
const OPEN_CASES: i64 = 500;

fn situations(case: &CaseRow) -> String {
    case.situations
        .iter()
        .map(|s| s.label())
        .collect::<Vec<_>>()
        .join("、")
}

pub(crate) async fn work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    let mut out = referral_work(app, actor).await?;
    out.extend(unfiled_work(app, actor).await?);
    let police = actor.role == Role::Police;
    let civil = matches!(actor.role, Role::Town | Role::County | Role::CountyAdmin);
    if !police && !civil {
        return Ok(out);
    }
    escalate(app).await?;
    let rows = app
        .store
        .protection()
        .reports(&ReportFilter {
            area_within: Some(actor.region.clone()),
            open_only: true,
            limit: OPEN_CASES,
            ..Default::default()
        })
        .await?;
    let now = app.store.clock().now();
    let today = china_date(now);
    let delay = app.policies.escalation;
    // The registered children's names in one query (as the inbox reads them), not one a case.
    let ids: Vec<&str> = rows
        .iter()
        .filter_map(|(case, _)| case.child_id.as_ref().map(|id| id.as_str()))
        .collect();
    let names = app.store.children().child_names(&ids).await?;
    for (case, report) in rows {
        let name = match &case.child_id {
            Some(id) => names.get(id.as_str()).cloned().unwrap_or_default(),
            None => report.body.child_name.clone().unwrap_or_default(),
        };
        let href = format!("/cases/{}", case.id);
        let about = |line: WorkItem| match &case.child_id {
            Some(id) => line.about(id.as_str()),
            None => line,
        };
        // 受理: the police, and the county once the report went up to it (景洪 000 三(二)3).
        if report.status == "unreceived" && (police || (civil && report.escalated_at.is_some())) {
            if actor.role == Role::Town {
                continue;
            }
            let due = report.filed_at.instant() + delay;
            let mut line = WorkItem::new(
                WorkKind::ReportUnreceived,
                format!("受理强制报告：{name}（{}）", situations(&case)),
                "/reports?status=unreceived",
            )
            .due(china_date(due), today);
            if protection::escalation_due(report.filed_at.instant(), now, delay) {
                line = line.late();
            }
            out.push(about(line));
            continue;
        }
        if police {
            out.extend(police_work(app, &case, &report, &name, &href, now).await?);
            continue;
        }
        match case.status {
            // Another civil-affairs user approves (结案申请需由另一名…审批).
            CaseStatus::Closing
                if case.close_requested_by.as_deref() != Some(actor.user_id.as_str()) =>
            {
                out.push(about(WorkItem::new(
                    WorkKind::CaseStepDue,
                    format!("审批结案申请：{name}"),
                    href,
                )));
            }
            // The town assesses once the police told it (景洪 000 三(二)4 评估帮扶).
            CaseStatus::Assessing if case.risk.is_none() && actor.role == Role::Town => {
                out.push(about(WorkItem::new(
                    WorkKind::CaseStepDue,
                    format!("评估帮扶：{name}（{}）", situations(&case)),
                    href,
                )));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A received case's emergency steps not yet recorded, and the feedback due to the reporter.
async fn police_work(
    app: &App,
    case: &CaseRow,
    report: &ReportRow,
    name: &str,
    href: &str,
    now: DateTime<Utc>,
) -> Result<Vec<WorkItem>> {
    let today = china_date(now);
    let mut out = Vec::new();
    let with_child = |line: WorkItem| match &case.child_id {
        Some(id) => line.about(id.as_str()),
        None => line,
    };
    if let (Some(received), CaseStatus::Responding) = (&report.received_at, case.status) {
        let events = app.store.protection().case_events(&case.id).await?;
        let open: Vec<Step> = protection::playbook(&case.situations)
            .into_iter()
            .filter(|step| {
                !events.iter().any(|e| {
                    let kind = CaseEventKind::parse(&e.kind);
                    (kind == Some(CaseEventKind::Step) && e.code.as_deref() == Some(step.code()))
                        || (*step == Step::NotifyTown && kind == Some(CaseEventKind::NotifiedTown))
                })
            })
            .collect();
        if let Some(first) = open.iter().min_by_key(|s| s.time_limit()) {
            let r = received.instant();
            let title = match open.len() {
                1 => format!("{name}：{}", first.label()),
                n => format!("{name}：{}等 {n} 项处置待记录", first.label()),
            };
            let mut line = WorkItem::new(WorkKind::CaseStepDue, title, href)
                .due(china_date(r + first.time_limit()), today);
            if open.iter().any(|s| protection::step_overdue(*s, r, now)) {
                line = line.late();
            }
            out.push(with_child(line));
        }
    }
    // 受案、立案后三日内反馈 (强制报告意见 Art. 8).
    if let (Some(accepted), None) = (&report.accepted_at, &report.feedback_at) {
        out.push(with_child(
            WorkItem::new(
                WorkKind::CaseStepDue,
                format!("{name}：向报告单位反馈处理情况"),
                href,
            )
            .due(protection::feedback_due(accepted.china_date()), today),
        ));
    }
    Ok(out)
}

/// A provider's referrals to answer (within 7 days) or to deliver (within 30 of accepting).
async fn referral_work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    let Some(agency) = actor.agency_id.as_deref() else {
        return Ok(vec![]);
    };
    if actor.role != Role::Agency {
        return Ok(vec![]);
    }
    let today = app.store.today();
    let referrals = app.store.protection().referrals_of_agency(agency).await?;
    let open: Vec<_> = referrals
        .into_iter()
        .filter(|r| matches!(r.status, ReferralStatus::Pending | ReferralStatus::Accepted))
        .collect();
    let views = referral_views(app, open).await?;
    let day = |t: &str| At::parse(t).map(|t| t.china_date());
    Ok(views
        .into_iter()
        .map(|v| {
            let r = &v.referral;
            let referred = day(&r.referred_at).unwrap_or(today);
            let (what, due) = match r.status {
                ReferralStatus::Pending => (
                    "答复转介",
                    referred + Duration::days(protection::REFERRAL_ANSWER_DAYS),
                ),
                _ => (
                    "提供服务",
                    r.answered_at.as_deref().and_then(day).unwrap_or(referred)
                        + Duration::days(protection::REFERRAL_DELIVERY_DAYS),
                ),
            };
            let line = WorkItem::new(
                WorkKind::ReferralWaiting,
                format!("{what}：{}（{}）", v.child_name, r.kind.label()),
                "/referrals",
            )
            .due(due, today);
            if v.overdue { line.late() } else { line }
        })
        .collect())
}

/// 应报未报: the village reports each child at once (a line per child, to the report form); a town
/// or a county sees that it is done (one line, to the list). Late from the day it was recorded:
/// the law says 立即.
async fn unfiled_work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    if !matches!(
        actor.role,
        Role::Village | Role::Town | Role::County | Role::CountyAdmin
    ) {
        return Ok(vec![]);
    }
    let visits = unreported_visits(app, actor, None, 1000).await?;
    if actor.role != Role::Village {
        let total =
            app.store.protection().unreported_count(actor, None).await? + visits.len() as i64;
        return Ok(match total {
            0 => vec![],
            n => vec![
                WorkItem::new(
                    WorkKind::ReportUnfiled,
                    format!("{n} 名儿童单独居住、无人监护或父或母无监护能力，尚未提交强制报告"),
                    "/reports/unreported",
                )
                .late(),
            ],
        });
    }
    let mut items = app.store.protection().unreported(actor, None, 200).await?;
    items.extend(visits);
    Ok(items
        .into_iter()
        .map(|u| {
            WorkItem::new(
                WorkKind::ReportUnfiled,
                format!(
                    "向公安机关报告：{}（单独居住、无人监护或父或母无监护能力）",
                    u.name
                ),
                format!("/reports/new?child_id={}", u.child_id),
            )
            .late()
            .about(u.child_id)
        })
        .collect())
}
