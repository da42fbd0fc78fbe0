//! Which column holds what: the catalogue of importable fields with the header texts counties
//! really use, and the search for the header row (title rows above it, two-row headers, merged
//! cells, a row of column numbers below it).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use shouwang_domain::text::const_eq;

use crate::sheet::{Cell, Merge, Row};

mod headings;
use headings::*;

/// How a column's values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Date,
    Bool,
    IdNumber,
    Phone,
    /// One value of a code list (labels, codes and the usual variants).
    Choice,
    /// Several values of a code list in one cell (打工收入、种养殖业).
    Multi,
    /// A village by name (石河村 / 石河 / 石河村委会) or by 12-digit code.
    Village,
    Town,
    /// A parent's work place by name: 广东省深圳市, 广东深圳, 深圳.
    WorkPlace,
    /// Recognised so the header is found, not imported (序号, 年龄, derived assessment).
    Ignored,
}

/// An importable column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The registration form's field name (see `ChildInput`), or an import-only key.
    pub key: &'static str,
    /// The column's label: the form field's own (`domain::fields`), or the import-only key's.
    pub label: &'static str,
    pub kind: Kind,
}

/// A form field's label from the field catalogue, at compile time.
const fn form_label(key: &str) -> &'static str {
    let fields = shouwang_domain::fields::FIELDS;
    let mut i = 0;
    while i < fields.len() {
        if const_eq(fields[i].key, key) {
            return fields[i].label;
        }
        i += 1;
    }
    panic!("not a form field")
}

macro_rules! targets {
    ($($key:literal => ($label:tt, $kind:ident)),+ $(,)?) => {
        /// Every column the importer understands: the form's fields (labelled as the form labels
        /// them) and the import-only columns a roster may have.
        pub const TARGETS: &[Target] = &[$(Target { key: $key, label: targets!(@label $key, $label), kind: Kind::$kind }),+];
    };
    (@label $key:literal, form) => { form_label($key) };
    (@label $key:literal, $label:literal) => { $label };
}

targets! {
    "name" => (form, Text),
    "sex" => (form, Choice),
    "ethnicity" => (form, Choice),
    "birth_date" => (form, Date),
    "id_number" => (form, IdNumber),
    "hukou_registered" => (form, Bool),
    "hukou_rural" => (form, Choice),
    "hukou_place" => (form, Text),
    "town" => ("乡镇（街道）", Town),
    "village" => ("村（社区）", Village),
    "village_code" => (form, Village),
    "residence_address" => (form, Text),
    "health" => (form, Choice),
    "disability" => ("残疾类别及等级", Text),
    "disability_category" => (form, Choice),
    "disability_grade" => (form, Choice),
    "illness" => (form, Text),
    "boarding" => (form, Bool),
    "schooling" => (form, Choice),
    "school_name" => (form, Text),
    "living_alone" => (form, Bool),
    "paternal_grandfather_name" => (form, Text),
    "paternal_grandfather_birth_date" => (form, Date),
    "paternal_grandmother_name" => (form, Text),
    "paternal_grandmother_birth_date" => (form, Date),
    "maternal_grandfather_name" => (form, Text),
    "maternal_grandfather_birth_date" => (form, Date),
    "maternal_grandmother_name" => (form, Text),
    "maternal_grandmother_birth_date" => (form, Date),
    "father_status" => (form, Choice),
    "father_name" => (form, Text),
    "father_birth_date" => (form, Date),
    "father_id_number" => (form, IdNumber),
    "father_situation" => (form, Choice),
    "father_incapacity" => (form, Choice),
    "father_work_place" => (form, WorkPlace),
    "father_phone" => (form, Phone),
    "mother_status" => (form, Choice),
    "mother_name" => (form, Text),
    "mother_birth_date" => (form, Date),
    "mother_id_number" => (form, IdNumber),
    "mother_situation" => (form, Choice),
    "mother_incapacity" => (form, Choice),
    "mother_work_place" => (form, WorkPlace),
    "mother_phone" => (form, Phone),
    "parents_work_place" => ("父母务工地点", WorkPlace),
    "left_behind_type" => ("留守类型", Choice),
    "both_away" => ("父母双方同时外出", Bool),
    "one_away_other_unable" => ("父母一方外出、另一方无监护能力", Bool),
    "incapable_parent" => ("无监护能力一方", Choice),
    "difficulty_kind" => ("困境类别", Text),
    "entrusted" => (form, Bool),
    "guardian_name" => (form, Text),
    "guardian_phone" => (form, Phone),
    "guardian_id_number" => (form, IdNumber),
    "guardian_relation" => (form, Choice),
    "guardian_address" => (form, Text),
    "guardianship_type" => (form, Choice),
    "income_sources" => (form, Multi),
    "assistance" => (form, Multi),
    "harm" => (form, Multi),
    "contact_name" => (form, Text),
    "contact_phone" => (form, Phone),
    "remarks" => (form, Text),
    "serial" => ("序号", Ignored),
    "age" => ("年龄", Ignored),
    "assessment" => ("监护情况评估", Ignored),
}

