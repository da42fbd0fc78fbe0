//! Spreadsheets and printed forms out: the 花名册 and 汇总表 as .xlsx, the 登记表 and the 确认书
//! as PDF (or a workbook laid out like the form), as pages and under `/api/v1`.

use crate::extract::Path;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

use shouwang_app::exports::{ExportChild, ExportKind};
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::child::{GuardianshipType, Schooling};
use shouwang_domain::eligibility::{AgeBand, KeyTargetFlag};
use shouwang_domain::ids::ChildId;
use shouwang_domain::input::parse_date;
use shouwang_domain::region::RegionCode;
use shouwang_exchange::forms::FormHeading;
use shouwang_exchange::outputs::{self, Heading, RosterFilter};

use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::extract::Query;
use crate::state::AppState;
use crate::ui::{Frame, PDF, XLSX, download, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exports", get(exports_page))
        .route("/exports/roster.xlsx", get(roster_download))
        .route("/exports/summary.xlsx", get(summary_download))
        .route("/exports/forms.pdf", get(village_forms_download))
        .route("/exports/forms.xlsx", get(village_forms_xlsx_download))
        .route("/children/{id}/form.pdf", get(form_download))
        .route("/children/{id}/form.xlsx", get(form_xlsx_download))
        .route("/children/{id}/agreement.pdf", get(agreement_download))
        .route("/api/v1/exports/roster", get(roster_download))
        .route("/api/v1/exports/summary", get(summary_download))
        .route("/api/v1/children/{id}/form.pdf", get(form_download))
        .route("/api/v1/children/{id}/form.xlsx", get(form_xlsx_download))
        .route(
            "/api/v1/children/{id}/agreement.pdf",
            get(agreement_download),
        )
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    roster_download,
    summary_download,
    form_download,
    form_xlsx_download,
    agreement_download
))]
pub struct ApiDoc;

// ---- Exports ------------------------------------------------------------------------------------

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The area to export (default: your jurisdiction).
    #[param(value_type = Option<crate::schema::DivisionCode>, inline)]
    region: Option<String>,
    /// The reference date (default today): who was on the roster then.
    #[param(value_type = Option<chrono::NaiveDate>, inline)]
    date: Option<String>,
    #[param(value_type = Option<shouwang_domain::child::GuardianshipType>, inline)]
    guardianship_type: Option<String>,
    #[param(value_type = Option<shouwang_domain::child::Schooling>, inline)]
    schooling: Option<String>,
    #[param(value_type = Option<shouwang_domain::eligibility::AgeBand>, inline)]
    age_band: Option<String>,
    #[param(value_type = Option<shouwang_domain::eligibility::KeyTargetFlag>, inline)]
    flag: Option<String>,
}

/// The summary's area and date.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documentation of the summary's part of `ExportParams`
struct SummaryParams {
    #[param(value_type = Option<crate::schema::DivisionCode>, inline)]
    region: Option<String>,
    #[param(value_type = Option<chrono::NaiveDate>, inline)]
    date: Option<String>,
}

fn bad(field: &str, message: String) -> AppError {
    AppError::BadRequest {
        code: "validation",
        field: Some(field.into()),
        message,
    }
}

