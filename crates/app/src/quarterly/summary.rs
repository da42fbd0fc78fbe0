//! The 汇总表 of any area and date (or a report's frozen figures).

use super::*;
use shouwang_domain::audit::AuditAction;

/// One column of the 汇总表 with its value.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnValue {
    pub no: usize,
    /// The group and the column ("0—5周岁 男").
    pub label: String,
    pub value: u64,
}

/// The 汇总表 of an area on a date.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryView {
    pub region: String,
    pub date: NaiveDate,
    pub columns: Vec<ColumnValue>,
    /// Whether the 表间勾稽关系 hold and every child on the roster is placed in the table.
    pub checks_ok: bool,
    /// The rules broken, in words.
    pub checks: Vec<String>,
    /// Children on the roster the table cannot place (就学情况 blank), left out of the figures.
    pub unplaced: i64,
    /// Whether the figures are a frozen quarterly report's (the same next year) rather than
    /// counted from today's files.
    pub frozen: bool,
}

pub(super) fn view(
    region: &RegionCode,
    date: NaiveDate,
    figures: &Figures,
    unplaced: i64,
    frozen: bool,
) -> SummaryView {
    let mut checks = figures.cross_check();
    if unplaced > 0 {
        checks.push(format!(
            "{unplaced}名在册儿童“就学情况”未填写，不能计入第11—18栏及第21—25栏：请补充档案后重新生成"
        ));
    }
    SummaryView {
        region: region.as_str().to_owned(),
        date,
        columns: COLUMNS
            .iter()
            .map(|c| ColumnValue {
                no: c.number,
                label: match (c.group, c.label) {
                    ("合计", label) => label.to_owned(),
                    (group, "小计") => format!("{group}小计"),
                    (group, label) => format!("{group} {label}"),
                },
                value: figures.get(c.number),
            })
            .collect(),
        checks_ok: checks.is_empty(),
        checks,
        unplaced,
        frozen,
    }
}

/// The 汇总表 of an area counted from the narrow rows: in total, per unit of the level asked for,
/// and how many children on the roster it cannot place.
pub(crate) struct Counted {
    pub total: Figures,
    pub units: BTreeMap<String, Figures>,
    pub unplaced: i64,
}

pub(crate) async fn count_units(
    app: &App,
    region: &RegionCode,
    on: NaiveDate,
    by: Option<RegionLevel>,
) -> Result<Counted> {
    let mut c = Counted {
        total: Figures::default(),
        units: BTreeMap::new(),
        unplaced: 0,
    };
    for g in app.store.quarterly().summary_groups(region, on, by).await? {
        match parse_cells(&g.cells) {
            Some(cells) => {
                c.total.add_group(g.band, g.sex, &cells, g.count);
                if let Some(unit) = g.unit {
                    c.units
                        .entry(unit)
                        .or_default()
                        .add_group(g.band, g.sex, &cells, g.count);
                }
            }
            None => c.unplaced += i64::try_from(g.count).unwrap_or(i64::MAX),
        }
    }
    Ok(c)
}

pub(super) async fn count(app: &App, region: &RegionCode, on: NaiveDate) -> Result<(Figures, i64)> {
    let c = count_units(app, region, on, None).await?;
    Ok((c.total, c.unplaced))
}

/// The frozen report of a unit whose reference date is `on`, if one was made.
pub(crate) async fn frozen_on(
    app: &App,
    region: &RegionCode,
    on: NaiveDate,
) -> Result<Option<StoredReport>> {
    Ok(app
        .store
        .quarterly()
        .quarterly_report_of(region, Quarter::of(on))
        .await?
        .filter(|r| r.as_of == on))
}

/// A region the actor's jurisdiction covers; anything else is absent (404).
pub(super) fn covered(actor: &Actor, code: &str, field: &str) -> Result<RegionCode> {
    let region = RegionCode::parse(code.trim())
        .map_err(|_| ValidationErrors::single(field, "区划代码不正确"))?;
    match actor.scope() {
        Scope::Region { code } if code.contains(&region) => Ok(region),
        _ => Err(Error::NotFound),
    }
}

/// The 汇总表 of `region` (the actor's own when absent) on `date` (today when absent): a frozen
/// report's figures when one was made for that unit and date, else counted from the files.
pub async fn summary(
    app: &App,
    actor: &Actor,
    region: Option<&str>,
    date: Option<&str>,
) -> Result<SummaryView> {
    let region = match region.filter(|r| !r.trim().is_empty()) {
        Some(r) => covered(actor, r, "region")?,
        None => covered(actor, actor.region.as_str(), "region")?,
    };
    let date = match date.filter(|d| !d.trim().is_empty()) {
        Some(d) => shouwang_domain::input::parse_date(d)
            .ok_or_else(|| ValidationErrors::single("date", "日期格式不正确，应为 2026-12-31"))?,
        None => app.store.today(),
    };
    let v = match frozen_on(app, &region, date).await? {
        Some(r) => view(
            &region,
            date,
            &Figures::from_values(&r.figures),
            r.unplaced,
            true,
        ),
        None => {
            let (figures, unplaced) = count(app, &region, date).await?;
            view(&region, date, &figures, unplaced, false)
        }
    };
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::SummaryRead,
        Subject {
            entity: "region",
            id: None,
            region: Some(region.as_str()),
        },
        serde_json::json!({"date": date, "frozen": v.frozen}),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}
