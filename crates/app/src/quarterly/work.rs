//! The quarterly reports waiting on a person (`app::work`): the unit's own report of the quarter
//! just ended to submit (or, returned, to correct), the towns' reports a department checks, the
//! reports of the units below to approve. Each is due on its county's deadline
//! (`domain::quarterly::Deadlines`; 龙里 003 七(二)). Not audited: the work list is, once.

use super::*;
use shouwang_domain::quarterly::may_verify;
use shouwang_domain::work::{WorkItem, WorkKind};

/// The day a unit's report of `q` is due, by its county's deadlines.
async fn due(app: &App, region: &RegionCode, q: Quarter) -> Result<NaiveDate> {
    Ok(app
        .store
        .counties()
        .county_settings(region)
        .await?
        .deadlines(app.policies.report_deadlines)
        .due(region, q))
}

pub(crate) async fn work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    let Scope::Region { code: mine } = actor.scope() else {
        return Ok(vec![]);
    };
    let today = app.store.today();
    // The quarter being reported is the last one that ended.
    let q = Quarter::of(today).previous();
    let label = q.label();
    let reports = app
        .store
        .quarterly()
        .quarterly_reports_within(&mine, q)
        .await?;
    let href = |r: Option<&StoredReport>| match r {
        Some(r) => format!("/quarterly/{}", r.id),
        None => format!("/quarterly?quarter={q}"),
    };
    let mut out = Vec::new();
    // The unit's own report.
    if reporting_level(&mine).is_some() && may_prepare(actor, &mine) {
        let own = reports.iter().find(|r| r.region == mine);
        let day = due(app, &mine, q).await?;
        match own.map(|r| r.status) {
            None | Some(ReportStatus::Frozen) => out.push(
                WorkItem::new(
                    WorkKind::QuarterlyToPrepare,
                    format!("提交{label}报表"),
                    href(own),
                )
                .due(day, today),
            ),
            // Submitted, not yet signed: the filer sees to it that the signers confirm, or
            // uploads the signed and stamped page.
            Some(ReportStatus::Signing) => out.push(
                WorkItem::new(
                    WorkKind::QuarterlyToPrepare,
                    format!("{label}报表待复核人、单位负责人签字确认（或上传签字盖章页）"),
                    href(own),
                )
                .due(day, today),
            ),
            Some(ReportStatus::Returned) => out.push(
                WorkItem::new(
                    WorkKind::QuarterlyReturned,
                    format!("{label}报表被退回：修改后重新提交"),
                    href(own),
                )
                .due(day, today),
            ),
            Some(ReportStatus::Submitted | ReportStatus::Approved) => {}
        }
    }
    // The reports this person is named on as a signer (the quarter just ended, or this one if a
    // report of it was made early).
    let current = app
        .store
        .quarterly()
        .quarterly_reports_within(&mine, Quarter::of(today))
        .await?;
    let signing: Vec<&StoredReport> = reports
        .iter()
        .chain(current.iter())
        .filter(|r| r.status == ReportStatus::Signing)
        .collect();
    if !signing.is_empty() {
        let me = super::signing::reader_name(app, actor).await?;
        for r in signing {
            for signer in super::signing::signs_as(actor, &me, r) {
                out.push(
                    WorkItem::new(
                        WorkKind::QuarterlyToSign,
                        format!("作为{}签字确认{}报表", signer.label(), r.quarter.label()),
                        href(Some(r)),
                    )
                    .due(due(app, &r.region, r.quarter).await?, today),
                );
            }
        }
    }
    let submitted = reports
        .iter()
        .filter(|r| r.status == ReportStatus::Submitted && r.region != mine);
    for r in submitted {
        // The level directly above approves it; the departments check a town's sections first.
        let approves =
            may_approve(actor, &r.region) && reporting_level(&mine) == Some(r.region.level());
        let checks: Vec<Section> = [
            (Section::Police, &r.police_check),
            (Section::Education, &r.education_check),
        ]
        .into_iter()
        .filter(|(s, check)| check.is_none() && may_verify(actor, &r.region, *s))
        .map(|(s, _)| s)
        .collect();
        if !approves && checks.is_empty() {
            continue;
        }
        let name = crate::places::name(app, &r.region).await?;
        // All of it is due by the approving level's own deadline.
        let parent = r.region.parent().unwrap_or_else(|| r.region.clone());
        let day = due(app, &parent, q).await?;
        if approves {
            out.push(
                WorkItem::new(
                    WorkKind::QuarterlyToApprove,
                    format!("审核{name}{label}报表"),
                    href(Some(r)),
                )
                .due(day, today),
            );
        }
        for section in checks {
            out.push(
                WorkItem::new(
                    WorkKind::QuarterlyToVerify,
                    format!("核实{name}{label}报表：{}", section.label()),
                    href(Some(r)),
                )
                .due(day, today),
            );
        }
    }
    Ok(out)
}
