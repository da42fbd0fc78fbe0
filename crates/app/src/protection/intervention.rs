//! Guardianship intervention and the reminders of revocation's grounds.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::CaseId;
use shouwang_domain::protection::CaseEventKind;

/// What one intervention step records.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct InterventionInput {
    /// criticism_education, admonition, warning_letter, protection_order, administrative_penalty,
    /// criminal_referral, revocation
    pub measure: String,
    /// The step (see each measure's steps: e.g. warning_letter issued → served → village_told →
    /// follow_up).
    pub stage: String,
    pub note: String,
    /// Revocation's application: the ground (民法典 Art. 36) and the applicant.
    pub ground: Option<String>,
    pub applicant: Option<String>,
}

/// Records a step of a guardianship intervention on a case the actor works on: the measure's
/// steps in order, by the role the law gives it; a revocation's application names its ground and
/// applicant.
pub async fn intervene(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    input: &InterventionInput,
) -> Result<CaseId> {
    use shouwang_domain::protection::{Measure, RevocationGround, Stage};
    let measure = Measure::parse(&input.measure)
        .ok_or_else(|| ValidationErrors::single("measure", "请选择干预措施"))?;
    let stage = Stage::parse(&input.stage)
        .ok_or_else(|| ValidationErrors::single("stage", "请选择步骤"))?;
    let note = note_of(
        &input.note,
        "note",
        Some("请填写具体情况（时间、对象、内容）"),
    )?;
    let (ground, applicant) = if measure == Measure::Revocation && stage == Stage::Applied {
        let ground = input
            .ground
            .as_deref()
            .and_then(RevocationGround::parse)
            .ok_or_else(|| {
                ValidationErrors::single(
                    "ground",
                    "请选择撤销监护资格的法定情形（民法典第三十六条）",
                )
            })?;
        let applicant = input
            .applicant
            .as_deref()
            .map(shouwang_domain::text::clean)
            .filter(|a| !a.is_empty() && a.chars().count() <= 100)
            .ok_or_else(|| ValidationErrors::single("applicant", "请填写申请人（100字以内）"))?;
        (Some(ground), Some(applicant))
    } else {
        (None, None)
    };
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !measure.recorded_by(stage, actor.role) {
        return Err(Error::Forbidden);
    }
    if matches!(case.status, CaseStatus::Reported | CaseStatus::Closed) {
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "该个案当前状态为“{}”，不能记录监护干预",
                case.status.label()
            ),
        });
    }
    let mut tx = app.store.begin().await?;
    hold(
        &mut tx,
        &case,
        &[
            CaseStatus::Responding,
            CaseStatus::Assessing,
            CaseStatus::Closing,
        ],
    )
    .await?;
    let done = tx.protection().recorded_stages(&case.id, measure).await?;
    protection::next_stage(measure, &done, stage)
        .map_err(|m| ValidationErrors::single("stage", m))?;
    tx.protection()
        .add_intervention(
            &case.id,
            &By::of(actor),
            measure,
            stage,
            &shouwang_store::protection::InterventionDetail {
                note: note.clone(),
                ground,
                applicant,
            },
        )
        .await?;
    tx.protection()
        .add_case_event(
            &case.id,
            &By::of(actor),
            CaseEventKind::Intervention,
            Some(measure.code()),
            Some(stage.code()),
            &note,
        )
        .await?;
    let told = protection::who_is_told(measure, stage, &case.situations);
    for (role, body) in &told {
        // The village is told at the case's village; the police and the town at its town.
        let org = if *role == Role::Village {
            &case.village
        } else {
            &case.town
        };
        tx.notifications()
            .notify_org(
                org,
                &[*role],
                "intervention_notice",
                Some(case.id.as_str()),
                &format!("守望：{}（{}）", measure.label(), stage.label()),
                body,
            )
            .await?;
    }
    tx.audit(
        actor,
        AuditAction::CaseIntervene,
        subject(&case),
        serde_json::json!({"measure": measure.code(), "stage": stage.code(),
            "told": told.iter().map(|(r, _)| r.code()).collect::<Vec<_>>()}),
    )
    .await?;
    tx.commit().await?;
    Ok(case_id.clone())
}

/// What the case's records say about revoking the guardian's qualification.
pub(super) fn revocation_reminders(
    view: &CaseView,
    parents_silent_since: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) -> Vec<String> {
    use shouwang_domain::protection::{GuardianshipFacts, Measure, Stage};
    let facts = GuardianshipFacts {
        placement_since: view
            .placements
            .iter()
            .filter(|p| p.record.end_date.is_none())
            .map(|p| p.record.start_date)
            .min(),
        protection_order_breached: view
            .interventions
            .iter()
            .any(|i| i.measure == Measure::ProtectionOrder && i.stage == Stage::Breached),
        criminal_referral: view
            .interventions
            .iter()
            .any(|i| i.measure == Measure::CriminalReferral),
        revocation_applied: view
            .interventions
            .iter()
            .any(|i| i.measure == Measure::Revocation),
        parents_silent_since,
    };
    protection::revocation_grounds(&facts, today)
        .into_iter()
        .map(|(ground, why)| format!("{why}，符合民法典第三十六条“{}”", ground.label()))
        .collect()
}