pub fn target(key: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.key == key)
}

/// Header text reduced for comparison: half-width, no spaces, line breaks, stars or colons.
/// `drop_notes` also removes parenthesised notes (公民身份号码（18位） → 公民身份号码).
fn normalise(text: &str, drop_notes: bool) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in text.chars().map(shouwang_domain::text::to_half_width) {
        match c {
            '(' | '[' | '【' | '〔' => depth += 1,
            ')' | ']' | '】' | '〕' => depth = (depth - 1).max(0),
            c if c.is_whitespace() => {}
            '*' | ':' | '：' | '、' | '.' | '。' | '#' | '/' | '-' | '—' => {}
            _ if depth > 0 && drop_notes => {}
            c => out.push(c),
        }
    }
    out
}

fn lookup(group: Group, base: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .find(|(g, aliases, _)| *g == group && aliases.contains(&base))
        .map(|(_, _, key)| *key)
}

/// Strips a trailing 情况/信息 from a group header (受委托监护人情况 → 受委托监护人).
fn group_of(text: &str) -> Option<Group> {
    let t = text
        .trim_end_matches("基本情况")
        .trim_end_matches("情况")
        .trim_end_matches("信息");
    GROUPS.iter().find(|(p, _)| *p == t).map(|(_, g)| *g)
}

/// The key a one-cell header names: whole-text aliases first, then group prefix + field.
/// The field a header text names, as the header search reads it (户籍性质 → hukou_rural).
pub fn key_of_header(text: &str) -> Option<&'static str> {
    key_of_text(text)
}

fn key_of_text(text: &str) -> Option<&'static str> {
    for drop_notes in [true, false] {
        let t = normalise(text, drop_notes);
        if t.is_empty() {
            continue;
        }
        if let Some(k) = lookup(Group::Child, &t) {
            return Some(k);
        }
        for (prefix, group) in GROUPS {
            if let Some(rest) = t.strip_prefix(prefix)
                && let Some(k) = lookup(*group, rest.trim_start_matches('的'))
            {
                return Some(k);
            }
        }
    }
    None
}

/// The key a two-row header names: the upper cell as a group (父亲 over 姓名), or as a section
/// title (个人基本情况 over 姓名) that adds nothing.
fn key_of_pair(top: &str, bottom: &str) -> Option<&'static str> {
    let (t, b) = (normalise(top, true), normalise(bottom, true));
    if b.is_empty() || t == b {
        return key_of_text(top);
    }
    if t.is_empty() {
        return key_of_text(bottom);
    }
    if let Some(group) = group_of(&t)
        && let Some(k) = lookup(group, &b)
    {
        return Some(k);
    }
    key_of_text(bottom).or_else(|| key_of_text(&format!("{t}{b}")))
}

