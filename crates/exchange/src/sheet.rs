//! Reading the sheets people send: `.xlsx`, `.xls` (BIFF, still common) and `.csv` in UTF-8,
//! UTF-8 with BOM or GB18030/GBK, as a stream of rows of typed cells. The format is told by the
//! file's bytes, not its name: a roster saved as "花名册.xls" from WPS is often really xlsx or CSV.
//!
//! `.xlsx` sheets stream cell by cell (a 100,000-row roster is never held whole); `.xls` files are
//! parsed in one piece by calamine, as the BIFF format demands; CSV streams.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use calamine::{Data, DataRef, Dimensions, Reader, Xls, XlsError, Xlsx, XlsxCellReader};
use chrono::NaiveDate;
use encoding_rs::{Encoding, GB18030, UTF_8};

mod guard;
pub use guard::*;

/// One cell as the sheet holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a person sees it in Excel: integral numbers without decimals, numbers of 15
    /// or more digits in scientific notation the way Excel shows them.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => format_number(*n),
            Cell::Date(d) => d.to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        }
    }
}

pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else if n.abs() >= 1e15 {
        // Excel's General format: 6 significant digits, e.g. 5.22730E+17.
        let exp = n.abs().log10().floor() as i32;
        let mantissa = n / 10f64.powi(exp);
        format!("{mantissa:.5}E+{exp}")
    } else {
        format!("{n}")
    }
}

/// One row: its 0-based index in the sheet and its cells from column A.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub index: u32,
    pub cells: Vec<Cell>,
}

/// A rectangle of merged cells, 0-based and inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merge {
    pub first_row: u32,
    pub first_col: u32,
    pub last_row: u32,
    pub last_col: u32,
}

/// Excel's column letters: 0 → A, 26 → AA.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut s = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

impl Merge {
    /// The region as Excel writes it (A1:C2), for messages.
    pub fn a1(&self) -> String {
        format!(
            "{}{}:{}{}",
            column_letter(self.first_col as usize),
            self.first_row + 1,
            column_letter(self.last_col as usize),
            self.last_row + 1
        )
    }
}

impl From<Dimensions> for Merge {
    fn from(d: Dimensions) -> Self {
        Merge {
            first_row: d.start.0,
            first_col: d.start.1,
            last_row: d.end.0,
            last_col: d.end.1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("文件是空的，没有任何内容")]
    Empty,
    #[error("无法识别的文件：请上传 Excel 表格（.xlsx、.xls）或 CSV 文件")]
    NotASpreadsheet,
    #[error("文件设置了打开密码，无法读取：请在 Excel 或 WPS 中取消密码、另存后再导入")]
    Encrypted,
    #[error("文件已损坏或不完整，无法读取（{0}）")]
    Damaged(String),
    #[error("表格中没有工作表")]
    NoSheet,
    /// The file is past what a roster can be (or built to exhaust the server): names the limit.
    #[error("{0}")]
    TooLarge(String),
    #[error("读取文件失败：{0}")]
    Io(#[from] std::io::Error),
}

/// Excel's own limits: no real sheet goes past them, so a cell or merge beyond is a crafted file.
pub const MAX_COLUMNS: u32 = 16_384;
pub const MAX_ROWS: u32 = 1_048_576;
/// Merged regions one sheet may declare.
pub const MAX_MERGES: usize = 100_000;

/// The file formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Xls,
    Csv,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Xlsx => "Excel 工作簿（.xlsx）",
            Format::Xls => "Excel 97-2003 工作簿（.xls）",
            Format::Csv => "CSV 文本",
        }
    }
}

/// An opened spreadsheet file.
pub struct Book {
    inner: Inner,
    sheets: Vec<String>,
    _turn: ReadingTurn,
}

