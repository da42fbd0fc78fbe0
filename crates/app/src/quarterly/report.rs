//! A quarterly report: its view, creation, freezing and refreshing, and its frozen roster.

use super::*;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::QuarterlyReportId;

/// A quarterly report as its reader sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportView {
    pub id: String,
    pub region: String,
    pub quarter: String,
    pub quarter_label: String,
    pub status: ReportStatus,
    pub summary: SummaryView,
    pub frozen_at: String,
    pub frozen_by: String,
    pub submitted_at: Option<String>,
    /// 填表人, 复核人, 单位负责人 as submitted.
    pub filler: Option<String>,
    pub reviewer: Option<String>,
    pub head: Option<String>,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    /// The level above's comment when it returned or approved the report.
    pub comment: Option<String>,
    /// Its comments per item when it returned the report, with what each item is.
    pub return_items: Vec<ReturnItemView>,
    /// The units the report's rows are (a town's villages), which a return may name.
    pub units: Vec<String>,
    pub events: Vec<ReportEvent>,
    /// The departments' checks of their sections (a town's report), and the figures they check:
    /// 辍学 and 不在学 (columns 17–18) for education; children without hukou on the frozen roster
    /// for the police.
    pub education_check: Option<SectionCheck>,
    pub police_check: Option<SectionCheck>,
    pub dropped_out: u64,
    pub not_in_school: u64,
    pub without_hukou: usize,
    /// The section the reader checks now, if any.
    pub may_verify: Option<Section>,
    /// The 复核人's and 单位负责人's confirmations, and the signed page if it was uploaded.
    pub signatures: shouwang_store::quarterly::Signatures,
    pub signed_scan: Option<shouwang_store::quarterly::SignedScan>,
    /// The signers the reader may confirm as now (the reader is named on the report).
    pub may_confirm_as: Vec<Signer>,
    /// The reader may upload the signed and stamped page (the unit's own staff, while signing).
    pub may_attach_signed_page: bool,
    /// What the reader may do now.
    pub may_submit: bool,
    pub may_refresh: bool,
    pub may_decide: bool,
}

async fn report_view(app: &App, actor: &Actor, r: StoredReport) -> Result<ReportView> {
    use shouwang_domain::eligibility::KeyTargetFlag;
    let events = app.store.quarterly().quarterly_report_events(&r.id).await?;
    let prepares = may_prepare(actor, &r.region);
    let may_confirm_as = if r.status == ReportStatus::Signing {
        let me = super::signing::reader_name(app, actor).await?;
        super::signing::signs_as(actor, &me, &r)
    } else {
        vec![]
    };
    let may_verify = (r.status == ReportStatus::Submitted)
        .then(|| {
            Section::ALL.iter().copied().find(|s| {
                let done = match s {
                    Section::Education => r.education_check.is_some(),
                    Section::Police => r.police_check.is_some(),
                };
                !done && quarterly::may_verify(actor, &r.region, *s)
            })
        })
        .flatten();
    let without_hukou = if reporting_level(&r.region) == Some(RegionLevel::Village) {
        app.store
            .quarterly()
            .quarterly_roster(&r.id)
            .await?
            .iter()
            .filter(|l| l.flags & KeyTargetFlag::NoHukou.bit() != 0)
            .count()
    } else {
        0
    };
    let return_items = r
        .return_items
        .iter()
        .map(|it| ReturnItemView {
            label: item_label(it, &r),
            column: match it.target(&r.units.keys().map(String::as_str).collect::<Vec<_>>()) {
                Some(ItemRef::Column(n)) => Some(n),
                _ => None,
            },
            item: it.item.clone(),
            comment: it.comment.clone(),
        })
        .collect();
    Ok(ReportView {
        dropped_out: r.figures.get(16).copied().unwrap_or(0),
        not_in_school: r.figures.get(17).copied().unwrap_or(0),
        without_hukou,
        education_check: r.education_check.clone(),
        police_check: r.police_check.clone(),
        may_verify,
        summary: view(
            &r.region,
            r.as_of,
            &Figures::from_values(&r.figures),
            r.unplaced,
            true,
        ),
        id: r.id,
        region: r.region.as_str().to_owned(),
        quarter: r.quarter.to_string(),
        quarter_label: r.quarter.label(),
        may_submit: prepares && r.status == ReportStatus::Frozen,
        may_refresh: prepares
            && matches!(
                r.status,
                ReportStatus::Frozen | ReportStatus::Returned | ReportStatus::Signing
            ),
        may_attach_signed_page: prepares && r.status == ReportStatus::Signing,
        may_confirm_as,
        signatures: r.signatures,
        signed_scan: r.signed_scan,
        may_decide: may_approve(actor, &r.region) && r.status == ReportStatus::Submitted,
        status: r.status,
        frozen_at: r.frozen_at,
        frozen_by: r.frozen_by,
        submitted_at: r.submitted_at,
        filler: r.filler,
        reviewer: r.reviewer,
        head: r.head,
        decided_at: r.decided_at,
        decided_by: r.decided_by,
        units: r.units.keys().cloned().collect(),
        return_items,
        comment: r.comment,
        events,
    })
}

