//! The official Excel outputs: 《农村留守儿童花名册》 (附件2) laid out for printing, and
//! 《农村留守儿童基本情况汇总表》 (附件3) with its cross-check rules enforced on the figures.
//!
//! Both read like the paper forms: title, 填报单位 and 填报日期 above, the header repeated on
//! every printed page, A4 landscape, and the signature lines 单位负责人 / 复核人 / 填表人 below.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use shouwang_domain::child::{ActualGuardianship, ChildFile, KinStatus, Parent, WhichParent};
use shouwang_domain::eligibility::{self, AgeBand, KeyTargetFlag, age_on};
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_domain::summary_table::{self, COLUMNS, Figures, counts_on};
use std::borrow::Borrow;

use crate::xlsx::{Formats, put_text};

/// Narrowing a roster export, as on the roster page.
#[derive(Debug, Clone, Default)]
pub struct RosterFilter {
    pub guardianship_type: Option<shouwang_domain::child::GuardianshipType>,
    pub schooling: Option<shouwang_domain::child::Schooling>,
    pub age_band: Option<AgeBand>,
    pub flag: Option<KeyTargetFlag>,
}

impl RosterFilter {
    pub fn admits(&self, file: &ChildFile, on: NaiveDate) -> bool {
        self.guardianship_type
            .is_none_or(|g| Some(g) == file.guardianship_type)
            && self.schooling.is_none_or(|s| Some(s) == file.schooling)
            && self
                .age_band
                .is_none_or(|b| AgeBand::of_age(age_on(file.birth_date, on)) == Some(b))
            && self.flag.is_none_or(|f| {
                eligibility::key_target_flags(file)
                    .iter()
                    .any(|r| r.flag == f)
            })
    }
}

/// What goes above and below a printed form.
#[derive(Debug, Clone)]
pub struct Heading {
    /// 填报单位: the region's name, e.g. 龙里县冠山街道.
    pub unit: String,
    pub region: RegionCode,
    /// The reference date (统计时点) and the date filled in.
    pub on: NaiveDate,
    pub filled: NaiveDate,
}

impl Heading {
    pub fn new(region: &RegionCode, on: NaiveDate, filled: NaiveDate) -> Heading {
        Heading {
            unit: unit_name(region),
            region: region.clone(),
            on,
            filled,
        }
    }
}

/// 龙里县冠山街道 for a town: the names from the county down (from the province for higher units).
pub fn unit_name(region: &RegionCode) -> String {
    let lineage = Divisions::shipped().lineage(region).unwrap_or_default();
    let from = if region.level() >= RegionLevel::County {
        lineage
            .len()
            .saturating_sub(region.level() as usize - RegionLevel::County as usize + 1)
    } else {
        0
    };
    lineage[from.min(lineage.len())..]
        .iter()
        .map(|d| d.name)
        .collect()
}

/// 2026年11月24日, as dates are written on the forms.
pub fn cn_date(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// A work place as written on the form: 广东省深圳市; 重庆市 for 重庆市市辖区.
pub fn place_name(code: &RegionCode) -> String {
    Divisions::shipped().written_name(code, "")
}

fn division_name(code: &RegionCode, level: RegionLevel) -> String {
    code.at_level(level)
        .and_then(|c| Divisions::shipped().get(&c).ok().map(|d| d.name.to_owned()))
        .unwrap_or_default()
}

/// 父亲情况 as one word: 外出务工 / 在家 / 在家但无监护能力 / 失联 / 已故 / 不详.
fn parent_situation(p: &Parent) -> &'static str {
    match p.status {
        KinStatus::Alive => p.situation.map_or("", |s| s.label()),
        other => other.label(),
    }
}

/// The roster's columns: header text and value. The headers are the ones the importer reads, so
/// an exported roster imports again without changes.
pub const ROSTER_COLUMNS: &[(&str, f64)] = &[
    ("序号", 5.0),
    ("姓名", 8.0),
    ("性别", 4.5),
    ("民族", 6.0),
    ("出生日期", 10.5),
    ("公民身份号码", 19.5),
    ("乡镇（街道）", 10.0),
    ("村（社区）", 12.0),
    ("就学情况", 7.0),
    ("就读学校", 12.0),
    ("是否寄宿", 5.0),
    ("身体状况", 5.0),
    ("残疾类别及等级", 8.0),
    ("患病类型", 8.0),
    ("留守类型", 10.0),
    ("父亲姓名", 8.0),
    ("父亲情况", 8.0),
    ("父亲务工地点", 12.0),
    ("父亲联系电话", 12.0),
    ("母亲姓名", 8.0),
    ("母亲情况", 8.0),
    ("母亲务工地点", 12.0),
    ("母亲联系电话", 12.0),
    ("受委托监护人姓名", 8.0),
    ("与被监护人关系", 8.0),
    ("监护人联系电话", 12.0),
    ("监护类型", 10.0),
    ("监护情况评估", 5.0),
    ("村（居）委会联系人", 8.0),
    ("联系人电话", 12.0),
    ("备注", 12.0),
];

