//! Printed forms as PDF: 《农村留守儿童基本情况登记表》 (one child or a whole village in one file)
//! and 《农村留守儿童委托监护责任确认书》, typeset by typst with Noto Serif CJK SC embedded.
//!
//! This crate stands apart so typst, a large dependency tree, stays out of the other crates'
//! builds. The fonts are read once at start-up from Debian's `fonts-noto-cjk`; a missing font is
//! an error at start-up that names the file, not a blank PDF later.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::{Value, json};
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;

use shouwang_domain::child::*;
use shouwang_domain::eligibility::sixteenth_birthday;
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::region::{RegionCode, RegionLevel};
pub use shouwang_exchange::forms::{FormHeading, FormPrinter};

/// Where Debian's `fonts-noto-cjk` puts the fonts.
pub const DEFAULT_FONT_DIR: &str = "/usr/share/fonts/opentype/noto";
const FONT_FILES: [&str; 2] = ["NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc"];

const COMMON: &str = include_str!("../templates/common.typ");
const REGISTRATION: &str = include_str!("../templates/registration.typ");
const AGREEMENT: &str = include_str!("../templates/agreement.typ");

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(
        "找不到打印所需的中文字体文件 {0}：请安装 Debian 软件包 fonts-noto-cjk（apt-get install fonts-noto-cjk），或用 --font-dir 指定字体目录"
    )]
    FontMissing(PathBuf),
    #[error("排版失败：{0}")]
    Typeset(String),
}

/// The typesetter, with its fonts loaded. Cheap to share; build once at start-up.
pub struct Printer {
    engine: TypstEngine,
}

impl Printer {
    /// Loads the fonts from a directory holding `NotoSerifCJK-Regular.ttc` and `-Bold.ttc`.
    pub fn load(font_dir: &Path) -> Result<Printer, PrintError> {
        let mut fonts = Vec::new();
        for name in FONT_FILES {
            let path = font_dir.join(name);
            let bytes = std::fs::read(&path).map_err(|_| PrintError::FontMissing(path))?;
            fonts.push(typst::text::Font::iter(typst::foundations::Bytes::new(
                bytes,
            )));
        }
        let fonts: Vec<typst::text::Font> = fonts.into_iter().flatten().collect();
        let engine = TypstEngine::builder()
            .fonts(fonts)
            .with_static_source_file_resolver([
                ("common.typ", COMMON),
                ("registration.typ", REGISTRATION),
                ("agreement.typ", AGREEMENT),
            ])
            .build();
        Ok(Printer { engine })
    }

    fn render(&self, template: &str, data: &Value) -> Result<Vec<u8>, PrintError> {
        let mut inputs = Dict::new();
        inputs.insert("data".into(), data.to_string().into_value());
        let doc: PagedDocument = self
            .engine
            .compile_with_input(template, inputs)
            .output
            .map_err(|e| PrintError::Typeset(format!("{e:?}")))?;
        typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
            .map_err(|e| PrintError::Typeset(format!("{e:?}")))
    }
}

impl FormPrinter for Printer {
    fn registration_forms(&self, forms: &[FormHeading<'_>]) -> Result<Vec<u8>, String> {
        let data: Vec<Value> = forms.iter().map(registration_data).collect();
        self.render("registration.typ", &Value::Array(data))
            .map_err(|e| e.to_string())
    }

    fn agreement(&self, form: &FormHeading<'_>) -> Result<Vec<u8>, String> {
        self.render("agreement.typ", &agreement_data(form))
            .map_err(|e| e.to_string())
    }
}

use shouwang_exchange::outputs::cn_date;

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(cn_date).unwrap_or_default()
}

fn place(code: &RegionCode) -> String {
    shouwang_exchange::outputs::place_name(code)
}

fn id_text(id: &Option<IdNumber>, reveal: bool) -> String {
    id.as_ref()
        .map(|n| {
            if reveal {
                n.as_str().to_owned()
            } else {
                n.masked()
            }
        })
        .unwrap_or_default()
}

fn ticks<T: Copy + PartialEq>(
    all: &[T],
    label: fn(T) -> &'static str,
    on: impl Fn(T) -> bool,
) -> Value {
    Value::Array(all.iter().map(|v| json!([label(*v), on(*v)])).collect())
}

fn yes_no(v: bool) -> Value {
    json!([["是", v], ["否", !v]])
}

/// 附件1 note 4: a deceased relative's fields carry "—".
fn kin_row(
    role: &str,
    status: KinStatus,
    name: &Option<shouwang_domain::person::PersonName>,
    birth: Option<NaiveDate>,
) -> Value {
    if status == KinStatus::Deceased {
        return json!({"role": role, "name": "—", "birth_date": "—", "work_place": "—", "phone": "—"});
    }
    json!({
        "role": role,
        "name": name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        "birth_date": opt_date(birth),
        "work_place": "",
        "phone": "",
    })
}

fn parent_row(role: &str, p: &Parent) -> Value {
    let mut v = kin_row(role, p.status, &p.name, p.birth_date);
    if p.status != KinStatus::Deceased {
        v["work_place"] = json!(p.work_place.as_ref().map(place).unwrap_or_default());
        v["phone"] = json!(
            p.phone
                .as_ref()
                .map(|x| x.as_str().to_owned())
                .unwrap_or_default()
        );
    }
    v
}

