//! The 汇总表 of any area on any date, and the quarterly reports: freeze, submit with signers,
//! approve or return, aggregate upward only over approved reports. The rules are
//! `domain::quarterly` and `domain::summary_table`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{App, Error, Result};
use shouwang_domain::authz::{Actor, Scope};
use shouwang_domain::quarterly::{
    self, ItemRef, Quarter, ReportAction, ReportStatus, ReturnItem, Section, check_return_items,
    may_approve, may_prepare, reporting_level,
};
use shouwang_domain::region::{RegionCode, RegionLevel};
use shouwang_domain::summary_table::{COLUMNS, Figures, parse_cells};
use shouwang_domain::text;
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::Subject;
use shouwang_store::quarterly::{Frozen, ReportEvent, RosterLine, SectionCheck, StoredReport};

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

fn view(
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
    for g in app.store.summary_groups(region, on, by).await? {
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

async fn count(app: &App, region: &RegionCode, on: NaiveDate) -> Result<(Figures, i64)> {
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
        .quarterly_report_of(region, Quarter::of(on))
        .await?
        .filter(|r| r.as_of == on))
}

/// A region the actor's jurisdiction covers; anything else is absent (404).
fn covered(actor: &Actor, code: &str, field: &str) -> Result<RegionCode> {
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
        "summary_read",
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
    /// What the reader may do now.
    pub may_submit: bool,
    pub may_refresh: bool,
    pub may_decide: bool,
}

async fn report_view(app: &App, actor: &Actor, r: StoredReport) -> Result<ReportView> {
    use shouwang_domain::eligibility::KeyTargetFlag;
    let events = app.store.quarterly_report_events(&r.id).await?;
    let prepares = may_prepare(actor, &r.region);
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
        may_refresh: prepares && matches!(r.status, ReportStatus::Frozen | ReportStatus::Returned),
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
fn item_label(it: &ReturnItem, r: &StoredReport) -> String {
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
async fn load(app: &App, actor: &Actor, id: &str) -> Result<StoredReport> {
    let r = app
        .store
        .quarterly_report(id)
        .await?
        .ok_or(Error::NotFound)?;
    match actor.scope() {
        Scope::Region { code } if code.contains(&r.region) => Ok(r),
        _ => Err(Error::NotFound),
    }
}

fn subject(r: &StoredReport) -> Subject<'_> {
    Subject {
        entity: "quarterly_report",
        id: Some(&r.id),
        region: Some(r.region.as_str()),
    }
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> Result<ReportView> {
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
}

impl Freeze {
    fn frozen(&self, as_of: NaiveDate) -> Frozen<'_> {
        Frozen {
            as_of,
            figures: &self.figures,
            units: &self.units,
            unplaced: self.unplaced,
            roster: &self.roster,
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
            roster: app.store.roster_lines(region, as_of).await?,
        });
    }
    let units = app.store.regions_within(region, below).await?;
    let reports = app.store.quarterly_reports_within(region, quarter).await?;
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
    })
}

