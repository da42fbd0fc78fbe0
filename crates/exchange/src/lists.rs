//! The other departments' lists for 三方比对: a student-status list (学籍) from education or a
//! household list (户籍) from the police, as CSV (UTF-8 or GB18030) or Excel. The header row is
//! read by name — the documented English columns (`record_id,name,sex,birth_date,id_number,county,
//! town,village`) or the titles those departments' exports use (姓名, 公民身份号码, 户口性质,
//! 是否留守…) — and every other column is kept to show beside the person.

use std::collections::HashSet;
use std::path::Path;

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

/// Reads a list file. Rows without a record id are numbered by their row (`第N行`); a record id
/// twice in the file is an error, as are files without a name column.
pub fn read_list(path: &Path) -> Result<Vec<ListEntry>, ListError> {
    let what = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fail = |e: &dyn std::fmt::Display| ListError(format!("无法读取 {what}：{e}"));
    let mut book = sheet::open(path).map_err(|e| fail(&e))?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    if book.format() == Format::Csv && book.encoding() == Some(encoding_rs::UTF_8.name()) {
        // The common large case, read straight (the general reader converts every cell).
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(path)
            .map_err(|e| fail(&e))?;
        for (n, r) in reader.records().enumerate() {
            let r = r.map_err(|e| ListError(format!("{what} 第{}行无法读取：{e}", n + 1)))?;
            rows.push(
                r.iter()
                    .map(|c| c.trim_start_matches('\u{feff}').to_owned())
                    .collect(),
            );
        }
    } else {
        for row in book.rows(0).map_err(|e| fail(&e))? {
            rows.push(
                row.map_err(|e| fail(&e))?
                    .cells
                    .iter()
                    .map(|c| c.display())
                    .collect(),
            );
        }
    }
    entries(&what, rows)
}

fn entries(what: &str, rows: Vec<Vec<String>>) -> Result<Vec<ListEntry>, ListError> {
    let Some(header_at) = rows
        .iter()
        .position(|r| r.iter().any(|c| field_of(c) == Some("name")))
    else {
        return Err(ListError(format!(
            "{what} 中找不到“姓名”（name）列；表头应包含 {}",
            COLUMNS.join(",")
        )));
    };
    let header = &rows[header_at];
    let fields: Vec<Option<&str>> = header.iter().map(|h| field_of(h)).collect();
    let col = |f: &str| fields.iter().position(|x| *x == Some(f));
    let cols: Vec<Option<usize>> = COLUMNS.iter().map(|c| col(c)).collect();
    let (hukou_col, away_col) = (col("hukou"), col("parents_away"));
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(rows.len().saturating_sub(header_at + 1));
    for (n, row) in rows.iter().enumerate().skip(header_at + 1) {
        let line = n as u32 + 1;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let get = |c: Option<usize>| {
            c.and_then(|c| row.get(c))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let record_id = get(cols[0]).unwrap_or_else(|| format!("第{line}行"));
        if !seen.insert(record_id.clone()) {
            return Err(ListError(format!(
                "{what} 第{line}行的编号（record_id）“{record_id}”与前面的行重复"
            )));
        }
        let extra = header
            .iter()
            .enumerate()
            .filter(|(i, _)| fields[*i].is_none())
            .filter_map(|(i, h)| Some((h.trim().to_owned(), get(Some(i))?)))
            .collect();
        out.push(ListEntry {
            record: Record {
                record_id,
                name: get(cols[1]),
                sex: get(cols[2]),
                birth_date: get(cols[3]),
                id_number: get(cols[4]),
                county: get(cols[5]),
                town: get(cols[6]),
                village: get(cols[7]),
            },
            row: line,
            hukou: get(hukou_col).and_then(|s| Hukou::read(&s)),
            parents_away: get(away_col).and_then(|s| read_yes_no(&s)),
            extra,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &[&str]) -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn chinese_titles_extras_and_row_numbers() {
        let list = entries(
            "学籍.csv",
            rows(&[
                "2026年学籍名单,,,,,",
                "姓名,性别,公民身份号码,学校,是否留守,户口性质",
                "王小明,男,522730201607310012,冠山小学,是,农业家庭户口",
                ",,,,,",
                "李华,女,,龙山中学,否,非农业",
            ]),
        )
        .unwrap();
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
        let e = entries("a.csv", rows(&["编号,性别", "1,男"])).unwrap_err();
        assert!(e.0.contains("a.csv") && e.0.contains("姓名"), "{e}");
        let e = entries("a.csv", rows(&["record_id,name", "1,甲", "1,乙"])).unwrap_err();
        assert!(e.0.contains("第3行") && e.0.contains("“1”"), "{e}");
    }
}
