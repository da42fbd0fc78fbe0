//! Shared pieces of the Excel outputs: every value written as text (ID numbers never become
//! numbers), text that Excel would take for a formula neutralised, and the error workbook an
//! import gives back.

use std::path::Path;

use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::columns::Mapping;
use crate::read::Problem;

/// Cell formats of one workbook.
pub struct Formats {
    pub text: Format,
    /// The same, with Excel's quote prefix: a value starting with = + - @ stays text even when
    /// the cell is edited (CSV/formula injection).
    pub quoted: Format,
}

impl Formats {
    pub fn new(base: Format) -> Formats {
        let text = base.set_num_format("@");
        Formats {
            quoted: text.clone().set_quote_prefix(),
            text,
        }
    }
}

/// Whether a value would start a formula if typed into a cell.
pub fn looks_like_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Writes a value as text, neutralised when it looks like a formula.
pub fn put_text(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    value: &str,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let format = if looks_like_formula(value) {
        &formats.quoted
    } else {
        &formats.text
    };
    ws.write_string_with_format(row, col, value, format)?;
    Ok(())
}

/// A row in error: its number in the file, its cells as shown and what is wrong.
pub struct ErrorRow<'a> {
    pub row: u32,
    pub cells: &'a [String],
    pub problems: &'a [Problem],
}

/// The rows in error, as they were, with a column saying what is wrong with each and the
/// offending cells shaded: fix them and import this file again.
pub fn write_error_workbook(
    mapping: &Mapping,
    rows: &[ErrorRow<'_>],
    path: &Path,
) -> Result<usize, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("错误行")?;
    let border = Format::new().set_border(FormatBorder::Thin);
    let formats = Formats::new(border.clone());
    let bad = Formats::new(border.clone().set_background_color(Color::RGB(0xF8CBAD)));
    let head = border
        .clone()
        .set_bold()
        .set_background_color(Color::RGB(0xD9E1F2));
    let width = mapping.columns.len();
    for c in &mapping.columns {
        ws.write_string_with_format(0, c.index as u16, &c.title, &head)?;
        ws.set_column_width(c.index as u16, 12)?;
    }
    ws.write_string_with_format(0, width as u16, "错误原因（修改后请删除此列）", &head)?;
    ws.write_string_with_format(0, width as u16 + 1, "原行号", &head)?;
    ws.set_column_width(width as u16, 60)?;
    let mut n = 0u32;
    for r in rows {
        let problems = r.problems;
        n += 1;
        for col in 0..width {
            let value = r.cells.get(col).map(String::as_str).unwrap_or("");
            let blamed = problems.iter().any(|p| p.column == Some(col));
            put_text(
                ws,
                n,
                col as u16,
                value,
                if blamed { &bad } else { &formats },
            )?;
        }
        let reasons: Vec<String> = problems
            .iter()
            .map(|p| crate::read::describe(p, r.row, mapping))
            .collect();
        put_text(ws, n, width as u16, &reasons.join("；"), &formats)?;
        ws.write_number_with_format(n, width as u16 + 1, f64::from(r.row), &border)?;
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save(path)?;
    Ok(n as usize)
}

/// A titled table as `.xlsx` (a 通报 ranking, a list): the title, a line under it, the header and
/// the rows, every value as text.
pub fn table_workbook(
    title: &str,
    subtitle: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let last = header.len().saturating_sub(1) as u16;
    let big = Format::new().set_bold().set_font_size(14);
    ws.merge_range(0, 0, 0, last, title, &big)?;
    ws.merge_range(1, 0, 1, last, subtitle, &Format::new())?;
    let head = Format::new().set_bold().set_border(FormatBorder::Thin);
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &head)?;
        ws.set_column_width(c as u16, (h.chars().count() as f64 * 2.2).max(10.0))?;
    }
    let formats = Formats::new(Format::new().set_border(FormatBorder::Thin));
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put_text(ws, 3 + r as u32, c as u16, v, &formats)?;
        }
    }
    ws.set_freeze_panes(3, 0)?;
    wb.save_to_buffer()
}