fn registration_data(h: &FormHeading<'_>) -> Value {
    let f = h.file;
    let g = f.entrusted_guardian.as_ref();
    let actual = f.actual_guardianship();
    let unable = match actual {
        ActualGuardianship::OneAwayOtherUnable(w) => Some(w),
        _ => None,
    };
    let health_detail = match f.health.status {
        HealthStatus::Disabled => format!(
            "{}{}",
            f.health.disability_category.map_or("", |c| c.label()),
            f.health.disability_grade.map_or("", |g| g.label())
        ),
        HealthStatus::Ill => f.health.illness.clone().unwrap_or_default(),
        HealthStatus::Healthy => String::new(),
    };
    json!({
        "unit": h.unit,
        "filled": cn_date(h.filled),
        "name": f.name.to_string(),
        "sex": ticks(&[shouwang_domain::person::Sex::Male, shouwang_domain::person::Sex::Female], |s| s.label(), |s| s == f.sex),
        "ethnicity": f.ethnicity.label(),
        "birth_date": cn_date(f.birth_date),
        "id_number": id_text(&f.id_number, h.reveal_ids),
        "hukou_registered": yes_no(f.hukou_registered),
        "hukou_place": f.hukou_place.clone().unwrap_or_default(),
        "residence": format!("{}{}", place(&f.village_code), f.residence_address.clone().unwrap_or_default()),
        "health": ticks(HealthStatus::ALL, HealthStatus::label, |s| s == f.health.status),
        "health_detail": health_detail,
        "boarding": yes_no(f.boarding),
        "school_name": f.school_name.clone().unwrap_or_default(),
        "schooling": ticks(Schooling::ALL, Schooling::label, |s| s == f.schooling),
        "family": [
            kin_row("祖父", f.paternal_grandfather.status, &f.paternal_grandfather.name, f.paternal_grandfather.birth_date),
            kin_row("祖母", f.paternal_grandmother.status, &f.paternal_grandmother.name, f.paternal_grandmother.birth_date),
            kin_row("外祖父", f.maternal_grandfather.status, &f.maternal_grandfather.name, f.maternal_grandfather.birth_date),
            kin_row("外祖母", f.maternal_grandmother.status, &f.maternal_grandmother.name, f.maternal_grandmother.birth_date),
            parent_row("父亲", &f.father),
            parent_row("母亲", &f.mother),
        ],
        "father_id": id_text(&f.father.id_number, h.reveal_ids),
        "mother_id": id_text(&f.mother.id_number, h.reveal_ids),
        "both_away": yes_no(actual == ActualGuardianship::BothAway),
        "one_away": yes_no(unable.is_some()),
        "incapable": ticks(WhichParent::ALL, WhichParent::label, |w| Some(w) == unable),
        "entrusted": json!([["有", g.is_some()], ["无", g.is_none()]]),
        "guardian": {
            "name": g.map(|g| g.name.to_string()).unwrap_or_default(),
            "phone": g.and_then(|g| g.phone.as_ref().map(|p| p.as_str().to_owned())).unwrap_or_default(),
            "id": g.map(|g| id_text(&g.id_number, h.reveal_ids)).unwrap_or_default(),
            "relation": g.map(|g| g.relation.label()).unwrap_or_default(),
            "address": g.and_then(|g| g.address.clone()).unwrap_or_default(),
        },
        "guardianship_type": ticks(GuardianshipType::ALL, GuardianshipType::label, |t| t == f.guardianship_type),
        "assessment": ticks(GuardianshipAssessment::ALL, GuardianshipAssessment::label, |a| a == f.assessment()),
        "income": ticks(IncomeSource::ALL, IncomeSource::label, |s| f.income_sources.contains(&s)),
        "assistance": ticks(Assistance::ALL, Assistance::label, |s| f.assistance.contains(&s)),
        "contact_name": f.contact.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        "contact_phone": f.contact.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
    })
}

fn agreement_data(h: &FormHeading<'_>) -> Value {
    let f = h.file;
    let parent = |p: &Parent| {
        if p.status == KinStatus::Deceased {
            return json!({"name": "—", "id": "—", "work_place": "—", "phone": "—"});
        }
        json!({
            "name": p.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
            "id": id_text(&p.id_number, h.reveal_ids),
            "work_place": p.work_place.as_ref().map(place).unwrap_or_default(),
            "phone": p.phone.as_ref().map(|x| x.as_str().to_owned()).unwrap_or_default(),
        })
    };
    let g = f.entrusted_guardian.as_ref();
    let village = f
        .village_code
        .at_level(RegionLevel::Village)
        .map(|v| place(&v))
        .unwrap_or_default();
    json!({
        "father": parent(&f.father),
        "mother": parent(&f.mother),
        "guardian": {
            "name": g.map(|g| g.name.to_string()).unwrap_or_default(),
            "relation": g.map(|g| g.relation.label()).unwrap_or_default(),
            "phone": g.and_then(|g| g.phone.as_ref().map(|p| p.as_str().to_owned())).unwrap_or_default(),
            "id": g.map(|g| id_text(&g.id_number, h.reveal_ids)).unwrap_or_default(),
            "address": g.and_then(|g| g.address.clone()).unwrap_or_default(),
        },
        "child": {
            "name": f.name.to_string(),
            "sex": f.sex.label(),
            "birth_date": cn_date(f.birth_date),
            "id": id_text(&f.id_number, h.reveal_ids),
            "school": f.school_name.clone().unwrap_or_default(),
            "address": format!("{village}{}", f.residence_address.clone().unwrap_or_default()),
        },
        "village": village,
        "contact_name": f.contact.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        "contact_phone": f.contact.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        "term_from": cn_date(h.filled),
        "term_to": cn_date(sixteenth_birthday(f.birth_date)),
    })
}