/// Child-level keys that, right after a relative's columns, more likely belong to that relative.
const GROUP_CONTINUES: &[&str] = &["id_number", "birth_date"];

/// The group a key belongs to, for columns that continue it.
fn group_of_key(key: &str) -> Option<Group> {
    [
        ("father_", Group::Father),
        ("mother_", Group::Mother),
        ("guardian_", Group::Guardian),
        ("contact_", Group::Contact),
        ("paternal_grandfather_", Group::PaternalGrandfather),
        ("paternal_grandmother_", Group::PaternalGrandmother),
        ("maternal_grandfather_", Group::MaternalGrandfather),
        ("maternal_grandmother_", Group::MaternalGrandmother),
    ]
    .into_iter()
    .find(|(p, _)| key.starts_with(p))
    .map(|(_, g)| g)
}

/// One column of the sheet and what it is read as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMap {
    pub index: usize,
    /// The header as shown in the sheet ("父亲/姓名" for two-row headers).
    pub title: String,
    pub key: Option<String>,
}

/// Where the table is in the sheet and what each column holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// 0-based index of the first header row.
    pub header_first: u32,
    /// 0-based index of the last header row.
    pub header_last: u32,
    pub columns: Vec<ColumnMap>,
}

impl Mapping {
    /// The column holding a key.
    pub fn column_of(&self, key: &str) -> Option<usize> {
        self.columns
            .iter()
            .find(|c| c.key.as_deref() == Some(key))
            .map(|c| c.index)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().filter_map(|c| c.key.as_deref())
    }

    /// Applies a user's choices: column title or letter (A, B, …) → key, or "-" to ignore.
    pub fn apply(&mut self, choices: &BTreeMap<String, String>) -> Result<(), String> {
        for (column, key) in choices {
            let col = self
                .columns
                .iter_mut()
                .find(|c| c.title == *column || column_letter(c.index) == *column)
                .ok_or_else(|| format!("表头中没有“{column}”这一列"))?;
            if key == "-" || key.is_empty() {
                col.key = None;
            } else if target(key).is_some() {
                col.key = Some(key.clone());
            } else {
                return Err(format!("“{key}”不是可导入的字段"));
            }
        }
        let mut seen = HashSet::new();
        for c in &self.columns {
            if let Some(k) = &c.key
                && !seen.insert(k.clone())
            {
                return Err(format!(
                    "有两列都对应“{}”，请只保留一列",
                    target(k).map_or(k.as_str(), |t| t.label)
                ));
            }
        }
        Ok(())
    }

    /// The header as a whole (titles in column order): files with the same signature share a
    /// saved mapping.
    pub fn signature(&self) -> String {
        header_signature(self.columns.iter().map(|c| c.title.as_str()))
    }

    /// Header titles → keys, the form a mapping is saved in for the next file of the same kind.
    /// Saved by column letter: the same signature means the same columns.
    pub fn saved_form(&self) -> BTreeMap<String, String> {
        self.columns
            .iter()
            .map(|c| {
                (
                    column_letter(c.index),
                    c.key.clone().unwrap_or_else(|| "-".into()),
                )
            })
            .collect()
    }
}

/// A header's titles in column order as one key (for saved column choices).
pub fn header_signature<'a>(titles: impl Iterator<Item = &'a str>) -> String {
    titles.collect::<Vec<_>>().join("\u{1f}")
}

pub use crate::sheet::column_letter;

/// How many of the first rows are searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 40;

fn text_of(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Text(s)) => s.trim().to_owned(),
        Some(c @ Cell::Number(_)) => c.display(),
        _ => String::new(),
    }
}