/// Spreadsheets this process reads at once, whoever asks: each reading is bounded (the limits
/// above: one piece of XML, the shared strings, the .xls grid), and so is their sum — several
/// users uploading at once wait their turn instead of adding up (two crafted uploads at once
/// aborted the server). A turn is taken when a file is opened and given back when its `Book` is
/// dropped; the last one out hands the freed memory back to the system ([`on_idle`]).
pub const READINGS_AT_ONCE: usize = 2;

static READINGS: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());
static IDLE_HOOK: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets what runs when the last reading ends (the binary returns its allocator's free pages to
/// the system: a reading's memory must not stay with the process after the job).
pub fn on_idle(hook: fn()) {
    let _ = IDLE_HOOK.set(hook);
}

/// Readings under way in this process (for tests and the server's status).
pub fn readings_now() -> usize {
    *READINGS.0.lock().unwrap_or_else(|e| e.into_inner())
}

struct ReadingTurn;

std::thread_local! {
    /// Turns this thread holds: a thread that reads one file and opens another while it holds the
    /// first (comparing two sheets) takes its next turn without waiting, or two such threads
    /// would wait on each other for ever.
    static HELD_HERE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl ReadingTurn {
    /// Waits for a turn (called on a reader's own thread, never on the async workers).
    fn take() -> ReadingTurn {
        let (count, freed) = &READINGS;
        let mut n = count.lock().unwrap_or_else(|e| e.into_inner());
        if HELD_HERE.get() == 0 {
            while *n >= READINGS_AT_ONCE {
                n = freed.wait(n).unwrap_or_else(|e| e.into_inner());
            }
        }
        *n += 1;
        HELD_HERE.set(HELD_HERE.get() + 1);
        ReadingTurn
    }
}

impl Drop for ReadingTurn {
    fn drop(&mut self) {
        HELD_HERE.set(HELD_HERE.get().saturating_sub(1));
        let (count, freed) = &READINGS;
        let idle = {
            let mut n = count.lock().unwrap_or_else(|e| e.into_inner());
            *n -= 1;
            *n == 0
        };
        freed.notify_all();
        if idle && let Some(hook) = IDLE_HOOK.get() {
            hook();
        }
    }
}

enum Inner {
    Xlsx(Box<Xlsx<BufReader<File>>>),
    Xls(Box<Xls<std::io::Cursor<Vec<u8>>>>),
    Csv {
        path: PathBuf,
        encoding: &'static Encoding,
        delimiter: u8,
    },
}

const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn head(path: &Path) -> Result<Vec<u8>, SheetError> {
    let mut file = File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Err(SheetError::Empty);
    }
    let mut head = Vec::with_capacity(1 << 16);
    (&mut file).take(1 << 16).read_to_end(&mut head)?;
    Ok(head)
}

/// The format a file's first bytes announce, without opening it as a workbook.
pub fn sniff_format(path: &Path) -> Result<Format, SheetError> {
    let head = head(path)?;
    Ok(if head.starts_with(b"PK\x03\x04") {
        Format::Xlsx
    } else if head.starts_with(&OLE_MAGIC) {
        Format::Xls
    } else {
        Format::Csv
    })
}

/// Opens a spreadsheet, telling its format from its first bytes.
pub fn open(path: &Path) -> Result<Book, SheetError> {
    let _turn = ReadingTurn::take();
    let head = head(path)?;
    if head.starts_with(b"PK\x03\x04") {
        check_xlsx_parts(path)?;
        let file = File::open(path)?;
        let wb = guarded(|| {
            Xlsx::new(BufReader::new(file)).map_err(|e| match e {
                calamine::XlsxError::Zip(z) => SheetError::Damaged(z.to_string()),
                // A zip without a workbook in it: a Word file, a photo archive…
                _ => SheetError::NotASpreadsheet,
            })
        })?;
        let sheets = wb.sheet_names();
        return Ok(Book {
            inner: Inner::Xlsx(Box::new(wb)),
            sheets,
            _turn,
        });
    }
    if head.starts_with(&OLE_MAGIC) {
        // An encrypted .xlsx is an OLE container holding "EncryptedPackage"; calamine cannot
        // open it, so say so instead of calling the file broken.
        if contains_utf16(&std::fs::read(path)?, "EncryptedPackage") {
            return Err(SheetError::Encrypted);
        }
        let (stream, data) = check_xls_grid(path)?;
        let clean = clean_container(stream, &data)?;
        drop(data);
        let wb = guarded(|| {
            Xls::new(std::io::Cursor::new(clean)).map_err(|e| match e {
                XlsError::Password => SheetError::Encrypted,
                XlsError::Cfb(_) | XlsError::Io(_) => SheetError::Damaged(e.to_string()),
                other => SheetError::Damaged(other.to_string()),
            })
        })?;
        let sheets = wb.sheet_names();
        return Ok(Book {
            inner: Inner::Xls(Box::new(wb)),
            sheets,
            _turn,
        });
    }
    if head.contains(&0) {
        return Err(SheetError::NotASpreadsheet);
    }
    let encoding = sniff_encoding(&head);
    let delimiter = sniff_delimiter(&head, encoding);
    check_csv_shape(path, delimiter)?;
    Ok(Book {
        inner: Inner::Csv {
            path: path.to_owned(),
            encoding,
            delimiter,
        },
        sheets: vec!["CSV".to_owned()],
        _turn,
    })
}

/// Walks a CSV file once before it is read, honouring quotes, and refuses a record of more than
/// [`MAX_COLUMNS`] fields or a field longer than [`MAX_XML_PIECE`]: the CSV reader holds a whole
/// record, so one 64 MB line of commas would be ~64 million cells. The delimiters and the quote
/// are ASCII, which neither UTF-8 nor GB18030 uses inside a character.
fn check_csv_shape(path: &Path, delimiter: u8) -> Result<(), SheetError> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let (mut quoted, mut fields, mut field) = (false, 1u32, 0usize);
    let mut line = 1u64;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        for &b in buf {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => {
                    line += 1;
                    (fields, field) = (1, 0);
                    continue;
                }
                b'\n' => line += 1,
                _ if b == delimiter && !quoted => {
                    fields += 1;
                    field = 0;
                    if fields > MAX_COLUMNS {
                        return Err(too_large(&format!("第 {line} 行超过 {MAX_COLUMNS} 列")));
                    }
                    continue;
                }
                _ => {}
            }
            field += 1;
            if field > MAX_XML_PIECE {
                return Err(too_large(&format!(
                    "第 {line} 行有一格超过 {} KB",
                    MAX_XML_PIECE >> 10
                )));
            }
        }
        let n = buf.len();
        reader.consume(n);
    }
}

