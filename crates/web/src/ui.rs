//! Page machinery every feature uses: the frame around each page (who is logged in, which menu
//! entries they may see), option lists for selects, names of places, downloads and the static
//! files.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use shouwang_domain::authz::{Action, Role};
use shouwang_domain::clock::At;
use shouwang_domain::region::{Divisions, RegionCode};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

pub use crate::render::render;

/// What a page handler returns: a page, or an error that becomes the error page.
pub type PageResult = Result<Response, AppError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(css))
        .route("/static/htmx.min.js", get(htmx))
        .route("/static/offline.js", get(offline_js))
        .route("/static/icon.svg", get(icon))
        .route("/manifest.webmanifest", get(manifest))
        .route("/sw.js", get(service_worker))
        .route("/offline", get(offline_page))
}

// The installable app (issue 15, offline visits): its manifest, its service worker at the root
// (so that it may answer for every page), the offline script and page. Revalidated on every
// load, so that a new version reaches phones at once.
fn revalidated(
    content_type: &'static str,
    body: &'static str,
) -> ([(header::HeaderName, &'static str); 2], &'static str) {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}
async fn offline_js() -> impl IntoResponse {
    revalidated(
        "text/javascript; charset=utf-8",
        include_str!("../static/offline.js"),
    )
}
async fn service_worker() -> impl IntoResponse {
    revalidated(
        "text/javascript; charset=utf-8",
        include_str!("../static/sw.js"),
    )
}
async fn manifest() -> impl IntoResponse {
    revalidated(
        "application/manifest+json; charset=utf-8",
        include_str!("../static/manifest.webmanifest"),
    )
}
async fn icon() -> impl IntoResponse {
    revalidated("image/svg+xml", include_str!("../static/icon.svg"))
}
/// The offline visit page: no personal data in it (the script fills it from the phone's store).
async fn offline_page() -> impl IntoResponse {
    revalidated(
        "text/html; charset=utf-8",
        include_str!("../templates/offline.html"),
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/app.css"),
    )
}
async fn htmx() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=604800"),
        ],
        include_str!("../static/htmx.min.js"),
    )
}

/// What every page's frame needs.
pub struct Frame {
    pub username: String,
    pub role_label: String,
    pub org_name: String,
    pub csrf: String,
    pub can_register: bool,
    pub can_handle_discovery: bool,
    pub can_audit: bool,
    pub can_export: bool,
    pub can_reconcile: bool,
    /// Reads the county's archive of files that left the roster.
    pub can_archive: bool,
    /// A provider organisation's user (agency, school): receives referrals.
    pub is_provider: bool,
    /// Works 比对 items assigned to their unit.
    pub has_reconcile_tasks: bool,
    /// Visits children (the schedule of visits due).
    pub can_visit: bool,
    /// Records pupils' absences (a school).
    pub can_record_absence: bool,
    /// Works on 劝返 (the school, the village, town and county, the education bureau).
    pub can_work_return: bool,
    /// Sends children to the police and the departments, or receives them (部门转办).
    pub can_route: bool,
    /// Keeps the parents' contact log and the 委托监护 records (the village, town and county).
    pub can_keep_contacts: bool,
    /// Reads the roster (not the court, the procuratorate or a department, which see their cases).
    pub can_read_children: bool,
    /// Files a 发现报告.
    pub can_report_discovery: bool,
    /// Prepares, checks or approves quarterly reports (a town and above, the police and the
    /// education bureau who check a town's sections).
    pub can_quarterly: bool,
    /// Reads the register of left-behind elderly people (留守老人).
    pub can_read_elders: bool,
    /// Receives the lists of 留守老人 and 事实无人监护 children without the roster (the county's
    /// 卫计 and 妇联, 龙里 003 五(一)1).
    pub receives_lists: bool,
}

