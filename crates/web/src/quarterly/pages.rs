//! The quarterly reports' pages: the quarter's overview for a unit and those below it, and a
//! report with its 汇总表 and actions.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use shouwang_domain::ids::QuarterlyReportId;

use shouwang_app::quarterly::{self, QuarterOverview, ReportView, SubmitInput};

use crate::auth::{CheckedForm, CurrentUser};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::ui::{Frame, PageResult, place_name, render};

use crate::ui::filters;

use super::api::OverviewParams;

#[derive(Template)]
#[template(path = "quarterly/overview.html")]
struct OverviewPage {
    frame: Frame,
    o: QuarterOverview,
    error: Option<String>,
    may_prepare_below: bool,
}

async fn overview_view(
    state: &AppState,
    user: &CurrentUser,
    quarter: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let o = quarterly::overview(&state.app, &user.actor, quarter).await?;
    let status = error.as_ref().map(|e| e.0).unwrap_or(StatusCode::OK);
    Ok((
        status,
        render(&OverviewPage {
            frame: Frame::of(state, user).await,
            may_prepare_below: matches!(
                user.actor.role,
                shouwang_domain::authz::Role::County | shouwang_domain::authz::Role::CountyAdmin
            ),
            o,
            error: error.map(|e| e.1),
        }),
    )
        .into_response())
}

pub async fn overview_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<OverviewParams>,
) -> PageResult {
    overview_view(&state, &user, p.quarter.as_deref(), None).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    region: String,
    quarter: String,
}

pub async fn create_submit(
    State(state): State<AppState>,
    CheckedForm(user, f): CheckedForm<CreateForm>,
) -> PageResult {
    match quarterly::create(&state.app, &user.actor, &f.region, &f.quarter).await {
        Ok(r) => Ok(Redirect::to(&format!("/quarterly/{}", r.id)).into_response()),
        Err(shouwang_app::Error::Conflict { message, .. }) => {
            overview_view(
                &state,
                &user,
                Some(&f.quarter),
                Some((StatusCode::CONFLICT, message)),
            )
            .await
        }
        Err(shouwang_app::Error::Validation(v)) => {
            overview_view(
                &state,
                &user,
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, v.summary())),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "quarterly/report.html")]
struct ReportPage {
    frame: Frame,
    r: ReportView,
    place: String,
    error: Option<String>,
}

impl ReportPage {
    /// The comment a return made on column `no`, if any.
    fn returned(&self, no: &usize) -> Option<&str> {
        self.r
            .return_items
            .iter()
            .find(|i| i.column == Some(*no))
            .map(|i| i.comment.as_str())
    }
    fn place(&self, code: &str) -> String {
        crate::ui::place_name(code)
    }
    fn short(&self, at: &(impl crate::ui::ChinaTime + ?Sized)) -> String {
        crate::ui::china_time(at)
    }
    fn event(&self, kind: &str) -> &'static str {
        match kind {
            "frozen" => "生成并冻结",
            "refreshed" => "重新生成",
            "signing" => "提交（待签字确认）",
            "submitted" => "报送上级",
            "confirmed" => "签字确认",
            "approved" => "审核通过",
            "returned" => "退回",
            "verified" => "部门核实",
            _ => "其他",
        }
    }
}

async fn report_view(
    state: &AppState,
    user: &CurrentUser,
    id: &QuarterlyReportId,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let r = quarterly::get(&state.app, &user.actor, id).await?;
    let status = error.as_ref().map(|e| e.0).unwrap_or(StatusCode::OK);
    Ok((
        status,
        render(&ReportPage {
            frame: Frame::of(state, user).await,
            place: place_name(&r.region),
            r,
            error: error.map(|e| e.1),
        }),
    )
        .into_response())
}

pub async fn report_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<QuarterlyReportId>,
) -> PageResult {
    report_view(&state, &user, &id, None).await
}

/// The report page's action form. Returning names items in repeated `item` / `item_comment`
/// pairs (one per line of the form; blank lines are dropped).
struct ActionForm {
    action: String,
    reviewer: String,
    head: String,
    comment: String,
    section: String,
    /// `reviewer` or `head`: the signer who confirms.
    signer: String,
    items: Vec<shouwang_domain::quarterly::ReturnItem>,
}

