//! 应报未报: what was found and not reported.

use super::*;
use shouwang_domain::audit::AuditAction;

/// 应报未报 of an area: how many children, and the first of them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreportedList {
    /// All of them in the area (the files' count kept by the triggers, and the visits').
    pub total: i64,
    /// The longest unreported first, at most the limit asked for.
    pub items: Vec<shouwang_store::protection::Unreported>,
}

/// Children of the actor's area (or of `region` inside it) whose file records 单独居住, 无人监护 or 父或母无监护能力
/// with no mandatory report filed (未保法 Art. 117): the town's and oversight's list, at most
/// `limit` (1–500) of them with the total; looking at it is audited.
pub async fn unreported(
    app: &App,
    actor: &Actor,
    region: Option<&str>,
    limit: i64,
) -> Result<UnreportedList> {
    if !matches!(
        actor.role,
        Role::Village | Role::Town | Role::County | Role::CountyAdmin | Role::Oversight
    ) {
        return Err(Error::Forbidden);
    }
    let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => {
            let code = RegionCode::parse(r)
                .map_err(|_| ValidationErrors::single("region", "区划代码不正确"))?;
            if !actor.region.contains(&code) {
                return Err(Error::NotFound);
            }
            Some(code)
        }
    };
    let limit = limit.clamp(1, 500);
    let visits = unreported_visits(app, actor, region.as_ref(), 1000).await?;
    let total = app
        .store
        .protection()
        .unreported_count(actor, region.as_ref())
        .await?
        + visits.len() as i64;
    let mut items = app
        .store
        .protection()
        .unreported(actor, region.as_ref(), limit)
        .await?;
    items.extend(visits);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::UnreportedRead,
        Subject {
            entity: "region",
            id: None,
            region: Some(region.as_ref().unwrap_or(&actor.region).as_str()),
        },
        serde_json::json!({"shown": items.len(), "total": total}),
    )
    .await?;
    tx.commit().await?;
    Ok(UnreportedList { total, items })
}

/// Children a visit found in a reportable situation with no report filed since, whose file is not
/// on the files' list already.
pub(super) async fn unreported_visits(
    app: &App,
    actor: &Actor,
    region: Option<&RegionCode>,
    limit: i64,
) -> Result<Vec<shouwang_store::protection::Unreported>> {
    Ok(app
        .store
        .protection()
        .reportable_visits(actor, region, limit)
        .await?
        .into_iter()
        .filter(|v| {
            let opened = v
                .last_case_opened
                .as_deref()
                .and_then(At::parse)
                .map(|t| t.instant());
            !v.in_file_list && !protection::reported_since(v.visited_on, opened)
        })
        .map(|v| shouwang_store::protection::Unreported {
            child_id: v.child_id,
            name: v.name,
            village_code: v.village_code,
            recorded_at: v.recorded_at,
            source: "visit".into(),
        })
        .collect())
}