fn parse_quarter(s: &str, today: NaiveDate) -> Result<Quarter> {
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
    if app.store.region(&region).await?.is_none() {
        return Err(ValidationErrors::single("region", "该区划不在本系统中").into());
    }
    if !may_prepare(actor, &region) {
        return Err(Error::Forbidden);
    }
    let f = freeze(app, &region, q).await?;
    let mut tx = app.store.begin().await?;
    let id = tx
        .insert_quarterly_report(&region, q, &f.frozen(q.end()), &actor.username)
        .await?;
    tx.audit(
        actor,
        "quarterly_report_freeze",
        Subject {
            entity: "quarterly_report",
            id: Some(&id),
            region: Some(region.as_str()),
        },
        serde_json::json!({"quarter": q.to_string(), "children": f.roster.len()}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, &id).await
}

fn changed_meanwhile() -> Error {
    Error::Conflict {
        field: None,
        message: "报表已被他人更新，请刷新后再操作".into(),
    }
}

fn step(r: &StoredReport, action: ReportAction) -> Result<ReportStatus> {
    quarterly::transition(r.status, action).map_err(|e| Error::Conflict {
        field: Some("status".into()),
        message: e.to_string(),
    })
}

/// Makes a frozen or returned report again from today's files (after the town corrected them).
pub async fn refresh(app: &App, actor: &Actor, id: &str) -> Result<ReportView> {
    let r = load(app, actor, id).await?;
    if !may_prepare(actor, &r.region) {
        return Err(Error::Forbidden);
    }
    step(&r, ReportAction::Refresh)?;
    let f = freeze(app, &r.region, r.quarter).await?;
    let mut tx = app.store.begin().await?;
    if !tx
        .refreeze_quarterly_report(&r, &f.frozen(r.quarter.end()), &actor.username)
        .await?
    {
        return Err(changed_meanwhile());
    }
    tx.add_report_event(&r.id, &actor.username, "refreshed", "")
        .await?;
    tx.audit(
        actor,
        "quarterly_report_refresh",
        subject(&r),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}

/// Who signs a submission besides the submitting user (填表人).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SubmitInput {
    /// 复核人; the submitting user's name if absent.
    pub reviewer: Option<String>,
    /// 单位负责人 (the town's head who signs and stamps it); the submitting user's name if absent.
    pub head: Option<String>,
}

/// Submits a frozen report to the level above; the 勾稽关系 must hold and every child be placed.
pub async fn submit(app: &App, actor: &Actor, id: &str, input: &SubmitInput) -> Result<ReportView> {
    let r = load(app, actor, id).await?;
    if !may_prepare(actor, &r.region) {
        return Err(Error::Forbidden);
    }
    step(&r, ReportAction::Submit)?;
    let checks = view(
        &r.region,
        r.as_of,
        &Figures::from_values(&r.figures),
        r.unplaced,
        true,
    )
    .checks;
    if !checks.is_empty() {
        return Err(Error::Conflict {
            field: Some("checks".into()),
            message: format!("未通过表间勾稽关系校验，不能提交：{}", checks.join("；")),
        });
    }
    let me = app
        .store
        .display_name(&actor.user_id)
        .await?
        .unwrap_or_else(|| actor.username.clone());
    let mut e = ValidationErrors::default();
    let mut signer = |v: &Option<String>, field: &str| {
        let s = v.as_deref().map(text::clean).unwrap_or_default();
        if s.chars().count() > 50 {
            e.add(field, "姓名请不超过50字");
        }
        if s.is_empty() { me.clone() } else { s }
    };
    let reviewer = signer(&input.reviewer, "reviewer");
    let head = signer(&input.head, "head");
    e.into_result(())?;
    let mut tx = app.store.begin().await?;
    if !tx
        .submit_quarterly_report(&r, &me, &reviewer, &head)
        .await?
    {
        return Err(changed_meanwhile());
    }
    tx.add_report_event(
        &r.id,
        &actor.username,
        "submitted",
        &format!("填表人：{me}；复核人：{reviewer}；单位负责人：{head}"),
    )
    .await?;
    tx.audit(
        actor,
        "quarterly_report_submit",
        subject(&r),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}

/// A department checks its section of a submitted town report (the education bureau the
/// 控辍保学 figures, the police the 户籍 and 应急处置 ones), with what it found.
pub async fn verify(
    app: &App,
    actor: &Actor,
    id: &str,
    section: &str,
    note: Option<&str>,
) -> Result<ReportView> {
    let section = Section::parse(section)
        .ok_or_else(|| ValidationErrors::single("section", "section 应为 education 或 police"))?;
    let r = load(app, actor, id).await?;
    if !quarterly::may_verify(actor, &r.region, section) {
        return Err(Error::Forbidden);
    }
    if r.status != ReportStatus::Submitted {
        return Err(Error::Conflict {
            field: Some("status".into()),
            message: format!("报表当前状态为“{}”，提交后才能核实", r.status.label()),
        });
    }
    let note = note.map(text::clean).unwrap_or_default();
    if note.chars().count() > 500 {
        return Err(ValidationErrors::single("note", "核实意见请不超过500字").into());
    }
    let name = app
        .store
        .display_name(&actor.user_id)
        .await?
        .unwrap_or_else(|| actor.username.clone());
    let check = SectionCheck {
        username: actor.username.clone(),
        name: name.clone(),
        at: app
            .store
            .clock()
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        note: note.clone(),
    };
    let mut tx = app.store.begin().await?;
    if !tx.check_section(&r, section, &check).await? {
        return Err(changed_meanwhile());
    }
    tx.add_report_event(
        &r.id,
        &actor.username,
        "verified",
        &format!(
            "{}：{name}{}",
            section.label(),
            if note.is_empty() {
                String::new()
            } else {
                format!("（{note}）")
            }
        ),
    )
    .await?;
    tx.audit(
        actor,
        "quarterly_report_verify",
        subject(&r),
        serde_json::json!({"section": section.code()}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}

/// The level above approves (the report is locked) or returns it with what to correct.
pub async fn decide(
    app: &App,
    actor: &Actor,
    id: &str,
    approve: bool,
    comment: Option<&str>,
    items: &[ReturnItem],
) -> Result<ReportView> {
    let r = load(app, actor, id).await?;
    if !may_approve(actor, &r.region) {
        return Err(Error::Forbidden);
    }
    let to = step(
        &r,
        if approve {
            ReportAction::Approve
        } else {
            ReportAction::Return
        },
    )?;
    // A town's report waits for the departments that check its sections, where there are any
    // (龙里 003 七(二): 县民政局要在…县教育局、县公安局核实更新数据的基础上汇总).
    if approve && reporting_level(&r.region) == Some(RegionLevel::Village) {
        let mut waiting = Vec::new();
        for (section, check) in [
            (Section::Education, &r.education_check),
            (Section::Police, &r.police_check),
        ] {
            if check.is_none()
                && app
                    .store
                    .has_role_covering(&r.region, section.role())
                    .await?
            {
                waiting.push(section.label());
            }
        }
        if !waiting.is_empty() {
            return Err(Error::Conflict {
                field: Some("status".into()),
                message: format!("尚待核实：{}", waiting.join("、")),
            });
        }
    }
    let comment = comment.map(text::clean).filter(|c| !c.is_empty());
    let units: Vec<&str> = r.units.keys().map(String::as_str).collect();
    let items = if approve {
        Vec::new()
    } else {
        check_return_items(items, &units)?
    };
    if !approve && comment.is_none() && items.is_empty() {
        return Err(ValidationErrors::single(
            "comment",
            "退回时请写明需要修改的内容（总体意见或逐项意见）",
        )
        .into());
    }
    if comment.as_ref().is_some_and(|c| c.chars().count() > 1000) {
        return Err(ValidationErrors::single("comment", "意见请不超过1000字").into());
    }
    let mut tx = app.store.begin().await?;
    if !tx
        .decide_quarterly_report(&r, to, &actor.username, comment.as_deref(), &items)
        .await?
    {
        return Err(changed_meanwhile());
    }
    let mut note = comment.clone().unwrap_or_default();
    for it in &items {
        if !note.is_empty() {
            note.push('；');
        }
        note.push_str(&format!("{}：{}", item_label(it, &r), it.comment));
    }
    tx.add_report_event(&r.id, &actor.username, to.code(), &note)
        .await?;
    tx.audit(
        actor,
        if approve {
            "quarterly_report_approve"
        } else {
            "quarterly_report_return"
        },
        subject(&r),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    get(app, actor, id).await
}

/// A unit and where its report of the quarter stands.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitReport {
    pub region: String,
    pub name: String,
    /// None: not made yet.
    pub report_id: Option<String>,
    pub status: Option<ReportStatus>,
    pub submitted_at: Option<String>,
}

/// The reports of a quarter that concern the actor: their own unit's, and those of the units
/// directly below it that report to it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuarterOverview {
    pub quarter: String,
    pub quarter_label: String,
    pub own: Option<UnitReport>,
    pub below: Vec<UnitReport>,
}

pub async fn overview(app: &App, actor: &Actor, quarter: Option<&str>) -> Result<QuarterOverview> {
    let today = app.store.today();
    let q = match quarter.filter(|q| !q.trim().is_empty()) {
        Some(s) => parse_quarter(s, today)?,
        // The quarter just ended is the one being reported in its first month; else this one.
        None => {
            let now = Quarter::of(today);
            if today < now.start() + chrono::Duration::days(30) {
                now.previous()
            } else {
                now
            }
        }
    };
    let Scope::Region { code: mine } = actor.scope() else {
        return Err(Error::Forbidden);
    };
    let reports = app.store.quarterly_reports_within(&mine, q).await?;
    let unit = |code: &str, name: String| {
        let r = reports.iter().find(|r| r.region.as_str() == code);
        UnitReport {
            region: code.to_owned(),
            name,
            report_id: r.map(|r| r.id.clone()),
            status: r.map(|r| r.status),
            submitted_at: r.and_then(|r| r.submitted_at.clone()),
        }
    };
    let own = match reporting_level(&mine) {
        Some(_) => Some(unit(
            mine.as_str(),
            app.store
                .region(&mine)
                .await?
                .map(|r| r.name)
                .unwrap_or_default(),
        )),
        None => None,
    };
    let below = match reporting_level(&mine).filter(|l| *l != RegionLevel::Village) {
        Some(level) => app
            .store
            .regions_within(&mine, level)
            .await?
            .into_iter()
            .map(|r| unit(&r.code, r.name))
            .collect(),
        None => vec![],
    };
    Ok(QuarterOverview {
        quarter: q.to_string(),
        quarter_label: q.label(),
        own,
        below,
    })
}

/// One unit on the 定期通报 ranking: its report's timeliness and state, and its children's
/// verification this quarter.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedUnit {
    pub region: String,
    pub name: String,
    /// Whether the unit reports (towns and above); a town's villages only verify.
    pub reports: bool,
    pub report_id: Option<String>,
    pub status: Option<ReportStatus>,
    pub due: Option<NaiveDate>,
    /// The first submission (a report returned and submitted again keeps its first date).
    pub first_submitted: Option<NaiveDate>,
    pub timeliness: Option<quarterly::Timeliness>,
    /// How many times the level above returned it.
    pub returned: usize,
    /// Children on the roster, and those visited or called this quarter (每季度核查).
    pub children: i64,
    pub verified: i64,
    pub verified_percent: u32,
}

/// The quarter's 定期通报 for the units below the actor: on time first, then not yet due, late,
/// missing; within each, the better verified first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ranking {
    pub region: String,
    pub quarter: String,
    pub quarter_label: String,
    pub units: Vec<RankedUnit>,
}

/// The China date of a stored time.
fn china_date(at: &str) -> Option<NaiveDate> {
    chrono::DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| shouwang_domain::clock::china_date(t.with_timezone(&chrono::Utc)))
}