/// One roster row's values, in [`ROSTER_COLUMNS`] order.
pub fn roster_values(i: usize, f: &ChildFile, reveal_ids: bool) -> Vec<String> {
    let opt = |o: Option<String>| o.unwrap_or_default();
    let phone = |p: &Option<shouwang_domain::person::PhoneNumber>| {
        opt(p.as_ref().map(|p| p.as_str().to_owned()))
    };
    let id = f.id_number.as_ref().map(|n| {
        if reveal_ids {
            n.as_str().to_owned()
        } else {
            IdNumber::masked(n)
        }
    });
    let left_behind = match f.actual_guardianship() {
        ActualGuardianship::BothAway => "父母双方外出",
        ActualGuardianship::OneAwayOtherUnable(_) => "一方外出、另一方无监护能力",
        ActualGuardianship::ParentAtHome => "",
        ActualGuardianship::Unknown => "父母情况不详（待补充）",
    };
    let parent = |p: &Parent| {
        [
            opt(p.name.as_ref().map(|n| n.to_string())),
            parent_situation(p).to_owned(),
            opt(p.work_place.as_ref().map(place_name)),
            phone(&p.phone),
        ]
    };
    let g = f.entrusted_guardian.as_ref();
    let mut v = vec![
        (i + 1).to_string(),
        f.name.to_string(),
        f.sex.label().to_owned(),
        f.ethnicity
            .map(|e| e.label().to_owned())
            .unwrap_or_default(),
        f.birth_date.to_string(),
        opt(id),
        division_name(&f.village_code, RegionLevel::Town),
        division_name(&f.village_code, RegionLevel::Village),
        f.schooling.map_or("", |s| s.label()).to_owned(),
        opt(f.school_name.clone()),
        match f.boarding {
            Some(true) => "是",
            Some(false) => "否",
            None => "",
        }
        .to_owned(),
        f.health.status.map_or("", |s| s.label()).to_owned(),
        match (f.health.disability_category, f.health.disability_grade) {
            (Some(c), Some(g)) => format!("{}{}", c.label(), g.label()),
            (Some(c), None) => c.label().to_owned(),
            _ => String::new(),
        },
        opt(f.health.illness.clone()),
        left_behind.to_owned(),
    ];
    v.extend(parent(&f.father));
    v.extend(parent(&f.mother));
    v.extend([
        opt(g.and_then(|g| g.name.as_ref().map(|n| n.to_string()))),
        opt(g.and_then(|g| g.relation.map(|r| r.label().to_owned()))),
        opt(g.and_then(|g| g.phone.as_ref().map(|p| p.as_str().to_owned()))),
        f.guardianship_type.map_or("", |g| g.label()).to_owned(),
        f.assessment().map_or("", |a| a.label()).to_owned(),
        opt(f.contact.name.as_ref().map(|n| n.to_string())),
        phone(&f.contact.phone),
        opt(f.remarks.clone()),
    ]);
    v
}

/// The form's title over all columns, then 填报单位 on the left and the dates on the right.
fn title_rows(
    ws: &mut Worksheet,
    heading: &Heading,
    form: &str,
    last: u16,
    unit_until: u16,
) -> Result<(), XlsxError> {
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    ws.merge_range(0, 0, 0, last, &format!("{}{form}", heading.unit), &title)?;
    ws.merge_range(
        1,
        0,
        1,
        unit_until,
        &format!("填报单位（盖章）：{}", heading.unit),
        &Format::new(),
    )?;
    ws.merge_range(
        1,
        unit_until + 1,
        1,
        last,
        &format!(
            "统计时点：{}        填报日期：{}",
            cn_date(heading.on),
            cn_date(heading.filled)
        ),
        &Format::new().set_align(FormatAlign::Right),
    )?;
    Ok(())
}