/// A comment per item of a returned report, with the item's name.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnItemView {
    pub item: String,
    /// 第26栏（委托监护 · （外）祖父母监护）, or the unit's name.
    pub label: String,
    /// The column it names, if a column.
    pub column: Option<usize>,
    pub comment: String,
}

/// What an item of a return names, in words.
pub(super) fn item_label(it: &ReturnItem, r: &StoredReport) -> String {
    let units: Vec<&str> = r.units.keys().map(String::as_str).collect();
    match it.target(&units) {
        Some(ItemRef::Column(n)) => {
            let c = COLUMNS[n - 1];
            format!("第{n}栏（{} · {}）", c.group, c.label)
        }
        Some(ItemRef::Unit(code)) => RegionCode::parse(code)
            .ok()
            .and_then(|c| {
                shouwang_domain::region::Divisions::shipped()
                    .get(&c)
                    .ok()
                    .map(|d| d.name.to_owned())
            })
            .unwrap_or_else(|| code.to_owned()),
        None => it.item.clone(),
    }
}

/// A report the actor's jurisdiction covers (its unit or a unit below); else absent.
pub(super) async fn load(app: &App, actor: &Actor, id: &QuarterlyReportId) -> Result<StoredReport> {
    let r = app
        .store
        .quarterly()
        .quarterly_report(id.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    match actor.scope() {
        Scope::Region { code } if code.contains(&r.region) => Ok(r),
        _ => Err(Error::NotFound),
    }
}

pub(super) fn subject(r: &StoredReport) -> Subject<'_> {
    Subject {
        entity: "quarterly_report",
        id: Some(&r.id),
        region: Some(r.region.as_str()),
    }
}

pub async fn get(app: &App, actor: &Actor, id: &QuarterlyReportId) -> Result<ReportView> {
    let r = load(app, actor, id).await?;
    report_view(app, actor, r).await
}

/// What a unit's report freezes: a town counts its children as of the quarter's end and keeps the
/// roster it counted; a higher unit sums the approved reports of the units below it, all of which
/// must be approved.
struct Freeze {
    figures: Vec<u64>,
    units: BTreeMap<String, Vec<u64>>,
    unplaced: i64,
    roster: Vec<RosterLine>,
    elders: Vec<shouwang_domain::elder::ElderFile>,
}

impl Freeze {
    fn frozen(&self, as_of: NaiveDate) -> Frozen<'_> {
        Frozen {
            as_of,
            figures: &self.figures,
            units: &self.units,
            unplaced: self.unplaced,
            roster: &self.roster,
            elders: &self.elders,
        }
    }
}

