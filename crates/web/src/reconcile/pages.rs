//! TODO

use std::collections::BTreeMap;

use crate::extract::Multipart;
use crate::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use shouwang_app::reconcile::ItemDecision;
use shouwang_app::reconcile::{ItemFilter, ItemView, RunSummary};
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::region::RegionLevel;
use shouwang_exchange::lists::{FIELDS, field_key};
use shouwang_linkage::discrepancy::{FindingKind, ListKind};

use shouwang_exchange::lists::{ListColumns, ListPreview};

use super::jobs::*;
use super::run::*;
use crate::auth::{CheckedForm, CurrentUser};
use crate::error::AppError;
use crate::extract::Query;
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, china_time, render, urlencode};

#[derive(Template)]
#[template(path = "reconcile/reconcile.html")]
pub(super) struct ReconcilePage {
    frame: Frame,
    runs: Vec<RunSummary>,
    kinds: Vec<(&'static str, &'static str)>,
    error: String,
}

pub(super) async fn reconcile_page(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    if !user.actor.may(Action::Reconcile) {
        return Ok(Redirect::to("/reconcile/tasks").into_response());
    }
    show_runs(&state, &user, String::new()).await
}

pub(super) async fn show_runs(state: &AppState, user: &CurrentUser, error: String) -> PageResult {
    Ok(render(&ReconcilePage {
        frame: Frame::of(state, user).await,
        runs: shouwang_app::reconcile::runs(&state.app, &user.actor).await?,
        kinds: ListKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        error,
    }))
}

pub(super) async fn upload_page(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> PageResult {
    if !user.actor.may(Action::Reconcile) {
        return Err(AppError::Forbidden);
    }
    // Refused before the file is read (too many unfinished jobs, too large): said on the page.
    let (fields, upload) = match crate::uploads::receive_form(
        &state,
        &user.actor,
        multipart,
        crate::extract::MAX_UPLOAD_BYTES,
        crate::uploads::Admit::Job(&super::jobs::KIND),
    )
    .await
    {
        Ok(received) => received,
        Err(e) => return show_runs(&state, &user, e.into_form_message()?).await,
    };
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let (csrf, kind) = (field("csrf_token"), field("kind"));
    user.check_csrf(&csrf)?;
    let (name, bytes) = upload
        .as_ref()
        .map(|u| (u.name.as_str(), &u.bytes[..]))
        .unwrap_or_default();
    let result = async {
        let kind = list_kind(&kind)?;
        super::run::upload(&state, &user.actor, kind, name, bytes).await
    }
    .await;
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/reconcile/jobs/{id}")).into_response()),
        Err(e) => show_runs(&state, &user, e.into_form_message()?).await,
    }
}

/// A column on the columns page.
pub(super) struct ColumnRow {
    letter: String,
    title: String,
    field: &'static str,
    /// The first rows' values in this column.
    sample: String,
}

#[derive(Template)]
#[template(path = "reconcile/reconcile_job.html")]
pub(super) struct JobPage {
    frame: Frame,
    id: String,
    list_label: &'static str,
    source: String,
    header_row: u32,
    columns: Vec<ColumnRow>,
    fields: Vec<(&'static str, &'static str)>,
    saved: bool,
    error: String,
    /// "columns", "running" or "failed".
    state: &'static str,
    progress: String,
}

pub(super) fn job_page_of(frame: Frame, id: &str, job: &JobView, error: String) -> JobPage {
    let state = match &job.state {
        JobState::Columns => "columns",
        JobState::Failed(_) => "failed",
        _ => "running",
    };
    let progress = job.state.progress();
    let empty = ListPreview {
        columns: ListColumns {
            header_row: 0,
            columns: vec![],
        },
        sample: vec![],
    };
    let preview = job.preview.as_ref().unwrap_or(&empty);
    let columns = &preview.columns;
    JobPage {
        frame,
        id: id.to_owned(),
        list_label: job.kind.label(),
        source: job.source.clone(),
        header_row: columns.header_row,
        columns: columns
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| ColumnRow {
                letter: c.letter.clone(),
                title: c.title.clone(),
                field: c.field.unwrap_or(""),
                sample: preview
                    .sample
                    .iter()
                    .filter_map(|r| r.get(i).map(|v| v.trim()).filter(|v| !v.is_empty()))
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("、"),
            })
            .collect(),
        fields: FIELDS.to_vec(),
        saved: job.saved,
        error,
        state,
        progress,
    }
}

