//! Printed forms (PDF) as the rest of the system sees them: what a form is printed from, and the
//! printer that turns it into a PDF. The printer itself lives in `shouwang-print` (typst), handed
//! to the web server and the CLI at start-up, so neither this crate nor the web crate builds it.

use chrono::NaiveDate;
use serde_json::{Value, json};

use shouwang_domain::child::*;
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::region::{RegionCode, RegionLevel};

use crate::outputs::cn_date;

/// A child's file with what the printed form needs around it.
pub struct FormHeading<'a> {
    pub file: &'a ChildFile,
    /// 填报单位.
    pub unit: String,
    pub filled: NaiveDate,
    /// Whether ID numbers print in full (roles that may see them) or masked.
    pub reveal_ids: bool,
    /// The county's agreement term in months (`CountySettings::agreement_term_months`): the
    /// 确认书's 委托期限 is the one an agreement signed that day is recorded with.
    pub agreement_term_months: u32,
}

impl<'a> FormHeading<'a> {
    /// With the county's agreement term (see [`FormHeading::agreement_term_months`]).
    pub fn with_agreement_term(mut self, months: u32) -> Self {
        self.agreement_term_months = months;
        self
    }

    /// The form of a child's file as its village fills it in (填报单位 = the village's full name).
    pub fn of(file: &'a ChildFile, filled: NaiveDate, reveal_ids: bool) -> FormHeading<'a> {
        FormHeading {
            file,
            unit: crate::outputs::unit_name(&file.village_code),
            filled,
            reveal_ids,
            agreement_term_months: shouwang_domain::guardianship::DEFAULT_TERM_MONTHS,
        }
    }
}

/// Turns forms into PDF.
pub trait FormPrinter: Send + Sync {
    /// 《农村留守儿童基本情况登记表》, one child per page, in one PDF.
    fn registration_forms(&self, forms: &[FormHeading<'_>]) -> Result<Vec<u8>, String>;
    /// 《农村留守儿童委托监护责任确认书》 for one child.
    fn agreement(&self, form: &FormHeading<'_>) -> Result<Vec<u8>, String>;
    /// A printed table (the 定期通报's ranking…): a title, a line under it, the header and rows.
    fn table(&self, doc: &PrintedTable) -> Result<Vec<u8>, String>;
    /// 《农村留守老人基本情况登记表》 (龙里 003 附件7) of one elder, from
    /// [`crate::elders::elder_form_data`].
    fn elder_form(&self, data: &Value) -> Result<Vec<u8>, String>;
}

/// A table to print on landscape A4, its header repeated on every page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PrintedTable {
    pub title: String,
    pub subtitle: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Lines under the table (what the figures mean, who issued it).
    pub notes: Vec<String>,
}

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(cn_date).unwrap_or_default()
}

fn place(code: &RegionCode) -> String {
    crate::outputs::place_name(code)
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

/// A yes/no the file may not know: neither box ticked, as on a paper form left blank.
fn yes_no_unknown(v: Option<bool>) -> Value {
    json!([["是", v == Some(true)], ["否", v == Some(false)]])
}

/// The 2016 form's five 救助帮扶 boxes (附件1): 特困供养 has no box of its own and is ticked as
/// 其他救助.
fn assistance_boxes(f: &ChildFile) -> Value {
    const BOXES: [Assistance; 5] = [
        Assistance::Dibao,
        Assistance::TemporaryAid,
        Assistance::MedicalAid,
        Assistance::HousingAid,
        Assistance::Other,
    ];
    ticks(&BOXES, Assistance::label, |s| {
        f.assistance.contains(&s)
            || (s == Assistance::Other && f.assistance.contains(&Assistance::ExtremePoverty))
    })
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

/// What 《农村留守儿童基本情况登记表》 shows for a child (民发〔2016〕42号 附件1): texts, and tick
/// boxes as `[label, ticked]` pairs. The PDF template and the `.xlsx` form both lay out this.
pub fn registration_data(h: &FormHeading<'_>) -> Value {
    let f = h.file;
    let g = f.entrusted_guardian.as_ref();
    let actual = f.actual_guardianship();
    let unable = match actual {
        ActualGuardianship::OneAwayOtherUnable(w) => Some(w),
        _ => None,
    };
    let health_detail = match f.health.status {
        Some(HealthStatus::Disabled) => format!(
            "{}{}",
            f.health.disability_category.map_or("", |c| c.label()),
            f.health.disability_grade.map_or("", |g| g.label())
        ),
        Some(HealthStatus::Ill) => f.health.illness.clone().unwrap_or_default(),
        Some(HealthStatus::Healthy) | None => String::new(),
    };
    json!({
        "unit": h.unit,
        "filled": cn_date(h.filled),
        "name": f.name.to_string(),
        "sex": ticks(&[shouwang_domain::person::Sex::Male, shouwang_domain::person::Sex::Female], |s| s.label(), |s| s == f.sex),
        "ethnicity": f.ethnicity.map(|e| e.label()).unwrap_or_default(),
        "birth_date": cn_date(f.birth_date),
        "id_number": id_text(&f.id_number, h.reveal_ids),
        "hukou_registered": yes_no_unknown(f.hukou_registered),
        "hukou_place": f.hukou_place.clone().unwrap_or_default(),
        "residence": format!("{}{}", place(&f.village_code), f.residence_address.clone().unwrap_or_default()),
        "health": ticks(HealthStatus::ALL, HealthStatus::label, |s| Some(s) == f.health.status),
        "health_detail": health_detail,
        "boarding": yes_no_unknown(f.boarding),
        "school_name": f.school_name.clone().unwrap_or_default(),
        "schooling": ticks(Schooling::ALL, Schooling::label, |s| Some(s) == f.schooling),
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
        // Not ticked either way when nobody said.
        "entrusted": json!([["有", f.entrusted() == Some(true)], ["无", f.entrusted() == Some(false)]]),
        "guardian": {
            "name": g.and_then(|g| g.name.as_ref().map(|n| n.to_string())).unwrap_or_default(),
            "phone": g.and_then(|g| g.phone.as_ref().map(|p| p.as_str().to_owned())).unwrap_or_default(),
            "id": g.map(|g| id_text(&g.id_number, h.reveal_ids)).unwrap_or_default(),
            "relation": g.and_then(|g| g.relation.map(|r| r.label())).unwrap_or_default(),
            "address": g.and_then(|g| g.address.clone()).unwrap_or_default(),
        },
        "guardianship_type": ticks(GuardianshipType::ALL, GuardianshipType::label, |t| Some(t) == f.guardianship_type),
        "assessment": ticks(GuardianshipAssessment::ALL, GuardianshipAssessment::label, |a| Some(a) == f.assessment()),
        "income": ticks(IncomeSource::ALL, IncomeSource::label, |s| f.income_sources.contains(&s)),
        "assistance": assistance_boxes(f),
        "contact_name": f.contact.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        "contact_phone": f.contact.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        "notes": REGISTRATION_NOTES,
    })
}

/// What 《委托监护责任确认书》 is filled with.
pub fn agreement_data(h: &FormHeading<'_>) -> Value {
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
            "name": g.and_then(|g| g.name.as_ref().map(|n| n.to_string())).unwrap_or_default(),
            "relation": g.and_then(|g| g.relation.map(|r| r.label())).unwrap_or_default(),
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
        "term_to": cn_date(shouwang_domain::guardianship::agreement_end(
            h.filled,
            h.agreement_term_months,
            f.birth_date,
        )),
    })
}

/// Tick boxes as text: `☑男　□女`.
fn tick_text(v: &Value) -> String {
    v.as_array()
        .map(|all| {
            all.iter()
                .filter_map(|pair| {
                    let label = pair.get(0)?.as_str()?;
                    let on = pair.get(1)?.as_bool()?;
                    Some(format!("{}{label}", if on { '☑' } else { '□' }))
                })
                .collect::<Vec<_>>()
                .join("　")
        })
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Rows one form takes on the sheet (a page each).
const FORM_ROWS: u32 = 28;

/// 《农村留守儿童基本情况登记表》 as `.xlsx` bytes: the same form as the PDF, one A4 page per
/// child, all on one sheet with a page break between children (a village prints in one go).
pub fn registration_workbook(
    forms: &[FormHeading<'_>],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

    use crate::xlsx::{Formats, looks_like_formula};

    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("登记表")?;
    for (c, w) in [6.0, 13.0, 14.0, 13.0, 14.0, 13.0, 16.0]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, w)?;
    }
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_font_size(10)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let head = cell.clone().set_bold().set_align(FormatAlign::Center);
    let formats = Formats::new(cell);
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let plain = Format::new().set_font_size(10);
    let right = plain.clone().set_align(FormatAlign::Right);
    let note = plain
        .clone()
        .set_font_size(8)
        .set_text_wrap()
        .set_align(FormatAlign::Top);

    let mut breaks = Vec::new();
    for (n, form) in forms.iter().enumerate() {
        let f = registration_data(form);
        let top = n as u32 * FORM_ROWS;
        if n > 0 {
            breaks.push(top);
        }
        // The lines above the table, without borders.
        ws.merge_range(top, 0, top, 6, "农村留守儿童基本情况登记表", &title)?;
        ws.merge_range(
            top + 1,
            0,
            top + 1,
            3,
            &format!("填报单位（盖章）：{}", text(&f, "unit")),
            &plain,
        )?;
        ws.merge_range(
            top + 1,
            4,
            top + 1,
            6,
            &format!("填报日期：{}", text(&f, "filled")),
            &right,
        )?;
        ws.set_row_height(top, 30)?;
        let heads: &[(u32, u16, u16, &str)] = &[
            (2, 1, 1, "姓名"),
            (2, 3, 3, "性别"),
            (2, 5, 5, "民族"),
            (3, 1, 1, "出生日期"),
            (3, 3, 3, "公民身份证号码"),
            (4, 1, 1, "是否登记户口"),
            (4, 3, 3, "户籍所在地"),
            (5, 1, 1, "现居住地"),
            (6, 1, 1, "身体情况"),
            (6, 4, 4, "残疾类别及等级/患病类型"),
            (7, 1, 1, "是否学校寄宿"),
            (7, 3, 3, "就读学校"),
            (8, 1, 1, "就学情况"),
            (9, 1, 1, "称谓"),
            (9, 2, 2, "姓名"),
            (9, 3, 3, "出生日期"),
            (9, 4, 5, "当前务工地点（省、市）"),
            (9, 6, 6, "联系电话"),
            (16, 1, 1, "父亲"),
            (17, 1, 1, "母亲"),
            (20, 1, 1, "姓名"),
            (20, 3, 3, "电话"),
            (20, 5, 5, "身份证号码"),
            (21, 1, 1, "与被监护人关系"),
            (21, 3, 3, "居住地地址"),
            (22, 0, 1, "监护类型"),
            (23, 0, 1, "家庭经济来源"),
            (24, 0, 1, "救助帮扶情况"),
            (25, 0, 1, "村（居）委会联系人"),
        ];
        for (row, c1, c2, label) in heads {
            if c1 == c2 {
                ws.write_string_with_format(top + row, *c1, *label, &head)?;
            } else {
                ws.merge_range(top + row, *c1, top + row, *c2, label, &head)?;
            }
        }
        for (r1, r2, label) in [
            (2, 8, "个人基本情况"),
            (9, 15, "家庭情况"),
            (16, 17, "身份证号码"),
            (18, 19, "实际监护情况"),
            (20, 21, "受委托监护人"),
        ] {
            ws.merge_range(top + r1, 0, top + r2, 0, label, &head)?;
        }
        let guardian = f.get("guardian").cloned().unwrap_or(Value::Null);
        let ticks = |key: &str| tick_text(&f[key]);
        let mut values: Vec<(u32, u16, u16, String)> = vec![
            (2, 2, 2, text(&f, "name")),
            (2, 4, 4, ticks("sex")),
            (2, 6, 6, text(&f, "ethnicity")),
            (3, 2, 2, text(&f, "birth_date")),
            (3, 4, 6, text(&f, "id_number")),
            (4, 2, 2, ticks("hukou_registered")),
            (4, 4, 6, text(&f, "hukou_place")),
            (5, 2, 6, text(&f, "residence")),
            (6, 2, 3, ticks("health")),
            (6, 5, 6, text(&f, "health_detail")),
            (7, 2, 2, ticks("boarding")),
            (7, 4, 6, text(&f, "school_name")),
            (8, 2, 6, ticks("schooling")),
            (16, 2, 6, text(&f, "father_id")),
            (17, 2, 6, text(&f, "mother_id")),
            (
                18,
                1,
                3,
                format!("父母双方同时外出：{}", ticks("both_away")),
            ),
            (
                18,
                4,
                6,
                format!("父母一方外出、另一方无监护能力：{}", ticks("one_away")),
            ),
            (19, 1, 3, format!("无监护能力：{}", ticks("incapable"))),
            (
                19,
                4,
                6,
                format!("父母外出有无委托其他监护人：{}", ticks("entrusted")),
            ),
            (20, 2, 2, text(&guardian, "name")),
            (20, 4, 4, text(&guardian, "phone")),
            (20, 6, 6, text(&guardian, "id")),
            (21, 2, 2, text(&guardian, "relation")),
            (21, 4, 6, text(&guardian, "address")),
            (
                22,
                2,
                6,
                format!(
                    "{}\n监护情况评估：{}",
                    ticks("guardianship_type"),
                    ticks("assessment")
                ),
            ),
            (23, 2, 6, ticks("income")),
            (24, 2, 6, ticks("assistance")),
            (
                25,
                2,
                6,
                format!(
                    "姓名：{}　　联系电话：{}",
                    text(&f, "contact_name"),
                    text(&f, "contact_phone")
                ),
            ),
        ];
        if let Some(family) = f["family"].as_array() {
            for (i, k) in family.iter().enumerate() {
                let row = 10 + i as u32;
                ws.write_string_with_format(top + row, 1, text(k, "role"), &head)?;
                values.push((row, 2, 2, text(k, "name")));
                values.push((row, 3, 3, text(k, "birth_date")));
                values.push((row, 4, 5, text(k, "work_place")));
                values.push((row, 6, 6, text(k, "phone")));
            }
        }
        for (row, c1, c2, value) in &values {
            let format = if looks_like_formula(value) {
                &formats.quoted
            } else {
                &formats.text
            };
            if c1 == c2 {
                ws.write_string_with_format(top + row, *c1, value, format)?;
            } else {
                ws.merge_range(top + row, *c1, top + row, *c2, value, format)?;
            }
        }
        for row in 2..26 {
            let tall = [6, 8, 22, 23, 24].contains(&row);
            ws.set_row_height(top + row, if tall { 32 } else { 21 })?;
        }
        ws.merge_range(top + 26, 0, top + 26, 6, REGISTRATION_NOTES, &note)?;
        ws.set_row_height(top + 26, 48)?;
        ws.merge_range(top + 27, 0, top + 27, 1, "单位负责人（签名）：", &plain)?;
        ws.merge_range(top + 27, 2, top + 27, 4, "复核人（签名）：", &plain)?;
        ws.merge_range(top + 27, 5, top + 27, 6, "填表人（签名）：", &plain)?;
    }
    ws.set_paper_size(9); // A4, portrait
    ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_page_breaks(&breaks)?;
    wb.save_to_buffer()
}

/// 填表说明 of 民发〔2016〕42号 附件1, as printed under the form (PDF and workbook).
pub const REGISTRATION_NOTES: &str = "填表说明：1. 农村留守儿童是指父母双方外出务工或一方外出务工另一方无监护能力、不满十六周岁的农村户籍未成年人。2. 患病指患有重特大疾病。3. 祖父母、父母已故的，在相应栏内填“—”。4. 监护情况评估分较好、一般、差三级；无人监护、父或母无监护能力、受委托监护人监护能力不足的为“差”。5. 辍学指义务教育阶段辍学；不在学指14—16周岁未在学。6. 父母外出务工地点填写到“XXX省（区、市）XXX市”。";