async fn freeze(app: &App, region: &RegionCode, quarter: Quarter) -> Result<Freeze> {
    let as_of = quarter.end();
    let below = reporting_level(region)
        .ok_or_else(|| ValidationErrors::single("region", "报表按乡镇（街道）及以上单位填报"))?;
    if below == RegionLevel::Village {
        let c = count_units(app, region, as_of, Some(RegionLevel::Village)).await?;
        return Ok(Freeze {
            figures: c.total.values.to_vec(),
            units: c
                .units
                .into_iter()
                .map(|(k, f)| (k, f.values.to_vec()))
                .collect(),
            unplaced: c.unplaced,
            roster: app.store.quarterly().roster_lines(region, as_of).await?,
            // 龙里 003 七(二): the town's 留守老人花名册 (附件6) goes with its report — the register
            // as it stands when the report is made.
            elders: app
                .store
                .elders()
                .elders_in(region)
                .await?
                .into_iter()
                .map(|e| e.file)
                .collect(),
        });
    }
    let units = app.store.regions().regions_within(region, below).await?;
    let reports = app
        .store
        .quarterly()
        .quarterly_reports_within(region, quarter)
        .await?;
    let mut sum = Figures::default();
    let mut unplaced = 0;
    let mut missing = Vec::new();
    let mut by_unit = BTreeMap::new();
    for u in &units {
        match reports
            .iter()
            .find(|r| r.region.as_str() == u.code && r.status == ReportStatus::Approved)
        {
            Some(r) => {
                sum.merge(&Figures::from_values(&r.figures));
                unplaced += r.unplaced;
                by_unit.insert(u.code.clone(), r.figures.clone());
            }
            None => missing.push(u.name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::Conflict {
            field: Some("region".into()),
            message: format!(
                "以下{}单位{}的报表尚未审核通过：{}",
                missing.len(),
                quarter.label(),
                missing.join("、")
            ),
        });
    }
    Ok(Freeze {
        figures: sum.values.to_vec(),
        units: by_unit,
        unplaced,
        roster: vec![],
        elders: vec![],
    })
}

pub(super) fn parse_quarter(s: &str, today: NaiveDate) -> Result<Quarter> {
    let q = Quarter::parse(s)
        .ok_or_else(|| ValidationErrors::single("quarter", "季度格式应为 2026Q4"))?;
    if q.start() > today {
        return Err(ValidationErrors::single("quarter", format!("{}尚未开始", q.label())).into());
    }
    Ok(q)
}

/// Freezes a unit's report for a quarter (a town's as of the quarter's end; a county's and above
/// as the sum of the approved reports below).
pub async fn create(app: &App, actor: &Actor, region: &str, quarter: &str) -> Result<ReportView> {
    let mut e = ValidationErrors::default();
    let q = match parse_quarter(quarter, app.store.today()) {
        Ok(q) => Some(q),
        Err(Error::Validation(v)) => {
            e.0.extend(v.0);
            None
        }
        Err(other) => return Err(other),
    };
    let region = match covered(actor, region, "region") {
        Ok(r) => Some(r),
        Err(Error::Validation(v)) => {
            e.0.extend(v.0);
            None
        }
        Err(other) => return Err(other),
    };
    e.into_result(())?;
    let (region, q) = (region.expect("checked"), q.expect("checked"));
    if app.store.regions().region(&region).await?.is_none() {
        return Err(ValidationErrors::single("region", "该区划不在本系统中").into());
    }
    if !may_prepare(actor, &region) {
        return Err(Error::Forbidden);
    }
    let f = freeze(app, &region, q).await?;
    let mut tx = app.store.begin().await?;
    let id = tx
        .quarterly()
        .insert_quarterly_report(&region, q, &f.frozen(q.end()), &actor.username)
        .await?;
    tx.audit(
        actor,
        AuditAction::QuarterlyReportFreeze,
        Subject {
            entity: "quarterly_report",
            id: Some(&id),
            region: Some(region.as_str()),
        },
        serde_json::json!({"quarter": q.to_string(), "children": f.roster.len()}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, &QuarterlyReportId::new(id)).await
}

pub(super) fn changed_meanwhile() -> Error {
    Error::Conflict {
        field: None,
        message: "报表已被他人更新，请刷新后再操作".into(),
    }
}

pub(super) fn step(r: &StoredReport, action: ReportAction) -> Result<ReportStatus> {
    quarterly::transition(r.status, action).map_err(|e| Error::Conflict {
        field: Some("status".into()),
        message: e.to_string(),
    })
}

/// Makes a frozen or returned report again from today's files (after the town corrected them).
pub async fn refresh(app: &App, actor: &Actor, id: &QuarterlyReportId) -> Result<ReportView> {
    let r = load(app, actor, id).await?;
    if !may_prepare(actor, &r.region) {
        return Err(Error::Forbidden);
    }
    step(&r, ReportAction::Refresh)?;
    let f = freeze(app, &r.region, r.quarter).await?;
    let mut tx = app.store.begin().await?;
    if !tx
        .quarterly()
        .refreeze_quarterly_report(&r, &f.frozen(r.quarter.end()), &actor.username)
        .await?
    {
        return Err(changed_meanwhile());
    }
    tx.quarterly()
        .add_report_event(&r.id, &actor.username, "refreshed", "")
        .await?;
    tx.audit(
        actor,
        AuditAction::QuarterlyReportRefresh,
        subject(&r),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}

/// The 留守老人花名册 a town's report froze (龙里 003 七(二), 附件6), for its download; audited like
/// an export.
pub async fn frozen_elders(
    app: &App,
    actor: &Actor,
    id: &QuarterlyReportId,
) -> Result<(ReportView, Vec<shouwang_domain::elder::ElderFile>)> {
    use shouwang_domain::authz::Action;
    if !actor.may(Action::Export) || !actor.may(Action::ReadElder) {
        return Err(Error::Forbidden);
    }
    let r = load(app, actor, id).await?;
    let elders = app.store.quarterly().quarterly_elders(&r.id).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::Export,
        subject(&r),
        serde_json::json!({"kind": "frozen_elder_roster", "count": elders.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok((report_view(app, actor, r).await?, elders))
}

/// The roster a town's report froze (who it counted), for its download; reading it is audited
/// like an export of the roster.
pub async fn frozen_roster(
    app: &App,
    actor: &Actor,
    id: &QuarterlyReportId,
) -> Result<(ReportView, Vec<RosterLine>)> {
    if !actor.may(shouwang_domain::authz::Action::Export) {
        return Err(Error::Forbidden);
    }
    let r = load(app, actor, id).await?;
    let lines = app.store.quarterly().quarterly_roster(&r.id).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::Export,
        subject(&r),
        serde_json::json!({"kind": "frozen_roster", "count": lines.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok((report_view(app, actor, r).await?, lines))
}
