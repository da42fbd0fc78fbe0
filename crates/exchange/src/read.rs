//! From sheet rows to registration-form inputs: each mapped cell read by its kind, places resolved
//! inside the jurisdiction, and the facts a roster implies filled in the way a person would (a
//! parent with a work place is away for work; sex and birth date come from the ID number when
//! their columns are missing). Every problem names its row and column.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use shouwang_domain::id_number::IdNumber;
use shouwang_domain::input::ChildInput;
use shouwang_domain::region::RegionCode;

use crate::columns::{Kind, Mapping, column_letter, target};
use crate::places::{Places, WorkPlaces};
use crate::sheet::{Cell, Row};
use crate::values;

/// A problem with one row, tied to a column where one is to blame.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub column: Option<usize>,
    pub field: String,
    pub message: String,
}

/// One sheet row read into the registration form's shape.
#[derive(Debug, Clone)]
pub struct RowInput {
    /// The row number as Excel shows it (1-based).
    pub row: u32,
    pub input: ChildInput,
    pub problems: Vec<Problem>,
    /// Every cell as shown, for the error workbook.
    pub cells: Vec<String>,
    /// What the reader inferred and the person should know, e.g. where the village came from.
    pub notes: Vec<String>,
    /// The sheet the row is on, when a workbook's several sheets are read.
    pub sheet: Option<std::sync::Arc<str>>,
}

/// Keys that are read here and not passed to the form as such.
const DERIVED_ONLY: &[&str] = &[
    "town",
    "village",
    "disability",
    "parents_work_place",
    "left_behind_type",
    "both_away",
    "one_away_other_unable",
    "incapable_parent",
    "serial",
    "age",
    "assessment",
];

/// Where a form field's value came from, to point an error at the right column.
pub fn source_columns(field: &str) -> &'static [&'static str] {
    match field {
        "village_code" => &["village_code", "village", "town"],
        "disability_category" | "disability_grade" => &["disability"],
        "father_work_place" | "mother_work_place" => &["parents_work_place"],
        "father_situation" | "mother_situation" | "father_incapacity" | "mother_incapacity" => &[
            "left_behind_type",
            "both_away",
            "one_away_other_unable",
            "incapable_parent",
        ],
        "sex" | "birth_date" => &["id_number"],
        "entrusted" => &["guardian_name"],
        _ => &[],
    }
}

/// The column to blame for a problem with a form field.
pub fn column_for(mapping: &Mapping, field: &str) -> Option<usize> {
    mapping.column_of(field).or_else(|| {
        source_columns(field)
            .iter()
            .find_map(|k| mapping.column_of(k))
    })
}

/// Footer and note rows below the table.
const FOOTER_STARTS: &[&str] = &[
    "注",
    "说明",
    "填表",
    "填报",
    "审核",
    "复核",
    "单位负责人",
    "负责人",
    "制表",
    "备注：",
];

fn is_footer(row: &Row) -> bool {
    let texts: Vec<String> = row
        .cells
        .iter()
        .filter(|c| !c.is_empty())
        .map(Cell::display)
        .collect();
    let Some(first) = texts.first() else {
        return true;
    };
    let first = first.trim();
    FOOTER_STARTS.iter().any(|p| first.starts_with(p))
        || texts
            .iter()
            .take(2)
            .any(|t| matches!(t.trim(), "合计" | "总计" | "小计"))
}

/// What a reader needs beyond the mapping.
pub struct ReadContext<'a> {
    pub places: &'a Places,
    pub work_places: &'a WorkPlaces,
    /// Work places already looked up: a sheet names the same few hundred cities over and over.
    pub seen_work_places: std::cell::RefCell<HashMap<String, Result<RegionCode, String>>>,
    /// The village of rows that name none, and where it comes from (the title row over the
    /// header, or the uploader's own village).
    pub default_village: Option<(RegionCode, &'static str)>,
}

