//! The audit log, for the administrators of an area.

use askama::Template;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::Query;
use crate::schema::Items;
use crate::state::AppState;
use crate::ui::{Frame, PageResult, render};
use shouwang_app::audit::AuditEvent;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit_page))
        .route("/api/v1/audit", get(audit_log))
}

#[derive(OpenApi)]
#[openapi(paths(audit_log))]
pub struct ApiDoc;

/// An audit event as a county administrator reads it: China's time, words for the action, the
/// kind of record and the place, and the details as 名称：值 (the API keeps the codes and JSON).
struct AuditLine {
    seq: i64,
    at: String,
    username: String,
    action: String,
    action_label: String,
    entity: String,
    entity_id: Option<String>,
    place: Option<String>,
    detail: String,
}

impl AuditLine {
    fn of(e: shouwang_app::audit::AuditEvent) -> AuditLine {
        AuditLine {
            seq: e.seq,
            at: shouwang_domain::clock::At::parse(&e.at)
                .map_or_else(|| e.at.clone(), |t| t.china_second()),
            username: e.username,
            action: e.action,
            action_label: e.action_label,
            entity: entity_words(&e.entity).to_owned(),
            entity_id: e.entity_id,
            place: e.region_code.as_deref().map(crate::ui::place_name),
            detail: detail_words(&e.detail),
        }
    }
}

/// The kind of record an event is about, in words (a kind not named here as it is recorded, so
/// no two kinds read the same).
fn entity_words(entity: &str) -> &str {
    match entity {
        "child" => "儿童档案",
        "case" => "强制报告个案",
        "report" => "强制报告",
        "user" => "用户账号",
        "session" => "登录",
        "import" => "导入",
        "export" => "导出",
        "visit" => "走访",
        "routing" => "部门转办",
        "return_task" => "劝返",
        "discovery" => "发现报告",
        "quarterly" | "quarterly_report" => "季度报表",
        "reconcile" | "reconcile_run" => "三方比对",
        "agreement" => "委托监护确认书",
        "settings" | "county_settings" => "县级设置",
        "audit" => "审计日志",
        "retention" => "档案保管",
        "region" => "区划",
        "reconcile_item" => "比对条目",
        "agency" => "机构",
        "token" => "接口令牌",
        "county" => "县级设置",
        "child_list" | "roster" => "花名册",
        other => other,
    }
}

/// The details of an event as 名称：值; the keys people meet are named in words, others shown as
/// they are.
fn detail_words(detail: &str) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail)
    else {
        return detail.to_owned();
    };
    let value = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(true) => "是".to_owned(),
        serde_json::Value::Bool(false) => "否".to_owned(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("、"),
        other => other.to_string(),
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = match (k.as_str(), v.as_str()) {
                // What a login still owed: the second factor's step.
                ("second_factor", Some("none")) => "不需要".to_owned(),
                ("second_factor", Some("code")) => "待输入验证码".to_owned(),
                ("second_factor", Some("enrol")) => "待设置".to_owned(),
                ("role", Some(code)) => shouwang_domain::authz::Role::parse(code)
                    .map_or_else(|| code.to_owned(), |r| r.label().to_owned()),
                ("reason", Some(code)) => shouwang_domain::lifecycle::ExitReason::parse(code)
                    .map_or_else(|| code.to_owned(), |r| r.label().to_owned()),
                _ => value(v),
            };
            format!("{}：{v}", key_words(k))
        })
        .collect::<Vec<_>>()
        .join("；")
}

fn key_words(key: &str) -> &str {
    match key {
        "count" => "数量",
        "id_number" | "id_numbers" => "身份证号码",
        "source" => "来源文件",
        "created" => "新增",
        "updated" => "更新",
        "reason" => "原因",
        "at" => "环节",
        "referral" => "转介",
        "fields" => "字段",
        "role" => "角色",
        "region" => "区划",
        "quarter" => "季度",
        "query" | "q" => "查询",
        "page" => "页码",
        "status" => "状态",
        "version" => "版本",
        "ip" => "来源地址",
        "username" => "用户名",
        "date" => "日期",
        "quarter_end" => "季度末",
        "exit_date" => "退出日期",
        "reveal" => "查看完整号码",
        "second_factor" => "两步验证",
        other => other,
    }
}

#[derive(Template)]
#[template(path = "audit/audit.html")]
struct AuditPage {
    frame: Frame,
    items: Vec<AuditLine>,
    username: String,
    action: String,
    /// Every action, for the filter: (code, words).
    actions: &'static [(&'static str, &'static str)],
    next_before: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditQuery {
    username: String,
    action: String,
    before: Option<i64>,
}

async fn audit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let filter = shouwang_app::audit::AuditFilter {
        username: Some(q.username.trim().to_owned()).filter(|s| !s.is_empty()),
        action: Some(q.action.trim().to_owned()).filter(|s| !s.is_empty()),
        entity_id: None,
        before_seq: q.before,
        limit: 100,
    };
    let items = shouwang_app::audit::events(&state.app, &user.actor, &filter).await?;
    let next_before = (items.len() == 100)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(render(&AuditPage {
        frame: Frame::of(&state, &user).await,
        items: items.into_iter().map(AuditLine::of).collect(),
        username: q.username,
        action: q.action,
        actions: shouwang_domain::audit::AuditAction::OPTIONS,
        next_before,
    }))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AuditParams {
    pub username: Option<String>,
    pub action: Option<String>,
    pub entity_id: Option<String>,
    /// Events before this sequence number (the next page).
    pub before: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams), responses((status = 200, description = "events, newest first", body = Items<AuditEvent>)))]
pub async fn audit_log(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<AuditParams>,
) -> Result<Json<Items<AuditEvent>>, AppError> {
    let filter = shouwang_app::audit::AuditFilter {
        username: p.username,
        action: p.action,
        entity_id: p.entity_id,
        before_seq: p.before,
        limit: p.limit.unwrap_or(100),
    };
    Ok(Json(Items {
        items: shouwang_app::audit::events(&state.app, &user.actor, &filter).await?,
    }))
}
