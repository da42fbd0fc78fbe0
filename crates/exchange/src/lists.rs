//! The other departments' lists for 三方比对: a student-status list (学籍) from education or a
//! household list (户籍) from the police, as CSV (UTF-8 or GB18030) or Excel. The header row is
//! read by name — the documented English columns (`record_id,name,sex,birth_date,id_number,county,
//! town,village`) or the titles those departments' exports use (姓名, 公民身份号码, 户口性质,
//! 是否留守…) — and every other column is kept to show beside the person. Where the titles say
//! nothing known, the person comparing chooses what each column holds, as in the import
//! (the choices are kept for the next file with the same header). Rows are read one at a time:
//! a list of a million rows is never held as text.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;

use shouwang_domain::text::clean;
use shouwang_linkage::Record;
use shouwang_linkage::discrepancy::{Hukou, ListEntry, read_yes_no};

use crate::sheet::{self, Format};

/// The documented columns, in the order `shouwang reconcile` writes about them.
pub const COLUMNS: [&str; 8] = [
    "record_id",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "county",
    "town",
    "village",
];

/// The fields a column can be read as, with their Chinese names.
pub const FIELDS: [(&str, &str); 10] = [
    ("record_id", "编号"),
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("id_number", "身份证号码"),
    ("county", "县（市、区）"),
    ("town", "乡镇（街道）"),
    ("village", "村（社区）"),
    ("hukou", "户口性质"),
    ("parents_away", "是否留守"),
];

/// A field by its key (`name`, `id_number`…).
pub fn field_key(key: &str) -> Option<&'static str> {
    FIELDS.iter().find(|(k, _)| *k == key).map(|(k, _)| *k)
}

/// The Chinese name of a field.
pub fn field_label(key: &str) -> Option<&'static str> {
    FIELDS.iter().find(|(k, _)| *k == key).map(|(_, l)| *l)
}

/// Header titles read as each field (after removing spaces and brackets' contents' spacing).
const TITLES: [(&str, &[&str]); 10] = [
    (
        "record_id",
        &[
            "record_id",
            "编号",
            "序号",
            "学籍号",
            "全国学籍号",
            "学籍辅号",
            "人员编号",
            "记录号",
        ],
    ),
    ("name", &["name", "姓名", "学生姓名", "儿童姓名"]),
    ("sex", &["sex", "性别"]),
    (
        "birth_date",
        &["birth_date", "出生日期", "出生年月日", "出生年月", "生日"],
    ),
    (
        "id_number",
        &[
            "id_number",
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "身份证件号",
            "身份证件号码",
            "证件号码",
        ],
    ),
    (
        "county",
        &[
            "county",
            "县",
            "县(市、区)",
            "县(市区)",
            "区县",
            "县区",
            "所在县",
        ],
    ),
    (
        "town",
        &[
            "town",
            "乡镇",
            "乡镇(街道)",
            "乡(镇、街道)",
            "街道",
            "所在乡镇",
        ],
    ),
    (
        "village",
        &[
            "village",
            "村",
            "村(社区)",
            "村(居)",
            "村居",
            "社区",
            "所在村",
        ],
    ),
    ("hukou", &["hukou", "户口性质", "户籍性质", "户口类别"]),
    (
        "parents_away",
        &[
            "parents_away",
            "是否留守",
            "是否留守儿童",
            "留守儿童",
            "留守",
            "父母外出",
        ],
    ),
];

/// Why a list cannot be read; names the file and, where it is one row's fault, the row.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ListError(pub String);

fn field_of(title: &str) -> Option<&'static str> {
    let t: String = clean(title)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect();
    TITLES
        .iter()
        .find(|(_, titles)| titles.contains(&t.as_str()))
        .map(|(field, _)| *field)
}

/// How many of the first rows are searched for the header.
const HEADER_SEARCH_ROWS: usize = 40;
/// Rows shown under the header when the columns are checked.
const SAMPLE_ROWS: usize = 5;

/// One column of a list and the field it is read as (`None`: kept beside the person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListColumn {
    /// Excel's letter: A, B, …
    pub letter: String,
    pub title: String,
    pub field: Option<&'static str>,
}

/// Where a list's header is and what each column holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListColumns {
    /// The header's row, 1-based as the spreadsheet numbers it.
    pub header_row: u32,
    pub columns: Vec<ListColumn>,
}

