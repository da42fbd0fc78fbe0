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
/// Bytes one part of an .xlsx may unpack to, and all of them together. A 100,000-row roster of
/// 31 columns as Excel writes it is ~150 MB of sheet XML; a zip bomb unpacks to far more. These
/// bound the time a reading takes; what bounds its memory is [`MAX_XML_PIECE`] and the shared
/// strings' limits below (the reader streams each part, holding one piece of XML at a time).
const MAX_XLSX_PART: u64 = 256 << 20;
const MAX_XLSX_TOTAL: u64 = 512 << 20;
/// The shared strings are held in memory whole while a sheet is read: their part's size, and how
/// many there are (the reader reserves the `uniqueCount` the file declares, on the file's word).
/// A 100,000-row roster has a few hundred thousand distinct texts, a few MB.
const MAX_SHARED_STRINGS: u64 = 64 << 20;
const MAX_SHARED_ITEMS: u64 = 2_000_000;
/// The longest single piece of XML a part may hold — a run of text (whitespace included), a tag,
/// a comment: the XML reader holds one whole piece in memory (a 900 MB run of spaces inside
/// `<sheetData>` was 1.9 GB at once). Excel caps a cell at 32,767 characters (≤ 229 kB escaped).
pub const MAX_XML_PIECE: usize = 256 << 10;
/// Parts an .xlsx may hold.
const MAX_XLSX_PARTS: usize = 10_000;

fn too_large(what: &str) -> SheetError {
    SheetError::TooLarge(format!(
        "文件超出可读取的范围：{what}。请检查文件，或分成几个文件上传"
    ))
}

/// Cells one .xls sheet may span (its bounding box, which the reader lays out whole): a 65,536-row
/// BIFF sheet 60 columns wide is under four million. The reader lays out every sheet of the
/// workbook at once, so the sheets together may span no more than [`MAX_XLS_BOOK_CELLS`] (256
/// sheets of two corner cells each would otherwise be ~32 GB).
const MAX_XLS_CELLS: u64 = 4_000_000;
const MAX_XLS_BOOK_CELLS: u64 = 6_000_000;

/// Walks the records of an .xls workbook stream before the reader does, and refuses a sheet
/// whose declared dimensions or whose cells span more than [`MAX_XLS_CELLS`] (the reader reserves
/// and lays out that many cells at once, on the file's word).
///
/// Returns the workbook stream and its name: the reader is given a container rebuilt around it
/// ([`clean_container`]), never the uploaded one, whose sector tables it would follow on the
/// file's word (fuzzing found panics in it).
fn check_xls_grid(path: &Path) -> Result<(&'static str, Vec<u8>), SheetError> {
    let file_len = std::fs::metadata(path)?.len();
    let mut comp = cfb::open(path)
        .map_err(|e| SheetError::Damaged(format!("Excel 97-2003 文件结构不完整：{e}")))?;
    let stream = ["/Workbook", "/Book"]
        .into_iter()
        .find(|s| comp.is_stream(s))
        .ok_or(SheetError::NotASpreadsheet)?;
    let mut data = Vec::new();
    comp.open_stream(stream)?
        .take(file_len)
        .read_to_end(&mut data)
        .map_err(|e| SheetError::Damaged(e.to_string()))?;
    check_biff_sheets(&data)?;
    Ok((stream, data))
}

/// Sheets of an .xls workbook the reader follows ([`check_biff_sheets`]) and the bytes it may walk
/// doing so (each sheet is read from its BOUNDSHEET offset to its end-of-file record).
const MAX_XLS_SHEETS: usize = 256;
const MAX_XLS_WALK: usize = 256 << 20;

/// One BIFF record as the reader splits them: type, body, and where the next one starts (`None`
/// when the record runs past the stream, where the reader stops with an error).
fn biff_record(data: &[u8], pos: usize) -> Option<(u16, &[u8], usize)> {
    let head = data.get(pos..pos + 4)?;
    let typ = u16::from_le_bytes([head[0], head[1]]);
    let len = usize::from(u16::from_le_bytes([head[2], head[3]]));
    let body = data.get(pos + 4..pos + 4 + len)?;
    Some((typ, body, pos + 4 + len))
}