fn page_setup(ws: &mut Worksheet, header_rows: (u32, u32)) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(header_rows.0, header_rows.1)?;
    ws.set_footer(
        "&L单位负责人（签名）：&C复核人（签名）：&R填表人（签名）：    第 &P 页，共 &N 页",
    );
    Ok(())
}

fn signature_row(ws: &mut Worksheet, row: u32, last_col: u16) -> Result<(), XlsxError> {
    let third = (last_col + 1) / 3;
    let f = Format::new();
    ws.merge_range(
        row,
        0,
        row,
        third.saturating_sub(1),
        "单位负责人（签名）：",
        &f,
    )?;
    ws.merge_range(row, third, row, third * 2 - 1, "复核人（签名）：", &f)?;
    ws.merge_range(row, third * 2, row, last_col, "填表人（签名）：", &f)?;
    Ok(())
}

/// 《农村留守儿童花名册》 as `.xlsx` bytes. ID numbers are written in full only when `reveal_ids`.
pub fn roster_workbook(
    heading: &Heading,
    children: &[impl Borrow<ChildFile>],
    reveal_ids: bool,
) -> Result<Vec<u8>, XlsxError> {
    listing_workbook(
        heading,
        ("花名册", "农村留守儿童花名册", 10),
        ROSTER_COLUMNS,
        children
            .iter()
            .enumerate()
            .map(|(i, c)| roster_values(i, c.borrow(), reveal_ids)),
    )
}

/// A 花名册 laid out as the official ones are: the title and the unit over the header, one line
/// per person (every cell text, a formula never), the signatures under, the header repeated on
/// each printed page. `sheet` is the sheet's name, the form's title and the last column of the
/// unit's cell.
pub(crate) fn listing_workbook(
    heading: &Heading,
    sheet: (&str, &str, u16),
    columns: &[(&str, f64)],
    lines: impl Iterator<Item = Vec<String>>,
) -> Result<Vec<u8>, XlsxError> {
    let (name, title, unit_until) = sheet;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let last = (columns.len() - 1) as u16;
    title_rows(ws, heading, title, last, unit_until)?;
    let border = Format::new()
        .set_border(FormatBorder::Thin)
        .set_font_size(9)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let head = border.clone().set_bold().set_align(FormatAlign::Center);
    for (c, (t, width)) in columns.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *t, &head)?;
        ws.set_column_width(c as u16, *width)?;
    }
    let formats = Formats::new(border);
    let mut row = 3;
    for values in lines {
        for (c, value) in values.iter().enumerate() {
            put_text(ws, row, c as u16, value, &formats)?;
        }
        row += 1;
    }
    signature_row(ws, row + 1, last)?;
    ws.set_freeze_panes(3, 2)?;
    page_setup(ws, (2, 2))?;
    wb.save_to_buffer()
}

/// One row of the 汇总表: a reporting unit and its figures.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub code: String,
    pub unit: String,
    pub figures: Figures,
}

/// A 汇总表's rows: one per sub-unit, the total, and how many children on the roster it could not
/// place because their 就学情况 is blank (`summary_table::unplaced`).
#[derive(Debug, Clone)]
pub struct Summary {
    pub units: Vec<SummaryRow>,
    pub total: SummaryRow,
    pub unplaced: usize,
    /// Said above the table: that these are a frozen quarterly report's figures, and its state.
    pub note: Option<String>,
}

/// Counts the children per sub-unit (towns of a county, villages of a town…) and in total.
/// Refuses figures that break the 表间勾稽关系 — they would mean a counting error here.
pub fn summary_rows(
    region: &RegionCode,
    children: &[impl Borrow<ChildFile>],
    on: NaiveDate,
) -> Result<Summary, String> {
    let divisions = Divisions::shipped();
    let below = region.level().below();
    let mut units: BTreeMap<String, SummaryRow> = divisions
        .children(region)
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            (
                d.code.to_owned(),
                SummaryRow {
                    code: d.code.to_owned(),
                    unit: d.name.to_owned(),
                    figures: Figures::default(),
                },
            )
        })
        .collect();
    let mut total = SummaryRow {
        code: region.to_string(),
        unit: "合计".to_owned(),
        figures: Figures::default(),
    };
    let mut unplaced = 0;
    for child in children {
        let file: &ChildFile = child.borrow();
        if counts_on(file, on) && summary_table::unplaced(file).is_some() {
            unplaced += 1;
            continue;
        }
        let mut one = Figures::default();
        if !one.count(file, on) {
            continue;
        }
        total.figures.merge(&one);
        let key = match below {
            Some(level) => Borrow::<ChildFile>::borrow(child)
                .village_code
                .at_level(level)
                .map(|c| c.to_string()),
            None => Some(region.to_string()),
        };
        if let Some(unit) = key.and_then(|k| units.get_mut(&k)) {
            unit.figures.merge(&one);
        }
    }
    for row in units.values().chain(std::iter::once(&total)) {
        let broken = row.figures.cross_check();
        if !broken.is_empty() {
            return Err(format!("{}：{}", row.unit, broken.join("；")));
        }
    }
    Ok(Summary {
        units: units.into_values().collect(),
        total,
        unplaced,
        note: None,
    })
}

