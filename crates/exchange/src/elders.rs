//! The 留守老人 outputs of 龙里 003 (附件6 《贵州省农村留守老人花名册》, 附件7 《…基本情况登记表》).
//! The seed gives the annexes' titles only (003 l.161–163); the columns are what 五(一) asks the
//! register to say — who, where and with whom they live, their children away and how to reach
//! them, health and self-care, income, assistance, care and needs — in the layout of the
//! children's 花名册 (附件1/2 of 民发〔2016〕42号): title, unit and date, one line per person,
//! signatures.

use std::borrow::Borrow;

use chrono::NaiveDate;
use rust_xlsxwriter::XlsxError;
use serde_json::{Value, json};

use shouwang_domain::elder::{self, ElderFile};

use crate::outputs::{Heading, cn_date, listing_workbook, place_name};

/// 附件6's columns and their widths.
pub const ELDER_ROSTER_COLUMNS: [(&str, f64); 17] = [
    ("序号", 5.0),
    ("姓名", 8.0),
    ("性别", 5.0),
    ("出生日期", 11.0),
    ("年龄", 5.0),
    ("身份证号码", 19.0),
    ("所在村（社区）", 14.0),
    ("居住情况", 10.0),
    ("外出子女姓名", 10.0),
    ("务工地点", 14.0),
    ("联系电话", 12.0),
    ("身体状况", 9.0),
    ("生活自理能力", 9.0),
    ("经济来源", 12.0),
    ("救助帮扶情况", 12.0),
    ("照料情况", 14.0),
    ("主要需求", 14.0),
];

fn masked_or_full(f: &ElderFile, reveal: bool) -> String {
    f.id_number
        .as_ref()
        .map(|n| {
            if reveal {
                n.as_str().to_owned()
            } else {
                n.masked()
            }
        })
        .unwrap_or_default()
}

fn joined<T>(items: impl IntoIterator<Item = T>, f: impl Fn(T) -> String) -> String {
    items.into_iter().map(f).collect::<Vec<_>>().join("、")
}

/// One line of the 花名册 for an elder (`i` counts from 0). The children away are written one
/// under another in their cells. A blank is left blank (待补充), never filled with a guess.
pub fn elder_roster_values(i: usize, f: &ElderFile, on: NaiveDate, reveal: bool) -> Vec<String> {
    let away = |get: &dyn Fn(&elder::ChildAway) -> String| {
        f.children_away
            .iter()
            .map(get)
            .collect::<Vec<_>>()
            .join("\n")
    };
    vec![
        (i + 1).to_string(),
        f.name.to_string(),
        f.sex.label().to_owned(),
        f.birth_date.to_string(),
        elder::age(f, on).to_string(),
        masked_or_full(f, reveal),
        place_name(&f.village_code),
        f.living_with.map(|l| l.label()).unwrap_or("").to_owned(),
        away(&|c| c.name.as_ref().map(|n| n.to_string()).unwrap_or_default()),
        away(&|c| c.work_place.clone().unwrap_or_default()),
        away(&|c| {
            c.phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default()
        }),
        f.health.status.map(|h| h.label()).unwrap_or("").to_owned()
            + &f.health
                .illness
                .as_ref()
                .map(|i| format!("（{i}）"))
                .unwrap_or_default(),
        f.health
            .self_care
            .map(|s| s.label())
            .unwrap_or("")
            .to_owned(),
        joined(&f.income_sources, |s| s.label().to_owned()),
        joined(&f.assistance, |s| s.label().to_owned()),
        f.care.clone().unwrap_or_default(),
        f.needs.clone().unwrap_or_default(),
    ]
}

/// 《农村留守老人花名册》 (龙里 003 附件6) as `.xlsx` bytes. ID numbers in full only when
/// `reveal_ids`.
pub fn elder_roster_workbook(
    heading: &Heading,
    elders: &[impl Borrow<ElderFile>],
    reveal_ids: bool,
) -> Result<Vec<u8>, XlsxError> {
    listing_workbook(
        heading,
        ("留守老人花名册", "农村留守老人花名册", 8),
        &ELDER_ROSTER_COLUMNS,
        elders
            .iter()
            .enumerate()
            .map(|(i, e)| elder_roster_values(i, e.borrow(), heading.on, reveal_ids)),
    )
}