fn contains_utf16(bytes: &[u8], needle: &str) -> bool {
    let pattern: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(pattern.len()).any(|w| w == pattern)
}

/// UTF-8 (with or without BOM) when the head decodes as UTF-8; otherwise GB18030, the superset
/// of GBK that Excel and WPS on Chinese Windows write as "CSV".
fn sniff_encoding(head: &[u8]) -> &'static Encoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return UTF_8;
    }
    match std::str::from_utf8(head) {
        Ok(_) => UTF_8,
        // A multi-byte character cut at the end of the sample is still UTF-8.
        Err(e) if e.error_len().is_none() => UTF_8,
        Err(_) => GB18030,
    }
}

/// The separator the header uses: the one found most often in any of the first lines with text
/// (a title line above the header has none), a comma where there is none.
fn sniff_delimiter(head: &[u8], encoding: &'static Encoding) -> u8 {
    let (text, _, _) = encoding.decode(head);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(10)
        .collect();
    let most = |d: u8| {
        lines
            .iter()
            .map(|l| l.matches(char::from(d)).count())
            .max()
            .unwrap_or(0)
    };
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| (most(*d), *d == b','))
        .filter(|d| most(*d) > 0)
        .unwrap_or(b',')
}

/// Rows of one sheet, in order.
pub type Rows<'a> = Box<dyn Iterator<Item = Result<Row, SheetError>> + 'a>;