impl ActionForm {
    fn read(pairs: &[(String, String)]) -> Self {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let all = |k: &'static str| {
            pairs
                .iter()
                .filter(move |(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        ActionForm {
            action: one("action"),
            reviewer: one("reviewer"),
            head: one("head"),
            comment: one("comment"),
            section: one("section"),
            signer: one("as"),
            items: all("item")
                .zip(all("item_comment"))
                .map(|(item, comment)| shouwang_domain::quarterly::ReturnItem { item, comment })
                .collect(),
        }
    }
}

pub async fn action_submit(
    State(state): State<AppState>,
    Path(id): Path<QuarterlyReportId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let f = ActionForm::read(&pairs);
    let (app, actor) = (&state.app, &user.actor);
    let comment = Some(f.comment.as_str()).filter(|c| !c.trim().is_empty());
    let r = match f.action.as_str() {
        "refresh" => quarterly::refresh(app, actor, &id).await,
        "submit" => {
            let input = SubmitInput {
                reviewer: Some(f.reviewer.clone()),
                head: Some(f.head.clone()),
            };
            quarterly::submit(app, actor, &id, &input).await
        }
        "confirm" => quarterly::confirm(app, actor, &id, &f.signer).await,
        "verify" => quarterly::verify(app, actor, &id, &f.section, comment).await,
        "approve" => quarterly::decide(app, actor, &id, true, comment, &[]).await,
        "return" => quarterly::decide(app, actor, &id, false, comment, &f.items).await,
        _ => {
            return report_view(
                &state,
                &user,
                &id,
                Some((StatusCode::UNPROCESSABLE_ENTITY, "未知操作".into())),
            )
            .await;
        }
    };
    after_action(&state, &user, &id, r).await
}

/// Back to the report after an action: what was done shows on it, or what was refused, above it.
async fn after_action(
    state: &AppState,
    user: &CurrentUser,
    id: &QuarterlyReportId,
    r: Result<ReportView, shouwang_app::Error>,
) -> PageResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/quarterly/{id}")).into_response()),
        Err(e) => report_view(state, user, id, Some(crate::ui::refusal(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "quarterly/ranking.html")]
struct RankingPage {
    frame: Frame,
    r: quarterly::Ranking,
    place: String,
    /// Whether the units listed report (towns and above), or only verify (a town's villages).
    reports: bool,
}

pub async fn ranking_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<OverviewParams>,
) -> PageResult {
    let r = quarterly::ranking(&state.app, &user.actor, p.quarter.as_deref()).await?;
    Ok(render(&RankingPage {
        frame: Frame::of(&state, &user).await,
        place: place_name(&r.region),
        reports: r.units.iter().any(|u| u.reports),
        r,
    }))
}

const RANKING_HEADER: [&str; 10] = [
    "名次",
    "单位",
    "报送情况",
    "报送期限",
    "首次提交",
    "审核状态",
    "退回次数",
    "在册儿童",
    "本季度已核查",
    "核查率",
];

/// The 定期通报 as a table: its title, the line under it, the rows in rank order.
fn ranking_table(state: &AppState, r: &quarterly::Ranking) -> (String, String, Vec<Vec<String>>) {
    let place = place_name(&r.region);
    let rows = r
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            vec![
                (i + 1).to_string(),
                u.name.clone(),
                u.timeliness.map(|t| t.label()).unwrap_or("—").to_owned(),
                u.due.map(|d| d.to_string()).unwrap_or_default(),
                u.first_submitted.map(|d| d.to_string()).unwrap_or_default(),
                u.status.map(|s| s.label()).unwrap_or("未生成").to_owned(),
                u.returned.to_string(),
                u.children.to_string(),
                u.verified.to_string(),
                format!("{}%", u.verified_percent),
            ]
        })
        .collect();
    (
        format!("{place}{}农村留守儿童信息报送情况通报", r.quarter_label),
        format!("生成日期：{}", state.app.today()),
        rows,
    )
}

/// The ranking as a workbook a bureau sends round (定期通报).
pub async fn ranking_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<OverviewParams>,
) -> Result<axum::response::Response, crate::error::AppError> {
    let r = quarterly::ranking(&state.app, &user.actor, p.quarter.as_deref()).await?;
    let (title, subtitle, rows) = ranking_table(&state, &r);
    let bytes = shouwang_exchange::xlsx::table_workbook(&title, &subtitle, &RANKING_HEADER, &rows)
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    Ok(crate::ui::download(
        bytes,
        &format!("{title}.xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ))
}

/// The ranking as the printed notice (定期通报, 景洪 000 三(一); 龙里 003 七(三)): a PDF.
pub async fn ranking_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<OverviewParams>,
) -> Result<axum::response::Response, crate::error::AppError> {
    let r = quarterly::ranking(&state.app, &user.actor, p.quarter.as_deref()).await?;
    let printer = crate::exports::printer(&state)?;
    let (title, subtitle, rows) = ranking_table(&state, &r);
    let doc = shouwang_exchange::forms::PrintedTable {
        title: title.clone(),
        subtitle,
        header: RANKING_HEADER.iter().map(|h| h.to_string()).collect(),
        rows,
        notes: vec![
            "报送情况按首次提交日期与报送期限比较；退回后再次提交的，仍以首次提交为准。".into(),
            "核查率：本季度内经走访或电话核查的在册儿童所占比例（每季度至少核查一次）。".into(),
        ],
    };
    let bytes = tokio::task::spawn_blocking(move || printer.table(&doc))
        .await
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))?
        .map_err(crate::error::AppError::Internal)?;
    Ok(crate::ui::download(
        bytes,
        &format!("{title}.pdf"),
        "application/pdf",
    ))
}