/// Fills every merged region inside the given rows with its top-left value, so a group title
/// merged across three columns heads all three.
pub fn fill_merges(rows: &mut [Row], merges: &[Merge]) {
    for m in merges {
        let Some(top) = rows.iter().find(|r| r.index == m.first_row) else {
            continue;
        };
        let value = top
            .cells
            .get(m.first_col as usize)
            .cloned()
            .unwrap_or(Cell::Empty);
        for row in rows
            .iter_mut()
            .filter(|r| (m.first_row..=m.last_row).contains(&r.index))
        {
            for col in m.first_col..=m.last_col {
                let col = col as usize;
                if row.cells.len() <= col {
                    row.cells.resize(col + 1, Cell::Empty);
                }
                row.cells[col] = value.clone();
            }
        }
    }
}

fn map_columns(top: &Row, bottom: Option<&Row>) -> Vec<ColumnMap> {
    let width = top.cells.len().max(bottom.map_or(0, |b| b.cells.len()));
    let mut seen = HashSet::new();
    let mut last_group: Option<Group> = None;
    (0..width)
        .map(|i| {
            let t = text_of(top.cells.get(i));
            let (title, key) = match bottom {
                None => (t.clone(), key_of_text(&t)),
                Some(b) => {
                    let bt = text_of(b.cells.get(i));
                    let title = if bt.is_empty() || bt == t {
                        t.clone()
                    } else if t.is_empty() {
                        bt.clone()
                    } else {
                        format!("{t}/{bt}")
                    };
                    (title, key_of_pair(&t, &bt))
                }
            };
            // A bare 联系电话 or 身份证号 right after 监护人 belongs to the guardian, as people
            // read such a sheet.
            let continued =
                last_group.and_then(|g| lookup(g, &normalise(&title.replace('/', ""), true)));
            let key = match key {
                Some(k) if !GROUP_CONTINUES.contains(&k) => Some(k),
                other => continued.or(other),
            };
            if let Some(k) = key {
                last_group = group_of_key(k);
            }
            // The same field twice (two 联系电话 without a group): only the first is taken.
            let key = key.filter(|k| seen.insert(*k)).map(str::to_owned);
            ColumnMap {
                index: i,
                title,
                key,
            }
        })
        .collect()
}

fn score(columns: &[ColumnMap]) -> usize {
    if !columns.iter().any(|c| c.key.as_deref() == Some("name")) {
        return 0;
    }
    columns.iter().filter(|c| c.key.is_some()).count()
}

/// Finds the header among the first rows of a sheet (merged cells already filled). Returns
/// `None` when no row names at least the child's name and two other known columns.
pub fn detect(rows: &[Row]) -> Option<Mapping> {
    let mut best: Option<(usize, Mapping)> = None;
    for (i, row) in rows.iter().enumerate().take(HEADER_SEARCH_ROWS) {
        let single = map_columns(row, None);
        let mut candidates = vec![(score(&single), row.index, single)];
        if let Some(next) = rows.get(i + 1).filter(|n| n.index == row.index + 1) {
            let pair = map_columns(row, Some(next));
            // Two rows are one header only if together they name more than either alone (a
            // title row above the header adds nothing).
            let alone = candidates[0].0.max(score(&map_columns(next, None)));
            if score(&pair) > alone {
                candidates.push((score(&pair), next.index, pair));
            }
        }
        for (s, last, columns) in candidates {
            // A two-row reading must add columns to win over the one-row reading.
            if s >= 3 && best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((
                    s,
                    Mapping {
                        header_first: row.index,
                        header_last: last,
                        columns,
                    },
                ));
            }
        }
    }
    best.map(|(_, m)| m)
}

/// A row that only numbers the columns (1, 2, 3 … under the header), as official forms print.
pub fn is_column_number_row(row: &Row) -> bool {
    let values: Vec<f64> = row
        .cells
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| match c {
            Cell::Number(n) => Some(*n),
            Cell::Text(s) => s.trim().parse().ok(),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    values.len() >= 3 && values.windows(2).all(|w| w[1] == w[0] + 1.0)
}

#[cfg(test)]
mod tests;
