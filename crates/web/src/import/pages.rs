//! TODO

use std::collections::BTreeMap;

use crate::extract::Multipart;
use crate::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use shouwang_app::import::ImportCounts;
use shouwang_app::import::{Outcome, describe_changes};
use shouwang_domain::authz::Action;
use shouwang_exchange::columns::{TARGETS, column_letter};

use super::jobs::*;
use super::run::*;
use crate::state::AppState;

/// Rows listed per kind on the preview page.
const PREVIEW_ROWS: usize = 200;

use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::ui::{Frame, XLSX, download, render};

// ---- Import pages -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "import/import.html")]
pub(super) struct ImportPage {
    frame: Frame,
    error: String,
}

pub(super) async fn import_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, PageError> {
    if !user.actor.may(Action::RegisterChild) {
        return Err(AppError::Forbidden);
    }
    Ok(render(&ImportPage {
        frame: Frame::of(&state, &user).await,
        error: String::new(),
    }))
}

pub(super) async fn upload_page(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> Result<Response, PageError> {
    if !(user.actor.may(Action::RegisterChild) && user.actor.may(Action::EditChild)) {
        return Err(AppError::Forbidden);
    }
    let refused = |message: String| async {
        Ok(render(&ImportPage {
            frame: Frame::of(&state, &user).await,
            error: message,
        }))
    };
    // Refused before the file is read (too many unfinished jobs, too large): said on the form.
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
        Err(e) => return refused(e.into_form_message()?).await,
    };
    let csrf = fields.get("csrf_token").cloned().unwrap_or_default();
    user.check_csrf(&csrf)?;
    let (name, bytes) = upload
        .as_ref()
        .map(|u| (u.name.clone(), &u.bytes[..]))
        .unwrap_or_default();
    // 全表统一填写: one `字段=值` a line.
    let fills: Vec<String> = fields
        .get("fill")
        .map(|f| {
            f.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(40)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    match start_job(&state, &user.actor, name, bytes, fills).await {
        Ok(id) => Ok(Redirect::to(&format!("/import/{id}")).into_response()),
        Err(e) => refused(e.into_form_message()?).await,
    }
}

/// A row of the preview lists.
pub(super) struct PreviewRow {
    row: u32,
    name: String,
    detail: String,
}

pub(super) struct MappingRow {
    index: usize,
    letter: String,
    title: String,
    key: String,
}

#[derive(Template)]
#[template(path = "import/import_job.html")]
pub(super) struct JobPage {
    frame: Frame,
    id: String,
    source: String,
    /// What the whole file states once (`字段=值`).
    fills: Vec<String>,
    state: &'static str,
    rows_read: u64,
    rows_expected: u64,
    message: String,
    info: String,
    saved_mapping: bool,
    mapping: Vec<MappingRow>,
    targets: Vec<(&'static str, &'static str)>,
    missing: String,
    to_complete: String,
    counts: shouwang_app::import::PlanCounts,
    creates: Vec<PreviewRow>,
    updates: Vec<PreviewRow>,
    /// Rows in error grouped by the field at fault, the largest group first.
    error_groups: Vec<ErrorGroup>,
    done: ImportCounts,
}

/// The rows with errors in one field, and what to do about them.
pub(super) struct ErrorGroup {
    title: String,
    fix: String,
    count: usize,
    rows: Vec<PreviewRow>,
}

/// Rows listed per group of errors (the error workbook has them all).
const GROUP_ROWS: usize = 20;

pub(super) fn job_view(frame: Frame, id: &str, source: String, state: JobState) -> JobPage {
    let mut page = JobPage {
        frame,
        id: id.to_owned(),
        source,
        fills: Vec::new(),
        state: "reading",
        rows_read: 0,
        rows_expected: 0,
        message: String::new(),
        info: String::new(),
        saved_mapping: false,
        mapping: Vec::new(),
        targets: TARGETS.iter().map(|t| (t.key, t.label)).collect(),
        missing: String::new(),
        to_complete: String::new(),
        counts: Default::default(),
        creates: Vec::new(),
        updates: Vec::new(),
        error_groups: Vec::new(),
        done: ImportCounts::default(),
    };
    match state {
        JobState::Reading(p) => {
            page.rows_read = p.rows_read;
            page.rows_expected = p.rows_expected.unwrap_or(0);
        }
        JobState::Committing => page.state = "committing",
        JobState::Failed(m) => {
            page.state = "failed";
            page.message = m;
        }
        JobState::Committed(c) => {
            page.state = "committed";
            page.done = c;
        }
        JobState::Ready(plan) => {
            page.state = "ready";
            let m = &plan.info.mapping;
            let sheets = if plan.info.sheets_read.len() > 1 {
                format!(
                    "读取了{}张工作表（{}）",
                    plan.info.sheets_read.len(),
                    plan.info.sheets_read.join("、")
                )
            } else {
                format!("工作表“{}”", plan.info.sheet)
            };
            let skipped: String = plan
                .info
                .sheets_skipped
                .iter()
                .map(|(name, why)| format!("；未读取“{name}”：{why}"))
                .collect();
            page.info = format!(
                "{}，{sheets}{}，表头在第 {}–{} 行{skipped}",
                plan.info.format,
                plan.info
                    .encoding
                    .map(|e| format!("（{e} 编码）"))
                    .unwrap_or_default(),
                m.header_first + 1,
                m.header_last + 1
            );
            page.mapping = m
                .columns
                .iter()
                .filter(|c| !(c.title.is_empty() && c.key.is_none()))
                .map(|c| MappingRow {
                    index: c.index,
                    letter: column_letter(c.index),
                    title: c.title.clone(),
                    key: c.key.clone().unwrap_or_default(),
                })
                .collect();
            page.saved_mapping = plan.info.saved_mapping;
            page.missing = plan.missing_columns.join("、");
            page.to_complete = plan.columns_to_complete.join("、");
            page.counts = plan.counts();
            let mut groups: std::collections::BTreeMap<String, ErrorGroup> = Default::default();
            for r in &plan.rows {
                match &r.outcome {
                    Outcome::Create(f) if page.creates.len() < PREVIEW_ROWS => {
                        page.creates.push(PreviewRow {
                            row: r.row,
                            name: r.name.clone(),
                            detail: {
                                let mut d = vec![format!("{} {}", f.sex.label(), f.birth_date)];
                                let missing = shouwang_domain::eligibility::missing_facts(f);
                                if !missing.is_empty() {
                                    d.push(format!("信息不全，待补充{}", missing.join("、")));
                                }
                                d.extend(r.notes.iter().cloned());
                                d.join("；")
                            },
                        })
                    }
                    Outcome::Update(u) if page.updates.len() < PREVIEW_ROWS => {
                        page.updates.push(PreviewRow {
                            row: r.row,
                            name: r.name.clone(),
                            detail: std::iter::once(describe_changes(&u.changes))
                                .chain(r.notes.iter().cloned())
                                .collect::<Vec<_>>()
                                .join("；"),
                        })
                    }
                    Outcome::Error { problems } => {
                        // A row counts once in a group, whatever its problems there (the first
                        // is listed).
                        let mut seen: Vec<&str> = Vec::new();
                        for p in problems {
                            if seen.contains(&p.field.as_str()) {
                                continue;
                            }
                            seen.push(&p.field);
                            let group = groups.entry(p.field.clone()).or_insert_with(|| {
                                let label = shouwang_exchange::columns::target(&p.field)
                                    .map_or(p.field.as_str(), |t| t.label);
                                ErrorGroup {
                                    title: match p.column {
                                        Some(c) => format!("{label}（{}列）", column_letter(c)),
                                        None => format!("{label}（表中没有这一列）"),
                                    },
                                    fix: shouwang_exchange::read::how_to_fix(&p.field),
                                    count: 0,
                                    rows: Vec::new(),
                                }
                            });
                            group.count += 1;
                            if group.rows.len() < GROUP_ROWS {
                                group.rows.push(PreviewRow {
                                    row: r.row,
                                    name: r.name.clone(),
                                    detail: match &r.sheet {
                                        Some(sheet) => format!(
                                            "{sheet}：{}",
                                            shouwang_exchange::read::describe(p, r.row, m)
                                        ),
                                        None => shouwang_exchange::read::describe(p, r.row, m),
                                    },
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
            let mut groups: Vec<ErrorGroup> = groups.into_values().collect();
            groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.title.cmp(&b.title)));
            page.error_groups = groups;
        }
    }
    page
}

pub(super) async fn job_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (job, detail) = view(&state, &user.actor, &id).await?;
    let mut page = job_view(Frame::of(&state, &user).await, &id, detail.source, job);
    page.fills = detail.fills;
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "import/import_progress.html")]
pub(super) struct ProgressFragment {
    id: String,
    state: &'static str,
    rows_read: u64,
    rows_expected: u64,
}

/// Polled by the progress bar; when the job leaves the running states the page reloads.
pub(super) async fn job_status_fragment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (job, _) = view(&state, &user.actor, &id).await?;
    Ok(match job {
        JobState::Reading(p) => render(&ProgressFragment {
            id,
            state: "reading",
            rows_read: p.rows_read,
            rows_expected: p.rows_expected.unwrap_or(0),
        }),
        JobState::Committing => render(&ProgressFragment {
            id,
            state: "committing",
            rows_read: 0,
            rows_expected: 0,
        }),
        _ => ([("HX-Redirect", format!("/import/{id}"))], "").into_response(),
    })
}

pub(super) async fn mapping_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    crate::auth::CheckedForm(user, form): crate::auth::CheckedForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (job, _) = view(&state, &user.actor, &id).await?;
    let JobState::Ready(plan) = job else {
        return Ok(Redirect::to(&format!("/import/{id}")).into_response());
    };
    let mut choices = BTreeMap::new();
    for (k, v) in &form {
        if let Some(index) = k.strip_prefix("col_").and_then(|i| i.parse::<usize>().ok())
            && plan.info.mapping.columns.iter().any(|c| c.index == index)
        {
            choices.insert(
                column_letter(index),
                if v.is_empty() { "-".into() } else { v.clone() },
            );
        }
    }
    if form.iter().any(|(k, v)| k == "save" && !v.is_empty()) {
        let mut mapping = plan.info.mapping.clone();
        mapping
            .apply(&choices)
            .map_err(|message| AppError::BadRequest {
                code: "validation",
                field: Some("mapping".into()),
                message,
            })?;
        shouwang_app::import::Importer::new(&state.app, &user.actor)
            .map_err(super::run::import_error)?
            .save_columns(&mapping.signature(), &mapping.saved_form())
            .await
            .map_err(super::run::import_error)?;
    }
    remap(&state, &user.actor, &id, choices).await?;
    Ok(Redirect::to(&format!("/import/{id}")).into_response())
}

#[derive(Deserialize)]
pub(super) struct CommitForm {
    mode: String,
}

pub(super) async fn commit_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    crate::auth::CheckedForm(user, form): crate::auth::CheckedForm<CommitForm>,
) -> Result<Response, PageError> {
    let mode = commit_mode(&form.mode)?;
    let (job, _) = view(&state, &user.actor, &id).await?;
    if let JobState::Ready(plan) = job {
        commit(&state, &user.actor, &id, plan, mode).await?;
    }
    Ok(Redirect::to(&format!("/import/{id}")).into_response())
}

/// Gives up a preview: nothing is imported, the file is deleted.
pub(super) async fn discard_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    crate::auth::CheckedForm(user, crate::auth::NoFields {}): crate::auth::CheckedForm<
        crate::auth::NoFields,
    >,
) -> Result<Response, PageError> {
    shouwang_app::jobs::discard(
        &state.app,
        &state.jobs,
        &user.actor,
        &id,
        &super::jobs::KIND,
        super::jobs::READY,
    )
    .await?;
    Ok(Redirect::to("/import").into_response())
}

pub(super) async fn errors_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (job, detail) = view(&state, &user.actor, &id).await?;
    let source = detail.source;
    let JobState::Ready(plan) = job else {
        return Err(AppError::NotFound);
    };
    let file = tempfile::NamedTempFile::new().map_err(|e| AppError::Internal(e.to_string()))?;
    plan.write_errors(file.path())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let bytes = std::fs::read(file.path()).map_err(|e| AppError::Internal(e.to_string()))?;
    let stem = source.rsplit_once('.').map_or(source.as_str(), |(s, _)| s);
    Ok(download(bytes, &format!("{stem}-错误行.xlsx"), XLSX))
}
