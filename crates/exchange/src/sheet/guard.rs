//! The guards before a reader opens a file: sizes, counts and shapes a crafted spreadsheet must not exceed (zip bombs, shared-string claims, BIFF walks, XML pieces).

use super::*;

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

pub(super) fn too_large(what: &str) -> SheetError {
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
pub(super) fn check_xls_grid(path: &Path) -> Result<(&'static str, Vec<u8>), SheetError> {
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
pub(super) fn clean_container(stream: &str, data: &[u8]) -> Result<Vec<u8>, SheetError> {
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
pub(super) fn guarded<T>(read: impl FnOnce() -> Result<T, SheetError>) -> Result<T, SheetError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(SheetError::Damaged(
            "文件内部结构异常，无法读取；请在 Excel 或 WPS 中打开并另存后再上传".into(),
        ))
    })
}

/// Unpacks every part of an .xlsx once, counting the bytes it really unpacks to (the sizes the
/// zip declares are not trusted) and the shape of its XML ([`XmlShape`]), and refuses the file
/// past the limits before the reader opens any part.
pub(super) fn check_xlsx_parts(path: &Path) -> Result<(), SheetError> {
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
