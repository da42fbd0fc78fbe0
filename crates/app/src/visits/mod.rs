//! Visits (走访、探访、随访): record them, read them, who visits a child, the visit photos, and
//! the lists of children due and overdue for a visit. The rules are `domain::visits`; the
//! parents' contact log and the carer checks are `app::guardianship`.

use chrono::NaiveDate;
use serde::Serialize;
use shouwang_domain::audit::AuditAction;
use shouwang_domain::ids::{CaseId, ChildId, VisitId};
use shouwang_domain::protection::CaseEventKind;

/// The views this capability hands a front end.
pub use shouwang_store::visits::{VisitPhoto, VisitView};

use crate::{App, Error, Result};
use shouwang_domain::authz::{Action, Actor, Role};
use shouwang_domain::input::ChildInput;
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::visits::{
    DueState, FieldConflict, Fields, SentVisit, VisitInput, VisitorRole, merge_offline,
    parse_client_key,
};
use shouwang_store::By;
use shouwang_store::Subject;

mod schedule;
pub use schedule::*;

/// How many visits a child's page shows.
const SHOWN: i64 = 50;

fn child_subject<'a>(id: &'a ChildId, village: &'a str) -> Subject<'a> {
    Subject {
        entity: "child",
        id: Some(id.as_str()),
        region: Some(village),
    }
}

/// A recorded visit, and whether it was recorded before under the same key (a phone that sent it
/// twice gets the first one back).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recorded {
    #[serde(flatten)]
    pub visit: VisitView,
    pub replayed: bool,
}

/// Whether an insert lost a race with another send of the same record.
fn is_duplicate(e: &Error) -> bool {
    matches!(e, Error::Conflict { field: Some(f), .. } if f == "client_key")
}

/// Records a visit of a child the actor may see. With `case_id`, it follows up that case (随访) and
/// shows on the case's timeline. A `client_key` already used by this user returns the visit
/// recorded under it (for the same child) instead of a second one.
pub async fn record(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    input: &VisitInput,
) -> Result<Recorded> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    if !actor.may(Action::RecordVisit) {
        return Err(Error::Forbidden);
    }
    let key = input
        .client_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if let Some(k) = key
        && parse_client_key(k).is_some()
        && let Some(done) = replay(app, actor, child_id, k).await?
    {
        return Ok(done);
    }
    let default_name = app
        .store
        .users()
        .display_name(&actor.user_id)
        .await?
        .unwrap_or_else(|| actor.username.clone());
    let record = input.parse(app.store.today(), &default_name)?;
    let case = match input
        .case_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(case_id) => Some(
            crate::protection::follow_up_case(app, actor, &CaseId::from(case_id), child_id)
                .await
                .map_err(|e| match e {
                    Error::NotFound => ValidationErrors::single("case_id", "找不到该个案").into(),
                    other => other,
                })?,
        ),
        None => None,
    };
    let village = child.file.village_code.as_str().to_owned();
    let mut tx = app.store.begin().await?;
    let id = match tx
        .visits()
        .add_visit(
            child_id,
            case.as_ref().map(|c| c.id.as_str()),
            &By::of(actor),
            &record,
            key,
        )
        .await
        .map_err(Error::from)
    {
        Ok(id) => id,
        Err(e) if is_duplicate(&e) => {
            drop(tx);
            let k = key.expect("only a keyed insert is a duplicate");
            return replay(app, actor, child_id, k)
                .await?
                .ok_or(Error::NotFound);
        }
        Err(e) => return Err(e),
    };
    if let Some(case) = &case {
        tx.protection()
            .add_case_event(
                &case.id,
                &By::of(actor),
                CaseEventKind::FollowUp,
                Some(record.condition.code()),
                None,
                record.note.as_deref().unwrap_or(""),
            )
            .await?;
    }
    tx.audit(
        actor,
        AuditAction::VisitRecord,
        child_subject(child_id, &village),
        serde_json::json!({
            "visit": id,
            "case": case.as_ref().map(|c| c.id.as_str()),
            "reportable": record.reportable,
        }),
    )
    .await?;
    tx.commit().await?;
    // Read back by its id: a visit dated back need not be among the newest shown.
    let visit = app
        .store
        .visits()
        .visit(&id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Recorded {
        visit,
        replayed: false,
    })
}

