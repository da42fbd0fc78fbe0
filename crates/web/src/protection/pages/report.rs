//! The report form: a mandatory report filed from the page.

use super::*;
use crate::auth::CheckedForm;
use shouwang_domain::ids::ChildId;

#[derive(Template)]
#[template(path = "protection/new.html")]
struct NewReportPage {
    frame: Frame,
    /// A registered child chosen from their file: (id, name).
    child: Option<(String, String)>,
    villages: Vec<Opt>,
    situations: Vec<Opt>,
    severities: Vec<Opt>,
    values: ReportInput,
    errors: ValidationErrors,
}

impl NewReportPage {
    fn err(&self, f: &str) -> String {
        self.errors.message_for(f).unwrap_or("").to_owned()
    }
    fn child_v(&self, f: &str) -> String {
        let c = self.values.child.clone().unwrap_or_default();
        match f {
            "name" => c.name,
            "sex" => c.sex,
            "birth_date" => c.birth_date,
            "village_code" => c.village_code,
            _ => None,
        }
        .unwrap_or_default()
    }
    fn v(&self, f: &str) -> String {
        match f {
            "description" => self.values.description.clone(),
            "severity" => self.values.severity.clone(),
            "place" => self.values.place.clone(),
            "reporter_phone" => self.values.reporter_phone.clone(),
            _ => None,
        }
        .unwrap_or_default()
    }
    fn checked(&self, code: &str) -> bool {
        self.values.situations.iter().any(|s| s == code)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewParams {
    child_id: Option<String>,
    /// A visit that found a situation to report: its note and place fill the form.
    visit_id: Option<String>,
}

async fn new_view(
    state: &AppState,
    user: &CurrentUser,
    child_id: Option<&str>,
    values: ReportInput,
    errors: ValidationErrors,
) -> PageResult {
    if !shouwang_domain::protection::may_report(user.actor.role) {
        return Err(AppError::Forbidden);
    }
    let child = match child_id.filter(|c| !c.is_empty()) {
        Some(id) => {
            let row = shouwang_app::children::visible(&state.app, &user.actor, &ChildId::from(id))
                .await?;
            Some((row.id.into_string(), row.file.name.as_str().to_owned()))
        }
        None => None,
    };
    let county = user
        .actor
        .region
        .at_level(RegionLevel::County)
        .unwrap_or_else(|| user.actor.region.clone());
    let mut villages: Vec<Opt> =
        shouwang_app::places::regions_within(&state.app, &county, RegionLevel::Village)
            .await?
            .into_iter()
            .map(|r| Opt {
                label: place_name(&r.code),
                code: r.code,
            })
            .collect();
    // The reporter's own villages first.
    villages.sort_by_key(|v| !v.code.starts_with(user.actor.region.as_str()));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&NewReportPage {
            frame: Frame::of(state, user).await,
            child,
            villages,
            situations: opts(Situation::ALL, Situation::code, Situation::label),
            severities: opts(Severity::ALL, Severity::code, Severity::label),
            values,
            errors,
        }),
    )
        .into_response())
}

pub async fn new_report_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<NewParams>,
) -> PageResult {
    let mut values = ReportInput::default();
    if user.actor.region.level() == RegionLevel::Village {
        values.child = Some(NewChildInput {
            village_code: Some(user.actor.region.to_string()),
            ..Default::default()
        });
    }
    if let (Some(child), Some(visit)) = (p.child_id.as_deref(), p.visit_id.as_deref()) {
        // A visit that is not this child's (or not the user's to see) fills nothing.
        let visit = shouwang_domain::ids::VisitId::from(visit);
        match shouwang_app::visits::one(&state.app, &user.actor, &ChildId::from(child), &visit)
            .await
        {
            Ok(v) => {
                values.description = Some(format!(
                    "{}走访发现：{}",
                    v.record.visited_on,
                    v.record.note.unwrap_or_default()
                ));
                values.place = v.record.place;
            }
            Err(shouwang_app::Error::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    new_view(
        &state,
        &user,
        p.child_id.as_deref(),
        values,
        ValidationErrors::default(),
    )
    .await
}

pub async fn new_report_submit(
    State(state): State<AppState>,
    CheckedForm(user, pairs): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| field(&pairs, k);
    let child_id = get("child_id");
    let input = ReportInput {
        child: child_id.is_none().then(|| NewChildInput {
            name: get("child.name"),
            sex: get("child.sex"),
            birth_date: get("child.birth_date"),
            village_code: get("child.village_code"),
        }),
        child_id: child_id.clone(),
        situations: pairs
            .iter()
            .filter(|(k, _)| k == "situations")
            .map(|(_, v)| v.clone())
            .collect(),
        description: get("description"),
        severity: get("severity"),
        place: get("place"),
        // The phone's local time (China) as the form sends it: 2026-11-24T09:30.
        discovered_at: get("discovered_at").map(|t| {
            if t.len() == 16 {
                format!("{t}:00+08:00")
            } else {
                t
            }
        }),
        reporter_phone: get("reporter_phone"),
    };
    match cases::file(&state.app, &user.actor, &input).await {
        Ok(filed) => Ok(Redirect::to(&format!("/cases/{}?filed=1", filed.case_id)).into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            new_view(&state, &user, child_id.as_deref(), input, v).await
        }
        Err(e) => Err(e.into()),
    }
}