impl Book {
    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Xlsx(_) => Format::Xlsx,
            Inner::Xls(_) => Format::Xls,
            Inner::Csv { .. } => Format::Csv,
        }
    }

    pub fn sheet_names(&self) -> &[String] {
        &self.sheets
    }

    /// The CSV text encoding, for CSV files.
    pub fn encoding(&self) -> Option<&'static str> {
        match &self.inner {
            Inner::Csv { encoding, .. } => Some(encoding.name()),
            _ => None,
        }
    }

    /// The CSV field separator the header uses (`,`, tab or `;`), for CSV files.
    pub fn delimiter(&self) -> Option<u8> {
        match &self.inner {
            Inner::Csv { delimiter, .. } => Some(*delimiter),
            _ => None,
        }
    }

    /// The merged cells of a sheet; refused past Excel's grid or [`MAX_MERGES`] regions.
    pub fn merges(&mut self, sheet: usize) -> Result<Vec<Merge>, SheetError> {
        let name = self.sheets.get(sheet).ok_or(SheetError::NoSheet)?.clone();
        let merges: Vec<Merge> = match &mut self.inner {
            Inner::Xlsx(wb) => guarded(|| {
                wb.merge_cells_by_sheet_name(&name)
                    .map_err(|e| SheetError::Damaged(e.to_string()))
            })?
            .into_iter()
            .map(Merge::from)
            .collect(),
            Inner::Xls(wb) => guarded(|| {
                wb.merge_cells_by_sheet_name(&name)
                    .map_err(|e| SheetError::Damaged(e.to_string()))
            })?
            .into_iter()
            .map(Merge::from)
            .collect(),
            Inner::Csv { .. } => Vec::new(),
        };
        if merges.len() > MAX_MERGES {
            return Err(too_large(&format!("合并单元格超过 {MAX_MERGES} 处")));
        }
        if let Some(m) = merges
            .iter()
            .find(|m| m.last_col >= MAX_COLUMNS || m.last_row >= MAX_ROWS)
        {
            return Err(too_large(&format!(
                "合并单元格 {} 超出 Excel 的最大范围（{MAX_ROWS} 行 × {MAX_COLUMNS} 列）",
                m.a1()
            )));
        }
        Ok(merges)
    }

    /// Streams the rows of a sheet. Rows without any cell may be skipped.
    pub fn rows(&mut self, sheet: usize) -> Result<Rows<'_>, SheetError> {
        let name = self.sheets.get(sheet).ok_or(SheetError::NoSheet)?.clone();
        match &mut self.inner {
            Inner::Xlsx(wb) => {
                let reader = guarded(|| {
                    wb.worksheet_cells_reader(&name)
                        .map_err(|e| SheetError::Damaged(e.to_string()))
                })?;
                Ok(Box::new(XlsxRows {
                    reader,
                    pending: None,
                    done: false,
                }))
            }
            Inner::Xls(wb) => {
                let range = guarded(|| {
                    wb.worksheet_range(&name)
                        .map_err(|e| SheetError::Damaged(e.to_string()))
                })?;
                let (r0, c0) = range.start().unwrap_or((0, 0));
                let rows: Vec<Row> = range
                    .rows()
                    .enumerate()
                    .map(|(i, cells)| {
                        let mut out = vec![Cell::Empty; c0 as usize];
                        out.extend(cells.iter().map(cell_of_data));
                        Row {
                            index: r0 + i as u32,
                            cells: out,
                        }
                    })
                    .collect();
                Ok(Box::new(rows.into_iter().map(Ok)))
            }
            Inner::Csv {
                path,
                encoding,
                delimiter,
            } => {
                let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding))
                    .build(File::open(&*path)?);
                let reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .delimiter(*delimiter)
                    .from_reader(BufReader::with_capacity(1 << 16, decoder));
                Ok(Box::new(reader.into_records().enumerate().map(|(i, r)| {
                    let record = r.map_err(|e| SheetError::Damaged(e.to_string()))?;
                    Ok(Row {
                        index: i as u32,
                        cells: record
                            .iter()
                            .map(|s| {
                                if s.is_empty() {
                                    Cell::Empty
                                } else {
                                    Cell::Text(s.to_owned())
                                }
                            })
                            .collect(),
                    })
                })))
            }
        }
    }
}