/// 《农村留守儿童基本情况汇总表》 as `.xlsx` bytes.
pub fn summary_workbook(heading: &Heading, summary: &Summary) -> Result<Vec<u8>, XlsxError> {
    let (rows, total) = (&summary.units, &summary.total);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("汇总表")?;
    let last = COLUMNS.len() as u16;
    let form = if summary.note.is_some() {
        "农村留守儿童基本情况汇总表（冻结报表）"
    } else {
        "农村留守儿童基本情况汇总表"
    };
    title_rows(ws, heading, form, last, 12)?;
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_font_size(9)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let head = cell.clone().set_bold();
    ws.merge_range(2, 0, 4, 0, "填报单位", &head)?;
    ws.set_column_width(0, 14)?;
    // Group titles over their columns (row 2), column labels (row 3), column numbers (row 4).
    let mut c = 0usize;
    while c < COLUMNS.len() {
        let group = COLUMNS[c].group;
        let end = (c..COLUMNS.len())
            .take_while(|i| COLUMNS[*i].group == group)
            .last()
            .expect("at least this column");
        let (first, last_col) = (c as u16 + 1, end as u16 + 1);
        if first == last_col {
            ws.write_string_with_format(2, first, group, &head)?;
        } else {
            ws.merge_range(2, first, 2, last_col, group, &head)?;
        }
        c = end + 1;
    }
    for (i, column) in COLUMNS.iter().enumerate() {
        let col = i as u16 + 1;
        ws.write_string_with_format(3, col, column.label, &head)?;
        ws.write_number_with_format(4, col, column.number as f64, &head)?;
        ws.set_column_width(col, 6.5)?;
    }
    ws.set_row_height(3, 60)?;
    let left = cell.clone().set_align(FormatAlign::Left);
    for (r, row) in rows.iter().chain(std::iter::once(total)).enumerate() {
        let r = 5 + r as u32;
        ws.write_string_with_format(r, 0, &row.unit, &left)?;
        for (i, v) in row.figures.values.iter().enumerate() {
            ws.write_number_with_format(r, i as u16 + 1, *v as f64, &cell)?;
        }
    }
    let below = 6 + rows.len() as u32;
    let mut note = summary
        .note
        .as_ref()
        .map(|n| format!("{n}。"))
        .unwrap_or_default();
    note.push_str(
        "表间勾稽关系（已校验）：1=2+5+8；1=11+…+18；1=19+20；1=21+…+25；1=26+…+29；1=30+31+32；2=3+4；5=6+7；8=9+10；13+14=24+25。\
         统计对象为统计时点不满16周岁的农村留守儿童；患病指患有重特大疾病或严重精神障碍。",
    );
    if summary.unplaced > 0 {
        note.push_str(&format!(
            "另有{}名农村留守儿童因就学情况未填写未计入本表，请在“待补充”名单中补充后重新导出。",
            summary.unplaced
        ));
    }
    ws.merge_range(
        below,
        0,
        below,
        last,
        &note,
        &Format::new().set_font_size(9).set_text_wrap(),
    )?;
    ws.set_row_height(below, 30)?;
    signature_row(ws, below + 1, last)?;
    ws.set_freeze_panes(5, 1)?;
    page_setup(ws, (2, 4))?;
    wb.save_to_buffer()
}

/// Which parent cannot care, for forms that ask (无监护能力: 父亲 / 母亲).
pub fn unable_parent(f: &ChildFile) -> Option<WhichParent> {
    match f.actual_guardianship() {
        ActualGuardianship::OneAwayOtherUnable(w) => Some(w),
        _ => None,
    }
}
