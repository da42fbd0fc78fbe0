//! 委托监护 (issue 15): the agreement as a tracked document — printed, signed after the carer
//! passed the initial assessment, the scan of the signed paper kept, in force for a term, renewed
//! before it lapses, the school and village told — and the area's lists of what is due: carers to
//! re-assess and agreements to renew. The carer checks themselves are `app::visits` (recorded
//! with visits); the rules are `domain::guardianship`.

use chrono::Duration;
use serde::Serialize;

use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::guardianship::{
    self, AgreementInput, AgreementState, LatestCheck, RENEW_WITHIN_DAYS,
};
use shouwang_domain::protection::EvidenceKind;
use shouwang_store::guardianship::{AgreementView, GuardianshipDue};
use shouwang_store::protection::By;
use shouwang_store::{Result, Store, StoreError, Subject};

/// An agreement with where it stands today.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementNow {
    #[serde(flatten)]
    pub view: AgreementView,
    pub state: AgreementState,
}

fn subject<'a>(child_id: &'a str, village: &'a str) -> Subject<'a> {
    Subject {
        entity: "child",
        id: Some(child_id),
        region: Some(village),
    }
}

/// A child's agreements, newest first, each with its state today.
pub async fn agreements(store: &Store, actor: &Actor, child_id: &str) -> Result<Vec<AgreementNow>> {
    store.visible_child(actor, child_id).await?;
    let today = store.today();
    Ok(store
        .agreements(child_id)
        .await?
        .into_iter()
        .map(|view| AgreementNow {
            state: guardianship::agreement_state(
                view.agreement.ends_on,
                view.replaced_by.is_some(),
                today,
            ),
            view,
        })
        .collect())
}

/// Records a signed agreement (it replaces the child's current one), with the scan of the signed
/// paper when given: a photo or a PDF, read from its bytes, at most
/// [`shouwang_domain::protection::MAX_EVIDENCE_BYTES`].
pub async fn record(
    store: &Store,
    actor: &Actor,
    child_id: &str,
    input: &AgreementInput,
    scan: Option<&[u8]>,
) -> Result<Vec<AgreementNow>> {
    let child = store.visible_child(actor, child_id).await?;
    if !actor.may(Action::RecordParentContact) {
        return Err(StoreError::Forbidden);
    }
    let latest = store
        .carer_checks(child_id)
        .await?
        .into_iter()
        .next()
        .map(|c| LatestCheck {
            carer_name: c.check.carer_name.clone(),
            verdict: c.check.verdict,
            on: c
                .recorded_at
                .get(..10)
                .and_then(|d| d.parse().ok())
                .unwrap_or_default(),
        });
    let term = store
        .county_settings(&child.file.village_code)
        .await?
        .agreement_term_months;
    // Every wrong field at once: the form's and the scan's.
    let parsed = input.parse(store.today(), latest.as_ref(), term);
    let scan = scan.filter(|b| !b.is_empty());
    let kind = scan.map(EvidenceKind::sniff).transpose();
    let (agreement, kind) = match (parsed, kind) {
        (Ok(a), Ok(k)) => (a, k),
        (parsed, kind) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(m) = kind {
                errors.add("scan", m);
            }
            return Err(errors.into());
        }
    };
    let village = child.file.village_code.clone();
    let mut tx = store.begin().await?;
    let id = tx
        .add_agreement(
            child_id,
            &By::of(actor),
            &agreement,
            kind.zip(scan).map(|(k, b)| (k.code(), b)),
        )
        .await?;
    tx.audit(
        actor,
        "agreement_record",
        subject(child_id, village.as_str()),
        serde_json::json!({"agreement": id, "kind": agreement.kind.code(), "ends_on": agreement.ends_on,
            "scan": kind.map(|k| k.code())}),
    )
    .await?;
    tx.commit().await?;
    agreements(store, actor, child_id).await
}

/// The scan of a signed agreement (audited: it shows who signed for the child).
pub async fn scan(
    store: &Store,
    actor: &Actor,
    child_id: &str,
    id: &str,
) -> Result<(String, Vec<u8>)> {
    let child = store.visible_child(actor, child_id).await?;
    let out = store
        .agreement_scan(child_id, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut tx = store.begin().await?;
    tx.audit(
        actor,
        "agreement_scan_read",
        subject(child_id, child.file.village_code.as_str()),
        serde_json::json!({"agreement": id}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// What is due on 委托监护 in the actor's area: carers to re-assess and agreements that end within
/// [`RENEW_WITHIN_DAYS`] (or have ended), soonest first, with the children's names.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Due {
    pub reassess: Vec<DueItem>,
    pub renew: Vec<DueItem>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueItem {
    #[serde(flatten)]
    pub due: GuardianshipDue,
    pub overdue: bool,
}

pub async fn due(store: &Store, actor: &Actor) -> Result<Due> {
    if !actor.may(Action::RecordParentContact) {
        return Err(StoreError::Forbidden);
    }
    let today = store.today();
    let until = today + Duration::days(RENEW_WITHIN_DAYS);
    let area = &actor.region;
    let dated = |rows: Vec<GuardianshipDue>| -> Vec<DueItem> {
        rows.into_iter()
            .map(|due| DueItem {
                overdue: due.due_on < today,
                due,
            })
            .collect()
    };
    let reassess = dated(store.reassessments_due(area, until, 500).await?);
    let renew = dated(store.agreements_ending(area, until, 500).await?);
    let mut tx = store.begin().await?;
    tx.audit(
        actor,
        "guardianship_due_read",
        Subject {
            entity: "child",
            id: None,
            region: Some(area.as_str()),
        },
        serde_json::json!({"reassess": reassess.len(), "renew": renew.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Due { reassess, renew })
}