impl Frame {
    pub async fn of(state: &AppState, user: &CurrentUser) -> Frame {
        let a = &user.actor;
        let agency = match &a.agency_id {
            Some(id) => shouwang_app::places::agency_name(&state.app, id)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let receives_lists = shouwang_domain::authz::receives_lists(a.role, agency.as_deref());
        let org_name = agency.unwrap_or_else(|| place_name(a.region.as_str()));
        Frame {
            username: a.username.clone(),
            role_label: a.role.label().to_owned(),
            org_name,
            csrf: user.csrf.clone(),
            can_register: a.may(Action::RegisterChild),
            can_handle_discovery: a.may(Action::HandleDiscovery),
            can_audit: a.may(Action::ReadAudit),
            can_export: a.may(Action::Export),
            can_reconcile: a.may(Action::Reconcile),
            can_archive: a.may(Action::ReadArchive),
            is_provider: a.agency_id.is_some(),
            has_reconcile_tasks: matches!(a.role, Role::Town | Role::School | Role::Police),
            can_visit: a.may(Action::RecordVisit),
            can_record_absence: a.may(Action::RecordAbsence),
            can_work_return: a.may(Action::WorkReturn),
            can_route: a.may(Action::Route) || a.may(Action::HandleRouting),
            can_keep_contacts: a.may(Action::RecordParentContact),
            can_read_children: a.may(Action::ReadChild),
            can_report_discovery: a.may(Action::ReportDiscovery),
            can_quarterly: matches!(
                a.role,
                Role::Town
                    | Role::County
                    | Role::CountyAdmin
                    | Role::Oversight
                    | Role::Police
                    | Role::Education
            ),
            can_read_elders: a.may(Action::ReadElder) || receives_lists,
            receives_lists,
        }
    }
}

/// What a page shows above its form when an action on it was refused: a wrong field (422) or a
/// state that does not allow it (409), with the message; any other error is the error page.
pub fn refusal(e: shouwang_app::Error) -> Result<(StatusCode, String), AppError> {
    match e {
        shouwang_app::Error::Validation(v) => Ok((StatusCode::UNPROCESSABLE_ENTITY, v.summary())),
        shouwang_app::Error::Conflict { message, .. } => Ok((StatusCode::CONFLICT, message)),
        e => Err(e.into()),
    }
}

/// The day of a stored time in China (a time recorded at 01:00 in Beijing is that day, not the
/// day before as its UTC text says); text that is not a time is shown as it is.
pub fn china_day(at: &str) -> String {
    At::parse(at).map_or_else(|| at.to_owned(), |t| t.china_date().to_string())
}

/// A stored time as people in China read it: 2026-11-24T09:30:00.000Z → 2026-11-24 17:30.
pub fn china_time(at: &(impl ChinaTime + ?Sized)) -> String {
    at.china_time()
}

/// A recorded time, as text or as [`At`], shown in China's time to the minute; text that is not
/// a time is shown as it is.
pub trait ChinaTime {
    fn china_time(&self) -> String;
}

impl ChinaTime for At {
    fn china_time(&self) -> String {
        self.china_minute()
    }
}

impl ChinaTime for str {
    fn china_time(&self) -> String {
        At::parse(self).map_or_else(|| self.to_owned(), |t| t.china_minute())
    }
}

impl ChinaTime for String {
    fn china_time(&self) -> String {
        self.as_str().china_time()
    }
}

impl<T: ChinaTime + ?Sized> ChinaTime for &T {
    fn china_time(&self) -> String {
        (**self).china_time()
    }
}

/// A form's field by name, if filled in.
pub fn form_field(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.trim().is_empty())
}

/// "贵州省 黔南州 龙里县 冠山街道" style name of a code, from the shipped table.
pub fn place_name(code: &str) -> String {
    RegionCode::parse(code)
        .ok()
        .and_then(|c| Divisions::shipped().lineage(&c).ok())
        .map(|l| {
            l.iter()
                .skip(if l.len() > 2 { 2 } else { 0 })
                .map(|d| d.name)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| code.to_owned())
}
pub struct Opt {
    pub code: String,
    pub label: String,
}

pub fn opts<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Opt> {
    all.iter()
        .map(|v| Opt {
            code: code(*v).to_owned(),
            label: label(*v).to_owned(),
        })
        .collect()
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PDF: &str = "application/pdf";

/// A file to download, named in UTF-8 (RFC 6266) so Chinese names survive.
pub fn download(bytes: Vec<u8>, filename: &str, content_type: &str) -> Response {
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"export\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Template filters every page may use (`use crate::ui::filters;` beside a template).
pub mod filters {
    /// `{{ at|china_day }}`: the day of a stored time in China.
    pub fn china_day<T: std::fmt::Display>(
        at: T,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        Ok(super::china_day(&at.to_string()))
    }
}