/// Walks an .xls workbook stream the way the reader will, before it does: each sheet from the
/// offset its BOUNDSHEET record gives (not where a linear walk would find it), skipping embedded
/// substreams, up to its end-of-file record; and refuses a sheet whose DIMENSIONS record — read
/// with the reader's arithmetic, including a last row before the first, which wraps — or whose
/// cells span more than [`MAX_XLS_CELLS`]: the reader reserves that many cells at once, on the
/// file's word (fuzzing found a 7 kB file asking for 1.3 PB).
fn check_biff_sheets(data: &[u8]) -> Result<(), SheetError> {
    let refuse = |cells: u64| {
        too_large(&format!(
            "一张工作表的范围达 {cells} 个单元格，超过 {MAX_XLS_CELLS} 个"
        ))
    };
    let mut starts = Vec::new();
    let mut pos = 0;
    while let Some((typ, body, next)) = biff_record(data, pos) {
        if typ == 0x0085 && body.len() >= 4 {
            starts.push(u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize);
            if starts.len() > MAX_XLS_SHEETS {
                return Err(too_large(&format!("工作表超过 {MAX_XLS_SHEETS} 张")));
            }
        }
        pos = next;
    }
    let mut walked = 0usize;
    let mut book = 0u64;
    for start in starts {
        let mut sheet = 0u64;
        let mut pos = start;
        let (mut seen_bof, mut depth) = (false, 0usize);
        let mut rows = (u32::MAX, 0u32);
        let mut cols = (u32::MAX, 0u32);
        while let Some((typ, body, next)) = biff_record(data, pos) {
            walked += next - pos;
            if walked > MAX_XLS_WALK {
                return Err(SheetError::Damaged(
                    "工作簿结构异常（工作表互相重叠）".into(),
                ));
            }
            pos = next;
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let u16_at = |i: usize| {
                body.get(i..i + 2)
                    .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
            };
            let u32_at = |i: usize| {
                body.get(i..i + 4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            };
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x000A => break,
                // DIMENSIONS: first row, last row + 1, first column, last column + 1.
                0x0200 => {
                    let fields = match body.len() {
                        10 => (u16_at(0), u16_at(2), u16_at(4), u16_at(6)),
                        14 | 16 => (u32_at(0), u32_at(4), u16_at(8), u16_at(10)),
                        _ => continue,
                    };
                    let (Some(rf), Some(rl), Some(mut cf), Some(cl)) = fields else {
                        continue;
                    };
                    if cf > 0xFF || cl < cf {
                        cf = 0;
                    }
                    let (end_r, end_c) = if rl >= 1 && cl >= 1 {
                        (rl - 1, cl - 1)
                    } else {
                        (rf, cf)
                    };
                    let r = u64::from(end_r.wrapping_sub(rf).wrapping_add(1));
                    let c = u64::from(end_c.wrapping_sub(cf).wrapping_add(1));
                    let cells = r.saturating_mul(c);
                    if cells > MAX_XLS_CELLS {
                        return Err(refuse(cells));
                    }
                    sheet = sheet.max(cells);
                }
                // Cell records: row and column first. MULRK/MULBLANK end with their last column.
                0x0006 | 0x0201 | 0x0203 | 0x0204 | 0x0205 | 0x027E | 0x00D6 | 0x00FD | 0x00BD
                | 0x00BE => {
                    let (Some(r), Some(c)) = (u16_at(0), u16_at(2)) else {
                        continue;
                    };
                    let last = if matches!(typ, 0x00BD | 0x00BE) {
                        body.len().checked_sub(2).and_then(u16_at).unwrap_or(c)
                    } else {
                        c
                    };
                    rows = (rows.0.min(r), rows.1.max(r));
                    cols = (cols.0.min(c), cols.1.max(last));
                    let cells = u64::from(rows.1.saturating_sub(rows.0) + 1)
                        * u64::from(cols.1.saturating_sub(cols.0) + 1);
                    if cells > MAX_XLS_CELLS {
                        return Err(refuse(cells));
                    }
                    sheet = sheet.max(cells);
                }
                _ => {}
            }
        }
        book = book.saturating_add(sheet);
        if book > MAX_XLS_BOOK_CELLS {
            return Err(too_large(&format!(
                "各工作表合计范围超过 {MAX_XLS_BOOK_CELLS} 个单元格"
            )));
        }
    }
    Ok(())
}

/// A compound file holding only the workbook stream, written by the `cfb` crate: well-formed
/// whatever the upload's sector tables said.
fn clean_container(stream: &str, data: &[u8]) -> Result<Vec<u8>, SheetError> {
    use std::io::Write;
    let damaged = |e: std::io::Error| SheetError::Damaged(e.to_string());
    // Version 3 (512-byte sectors), as Excel writes .xls.
    let mut comp =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, std::io::Cursor::new(Vec::new()))
            .map_err(damaged)?;
    comp.create_stream(stream)
        .and_then(|mut s| s.write_all(data))
        .map_err(damaged)?;
    comp.flush().map_err(damaged)?;
    Ok(comp.into_inner().into_inner())
}