/// The visit this user recorded under `key`, if any; a key reused for another child is refused.
async fn replay(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    key: &str,
) -> Result<Option<Recorded>> {
    match app
        .store
        .visits()
        .visit_by_client_key(&actor.user_id, key)
        .await?
    {
        Some(v) if v.child_id == child_id.as_str() => Ok(Some(Recorded {
            visit: v,
            replayed: true,
        })),
        Some(_) => Err(Error::Conflict {
            field: Some("client_key".into()),
            message: "该 client_key 已用于另一名儿童的走访记录".into(),
        }),
        None => Ok(None),
    }
}

/// One visit of a child the actor may see (audited like the list): what a report filed from it
/// starts with. Another child's visit is absent.
pub async fn one(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    visit_id: &VisitId,
) -> Result<VisitView> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    let visit = app
        .store
        .visits()
        .visit(visit_id.as_str())
        .await?
        .filter(|v| v.child_id == child_id.as_str())
        .ok_or(Error::NotFound)?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::VisitsRead,
        child_subject(child_id, child.file.village_code.as_str()),
        serde_json::json!({"visit": visit.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(visit)
}

/// A child's visits, newest first (audited: they hold what visitors saw in the home).
pub async fn of_child(app: &App, actor: &Actor, child_id: &ChildId) -> Result<Vec<VisitView>> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    let visits = app.store.visits().visits_of_child(child_id, SHOWN).await?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::VisitsRead,
        child_subject(child_id, child.file.village_code.as_str()),
        serde_json::json!({"shown": visits.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(visits)
}

/// Records a visit sent as [`SentVisit`] under an idempotency key (`POST /api/v1/visits`): the
/// same key from the same user returns the visit it recorded, whatever is sent again.
pub async fn record_sent(
    app: &App,
    actor: &Actor,
    key: &str,
    sent: &SentVisit,
) -> Result<Recorded> {
    let key = parse_client_key(key.trim()).ok_or_else(|| {
        ValidationErrors::single(
            "Idempotency-Key",
            "Idempotency-Key 应为 8 至 64 位字母、数字、- 或 _（如一个 UUID）",
        )
    })?;
    let default_role = match actor.role {
        Role::Village => VisitorRole::ChildDirector,
        Role::Town => VisitorRole::Supervisor,
        Role::School => VisitorRole::Teacher,
        Role::Agency => VisitorRole::SocialWorker,
        _ => VisitorRole::Other,
    };
    let name = app
        .store
        .users()
        .display_name(&actor.user_id)
        .await?
        .unwrap_or_else(|| actor.username.clone());
    let (child_id, input) = sent.check(default_role, &key, app.store.today(), &name)?;
    record(app, actor, &ChildId::new(child_id), &input).await
}

/// The fields a phone may change offline: the registration form's, but not the ID numbers (the
/// phone never holds them in full).
fn offline_field(name: &str) -> bool {
    !name.contains("id_number")
}

/// A file's form fields as text, by name.
fn fields_of(input: &ChildInput) -> Fields {
    match serde_json::to_value(input) {
        Ok(serde_json::Value::Object(m)) => m
            .into_iter()
            .filter(|(k, _)| offline_field(k))
            .map(|(k, v)| (k, v.as_str().map(str::to_owned)))
            .collect(),
        _ => Fields::new(),
    }
}

/// The most fields and the longest value one offline edit may carry.
const MAX_OFFLINE_FIELDS: usize = 60;
const MAX_OFFLINE_VALUE_CHARS: usize = 500;

/// What came of the changes a phone made to a file offline.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OfflineEdit {
    /// Applied (or already there); the file's version now.
    Applied { version: i64, changed: Vec<String> },
    /// Someone changed the same fields meanwhile: nothing was applied; each is for the person to
    /// resolve (send again with `base` set to `theirs` to keep their own value).
    Conflicts { conflicts: Vec<FieldConflict> },
}

/// Applies a phone's offline changes to a file by [`merge_offline`]: never overwriting what
/// someone else changed meanwhile.
pub async fn offline_edit(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    base: &Fields,
    mine: &Fields,
) -> Result<OfflineEdit> {
    let mut e = ValidationErrors::default();
    if mine.is_empty() || mine.len() > MAX_OFFLINE_FIELDS || base.len() > MAX_OFFLINE_FIELDS {
        e.add("changes", format!("离线修改应有1至{MAX_OFFLINE_FIELDS}项"));
    }
    let known = fields_of(&ChildInput::default());
    for (k, v) in mine.iter().chain(base.iter()) {
        if !known.contains_key(k) {
            e.add(k, "不是可离线修改的档案项目");
        } else if v
            .as_deref()
            .is_some_and(|v| v.chars().count() > MAX_OFFLINE_VALUE_CHARS)
        {
            e.add(k, format!("内容请不超过{MAX_OFFLINE_VALUE_CHARS}字"));
        }
    }
    if !e.is_empty() {
        return Err(e.into());
    }
    let record = crate::children::get(app, actor, child_id, false).await?;
    let current = fields_of(&ChildInput::from_file(&record.file));
    match merge_offline(base, &current, mine) {
        Err(conflicts) => Ok(OfflineEdit::Conflicts { conflicts }),
        Ok(changes) if changes.is_empty() => Ok(OfflineEdit::Applied {
            version: record.version,
            changed: vec![],
        }),
        Ok(changes) => {
            let changed: Vec<String> = changes.keys().cloned().collect();
            let patch: serde_json::Map<String, serde_json::Value> = changes
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v.unwrap_or_default())))
                .collect();
            let input: ChildInput = serde_json::from_value(serde_json::Value::Object(patch))
                .map_err(|e| ValidationErrors::single("changes", e.to_string()))?;
            let r = crate::children::update(
                app,
                actor,
                child_id,
                record.version,
                input,
                crate::children::EditMode::Patch,
            )
            .await?;
            Ok(OfflineEdit::Applied {
                version: r.version,
                changed,
            })
        }
    }
}