pub async fn ranking(app: &App, actor: &Actor, quarter: Option<&str>) -> Result<Ranking> {
    let Scope::Region { code: mine } = actor.scope() else {
        return Err(Error::Forbidden);
    };
    let today = app.store.today();
    let q = match quarter.filter(|q| !q.trim().is_empty()) {
        Some(s) => parse_quarter(s, today)?,
        None => Quarter::of(today),
    };
    let Some(below) = mine.level().below() else {
        return Err(Error::Forbidden);
    };
    let units = app.store.regions_within(&mine, below).await?;
    let reports = app.store.quarterly_reports_within(&mine, q).await?;
    let on = q.end().min(today);
    let verification = app
        .store
        .verification_counts(&mine, below, q.start(), on)
        .await?;
    let deadlines = app.policies.report_deadlines;
    // Each unit's deadline is its county's (`domain::settings`): read once per county.
    let mut county_deadlines: std::collections::HashMap<String, quarterly::Deadlines> =
        Default::default();
    let mut out = Vec::with_capacity(units.len());
    for u in units {
        let code = RegionCode::parse(&u.code).map_err(|e| Error::Internal(e.to_string()))?;
        let reports_here = reporting_level(&code).is_some();
        let report = reports.iter().find(|r| r.region == code);
        let (first_submitted, returned) = match report {
            Some(r) => {
                let events = app.store.quarterly_report_events(&r.id).await?;
                (
                    events
                        .iter()
                        .filter(|e| e.kind == "submitted")
                        .filter_map(|e| china_date(&e.at))
                        .min(),
                    events.iter().filter(|e| e.kind == "returned").count(),
                )
            }
            None => (None, 0),
        };
        // A town's and a county's deadlines are their county's (`domain::settings`).
        let due = match reports_here {
            true => {
                let county = code
                    .at_level(RegionLevel::County)
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default();
                let d = match county_deadlines.get(&county) {
                    Some(d) => *d,
                    None => {
                        let d = app.store.county_settings(&code).await?.deadlines(deadlines);
                        county_deadlines.insert(county, d);
                        d
                    }
                };
                Some(d.due(&code, q))
            }
            false => None,
        };
        let (children, verified) = verification
            .iter()
            .find(|(c, _, _)| *c == u.code)
            .map(|(_, n, v)| (*n, *v))
            .unwrap_or((0, 0));
        out.push(RankedUnit {
            timeliness: due.map(|d| quarterly::timeliness(d, first_submitted, today)),
            region: u.code,
            name: u.name,
            reports: reports_here,
            report_id: report.map(|r| r.id.clone()),
            status: report.map(|r| r.status),
            due,
            first_submitted,
            returned,
            children,
            verified,
            verified_percent: if children == 0 {
                100
            } else {
                u32::try_from(verified * 100 / children).unwrap_or(100)
            },
        });
    }
    let rank = |t: Option<quarterly::Timeliness>| match t {
        Some(quarterly::Timeliness::OnTime) => 0,
        Some(quarterly::Timeliness::Pending) | None => 1,
        Some(quarterly::Timeliness::Late) => 2,
        Some(quarterly::Timeliness::Missing) => 3,
    };
    out.sort_by(|a, b| {
        rank(a.timeliness)
            .cmp(&rank(b.timeliness))
            .then(a.first_submitted.cmp(&b.first_submitted))
            .then(b.verified_percent.cmp(&a.verified_percent))
            .then(a.region.cmp(&b.region))
    });
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        "ranking_read",
        Subject {
            entity: "region",
            id: None,
            region: Some(mine.as_str()),
        },
        serde_json::json!({"quarter": q.to_string()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Ranking {
        region: mine.as_str().to_owned(),
        quarter: q.to_string(),
        quarter_label: q.label(),
        units: out,
    })
}

/// What time decides at a quarter's end, applied and recorded (每季度核查): a child who turned 16 by
/// the end of the last completed quarter leaves the roster with the reason 年满16周岁 on the
/// birthday, in the file's history like any exit (国发〔2016〕13号: 不满十六周岁). The roster and
/// every count leave them out from the birthday already; this writes it down. Safe to run any
/// number of times; the server runs it at start and every six hours. Returns the files exited.
pub async fn apply_quarter_end(app: &App) -> Result<usize> {
    use shouwang_domain::authz::Role;
    use shouwang_domain::eligibility::sixteenth_birthday;
    use shouwang_domain::lifecycle::{self, ExitReason};
    let cutoff = Quarter::of(app.store.today()).previous().end();
    let mut exited = 0;
    loop {
        let batch = app.store.aged_out_on(cutoff, 500).await?;
        if batch.is_empty() {
            return Ok(exited);
        }
        let mut moved = 0;
        let mut tx = app.store.begin().await?;
        for (id, version, birth, village) in &batch {
            let system = Actor {
                user_id: "system".into(),
                username: "system".into(),
                role: Role::CountyAdmin,
                region: village
                    .at_level(RegionLevel::County)
                    .unwrap_or(village.clone()),
                agency_id: None,
            };
            let date = sixteenth_birthday(*birth);
            if !tx
                .set_exited(id, ExitReason::AgedSixteen, date, *version)
                .await?
            {
                continue;
            }
            moved += 1;
            tx.end_agency_links(id, None).await?;
            let changes =
                lifecycle::exit_changes(ExitReason::AgedSixteen, date, Some("季度末自动办理"));
            tx.add_history(id, version + 1, &system, "exit", &changes)
                .await?;
            tx.audit(
                &system,
                "child_exit",
                Subject {
                    entity: "child",
                    id: Some(id),
                    region: Some(village.as_str()),
                },
                serde_json::json!({"reason": ExitReason::AgedSixteen.code(), "date": date, "quarter_end": cutoff}),
            )
            .await?;
        }
        tx.commit().await?;
        exited += moved;
        if moved == 0 {
            // Every file of the batch changed meanwhile: the next pass takes them.
            return Ok(exited);
        }
    }
}

/// The figures of an area over a period (龙里 003 七(二): 1月1日至8月31日期间的汇总): the registry's
/// registrations, exits by reason and visits, with the protection cases' figures of the same days.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeriodFigures {
    pub region: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Files registered in the period.
    pub registered: i64,
    /// Files that left the roster in the period, by reason.
    pub exited: Vec<crate::protection::Count>,
    pub visits: i64,
    pub children_visited: i64,
    /// Reports, cases, placements and referrals of the period.
    pub cases: crate::protection::Figures,
}

