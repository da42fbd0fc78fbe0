//! The child registry's use cases: read, register, edit, exit, transfer, history, agency links.
//! Each checks the actor's permission and jurisdiction, applies the domain's rules
//! (`domain::input`, `domain::eligibility`, `domain::lifecycle`) and writes and audits in one
//! transaction through `store::Tx`.

use chrono::NaiveDate;
use serde::Serialize;

/// The views this capability hands a front end.
pub use shouwang_store::children::HistoryEntry;
pub use shouwang_store::roster::{ChildSummary, Counts, Page, RosterQuery, Sort, StandingFilter};

use crate::{App, Error, Result};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor, Role};
use shouwang_domain::child::ChildFile;
use shouwang_domain::eligibility::{self, Eligibility, FlagReason};
use shouwang_domain::history;
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::ids::ChildId;
use shouwang_domain::input::{ChildInput, ParseContext};
use shouwang_domain::lifecycle::{self, ChildStatus, ExitReason, RosterStanding};
use shouwang_domain::population::{self, Membership};
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::work::{WorkItem, WorkKind};
use shouwang_linkage::prepare::Prepared;
use shouwang_linkage::registry::{file_record, registry_record};
use shouwang_linkage::single;
pub use shouwang_store::children::StoredChild;
use shouwang_store::{Store, Subject, Tx};

mod duplicates;
mod fill;
pub use duplicates::*;
pub use fill::{Filled, MAX_SELECTED, fill_selected};

/// A child's file as a user may see it. ID numbers inside `file` are present only when the user
/// asked to reveal them and may; `ids_masked` always holds the masked forms.
#[derive(Debug, Clone, Serialize)]
pub struct ChildRecord {
    pub id: ChildId,
    pub file: ChildFile,
    pub ids_masked: MaskedIds,
    pub status: ChildStatus,
    pub exit_reason: Option<ExitReason>,
    pub exit_date: Option<NaiveDate>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub standing: RosterStanding,
    pub eligibility: Eligibility,
    pub flags: Vec<FlagReason>,
    /// The populations of the registry the file's facts establish, with their reasons (issue
    /// 27); none once the file left the registry.
    pub populations: Vec<Membership>,
    /// Facts 事实无人抚养 needs that the file leaves blank (a parent's situation).
    pub de_facto_missing: Vec<String>,
    /// 兜底保障 the facts call for (龙里 003 五(五)2–3), each with why.
    pub safety_net: Vec<shouwang_domain::safety_net::Entitlement>,
    /// Province → village names of where the child lives.
    pub place: Vec<String>,
    pub revealed: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaskedIds {
    pub child: Option<String>,
    pub father: Option<String>,
    pub mother: Option<String>,
    pub guardian: Option<String>,
}

/// A possible duplicate found at registration.
#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    /// Set only when the existing record is inside the user's jurisdiction.
    pub child_id: Option<String>,
    pub reason: String,
    /// How likely the same child (the linkage engine's score); none for the same ID number.
    pub probability: Option<f64>,
}

/// How an edit's input relates to the stored file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditMode {
    /// Only the fields present change (API PATCH).
    Patch,
    /// The whole form was submitted (HTML edit form); empty ID-number fields keep the stored
    /// numbers, which the form never shows in full.
    Replace,
}

fn masked_ids(f: &ChildFile) -> MaskedIds {
    MaskedIds {
        child: f.id_number.as_ref().map(IdNumber::masked),
        father: f.father.id_number.as_ref().map(IdNumber::masked),
        mother: f.mother.id_number.as_ref().map(IdNumber::masked),
        guardian: f
            .entrusted_guardian
            .as_ref()
            .and_then(|g| g.id_number.as_ref().map(IdNumber::masked)),
    }
}

fn strip_ids(mut f: ChildFile) -> ChildFile {
    f.id_number = None;
    f.father.id_number = None;
    f.mother.id_number = None;
    if let Some(g) = f.entrusted_guardian.as_mut() {
        g.id_number = None;
    }
    f
}