/// A child due a visit as a phone keeps it for working offline: the file's version and the few
/// fields a visit may change, as they are now (the `base` of a later offline edit).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PackItem {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub version: i64,
    pub fields: Fields,
}

/// The fields the offline visit form offers to change.
pub const OFFLINE_FORM_FIELDS: [&str; 4] = [
    "guardian_phone",
    "schooling",
    "father_phone",
    "mother_phone",
];

/// The most children a phone takes offline (the overdue first, then the soonest due).
pub const MAX_PACK: usize = 200;

/// What a phone takes offline: the children of the user's area due a visit, with the fields
/// the offline form may change. Audited as one read of those files.
pub async fn offline_pack(app: &App, actor: &Actor) -> Result<Vec<PackItem>> {
    let s = schedule(
        app,
        actor,
        &ScheduleQuery {
            region: None,
            state: None,
            page: 1,
            per_page: MAX_PACK,
            assignee: None,
        },
    )
    .await?;
    let mut out = Vec::with_capacity(s.items.len());
    for i in s.items.into_iter().take(MAX_PACK) {
        let row = app
            .store
            .children()
            .visible_child(actor, &ChildId::new(i.child_id.clone()))
            .await?;
        let all = fields_of(&ChildInput::from_file(&row.file));
        out.push(PackItem {
            fields: OFFLINE_FORM_FIELDS
                .iter()
                .map(|f| (f.to_string(), all.get(*f).cloned().flatten()))
                .collect(),
            version: row.version,
            child_id: i.child_id,
            name: i.name,
            village_code: i.village_code,
            due_on: i.due,
            overdue: i.state == DueState::Overdue,
        });
    }
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::OfflinePackRead,
        Subject {
            entity: "region",
            id: None,
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"children": out.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// Assigns a child's visits to a named person (驻村干部, 网格员, a social worker, a volunteer…), or
/// gives them back to the village's 儿童主任; by the offices that keep the file.
pub async fn assign_visitor(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    input: &shouwang_domain::visits::VisitorAssignment,
) -> Result<Option<(String, VisitorRole)>> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    if !actor.may(Action::EditChild) {
        return Err(Error::Forbidden);
    }
    let who = input.parse()?;
    let mut tx = app.store.begin().await?;
    tx.visits()
        .assign_visitor(
            child_id,
            who.as_ref().map(|(n, r)| (n.as_str(), *r)),
            &actor.username,
        )
        .await?;
    tx.audit(
        actor,
        AuditAction::VisitorAssign,
        child_subject(child_id, child.file.village_code.as_str()),
        serde_json::json!({"role": who.as_ref().map(|(_, r)| r.code())}),
    )
    .await?;
    tx.commit().await?;
    Ok(who)
}

/// Who a child's visits are assigned to, if not the village's 儿童主任.
pub async fn assigned_visitor(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
) -> Result<Option<(String, VisitorRole)>> {
    app.store.children().visible_child(actor, child_id).await?;
    Ok(app.store.visits().visit_assignment(child_id).await?)
}

/// The most photos a visit keeps.
pub const MAX_PHOTOS_PER_VISIT: i64 = 3;

/// Adds a photo to one of the child's visits (走访…拍照): a JPEG, PNG or WebP as its bytes say (a
/// name or a declared type is not trusted), at most
/// [`shouwang_domain::protection::MAX_EVIDENCE_BYTES`], [`MAX_PHOTOS_PER_VISIT`] a visit.
pub async fn add_photo(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    visit_id: &VisitId,
    bytes: &[u8],
) -> Result<String> {
    use shouwang_domain::protection::EvidenceKind;
    let child = app.store.children().visible_child(actor, child_id).await?;
    if !actor.may(Action::RecordVisit) {
        return Err(Error::Forbidden);
    }
    let kind = EvidenceKind::sniff(bytes).map_err(|m| ValidationErrors::single("photo", m))?;
    if kind == EvidenceKind::Pdf {
        return Err(
            ValidationErrors::single("photo", "走访照片只能是图片（JPEG、PNG、WebP）").into(),
        );
    }
    let mut tx = app.store.begin().await?;
    let id = match tx
        .visits()
        .add_visit_photo(
            child_id,
            visit_id.as_str(),
            &By::of(actor),
            kind.code(),
            bytes,
            MAX_PHOTOS_PER_VISIT,
        )
        .await?
    {
        None => return Err(Error::NotFound),
        Some(None) => {
            return Err(ValidationErrors::single(
                "photo",
                format!("每次走访最多{MAX_PHOTOS_PER_VISIT}张照片"),
            )
            .into());
        }
        Some(Some(id)) => id,
    };
    tx.audit(
        actor,
        AuditAction::VisitPhotoAdd,
        child_subject(child_id, child.file.village_code.as_str()),
        serde_json::json!({"visit": visit_id, "photo": id, "kind": kind.code(), "size": bytes.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A child's visit photos (without their bytes).
pub async fn photos(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
) -> Result<Vec<shouwang_store::visits::VisitPhoto>> {
    app.store.children().visible_child(actor, child_id).await?;
    Ok(app.store.visits().visit_photos(child_id).await?)
}

/// One photo with its bytes; each read audited.
pub async fn photo(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    id: &str,
) -> Result<(String, Vec<u8>)> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    let out = app
        .store
        .visits()
        .visit_photo(child_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::VisitPhotoRead,
        child_subject(child_id, child.file.village_code.as_str()),
        serde_json::json!({"photo": id}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}
