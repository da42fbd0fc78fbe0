//! A school's attendance sheet (考勤表) read as absences: the month's grid that class teachers keep
//! (one row per pupil, one column per day, a mark in each cell: √ present, 旷/× unexcused, 病/事
//! excused), or a list of absences (one row per pupil and day). The sheet's size is not trusted:
//! rows and columns are read up to a limit and the rest refused with a message.

use chrono::NaiveDate;

use crate::sheet::{Book, Cell, Row};

/// The most pupil rows and columns an attendance sheet is read for.
pub const MAX_ROWS: usize = 3000;
pub const MAX_COLUMNS: usize = 64;
/// Rows searched for the header.
const HEADER_SEARCH: usize = 15;

/// What a cell of the grid says of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Present,
    /// 旷课: away without a reason (counts towards 劝返).
    Unexcused,
    /// 病假、事假: away with leave.
    Excused,
}

/// A mark as teachers write it; None for a mark not known.
pub fn mark(s: &str) -> Option<Mark> {
    let s = s.trim();
    const PRESENT: [&str; 9] = ["", "√", "✓", "✔", "到", "出勤", "到校", "在校", "0"];
    const UNEXCUSED: [&str; 12] = [
        "旷",
        "旷课",
        "×",
        "✗",
        "✘",
        "X",
        "x",
        "缺",
        "缺勤",
        "未到",
        "无故",
        "无故缺勤",
    ];
    const EXCUSED: [&str; 9] = [
        "病", "病假", "事", "事假", "假", "请假", "公", "公假", "丧假",
    ];
    if PRESENT.contains(&s) {
        Some(Mark::Present)
    } else if UNEXCUSED.contains(&s) {
        Some(Mark::Unexcused)
    } else if EXCUSED.contains(&s) {
        Some(Mark::Excused)
    } else {
        None
    }
}

/// A pupil's row of the sheet and the days away it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetPupil {
    /// The row as Excel numbers it.
    pub row: u32,
    pub name: String,
    pub id_number: Option<String>,
    pub unexcused: Vec<NaiveDate>,
    pub excused: Vec<NaiveDate>,
}

/// What was read: the pupils with their days away, and what could not be read (by row).
#[derive(Debug, Clone, Default)]
pub struct AttendanceRead {
    pub pupils: Vec<SheetPupil>,
    pub problems: Vec<String>,
}

fn text(c: &Cell) -> String {
    c.display().trim().to_owned()
}

fn header_kind(s: &str) -> Option<&'static str> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    match s.as_str() {
        "姓名" | "学生姓名" | "学生" | "名字" => Some("name"),
        "身份证号" | "身份证号码" | "公民身份号码" | "学生身份证号" => {
            Some("id")
        }
        "缺勤日期" | "日期" | "缺课日期" => Some("date"),
        "类别" | "类型" | "缺勤类别" | "缺勤类型" | "原因" | "缺勤原因" | "请假类型" => {
            Some("kind")
        }
        _ => None,
    }
}

/// A header cell that names a day of the month: 1–31 as a number or as text (1, 01, 1日, 1号).
fn day_of(c: &Cell) -> Option<u32> {
    let n = match c {
        Cell::Number(n) if n.fract() == 0.0 => *n as i64,
        Cell::Text(t) => t.trim().trim_end_matches(['日', '号']).parse().ok()?,
        _ => return None,
    };
    (1..=31).contains(&n).then_some(n as u32)
}

/// A year and month written in the sheet's title: 2026年11月, 2026-11, 2026.11, 2026/11.
pub fn month_in(s: &str) -> Option<(i32, u32)> {
    let digits: Vec<(usize, String)> = {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut start = 0;
        for (i, ch) in s.char_indices() {
            if ch.is_ascii_digit() {
                if cur.is_empty() {
                    start = i;
                }
                cur.push(ch);
            } else if !cur.is_empty() {
                out.push((start, std::mem::take(&mut cur)));
            }
        }
        if !cur.is_empty() {
            out.push((start, cur));
        }
        out
    };
    digits.windows(2).find_map(|w| {
        let (year, month) = (&w[0].1, &w[1].1);
        let between = &s[w[0].0 + year.len()..w[1].0];
        let joined = matches!(between.trim(), "年" | "-" | "." | "/");
        let (y, m): (i32, u32) = (year.parse().ok()?, month.parse().ok()?);
        (joined && year.len() == 4 && (2000..=2100).contains(&y) && (1..=12).contains(&m))
            .then_some((y, m))
    })
}