pub async fn period(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<PeriodFigures> {
    use shouwang_domain::lifecycle::ExitReason;
    // The cases' figures check the role and the period, and are audited with it.
    let cases = crate::protection::figures(app, actor, from, to).await?;
    let Scope::Region { code: region } = actor.scope() else {
        return Err(Error::Forbidden);
    };
    let instant = |d: NaiveDate| {
        shouwang_domain::clock::china_day_start(d)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let (start, end) = (instant(from), instant(to + chrono::Duration::days(1)));
    let r = app
        .store
        .registry_period(&region, (&start, &end), (from, to))
        .await?;
    Ok(PeriodFigures {
        region: region.as_str().to_owned(),
        from,
        to,
        registered: r.registered,
        exited: r
            .exits
            .into_iter()
            .map(|(code, count)| crate::protection::Count {
                label: ExitReason::parse(&code)
                    .map(|e| e.label().to_owned())
                    .unwrap_or_else(|| code.clone()),
                code,
                count,
            })
            .collect(),
        visits: r.visits,
        children_visited: r.children_visited,
        cases,
    })
}

/// What the home page shows of an area beyond its counts: the 汇总表 today and per unit below,
/// the roster at the last quarters' ends (frozen figures where a report was made), and this
/// quarter's verification.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub region: RegionCode,
    pub today: NaiveDate,
    /// Today's 汇总表 of the area.
    pub figures: Figures,
    /// The same per unit below (towns of a county…): code, name, figures.
    pub units: Vec<(String, String, Figures)>,
    /// Children on the roster at each of the last quarters' ends, oldest first, then today:
    /// (label, value, frozen).
    pub trend: Vec<(String, u64, bool)>,
    /// This quarter: children on the roster and those visited or called (counted live, for a
    /// county and below).
    pub verified: (i64, i64),
    /// Above the county the dashboard reads the quarterly reports (DHIS2's way: the aggregate
    /// side from approved data), never the files: which report its figures come from.
    pub source: Option<String>,
}

pub async fn dashboard(app: &App, actor: &Actor) -> Result<Option<Dashboard>> {
    let Scope::Region { code: region } = actor.scope() else {
        return Ok(None);
    };
    let today = app.store.today();
    if region.level() < RegionLevel::County {
        return Ok(Some(reported_dashboard(app, region, today).await?));
    }
    // Counted once by village: the units below (towns of a county, villages of a town) are
    // their villages summed, and the quarter's verification is read against the same counts.
    let c = count_units(app, &region, today, Some(RegionLevel::Village)).await?;
    let mut below: BTreeMap<String, Figures> = BTreeMap::new();
    if let Some(level) = region.level().below() {
        for (village, f) in &c.units {
            below
                .entry(village[..level.code_len().min(village.len())].to_owned())
                .or_default()
                .merge(f);
        }
    }
    let units = unit_names(app, &region)
        .await?
        .into_iter()
        .map(|(code, name)| {
            let f = below.get(&code).copied().unwrap_or_default();
            (code, name, f)
        })
        .collect();
    let mut trend = Vec::new();
    let mut q = Quarter::of(today).previous();
    let mut quarters = Vec::new();
    for _ in 0..4 {
        quarters.push(q);
        q = q.previous();
    }
    quarters.reverse();
    // A quarter without its frozen report is counted from today's files as of its end: from
    // the kept roll-up for a county, in one pass over the roster for a town or a village.
    let mut frozen = Vec::new();
    for q in &quarters {
        frozen.push(frozen_on(app, &region, q.end()).await?);
    }
    let counted = if region.level() > RegionLevel::County {
        let dates: Vec<NaiveDate> = quarters.iter().map(|q| q.end()).collect();
        app.store.roster_totals(&region, &dates).await?
    } else {
        Vec::new()
    };
    for (i, (q, report)) in quarters.iter().zip(frozen).enumerate() {
        let label = format!("{}Q{}", q.year % 100, q.q);
        match report {
            Some(r) => trend.push((label, r.figures.first().copied().unwrap_or(0), true)),
            None => {
                let n = match counted.get(i) {
                    Some(n) => u64::try_from(*n).unwrap_or(0),
                    None => count(app, &region, q.end()).await?.0.get(1),
                };
                trend.push((label, n, false));
            }
        }
    }
    trend.push(("今天".to_owned(), c.total.get(1), false));
    let done = app
        .store
        .verified_in(&region, RegionLevel::Village, today)
        .await?;
    let verified = c.units.iter().fold((0, 0), |(n, v), (village, f)| {
        let on_roster = i64::try_from(f.get(1)).unwrap_or(i64::MAX);
        let verified = done.get(village).copied().unwrap_or(0).min(on_roster);
        (n + on_roster, v + verified)
    });
    Ok(Some(Dashboard {
        region,
        today,
        figures: c.total,
        units,
        trend,
        verified,
        source: None,
    }))
}

/// The units one level below `region`, by code, with their names.
async fn unit_names(app: &App, region: &RegionCode) -> Result<BTreeMap<String, String>> {
    Ok(match region.level().below() {
        Some(level) => app
            .store
            .regions_within(region, level)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect(),
        None => BTreeMap::new(),
    })
}

/// The dashboard of a prefecture or a province, from its quarterly reports: the trend from the
/// reports of the last quarters, the breakdowns and the units from the latest one.
async fn reported_dashboard(app: &App, region: RegionCode, today: NaiveDate) -> Result<Dashboard> {
    let mut quarters = Vec::new();
    let mut q = Quarter::of(today).previous();
    for _ in 0..4 {
        quarters.push(q);
        q = q.previous();
    }
    quarters.reverse();
    let mut trend = Vec::new();
    let mut latest = None;
    for q in &quarters {
        let r = app.store.quarterly_report_of(&region, *q).await?;
        trend.push((
            format!("{}Q{}", q.year % 100, q.q),
            r.as_ref()
                .and_then(|r| r.figures.first().copied())
                .unwrap_or(0),
            r.is_some(),
        ));
        if r.is_some() {
            latest = r;
        }
    }
    let units = unit_names(app, &region)
        .await?
        .into_iter()
        .map(|(code, name)| {
            let f = latest
                .as_ref()
                .and_then(|r| r.units.get(&code))
                .map(|v| Figures::from_values(v))
                .unwrap_or_default();
            (code, name, f)
        })
        .collect();
    Ok(Dashboard {
        figures: latest
            .as_ref()
            .map(|r| Figures::from_values(&r.figures))
            .unwrap_or_default(),
        source: Some(match &latest {
            Some(r) => format!("{}报表（{}）", r.quarter.label(), r.status.label()),
            None => "近四个季度尚无本级报表".to_owned(),
        }),
        region,
        today,
        units,
        trend,
        verified: (0, 0),
    })
}

/// The roster a town's report froze (who it counted), for its download; reading it is audited
/// like an export of the roster.
pub async fn frozen_roster(
    app: &App,
    actor: &Actor,
    id: &str,
) -> Result<(ReportView, Vec<RosterLine>)> {
    if !actor.may(shouwang_domain::authz::Action::Export) {
        return Err(Error::Forbidden);
    }
    let r = load(app, actor, id).await?;
    let lines = app.store.quarterly_roster(&r.id).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        "export",
        subject(&r),
        serde_json::json!({"kind": "frozen_roster", "count": lines.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok((report_view(app, actor, r).await?, lines))
}