#[derive(Template)]
#[template(path = "quarterly/period.html")]
struct PeriodPage {
    frame: Frame,
    f: quarterly::PeriodFigures,
    place: String,
}

impl PeriodPage {
    fn exited_total(&self) -> i64 {
        self.f.exited.iter().map(|e| e.count).sum()
    }
}

pub async fn period_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<super::api::PeriodParams>,
) -> PageResult {
    let (from, to) = p.days(state.app.today())?;
    let f = quarterly::period(&state.app, &user.actor, from, to).await?;
    Ok(render(&PeriodPage {
        frame: Frame::of(&state, &user).await,
        place: place_name(&f.region),
        f,
    }))
}

/// The day (China's) of a stored time.
fn frozen_day(at: &str) -> Option<chrono::NaiveDate> {
    crate::ui::china_day(at).parse().ok()
}

/// The 留守老人花名册 (龙里 003 附件6) a town's report froze, as a workbook headed by the report's
/// unit and date.
pub async fn elders_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<QuarterlyReportId>,
) -> Result<axum::response::Response, crate::error::AppError> {
    let (r, elders) = quarterly::frozen_elders(&state.app, &user.actor, &id).await?;
    let region = shouwang_domain::region::RegionCode::parse(&r.region)
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    // The register as it stood when the report was made (its 统计时点).
    let on = frozen_day(&r.frozen_at).unwrap_or(state.app.today());
    let heading = shouwang_exchange::outputs::Heading::new(&region, on, state.app.today());
    let reveal = user
        .actor
        .may(shouwang_domain::authz::Action::UnmaskIdNumber);
    let bytes = shouwang_exchange::elders::elder_roster_workbook(&heading, &elders, reveal)
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    Ok(crate::ui::download(
        bytes,
        &format!("{}{}留守老人花名册.xlsx", heading.unit, r.quarter),
        crate::ui::XLSX,
    ))
}

/// The roster a town's report froze, as the workbook it was counted from; the sheet says it is
/// frozen and as of when.
pub async fn roster_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<QuarterlyReportId>,
) -> Result<axum::response::Response, crate::error::AppError> {
    use shouwang_domain::child::{GuardianshipType, Schooling};
    let (r, lines) = quarterly::frozen_roster(&state.app, &user.actor, &id).await?;
    let place = place_name(&r.region);
    let rows: Vec<Vec<String>> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            vec![
                (i + 1).to_string(),
                l.name.clone(),
                l.sex.clone(),
                l.birth_date.clone(),
                place_name(&l.village_code),
                Schooling::parse(&l.schooling)
                    .map(|s| s.label().to_owned())
                    .unwrap_or_default(),
                GuardianshipType::parse(&l.guardianship_type)
                    .map(|g| g.label().to_owned())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = shouwang_exchange::xlsx::table_workbook(
        &format!("{place}{}农村留守儿童花名册（冻结）", r.quarter_label),
        &format!(
            "本名册为{}报表冻结时计入的儿童（截至 {}，冻结于 {}，{}），共 {} 人",
            r.quarter_label,
            r.summary.date,
            crate::ui::china_time(&r.frozen_at),
            r.status.label(),
            lines.len()
        ),
        &[
            "序号",
            "姓名",
            "性别",
            "出生日期",
            "村（社区）",
            "就学情况",
            "监护类型",
        ],
        &rows,
    )
    .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    Ok(crate::ui::download(
        bytes,
        &format!("{place}{}冻结花名册.xlsx", r.quarter_label),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ))
}

/// The signed and stamped page, uploaded from the report page: the report goes up.
pub async fn signed_page_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<QuarterlyReportId>,
    multipart: crate::extract::Multipart,
) -> PageResult {
    let (fields, upload) = crate::extract::upload_form_within(
        multipart,
        shouwang_domain::protection::MAX_EVIDENCE_BYTES,
    )
    .await?;
    user.check_csrf(fields.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let bytes = upload.map(|(_, b)| b).unwrap_or_default();
    let r = quarterly::attach_signed_page(&state.app, &user.actor, &id, &bytes).await;
    after_action(&state, &user, &id, r).await
}
