//! Submitting, checking and approving a report.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::Role;
use shouwang_domain::ids::QuarterlyReportId;
use shouwang_store::Tx;

/// The users who act on a unit's report at `region`: its own staff (who prepare it) or, for the
/// level above, those who approve.
pub(super) fn staff(region: &RegionCode) -> &'static [Role] {
    match region.level() {
        RegionLevel::Town => &[Role::Town],
        RegionLevel::County => &[Role::County, Role::CountyAdmin],
        _ => &[Role::Oversight],
    }
}

/// Tells whoever the report now waits on (the message names the unit and the quarter only).
pub(super) async fn tell(
    tx: &mut Tx,
    at: &RegionCode,
    roles: &[Role],
    kind: &str,
    body: &str,
) -> Result<()> {
    tx.notifications()
        .notify_org(at, roles, kind, None, "守望：季度报表", body)
        .await?;
    Ok(())
}

/// A report that went up (both signed, or its signed page uploaded, as `how` says): its timeline
/// records the submission (the day the 定期通报 counts), and the level above, which approves it
/// after the departments check a town's sections, is told, as are those departments.
pub(super) async fn went_up(
    app: &App,
    tx: &mut Tx,
    r: &StoredReport,
    by: &str,
    how: &str,
) -> Result<()> {
    tx.quarterly()
        .add_report_event(&r.id, by, "submitted", how)
        .await?;
    let what = named(app, r).await?;
    if let Some(above) = r.region.parent() {
        tell(
            tx,
            &above,
            staff(&above),
            "quarterly_submitted",
            &format!("{what}已提交，请登录守望审核。"),
        )
        .await?;
    }
    if r.region.level() == RegionLevel::Town {
        let county = r.region.at_level(RegionLevel::County);
        for (section, at) in [
            (Section::Police, Some(r.region.clone())),
            (Section::Police, county.clone()),
            (Section::Education, county.clone()),
        ] {
            if let Some(at) = at {
                tell(
                    tx,
                    &at,
                    &[section.role()],
                    "quarterly_to_verify",
                    &format!("{what}已提交，请登录守望核实{}。", section.label()),
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// The report's unit and quarter in words (`某某镇2026年第三季度报表`).
pub(super) async fn named(app: &App, r: &StoredReport) -> Result<String> {
    let unit = crate::places::name(app, &r.region).await?;
    Ok(format!("{unit}{}报表", r.quarter.label()))
}

/// Who signs a submission besides the submitting user (填表人): both named, each a person other
/// than the filer, who then confirm (`signing`).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SubmitInput {
    /// 复核人: required.
    pub reviewer: Option<String>,
    /// 单位负责人 (the unit's head who signs and stamps it): required.
    pub head: Option<String>,
}

/// Submits a frozen report to the level above; the 勾稽关系 must hold and every child be placed.
pub async fn submit(
    app: &App,
    actor: &Actor,
    id: &QuarterlyReportId,
    input: &SubmitInput,
) -> Result<ReportView> {
    let r = load(app, actor, id).await?;
    if !may_prepare(actor, &r.region) {
        return Err(Error::Forbidden);
    }
    step(&r, ReportAction::Submit)?;
    let checks = view(
        &r.region,
        r.as_of,
        &Figures::from_values(&r.figures),
        r.unplaced,
        true,
    )
    .checks;
    if !checks.is_empty() {
        return Err(Error::Conflict {
            field: Some("checks".into()),
            message: format!("未通过表间勾稽关系校验，不能提交：{}", checks.join("；")),
        });
    }
    let me = app
        .store
        .users()
        .display_name(&actor.user_id)
        .await?
        .unwrap_or_else(|| actor.username.clone());
    // Three signatures are three people: nobody's name is written for them, and the filer does not
    // sign for the others (龙里 003 七(二): 签字确认，加盖公章).
    let mut e = ValidationErrors::default();
    let mut signer = |v: &Option<String>, who: Signer| {
        let s = v.as_deref().map(text::clean).unwrap_or_default();
        let field = who.code();
        if s.is_empty() {
            e.add(field, format!("请填写{}姓名", who.label()));
        } else if s.chars().count() > 50 {
            e.add(field, "姓名请不超过50字");
        } else if s == text::clean(&me) {
            e.add(
                field,
                format!(
                    "{}应为填表人以外的另一人（由其本人在系统中确认）",
                    who.label()
                ),
            );
        }
        s
    };
    let reviewer = signer(&input.reviewer, Signer::Reviewer);
    let head = signer(&input.head, Signer::Head);
    e.into_result(())?;
    let mut tx = app.store.begin().await?;
    if !tx
        .quarterly()
        .submit_quarterly_report(&r, &actor.user_id, &me, &reviewer, &head)
        .await?
    {
        return Err(changed_meanwhile());
    }
    tx.quarterly()
        .add_report_event(
            &r.id,
            &actor.username,
            // Submitted for signing; the report goes up (`submitted`) once signed.
            "signing",
            &format!("填表人：{me}；复核人：{reviewer}；单位负责人：{head}"),
        )
        .await?;
    // The signers are told: the report waits on them now.
    let what = named(app, &r).await?;
    tell(
        &mut tx,
        &r.region,
        staff(&r.region),
        "quarterly_to_sign",
        &format!(
            "{what}待复核人（{reviewer}）和单位负责人（{head}）登录守望签字确认，或上传签字盖章页。"
        ),
    )
    .await?;
    tx.audit(
        actor,
        AuditAction::QuarterlyReportSubmit,
        subject(&r),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}

/// A department checks its section of a submitted town report (the education bureau the
/// 控辍保学 figures, the police the 户籍 and 应急处置 ones), with what it found.
pub async fn verify(
    app: &App,
    actor: &Actor,
    id: &QuarterlyReportId,
    section: &str,
    note: Option<&str>,
) -> Result<ReportView> {
    let section = Section::parse(section)
        .ok_or_else(|| ValidationErrors::single("section", "section 应为 education 或 police"))?;
    let r = load(app, actor, id).await?;
    if !quarterly::may_verify(actor, &r.region, section) {
        return Err(Error::Forbidden);
    }
    if r.status != ReportStatus::Submitted {
        return Err(Error::Conflict {
            field: Some("status".into()),
            message: format!("报表当前状态为“{}”，提交后才能核实", r.status.label()),
        });
    }
    let note = note.map(text::clean).unwrap_or_default();
    if note.chars().count() > 500 {
        return Err(ValidationErrors::single("note", "核实意见请不超过500字").into());
    }
    let name = app
        .store
        .users()
        .display_name(&actor.user_id)
        .await?
        .unwrap_or_else(|| actor.username.clone());
    let check = SectionCheck {
        username: actor.username.clone(),
        name: name.clone(),
        at: app
            .store
            .clock()
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        note: note.clone(),
    };
    let mut tx = app.store.begin().await?;
    if !tx.quarterly().check_section(&r, section, &check).await? {
        return Err(changed_meanwhile());
    }
    tx.quarterly()
        .add_report_event(
            &r.id,
            &actor.username,
            "verified",
            &format!(
                "{}：{name}{}",
                section.label(),
                if note.is_empty() {
                    String::new()
                } else {
                    format!("（{note}）")
                }
            ),
        )
        .await?;
    if let Some(above) = r.region.parent() {
        let what = named(app, &r).await?;
        tell(
            &mut tx,
            &above,
            staff(&above),
            "quarterly_verified",
            &format!("{what}的{}已核实。", section.label()),
        )
        .await?;
    }
    tx.audit(
        actor,
        AuditAction::QuarterlyReportVerify,
        subject(&r),
        serde_json::json!({"section": section.code()}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}

/// The level above approves (the report is locked) or returns it with what to correct.
pub async fn decide(
    app: &App,
    actor: &Actor,
    id: &QuarterlyReportId,
    approve: bool,
    comment: Option<&str>,
    items: &[ReturnItem],
) -> Result<ReportView> {
    let r = load(app, actor, id).await?;
    if !may_approve(actor, &r.region) {
        return Err(Error::Forbidden);
    }
    let to = step(
        &r,
        if approve {
            ReportAction::Approve
        } else {
            ReportAction::Return
        },
    )?;
    // A town's report waits for the departments that check its sections, where there are any
    // (龙里 003 七(二): 县民政局要在…县教育局、县公安局核实更新数据的基础上汇总).
    if approve && reporting_level(&r.region) == Some(RegionLevel::Village) {
        let mut waiting = Vec::new();
        for (section, check) in [
            (Section::Education, &r.education_check),
            (Section::Police, &r.police_check),
        ] {
            if check.is_none()
                && app
                    .store
                    .quarterly()
                    .has_role_covering(&r.region, section.role())
                    .await?
            {
                waiting.push(section.label());
            }
        }
        if !waiting.is_empty() {
            return Err(Error::Conflict {
                field: Some("status".into()),
                message: format!("尚待核实：{}", waiting.join("、")),
            });
        }
    }
    let comment = comment.map(text::clean).filter(|c| !c.is_empty());
    let units: Vec<&str> = r.units.keys().map(String::as_str).collect();
    let items = if approve {
        Vec::new()
    } else {
        check_return_items(items, &units)?
    };
    if !approve && comment.is_none() && items.is_empty() {
        return Err(ValidationErrors::single(
            "comment",
            "退回时请写明需要修改的内容（总体意见或逐项意见）",
        )
        .into());
    }
    if comment.as_ref().is_some_and(|c| c.chars().count() > 1000) {
        return Err(ValidationErrors::single("comment", "意见请不超过1000字").into());
    }
    let mut tx = app.store.begin().await?;
    if !tx
        .quarterly()
        .decide_quarterly_report(&r, to, &actor.username, comment.as_deref(), &items)
        .await?
    {
        return Err(changed_meanwhile());
    }
    let mut note = comment.clone().unwrap_or_default();
    for it in &items {
        if !note.is_empty() {
            note.push('；');
        }
        note.push_str(&format!("{}：{}", item_label(it, &r), it.comment));
    }
    tx.quarterly()
        .add_report_event(&r.id, &actor.username, to.code(), &note)
        .await?;
    if !approve {
        let what = named(app, &r).await?;
        tell(
            &mut tx,
            &r.region,
            staff(&r.region),
            "quarterly_returned",
            &format!("{what}已被退回，请登录守望按意见修改后重新提交。"),
        )
        .await?;
    }
    tx.audit(
        actor,
        if approve {
            AuditAction::QuarterlyReportApprove
        } else {
            AuditAction::QuarterlyReportReturn
        },
        subject(&r),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}