/// Why a person born on `birth` is not registered as a child on `today`, if they are not: the
/// registry covers children under 16 (国发〔2016〕13号); someone of 60 or more belongs on the
/// register of left-behind elderly people (a county's list that mixes them in is told where).
pub(crate) fn too_old(birth: NaiveDate, today: NaiveDate) -> Option<String> {
    let age = eligibility::age_on(birth, today);
    if age >= shouwang_domain::elder::ELDER_MIN_AGE {
        Some(format!(
            "{age}周岁，不是儿童：留守老人请在“留守老人”花名册中登记"
        ))
    } else if age >= 16 {
        Some("该儿童已满16周岁，不属于农村留守儿童登记范围".to_owned())
    } else {
        None
    }
}

fn parse_context(today: chrono::NaiveDate) -> ParseContext<'static> {
    ParseContext {
        today,
        divisions: Divisions::shipped(),
    }
}

/// The view of a stored file on `today`: its standing, the definition's assessment and flags.
pub fn record(row: StoredChild, reveal: bool, today: NaiveDate) -> ChildRecord {
    let definition = eligibility::Definition::of(&row.file);
    let standing = RosterStanding::of(row.status, definition, row.file.birth_date, today);
    let eligibility = eligibility::assess(&row.file, today);
    let flags = eligibility::key_target_flags(&row.file);
    let (populations, de_facto_missing, safety_net) = if row.status == ChildStatus::Active {
        (
            population::of(&row.file, &eligibility),
            population::de_facto_missing(&row.file),
            shouwang_domain::safety_net::of(&row.file),
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let ids_masked = masked_ids(&row.file);
    let place = Divisions::shipped()
        .lineage(&row.file.village_code)
        .map(|l| l.iter().map(|d| d.name.to_owned()).collect())
        .unwrap_or_default();
    ChildRecord {
        id: row.id,
        file: if reveal {
            row.file
        } else {
            strip_ids(row.file)
        },
        ids_masked,
        status: row.status,
        exit_reason: row.exit_reason,
        exit_date: row.exit_date,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        standing,
        eligibility,
        flags,
        populations,
        de_facto_missing,
        safety_net,
        place,
        revealed: reveal,
    }
}

fn version_conflict(current: i64) -> Error {
    Error::Conflict {
        field: Some("version".into()),
        message: format!("该档案已被他人修改（当前版本{current}），请刷新后重新编辑"),
    }
}

fn lifecycle_error(field: &str, e: lifecycle::LifecycleError) -> Error {
    match e {
        lifecycle::LifecycleError::EditOfExited => Error::Conflict {
            field: None,
            message: e.to_string(),
        },
        _ => ValidationErrors::single(field, e.to_string()).into(),
    }
}

/// Refuses an action the role may not take, without telling an out-of-scope user the child
/// exists (reads are allowed to more roles than writes).
async fn require(app: &App, actor: &Actor, action: Action, id: &ChildId) -> Result<()> {
    if actor.may(action) {
        return Ok(());
    }
    app.store.children().visible_child(actor, id).await?;
    Err(Error::Forbidden)
}

/// The file after a write, as the writer sees it (not audited again: the write was).
async fn after_write(app: &App, id: &ChildId) -> Result<ChildRecord> {
    Ok(record(
        app.store.children().child(id).await?,
        false,
        app.store.today(),
    ))
}

/// Reads a child's file (audited). Out of scope and missing are the same `NotFound`. `reveal`
/// asks for full ID numbers; it is refused for roles that do not need them, and logged when
/// granted.
pub async fn get(app: &App, actor: &Actor, id: &ChildId, reveal: bool) -> Result<ChildRecord> {
    if reveal && !actor.may(Action::UnmaskIdNumber) {
        return Err(Error::Forbidden);
    }
    let mut tx = app.store.begin().await?;
    let row = tx.children().visible_child(actor, id).await?;
    let region = row.file.village_code.as_str().to_owned();
    tx.audit(
        actor,
        if reveal {
            AuditAction::IdUnmask
        } else {
            AuditAction::ChildRead
        },
        Subject {
            entity: "child",
            id: Some(id.as_str()),
            region: Some(&region),
        },
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(record(row, reveal, app.store.today()))
}

/// One page of the roster the actor may see. A list shows personal data of many children, so the
/// read is audited with its filter and how many rows it showed (a bulk read leaves a trace like
/// opening one file does).
pub async fn roster(app: &App, actor: &Actor, query: &RosterQuery) -> Result<Page<ChildSummary>> {
    // The list of 事实无人抚养 children goes to the county's 卫计 and 妇联 too (龙里 003 五(一)1):
    // read as its county's list, nothing more.
    let reader = if query.population == Some(population::Population::DeFactoUnsupported)
        && crate::places::receives_lists(app, actor).await?
    {
        actor.list_reader()
    } else {
        actor.clone()
    };
    let page = app.store.rosters().roster(&reader, query).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::RosterRead,
        Subject {
            entity: "region",
            id: None,
            region: Some(query.region.as_ref().unwrap_or(&actor.region).as_str()),
        },
        serde_json::json!({
            // A search may be a whole ID number: the log keeps it masked.
            "search": query.q.as_deref().map(shouwang_domain::id_number::mask_id_in_text),
            "filter": format!("{:?}", RosterQuery { q: None, ..query.clone() }),
            "shown": page.items.len(),
            "total": page.total,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(page)
}

/// A file's history, newest first, if the actor may see the child.
pub async fn history(app: &App, actor: &Actor, id: &ChildId) -> Result<Vec<HistoryEntry>> {
    app.store.children().visible_child(actor, id).await?;
    Ok(app.store.children().child_history(id).await?)
}

/// Registers a child. Same ID number → conflict; likely the same child in the county (see
/// [`find_duplicates`]) → a warning that `confirm_duplicate` overrides.
pub async fn register(
    app: &App,
    actor: &Actor,
    input: &ChildInput,
    confirm_duplicate: bool,
) -> Result<ChildRecord> {
    register_settling(app, actor, input, confirm_duplicate, None).await
}

/// Registers a child and, in the same transaction, settles the discovery report (发现报告) of the
/// town's queue the registration came from — which links the case of a mandatory report on a
/// child not yet registered to the new file.
pub async fn register_settling(
    app: &App,
    actor: &Actor,
    input: &ChildInput,
    confirm_duplicate: bool,
    discovery: Option<&shouwang_domain::ids::DiscoveryId>,
) -> Result<ChildRecord> {
    if !actor.may(Action::RegisterChild) {
        return Err(Error::Forbidden);
    }
    let file = input.parse(&parse_context(app.today()))?;
    if !actor.covers(&file.village_code) {
        return Err(
            ValidationErrors::single("village_code", "所选村（社区）不在您的管辖范围内").into(),
        );
    }
    if let Some(why) = too_old(file.birth_date, app.store.today()) {
        return Err(ValidationErrors::single("birth_date", why).into());
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
    let found = find_duplicates(app, actor, &file, None).await?;
    let dups = found.shown;
    if dups
        .iter()
        .any(|d| d.probability.is_none() && d.child_id.is_none())
    {
        raise_duplicate_elsewhere(app, actor, &file).await?;
    }
    same_id_number(&dups)?;
    if let Some(first) = dups.first()
        && !confirm_duplicate
    {
        return Err(Error::Conflict {
            field: Some("name".into()),
            message: format!("{}。确认不是同一人后请勾选“确认登记”再提交", first.reason),
        });
    }
    let id = ChildId::new(uuid::Uuid::now_v7().to_string());
    let mut tx = app.store.begin().await?;
    tx.children().insert_child(&id, &file).await?;
    let changes = history::diff(&None::<ChildFile>, &Some(file.clone()));
    tx.children()
        .add_history(&id, 1, actor, "register", &changes)
        .await?;
    tx.audit(
        actor,
        AuditAction::ChildRegister,
        Subject {
            entity: "child",
            id: Some(id.as_str()),
            region: Some(file.village_code.as_str()),
        },
        serde_json::json!({}),
    )
    .await?;
    raise_near_duplicate(&mut tx, actor, id.as_str(), &file, &found.other_towns).await?;
    if let Some(d) = discovery {
        crate::discoveries::close_in(&mut tx, actor, d, Some(&id), "")
            .await
            .map_err(|e| match e {
                Error::NotFound => Error::Conflict {
                    field: None,
                    message: "该发现报告已办结或不在您的辖区，请从待登记列表重新进入".into(),
                },
                other => other,
            })?;
    }
    tx.commit().await?;
    after_write(app, &id).await
}

/// Edits a file. `expected_version` is the version the user's form was based on; if someone else
/// saved in between, the edit is refused with a conflict instead of overwriting.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: &ChildId,
    expected_version: i64,
    input: ChildInput,
    mode: EditMode,
) -> Result<ChildRecord> {
    require(app, actor, Action::EditChild, id).await?;
    let attempted = input.clone();
    let mut tx = app.store.begin().await?;
    match edit_in(&mut tx, actor, id, Some(expected_version), input, mode).await {
        Ok(_) => {}
        // An ID number registered outside the user's area: as at registration (issue 24: the
        // edit route answered the same 409 but audited and raised nothing, an oracle of who is
        // registered where), the look-up is audited and the county's queue told — after the
        // edit's transaction is given up.
        Err(Error::Conflict { field, message }) if message == ELSEWHERE => {
            drop(tx);
            let row = app.store.children().visible_child(actor, id).await?;
            if let Ok(file) = merged_file(&row.file, attempted, mode, app.today()) {
                raise_duplicate_elsewhere(app, actor, &file).await?;
            }
            return Err(Error::Conflict { field, message });
        }
        Err(e) => return Err(e),
    }
    tx.commit().await?;
    after_write(app, id).await
}

/// The file an edit would leave: the input laid over the stored file (`Patch`), or in its place
/// with the ID numbers kept where left blank (`Replace`: a form never shows them in full).
fn merged_file(
    stored: &ChildFile,
    input: ChildInput,
    mode: EditMode,
    today: chrono::NaiveDate,
) -> Result<ChildFile> {
    let current = ChildInput::from_file(stored);
    let merged = match mode {
        EditMode::Patch => current.overlay(input),
        EditMode::Replace => {
            let mut i = input;
            let keep = |new: &mut Option<String>, old: &Option<String>| {
                if new.as_deref().map(str::trim).unwrap_or("").is_empty() {
                    *new = old.clone();
                }
            };
            keep(&mut i.id_number, &current.id_number);
            keep(&mut i.father_id_number, &current.father_id_number);
            keep(&mut i.mother_id_number, &current.mother_id_number);
            keep(&mut i.guardian_id_number, &current.guardian_id_number);
            i
        }
    };
    Ok(merged.parse(&parse_context(today))?)
}

/// An edit inside the caller's transaction, for use cases that edit as one of their effects (an
/// accepted 三方比对 correction): checks scope, status and version (`None`: whatever is stored),
/// validates, writes, keeps history and audits. Returns whether anything changed.
pub async fn edit_in(
    tx: &mut Tx,
    actor: &Actor,
    id: &ChildId,
    expected_version: Option<i64>,
    input: ChildInput,
    mode: EditMode,
) -> Result<bool> {
    let row = tx.children().visible_child(actor, id).await?;
    lifecycle::check_edit(row.status).map_err(|e| lifecycle_error("status", e))?;
    let expected_version = expected_version.unwrap_or(row.version);
    if row.version != expected_version {
        return Err(version_conflict(row.version));
    }
    let file = merged_file(&row.file, input, mode, tx.today())?;
    if file.village_code != row.file.village_code {
        return Err(ValidationErrors::single(
            "village_code",
            "更换所在村请使用“转移”功能，以保留转移记录",
        )
        .into());
    }
    if file.id_number != row.file.id_number {
        let store = tx.store().clone();
        same_id_number(
            &duplicates_in(&store, actor, &file, Some(id.as_str()))
                .await?
                .shown,
        )?;
    }
    let changes = history::diff(&row.file, &file);
    if changes.is_empty() {
        return Ok(false);
    }
    if !tx
        .children()
        .write_child(id, &file, expected_version)
        .await?
    {
        return Err(version_conflict(expected_version + 1));
    }
    tx.children()
        .add_history(id, row.version + 1, actor, "edit", &changes)
        .await?;
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    tx.audit(
        actor,
        AuditAction::ChildEdit,
        Subject {
            entity: "child",
            id: Some(id.as_str()),
            region: Some(file.village_code.as_str()),
        },
        serde_json::json!({"fields": fields}),
    )
    .await?;
    Ok(true)
}

/// Takes a child off the roster with a reason and date (dynamic management, 内蒙古 001 三(二)).
pub async fn exit(
    app: &App,
    actor: &Actor,
    id: &ChildId,
    expected_version: i64,
    reason: ExitReason,
    date: NaiveDate,
    note: Option<&str>,
) -> Result<ChildRecord> {
    require(app, actor, Action::ExitChild, id).await?;
    let mut tx = app.store.begin().await?;
    let row = tx.children().visible_child(actor, id).await?;
    if row.version != expected_version {
        return Err(version_conflict(row.version));
    }
    lifecycle::check_exit(
        row.status,
        row.exit_date,
        row.file.birth_date,
        date,
        app.store.today(),
    )
    .map_err(|e| lifecycle_error("date", e))?;
    if !tx
        .children()
        .set_exited(id, reason, date, expected_version)
        .await?
    {
        return Err(version_conflict(expected_version + 1));
    }
    // A school or agency saw the child because of where the child was; that ends with the exit.
    let unlinked = tx.children().end_agency_links(id, None).await?;
    let changes = lifecycle::exit_changes(reason, date, note);
    tx.children()
        .add_history(id, row.version + 1, actor, "exit", &changes)
        .await?;
    tx.audit(
        actor,
        AuditAction::ChildExit,
        Subject {
            entity: "child",
            id: Some(id.as_str()),
            region: Some(row.file.village_code.as_str()),
        },
        serde_json::json!({"reason": reason.code(), "date": date, "agency_links_ended": unlinked}),
    )
    .await?;
    tx.commit().await?;
    after_write(app, id).await
}

/// Moves a child to another village (in this county or elsewhere); the history keeps where they
/// came from. The receiving village must be set up in this deployment.
pub async fn transfer(
    app: &App,
    actor: &Actor,
    id: &ChildId,
    expected_version: i64,
    to_village: &str,
) -> Result<ChildRecord> {
    require(app, actor, Action::TransferChild, id).await?;
    let target = Divisions::shipped()
        .parse_existing(to_village)
        .map_err(|e| ValidationErrors::single("to_village", e.to_string()))?;
    if target.level() != RegionLevel::Village {
        return Err(
            ValidationErrors::single("to_village", "转入地应为村级区划（12位代码）").into(),
        );
    }
    if app.store.regions().region(&target).await?.is_none() {
        return Err(ValidationErrors::single(
            "to_village",
            format!("转入地“{target}”尚未在本系统初始化"),
        )
        .into());
    }
    let mut tx = app.store.begin().await?;
    let row = tx.children().visible_child(actor, id).await?;
    if row.version != expected_version {
        return Err(version_conflict(row.version));
    }
    lifecycle::check_transfer(row.status, &row.file.village_code, &target)
        .map_err(|e| lifecycle_error("to_village", e))?;
    let from: RegionCode = row.file.village_code.clone();
    let mut file = row.file;
    file.village_code = target.clone();
    if !tx
        .children()
        .write_child(id, &file, expected_version)
        .await?
    {
        return Err(version_conflict(expected_version + 1));
    }
    // Agencies of the old area no longer see the child.
    let unlinked = tx.children().end_agency_links(id, Some(&target)).await?;
    let changes = vec![history::FieldChange {
        field: "village_code".into(),
        old: Some(from.to_string()),
        new: Some(target.to_string()),
    }];
    tx.children()
        .add_history(id, row.version + 1, actor, "transfer", &changes)
        .await?;
    tx.audit(
        actor,
        AuditAction::ChildTransfer,
        Subject {
            entity: "child",
            id: Some(id.as_str()),
            region: Some(from.as_str()),
        },
        serde_json::json!({"from": from, "to": target, "agency_links_ended": unlinked}),
    )
    .await?;
    tx.commit().await?;
    after_write(app, id).await
}

/// Links a child to an agency (e.g. the school they attend), so that agency's users see them.
/// The agency must be inside the actor's jurisdiction, or the jurisdiction inside the agency's.
pub async fn link_agency(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    agency_id: &str,
) -> Result<()> {
    require(app, actor, Action::EditChild, child_id).await?;
    // Only a school or a service agency is linked to a child (and sees the file while it serves
    // the child); a county department is reached by a routing, never by a link.
    let (kind, agency_region) = app
        .store
        .regions()
        .agency_kind(agency_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !matches!(kind.as_str(), "school" | "agency") {
        return Err(Error::NotFound);
    }
    let agency_region =
        RegionCode::parse(&agency_region).map_err(|e| Error::Internal(e.to_string()))?;
    if !actor.region.contains(&agency_region) && !agency_region.contains(&actor.region) {
        return Err(Error::NotFound);
    }
    let mut tx = app.store.begin().await?;
    let row = tx.children().visible_child(actor, child_id).await?;
    tx.children().link_agency(child_id, agency_id).await?;
    tx.audit(
        actor,
        AuditAction::ChildLinkAgency,
        Subject {
            entity: "child",
            id: Some(child_id.as_str()),
            region: Some(row.file.village_code.as_str()),
        },
        serde_json::json!({"agency": agency_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A file the actor may see, for a page's heading (name, place): not a read of the file's
/// contents, which [`get`] audits.
pub async fn visible(app: &App, actor: &Actor, id: &ChildId) -> Result<StoredChild> {
    Ok(app.store.children().visible_child(actor, id).await?)
}

/// The schools and agencies linked to a child the actor may see.
pub async fn linked_agencies(
    app: &App,
    actor: &Actor,
    id: &ChildId,
) -> Result<Vec<crate::places::Agency>> {
    app.store.children().visible_child(actor, id).await?;
    Ok(app.store.regions().child_agencies(id).await?)
}

/// The actor's counts of children (on the roster, by standing).
pub async fn counts(app: &App, actor: &Actor) -> Result<Counts> {
    Ok(app.store.rosters().counts(actor).await?)
}

/// The files waiting to be completed (`app::work`): those that say too little to decide whether
/// the child is left behind, and those on the roster with a blank of the form (待补充). One line
/// each, to the list that names them; counts only, so nothing here is audited.
pub(crate) async fn work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    if !actor.may(Action::EditChild) {
        return Ok(vec![]);
    }
    let c = counts(app, actor).await?;
    let mut out = Vec::new();
    if c.incomplete > 0 {
        out.push(WorkItem::new(
            WorkKind::FileIncomplete,
            format!("{} 份档案信息不全，无法认定是否为留守儿童", c.incomplete),
            "/children?status=incomplete",
        ));
    }
    if c.to_complete > 0 {
        out.push(WorkItem::new(
            WorkKind::FileIncomplete,
            format!("{} 名在册儿童的登记表待补充", c.to_complete),
            "/children?to_complete=1",
        ));
    }
    if c.de_facto_incomplete > 0 {
        out.push(WorkItem::new(
            WorkKind::FileIncomplete,
            format!(
                "{} 名儿童的父母情况不详，能否认定为事实无人抚养儿童待补充",
                c.de_facto_incomplete
            ),
            "/children?population=de_facto_unsupported&status=incomplete",
        ));
    }
    Ok(out)
}