/// Reads the first sheet. `month` is the month the grid's day columns are of when the sheet does
/// not say it (a title like "2026年11月考勤表" or date cells say it otherwise); days after `today`
/// are not taken.
pub fn read_attendance(
    book: &mut Book,
    month: Option<(i32, u32)>,
    today: NaiveDate,
) -> Result<AttendanceRead, String> {
    let mut rows = book.rows(0).map_err(|e| e.to_string())?;
    let mut head: Vec<Row> = Vec::new();
    let mut title_month = None;
    // The header: the first row naming the pupil's column.
    let header = loop {
        let Some(row) = rows.next() else {
            return Err("没有找到表头：请确认表中有“姓名”一列".into());
        };
        let row = row.map_err(|e| e.to_string())?;
        if head.len() >= HEADER_SEARCH {
            return Err(format!(
                "前{HEADER_SEARCH}行中没有找到表头：请确认表中有“姓名”一列"
            ));
        }
        if title_month.is_none() {
            title_month = row
                .cells
                .iter()
                .take(MAX_COLUMNS)
                .find_map(|c| month_in(&text(c)));
        }
        if row
            .cells
            .iter()
            .take(MAX_COLUMNS)
            .any(|c| header_kind(&text(c)) == Some("name"))
        {
            break row;
        }
        head.push(row);
    };
    let cells: Vec<&Cell> = header.cells.iter().take(MAX_COLUMNS).collect();
    let col = |kind: &str| {
        cells
            .iter()
            .position(|c| header_kind(&text(c)) == Some(kind))
    };
    let name_col = col("name").expect("found above");
    let id_col = col("id");
    let mut out = AttendanceRead::default();

    // A list of absences: 姓名, 缺勤日期[, 类别].
    if let Some(date_col) = col("date") {
        let kind_col = col("kind");
        let mut by_pupil: Vec<SheetPupil> = Vec::new();
        for (n, row) in rows.enumerate() {
            let row = row.map_err(|e| e.to_string())?;
            if n >= MAX_ROWS {
                out.problems
                    .push(format!("表中超过{MAX_ROWS}行，其余未导入；请分开上传"));
                break;
            }
            let at = row.index + 1;
            let get = |i: Option<usize>| {
                i.and_then(|i| row.cells.get(i))
                    .map(text)
                    .unwrap_or_default()
            };
            let name = get(Some(name_col));
            if name.is_empty() {
                continue;
            }
            let day = match row.cells.get(date_col) {
                Some(Cell::Date(d)) => Some(*d),
                Some(c) => shouwang_domain::input::parse_date(&text(c)),
                None => None,
            };
            let Some(day) = day else {
                out.problems
                    .push(format!("第{at}行：缺勤日期“{}”看不懂", get(Some(date_col))));
                continue;
            };
            let kind = get(kind_col);
            let m = if kind.is_empty() {
                Some(Mark::Unexcused)
            } else {
                mark(&kind).or_else(|| {
                    // Free text: leave with a reason, or not.
                    (kind.contains('病') || kind.contains('假')).then_some(Mark::Excused)
                })
            };
            let id = get(id_col);
            let entry = match by_pupil
                .iter_mut()
                .find(|p| p.name == name && p.id_number.as_deref().unwrap_or("") == id)
            {
                Some(p) => p,
                None => {
                    by_pupil.push(SheetPupil {
                        row: at,
                        name: name.clone(),
                        id_number: (!id.is_empty()).then_some(id.clone()),
                        unexcused: vec![],
                        excused: vec![],
                    });
                    by_pupil.last_mut().expect("pushed")
                }
            };
            if day > today {
                out.problems
                    .push(format!("第{at}行：{day} 晚于今天，未导入"));
                continue;
            }
            match m {
                Some(Mark::Excused) => entry.excused.push(day),
                _ => entry.unexcused.push(day),
            }
        }
        out.pupils = by_pupil;
        return Ok(out);
    }

    // The month's grid: one column per day.
    let dated: Vec<(usize, NaiveDate)> = cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Cell::Date(d) => Some((i, *d)),
            _ => None,
        })
        .collect();
    let days: Vec<(usize, NaiveDate)> = if dated.len() >= 5 {
        dated
    } else {
        let numbered: Vec<(usize, u32)> = cells
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != name_col && Some(*i) != id_col)
            .filter_map(|(i, c)| day_of(c).map(|d| (i, d)))
            .collect();
        if numbered.len() < 5 {
            return Err(
                "表头中没有找到日期列：考勤表应每天一列（1、2、3……或日期），或者有“缺勤日期”一列"
                    .into(),
            );
        }
        let Some((y, m)) = title_month.or(month) else {
            return Err(
                "考勤表没有写明年月：请在标题中写明（如“2026年11月考勤表”）或在上传时选择月份"
                    .into(),
            );
        };
        numbered
            .into_iter()
            .filter_map(|(i, d)| NaiveDate::from_ymd_opt(y, m, d).map(|date| (i, date)))
            .collect()
    };
    for (n, row) in rows.enumerate() {
        let row = row.map_err(|e| e.to_string())?;
        if n >= MAX_ROWS {
            out.problems
                .push(format!("表中超过{MAX_ROWS}行，其余未导入；请分开上传"));
            break;
        }
        let at = row.index + 1;
        let name = row.cells.get(name_col).map(text).unwrap_or_default();
        if name.is_empty() || name.contains("合计") || name.contains("说明") {
            continue;
        }
        let mut pupil = SheetPupil {
            row: at,
            name,
            id_number: id_col
                .and_then(|i| row.cells.get(i))
                .map(text)
                .filter(|s| !s.is_empty()),
            unexcused: vec![],
            excused: vec![],
        };
        for (i, day) in &days {
            let value = row.cells.get(*i).map(text).unwrap_or_default();
            match mark(&value) {
                Some(Mark::Present) => {}
                Some(_) if *day > today => out.problems.push(format!(
                    "第{at}行{}列：{day} 晚于今天，“{value}”未导入",
                    crate::sheet::column_letter(*i)
                )),
                Some(Mark::Unexcused) => pupil.unexcused.push(*day),
                Some(Mark::Excused) => pupil.excused.push(*day),
                None => out.problems.push(format!(
                    "第{at}行{}列：“{value}”不是考勤符号（√ 出勤，旷 或 × 旷课，病、事 请假）",
                    crate::sheet::column_letter(*i)
                )),
            }
        }
        if !pupil.unexcused.is_empty() || !pupil.excused.is_empty() {
            out.pupils.push(pupil);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn book(csv: &str) -> (tempfile::TempDir, Book) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("考勤.csv");
        std::fs::write(&path, csv).unwrap();
        let book = crate::sheet::open(&path).unwrap();
        (dir, book)
    }

    #[test]
    fn marks_as_teachers_write_them() {
        assert_eq!(mark("√"), Some(Mark::Present));
        assert_eq!(mark(""), Some(Mark::Present));
        assert_eq!(mark("旷"), Some(Mark::Unexcused));
        assert_eq!(mark(" × "), Some(Mark::Unexcused));
        assert_eq!(mark("病假"), Some(Mark::Excused));
        assert_eq!(mark("?"), None);
        assert_eq!(month_in("冠山小学2026年11月学生考勤表"), Some((2026, 11)));
        assert_eq!(month_in("考勤 2026-9"), Some((2026, 9)));
        assert_eq!(month_in("2026年第3周"), None);
        assert_eq!(month_in("三年级2班 共35人"), None);
    }

    #[test]
    fn a_months_grid_gives_each_pupils_days_away_and_names_what_it_cannot_read() {
        let csv = "冠山小学2026年11月考勤表\n\
                   姓名,16,17,18,19,20,23,24,25\n\
                   王小明,旷,旷,×,旷,旷,旷,旷,旷\n\
                   李小红,√,病,√,√,√,√,√,\n\
                   张小军,√,√,?,√,√,√,√,√\n\
                   赵小兰,√,√,√,√,√,√,√,√\n\
                   合计,,,,,,,,\n";
        let (_d, mut b) = book(csv);
        let r = read_attendance(&mut b, None, ymd(2026, 11, 24)).unwrap();
        assert_eq!(r.pupils.len(), 2, "{:?}", r.pupils);
        let wang = &r.pupils[0];
        assert_eq!(wang.name, "王小明");
        assert_eq!(wang.row, 3);
        assert_eq!(wang.unexcused.len(), 7);
        assert_eq!(wang.unexcused[0], ymd(2026, 11, 16));
        assert_eq!(r.pupils[1].excused, vec![ymd(2026, 11, 17)]);
        // The unknown mark is named by row and column; a mark on a day to come is not taken.
        assert!(
            r.problems.iter().any(|p| p.contains("第5行D列")),
            "{:?}",
            r.problems
        );
        assert!(
            r.problems.iter().any(|p| p.contains("晚于今天")),
            "{:?}",
            r.problems
        );
    }

    #[test]
    fn a_grid_without_its_month_asks_for_it_and_a_list_of_absences_reads_too() {
        let grid = "姓名,1,2,3,4,5\n王小明,旷,旷,旷,旷,旷\n";
        let (_d, mut b) = book(grid);
        assert!(
            read_attendance(&mut b, None, ymd(2026, 11, 24))
                .unwrap_err()
                .contains("年月")
        );
        let (_d, mut b) = book(grid);
        let r = read_attendance(&mut b, Some((2026, 11)), ymd(2026, 11, 24)).unwrap();
        assert_eq!(r.pupils[0].unexcused.len(), 5);
        let list = "学生姓名,身份证号,缺勤日期,缺勤原因\n\
                    王小明,,2026-11-16,\n\
                    王小明,,2026/11/17,旷课\n\
                    李小红,,2026-11-18,发烧病假\n\
                    李小红,,十一月,\n";
        let (_d, mut b) = book(list);
        let r = read_attendance(&mut b, None, ymd(2026, 11, 24)).unwrap();
        assert_eq!(r.pupils.len(), 2);
        assert_eq!(r.pupils[0].unexcused.len(), 2);
        assert_eq!(r.pupils[1].excused, vec![ymd(2026, 11, 18)]);
        assert!(r.problems[0].contains("第5行"), "{:?}", r.problems);
        let (_d, mut b) = book("班级,人数\n三(2),35\n");
        assert!(read_attendance(&mut b, None, ymd(2026, 11, 24)).is_err());
    }
}
