//! 控辍保学 at school (issue 15): a pupil's absences (`/children/{id}/absences`), the 劝返 they
//! open (`/returns`, `/returns/{id}`) and the written report of a failed one (PDF) — pages and
//! `/api/v1/children/{id}/absences`, `/api/v1/return-tasks…`. The rules are
//! `domain::attendance`, the use cases `app::attendance`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use shouwang_app::attendance::ReturnTask;
use shouwang_app::attendance::{self, AbsencesRecorded, SheetImported};
use shouwang_domain::attendance::{AbsenceInput, ReturnStep};
use shouwang_domain::ids::{ChildId, ReturnTaskId};
use shouwang_domain::validation::ValidationErrors;

use crate::auth::{CheckedForm, CurrentUser};
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, Path};
use crate::schema::Items;
use crate::state::AppState;
use crate::ui::{Frame, PageResult, place_name, render};

#[derive(OpenApi)]
#[openapi(
    paths(
        record_absences,
        import_sheet,
        list_tasks,
        get_task,
        add_step,
        finish,
        report_pdf
    ),
    components(schemas(AbsenceInput, StepBody, FinishBody, SheetImported))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/children/{id}/absences",
            get(absences_page).post(absences_submit),
        )
        .route("/returns", get(tasks_page))
        .route("/returns/{id}", get(task_page))
        .route("/returns/{id}/action", post(task_action))
        .route("/api/v1/children/{id}/absences", post(record_absences))
        .route(
            "/api/v1/absences/import",
            post(import_sheet).layer(axum::extract::DefaultBodyLimit::max(SHEET_BYTES)),
        )
        .route(
            "/returns/import",
            post(import_submit).layer(axum::extract::DefaultBodyLimit::max(
                SHEET_BYTES + (64 << 10),
            )),
        )
        .route("/api/v1/return-tasks", get(list_tasks))
        .route("/api/v1/return-tasks/{id}", get(get_task))
        .route("/api/v1/return-tasks/{id}/steps", post(add_step))
        .route("/api/v1/return-tasks/{id}/finish", post(finish))
        .route("/api/v1/return-tasks/{id}/report.pdf", get(report_pdf))
        .route("/returns/{id}/report.pdf", get(report_pdf))
}

/// The largest attendance sheet taken (a school's month is a few hundred kB).
const SHEET_BYTES: usize = 5 << 20;

/// `month` as YYYY-MM, or each wrong form named.
fn month_param(m: Option<&str>) -> Result<Option<(i32, u32)>, AppError> {
    match m.map(str::trim).filter(|m| !m.is_empty()) {
        None => Ok(None),
        Some(v) => shouwang_exchange::attendance::month_in(v)
            .map(Some)
            .ok_or_else(|| {
                AppError::from(shouwang_app::Error::from(ValidationErrors::single(
                    "month",
                    "月份应写作 2026-11",
                )))
            }),
    }
}

async fn import_bytes(
    state: &AppState,
    user: &CurrentUser,
    bytes: &[u8],
    month: Option<(i32, u32)>,
) -> Result<SheetImported, AppError> {
    if bytes.is_empty() {
        return Err(shouwang_app::Error::from(ValidationErrors::single(
            "file",
            "请选择考勤表文件",
        ))
        .into());
    }
    let file = tempfile::NamedTempFile::new().map_err(|e| AppError::Internal(e.to_string()))?;
    std::fs::write(file.path(), bytes).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(attendance::import_sheet(&state.app, &user.actor, file.path(), month).await?)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The month of a grid whose title does not say it: YYYY-MM.
    month: Option<String>,
}

/// A school's attendance sheet (考勤表: .xlsx, .xls or .csv, ≤ 5 MB) as the body: the month's grid
/// (one column per day; √ present, 旷/× unexplained, 病/事 leave) or a list of absences (姓名,
/// 缺勤日期, 类别). Rows are matched to the school's pupils by ID number or a name only one of
/// them has; what is not imported is named by row in `problems`.
#[utoipa::path(post, path = "/api/v1/absences/import", params(ImportParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = SheetImported)))]
pub async fn import_sheet(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::extract::Query(p): crate::extract::Query<ImportParams>,
    req: axum::extract::Request,
) -> Result<Json<SheetImported>, AppError> {
    let month = month_param(p.month.as_deref())?;
    let upload = crate::uploads::receive_body(
        &state,
        &user.actor,
        req,
        SHEET_BYTES,
        crate::uploads::Admit::One,
        "考勤表".into(),
    )
    .await?;
    Ok(Json(
        import_bytes(&state, &user, &upload.bytes, month).await?,
    ))
}

