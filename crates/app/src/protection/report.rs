//! Filing a report, its escalation when unreceived.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::CaseId;
use shouwang_domain::protection::CaseEventKind;

/// What the reporter reads back after filing.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filed {
    pub id: String,
    pub case_id: CaseId,
    /// `unreceived` until the police receive it.
    pub status: String,
    /// The region code of the police org it went to (the child's town's station, else the county).
    pub receiving_org: String,
    pub receiving_org_name: String,
}

/// Who reported, for those who may know.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reporter {
    pub name: String,
    pub unit: String,
    pub phone: Option<String>,
}

/// Files a mandatory report: the case opens, the report lands in the inbox of the police of the
/// child's town (else the county's) and in the town's; a child not on the registry also enters the
/// town's registration queue (without the reporter).
pub async fn file(app: &App, actor: &Actor, input: &ReportInput) -> Result<Filed> {
    if !protection::may_report(actor.role) {
        return Err(Error::Forbidden);
    }
    let report = input.parse(app.store.clock().now())?;
    let (child_id, village, child_name) = match &report.child {
        ReportedChild::Registered(id) => {
            // Any child the reporter can see (a teacher's linked pupil, a village's child).
            let row = app
                .store
                .children()
                .visible_child(actor, id)
                .await
                .map_err(|e| match Error::from(e) {
                    Error::NotFound => {
                        ValidationErrors::single("child_id", "找不到该儿童，请改为填写儿童情况")
                            .into()
                    }
                    other => other,
                })?;
            (
                Some(row.id.clone()),
                row.file.village_code.clone(),
                row.file.name.as_str().to_owned(),
            )
        }
        ReportedChild::New { name, village, .. } => {
            // Reports go to a place inside the reporter's county (a village cannot fill another
            // county's queues; a town's or school's area is inside it).
            let county = actor
                .region
                .at_level(RegionLevel::County)
                .unwrap_or_else(|| actor.region.clone());
            if !(county.contains(village) || village.contains(&actor.region)) {
                return Err(ValidationErrors::single(
                    "child.village_code",
                    "所选村（社区）不在您所在的县（市、区）",
                )
                .into());
            }
            (None, village.clone(), name.as_str().to_owned())
        }
    };
    let town = village
        .at_level(RegionLevel::Town)
        .ok_or_else(|| ValidationErrors::single("child.village_code", "请选择到村（社区）一级"))?;
    if app.store.regions().region(&town).await?.is_none() {
        return Err(
            ValidationErrors::single("child.village_code", "该地不在本系统服务范围内").into(),
        );
    }
    let receiving = app.store.protection().police_org_for(&town).await?;
    let body = ReportBody {
        description: report.description.clone(),
        place: report.place.clone(),
        reporter_name: actor.username.clone(),
        reporter_unit: unit_of(app, actor).await?,
        reporter_phone: report.reporter_phone.clone(),
        child_name: matches!(report.child, ReportedChild::New { .. }).then(|| child_name.clone()),
        child_sex: match &report.child {
            ReportedChild::New { sex, .. } => sex.map(|s| s.label().to_owned()),
            _ => None,
        },
        child_birth: match &report.child {
            ReportedChild::New { birth, .. } => birth.map(|b| b.to_string()),
            _ => None,
        },
    };
    let discovered = report
        .discovered_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut tx = app.store.begin().await?;
    let (case_id, report_id) = tx
        .protection()
        .insert_case(&NewCase {
            child_id: child_id.as_ref(),
            town: &town,
            village: &village,
            situations: &report.situations,
            severity: report.severity,
            reporter_user_id: &actor.user_id,
            reporter_role: actor.role.code(),
            receiving_org: &receiving,
            discovered_at: &discovered,
            body: &body,
        })
        .await?;
    tx.protection()
        .add_case_event(
            &case_id,
            &By::of(actor),
            CaseEventKind::Filed,
            None,
            None,
            "",
        )
        .await?;
    if let ReportedChild::New {
        name, sex, birth, ..
    } = &report.child
    {
        // The town registers the child; the queue does not name the reporter.
        let labels: Vec<&str> = report.situations.iter().map(|s| s.label()).collect();
        let queued = tx
            .discoveries()
            .insert_discovery(
                &Discovery {
                    town: town.clone(),
                    village: Some(village.clone()),
                    name: name.clone(),
                    sex: *sex,
                    birth: *birth,
                    situation: format!("强制报告：{}", labels.join("、")),
                    phone: None,
                },
                &actor.user_id,
                "强制报告转入（报告人信息已保密）",
            )
            .await?;
        tx.discoveries()
            .set_discovery_case(&queued, &case_id)
            .await?;
    }
    // The police and the town learn of it now, wherever they are; the message names no one.
    let message = format!(
        "{}有一份新的强制报告（{}），请立即登录守望受理。",
        place_of(&village),
        report.severity.label()
    );
    tx.notifications()
        .notify_org(
            &receiving,
            &[Role::Police],
            "report_filed",
            Some(case_id.as_str()),
            "守望：新的强制报告",
            &message,
        )
        .await?;
    tx.notifications()
        .notify_org(
            &town,
            &[Role::Town],
            "report_filed",
            Some(case_id.as_str()),
            "守望：新的强制报告",
            &message,
        )
        .await?;
    tx.audit(
        actor,
        AuditAction::ReportFile,
        Subject {
            entity: "case",
            id: Some(case_id.as_str()),
            region: Some(village.as_str()),
        },
        serde_json::json!({"report": report_id, "situations": report.situations.iter().map(|s| s.code()).collect::<Vec<_>>()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Filed {
        id: report_id,
        case_id,
        status: "unreceived".into(),
        receiving_org_name: police_name(&receiving),
        receiving_org: receiving.as_str().to_owned(),
    })
}

/// A place's name as people say it (县 乡镇 村).
pub(crate) fn place_of(code: &RegionCode) -> String {
    Divisions::shipped()
        .lineage(code)
        .map(|l| {
            l.iter()
                .skip(2)
                .map(|d| d.name.to_owned())
                .collect::<Vec<_>>()
                .join("")
        })
        .unwrap_or_else(|_| code.to_string())
}

/// The police org's name: the town's station or the county's public security bureau.
fn police_name(org: &RegionCode) -> String {
    let place = Divisions::shipped()
        .lineage(org)
        .map(|l| l.iter().map(|d| d.name.to_owned()).collect::<Vec<_>>())
        .unwrap_or_default();
    let last = place.last().cloned().unwrap_or_else(|| org.to_string());
    match org.level() {
        RegionLevel::Town => format!("{last}派出所"),
        _ => format!("{last}公安局"),
    }
}

/// Sends up to the county the reports nobody received within `delay` (run by the server every
/// minute and before every inbox is read): their receiving org becomes the county, the case's
/// timeline and the audit log say so.
pub async fn escalate(app: &App) -> Result<usize> {
    let delay = app.policies.escalation;
    let filed_by =
        (app.store.clock().now() - delay).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // Inboxes call this on every read: take the write lock only when something is due.
    if !app.store.protection().unreceived_due(&filed_by).await? {
        return Ok(0);
    }
    let mut tx = app.store.begin().await?;
    let sent = tx.protection().escalate_unreceived(&filed_by).await?;
    for (report_id, case_id, county) in &sent {
        tx.protection()
            .add_case_event(
                case_id,
                &By {
                    user_id: None,
                    username: "system",
                    role: "system",
                },
                CaseEventKind::Escalated,
                None,
                None,
                &format!(
                    "超过{}分钟未受理，已上报至{}",
                    delay.num_minutes(),
                    police_name(county)
                ),
            )
            .await?;
        tx.notifications()
            .notify_org(
                county,
                &[Role::Police, Role::County, Role::CountyAdmin],
                "report_escalated",
                Some(case_id.as_str()),
                "守望：强制报告超时未受理",
                &format!(
                    "一份强制报告超过{}分钟未受理，已上报县级，请立即登录处理。",
                    delay.num_minutes()
                ),
            )
            .await?;
        tx.audit_as(
            shouwang_store::Who {
                user_id: None,
                username: "system",
            },
            AuditAction::ReportEscalate,
            Subject {
                entity: "case",
                id: Some(case_id.as_str()),
                region: Some(county.as_str()),
            },
            serde_json::json!({"report": report_id}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(sent.len())
}