impl ListColumns {
    /// The header: the first row with a title read as the name; else the first of the rows
    /// with the most known titles; else the first row filled more than half as wide as the
    /// widest (a title row above the header fills one cell, a header may leave one empty).
    fn detect(rows: &[(u32, Vec<String>)]) -> Option<ListColumns> {
        let filled = |r: &[String]| r.iter().filter(|c| !c.trim().is_empty()).count();
        let known = |r: &[String]| r.iter().filter(|c| field_of(c).is_some()).count();
        let widest = rows
            .iter()
            .map(|(_, r)| filled(r))
            .max()
            .filter(|n| *n > 0)?;
        let most_known = rows.iter().map(|(_, r)| known(r)).max().unwrap_or(0);
        let (line, header) = rows
            .iter()
            .find(|(_, r)| r.iter().any(|c| field_of(c) == Some("name")))
            .or_else(|| {
                (most_known > 0)
                    .then(|| rows.iter().find(|(_, r)| known(r) == most_known))
                    .flatten()
            })
            .or_else(|| rows.iter().find(|(_, r)| filled(r) * 2 > widest))?;
        let mut seen = HashSet::new();
        Some(ListColumns {
            header_row: *line,
            columns: header
                .iter()
                .enumerate()
                .map(|(i, title)| ListColumn {
                    letter: crate::columns::column_letter(i),
                    title: title.trim().to_owned(),
                    // A title twice (two 姓名 columns: the child's and a parent's) is read once.
                    field: field_of(title).filter(|f| seen.insert(*f)),
                })
                .collect(),
        })
    }

    /// Applies a person's choices: column letter (or title) → field key, or "-" to keep the
    /// column beside the person. Then checks the result: a name column, no field twice.
    pub fn apply(&mut self, choices: &BTreeMap<String, String>) -> Result<(), String> {
        for (column, key) in choices {
            // A letter first: a title may look like another column's letter.
            let at = self
                .columns
                .iter()
                .position(|c| c.letter == *column)
                .or_else(|| self.columns.iter().position(|c| c.title == *column))
                .ok_or_else(|| format!("表头中没有“{column}”这一列"))?;
            let col = &mut self.columns[at];
            col.field = match key.as_str() {
                "" | "-" => None,
                k => Some(field_key(k).ok_or_else(|| format!("“{k}”不是名单的字段"))?),
            };
        }
        self.check()
    }

    /// A name column, and no field read from two columns.
    pub fn check(&self) -> Result<(), String> {
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for c in &self.columns {
            if let Some(f) = c.field
                && let Some(first) = seen.insert(f, &c.letter)
            {
                return Err(format!(
                    "有两列都对应“{}”（{first} 列和 {} 列），请只保留一列",
                    field_label(f).unwrap_or(f),
                    c.letter
                ));
            }
        }
        if !seen.contains_key("name") {
            return Err(format!(
                "请指定哪一列是“姓名”（表头可用 {} 或 姓名、公民身份号码 等中文标题）",
                COLUMNS.join(",")
            ));
        }
        Ok(())
    }

    /// The header as a whole: lists with the same signature share saved choices.
    pub fn signature(&self) -> String {
        crate::columns::header_signature(self.columns.iter().map(|c| c.title.as_str()))
    }

    /// The choices as saved for the next list with the same header: letter → field or "-".
    pub fn saved_form(&self) -> BTreeMap<String, String> {
        self.columns
            .iter()
            .map(|c| (c.letter.clone(), c.field.unwrap_or("-").to_owned()))
            .collect()
    }

    fn column(&self, field: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.field == Some(field))
    }
}

/// The file's name as the user knows it, for messages.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Calls `each` with every row (1-based row number, cell texts) until it breaks.
fn for_each_row(
    path: &Path,
    mut each: impl FnMut(u32, Vec<String>) -> ControlFlow<()>,
) -> Result<(), ListError> {
    let what = file_name(path);
    let fail = |e: &dyn std::fmt::Display| ListError(format!("无法读取 {what}：{e}"));
    let mut book = sheet::open(path).map_err(|e| fail(&e))?;
    if book.format() == Format::Csv && book.encoding() == Some(encoding_rs::UTF_8.name()) {
        // The common large case, read straight (the general reader converts every cell).
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(book.delimiter().unwrap_or(b','))
            .from_path(path)
            .map_err(|e| fail(&e))?;
        let mut record = csv::StringRecord::new();
        loop {
            // Rows are named by the line they start on (a quoted cell may span lines; the csv
            // crate counts a blank line skipped before a row as the row's).
            let line = reader.position().line();
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(ListError(format!("{what} 第{line}行无法读取：{e}"))),
            }
            let line = record.position().map_or(line, |p| p.line()) as u32;
            let cells = record
                .iter()
                .map(|c| c.trim_start_matches('\u{feff}').to_owned())
                .collect();
            if each(line, cells).is_break() {
                break;
            }
        }
    } else {
        for row in book.rows(0).map_err(|e| fail(&e))? {
            let row = row.map_err(|e| fail(&e))?;
            let cells = row.cells.iter().map(|c| c.display()).collect();
            if each(row.index + 1, cells).is_break() {
                break;
            }
        }
    }
    Ok(())
}

