//! The official outputs' use cases (花名册, 汇总表, 登记表, 确认书): who may export which area's or
//! which child's files, and one audit event per export. The file formats are `exchange` and
//! `print`.

use chrono::NaiveDate;

/// The views this capability hands a front end.
pub use shouwang_store::export::{ExportChild, ExportKind};

use crate::{App, Error, Result};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor, Scope};
use shouwang_domain::ids::ChildId;
use shouwang_domain::region::RegionCode;
use shouwang_store::Subject;

/// Whether the actor may export the files of `region`: an exporting role, and the region inside
/// their jurisdiction (outside it reads as not found, as everywhere else). Agencies export
/// nothing: they see single children, not areas.
fn may_export(actor: &Actor, region: &RegionCode) -> Result<()> {
    if !actor.may(Action::Export) {
        return Err(Error::Forbidden);
    }
    match actor.scope() {
        Scope::Region { code } if code.contains(region) => Ok(()),
        Scope::Region { .. } => Err(Error::NotFound),
        Scope::Agency { .. } | Scope::CasesOnly => Err(Error::Forbidden),
    }
}

async fn audit_export(
    app: &App,
    actor: &Actor,
    kind: ExportKind,
    region: &str,
    child: Option<&str>,
    on: NaiveDate,
    count: usize,
) -> Result<()> {
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::Export,
        Subject {
            entity: if child.is_some() { "child" } else { "region" },
            id: child,
            region: Some(region),
        },
        serde_json::json!({"kind": kind.code(), "date": on.to_string(), "count": count}),
    )
    .await?;
    Ok(tx.commit().await?)
}

/// The children of `region` on the roster on `on` (see `Store::roster_on`), for an export of
/// `kind`. Records one audit event.
pub async fn roster_on(
    app: &App,
    actor: &Actor,
    region: &RegionCode,
    on: NaiveDate,
    kind: ExportKind,
) -> Result<Vec<ExportChild>> {
    may_export(actor, region)?;
    let out = app.store.exports().roster_on(region, on).await?;
    audit_export(app, actor, kind, region.as_str(), None, on, out.len()).await?;
    Ok(out)
}

/// One child's file for a printed form, if the user may export it. Audited.
pub async fn child_for_form(
    app: &App,
    actor: &Actor,
    id: &ChildId,
    kind: ExportKind,
) -> Result<ExportChild> {
    if !actor.may(Action::Export) {
        return Err(Error::Forbidden);
    }
    let row = app.store.children().visible_child(actor, id).await?;
    audit_export(
        app,
        actor,
        kind,
        row.file.village_code.as_str(),
        Some(id.as_str()),
        app.store.today(),
        1,
    )
    .await?;
    Ok(ExportChild {
        id: row.id.into_string(),
        file: row.file,
    })
}

/// The 汇总表 of `region` on `on` for export: one row per unit below and the total, counted from
/// the narrow rows (no file is opened, so a province's table takes what a town's does) — or, when
/// the unit's quarterly report was frozen for that date, that report's figures, said on the sheet.
/// Records one audit event.
pub async fn summary_table(
    app: &App,
    actor: &Actor,
    region: &RegionCode,
    on: NaiveDate,
) -> Result<shouwang_exchange::outputs::Summary> {
    use shouwang_domain::region::Divisions;
    use shouwang_domain::summary_table::Figures;
    use shouwang_exchange::outputs::{Summary, SummaryRow};
    may_export(actor, region)?;
    let frozen = crate::quarterly::frozen_on(app, region, on).await?;
    let (total, units, unplaced, note) = match &frozen {
        Some(r) => (
            Figures::from_values(&r.figures),
            r.units
                .iter()
                .map(|(k, v)| (k.clone(), Figures::from_values(v)))
                .collect(),
            r.unplaced,
            Some(format!(
                "本表为{}报表的冻结数据（{}，冻结于{}）",
                r.quarter.label(),
                r.status.label(),
                r.frozen_at.get(..10).unwrap_or(&r.frozen_at)
            )),
        ),
        None => {
            let c = crate::quarterly::count_units(app, region, on, region.level().below()).await?;
            (c.total, c.units, c.unplaced, None)
        }
    };
    let rows: Vec<SummaryRow> = Divisions::shipped()
        .children(region)
        .unwrap_or_default()
        .into_iter()
        .map(|d| SummaryRow {
            code: d.code.to_owned(),
            unit: d.name.to_owned(),
            figures: units.get(d.code).copied().unwrap_or_default(),
        })
        .collect();
    let total = SummaryRow {
        code: region.to_string(),
        unit: "合计".to_owned(),
        figures: total,
    };
    for row in rows.iter().chain(std::iter::once(&total)) {
        let broken = row.figures.cross_check();
        if !broken.is_empty() {
            return Err(Error::Internal(format!(
                "汇总数据未通过表间勾稽关系校验：{}：{}",
                row.unit,
                broken.join("；")
            )));
        }
    }
    audit_export(
        app,
        actor,
        ExportKind::Summary,
        region.as_str(),
        None,
        on,
        usize::try_from(total.figures.get(1)).unwrap_or(usize::MAX),
    )
    .await?;
    Ok(Summary {
        units: rows,
        total,
        unplaced: usize::try_from(unplaced).unwrap_or(0),
        note,
    })
}
