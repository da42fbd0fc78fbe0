//! 控辍保学 at school (issue 15): a school records its left-behind pupils' absences; more than a
//! week away opens a 劝返 (沈阳 002 一3; 龙里 003 五(三)2), worked by the school with the village
//! and town; a 劝返 that fails is marked in the 学籍 system, reported in writing to the county
//! education bureau and the town, and the pupil's file says 辍学 (so the roster flags 失学辍学).

use chrono::NaiveDate;
use serde::Serialize;

/// The views this capability hands a front end.
pub use shouwang_store::attendance::ReturnTask;

use crate::{App, Error, Result};
use shouwang_domain::attendance::{
    self, AbsenceInput, ReturnStatus, ReturnStep, away_more_than_a_week, may_fail, may_record_step,
};
use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor, Role, Scope};
use shouwang_domain::eligibility::age_on;
use shouwang_domain::ids::{ChildId, ReturnTaskId};
use shouwang_domain::input::ChildInput;
use shouwang_domain::text;
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::work::{WorkItem, WorkKind};
use shouwang_store::By;
use shouwang_store::Subject;
use shouwang_store::attendance::StepRecord;

/// What recording absences did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbsencesRecorded {
    pub days: Vec<NaiveDate>,
    /// The 劝返 the absences opened, or the one already open.
    pub task: Option<ReturnTask>,
}

/// Records a pupil's absences (the school's own pupils: linked to it); opens a 劝返 when the
/// unexplained ones make the latest stretch more than a week.
pub async fn record_absences(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    input: &AbsenceInput,
) -> Result<AbsencesRecorded> {
    let child = app.store.children().visible_child(actor, child_id).await?;
    let Some(agency) = actor
        .agency_id
        .as_deref()
        .filter(|_| actor.may(Action::RecordAbsence))
    else {
        return Err(Error::Forbidden);
    };
    let (days, excused, note) = attendance::absence_days(input, app.store.today())?;
    record_days(app, actor, &child, agency, days, excused, note).await
}

/// Records the days (checked) and opens or extends the 劝返 they call for.
async fn record_days(
    app: &App,
    actor: &Actor,
    child: &shouwang_store::children::StoredChild,
    agency: &str,
    days: Vec<NaiveDate>,
    excused: bool,
    note: Option<String>,
) -> Result<AbsencesRecorded> {
    let child_id = &child.id;
    let today = app.store.today();
    let mut tx = app.store.begin().await?;
    tx.attendance()
        .add_absences(
            child_id,
            agency,
            &days,
            excused,
            note.as_deref(),
            &By::of(actor),
        )
        .await?;
    let village = child.file.village_code.clone();
    tx.audit(
        actor,
        AuditAction::AbsencesRecord,
        Subject {
            entity: "child",
            id: Some(child_id.as_str()),
            region: Some(village.as_str()),
        },
        serde_json::json!({"days": days.len(), "excused": excused}),
    )
    .await?;
    tx.commit().await?;

    let since = today - chrono::Duration::days(attendance::MAX_BACKDATE_DAYS);
    let away = away_more_than_a_week(
        &app.store
            .attendance()
            .unexcused_days(child_id, since)
            .await?,
    );
    let task = match (
        app.store.attendance().open_return_task(child_id).await?,
        away,
    ) {
        (Some(mut open), Some((_, last))) if last > open.away_to => {
            // Still away: the open 劝返 covers the longer stretch.
            open.away_to = last;
            let mut tx = app.store.begin().await?;
            if tx.attendance().save_return(&open, &actor.username).await? {
                tx.commit().await?;
            }
            app.store.attendance().return_task(&open.id).await?
        }
        (Some(open), _) => Some(open),
        (None, Some(stretch)) => {
            let mut tx = app.store.begin().await?;
            let id = match tx
                .attendance()
                .open_return(child_id, Some(agency), &village, stretch, None)
                .await
                .map_err(Error::from)
            {
                Ok(id) => id,
                // Another sheet for the same pupil opened it meanwhile: that one it is.
                Err(Error::Conflict { .. }) => {
                    drop(tx);
                    return Ok(AbsencesRecorded {
                        days,
                        task: app.store.attendance().open_return_task(child_id).await?,
                    });
                }
                Err(e) => return Err(e),
            };
            let town = village
                .parent()
                .ok_or_else(|| Error::Internal("village without town".into()))?;
            tx.notifications().notify_org(
                &town,
                &[Role::Town],
                "return_opened",
                None,
                "有留守儿童超过一周未到校",
                "学校已登记一名农村留守儿童超过一周未到校，正在组织劝返，请登录守望系统查看并配合入户家访。",
            )
            .await?;
            tx.audit(
                actor,
                AuditAction::ReturnOpen,
                Subject {
                    entity: "return_task",
                    id: Some(&id),
                    region: Some(village.as_str()),
                },
                serde_json::json!({"from": stretch.0, "to": stretch.1}),
            )
            .await?;
            tx.commit().await?;
            app.store.attendance().return_task(&id).await?
        }
        (None, None) => None,
    };
    Ok(AbsencesRecorded { days, task })
}