/// Runs a call into the spreadsheet library, turning a panic on a malformed file into a refusal
/// (the library trusts offsets inside the file; fuzzing found some it follows into a panic).
fn guarded<T>(read: impl FnOnce() -> Result<T, SheetError>) -> Result<T, SheetError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(SheetError::Damaged(
            "文件内部结构异常，无法读取；请在 Excel 或 WPS 中打开并另存后再上传".into(),
        ))
    })
}

/// Unpacks every part of an .xlsx once, counting the bytes it really unpacks to (the sizes the
/// zip declares are not trusted) and the shape of its XML ([`XmlShape`]), and refuses the file
/// past the limits before the reader opens any part.
fn check_xlsx_parts(path: &Path) -> Result<(), SheetError> {
    let mut zip = zip::ZipArchive::new(BufReader::new(File::open(path)?))
        .map_err(|e| SheetError::Damaged(e.to_string()))?;
    if zip.len() > MAX_XLSX_PARTS {
        return Err(too_large(&format!("压缩包内文件超过 {MAX_XLSX_PARTS} 个")));
    }
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|e| SheetError::Damaged(e.to_string()))?;
        let name = part
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("第{}个文件", i + 1));
        let shared = name.ends_with("sharedStrings.xml");
        let limit = if shared {
            MAX_SHARED_STRINGS
        } else {
            MAX_XLSX_PART
        };
        let lower = name.to_ascii_lowercase();
        let mut shape =
            (lower.ends_with(".xml") || lower.ends_with(".rels") || lower.ends_with(".vml"))
                .then(|| XmlShape::new(shared));
        let mut size = 0u64;
        loop {
            let n = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Err(SheetError::Damaged(e.to_string())),
            };
            size += n as u64;
            total += n as u64;
            if size > limit {
                return Err(too_large(&format!(
                    "其中“{name}”解压后超过 {} MB",
                    limit >> 20
                )));
            }
            if total > MAX_XLSX_TOTAL {
                return Err(too_large(&format!(
                    "解压后超过 {} MB",
                    MAX_XLSX_TOTAL >> 20
                )));
            }
            if let Some(shape) = shape.as_mut() {
                shape
                    .feed(&buf[..n])
                    .map_err(|what| too_large(&format!("其中“{name}”{what}")))?;
            }
        }
        if let Some(shape) = shape {
            shape
                .finish()
                .map_err(|what| too_large(&format!("其中“{name}”{what}")))?;
        }
    }
    Ok(())
}

/// Where a scan of XML stands: inside text, just after `<` (deciding what opens), inside a tag
/// (and inside a quoted attribute value), a comment, a CDATA section or a declaration.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Piece {
    Text,
    Open,
    Tag(Option<u8>),
    Comment,
    Cdata,
    Declaration,
}

/// A streaming look at an XML part's shape, chunk by chunk, holding a few bytes: refuses a piece
/// longer than [`MAX_XML_PIECE`] (what the reader would hold at once), a DOCTYPE (Excel never
/// writes one; the reader holds it whole), and in the shared strings more than
/// [`MAX_SHARED_ITEMS`] strings, declared or present.
struct XmlShape {
    piece: Piece,
    run: usize,
    open: Vec<u8>,
    last: [u8; 3],
    shared: bool,
    items: u64,
    head: Vec<u8>,
}