impl ExportParams {
    fn region(&self, actor: &Actor) -> Result<RegionCode, AppError> {
        match self.region.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => shouwang_domain::region::Divisions::shipped()
                .parse_existing(r)
                .map_err(|e| bad("region", e.to_string())),
            None => Ok(actor.region.clone()),
        }
    }
    fn date(&self, today: NaiveDate) -> Result<NaiveDate, AppError> {
        match self.date.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => parse_date(d).ok_or_else(|| {
                bad(
                    "date",
                    format!("统计时点“{d}”不是有效日期（例：2026-07-31）"),
                )
            }),
            None => Ok(today),
        }
    }
    fn filter(&self) -> Result<RosterFilter, AppError> {
        fn one<T>(
            v: &Option<String>,
            field: &str,
            parse: fn(&str) -> Option<T>,
        ) -> Result<Option<T>, AppError> {
            match v.as_deref().filter(|s| !s.is_empty()) {
                Some(s) => parse(s)
                    .map(Some)
                    .ok_or_else(|| bad(field, format!("“{s}”不是可选值"))),
                None => Ok(None),
            }
        }
        Ok(RosterFilter {
            guardianship_type: one(
                &self.guardianship_type,
                "guardianship_type",
                GuardianshipType::parse,
            )?,
            schooling: one(&self.schooling, "schooling", Schooling::parse)?,
            age_band: one(&self.age_band, "age_band", AgeBand::parse)?,
            flag: one(&self.flag, "flag", KeyTargetFlag::parse)?,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/exports/roster", params(ExportParams),
    responses((status = 200, description = "花名册 .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = crate::schema::Binary),
        (status = 404, description = "所指的地区不存在或不在您的管辖范围内", body = crate::error::ErrorBody)))]
pub async fn roster_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    let region = p.region(&user.actor)?;
    let on = p.date(state.app.today())?;
    let filter = p.filter()?;
    let children: Vec<ExportChild> =
        shouwang_app::exports::roster_on(&state.app, &user.actor, &region, on, ExportKind::Roster)
            .await?
            .into_iter()
            .filter(|c| filter.admits(&c.file, on))
            .collect();
    let heading = Heading::new(&region, on, state.app.today());
    let reveal = user.actor.may(Action::UnmaskIdNumber);
    let unit = heading.unit.clone();
    let bytes = off_the_workers(&state, &user.actor, move || {
        outputs::roster_workbook(&heading, &children, reveal).map_err(|e| e.to_string())
    })
    .await?;
    Ok(download(
        bytes,
        &format!("{unit}农村留守儿童花名册-{on}.xlsx"),
        XLSX,
    ))
}

#[utoipa::path(get, path = "/api/v1/exports/summary", params(SummaryParams),
    responses((status = 200, description = "汇总表 .xlsx (32 columns, cross-checked)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = crate::schema::Binary),
        (status = 404, description = "所指的地区不存在或不在您的管辖范围内", body = crate::error::ErrorBody)))]
pub async fn summary_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    let region = p.region(&user.actor)?;
    let on = p.date(state.app.today())?;
    let summary =
        shouwang_app::exports::summary_table(&state.app, &user.actor, &region, on).await?;
    let heading = Heading::new(&region, on, state.app.today());
    let bytes = outputs::summary_workbook(&heading, &summary)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(download(
        bytes,
        &format!("{}农村留守儿童基本情况汇总表-{on}.xlsx", heading.unit),
        XLSX,
    ))
}

pub(crate) fn printer(
    state: &AppState,
) -> Result<std::sync::Arc<dyn shouwang_exchange::forms::FormPrinter>, AppError> {
    state
        .printer
        .clone()
        .ok_or_else(|| AppError::Internal("no PDF printer configured".into()))
}

/// Forms printed in one file: a town's children fit; a county prints town by town.
pub const MAX_PRINTED_FORMS: usize = 2_000;
/// Large files built at once by the whole server (the cores it has).
const BUILDS_AT_ONCE: usize = 2;

/// Builds a file on a blocking thread, not on the workers that answer everyone's requests; one at
/// a time per user (a second while the first is being built is refused) and
/// [`BUILDS_AT_ONCE`] for the server (the others wait their turn).
pub(crate) async fn off_the_workers<T: Send + 'static>(
    state: &AppState,
    actor: &Actor,
    build: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, AppError> {
    static BUILDS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(BUILDS_AT_ONCE);
    let _mine = state
        .exports
        .begin(&actor.user_id)
        .ok_or(AppError::Conflict {
            field: None,
            message: "您有一份导出文件正在生成，请等它完成后再导出".into(),
        })?;
    let _turn = BUILDS
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(build)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)
}

/// The documents printed from children's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Document {
    /// 登记表 as PDF, one page per child.
    FormPdf,
    /// 登记表 as `.xlsx`, one printed page per child.
    FormXlsx,
    /// 委托监护责任确认书 as PDF (one child).
    Agreement,
}

impl Document {
    fn title(self) -> &'static str {
        match self {
            Document::FormPdf | Document::FormXlsx => "基本情况登记表",
            Document::Agreement => "委托监护责任确认书",
        }
    }

    fn kind(self) -> ExportKind {
        match self {
            Document::FormPdf | Document::FormXlsx => ExportKind::Form,
            Document::Agreement => ExportKind::Agreement,
        }
    }

    /// File extension and content type.
    fn file_type(self) -> (&'static str, &'static str) {
        match self {
            Document::FormXlsx => ("xlsx", XLSX),
            _ => ("pdf", PDF),
        }
    }
}