impl<'a> ReadContext<'a> {
    pub fn new(places: &'a Places, work_places: &'a WorkPlaces) -> ReadContext<'a> {
        ReadContext {
            places,
            work_places,
            seen_work_places: Default::default(),
            default_village: None,
        }
    }

    fn work_place(&self, text: &str) -> Result<RegionCode, String> {
        if let Some(found) = self.seen_work_places.borrow().get(text) {
            return found.clone();
        }
        let found = self.work_places.find(text);
        self.seen_work_places
            .borrow_mut()
            .insert(text.to_owned(), found.clone());
        found
    }
}

/// Reads one data row. `None` for rows that hold no child: empty, notes, totals, the row of
/// column numbers under an official header.
pub fn read_row(row: &Row, mapping: &Mapping, ctx: &ReadContext<'_>) -> Option<RowInput> {
    if row.cells.iter().all(Cell::is_empty)
        || crate::columns::is_column_number_row(row)
        || is_footer(row)
    {
        return None;
    }
    let mut problems = Vec::new();
    let mut fields: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut lists: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut month_only: Vec<&'static str> = Vec::new();
    let mut raw: BTreeMap<&'static str, String> = BTreeMap::new();
    for col in &mapping.columns {
        let Some(t) = col.key.as_deref().and_then(target) else {
            continue;
        };
        let cell = row.cells.get(col.index).unwrap_or(&Cell::Empty);
        if cell.is_empty() {
            continue;
        }
        let mut fail = |message: String| {
            problems.push(Problem {
                column: Some(col.index),
                field: t.key.to_owned(),
                message,
            })
        };
        match t.kind {
            Kind::Ignored => {}
            Kind::Village | Kind::Town | Kind::WorkPlace => {
                if let Some(s) = values::plain(cell) {
                    raw.insert(t.key, s);
                }
            }
            Kind::Date => match values::date(cell) {
                Ok(Some((d, partial))) => {
                    fields.insert(t.key, d.to_string());
                    if partial {
                        month_only.push(t.key);
                    }
                }
                Ok(None) => {}
                Err(e) => fail(format!("{}：{e}", t.label)),
            },
            Kind::Multi => match values::multi(t.key, cell) {
                Ok(Some(v)) => {
                    lists.insert(t.key, v);
                }
                Ok(None) => {}
                Err(e) => fail(e),
            },
            _ if t.key == "disability" => match values::disability(cell) {
                Ok((c, g)) => {
                    if let Some(c) = c {
                        fields.insert("disability_category", c);
                    }
                    if let Some(g) = g {
                        fields.insert("disability_grade", g);
                    }
                }
                Err(e) => fail(e),
            },
            kind => match values::read(kind, t.key, cell) {
                Ok(Some(v)) => {
                    fields.insert(t.key, v);
                }
                Ok(None) => {}
                Err(e) => fail(e),
            },
        }
    }
    let mut problem = |key: &str, message: String| {
        problems.push(Problem {
            column: column_for(mapping, key),
            field: key.to_owned(),
            message,
        })
    };

    // "—" in a relative's name means deceased (附件1 note 4).
    for who in [
        "father",
        "mother",
        "paternal_grandfather",
        "paternal_grandmother",
        "maternal_grandfather",
        "maternal_grandmother",
    ] {
        let name_key = format!("{who}_name");
        if fields
            .get(name_key.as_str())
            .is_some_and(|n| matches!(n.as_str(), "—" | "-" | "--" | "——" | "－"))
        {
            fields.remove(name_key.as_str());
            fields.insert(status_key(who), "已故".to_owned());
        }
    }

    // 父亲情况 “已故” / “不详” describe the parent, not where they are; “重病” / “重残” (as the
    // lists of 事实无人抚养 and 困境儿童 write it, 民发〔2019〕62号) are a parent at home without
    // guardianship capacity, and why.
    for who in ["father", "mother"] {
        let sit = situation_key(who);
        if let Some(v) = fields
            .get(sit)
            .filter(|v| matches!(v.as_str(), "已故" | "不详"))
        {
            let v = v.clone();
            fields.remove(sit);
            fields.insert(status_key(who), v);
        }
        if let Some(reason) = fields
            .get(sit)
            .filter(|v| matches!(v.as_str(), "重病" | "重残"))
            .cloned()
        {
            fields.insert(sit, "在家但无监护能力".to_owned());
            fields
                .entry(if who == "father" {
                    "father_incapacity"
                } else {
                    "mother_incapacity"
                })
                .or_insert(reason);
        }
    }
    // 困境类别 (a 困境儿童 list's column) states facts of the file: poverty (低保, 特困) and the
    // child's disability or illness. A category that is a conclusion (事实无人抚养, 孤儿) states no
    // fact of its own: the parents' columns decide it.
    if let Some(kinds) = fields.remove("difficulty_kind") {
        for kind in kinds.split(['、', '，', ',', ';', '；', '/', ' ', '+']) {
            let k = kind.trim();
            if k.contains("低保") {
                let l = lists.entry("assistance").or_default();
                if !l.iter().any(|v| v == "享受低保") {
                    l.push("享受低保".to_owned());
                }
            } else if k.contains("特困") || k.contains("五保") {
                let l = lists.entry("assistance").or_default();
                if !l.iter().any(|v| v == "特困供养") {
                    l.push("特困供养".to_owned());
                }
            } else if k.contains("残") {
                fields.entry("health").or_insert_with(|| "残疾".to_owned());
            } else if k.contains("病") {
                fields.entry("health").or_insert_with(|| "患病".to_owned());
            }
        }
    }

    // Sex and birth date from the ID number when the sheet leaves them out; a birth date of year
    // and month only is completed from the ID number when they agree.
    let id = fields
        .get("id_number")
        .and_then(|s| IdNumber::parse(s).ok());
    if let Some(id) = &id {
        fields
            .entry("sex")
            .or_insert_with(|| id.sex().label().to_owned());
        fields
            .entry("birth_date")
            .or_insert_with(|| id.birth_date().to_string());
    }
    for key in month_only {
        let from_id = match key {
            "birth_date" => id.as_ref().map(IdNumber::birth_date),
            "father_birth_date" | "mother_birth_date" => fields
                .get(if key == "father_birth_date" {
                    "father_id_number"
                } else {
                    "mother_id_number"
                })
                .and_then(|s| IdNumber::parse(s).ok())
                .map(|i| i.birth_date()),
            _ => None,
        };
        let given = fields[key].clone();
        match from_id {
            Some(d) if d.to_string()[..7] == given[..7] => {
                fields.insert(key, d.to_string());
            }
            _ => {
                fields.remove(key);
                problem(
                    key,
                    format!(
                        "{}只填到了月份（{}），请补全到日",
                        target(key).map_or(key, |t| t.label),
                        &given[..7]
                    ),
                );
            }
        }
    }

    // Where the child lives.
    let town = match raw.get("town") {
        Some(t) => match ctx.places.town(t) {
            Ok(code) => Some(code),
            Err(e) => {
                problem("town", e);
                None
            }
        },
        None => None,
    };
    let mut notes = Vec::new();
    let village_input = raw.get("village_code").or_else(|| raw.get("village"));
    if village_input.is_none() {
        // No village column, or the cell is empty: the village is often written in an address
        // (XX镇XX村XX组), then in the title over the header, or the file is the uploader's own
        // village — in that order of evidence.
        let mut found = None;
        let mut unclear = None;
        for (key, label) in [
            ("residence_address", "现居住地"),
            ("hukou_place", "户籍所在地"),
        ] {
            let Some(text) = fields.get(key) else {
                continue;
            };
            match ctx.places.village_in_text(text, town.as_ref()) {
                Ok(Some(code)) => {
                    found = Some((code, label));
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    unclear = Some((key, e));
                    break;
                }
            }
        }
        match unclear {
            Some((key, e)) => problem(key, e),
            None if found.is_none() => found = ctx.default_village.clone(),
            None => {}
        }
        if let Some((code, from)) = found {
            notes.push(format!(
                "村（社区）取自{from}：{}",
                ctx.places.display(&code)
            ));
            fields.insert("village_code", code.to_string());
        }
    }
    if let Some(v) = village_input {
        match ctx.places.village(v, town.as_ref()) {
            Ok(code) => {
                fields.insert("village_code", code.to_string());
            }
            Err(e) => problem(
                if raw.contains_key("village_code") {
                    "village_code"
                } else {
                    "village"
                },
                e,
            ),
        }
    }

    // Parents: where they work and whether they are away. A roster usually says this once, as a
    // 留守类型 or a shared 务工地点 column.
    for key in ["father_work_place", "mother_work_place"] {
        if let Some(place) = raw.get(key) {
            match ctx.work_place(place) {
                Ok(code) => {
                    fields.insert(key, code.to_string());
                }
                Err(e) => problem(key, e),
            }
        }
    }
    let shared_place = raw.get("parents_work_place").map(|p| ctx.work_place(p));
    let left_behind = fields.get("left_behind_type").cloned().or_else(|| {
        if fields.get("both_away").map(String::as_str) == Some("是") {
            Some("both_away".to_owned())
        } else if fields.get("one_away_other_unable").map(String::as_str) == Some("是") {
            Some("one_away_other_unable".to_owned())
        } else {
            None
        }
    });
    let incapable = fields.get("incapable_parent").cloned();
    let (father_sit, mother_sit) = match (left_behind.as_deref(), incapable.as_deref()) {
        (Some("both_away"), _) => (Some("外出务工"), Some("外出务工")),
        (Some("one_away_other_unable"), Some("父亲")) => {
            (Some("在家但无监护能力"), Some("外出务工"))
        }
        (Some("one_away_other_unable"), Some("母亲")) => {
            (Some("外出务工"), Some("在家但无监护能力"))
        }
        (Some("one_away_other_unable"), _)
            if !(fields.contains_key("father_situation")
                || fields.contains_key("mother_situation")) =>
        {
            problem(
                "incapable_parent",
                "留守类型为“一方外出、另一方无监护能力”，请注明无监护能力的是父亲还是母亲"
                    .to_owned(),
            );
            (None, None)
        }
        _ => (None, None),
    };
    for (who, situation) in [("father", father_sit), ("mother", mother_sit)] {
        let sit_key = situation_key(who);
        if let Some(s) = situation
            && !fields.contains_key(sit_key)
            && fields.get(status_key(who)).map(String::as_str) != Some("已故")
        {
            fields.insert(sit_key, s.to_owned());
        }
        let place_key = work_key(who);
        let away = fields.get(sit_key).map(String::as_str) == Some("外出务工");
        if !fields.contains_key(place_key)
            && let Some(shared) = &shared_place
            && (away || left_behind.is_none())
        {
            match shared {
                Ok(code) => {
                    fields.insert(place_key, code.to_string());
                }
                Err(e) => {
                    if who == "father" {
                        problem("parents_work_place", e.clone());
                    }
                }
            }
        }
        // A parent with a work place and nothing else said is away for work.
        if fields.contains_key(place_key) && !fields.contains_key(sit_key) {
            fields.insert(sit_key, "外出务工".to_owned());
        }
        // A parent who is away or at home is alive, named on the sheet or not.
        if fields.contains_key(sit_key) {
            fields
                .entry(status_key(who))
                .or_insert_with(|| "健在".to_owned());
        }
    }
    if fields.contains_key("guardian_name") {
        fields.entry("entrusted").or_insert_with(|| "是".to_owned());
    }

    // Into the form's shape.
    let mut map = Map::new();
    for (k, v) in fields {
        if !DERIVED_ONLY.contains(&k) {
            map.insert(k.to_owned(), Value::String(v));
        }
    }
    for (k, v) in lists {
        map.insert(
            k.to_owned(),
            Value::Array(v.into_iter().map(Value::String).collect()),
        );
    }
    let input: ChildInput = serde_json::from_value(Value::Object(map))
        .expect("the importer only sets the form's own fields");
    Some(RowInput {
        row: row.index + 1,
        input,
        problems,
        cells: (0..mapping.columns.len().max(row.cells.len()))
            .map(|i| row.cells.get(i).map(Cell::display).unwrap_or_default())
            .collect(),
        notes,
        sheet: None,
    })
}

