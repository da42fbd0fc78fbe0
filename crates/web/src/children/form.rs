//! The registration form (登记表) as a page: values, errors and the choices of every select.

use serde_json::{Map, Value};

use shouwang_domain::authz::Actor;
use shouwang_domain::fields;
use shouwang_domain::input::ChildInput;
use shouwang_domain::person::ETHNICITIES;
use shouwang_domain::region::{Divisions, RegionLevel};
use shouwang_domain::validation::ValidationErrors;

use crate::error::PageError;
use crate::state::AppState;
use crate::ui::{Opt, place_name};

/// The form's values and errors, looked up by field name from the templates.
pub struct FormView {
    values: Map<String, Value>,
    errors: ValidationErrors,
    /// A conflict or duplicate warning shown above the form.
    pub notice: Option<String>,
    pub show_confirm: bool,
    /// The discovery report (发现报告) this registration settles, if it started from the queue.
    pub discovery: Option<String>,
}

impl FormView {
    pub(super) fn new(input: &ChildInput, errors: ValidationErrors) -> FormView {
        let values = match serde_json::to_value(input) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        FormView {
            values,
            errors,
            notice: None,
            show_confirm: false,
            discovery: None,
        }
    }
    pub fn v(&self, name: &str) -> String {
        match self.values.get(name) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        }
    }
    /// For enums: the stored code or the Chinese label both select the option.
    pub fn sel(&self, name: &str, opt: &Opt) -> bool {
        let v = self.v(name);
        v == opt.code || v == opt.label
    }
    pub fn has(&self, name: &str, opt: &Opt) -> bool {
        match self.values.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .any(|i| i.as_str().is_some_and(|s| s == opt.code || s == opt.label)),
            _ => false,
        }
    }
    pub fn yes(&self, name: &str) -> bool {
        shouwang_domain::input::parse_bool(&self.v(name)).unwrap_or(false)
    }
    /// Stated "no" — not blank (for the yes/no questions the file may not know).
    pub fn no(&self, name: &str) -> bool {
        let v = self.v(name);
        !v.trim().is_empty() && shouwang_domain::input::parse_bool(&v) == Some(false)
    }
    pub fn err(&self, name: &str) -> String {
        self.errors.message_for(name).unwrap_or("").to_owned()
    }
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
    pub fn error_count(&self) -> usize {
        self.errors.0.len()
    }
}

pub struct Choices {
    pub ethnicities: Vec<Opt>,
    pub health: Vec<Opt>,
    pub disability_categories: Vec<Opt>,
    pub disability_grades: Vec<Opt>,
    pub schoolings: Vec<Opt>,
    pub kin_statuses: Vec<Opt>,
    pub parent_situations: Vec<Opt>,
    pub incapacities: Vec<Opt>,
    pub relations: Vec<Opt>,
    pub guardianship_types: Vec<Opt>,
    pub income_sources: Vec<Opt>,
    pub assistance: Vec<Opt>,
    pub manual_flags: Vec<Opt>,
    pub villages: Vec<Opt>,
    pub work_places: Vec<Opt>,
    pub sexes: Vec<Opt>,
    pub kin: Vec<KinFields>,
    pub parents: Vec<ParentFields>,
}

impl Choices {
    /// A field's label under its heading on the form (`domain::fields`).
    pub fn short(&self, key: &str) -> &'static str {
        fields::field(key).map_or("", |f| f.short)
    }
    /// A field's label on its own.
    pub fn label(&self, key: &str) -> &'static str {
        fields::field(key).map_or("", |f| f.label)
    }
    /// Whether a file cannot be saved without the field (marked with *).
    pub fn required(&self, key: &str) -> bool {
        fields::field(key).is_some_and(|f| f.required)
    }
    /// A section's title: `child`, `family`, `guardian`, `guardianship`, `support`, `contact`.
    pub fn group(&self, name: &str) -> &'static str {
        fields::Group::ALL
            .iter()
            .find(|g| g.key() == name)
            .map_or("", |g| g.label())
    }
}

/// Field names and labels of one grandparent's inputs.
pub struct KinFields {
    pub status: String,
    pub name: String,
    pub birth: String,
}

/// Field names and labels of one parent's inputs.
pub struct ParentFields {
    pub label: &'static str,
    pub status: String,
    pub name: String,
    pub birth: String,
    pub id: String,
    pub situation: String,
    pub incapacity: String,
    pub work: String,
    pub phone: String,
}

impl Choices {
    pub(super) async fn for_actor(state: &AppState, actor: &Actor) -> Result<Choices, PageError> {
        let villages =
            shouwang_app::places::regions_within(&state.app, &actor.region, RegionLevel::Village)
                .await?
                .into_iter()
                .map(|r| Opt {
                    label: place_name(&r.code),
                    code: r.code,
                })
                .collect();
        Ok(Choices {
            ethnicities: ETHNICITIES
                .iter()
                .enumerate()
                .map(|(i, e)| Opt {
                    code: format!("{:02}", i + 1),
                    label: (*e).to_owned(),
                })
                .collect(),
            health: choice("health"),
            disability_categories: choice("disability_category"),
            disability_grades: choice("disability_grade"),
            schoolings: choice("schooling"),
            kin_statuses: choice("father_status"),
            parent_situations: choice("father_situation"),
            incapacities: choice("father_incapacity"),
            relations: choice("guardian_relation"),
            guardianship_types: choice("guardianship_type"),
            income_sources: choice("income_sources"),
            assistance: choice("assistance"),
            manual_flags: choice("manual_flags"),
            villages,
            work_places: work_places(),
            sexes: vec![
                Opt {
                    code: "男".into(),
                    label: "男".into(),
                },
                Opt {
                    code: "女".into(),
                    label: "女".into(),
                },
            ],
            kin: [
                "paternal_grandfather",
                "paternal_grandmother",
                "maternal_grandfather",
                "maternal_grandmother",
            ]
            .into_iter()
            .map(|k| KinFields {
                status: format!("{k}_status"),
                name: format!("{k}_name"),
                birth: format!("{k}_birth_date"),
            })
            .collect(),
            parents: [("father", "父亲"), ("mother", "母亲")]
                .into_iter()
                .map(|(k, l)| ParentFields {
                    label: l,
                    status: format!("{k}_status"),
                    name: format!("{k}_name"),
                    birth: format!("{k}_birth_date"),
                    id: format!("{k}_id_number"),
                    situation: format!("{k}_situation"),
                    incapacity: format!("{k}_incapacity"),
                    work: format!("{k}_work_place"),
                    phone: format!("{k}_phone"),
                })
                .collect(),
        })
    }
}

/// A choice field's options, from the field catalogue.
fn choice(key: &str) -> Vec<Opt> {
    fields::options(key)
        .iter()
        .map(|(code, label)| Opt {
            code: (*code).to_owned(),
            label: (*label).to_owned(),
        })
        .collect()
}

/// Provinces and prefectures as "省 市" options (附件1 note 7: 务工地点填到省、市).
pub(super) fn work_places() -> Vec<Opt> {
    let t = Divisions::shipped();
    let mut out = Vec::new();
    for p in t.at_level(RegionLevel::Province) {
        let code = shouwang_domain::region::RegionCode::parse(p.code).expect("valid");
        for c in t.children(&code).unwrap_or_default() {
            let label = if matches!(
                c.name,
                "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
            ) {
                p.name.to_owned()
            } else {
                format!("{} {}", p.name, c.name)
            };
            out.push(Opt {
                code: c.code.to_owned(),
                label,
            });
        }
    }
    out
}
