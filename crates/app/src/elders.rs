//! 留守老人 use cases (issue 27; 龙里 003 二, 五(一)1, 附件6/7): register, edit, read and list the
//! left-behind elderly people of one's area, and read the 花名册 and a 登记表 for export. Each
//! checks the role, then the jurisdiction, then writes the record, its history and the audit in
//! one transaction.

use chrono::NaiveDate;
use serde::Serialize;

use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor, Scope};
use shouwang_domain::elder::{self, ElderExitReason, ElderFile, ElderInput, ElderStatus};
use shouwang_domain::history;
use shouwang_domain::ids::ElderId;
use shouwang_domain::input::ParseContext;
use shouwang_domain::region::{Divisions, RegionCode};
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::work::{WorkItem, WorkKind};
use shouwang_store::Subject;
use shouwang_store::elders::StoredElder;

pub use shouwang_store::elders::{ElderQuery, ElderSummary, HistoryEntry, Page};

use crate::{App, Error, Result};

/// An elder's record as shown: the record (ID number only when revealed), its state and what it
/// still needs.
#[derive(Debug, Clone, Serialize)]
pub struct ElderRecord {
    pub id: ElderId,
    pub file: ElderFile,
    pub id_number_masked: Option<String>,
    pub status: ElderStatus,
    pub exit_reason: Option<ElderExitReason>,
    pub exit_date: Option<NaiveDate>,
    pub age: i32,
    /// What the register still needs to know (待补充), by the form's labels.
    pub missing: Vec<&'static str>,
    pub watched: bool,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Province → village names of where the elder lives.
    pub place: Vec<String>,
}