/// The page's upload of an attendance sheet: the outcome shown above the 劝返 list.
pub async fn import_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: crate::extract::Multipart,
) -> PageResult {
    let (fields, upload) = crate::uploads::receive_form(
        &state,
        &user.actor,
        multipart,
        SHEET_BYTES,
        crate::uploads::Admit::One,
    )
    .await?;
    user.check_csrf(fields.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let bytes = upload.as_ref().map(|u| u.bytes.clone()).unwrap_or_default();
    let outcome = match month_param(fields.get("month").map(String::as_str)) {
        Ok(month) => import_bytes(&state, &user, &bytes, month).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(done) => tasks_view(&state, &user, Some(Ok(done))).await,
        Err(AppError::Validation(e)) => tasks_view(&state, &user, Some(Err(e.summary()))).await,
        Err(e) => Err(e),
    }
}

/// Records a pupil's absences (the school's own pupils): a day or a range of school days,
/// explained or not. Unexplained absences of more than a week open a 劝返 (`task`).
#[utoipa::path(post, path = "/api/v1/children/{id}/absences", params(("id" = String, Path)),
    request_body = AbsenceInput,
    responses((status = 201, body = AbsencesRecorded)))]
pub async fn record_absences(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    ApiJson(body): ApiJson<AbsenceInput>,
) -> Result<impl IntoResponse, AppError> {
    let r = attendance::record_absences(&state.app, &user.actor, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// The 劝返 you work on, open first.
#[utoipa::path(get, path = "/api/v1/return-tasks",
    responses((status = 200, body = Items<ReturnTask>)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Items<ReturnTask>>, AppError> {
    Ok(Json(Items {
        items: attendance::tasks(&state.app, &user.actor).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/return-tasks/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ReturnTask)))]
pub async fn get_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ReturnTaskId>,
) -> Result<Json<ReturnTask>, AppError> {
    Ok(Json(attendance::task(&state.app, &user.actor, &id).await?))
}

/// A step of a 劝返: `contact_parents`, `contact_guardian`, `home_visit`, `other`, with what came
/// of it.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct StepBody {
    pub step: String,
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/return-tasks/{id}/steps", params(("id" = String, Path)),
    request_body = StepBody,
    responses((status = 200, body = ReturnTask), (status = 409, body = ErrorBody)))]
pub async fn add_step(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ReturnTaskId>,
    ApiJson(b): ApiJson<StepBody>,
) -> Result<Json<ReturnTask>, AppError> {
    Ok(Json(
        attendance::add_step(&state.app, &user.actor, &id, &b.step, &b.note).await?,
    ))
}

/// How a 劝返 ended: `returned` (back at school) or `failed` (劝返无效: `marked_on`, the day the
/// pupil was marked in the 学籍 system, is required; the file's 就学情况 becomes 辍学).
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FinishBody {
    pub outcome: String,
    pub note: String,
    pub marked_on: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/return-tasks/{id}/finish", params(("id" = String, Path)),
    request_body = FinishBody,
    responses((status = 200, body = ReturnTask), (status = 409, body = ErrorBody)))]
pub async fn finish(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ReturnTaskId>,
    ApiJson(b): ApiJson<FinishBody>,
) -> Result<Json<ReturnTask>, AppError> {
    Ok(Json(
        attendance::finish(
            &state.app,
            &user.actor,
            &id,
            &b.outcome,
            &b.note,
            b.marked_on.as_deref(),
        )
        .await?,
    ))
}

/// The written report of a failed 劝返 to the county education bureau and the town (PDF).
#[utoipa::path(get, path = "/api/v1/return-tasks/{id}/report.pdf", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 409, body = ErrorBody)))]
pub async fn report_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ReturnTaskId>,
) -> Result<axum::response::Response, AppError> {
    let (subtitle, rows) = attendance::written_report(&state.app, &user.actor, &id).await?;
    let printer = crate::exports::printer(&state)?;
    let doc = shouwang_exchange::forms::PrintedTable {
        title: "关于农村留守儿童劝返无效情况的书面报告".into(),
        subtitle,
        header: vec!["项目".into(), "情况".into()],
        rows,
        notes: vec![
            "依据：对超过1周不到校的，要及时组织劝返；劝返无效的，中小学校要在全国中小学生学籍信息管理系统中进行标识，并及时书面报告县级教育部门和乡镇政府（街道办事处）。".into(),
        ],
    };
    let bytes = tokio::task::spawn_blocking(move || printer.table(&doc))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)?;
    Ok(crate::ui::download(
        bytes,
        "劝返无效书面报告.pdf",
        "application/pdf",
    ))
}

#[derive(Template)]
#[template(path = "attendance/absences.html")]
struct AbsencesPage {
    frame: Frame,
    child_id: String,
    child_name: String,
    absences: Vec<(chrono::NaiveDate, bool, Option<String>)>,
    task: Option<ReturnTask>,
    errors: ValidationErrors,
    notice: Option<String>,
    from: String,
    to: String,
    today: String,
}

async fn absences_view(
    state: &AppState,
    user: &CurrentUser,
    id: &ChildId,
    errors: ValidationErrors,
    notice: Option<String>,
    values: (String, String),
) -> PageResult {
    let child = shouwang_app::children::get(&state.app, &user.actor, id, false).await?;
    let today = state.app.today();
    let since = today - chrono::Duration::days(shouwang_domain::attendance::MAX_BACKDATE_DAYS);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = render(&AbsencesPage {
        frame: Frame::of(state, user).await,
        child_id: id.to_string(),
        child_name: child.file.name.as_str().to_owned(),
        absences: shouwang_app::attendance::absences(&state.app, &user.actor, id, since).await?,
        task: shouwang_app::attendance::open_task(&state.app, &user.actor, id).await?,
        errors,
        notice,
        from: values.0,
        to: values.1,
        today: today.to_string(),
    });
    Ok((status, page).into_response())
}

