//! The visits' pages: a child's visits and contact log with the forms a phone fills in, and the
//! schedule of children due and overdue.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use shouwang_app::guardianship::ContactLog;
use shouwang_app::visits::VisitView;
use shouwang_app::visits::{self, Schedule};
use shouwang_domain::authz::{Action, Role};
use shouwang_domain::guardianship::{ContactInput, ContactMethod, Parent};
use shouwang_domain::ids::ChildId;
use shouwang_domain::validation::ValidationErrors;
use shouwang_domain::visits::{
    Condition, DueState, Seen, VisitInput, VisitMethod, VisitorRole, form_bool,
};

use crate::auth::{CheckedForm, CurrentUser};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::ui::{Frame, Opt, PageResult, opts, place_name, render};

use super::api::ScheduleParams;

#[derive(Template)]
#[template(path = "visits/child.html")]
struct ChildVisitsPage {
    frame: Frame,
    child_id: String,
    child_name: String,
    village: String,
    visits: Vec<VisitView>,
    log: ContactLog,
    can_visit: bool,
    can_contact: bool,
    methods: Vec<Opt>,
    roles: Vec<Opt>,
    seen: Vec<Opt>,
    conditions: Vec<Opt>,
    parents: Vec<Opt>,
    contact_methods: Vec<Opt>,
    today: String,
    values: VisitInput,
    errors: ValidationErrors,
    contact_errors: ValidationErrors,
    contact_values: Vec<(String, String)>,
    notice: Option<String>,
    /// The person the child's visits are assigned to (else the village's 儿童主任).
    visitor: Option<(String, VisitorRole)>,
    can_assign: bool,
    photos: Vec<shouwang_app::visits::VisitPhoto>,
    photo_error: Option<String>,
}

impl ChildVisitsPage {
    fn photos_of(&self, visit: &str) -> Vec<&shouwang_app::visits::VisitPhoto> {
        self.photos.iter().filter(|p| p.visit_id == visit).collect()
    }
    fn photo_room(&self, visit: &str) -> bool {
        (self.photos_of(visit).len() as i64) < visits::MAX_PHOTOS_PER_VISIT
    }
    fn err(&self, f: &str) -> String {
        self.errors.message_for(f).unwrap_or_default().to_owned()
    }
    /// Said where the contact form is (the page comes back at that section).
    fn contact_saved(&self) -> &'static str {
        CONTACT_SAVED
    }
    /// What was typed in the parents' contact form (its date defaults to today).
    fn cv(&self, f: &str) -> String {
        crate::ui::form_field(&self.contact_values, f).unwrap_or_else(|| match f {
            "contacted_on" => self.today.clone(),
            _ => String::new(),
        })
    }
    fn cerr(&self, f: &str) -> String {
        self.contact_errors
            .message_for(f)
            .unwrap_or_default()
            .to_owned()
    }
    fn v(&self, f: &str) -> String {
        let v = &self.values;
        match f {
            "visited_on" => v.visited_on.clone(),
            "method" => v.method.clone(),
            "visitor_role" => v.visitor_role.clone(),
            "visitor_name" => v.visitor_name.clone(),
            "place" => v.place.clone(),
            "condition" => v.condition.clone(),
            "note" => v.note.clone(),
            "case_id" => v.case_id.clone(),
            _ => None,
        }
        .unwrap_or_default()
    }
    fn saw(&self, code: &str) -> bool {
        self.values.seen.iter().flatten().any(|s| s == code)
    }
    fn seen_labels(&self, v: &VisitView) -> String {
        v.record
            .seen
            .iter()
            .map(|s| s.label())
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// The visitor a role usually is.
fn usual_visitor(role: Role) -> VisitorRole {
    match role {
        Role::Village => VisitorRole::ChildDirector,
        Role::Town => VisitorRole::Supervisor,
        Role::School => VisitorRole::Teacher,
        Role::Agency => VisitorRole::SocialWorker,
        _ => VisitorRole::Other,
    }
}

const CONTACT_SAVED: &str = "联系情况已记录。";

/// The parents' contact form as it was sent back: what was wrong and what was typed.
#[derive(Default)]
struct ContactForm {
    errors: ValidationErrors,
    values: Vec<(String, String)>,
}

impl From<ValidationErrors> for ContactForm {
    fn from(errors: ValidationErrors) -> Self {
        ContactForm {
            errors,
            values: Vec::new(),
        }
    }
}

async fn child_view(
    state: &AppState,
    user: &CurrentUser,
    id: &ChildId,
    values: Option<VisitInput>,
    errors: ValidationErrors,
    contact: impl Into<ContactForm>,
    notice: Option<String>,
) -> PageResult {
    let ContactForm {
        errors: contact_errors,
        values: contact_values,
    } = contact.into();
    let child = shouwang_app::children::visible(&state.app, &user.actor, id).await?;
    let visits = visits::of_child(&state.app, &user.actor, id).await?;
    let log = shouwang_app::guardianship::contacts(&state.app, &user.actor, id).await?;
    let values = match values {
        Some(v) => v,
        None => VisitInput {
            visited_on: Some(state.app.today().to_string()),
            // How the visit was made is the visitor's to say: the form starts blank.
            method: None,
            visitor_role: Some(usual_visitor(user.actor.role).code().to_owned()),
            visitor_name: shouwang_app::users::display_name(&state.app, &user.actor.user_id)
                .await?,
            ..Default::default()
        },
    };
    let photo_error = contact_errors.message_for("photo").map(ToOwned::to_owned);
    let status = if errors.is_empty() && contact_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&ChildVisitsPage {
            frame: Frame::of(state, user).await,
            child_id: child.id.to_string(),
            child_name: child.file.name.as_str().to_owned(),
            village: place_name(child.file.village_code.as_str()),
            visits,
            log,
            can_visit: user.actor.may(Action::RecordVisit),
            can_contact: user.actor.may(Action::RecordParentContact),
            methods: opts(VisitMethod::ALL, VisitMethod::code, VisitMethod::label),
            roles: opts(VisitorRole::ALL, VisitorRole::code, VisitorRole::label),
            seen: opts(Seen::ALL, Seen::code, Seen::label),
            // The form always asks: 未说明 is for records sent without an assessment.
            conditions: opts(Condition::ALL, Condition::code, Condition::label)
                .into_iter()
                .filter(|o| o.code != Condition::Unstated.code())
                .collect(),
            parents: opts(Parent::ALL, Parent::code, Parent::label),
            contact_methods: opts(
                ContactMethod::ALL,
                ContactMethod::code,
                ContactMethod::label,
            ),
            today: state.app.today().to_string(),
            values,
            errors,
            contact_errors,
            contact_values,
            notice,
            visitor: visits::assigned_visitor(&state.app, &user.actor, id).await?,
            can_assign: user.actor.may(Action::EditChild),
            photos: visits::photos(&state.app, &user.actor, id).await?,
            photo_error,
        }),
    )
        .into_response())
}