pub(super) async fn job_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> PageResult {
    let job = view(&state, &user.actor, &id).await?;
    if let JobState::Done(run) = &job.state {
        return Ok(Redirect::to(&format!("/reconcile/runs/{run}")).into_response());
    }
    Ok(render(&job_page_of(
        Frame::of(&state, &user).await,
        &id,
        &job,
        String::new(),
    )))
}

#[derive(Template)]
#[template(path = "reconcile/reconcile_job_status.html")]
pub(super) struct JobStatus {
    id: String,
    progress: String,
}

/// The progress fragment a running job's page polls; when the job ends, a redirect.
pub(super) async fn job_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let job = view(&state, &user.actor, &id).await?;
    Ok(match &job.state {
        JobState::Reading(_) | JobState::Comparing => render(&JobStatus {
            id,
            progress: job.state.progress(),
        }),
        JobState::Done(run) => {
            ([("HX-Redirect", format!("/reconcile/runs/{run}"))], "").into_response()
        }
        _ => ([("HX-Redirect", format!("/reconcile/jobs/{id}"))], "").into_response(),
    })
}

/// `col_<letter>` fields of the columns form → choices.
pub(super) fn choices_of(form: &[(String, String)]) -> BTreeMap<String, String> {
    form.iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("col_")
                .map(|letter| (letter.to_owned(), v.clone()))
        })
        .collect()
}

