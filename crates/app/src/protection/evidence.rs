//! Evidence: uploaded, listed, read (the reporter's kept from those who may not see the reporter).

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::CaseId;
use shouwang_domain::protection::CaseEventKind;

/// Adds evidence to a case: by those who work on it, or by its reporter. What the bytes are is
/// read from them (a name or a declared type is not trusted); at most
/// [`protection::MAX_EVIDENCE_BYTES`] each and [`protection::MAX_EVIDENCE_PER_CASE`] a case.
pub async fn attach(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    name: &str,
    bytes: &[u8],
) -> Result<shouwang_store::protection::Attachment> {
    let (case, _, _) = load(app, actor, case_id).await?;
    let kind =
        protection::EvidenceKind::sniff(bytes).map_err(|m| ValidationErrors::single("file", m))?;
    let name = protection::evidence_name(name);
    let mut tx = app.store.begin().await?;
    let id = tx
        .protection()
        .add_attachment(
            &case.id,
            &By::of(actor),
            kind.code(),
            &name,
            bytes,
            protection::MAX_EVIDENCE_PER_CASE,
        )
        .await?
        .ok_or_else(|| {
            ValidationErrors::single(
                "file",
                format!("每个个案最多{}个附件", protection::MAX_EVIDENCE_PER_CASE),
            )
        })?;
    tx.protection()
        .add_case_event(
            &case.id,
            &By::of(actor),
            CaseEventKind::Attachment,
            None,
            None,
            &name,
        )
        .await?;
    tx.audit(
        actor,
        AuditAction::CaseAttachmentAdd,
        subject(&case),
        serde_json::json!({"attachment": id, "kind": kind.code(), "size": bytes.len()}),
    )
    .await?;
    tx.commit().await?;
    app.store
        .protection()
        .attachments(&case.id)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(Error::NotFound)
}

/// Which evidence the actor may read: their own uploads; those who work on the case, the rest —
/// but the reporter's uploads only where the reporter may be seen (a photo's name, a letterhead,
/// the uploader's account name identify the reporter as surely as the report's own form).
pub(super) fn evidence_reader<'a>(
    actor: &'a Actor,
    report: &'a ReportRow,
    works: bool,
) -> impl Fn(&shouwang_store::protection::Attachment) -> bool + 'a {
    let sees = protection::sees_reporter(actor, &report.receiving_org, &report.reporter_user_id);
    move |a| a.user_id == actor.user_id || (works && (sees || a.user_id != report.reporter_user_id))
}

/// A case's evidence as the actor may see it: all of it for those who work on the case (the
/// reporter's only where the reporter may be seen), their own uploads for the reporter.
pub async fn attachments(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
) -> Result<Vec<shouwang_store::protection::Attachment>> {
    let (case, report, works) = load(app, actor, case_id).await?;
    let may = evidence_reader(actor, &report, works);
    Ok(app
        .store
        .protection()
        .attachments(&case.id)
        .await?
        .into_iter()
        .filter(|a| may(a))
        .collect())
}

/// One piece of evidence with its bytes, for the same readers; each read is audited.
pub async fn attachment(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    id: &AttachmentId,
) -> Result<(shouwang_store::protection::Attachment, Vec<u8>)> {
    let (case, report, works) = load(app, actor, case_id).await?;
    let may = evidence_reader(actor, &report, works);
    let (a, data) = app
        .store
        .protection()
        .attachment(&case.id, id.as_str())
        .await?
        .filter(|(a, _)| may(a))
        .ok_or(Error::NotFound)?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::CaseAttachmentRead,
        subject(&case),
        serde_json::json!({"attachment": id}),
    )
    .await?;
    tx.commit().await?;
    Ok((a, data))
}