fn status_key(who: &str) -> &'static str {
    match who {
        "father" => "father_status",
        "mother" => "mother_status",
        "paternal_grandfather" => "paternal_grandfather_status",
        "paternal_grandmother" => "paternal_grandmother_status",
        "maternal_grandfather" => "maternal_grandfather_status",
        _ => "maternal_grandmother_status",
    }
}

fn situation_key(who: &str) -> &'static str {
    if who == "father" {
        "father_situation"
    } else {
        "mother_situation"
    }
}

fn work_key(who: &str) -> &'static str {
    if who == "father" {
        "father_work_place"
    } else {
        "mother_work_place"
    }
}

/// "C5 出生日期：…" — a problem as a person finds it in the sheet.
pub fn describe(problem: &Problem, row: u32, mapping: &Mapping) -> String {
    match problem.column {
        Some(c) => {
            let title = mapping
                .columns
                .iter()
                .find(|m| m.index == c)
                .map_or("", |m| m.title.as_str());
            format!("{}{row}（{title}）：{}", column_letter(c), problem.message)
        }
        None => format!("第{row}行：{}", problem.message),
    }
}

/// What a person does about the errors of one field, shown once above the rows that have them.
pub fn how_to_fix(field: &str) -> String {
    if field == "schooling" {
        let choices: Vec<&str> = shouwang_domain::child::Schooling::ALL
            .iter()
            .map(|s| s.label())
            .collect();
        return format!("从“{}”中选择", choices.join("、"));
    }
    match field {
        "id_number" | "father_id_number" | "mother_id_number" | "guardian_id_number" => {
            "把该列设置为“文本”格式，按身份证或户口簿重新录入18位号码（不要让 Excel 变成科学计数法）；没有号码的留空"
        }
        "name" | "father_name" | "mother_name" | "guardian_name" => {
            "姓名只填汉字（少数民族姓名可含“·”），去掉数字、空格和备注"
        }
        "birth_date" | "father_birth_date" | "mother_birth_date" => {
            "填写真实存在的日期，如 2016-07-31；只知道年月的，请按户口簿补全到日"
        }
        "sex" => "填“男”或“女”，并与身份证号码一致",
        "ethnicity" => "填写56个民族之一的全称，如“汉族”“布依族”“苗族”",
        "village" | "village_code" | "town" | "residence_address" | "hukou_place" => {
            "填写本辖区内的村（社区）名称；重名的村请加一列乡镇（街道），或填写12位村级区划代码"
        }
        "guardianship_type" => {
            "按父母和受委托监护人的实际情况选择监护类型；父母均不在家又无人受委托的，应为“无人监护”"
        }
        "guardian_relation" => "填写受委托监护人与儿童的关系，如“祖父母”“外祖父母”“兄姐”",
        "father_work_place" | "mother_work_place" | "parents_work_place" => {
            "务工地点填到省和市，如“广东省广州市”"
        }
        f if f.ends_with("phone") => "填写11位手机号码或带区号的固定电话",
        _ => "按每行的原因逐行修改",
    }
    .to_owned()
}

/// The village code a row names, if it names one that parses.
pub fn village_of(input: &ChildInput) -> Option<RegionCode> {
    input
        .village_code
        .as_deref()
        .and_then(|v| RegionCode::parse(v).ok())
}

#[cfg(test)]
mod tests {
    use super::how_to_fix;

    #[test]
    fn the_fix_for_schooling_lists_the_forms_own_choices() {
        let fix = how_to_fix("schooling");
        for label in ["幼儿园", "未入园", "小学", "辍学", "不在学"] {
            assert!(fix.contains(label), "{fix}");
        }
        assert!(how_to_fix("id_number").contains("文本"));
    }
}