pub async fn absences_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> PageResult {
    absences_view(
        &state,
        &user,
        &id,
        ValidationErrors::default(),
        None,
        Default::default(),
    )
    .await
}

#[derive(Deserialize)]
pub struct AbsenceForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    excused: Option<String>,
    #[serde(default)]
    note: String,
}

pub async fn absences_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, f): CheckedForm<AbsenceForm>,
) -> PageResult {
    let input = AbsenceInput {
        from: Some(f.from.clone()),
        to: Some(f.to.clone()).filter(|t| !t.trim().is_empty()),
        excused: Some(f.excused.is_some()),
        note: Some(f.note.clone()),
    };
    match attendance::record_absences(&state.app, &user.actor, &id, &input).await {
        Ok(r) => {
            let notice = match &r.task {
                Some(t) => format!(
                    "已登记{}天缺勤。该生已超过一周未到校，已启动劝返（{} 至 {}），请联系家长并会同村（居）委会入户家访。",
                    r.days.len(),
                    t.away_from,
                    t.away_to
                ),
                None => format!("已登记{}天缺勤。", r.days.len()),
            };
            absences_view(
                &state,
                &user,
                &id,
                ValidationErrors::default(),
                Some(notice),
                Default::default(),
            )
            .await
        }
        Err(shouwang_app::Error::Validation(e)) => {
            absences_view(&state, &user, &id, e, None, (f.from, f.to)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A task with its pupil's name and place, for the lists.
struct TaskRow {
    t: ReturnTask,
    name: String,
    place: String,
}

#[derive(Template)]
#[template(path = "attendance/tasks.html")]
struct TasksPage {
    frame: Frame,
    rows: Vec<TaskRow>,
    /// What an attendance sheet's import did, or why it was refused.
    imported: Option<Result<SheetImported, String>>,
    month: String,
}

pub async fn tasks_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    tasks_view(&state, &user, None).await
}

async fn tasks_view(
    state: &AppState,
    user: &CurrentUser,
    imported: Option<Result<SheetImported, String>>,
) -> PageResult {
    let tasks = attendance::tasks(&state.app, &user.actor).await?;
    let mut rows = Vec::with_capacity(tasks.len());
    for t in tasks {
        let name = match shouwang_app::children::visible(&state.app, &user.actor, &t.child_id).await
        {
            Ok(c) => c.file.name.as_str().to_owned(),
            Err(_) => "（不在本单位范围）".to_owned(),
        };
        rows.push(TaskRow {
            place: place_name(&t.village_code),
            name,
            t,
        });
    }
    let status = match &imported {
        Some(Err(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let page = render(&TasksPage {
        frame: Frame::of(state, user).await,
        rows,
        imported,
        month: state.app.today().format("%Y-%m").to_string(),
    });
    Ok((status, page).into_response())
}

#[derive(Template)]
#[template(path = "attendance/task.html")]
struct TaskPage {
    frame: Frame,
    row: TaskRow,
    steps: Vec<crate::ui::Opt>,
    error: Option<String>,
    today: String,
}

async fn task_view(
    state: &AppState,
    user: &CurrentUser,
    id: &ReturnTaskId,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let t = attendance::task(&state.app, &user.actor, id).await?;
    let name = shouwang_app::children::visible(&state.app, &user.actor, &t.child_id)
        .await
        .map(|c| c.file.name.as_str().to_owned())
        .unwrap_or_default();
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.0);
    let page = render(&TaskPage {
        frame: Frame::of(state, user).await,
        row: TaskRow {
            place: place_name(&t.village_code),
            name,
            t,
        },
        steps: crate::ui::opts(ReturnStep::ALL, ReturnStep::code, ReturnStep::label),
        error: error.map(|e| e.1),
        today: state.app.today().to_string(),
    });
    Ok((status, page).into_response())
}

pub async fn task_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ReturnTaskId>,
) -> PageResult {
    task_view(&state, &user, &id, None).await
}

#[derive(Deserialize)]
pub struct TaskForm {
    action: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    marked_on: String,
}

pub async fn task_action(
    State(state): State<AppState>,
    Path(id): Path<ReturnTaskId>,
    CheckedForm(user, f): CheckedForm<TaskForm>,
) -> PageResult {
    let (app, actor) = (&state.app, &user.actor);
    let r = match f.action.as_str() {
        "step" => attendance::add_step(app, actor, &id, &f.step, &f.note).await,
        "returned" => attendance::finish(app, actor, &id, "returned", &f.note, None).await,
        "failed" => {
            attendance::finish(app, actor, &id, "failed", &f.note, Some(&f.marked_on)).await
        }
        _ => Err(ValidationErrors::single("action", "未知操作").into()),
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/returns/{id}")).into_response()),
        Err(e) => task_view(&state, &user, &id, Some(crate::ui::refusal(e)?)).await,
    }
}