/// A 劝返 the actor works on: the school's own, or one in the actor's area.
pub async fn task(app: &App, actor: &Actor, id: &ReturnTaskId) -> Result<ReturnTask> {
    let t = app
        .store
        .attendance()
        .return_task(id.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    let mine = match actor.scope() {
        Scope::Agency { agency_id } => t.agency_id.as_deref() == Some(agency_id.as_str()),
        Scope::Region { code } => shouwang_domain::region::RegionCode::parse(&t.village_code)
            .is_ok_and(|v| code.contains(&v)),
        Scope::CasesOnly => false,
    };
    if !mine || !actor.may(Action::WorkReturn) {
        return Err(Error::NotFound);
    }
    Ok(t)
}

/// The 劝返 tasks the actor works on, open first.
pub async fn tasks(app: &App, actor: &Actor) -> Result<Vec<ReturnTask>> {
    if !actor.may(Action::WorkReturn) {
        return Err(Error::Forbidden);
    }
    match actor.scope() {
        Scope::Agency { agency_id } => Ok(app
            .store
            .attendance()
            .return_tasks(Some(&agency_id), &actor.region, 200)
            .await?),
        Scope::Region { code } => Ok(app
            .store
            .attendance()
            .return_tasks(None, &code, 200)
            .await?),
        Scope::CasesOnly => Ok(vec![]),
    }
}

fn changed_meanwhile() -> Error {
    Error::Conflict {
        field: Some("version".into()),
        message: "该劝返刚被他人更新，请刷新后重试".into(),
    }
}

/// Records a step of a 劝返 (a call to the parents, a home visit with the village…).
pub async fn add_step(
    app: &App,
    actor: &Actor,
    id: &ReturnTaskId,
    step: &str,
    note: &str,
) -> Result<ReturnTask> {
    let mut t = task(app, actor, id).await?;
    let step = ReturnStep::parse(step.trim())
        .ok_or_else(|| ValidationErrors::single("step", "请选择劝返措施"))?;
    let note = text::free(note);
    if note.is_empty() || note.chars().count() > 500 {
        return Err(ValidationErrors::single("note", "请写明劝返情况（500字以内）").into());
    }
    if !may_record_step(t.status) {
        return Err(Error::Conflict {
            field: Some("status".into()),
            message: "该劝返已结束".into(),
        });
    }
    t.steps.push(StepRecord {
        step,
        note,
        on: app.store.today(),
        by: actor.username.clone(),
    });
    save(app, actor, &t, AuditAction::ReturnStep).await
}

/// Ends a 劝返: the pupil is back (`returned`), or it failed (`failed`: the day the pupil was
/// marked in the 学籍 system is required, and the file's 就学情况 becomes 辍学 through the
/// ordinary edit, so its history and the roster's 失学辍学 flag show it).
pub async fn finish(
    app: &App,
    actor: &Actor,
    id: &ReturnTaskId,
    outcome: &str,
    note: &str,
    marked_on: Option<&str>,
) -> Result<ReturnTask> {
    let mut t = task(app, actor, id).await?;
    let note = text::clean(note);
    if note.chars().count() > 500 {
        return Err(ValidationErrors::single("note", "说明请不超过500字").into());
    }
    match outcome {
        "returned" => {
            if t.status != ReturnStatus::Open {
                return Err(Error::Conflict {
                    field: Some("status".into()),
                    message: "该劝返已结束".into(),
                });
            }
            t.status = ReturnStatus::Returned;
        }
        "failed" => {
            may_fail(t.status, t.steps.len()).map_err(|m| Error::Conflict {
                field: Some("status".into()),
                message: m.into(),
            })?;
            let today = app.store.today();
            let marked = marked_on
                .map(text::clean)
                .filter(|s| !s.is_empty())
                .and_then(|s| shouwang_domain::input::parse_date(&s))
                .filter(|d| *d <= today && *d >= t.away_from)
                .ok_or_else(|| {
                    ValidationErrors::single(
                        "marked_on",
                        "请填写在学籍系统中标识的日期（不早于缺勤开始、不晚于今天）",
                    )
                })?;
            t.status = ReturnStatus::Failed;
            t.marked_on = Some(marked);
        }
        _ => {
            return Err(ValidationErrors::single(
                "outcome",
                "应为 returned（已返校）或 failed（劝返无效）",
            )
            .into());
        }
    }
    t.outcome_note = (!note.is_empty()).then_some(note);
    let mut tx = app.store.begin().await?;
    if !tx.attendance().save_return(&t, &actor.username).await? {
        return Err(changed_meanwhile());
    }
    if t.status == ReturnStatus::Failed {
        let patch = ChildInput {
            schooling: Some("辍学".into()),
            ..ChildInput::default()
        };
        crate::children::edit_in(
            &mut tx,
            actor,
            &t.child_id,
            None,
            patch,
            crate::children::EditMode::Patch,
        )
        .await?;
        let village = shouwang_domain::region::RegionCode::parse(&t.village_code)
            .map_err(|e| Error::Internal(e.to_string()))?;
        // 14–16 and out of school: to the education bureau for secondary vocational education.
        let child = tx.store().children().child(&t.child_id).await?;
        if attendance::vocational_age(age_on(child.file.birth_date, tx.today())) {
            crate::routings::send_in(
                &mut tx,
                actor,
                &t.child_id,
                &village,
                shouwang_domain::routing::Need::Vocational,
                shouwang_domain::routing::Unit::Education,
                Some(
                    "劝返无效，该生已满14周岁不满16周岁，请动员其接受免费中等职业教育并反馈结果。",
                ),
                Some(&format!("return:{}", t.id)),
            )
            .await?;
        }
        // 劝返无效的，…及时书面报告县教育局和镇（街道）(龙里 003 五(三)2; 沈阳 002 一3; 内蒙古 001
        // and 武清 004 say the same): the town and the county's education bureau are told.
        let to = [
            (village.parent(), Role::Town),
            (
                village.at_level(shouwang_domain::region::RegionLevel::County),
                Role::Education,
            ),
        ];
        for (org, role) in to {
            if let Some(org) = org {
                tx.notifications()
                    .notify_org(
                        &org,
                        &[role],
                        "return_failed",
                        None,
                        "劝返无效书面报告",
                        "一名农村留守儿童劝返无效，已在学籍系统中标识，书面报告可在守望系统中查看。",
                    )
                    .await?;
            }
        }
    }
    tx.audit(
        actor,
        AuditAction::ReturnFinish,
        Subject {
            entity: "return_task",
            id: Some(&t.id),
            region: Some(&t.village_code),
        },
        serde_json::json!({"outcome": outcome}),
    )
    .await?;
    tx.commit().await?;
    app.store
        .attendance()
        .return_task(id.as_str())
        .await?
        .ok_or(Error::NotFound)
}

async fn save(app: &App, actor: &Actor, t: &ReturnTask, action: AuditAction) -> Result<ReturnTask> {
    let mut tx = app.store.begin().await?;
    if !tx.attendance().save_return(t, &actor.username).await? {
        return Err(changed_meanwhile());
    }
    tx.audit(
        actor,
        action,
        Subject {
            entity: "return_task",
            id: Some(&t.id),
            region: Some(&t.village_code),
        },
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    app.store
        .attendance()
        .return_task(&t.id)
        .await?
        .ok_or(Error::NotFound)
}

/// The written report of a failed 劝返 (书面报告县教育局和镇（街道）), as the rows of a printed
/// table: what, and its value. Read once per print (audited as a read of the file).
pub async fn written_report(
    app: &App,
    actor: &Actor,
    id: &ReturnTaskId,
) -> Result<(String, Vec<Vec<String>>)> {
    let t = task(app, actor, id).await?;
    if t.status != ReturnStatus::Failed {
        return Err(Error::Conflict {
            field: Some("status".into()),
            message: "劝返无效后才出具书面报告".into(),
        });
    }
    let child = crate::children::get(app, actor, &t.child_id, false).await?;
    let f = &child.file;
    let school = match &t.agency_id {
        Some(a) => app
            .store
            .regions()
            .agency_name(a)
            .await?
            .unwrap_or_default(),
        None => "（未在学籍名单中，三方比对发现）".to_owned(),
    };
    let place = |code: &str| {
        shouwang_domain::region::RegionCode::parse(code)
            .map(|c| crate::protection::place_of(&c))
            .unwrap_or_default()
    };
    let age = age_on(f.birth_date, app.store.today());
    let mut rows = vec![
        vec!["学生姓名".into(), f.name.as_str().to_owned()],
        vec!["性别".into(), f.sex.label().to_owned()],
        vec![
            "出生日期（年龄）".into(),
            format!("{}（{}周岁）", f.birth_date, age),
        ],
        vec!["户籍所在村（居）".into(), place(f.village_code.as_str())],
        vec!["就读学校".into(), school],
        vec![
            "未到校期间".into(),
            format!("{} 至 {}，无正当理由未到校", t.away_from, t.away_to),
        ],
    ];
    for (i, s) in t.steps.iter().enumerate() {
        rows.push(vec![
            format!("劝返措施{}", i + 1),
            format!("{} {}：{}（{}）", s.on, s.step.label(), s.note, s.by),
        ]);
    }
    rows.push(vec![
        "学籍系统标识日期".into(),
        t.marked_on.map(|d| d.to_string()).unwrap_or_default(),
    ]);
    if let Some(n) = &t.outcome_note {
        rows.push(vec!["情况说明".into(), n.clone()]);
    }
    if attendance::vocational_age(age) {
        rows.push(vec![
            "建议".into(),
            "该生已满14周岁不满16周岁，建议落实中等职业教育免费政策，动员其接受中等职业教育".into(),
        ]);
    }
    let town = shouwang_domain::region::RegionCode::parse(&t.village_code)
        .ok()
        .and_then(|v| v.parent())
        .map(|t| place(t.as_str()))
        .unwrap_or_default();
    Ok((
        format!("报送：县教育局、{town}　　报告日期：{}", app.store.today()),
        rows,
    ))
}

/// What importing an attendance sheet did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SheetImported {
    /// Pupils whose absences were recorded.
    pub pupils: usize,
    /// Days recorded (unexplained and explained).
    pub days: usize,
    /// The 劝返 open after the import for the pupils of the sheet (new or already open).
    pub tasks: Vec<ReturnTask>,
    /// What was not imported, by row (a mark not known, a pupil not of the school, two of a name).
    pub problems: Vec<String>,
}

/// Imports a school's attendance sheet (考勤表): the month's grid or a list of absences, as
/// `exchange::attendance` reads it. Each row is matched to one of the school's own pupils by ID
/// number when the sheet has it, else by a name only one of its pupils has; what does not match is
/// named by row and left out. Days older than the absences' back-dating limit are left out too.
pub async fn import_sheet(
    app: &App,
    actor: &Actor,
    path: &std::path::Path,
    month: Option<(i32, u32)>,
) -> Result<SheetImported> {
    let Some(agency) = actor
        .agency_id
        .as_deref()
        .filter(|_| actor.may(Action::RecordAbsence))
    else {
        return Err(Error::Forbidden);
    };
    let today = app.store.today();
    let path = path.to_owned();
    let read = tokio::task::spawn_blocking(move || {
        let mut book = shouwang_exchange::sheet::open(&path).map_err(|e| e.to_string())?;
        shouwang_exchange::attendance::read_attendance(&mut book, month, today)
    })
    .await
    .map_err(|e| Error::Internal(format!("reading task failed: {e}")))?
    .map_err(|m| ValidationErrors::single("file", m))?;
    let pupils = app.store.attendance().agency_pupils(agency).await?;
    let oldest = today - chrono::Duration::days(attendance::MAX_BACKDATE_DAYS);
    let mut out = SheetImported {
        problems: read.problems,
        ..Default::default()
    };
    for row in read.pupils {
        let by_id = row
            .id_number
            .as_deref()
            .and_then(|s| shouwang_domain::id_number::IdNumber::parse(s).ok())
            .map(|id| app.store.children().id_hash(&id));
        let matches: Vec<&(String, String, Option<String>)> = match &by_id {
            Some(h) => pupils
                .iter()
                .filter(|p| p.2.as_deref() == Some(h.as_str()))
                .collect(),
            None => pupils
                .iter()
                .filter(|p| text::clean(&p.1) == text::clean(&row.name))
                .collect(),
        };
        let id = match matches.as_slice() {
            [one] => one.0.clone(),
            [] => {
                out.problems.push(format!(
                    "第{}行：“{}”不是本校已关联的留守儿童，未导入",
                    row.row, row.name
                ));
                continue;
            }
            _ => {
                out.problems.push(format!(
                    "第{}行：本校有{}名叫“{}”的留守儿童，请在表中填写身份证号",
                    row.row,
                    matches.len(),
                    row.name
                ));
                continue;
            }
        };
        let child = app.store.children().child(&ChildId::new(id)).await?;
        let mut recorded = false;
        for (days, excused) in [(row.excused, true), (row.unexcused, false)] {
            let (kept, old): (Vec<NaiveDate>, Vec<NaiveDate>) =
                days.into_iter().partition(|d| *d >= oldest);
            if !old.is_empty() {
                out.problems.push(format!(
                    "第{}行：{}天缺勤早于{}，超过补录期限，未导入",
                    row.row,
                    old.len(),
                    oldest
                ));
            }
            if kept.is_empty() {
                continue;
            }
            out.days += kept.len();
            recorded = true;
            let r = record_days(
                app,
                actor,
                &child,
                agency,
                kept,
                excused,
                Some("考勤表导入".into()),
            )
            .await?;
            if let Some(t) = r.task
                && !out.tasks.iter().any(|x| x.id == t.id)
            {
                out.tasks.push(t);
            }
        }
        out.pupils += usize::from(recorded);
    }
    let mut tx = app.store.begin().await?;
    tx.audit(
        actor,
        AuditAction::AbsencesImport,
        Subject {
            entity: "agency",
            id: Some(agency),
            region: Some(actor.region.as_str()),
        },
        serde_json::json!({"pupils": out.pupils, "days": out.days, "problems": out.problems.len(),
            "tasks": out.tasks.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// A pupil's recorded absences since `since` (day, excused, reason), for a child the actor may see.
pub async fn absences(
    app: &App,
    actor: &Actor,
    child_id: &ChildId,
    since: NaiveDate,
) -> Result<Vec<(NaiveDate, bool, Option<String>)>> {
    app.store.children().visible_child(actor, child_id).await?;
    Ok(app.store.attendance().absences(child_id, since).await?)
}

/// The open 劝返 of a child the actor may see, if any.
pub async fn open_task(app: &App, actor: &Actor, child_id: &ChildId) -> Result<Option<ReturnTask>> {
    app.store.children().visible_child(actor, child_id).await?;
    Ok(app.store.attendance().open_return_task(child_id).await?)
}

/// The open 劝返 waiting on the actor (`app::work`), the longest away first; not audited (the work
/// list is, once). 龙里 003 五(三)2 asks for them to be followed 及时: a 劝返 has no day of its own,
/// so it is listed from the day it opened.
pub(crate) async fn work(app: &App, actor: &Actor) -> Result<Vec<WorkItem>> {
    if !actor.may(Action::WorkReturn) {
        return Ok(vec![]);
    }
    let open: Vec<ReturnTask> = tasks(app, actor)
        .await?
        .into_iter()
        .filter(|t| t.status == ReturnStatus::Open)
        .collect();
    let ids: Vec<&str> = open.iter().map(|t| t.child_id.as_str()).collect();
    let names = app.store.children().child_names(&ids).await?;
    Ok(open
        .iter()
        .map(|t| {
            let name = names.get(t.child_id.as_str()).cloned().unwrap_or_default();
            let what = if t.steps.is_empty() {
                "开始劝返"
            } else {
                "继续劝返"
            };
            WorkItem::new(
                WorkKind::DropoutTask,
                format!(
                    "{what}：{name}（{} 起未到校）",
                    t.away_from.format("%-m月%-d日")
                ),
                format!("/returns/{}", t.id),
            )
            .about(t.child_id.as_str())
        })
        .collect())
}