/// Assigns the child's visits to a named person (or back to the 儿童主任, with an empty name).
pub async fn visitor_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    let input = shouwang_domain::visits::VisitorAssignment {
        name: get("visitor_assignee"),
        role: get("visitor_assignee_role"),
    };
    match visits::assign_visitor(&state.app, &user.actor, &id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/children/{id}/visits?saved=visitor")).into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            child_view(
                &state,
                &user,
                &id,
                None,
                v,
                ValidationErrors::default(),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChildParams {
    saved: Option<String>,
}

pub async fn child_visits_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<ChildId>,
    Query(p): Query<ChildParams>,
) -> PageResult {
    let notice = match p.saved.as_deref() {
        Some("visit") => Some("走访记录已保存。".to_owned()),
        Some("contact") => Some(CONTACT_SAVED.to_owned()),
        Some("visitor") => Some("走访人已指定。".to_owned()),
        Some("photo") => Some("照片已保存。".to_owned()),
        _ => None,
    };
    child_view(
        &state,
        &user,
        &id,
        None,
        ValidationErrors::default(),
        ValidationErrors::default(),
        notice,
    )
    .await
}

use crate::ui::form_field as field;

pub async fn visit_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    let input = VisitInput {
        visited_on: get("visited_on"),
        method: get("method"),
        visitor_role: get("visitor_role"),
        visitor_name: get("visitor_name"),
        place: get("place"),
        latitude: None,
        longitude: None,
        seen: Some(
            pairs
                .iter()
                .filter(|(k, _)| k == "seen")
                .map(|(_, v)| v.clone())
                .collect(),
        ),
        condition: get("condition"),
        note: get("note"),
        no_change: Some(form_bool(get("no_change").as_deref())),
        reportable: Some(form_bool(get("reportable").as_deref())),
        case_id: get("case_id"),
        client_key: get("client_key"),
    };
    match visits::record(&state.app, &user.actor, &id, &input).await {
        Ok(r) if r.visit.record.reportable => Ok(Redirect::to(&format!(
            "/reports/new?child_id={id}&visit_id={}",
            r.visit.id
        ))
        .into_response()),
        Ok(r) => Ok(match r.visit.case_id {
            Some(case) => Redirect::to(&format!("/cases/{case}")),
            None => Redirect::to(&format!("/children/{id}/visits?saved=visit")),
        }
        .into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            child_view(
                &state,
                &user,
                &id,
                Some(input),
                v,
                ValidationErrors::default(),
                None,
            )
            .await
        }
        Err(shouwang_app::Error::Conflict { message, field }) => {
            child_view(
                &state,
                &user,
                &id,
                Some(input),
                ValidationErrors::single(field.as_deref().unwrap_or("case_id"), message),
                ValidationErrors::default(),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn contact_submit(
    State(state): State<AppState>,
    Path(id): Path<ChildId>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    let input = ContactInput {
        contacted_on: get("contacted_on"),
        parent: get("parent"),
        method: get("contact_method"),
        // The form asks "联系上了吗" and starts blank: a blank is not "reached".
        reached: match get("reached").as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
        support: Some(form_bool(get("support").as_deref())),
        note: get("contact_note"),
    };
    match shouwang_app::guardianship::record_contact(&state.app, &user.actor, &id, &input).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/children/{id}/visits?saved=contact#parents")).into_response(),
        ),
        Err(shouwang_app::Error::Validation(v)) => {
            child_view(
                &state,
                &user,
                &id,
                None,
                ValidationErrors::default(),
                ContactForm {
                    errors: v,
                    values: pairs,
                },
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "visits/schedule.html")]
struct SchedulePage {
    frame: Frame,
    s: Schedule,
    lapsed: Vec<shouwang_app::guardianship::Lapsed>,
    state: String,
    place: String,
    pages: usize,
    /// The area chosen ("" for the user's own), kept by the page's links.
    region: String,
    /// Above a county: the units below to choose from.
    units: Vec<shouwang_app::places::Region>,
}

impl SchedulePage {
    fn place(&self, code: &str) -> String {
        place_name(code)
    }
    fn state_label(&self, s: &DueState) -> &'static str {
        s.label()
    }
}

pub async fn schedule_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ScheduleParams>,
) -> PageResult {
    let q = p.query()?;
    let area = q
        .region
        .clone()
        .unwrap_or_else(|| user.actor.region.clone());
    let (s, lapsed, units) = if visits::schedule_too_wide(&user.actor, q.region.as_ref()) {
        // Above a county: the units below to choose from, each a link to its schedule.
        let units = shouwang_app::places::child_regions(&state.app, &area).await?;
        let empty = Schedule {
            counts: Default::default(),
            items: vec![],
            total: 0,
            page: 1,
            per_page: 1,
        };
        (empty, vec![], units)
    } else {
        let s = visits::schedule(&state.app, &user.actor, &q).await?;
        (
            s,
            shouwang_app::guardianship::lapsed(&state.app, &user.actor).await?,
            vec![],
        )
    };
    let pages = s.total.div_ceil(s.per_page).max(1);
    Ok(render(&SchedulePage {
        lapsed,
        frame: Frame::of(&state, &user).await,
        place: place_name(area.as_str()),
        region: q.region.map(|r| r.as_str().to_owned()).unwrap_or_default(),
        state: q.state.map(|s| s.code().to_owned()).unwrap_or_default(),
        s,
        pages,
        units,
    }))
}

/// A photo added to a visit from the page (a phone's camera).
pub async fn photo_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(p): Path<super::api::VisitPath>,
    multipart: crate::extract::Multipart,
) -> PageResult {
    let (fields, upload) = crate::extract::upload_form_within(
        multipart,
        shouwang_domain::protection::MAX_EVIDENCE_BYTES,
    )
    .await?;
    user.check_csrf(fields.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let (id, visit) = (p.child(), p.visit());
    let r = match upload.filter(|(_, b)| !b.is_empty()) {
        None => Err(ValidationErrors::single("photo", "请选择或拍摄一张照片").into()),
        Some((_, bytes)) => visits::add_photo(&state.app, &user.actor, id, visit, &bytes).await,
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/children/{id}/visits?saved=photo")).into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            child_view(
                &state,
                &user,
                id,
                None,
                ValidationErrors::default(),
                v,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
