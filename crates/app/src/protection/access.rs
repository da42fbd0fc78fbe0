//! Who works on a case, and what a case's audit names.

use super::*;

pub(super) const CONFIDENTIAL: &str = "报告人信息已保密";

pub(super) fn case_error(e: CaseError) -> Error {
    match e {
        CaseError::Role(_) => Error::Forbidden,
        other => Error::Conflict {
            field: None,
            message: other.to_string(),
        },
    }
}

/// Whether the actor works on this case (beyond having filed it). The court and the
/// procuratorate: see [`sent_to`].
pub(super) fn works_on(actor: &Actor, case: &CaseRow, report: &ReportRow) -> bool {
    match actor.role {
        Role::Police => {
            actor.region.contains(&case.town) || actor.region.contains(&report.receiving_org)
        }
        Role::Village | Role::Town | Role::County | Role::CountyAdmin | Role::Oversight => {
            actor.region.contains(&case.village)
        }
        Role::School
        | Role::Agency
        | Role::Court
        | Role::Procuratorate
        | Role::Education
        | Role::Department => false,
    }
}

/// Whether a case of the court's or procuratorate's county was sent to it: an application for a
/// protection order or a revocation (the court), a criminal referral (both).
pub(super) async fn sent_to(app: &App, actor: &Actor, case: &CaseRow) -> Result<bool> {
    use shouwang_domain::protection::Measure;
    if !actor.region.contains(&case.town) {
        return Ok(false);
    }
    let measures: Vec<Measure> = app
        .store
        .protection()
        .interventions(&case.id)
        .await?
        .into_iter()
        .map(|i| i.measure)
        .collect();
    Ok(measures
        .iter()
        .any(|m| measures_sent_to(actor.role).contains(m)))
}

/// The measures that send a case to a court or a procuratorate.
pub(super) fn measures_sent_to(role: Role) -> &'static [shouwang_domain::protection::Measure] {
    use shouwang_domain::protection::Measure;
    match role {
        Role::Court => &[
            Measure::ProtectionOrder,
            Measure::Revocation,
            Measure::CriminalReferral,
        ],
        Role::Procuratorate => &[Measure::CriminalReferral],
        _ => &[],
    }
}

pub(super) fn subject(case: &CaseRow) -> Subject<'_> {
    Subject {
        entity: "case",
        id: Some(case.id.as_str()),
        region: Some(case.village.as_str()),
    }
}

pub(super) async fn unit_of(app: &App, actor: &Actor) -> Result<String> {
    Ok(match &actor.agency_id {
        Some(a) => app
            .store
            .regions()
            .agency_name(a)
            .await?
            .unwrap_or_default(),
        None => app
            .store
            .regions()
            .region(&actor.region)
            .await?
            .map(|r| r.name)
            .unwrap_or_default(),
    })
}

/// Holds the case under `tx` while it is still in one of `statuses` (what was checked before the
/// transaction is checked again under the row's lock): two requests at once act one after the
/// other, and the second is refused if the first moved the case on.
pub(super) async fn hold(tx: &mut Tx, case: &CaseRow, statuses: &[CaseStatus]) -> Result<()> {
    if tx.protection().hold_case(&case.id, statuses).await? {
        Ok(())
    } else {
        Err(Error::Conflict {
            field: None,
            message: "该个案刚被他人更新，请刷新页面后再操作".into(),
        })
    }
}