impl XmlShape {
    fn new(shared: bool) -> Self {
        XmlShape {
            piece: Piece::Text,
            run: 0,
            open: Vec::with_capacity(8),
            last: [0; 3],
            shared,
            items: 0,
            head: Vec::new(),
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
        if self.shared && self.head.len() < 4096 {
            let take = (4096 - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        for &b in bytes {
            self.run += 1;
            match self.piece {
                Piece::Text => {
                    if b == b'<' {
                        self.piece = Piece::Open;
                        self.open.clear();
                        self.run = 1;
                    }
                }
                Piece::Open => {
                    self.open.push(b);
                    self.decide_open(b)?;
                }
                Piece::Tag(quote) => self.in_tag(quote, b),
                Piece::Comment => {
                    if b == b'>' && self.last[1..] == *b"--" {
                        self.end_piece();
                    }
                }
                Piece::Cdata => {
                    if b == b'>' && self.last[1..] == *b"]]" {
                        self.end_piece();
                    }
                }
                Piece::Declaration => {
                    if b == b'>' && self.last[2] == b'?' {
                        self.end_piece();
                    }
                }
            }
            if self.shared && matches!(b, b'>' | b' ' | b'/') && self.last == *b"<si" {
                self.items += 1;
                if self.items > MAX_SHARED_ITEMS {
                    return Err(format!("的共享文字超过 {MAX_SHARED_ITEMS} 条"));
                }
            }
            self.last = [self.last[1], self.last[2], b];
            if self.run > MAX_XML_PIECE {
                return Err(format!(
                    "有一段文字、空白或标记超过 {} KB（Excel 一个单元格最多 32767 个字符）",
                    MAX_XML_PIECE >> 10
                ));
            }
        }
        Ok(())
    }

    fn end_piece(&mut self) {
        self.piece = Piece::Text;
        self.run = 0;
    }

    fn in_tag(&mut self, quote: Option<u8>, b: u8) {
        match quote {
            None if b == b'"' || b == b'\'' => self.piece = Piece::Tag(Some(b)),
            None if b == b'>' => self.end_piece(),
            Some(q) if b == q => self.piece = Piece::Tag(None),
            _ => {}
        }
    }

    /// After `<`: a comment, CDATA, a declaration, a DOCTYPE (refused) or a tag.
    fn decide_open(&mut self, b: u8) -> Result<(), String> {
        const KINDS: [(&[u8], Piece); 2] = [(b"!--", Piece::Comment), (b"![CDATA[", Piece::Cdata)];
        match self.open[0] {
            b'?' => self.piece = Piece::Declaration,
            b'!' => {
                if b"!DOCTYPE".starts_with(&self.open) || self.open.starts_with(b"!DOCTYPE") {
                    if self.open.len() >= 8 {
                        return Err("含有文档类型声明（DOCTYPE），Excel 不会写入".into());
                    }
                    return Ok(());
                }
                for (prefix, kind) in KINDS {
                    if self.open.as_slice() == prefix {
                        self.piece = kind;
                        return Ok(());
                    }
                    if prefix.starts_with(&self.open) {
                        return Ok(());
                    }
                }
                self.piece = Piece::Tag(None);
                self.in_tag(None, b);
            }
            _ => {
                self.piece = Piece::Tag(None);
                self.in_tag(None, b);
            }
        }
        Ok(())
    }

    /// The end of the part: the shared strings' declared count, which the reader reserves.
    fn finish(self) -> Result<(), String> {
        if !self.shared {
            return Ok(());
        }
        let head = String::from_utf8_lossy(&self.head);
        let Some(at) = head.find("uniqueCount=") else {
            return Ok(());
        };
        let value: String = head[at + "uniqueCount=".len()..]
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| !matches!(c, '"' | '\''))
            .collect();
        let value = value.trim();
        if value.is_empty() || !value.bytes().all(|c| c.is_ascii_digit()) {
            // Not a number: the reader ignores it.
            return Ok(());
        }
        match value.parse::<u64>() {
            Ok(n) if n <= MAX_SHARED_ITEMS => Ok(()),
            _ => Err(format!(
                "声明的共享文字数（{value}）超过 {MAX_SHARED_ITEMS} 条"
            )),
        }
    }
}

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
mod tests {
    use super::*;

    #[test]
    fn numbers_display_the_way_excel_shows_them() {
        assert_eq!(Cell::Number(13800138000.0).display(), "13800138000");
        assert_eq!(
            Cell::Number(5.227_302_016_073_1e17).display(),
            "5.22730E+17"
        );
        assert_eq!(Cell::Number(1.5).display(), "1.5");
    }

    #[test]
    fn utf8_is_told_from_gb18030() {
        assert_eq!(sniff_encoding("姓名,性别".as_bytes()), UTF_8);
        let (gbk, _, _) = GB18030.encode("姓名,性别");
        assert_eq!(sniff_encoding(&gbk), GB18030);
        // A UTF-8 sample cut inside a character is still UTF-8.
        let cut = &"姓名".as_bytes()[..4];
        assert_eq!(sniff_encoding(cut), UTF_8);
    }

    #[test]
    fn the_delimiter_is_the_one_the_header_uses() {
        assert_eq!(
            sniff_delimiter("姓名\t性别\t出生日期".as_bytes(), UTF_8),
            b'\t'
        );
        assert_eq!(sniff_delimiter("姓名,性别".as_bytes(), UTF_8), b',');
        assert_eq!(sniff_delimiter("姓名".as_bytes(), UTF_8), b',');
        // A title line above the header does not decide.
        assert_eq!(
            sniff_delimiter("学生名册\n姓名\t性别\t出生日期\n".as_bytes(), UTF_8),
            b'\t'
        );
    }
}