pub(super) async fn start_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm(user, form): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let value = |k: &str| {
        form.iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if !user.actor.may(Action::Reconcile) {
        return Err(AppError::Forbidden);
    }
    let job = view(&state, &user.actor, &id).await?;
    if !matches!(job.state, JobState::Columns) {
        return Err(already_started());
    }
    let choices = choices_of(&form);
    let Some(preview) = &job.preview else {
        return Err(already_started());
    };
    let mut columns = preview.columns.clone();
    if let Err(message) = columns.apply(&choices) {
        // The page again, with the person's choices and what is wrong with them.
        let mut shown = job.clone();
        if let Some(p) = shown.preview.as_mut() {
            for c in &mut p.columns.columns {
                c.field = choices.get(&c.letter).and_then(|k| field_key(k));
            }
        }
        return Ok(render(&job_page_of(
            Frame::of(&state, &user).await,
            &id,
            &shown,
            message,
        )));
    }
    begin(&state, &user.actor, &id, &columns).await?;
    if value("save") == "1"
        && let Err(e) = shouwang_app::reconcile::save_columns(
            &state.app,
            &user.actor,
            &saved_key(&columns),
            &columns.saved_form(),
        )
        .await
    {
        // The comparison runs all the same; only the next list's columns are not filled in.
        tracing::warn!(error = %e, "the column choices were not saved");
    }
    Ok(Redirect::to(&format!("/reconcile/jobs/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "reconcile/reconcile_items.html")]
pub(super) struct ItemsPage {
    frame: Frame,
    title: String,
    run: Option<RunSummary>,
    items: Vec<ItemView>,
    total: i64,
    filter_kind: String,
    filter_status: String,
    kinds: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    assignees: Vec<Opt>,
    towns: Vec<Opt>,
    back: String,
    prev: Option<String>,
    next: Option<String>,
    /// The user may see an item's ID numbers whole (county civil affairs, police), one item at a
    /// time, audited.
    may_reveal: bool,
    /// What a decision on many items did, or a withdrawal.
    notice: Option<String>,
    /// The page's first item (kept by the reveal link).
    offset: i64,
}

impl ReconcilePage {
    fn when(&self, at: &str) -> String {
        china_time(at)
    }
}

impl ItemsPage {
    fn when(&self, at: &str) -> String {
        china_time(at)
    }
    fn percent(&self, p: &Option<f64>) -> String {
        p.map(|p| format!("{:.1}%", p * 100.0)).unwrap_or_default()
    }
    fn weight(&self, w: &f64) -> String {
        format!("{w:+.1}")
    }
    fn any_decidable(&self) -> bool {
        self.items.iter().any(|i| i.may_decide)
    }
    fn any_assignable(&self) -> bool {
        self.items.iter().any(|i| i.may_assign)
    }
    /// Whether an item shows an ID number masked (the reveal link is offered).
    fn masked(&self, i: &ItemView) -> bool {
        let m = |s: &str| s.contains('*');
        i.child.as_ref().is_some_and(|p| m(&p.id_number))
            || i.entry.as_ref().is_some_and(|p| m(&p.id_number))
            || i.fix.as_ref().and_then(|f| f.to.as_deref()).is_some_and(m)
    }
    fn yes_no(&self, v: &Option<bool>) -> &'static str {
        match v {
            Some(true) => "是",
            Some(false) => "否",
            None => "",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ItemsQuery {
    kind: String,
    status: String,
    offset: i64,
    /// An item to show with its ID numbers whole.
    reveal: String,
    /// After a decision on many items: how many were done and refused.
    done: Option<usize>,
    refused: Option<usize>,
    withdrawn: Option<u8>,
}

pub(super) const PAGE: i64 = 50;

/// Towns, police and schools of the actor's jurisdiction, as assignees.
pub(super) async fn assignees(
    state: &AppState,
    actor: &Actor,
) -> Result<(Vec<Opt>, Vec<Opt>), AppError> {
    if !actor.may(Action::Reconcile) {
        return Ok((Vec::new(), Vec::new()));
    }
    let towns =
        shouwang_app::places::regions_within(&state.app, &actor.region, RegionLevel::Town).await?;
    let mut out = Vec::new();
    for t in &towns {
        out.push(Opt {
            code: format!("town:{}", t.code),
            label: format!("{}（乡镇）", t.name),
        });
    }
    let county = shouwang_app::places::region(&state.app, &actor.region)
        .await?
        .map(|r| r.name)
        .unwrap_or_default();
    out.push(Opt {
        code: format!("police:{}", actor.region),
        label: format!("{county}公安（户籍）"),
    });
    for t in &towns {
        out.push(Opt {
            code: format!("police:{}", t.code),
            label: format!("{}派出所", t.name),
        });
    }
    for a in shouwang_app::places::agencies_within(&state.app, &actor.region).await? {
        if a.kind == "school" {
            out.push(Opt {
                code: format!("school:{}", a.id),
                label: format!("{}（学校）", a.name),
            });
        }
    }
    let towns = towns
        .into_iter()
        .map(|t| Opt {
            code: t.code,
            label: t.name,
        })
        .collect();
    Ok((out, towns))
}

pub(super) async fn items_page(
    state: &AppState,
    user: &CurrentUser,
    run: Option<RunSummary>,
    q: ItemsQuery,
    back: String,
) -> PageResult {
    let filter = ItemFilter {
        run_id: run.as_ref().map(|r| r.id.clone()),
        kind: Some(q.kind.clone()),
        status: Some(if q.status.is_empty() {
            "pending".into()
        } else {
            q.status.clone()
        }),
        mine: run.is_none(),
        offset: q.offset.max(0),
        limit: PAGE,
    };
    let (mut items, total) =
        shouwang_app::reconcile::items(&state.app, &user.actor, &filter).await?;
    let may_reveal = user.actor.may(Action::UnmaskIdNumber);
    if may_reveal
        && !q.reveal.is_empty()
        && let Some(at) = items.iter().position(|i| i.id == q.reveal)
    {
        let id = shouwang_domain::ids::ItemId::new(q.reveal.clone());
        items[at] = shouwang_app::reconcile::item(&state.app, &user.actor, &id, true).await?;
    }
    let (assignees, towns) = assignees(state, &user.actor).await?;
    let link = |offset: i64| {
        format!(
            "{back}?kind={}&status={}&offset={offset}",
            urlencode(&q.kind),
            urlencode(&q.status)
        )
    };
    let offset = filter.offset;
    let notice = match (q.done, q.refused, q.withdrawn) {
        (_, _, Some(_)) => {
            Some("已撤回此次比对：尚未处理的条目已撤回，不再出现在任何待办中。".to_owned())
        }
        (Some(done), Some(0) | None, _) => Some(format!("已处理 {done} 条。")),
        (Some(done), Some(refused), _) => Some(format!(
            "已处理 {done} 条；{refused} 条未能处理（已被他人处理，或不属于您处理）。"
        )),
        _ => None,
    };
    Ok(render(&ItemsPage {
        frame: Frame::of(state, user).await,
        title: match &run {
            Some(r) => format!("比对结果：{}", r.list_label),
            None => "比对待办".into(),
        },
        run,
        total,
        prev: (offset > 0).then(|| link((offset - PAGE).max(0))),
        next: (offset + PAGE < total).then(|| link(offset + PAGE)),
        items,
        filter_kind: q.kind,
        filter_status: if q.status.is_empty() {
            "pending".into()
        } else {
            q.status
        },
        kinds: FindingKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        statuses: vec![
            ("pending", "待处理（含已交办）"),
            ("open", "待处理"),
            ("assigned", "已交办"),
            ("accepted", "已确认"),
            ("rejected", "已否定"),
            ("withdrawn", "已撤回"),
        ],
        assignees,
        towns,
        back,
        may_reveal,
        notice,
        offset,
    }))
}

pub(super) async fn run_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<shouwang_domain::ids::RunId>,
    Query(q): Query<ItemsQuery>,
) -> PageResult {
    let run = shouwang_app::reconcile::run_summary(&state.app, &user.actor, &id).await?;
    items_page(&state, &user, Some(run), q, format!("/reconcile/runs/{id}")).await
}

pub(super) async fn tasks_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ItemsQuery>,
) -> PageResult {
    items_page(&state, &user, None, q, "/reconcile/tasks".into()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct DecideForm {
    csrf_token: String,
    action: String,
    assignee: String,
    town_code: String,
    note: String,
    back: String,
}

pub(super) async fn decide_page(
    State(state): State<AppState>,
    Path(id): Path<shouwang_domain::ids::ItemId>,
    CheckedForm(user, f): CheckedForm<DecideForm>,
) -> PageResult {
    let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    shouwang_app::reconcile::decide(
        &state.app,
        &user.actor,
        &id,
        &ItemDecision {
            action: f.action,
            assignee: some(f.assignee),
            town_code: some(f.town_code),
            note: some(f.note),
        },
    )
    .await?;
    Ok(Redirect::to(&format!("{}#item-{id}", back_of(f.back))).into_response())
}

/// Back to the list a form was on (only ever a page of this feature).
fn back_of(back: String) -> String {
    if back.starts_with("/reconcile/")
        && !back.contains("//")
        && back
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '?' && c != '#')
    {
        back
    } else {
        "/reconcile".into()
    }
}

/// 批量处理: the ticked items of a page, one decision.
pub(super) async fn bulk_page(
    State(state): State<AppState>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .take(shouwang_app::reconcile::MAX_BULK + 1)
        .map(|(_, v)| v.clone())
        .collect();
    let field = |name: &str| crate::ui::form_field(&pairs, name);
    let outcome = shouwang_app::reconcile::decide_many(
        &state.app,
        &user.actor,
        &ids,
        &ItemDecision {
            action: field("action").unwrap_or_default(),
            assignee: field("assignee"),
            town_code: None,
            note: field("note"),
        },
    )
    .await?;
    Ok(Redirect::to(&format!(
        "{}?done={}&refused={}",
        back_of(field("back").unwrap_or_default()),
        outcome.done.len(),
        outcome.refused.len()
    ))
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct WithdrawForm {
    csrf_token: String,
    reason: String,
}

/// 撤回此次比对.
pub(super) async fn withdraw_page(
    State(state): State<AppState>,
    Path(id): Path<shouwang_domain::ids::RunId>,
    CheckedForm(user, f): CheckedForm<WithdrawForm>,
) -> PageResult {
    let _ = &f.csrf_token;
    shouwang_app::reconcile::withdraw_run(&state.app, &user.actor, &id, &f.reason).await?;
    Ok(Redirect::to(&format!(
        "/reconcile/runs/{id}?withdrawn=1&status=withdrawn"
    ))
    .into_response())
}

// ---------- API ----------
