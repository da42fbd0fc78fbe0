//! The signatures of a submitted report (issue 26): its 复核人 and 单位负责人 confirm in the system,
//! each a user of the unit other than the filer whose name is the one the report gives; or the
//! signed and stamped page is uploaded (龙里 003 七(二): 签字确认，加盖公章). Until then the report
//! is not submitted: the level above does not see it to approve, nor the departments to check.

use super::review::went_up;
use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::QuarterlyReportId;
use shouwang_domain::protection::EvidenceKind;
use shouwang_store::quarterly::Confirmation;

/// The signers the actor may confirm as on this report now.
pub(super) fn signs_as(actor: &Actor, actor_name: &str, r: &StoredReport) -> Vec<Signer> {
    if r.status != ReportStatus::Signing {
        return vec![];
    }
    Signer::ALL
        .iter()
        .copied()
        .filter(|s| r.signatures.of(*s).is_none())
        // One person signs once: a reviewer who is also the named head confirms as one of them.
        .filter(|_| {
            r.signatures
                .reviewer
                .iter()
                .chain(r.signatures.head.iter())
                .all(|c| c.username != actor.username)
        })
        .filter(|s| {
            let named = match s {
                Signer::Reviewer => r.reviewer.as_deref(),
                Signer::Head => r.head.as_deref(),
            };
            quarterly::may_confirm(
                actor,
                actor_name,
                &r.region,
                r.filer_user_id.as_deref(),
                named.unwrap_or(""),
            )
        })
        .collect()
}

/// The actor's name as a report names its signers (their display name, else their username).
pub(super) async fn reader_name(app: &App, actor: &Actor) -> Result<String> {
    Ok(app
        .store
        .users()
        .display_name(&actor.user_id)
        .await?
        .unwrap_or_else(|| actor.username.clone()))
}

/// The actor confirms as `signer` (`reviewer` or `head`) the report they are named on.
pub async fn confirm(
    app: &App,
    actor: &Actor,
    id: &QuarterlyReportId,
    signer: &str,
) -> Result<ReportView> {
    let signer = Signer::parse(signer)
        .ok_or_else(|| ValidationErrors::single("as", "as 应为 reviewer 或 head"))?;
    let r = load(app, actor, id).await?;
    if r.status != ReportStatus::Signing {
        return Err(Error::Conflict {
            field: Some("status".into()),
            message: format!("报表当前状态为“{}”，不需要签字确认", r.status.label()),
        });
    }
    let name = reader_name(app, actor).await?;
    if !signs_as(actor, &name, &r).contains(&signer) {
        return Err(Error::Forbidden);
    }
    let c = Confirmation {
        username: actor.username.clone(),
        name: name.clone(),
        at: app
            .store
            .clock()
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let mut tx = app.store.begin().await?;
    if !tx
        .quarterly()
        .confirm_signature(&r, signer, c.clone())
        .await?
    {
        return Err(changed_meanwhile());
    }
    tx.quarterly()
        .add_report_event(
            &r.id,
            &actor.username,
            "confirmed",
            &format!("{}：{name}签字确认", signer.label()),
        )
        .await?;
    let mut signatures = r.signatures.clone();
    match signer {
        Signer::Reviewer => signatures.reviewer = Some(c),
        Signer::Head => signatures.head = Some(c),
    }
    if signatures.complete() {
        went_up(
            app,
            &mut tx,
            &r,
            &actor.username,
            "复核人、单位负责人均已签字确认",
        )
        .await?;
    }
    tx.audit(
        actor,
        AuditAction::QuarterlyReportConfirm,
        subject(&r),
        serde_json::json!({"as": signer.code()}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}

/// The unit keeps the page its 复核人 and 单位负责人 signed and stamped (a scan or a photo, PDF,
/// JPEG, PNG or WebP, sniffed from its bytes): the report goes up.
pub async fn attach_signed_page(
    app: &App,
    actor: &Actor,
    id: &QuarterlyReportId,
    bytes: &[u8],
) -> Result<ReportView> {
    let r = load(app, actor, id).await?;
    if !may_prepare(actor, &r.region) {
        return Err(Error::Forbidden);
    }
    if r.status != ReportStatus::Signing {
        return Err(Error::Conflict {
            field: Some("status".into()),
            message: format!(
                "报表当前状态为“{}”，提交并填写复核人、单位负责人后才能上传签字盖章页",
                r.status.label()
            ),
        });
    }
    let kind = EvidenceKind::sniff(bytes).map_err(|m| ValidationErrors::single("file", m))?;
    let mut tx = app.store.begin().await?;
    if !tx
        .quarterly()
        .attach_signed_scan(&r, kind.code(), bytes)
        .await?
    {
        return Err(changed_meanwhile());
    }
    went_up(
        app,
        &mut tx,
        &r,
        &actor.username,
        "已上传复核人、单位负责人签字盖章页",
    )
    .await?;
    tx.audit(
        actor,
        AuditAction::QuarterlyReportScan,
        subject(&r),
        serde_json::json!({"kind": kind.code(), "bytes": bytes.len()}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}

/// The signed page of a report the actor may read: (kind, bytes).
pub async fn signed_page(
    app: &App,
    actor: &Actor,
    id: &QuarterlyReportId,
) -> Result<(String, Vec<u8>)> {
    let r = load(app, actor, id).await?;
    app.store
        .quarterly()
        .signed_scan(&r.id)
        .await?
        .ok_or(Error::NotFound)
}