fn record(row: StoredElder, reveal: bool, today: NaiveDate) -> ElderRecord {
    let masked = row
        .file
        .id_number
        .as_ref()
        .map(shouwang_domain::id_number::IdNumber::masked);
    let mut file = row.file;
    if !reveal {
        file.id_number = None;
    }
    ElderRecord {
        id: row.id,
        age: elder::age(&file, today),
        missing: elder::missing(&file),
        watched: elder::watched(&file),
        place: Divisions::shipped()
            .lineage(&file.village_code)
            .map(|l| l.iter().map(|d| d.name.to_owned()).collect())
            .unwrap_or_default(),
        id_number_masked: masked,
        file,
        status: row.status,
        exit_reason: row.exit_reason,
        exit_date: row.exit_date,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn context(today: NaiveDate) -> ParseContext<'static> {
    ParseContext {
        today,
        divisions: Divisions::shipped(),
    }
}

/// The checks a record passes before it is written: the village is the actor's and is set up,
/// and its ID number is not another record's.
async fn admissible(
    app: &App,
    actor: &Actor,
    file: &ElderFile,
    this: Option<&ElderId>,
) -> Result<()> {
    if !actor.covers(&file.village_code) {
        return Err(
            ValidationErrors::single("village_code", "所选村（社区）不在您的管辖范围内").into(),
        );
    }
    if app
        .store
        .regions()
        .region(&file.village_code)
        .await?
        .is_none()
    {
        return Err(
            ValidationErrors::single("village_code", "该村（社区）尚未在系统中初始化").into(),
        );
    }
    if let Some(id) = &file.id_number {
        let found = app.store.elders().elders_with_id_number(id, this).await?;
        if let Some((_, village)) = found.first() {
            // Where, only inside the actor's area (a look-up must not say where someone lives).
            let message = if actor.covers(village) {
                "该身份证号码已登记为留守老人，请勿重复登记".to_owned()
            } else {
                "该身份证号码已在其他地区登记为留守老人，请与县民政局核实".to_owned()
            };
            return Err(Error::conflict(Some("id_number"), message));
        }
    }
    Ok(())
}

/// Registers an elder (version 1). An elder younger than 60 on the day is refused on
/// `birth_date` (《老年人权益保障法》第二条).
pub async fn register(app: &App, actor: &Actor, input: &ElderInput) -> Result<ElderRecord> {
    if !actor.may(Action::RegisterElder) {
        return Err(Error::Forbidden);
    }
    let file = input.parse(&context(app.today()))?;
    admissible(app, actor, &file, None).await?;
    let id = ElderId::new(uuid::Uuid::now_v7().to_string());
    let mut tx = app.store.begin().await?;
    tx.elders().insert_elder(&id, &file).await?;
    let changes = history::diff(&None::<ElderFile>, &Some(file.clone()));
    tx.elders()
        .add_elder_history(&id, 1, actor, "register", &changes)
        .await?;
    tx.audit(
        actor,
        AuditAction::ElderRegister,
        Subject {
            entity: "elder",
            id: Some(id.as_str()),
            region: Some(file.village_code.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    let row = app.store.elders().visible_elder(actor, &id).await?;
    Ok(record(row, false, app.today()))
}

/// Edits a record: the fields `patch` states laid over it (a blank string clears one). Refused
/// with a conflict if someone saved since `expected_version`.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: &ElderId,
    expected_version: i64,
    patch: ElderInput,
) -> Result<ElderRecord> {
    if !actor.may(Action::RegisterElder) {
        return Err(Error::Forbidden);
    }
    let row = app.store.elders().visible_elder(actor, id).await?;
    if row.status != ElderStatus::Active {
        return Err(Error::conflict(None, "该老人已退出名册，不能修改"));
    }
    let file = ElderInput::from_file(&row.file)
        .overlay(patch)
        .parse(&context(app.today()))?;
    admissible(app, actor, &file, Some(id)).await?;
    let changes = history::diff(&row.file, &file);
    let mut tx = app.store.begin().await?;
    if !tx.elders().write_elder(id, &file, expected_version).await? {
        return Err(Error::conflict(
            Some("version"),
            format!(
                "该记录已被他人修改（当前版本{}），请刷新后重新编辑",
                row.version
            ),
        ));
    }
    tx.elders()
        .add_elder_history(id, expected_version + 1, actor, "edit", &changes)
        .await?;
    tx.audit(
        actor,
        AuditAction::ElderEdit,
        Subject {
            entity: "elder",
            id: Some(id.as_str()),
            region: Some(file.village_code.as_str()),
        },
        serde_json::json!({"fields": changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>()}),
    )
    .await?;
    tx.commit().await?;
    let row = app.store.elders().visible_elder(actor, id).await?;
    Ok(record(row, false, app.today()))
}

/// An elder leaves the register (子女返乡、迁出、去世…) on `date`, with the reason; the record stays,
/// read-only, among the exited. Refused with a conflict if it left already or someone saved since
/// `expected_version`.
pub async fn exit(
    app: &App,
    actor: &Actor,
    id: &ElderId,
    expected_version: i64,
    reason: ElderExitReason,
    date: NaiveDate,
) -> Result<ElderRecord> {
    if !actor.may(Action::RegisterElder) {
        return Err(Error::Forbidden);
    }
    let row = app.store.elders().visible_elder(actor, id).await?;
    if row.status != ElderStatus::Active {
        return Err(Error::conflict(None, "该老人已退出名册"));
    }
    elder::exit_date(&row.file, date, app.today())
        .map_err(|m| ValidationErrors::single("date", m))?;
    let mut tx = app.store.begin().await?;
    if !tx
        .elders()
        .set_elder_exited(id, reason, date, expected_version)
        .await?
    {
        return Err(Error::conflict(
            Some("version"),
            format!(
                "该记录已被他人修改（当前版本{}），请刷新后重试",
                row.version
            ),
        ));
    }
    let changes = vec![history::FieldChange {
        field: "status".into(),
        old: Some(ElderStatus::Active.label().to_owned()),
        new: Some(format!(
            "{}（{}，{date}）",
            ElderStatus::Exited.label(),
            reason.label()
        )),
    }];
    tx.elders()
        .add_elder_history(id, expected_version + 1, actor, "exit", &changes)
        .await?;
    tx.audit(
        actor,
        AuditAction::ElderExit,
        Subject {
            entity: "elder",
            id: Some(id.as_str()),
            region: Some(row.file.village_code.as_str()),
        },
        serde_json::json!({"reason": reason.code(), "date": date.to_string()}),
    )
    .await?;
    tx.commit().await?;
    let row = app.store.elders().visible_elder(actor, id).await?;
    Ok(record(row, false, app.today()))
}

/// One record the actor may see, audited; `reveal` shows the whole ID number to a role that may
/// unmask (audited as such).
pub async fn get(app: &App, actor: &Actor, id: &ElderId, reveal: bool) -> Result<ElderRecord> {
    let reader = reader(app, actor).await?;
    if reveal && !actor.may(Action::UnmaskIdNumber) {
        return Err(Error::Forbidden);
    }
    let row = app.store.elders().visible_elder(&reader, id).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        if reveal {
            AuditAction::IdUnmask
        } else {
            AuditAction::ElderRead
        },
        Subject {
            entity: "elder",
            id: Some(id.as_str()),
            region: Some(row.file.village_code.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(record(row, reveal, app.today()))
}

/// Who reads the register for the actor: the actor, if its role reads it; its county's list, if
/// its unit is one the register is sent to (龙里 003 五(一)1: 县卫计局、县妇联); else refused.
async fn reader(app: &App, actor: &Actor) -> Result<Actor> {
    if actor.may(Action::ReadElder) {
        Ok(actor.clone())
    } else if crate::places::receives_lists(app, actor).await? {
        Ok(actor.list_reader())
    } else {
        Err(Error::Forbidden)
    }
}

/// A record's history, newest first (the record must be visible to the actor).
pub async fn history(app: &App, actor: &Actor, id: &ElderId) -> Result<Vec<HistoryEntry>> {
    let reader = reader(app, actor).await?;
    app.store.elders().visible_elder(&reader, id).await?;
    Ok(app.store.elders().elder_history(id).await?)
}

/// One page of the register, audited with its filter and how many lines it showed.
pub async fn roster(app: &App, actor: &Actor, query: &ElderQuery) -> Result<Page<ElderSummary>> {
    let reader = reader(app, actor).await?;
    let page = app.store.elders().elder_roster(&reader, query).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::ElderRosterRead,
        Subject {
            entity: "region",
            id: None,
            region: Some(query.region.as_ref().unwrap_or(&actor.region).as_str()),
        },
        serde_json::json!({
            "search": query.q.as_deref().map(shouwang_domain::id_number::mask_id_in_text),
            "shown": page.items.len(),
            "total": page.total,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(page)
}

/// Who may export the register of `region`: a role that reads it and exports, inside its area
/// (outside, the region is "not found").
fn may_export(actor: &Actor, region: &RegionCode) -> Result<()> {
    if !actor.may(Action::ReadElder) || !actor.may(Action::Export) {
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
    kind: &str,
    region: &str,
    elder: Option<&str>,
    count: usize,
) -> Result<()> {
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::Export,
        Subject {
            entity: if elder.is_some() { "elder" } else { "region" },
            id: elder,
            region: Some(region),
        },
        serde_json::json!({"kind": kind, "date": app.today().to_string(), "count": count}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The 花名册 (附件6) of `region`: every elder on the register there, audited as an export.
pub async fn export_roster(
    app: &App,
    actor: &Actor,
    region: &RegionCode,
) -> Result<Vec<ElderFile>> {
    may_export(actor, region)?;
    let files: Vec<ElderFile> = app
        .store
        .elders()
        .elders_in(region)
        .await?
        .into_iter()
        .map(|r| r.file)
        .collect();
    audit_export(
        app,
        actor,
        "elder_roster",
        region.as_str(),
        None,
        files.len(),
    )
    .await?;
    Ok(files)
}

/// One elder's 基本情况登记表 (附件7), audited as an export.
pub async fn export_form(app: &App, actor: &Actor, id: &ElderId) -> Result<ElderFile> {
    let row = app.store.elders().visible_elder(actor, id).await?;
    may_export(actor, &row.file.village_code)?;
    audit_export(
        app,
        actor,
        "elder_form",
        row.file.village_code.as_str(),
        Some(id.as_str()),
        1,
    )
    .await?;
    Ok(row.file)
}

/// The register's work on a home page: records that leave blank what the register needs (待补充),
/// for those who keep it.
pub(crate) async fn work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    if !actor.may(Action::RegisterElder) {
        return Ok(vec![]);
    }
    let page = app
        .store
        .elders()
        .elder_roster(
            actor,
            &ElderQuery {
                incomplete: true,
                per_page: 1,
                ..ElderQuery::default()
            },
        )
        .await?;
    Ok(if page.total > 0 {
        vec![WorkItem::new(
            WorkKind::FileIncomplete,
            format!("{} 名留守老人的信息待补充", page.total),
            "/elders?incomplete=1",
        )]
    } else {
        vec![]
    })
}