/// The columns as found and the first rows under the header, for a person to check before
/// comparing.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListPreview {
    pub columns: ListColumns,
    pub sample: Vec<Vec<String>>,
}

/// Reads a list's header and first rows only.
pub fn preview(path: &Path) -> Result<ListPreview, ListError> {
    let (columns, sample) = with_header(
        path,
        |columns| Ok((columns, Vec::new())),
        |(_, sample), _, cells| {
            if !blank(&cells) {
                sample.push(cells);
            }
            Ok(if sample.len() >= SAMPLE_ROWS {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        },
    )?;
    Ok(ListPreview { columns, sample })
}

/// What a row's reader says: go on, stop, or the file cannot be read.
type RowFlow = Result<ControlFlow<()>, ListError>;

fn blank(row: &[String]) -> bool {
    row.iter().all(|c| c.trim().is_empty())
}

/// Finds the header among the first rows with text — a row with a name title ends the search,
/// else the first [`HEADER_SEARCH_ROWS`] such rows (or a shorter file's) decide — then makes the
/// reader's state from it with `start` and hands it every row below, until `row` breaks.
fn with_header<S>(
    path: &Path,
    mut start: impl FnMut(ListColumns) -> Result<S, ListError>,
    mut row: impl FnMut(&mut S, u32, Vec<String>) -> RowFlow,
) -> Result<S, ListError> {
    let what = file_name(path);
    // The header from the rows read so far, and the rows below it among them.
    let mut begin = |pending: &mut Vec<(u32, Vec<String>)>,
                     row: &mut dyn FnMut(&mut S, u32, Vec<String>) -> RowFlow|
     -> Result<(S, ControlFlow<()>), ListError> {
        let columns = ListColumns::detect(pending)
            .ok_or_else(|| ListError(format!("{what} 是空的：没有表头，也没有数据")))?;
        let header_row = columns.header_row;
        let mut state = start(columns)?;
        for (line, cells) in pending.drain(..).filter(|(l, _)| *l > header_row) {
            if row(&mut state, line, cells)?.is_break() {
                return Ok((state, ControlFlow::Break(())));
            }
        }
        Ok((state, ControlFlow::Continue(())))
    };
    let mut pending: Vec<(u32, Vec<String>)> = Vec::new();
    let mut state: Option<S> = None;
    let mut failed: Option<ListError> = None;
    for_each_row(path, |line, cells| {
        let flow = match &mut state {
            Some(s) => row(s, line, cells),
            // Blank rows above the header do not count toward the rows searched.
            None if blank(&cells) => Ok(ControlFlow::Continue(())),
            None => {
                let found = cells.iter().any(|c| field_of(c) == Some("name"));
                pending.push((line, cells));
                if found || pending.len() >= HEADER_SEARCH_ROWS {
                    begin(&mut pending, &mut row).map(|(s, flow)| {
                        state = Some(s);
                        flow
                    })
                } else {
                    Ok(ControlFlow::Continue(()))
                }
            }
        };
        flow.unwrap_or_else(|e| {
            failed = Some(e);
            ControlFlow::Break(())
        })
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    match state {
        Some(s) => Ok(s),
        // A short file whose header has no name title.
        None => begin(&mut pending, &mut row).map(|(s, _)| s),
    }
}

/// Reads a list file with the columns found in its header, changed by `choices` (see
/// [`ListColumns::apply`]), and hands each entry to `each` as it is read. Rows without a record
/// id are named by their row (`第N行`); a record id twice in the file is an error, as is a file
/// without a name column. Returns the columns as read.
pub fn read_list_with(
    path: &Path,
    choices: &BTreeMap<String, String>,
    mut each: impl FnMut(ListEntry),
) -> Result<ListColumns, ListError> {
    let what = file_name(path);
    let reader = with_header(
        path,
        |mut columns| {
            columns
                .apply(choices)
                .map_err(|e| ListError(format!("{what}：{e}")))?;
            Ok(EntryReader::new(&what, columns))
        },
        |reader, line, cells| {
            if let Some(e) = reader.read(line, &cells)? {
                each(e);
            }
            Ok(ControlFlow::Continue(()))
        },
    )?;
    Ok(reader.columns)
}

/// Reads a whole list with the columns its header names.
pub fn read_list(path: &Path) -> Result<Vec<ListEntry>, ListError> {
    let mut out = Vec::new();
    read_list_with(path, &BTreeMap::new(), |e| out.push(e))?;
    Ok(out)
}

/// Turns rows into entries with fixed columns.
struct EntryReader {
    what: String,
    columns: ListColumns,
    /// The column of each of [`COLUMNS`], then hukou and parents_away.
    at: [Option<usize>; 10],
    seen: HashSet<String>,
}

impl EntryReader {
    fn new(what: &str, columns: ListColumns) -> EntryReader {
        let at = std::array::from_fn(|i| columns.column(FIELDS[i].0));
        EntryReader {
            what: what.to_owned(),
            columns,
            at,
            seen: HashSet::new(),
        }
    }

    /// The entry of a row (none for an empty row).
    fn read(&mut self, line: u32, row: &[String]) -> Result<Option<ListEntry>, ListError> {
        if blank(row) {
            return Ok(None);
        }
        let get = |c: Option<usize>| {
            c.and_then(|c| row.get(c))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let record_id = get(self.at[0]).unwrap_or_else(|| format!("第{line}行"));
        if !self.seen.insert(record_id.clone()) {
            return Err(ListError(format!(
                "{} 第{line}行的编号（record_id）“{record_id}”与前面的行重复",
                self.what
            )));
        }
        let extra = self
            .columns
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.field.is_none())
            .filter_map(|(i, c)| Some((c.title.clone(), get(Some(i))?)))
            .collect();
        Ok(Some(ListEntry {
            record: Record {
                record_id,
                name: get(self.at[1]),
                sex: get(self.at[2]),
                birth_date: get(self.at[3]),
                id_number: get(self.at[4]),
                county: get(self.at[5]),
                town: get(self.at[6]),
                village: get(self.at[7]),
            },
            row: line,
            hukou: get(self.at[8]).and_then(|s| Hukou::read(&s)),
            parents_away: get(self.at[9]).and_then(|s| read_yes_no(&s)),
            extra,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(lines: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
        file_of(lines.join("\n").as_bytes())
    }

    fn file_of(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("学籍.csv");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    #[test]
    fn chinese_titles_extras_and_row_numbers() {
        let (_dir, path) = file(&[
            "2026年学籍名单,,,,,",
            "姓名,性别,公民身份号码,学校,是否留守,户口性质",
            "王小明,男,522730201607310012,冠山小学,是,农业家庭户口",
            ",,,,,",
            "李华,女,,龙山中学,否,非农业",
        ]);
        let list = read_list(&path).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].record.record_id, "第3行");
        assert_eq!(list[0].row, 3);
        assert_eq!(list[0].record.name.as_deref(), Some("王小明"));
        assert_eq!(
            list[0].record.id_number.as_deref(),
            Some("522730201607310012")
        );
        assert_eq!(list[0].parents_away, Some(true));
        assert_eq!(list[0].hukou, Some(Hukou::Rural));
        assert_eq!(list[0].extra, vec![("学校".into(), "冠山小学".into())]);
        assert_eq!(list[1].record.record_id, "第5行");
        assert_eq!(list[1].hukou, Some(Hukou::Urban));
        assert_eq!(list[1].parents_away, Some(false));
    }

    #[test]
    fn errors_name_the_file_and_row() {
        let (_dir, path) = file(&["编号,性别", "1,男"]);
        let e = read_list(&path).unwrap_err();
        assert!(e.0.contains("学籍.csv") && e.0.contains("姓名"), "{e}");
        let (_dir, path) = file(&["record_id,name", "1,甲", "1,乙"]);
        let e = read_list(&path).unwrap_err();
        assert!(e.0.contains("第3行") && e.0.contains("“1”"), "{e}");
    }

    #[test]
    fn unknown_titles_are_mapped_by_choice() {
        // A school's own export: titles the reader does not know.
        let (_dir, path) = file(&[
            "2026年春季学期学生名册,,,",
            "学生,证件,出生,班级",
            "王小明,522730201607310012,2016-07-31,三(2)班",
            "李华,,2015-01-02,四(1)班",
        ]);
        let p = preview(&path).unwrap();
        // The header is found under the title row even without a known title.
        assert_eq!(p.columns.header_row, 2);
        assert_eq!(
            p.columns
                .columns
                .iter()
                .map(|c| c.letter.as_str())
                .collect::<Vec<_>>(),
            ["A", "B", "C", "D"]
        );
        assert!(p.columns.columns.iter().all(|c| c.field.is_none()));
        assert_eq!(p.sample.len(), 2);
        assert_eq!(p.sample[0][0], "王小明");
        let e = p.columns.check().unwrap_err();
        assert!(e.contains("姓名"), "{e}");
        // Without choices the file cannot be read; with them it can.
        assert!(read_list(&path).unwrap_err().0.contains("姓名"));
        let choices: BTreeMap<String, String> =
            [("A", "name"), ("B", "id_number"), ("出生", "birth_date")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect();
        let mut entries = Vec::new();
        let columns = read_list_with(&path, &choices, |e| entries.push(e)).unwrap();
        assert_eq!(columns.saved_form()["C"], "birth_date");
        assert_eq!(columns.saved_form()["D"], "-");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].record.name.as_deref(), Some("王小明"));
        assert_eq!(entries[1].record.birth_date.as_deref(), Some("2015-01-02"));
        assert_eq!(entries[0].extra, vec![("班级".into(), "三(2)班".into())]);
        // A field chosen twice, an unknown field, an unknown column: each named.
        let bad = |pairs: &[(&str, &str)]| {
            let mut c = p.columns.clone();
            c.apply(
                &pairs
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            )
            .unwrap_err()
        };
        assert!(bad(&[("A", "name"), ("B", "name")]).contains("两列"));
        assert!(bad(&[("A", "nickname")]).contains("nickname"));
        assert!(bad(&[("Z", "name")]).contains("Z"));
    }

    #[test]
    fn headers_with_a_gap_tabs_and_blank_lines() {
        // A header with one untitled cell under a title row, tab-separated, a cell spanning two
        // lines: the header is still the header, and rows are named by the line they start on.
        let (_dir, path) = file(&[
            "学生名册",
            "学生\t证件\t\t班级",
            "王小明\t522730201607310012\t2016-07-31\t\"三(2)班",
            "（转入）\"",
            "李华\t\t2015-01-02\t四(1)班",
        ]);
        let p = preview(&path).unwrap();
        assert_eq!(p.columns.header_row, 2);
        assert_eq!(p.columns.columns.len(), 4);
        assert_eq!(p.columns.columns[3].title, "班级");
        let mut entries = Vec::new();
        read_list_with(
            &path,
            &[("A".to_owned(), "name".to_owned())].into_iter().collect(),
            |e| entries.push(e),
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].row, entries[1].row), (3, 5));
        assert_eq!(entries[1].record.record_id, "第5行");
        // Two columns for one field are named by their letters.
        let mut c = p.columns.clone();
        let e = c
            .apply(
                &[("A", "name"), ("D", "name")]
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            )
            .unwrap_err();
        assert!(e.contains("A 列和 D 列"), "{e}");
    }

    #[test]
    fn the_preview_reads_only_the_first_rows() {
        let mut text = "标题行\n姓名,身份证号\n".to_owned();
        for i in 0..10_000 {
            text.push_str(&format!("儿童{i},\n"));
        }
        // A row far below that is not UTF-8: the preview never reaches it; the whole read
        // stops there and names it.
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"\xff\xfe,\n");
        let (_dir, path) = file_of(&bytes);
        let p = preview(&path).unwrap();
        assert_eq!(p.columns.header_row, 2);
        assert_eq!(p.columns.columns[0].field, Some("name"));
        assert_eq!(p.columns.columns[1].field, Some("id_number"));
        assert_eq!(p.sample.len(), SAMPLE_ROWS);
        assert_eq!(p.sample[0][0], "儿童0");
        let e = match read_list(&path) {
            Err(e) => e,
            Ok(list) => panic!("read {} rows without complaint", list.len()),
        };
        assert!(e.0.contains("第10003行"), "{e}");
    }
}