/// Groups the xlsx cell stream into rows.
struct XlsxRows<'a> {
    reader: XlsxCellReader<'a, BufReader<File>>,
    pending: Option<(u32, u32, Cell)>,
    done: bool,
}

impl Iterator for XlsxRows<'_> {
    type Item = Result<Row, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done && self.pending.is_none() {
            return None;
        }
        let mut row: Option<Row> = None;
        loop {
            let next = match self.pending.take() {
                Some(p) => Some(p),
                None if self.done => None,
                None => match guarded(|| {
                    self.reader
                        .next_cell()
                        .map_err(|e| SheetError::Damaged(e.to_string()))
                }) {
                    Ok(Some(c)) => {
                        let (r, col) = c.get_position();
                        // Checked before the row grows to hold the cell.
                        if col >= MAX_COLUMNS || r >= MAX_ROWS {
                            self.done = true;
                            return Some(Err(too_large(&format!(
                                "第{}行有单元格在第{}列，超出 Excel 的最大范围（{MAX_ROWS} 行 × {MAX_COLUMNS} 列）",
                                u64::from(r) + 1,
                                u64::from(col) + 1
                            ))));
                        }
                        Some((r, col, cell_of_ref(c.get_value())))
                    }
                    Ok(None) => {
                        self.done = true;
                        None
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
            };
            let Some((r, col, cell)) = next else {
                return row.map(Ok);
            };
            match &mut row {
                Some(current) if current.index != r => {
                    self.pending = Some((r, col, cell));
                    return row.map(Ok);
                }
                Some(current) => put(&mut current.cells, col, cell),
                None => {
                    let mut cells = Vec::new();
                    put(&mut cells, col, cell);
                    row = Some(Row { index: r, cells });
                }
            }
        }
    }
}

fn put(cells: &mut Vec<Cell>, col: u32, cell: Cell) {
    let col = col as usize;
    if cells.len() <= col {
        cells.resize(col + 1, Cell::Empty);
    }
    cells[col] = cell;
}

fn date_of(dt: &calamine::ExcelDateTime) -> Cell {
    match dt.as_datetime() {
        Some(d) => Cell::Date(d.date()),
        None => Cell::Number(dt.as_f64()),
    }
}

fn iso_date(s: &str) -> Cell {
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(Cell::Date)
        .unwrap_or_else(|| Cell::Text(s.to_owned()))
}

fn cell_of_ref(v: &DataRef<'_>) -> Cell {
    match v {
        DataRef::Empty => Cell::Empty,
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => date_of(dt),
        DataRef::DateTimeIso(s) => iso_date(s),
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Text(e.to_string()),
    }
}

fn cell_of_data(v: &Data) -> Cell {
    match v {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => date_of(dt),
        Data::DateTimeIso(s) => iso_date(s),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(e.to_string()),
    }
}

/// Counts the lines of a text file cheaply, for a progress estimate on CSV imports.
pub fn estimate_rows(path: &Path) -> Option<u64> {
    let file = File::open(path).ok()?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut n = 0u64;
    loop {
        let buf = reader.fill_buf().ok()?;
        if buf.is_empty() {
            return Some(n);
        }
        n += buf.iter().filter(|b| **b == b'\n').count() as u64;
        let len = buf.len();
        reader.consume(len);
    }
}

#[cfg(test)]
mod tests;
