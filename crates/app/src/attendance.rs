//! 控辍保学 at school (issue 15): a school records its left-behind pupils' absences; more than a
//! week away opens a 劝返 (沈阳 002 一3; 龙里 003 五(三)2), worked by the school with the village
//! and town; a 劝返 that fails is marked in the 学籍 system, reported in writing to the county
//! education bureau and the town, and the pupil's file says 辍学 (so the roster flags 失学辍学).

use chrono::NaiveDate;
use serde::Serialize;

use shouwang_domain::attendance::{
    self, AbsenceInput, ReturnStatus, ReturnStep, away_more_than_a_week, may_fail, may_record_step,
};
use shouwang_domain::authz::{Action, Actor, Role, Scope};
use shouwang_domain::eligibility::age_on;
use shouwang_domain::input::ChildInput;
use shouwang_domain::text;
use shouwang_domain::validation::ValidationErrors;
use shouwang_store::attendance::{ReturnTask, StepRecord};
use shouwang_store::protection::By;
use shouwang_store::{Result, Store, StoreError, Subject};

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
    store: &Store,
    actor: &Actor,
    child_id: &str,
    input: &AbsenceInput,
) -> Result<AbsencesRecorded> {
    let child = store.visible_child(actor, child_id).await?;
    let Some(agency) = actor
        .agency_id
        .as_deref()
        .filter(|_| actor.may(Action::RecordAbsence))
    else {
        return Err(StoreError::Forbidden);
    };
    let today = store.today();
    let (days, excused, note) = attendance::absence_days(input, today)?;
    let mut tx = store.begin().await?;
    tx.add_absences(
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
        "absences_record",
        Subject {
            entity: "child",
            id: Some(child_id),
            region: Some(village.as_str()),
        },
        serde_json::json!({"days": days.len(), "excused": excused}),
    )
    .await?;
    tx.commit().await?;

    let since = today - chrono::Duration::days(attendance::MAX_BACKDATE_DAYS);
    let away = away_more_than_a_week(&store.unexcused_days(child_id, since).await?);
    let task = match (store.open_return_task(child_id).await?, away) {
        (Some(mut open), Some((_, last))) if last > open.away_to => {
            // Still away: the open 劝返 covers the longer stretch.
            open.away_to = last;
            let mut tx = store.begin().await?;
            if tx.save_return(&open, &actor.username).await? {
                tx.commit().await?;
            }
            store.return_task(&open.id).await?
        }
        (Some(open), _) => Some(open),
        (None, Some(stretch)) => {
            let mut tx = store.begin().await?;
            let id = match tx.open_return(child_id, agency, &village, stretch).await {
                Ok(id) => id,
                // Another sheet for the same pupil opened it meanwhile: that one it is.
                Err(StoreError::Conflict { .. }) => {
                    drop(tx);
                    return Ok(AbsencesRecorded {
                        days,
                        task: store.open_return_task(child_id).await?,
                    });
                }
                Err(e) => return Err(e),
            };
            let town = village
                .parent()
                .ok_or_else(|| StoreError::Config("village without town".into()))?;
            tx.notify_org(
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
                "return_open",
                Subject {
                    entity: "return_task",
                    id: Some(&id),
                    region: Some(village.as_str()),
                },
                serde_json::json!({"from": stretch.0, "to": stretch.1}),
            )
            .await?;
            tx.commit().await?;
            store.return_task(&id).await?
        }
        (None, None) => None,
    };
    Ok(AbsencesRecorded { days, task })
}

/// A 劝返 the actor works on: the school's own, or one in the actor's area.
pub async fn task(store: &Store, actor: &Actor, id: &str) -> Result<ReturnTask> {
    let t = store.return_task(id).await?.ok_or(StoreError::NotFound)?;
    let mine = match actor.scope() {
        Scope::Agency { agency_id } => agency_id == t.agency_id,
        Scope::Region { code } => shouwang_domain::region::RegionCode::parse(&t.village_code)
            .is_ok_and(|v| code.contains(&v)),
        Scope::CasesOnly => false,
    };
    if !mine || !actor.may(Action::WorkReturn) {
        return Err(StoreError::NotFound);
    }
    Ok(t)
}

/// The 劝返 tasks the actor works on, open first.
pub async fn tasks(store: &Store, actor: &Actor) -> Result<Vec<ReturnTask>> {
    if !actor.may(Action::WorkReturn) {
        return Err(StoreError::Forbidden);
    }
    match actor.scope() {
        Scope::Agency { agency_id } => {
            store
                .return_tasks(Some(&agency_id), &actor.region, 200)
                .await
        }
        Scope::Region { code } => store.return_tasks(None, &code, 200).await,
        Scope::CasesOnly => Ok(vec![]),
    }
}