/// What the printed 《农村留守老人基本情况登记表》 (附件7) shows of one elder, for the typesetter.
pub fn elder_form_data(f: &ElderFile, unit: &str, filled: NaiveDate, reveal_ids: bool) -> Value {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    json!({
        "unit": unit,
        "filled": cn_date(filled),
        "name": f.name.to_string(),
        "sex": f.sex.label(),
        "birth_date": cn_date(f.birth_date),
        "age": elder::age(f, filled),
        "id": masked_or_full(f, reveal_ids),
        "village": place_name(&f.village_code),
        "address": text(&f.address),
        "phone": f.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        "living_with": f.living_with.map(|l| l.label()).unwrap_or(""),
        "children_away": f.children_away.iter().map(|c| json!({
            "name": c.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
            "work_place": text(&c.work_place),
            "phone": c.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "health": f.health.status.map(|h| h.label()).unwrap_or(""),
        "illness": text(&f.health.illness),
        "self_care": f.health.self_care.map(|s| s.label()).unwrap_or(""),
        "income": joined(&f.income_sources, |s| s.label().to_owned()),
        "assistance": joined(&f.assistance, |s| s.label().to_owned()),
        "care": text(&f.care),
        "needs": text(&f.needs),
        "contact_name": f.contact.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        "contact_phone": f.contact.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        "remarks": text(&f.remarks),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shouwang_domain::elder::{ChildAwayInput, ElderInput, HealthInput};
    use shouwang_domain::input::ParseContext;
    use shouwang_domain::region::{Divisions, RegionCode};

    fn elder() -> ElderFile {
        ElderInput {
            name: Some("李秀英".into()),
            sex: Some("女".into()),
            birth_date: Some("1950-03-02".into()),
            id_number: Some(shouwang_domain::sample::id_number_for(
                "522730",
                NaiveDate::from_ymd_opt(1950, 3, 2).unwrap(),
                12,
            )),
            village_code: Some("522730001001".into()),
            living_with: Some("alone".into()),
            children_away: Some(vec![
                ChildAwayInput {
                    name: Some("王建国".into()),
                    work_place: Some("=广东省深圳市".into()),
                    phone: Some("13800138000".into()),
                },
                ChildAwayInput {
                    name: Some("王建芳".into()),
                    ..ChildAwayInput::default()
                },
            ]),
            health: Some(HealthInput::Word("患慢性病".into())),
            ..ElderInput::default()
        }
        .parse(&ParseContext {
            today: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            divisions: Divisions::shipped(),
        })
        .unwrap()
    }

    #[test]
    fn a_line_of_the_roster_masks_the_id_and_lists_every_child_away() {
        let on = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        let v = elder_roster_values(0, &elder(), on, false);
        assert_eq!(v.len(), ELDER_ROSTER_COLUMNS.len());
        assert_eq!(v[4], "76");
        assert!(v[5].contains('*'), "{}", v[5]);
        assert_eq!(v[7], "独居");
        assert_eq!(v[8], "王建国\n王建芳");
        // Not stated: blank, not guessed.
        assert_eq!(v[12], "");
        let full = elder_roster_values(0, &elder(), on, true);
        assert!(!full[5].contains('*'));
    }

    #[test]
    fn the_workbook_opens_and_a_formula_stays_text() {
        let heading = Heading::new(
            &RegionCode::parse("522730001").unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
        );
        let bytes = elder_roster_workbook(&heading, &[elder()], false).unwrap();
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        let cell = |r: u32, c: u32| {
            range
                .get_value((r, c))
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        assert!(cell(0, 0).contains("农村留守老人花名册"), "{}", cell(0, 0));
        assert_eq!(cell(2, 1), "姓名");
        assert_eq!(cell(3, 1), "李秀英");
        // Typed as text: the leading = does not make a formula.
        assert_eq!(cell(3, 9), "=广东省深圳市\n");
    }
}
