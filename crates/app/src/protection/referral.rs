//! Referrals to services: sent by the town, answered by the provider.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::CaseId;
use shouwang_domain::protection::CaseEventKind;

/// A referral as the case or the provider sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralView {
    #[serde(flatten)]
    pub referral: shouwang_store::protection::Referral,
    /// Unanswered after 7 days, or accepted and not delivered after 30.
    pub overdue: bool,
    /// For the provider: who the child is and where (the report itself is not theirs).
    pub child_name: String,
    pub village_code: String,
}

pub(super) async fn referral_views(
    app: &App,
    referrals: Vec<shouwang_store::protection::Referral>,
) -> Result<Vec<ReferralView>> {
    let today = app.store.today();
    let mut out = Vec::with_capacity(referrals.len());
    for r in referrals {
        let day = |t: &Option<String>| t.as_deref().and_then(At::parse).map(|t| t.china_date());
        let overdue = protection::referral_overdue(
            r.status,
            day(&Some(r.referred_at.clone())).unwrap_or(today),
            day(&r.answered_at),
            today,
        );
        let (child_name, village_code) =
            match app.store.protection().case_with_report(&r.case_id).await? {
                Some((case, report)) => (
                    child_name(app, &case, &report).await?,
                    case.village.as_str().to_owned(),
                ),
                None => (String::new(), String::new()),
            };
        out.push(ReferralView {
            referral: r,
            overdue,
            child_name,
            village_code,
        });
    }
    Ok(out)
}

/// The town (or the county) refers the child of a case it assesses to a provider of the county
/// (a social-work organisation, a hospital, a legal-aid centre…) for one kind of help; the
/// provider's users are told.
pub async fn refer(
    app: &App,
    actor: &Actor,
    case_id: &CaseId,
    kind: shouwang_domain::protection::HelpKind,
    agency_id: &str,
    note: &str,
) -> Result<CaseId> {
    let note = note_of(note, "note", Some("请写明需要服务机构提供的帮助"))?;
    let (case, _, works) = load(app, actor, case_id).await?;
    if !works || !matches!(actor.role, Role::Town | Role::County | Role::CountyAdmin) {
        return Err(Error::Forbidden);
    }
    if case.status != CaseStatus::Assessing {
        return Err(Error::Conflict {
            field: None,
            message: format!("该个案当前状态为“{}”，不能转介", case.status.label()),
        });
    }
    let county = case
        .town
        .at_level(RegionLevel::County)
        .unwrap_or_else(|| case.town.clone());
    // A service organisation of the case's county (a school is not a provider of help).
    let provider = app
        .store
        .regions()
        .agencies_within(&county)
        .await?
        .into_iter()
        .any(|a| a.id == agency_id && a.kind == "agency");
    if !provider {
        return Err(ValidationErrors::single("agency_id", "请选择本县（市、区）的服务机构").into());
    }
    let mut tx = app.store.begin().await?;
    hold(&mut tx, &case, &[CaseStatus::Assessing]).await?;
    // A second press of the button (or a retried call) refers nobody twice.
    if tx
        .protection()
        .has_open_referral(&case.id, kind, agency_id)
        .await?
    {
        return Err(Error::Conflict {
            field: Some("agency_id".into()),
            message: format!("已向该服务机构转介“{}”，正等待其接收或服务中", kind.label()),
        });
    }
    let id = tx
        .protection()
        .insert_referral(&case.id, kind, agency_id, &actor.user_id, &note)
        .await?;
    tx.protection()
        .add_case_event(
            &case.id,
            &By::of(actor),
            CaseEventKind::Referred,
            Some(kind.code()),
            None,
            &note,
        )
        .await?;
    tx.notifications()
        .notify_agency(
            agency_id,
            "referral",
            Some(case.id.as_str()),
            "守望：新的转介",
            &format!(
                "乡镇转介了一名儿童，需要“{}”服务，请登录守望接收。",
                kind.label()
            ),
        )
        .await?;
    tx.audit(
        actor,
        AuditAction::CaseRefer,
        subject(&case),
        serde_json::json!({"referral": id, "kind": kind.code(), "agency": agency_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(case_id.clone())
}

/// A provider's referrals (its users'), newest first.
pub async fn provider_referrals(app: &App, actor: &Actor) -> Result<Vec<ReferralView>> {
    let Some(agency) = actor.agency_id.as_deref() else {
        return Err(Error::Forbidden);
    };
    let list = referral_views(
        app,
        app.store.protection().referrals_of_agency(agency).await?,
    )
    .await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::ReferralsRead,
        Subject {
            entity: "agency",
            id: Some(agency),
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"shown": list.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

/// A provider accepts or declines a referral (declining says why), or records what it delivered
/// (`complete` when the help is done).
pub async fn answer_referral(
    app: &App,
    actor: &Actor,
    referral_id: &ReferralId,
    action: shouwang_domain::protection::ReferralAction,
    note: &str,
) -> Result<ReferralView> {
    use shouwang_domain::protection::ReferralAction;
    let r = app
        .store
        .protection()
        .referral(referral_id.as_str())
        .await?
        .filter(|r| actor.agency_id.as_deref() == Some(r.agency_id.as_str()))
        .ok_or(Error::NotFound)?;
    let note = note_of(
        note,
        "note",
        match action {
            ReferralAction::Decline => Some("拒绝转介请说明原因"),
            ReferralAction::Deliver { .. } => Some("请记录提供的服务"),
            ReferralAction::Accept => None,
        },
    )?;
    let next = protection::referral_transition(r.status, action).map_err(|m| Error::Conflict {
        field: None,
        message: m,
    })?;
    let (kind, audited) = match action {
        ReferralAction::Accept => ("accepted", AuditAction::ReferralAccepted),
        ReferralAction::Decline => ("declined", AuditAction::ReferralDeclined),
        ReferralAction::Deliver { complete: false } => {
            ("delivered", AuditAction::ReferralDelivered)
        }
        ReferralAction::Deliver { complete: true } => ("completed", AuditAction::ReferralCompleted),
    };
    let mut log = r.log.clone();
    log.push(shouwang_store::protection::ReferralEntry {
        at: app
            .store
            .clock()
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        username: actor.username.clone(),
        kind: kind.into(),
        note: note.clone(),
    });
    let (case, _) = app
        .store
        .protection()
        .case_with_report(&r.case_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = app.store.begin().await?;
    if !tx.protection().update_referral(&r, next, &log).await? {
        return Err(Error::Conflict {
            field: None,
            message: "该转介已被他人更新，请刷新后再操作".into(),
        });
    }
    tx.protection()
        .add_case_event(
            &case.id,
            &By::of(actor),
            CaseEventKind::ReferralAnswered,
            Some(next.code()),
            None,
            &format!("{}：{}", r.kind.label(), note),
        )
        .await?;
    tx.audit(
        actor,
        audited,
        subject(&case),
        serde_json::json!({"referral": r.id}),
    )
    .await?;
    tx.commit().await?;
    let updated = app
        .store
        .protection()
        .referral(&r.id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(referral_views(app, vec![updated]).await?.remove(0))
}

/// The service organisations of the actor's county (agencies that are not schools).
pub async fn providers(app: &App, actor: &Actor) -> Result<Vec<shouwang_store::regions::Agency>> {
    let county = actor
        .region
        .at_level(RegionLevel::County)
        .unwrap_or_else(|| actor.region.clone());
    Ok(app
        .store
        .regions()
        .agencies_within(&county)
        .await?
        .into_iter()
        .filter(|a| a.kind == "agency")
        .collect())
}