fn changed_meanwhile() -> StoreError {
    StoreError::Conflict {
        field: Some("version".into()),
        message: "该劝返刚被他人更新，请刷新后重试".into(),
    }
}

/// Records a step of a 劝返 (a call to the parents, a home visit with the village…).
pub async fn add_step(
    store: &Store,
    actor: &Actor,
    id: &str,
    step: &str,
    note: &str,
) -> Result<ReturnTask> {
    let mut t = task(store, actor, id).await?;
    let step = ReturnStep::parse(step.trim())
        .ok_or_else(|| ValidationErrors::single("step", "请选择劝返措施"))?;
    let note = text::clean(note);
    if note.is_empty() || note.chars().count() > 500 {
        return Err(ValidationErrors::single("note", "请写明劝返情况（500字以内）").into());
    }
    if !may_record_step(t.status) {
        return Err(StoreError::Conflict {
            field: Some("status".into()),
            message: "该劝返已结束".into(),
        });
    }
    t.steps.push(StepRecord {
        step,
        note,
        on: store.today(),
        by: actor.username.clone(),
    });
    save(store, actor, &t, "return_step").await
}

/// Ends a 劝返: the pupil is back (`returned`), or it failed (`failed`: the day the pupil was
/// marked in the 学籍 system is required, and the file's 就学情况 becomes 辍学 through the
/// ordinary edit, so its history and the roster's 失学辍学 flag show it).
pub async fn finish(
    store: &Store,
    actor: &Actor,
    id: &str,
    outcome: &str,
    note: &str,
    marked_on: Option<&str>,
) -> Result<ReturnTask> {
    let mut t = task(store, actor, id).await?;
    let note = text::clean(note);
    if note.chars().count() > 500 {
        return Err(ValidationErrors::single("note", "说明请不超过500字").into());
    }
    match outcome {
        "returned" => {
            if t.status != ReturnStatus::Open {
                return Err(StoreError::Conflict {
                    field: Some("status".into()),
                    message: "该劝返已结束".into(),
                });
            }
            t.status = ReturnStatus::Returned;
        }
        "failed" => {
            may_fail(t.status, t.steps.len()).map_err(|m| StoreError::Conflict {
                field: Some("status".into()),
                message: m.into(),
            })?;
            let today = store.today();
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
    let mut tx = store.begin().await?;
    if !tx.save_return(&t, &actor.username).await? {
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
            .map_err(|e| StoreError::Config(e.to_string()))?;
        if let Some(town) = village.parent() {
            tx.notify_org(
                &town,
                &[Role::Town],
                "return_failed",
                None,
                "劝返无效书面报告",
                "一名农村留守儿童劝返无效，已在学籍系统中标识，书面报告可在守望系统中查看。",
            )
            .await?;
        }
    }
    tx.audit(
        actor,
        "return_finish",
        Subject {
            entity: "return_task",
            id: Some(&t.id),
            region: Some(&t.village_code),
        },
        serde_json::json!({"outcome": outcome}),
    )
    .await?;
    tx.commit().await?;
    store.return_task(id).await?.ok_or(StoreError::NotFound)
}

async fn save(store: &Store, actor: &Actor, t: &ReturnTask, action: &str) -> Result<ReturnTask> {
    let mut tx = store.begin().await?;
    if !tx.save_return(t, &actor.username).await? {
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
    store.return_task(&t.id).await?.ok_or(StoreError::NotFound)
}

/// The written report of a failed 劝返 (书面报告县教育局和镇（街道）), as the rows of a printed
/// table: what, and its value. Read once per print (audited as a read of the file).
pub async fn written_report(
    store: &Store,
    actor: &Actor,
    id: &str,
) -> Result<(String, Vec<Vec<String>>)> {
    let t = task(store, actor, id).await?;
    if t.status != ReturnStatus::Failed {
        return Err(StoreError::Conflict {
            field: Some("status".into()),
            message: "劝返无效后才出具书面报告".into(),
        });
    }
    let child = crate::children::get(store, actor, &t.child_id, false).await?;
    let f = &child.file;
    let school = store.agency_name(&t.agency_id).await?.unwrap_or_default();
    let place = |code: &str| {
        shouwang_domain::region::RegionCode::parse(code)
            .map(|c| crate::protection::place_of(&c))
            .unwrap_or_default()
    };
    let age = age_on(f.birth_date, store.today());
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
        format!("报送：县教育局、{town}　　报告日期：{}", store.today()),
        rows,
    ))
}