async fn print_forms(
    state: &AppState,
    actor: &Actor,
    children: Vec<ExportChild>,
    document: Document,
) -> Result<Vec<u8>, AppError> {
    if children.len() > MAX_PRINTED_FORMS {
        return Err(AppError::BadRequest {
            code: "too_many_forms",
            field: Some("region".into()),
            message: format!(
                "共{}名儿童，一个文件最多打印{MAX_PRINTED_FORMS}份登记表：请按乡镇或村分别导出",
                children.len()
            ),
        });
    }
    let today = state.app.today();
    let reveal = actor.may(Action::UnmaskIdNumber);
    // The 确认书 prints the term an agreement signed today is recorded with (the county's).
    let term = shouwang_app::settings::get(&state.app, actor)
        .await
        .map(|(_, s)| s.agreement_term_months)
        .unwrap_or(shouwang_domain::guardianship::DEFAULT_TERM_MONTHS);
    let printer = match document {
        Document::FormXlsx => None,
        _ => Some(printer(state)?),
    };
    off_the_workers(state, actor, move || {
        let forms: Vec<FormHeading<'_>> = children
            .iter()
            .map(|c| FormHeading::of(&c.file, today, reveal).with_agreement_term(term))
            .collect();
        match (document, printer) {
            (Document::FormXlsx, _) => {
                shouwang_exchange::forms::registration_workbook(&forms).map_err(|e| e.to_string())
            }
            (Document::FormPdf, Some(p)) => p.registration_forms(&forms),
            (Document::Agreement, Some(p)) => p.agreement(&forms[0]),
            (_, None) => Err("no PDF printer configured".into()),
        }
    })
    .await
}

/// One child's printed document, as a download named after the child.
async fn child_document(
    state: &AppState,
    user: &CurrentUser,
    id: &ChildId,
    document: Document,
) -> Result<Response, AppError> {
    let child =
        shouwang_app::exports::child_for_form(&state.app, &user.actor, id, document.kind()).await?;
    let name = child.file.name.to_string();
    let bytes = print_forms(state, &user.actor, vec![child], document).await?;
    let (ext, content_type) = document.file_type();
    Ok(download(
        bytes,
        &format!("{name}-{}.{ext}", document.title()),
        content_type,
    ))
}

#[utoipa::path(get, path = "/api/v1/children/{id}/form.pdf", params(("id" = String, Path)),
    responses((status = 200, description = "登记表 PDF", content_type = "application/pdf", body = crate::schema::Binary)))]
pub async fn form_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Response, AppError> {
    child_document(&state, &user, &id, Document::FormPdf).await
}

#[utoipa::path(get, path = "/api/v1/children/{id}/form.xlsx", params(("id" = String, Path)),
    responses((status = 200, description = "登记表 .xlsx (laid out as the printed form)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = crate::schema::Binary)))]
pub async fn form_xlsx_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Response, AppError> {
    child_document(&state, &user, &id, Document::FormXlsx).await
}

#[utoipa::path(get, path = "/api/v1/children/{id}/agreement.pdf", params(("id" = String, Path)),
    responses((status = 200, description = "委托监护责任确认书 PDF", content_type = "application/pdf", body = crate::schema::Binary)))]
pub async fn agreement_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
) -> Result<Response, AppError> {
    child_document(&state, &user, &id, Document::Agreement).await
}

/// Every child of a village (or any region) on the date, one 登记表 per page.
async fn village_forms(
    state: &AppState,
    user: &CurrentUser,
    p: &ExportParams,
    document: Document,
) -> Result<Response, AppError> {
    let region = p.region(&user.actor)?;
    let on = p.date(state.app.today())?;
    let children =
        shouwang_app::exports::roster_on(&state.app, &user.actor, &region, on, ExportKind::Form)
            .await?;
    if children.is_empty() {
        return Err(AppError::NotFound);
    }
    let bytes = print_forms(state, &user.actor, children, document).await?;
    let unit = outputs::unit_name(&region);
    let (ext, content_type) = document.file_type();
    Ok(download(
        bytes,
        &format!("{unit}农村留守儿童基本情况登记表-{on}.{ext}"),
        content_type,
    ))
}

async fn village_forms_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    village_forms(&state, &user, &p, Document::FormPdf).await
}

async fn village_forms_xlsx_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    village_forms(&state, &user, &p, Document::FormXlsx).await
}

#[derive(Template)]
#[template(path = "exports/exports.html")]
struct ExportsPage {
    frame: Frame,
    today: String,
    regions: Vec<(String, String)>,
    can_print: bool,
}

async fn exports_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, PageError> {
    if !user.actor.may(Action::Export) {
        return Err(AppError::Forbidden);
    }
    let own = user.actor.region.clone();
    let mut regions = vec![(own.to_string(), outputs::unit_name(&own))];
    for r in shouwang_app::places::child_regions(&state.app, &own).await? {
        regions.push((r.code.clone(), format!("　{}", r.name)));
    }
    Ok(render(&ExportsPage {
        frame: Frame::of(&state, &user).await,
        today: state.app.today().to_string(),
        regions,
        can_print: state.printer.is_some(),
    }))
}
