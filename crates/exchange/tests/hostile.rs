//! Files made the way an attacker makes them: small uploads that declare or imply huge grids, and
//! a zip that unpacks to far more than it weighs. Each is refused with a Chinese message naming the
//! limit, before the reader allocates for it (on the code before these checks, the first two made
//! the process abort: "memory allocation of 7710537744 bytes failed").

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use shouwang_exchange::sheet::{self, SheetError};

/// A real roster .xlsx, then its sheet XML (or another part) rewritten.
fn crafted_xlsx(dir: &Path, edit: impl Fn(&str, Vec<u8>) -> Vec<u8>) -> PathBuf {
    let plain = dir.join("plain.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, title) in ["姓名", "性别", "出生日期"].iter().enumerate() {
        ws.write_string(0, c as u16, *title).unwrap();
    }
    ws.write_string(1, 0, "王小明").unwrap();
    ws.write_string(1, 1, "男").unwrap();
    ws.write_string(1, 2, "2016-07-31").unwrap();
    wb.save(&plain).unwrap();
    let out = dir.join("crafted.xlsx");
    let mut zin = zip::ZipArchive::new(std::fs::File::open(&plain).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(&out).unwrap());
    for i in 0..zin.len() {
        let mut part = zin.by_index(i).unwrap();
        let name = part.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        part.read_to_end(&mut bytes).unwrap();
        zout.start_file(&name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zout.write_all(&edit(&name, bytes)).unwrap();
    }
    zout.finish().unwrap();
    out
}

fn sheet_xml(edit: impl Fn(String) -> String) -> impl Fn(&str, Vec<u8>) -> Vec<u8> {
    move |name, bytes| {
        if name == "xl/worksheets/sheet1.xml" {
            edit(String::from_utf8(bytes).unwrap()).into_bytes()
        } else {
            bytes
        }
    }
}

fn too_large(e: SheetError) -> String {
    match e {
        SheetError::TooLarge(m) => m,
        other => panic!("expected a refusal naming the limit, got {other:?}"),
    }
}

#[test]
fn a_cell_beyond_excels_last_column_is_refused_before_its_row_grows() {
    let dir = tempfile::tempdir().unwrap();
    let path = crafted_xlsx(
        dir.path(),
        sheet_xml(|x| x.replacen("r=\"C2\"", "r=\"ZZZZZZ2\"", 1)),
    );
    let mut book = sheet::open(&path).unwrap();
    let rows: Result<Vec<_>, _> = book.rows(0).unwrap().collect();
    let m = too_large(rows.unwrap_err());
    assert!(m.contains("16384") && m.contains("第2行"), "{m}");
}

#[test]
fn a_merge_across_the_whole_width_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = crafted_xlsx(
        dir.path(),
        sheet_xml(|x| {
            x.replacen(
                "</sheetData>",
                "</sheetData><mergeCells count=\"1\"><mergeCell ref=\"A1:ZZZZZZ40\"/></mergeCells>",
                1,
            )
        }),
    );
    let mut book = sheet::open(&path).unwrap();
    let m = too_large(book.merges(0).unwrap_err());
    assert!(m.contains("A1:ZZZZZZ40") && m.contains("16384"), "{m}");
}

#[test]
fn a_zip_that_unpacks_past_the_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // 300 MB of shared strings in a file of well under a megabyte.
    let path = crafted_xlsx(dir.path(), |name, bytes| {
        if name == "xl/sharedStrings.xml" {
            let mut big = bytes;
            big.resize(300 << 20, b' ');
            big
        } else {
            bytes
        }
    });
    assert!(std::fs::metadata(&path).unwrap().len() < 2 << 20);
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(
        m.contains("sharedStrings.xml") && m.contains("256 MB"),
        "{m}"
    );
}

/// A BIFF8 workbook stream in an OLE container, as Excel 97–2003 writes it: the globals, then one
/// sheet with the given records.
fn crafted_xls(dir: &Path, sheet: &[(u16, Vec<u8>)]) -> PathBuf {
    let record = |typ: u16, body: &[u8]| {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((body.len() as u16).to_le_bytes());
        r.extend(body);
        r
    };
    let bof = |kind: u16| {
        let mut b = 0x0600u16.to_le_bytes().to_vec();
        b.extend(kind.to_le_bytes());
        b.extend([0u8; 12]);
        b
    };
    // The globals name the sheet and where its records start (BOUNDSHEET), as Excel writes them.
    let boundsheet = |at: u32| {
        let mut b = at.to_le_bytes().to_vec();
        b.extend([0u8, 0u8]); // visible worksheet
        b.extend([6u8, 0u8]); // "Sheet1", 8-bit characters
        b.extend(b"Sheet1");
        b
    };
    let globals_len = record(0x0809, &bof(0x0005)).len()
        + record(0x0085, &boundsheet(0)).len()
        + record(0x000A, &[]).len();
    let mut stream = record(0x0809, &bof(0x0005));
    stream.extend(record(0x0085, &boundsheet(globals_len as u32)));
    stream.extend(record(0x000A, &[]));
    stream.extend(record(0x0809, &bof(0x0010)));
    for (typ, body) in sheet {
        stream.extend(record(*typ, body));
    }
    stream.extend(record(0x000A, &[]));
    let path = dir.join("crafted.xls");
    let mut comp = cfb::create(&path).unwrap();
    comp.create_stream("/Workbook")
        .unwrap()
        .write_all(&stream)
        .unwrap();
    comp.flush().unwrap();
    path
}

fn number_cell(row: u16, col: u16) -> (u16, Vec<u8>) {
    let mut b = row.to_le_bytes().to_vec();
    b.extend(col.to_le_bytes());
    b.extend(0u16.to_le_bytes());
    b.extend(1.0f64.to_le_bytes());
    (0x0203, b)
}

#[test]
fn an_xls_sheet_declaring_billions_of_cells_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut dims = 0u32.to_le_bytes().to_vec();
    dims.extend(4_000_000_000u32.to_le_bytes());
    dims.extend(0u16.to_le_bytes());
    dims.extend(256u16.to_le_bytes());
    dims.extend(0u16.to_le_bytes());
    let path = crafted_xls(dir.path(), &[(0x0200, dims)]);
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(m.contains("4000000"), "{m}");
}

/// Found by fuzzing (fuzz/corpus/sheet_xls/crash-1a1c…): a DIMENSIONS record whose last row comes
/// before its first. The reader subtracts without checking, the difference wraps to four billion
/// rows, and it reserved 1.3 PB — an abort of the whole server from a 7 kB upload.
#[test]
fn an_xls_sheet_whose_last_row_comes_before_its_first_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut dims = 100u32.to_le_bytes().to_vec();
    dims.extend(50u32.to_le_bytes());
    dims.extend(0u16.to_le_bytes());
    dims.extend(40u16.to_le_bytes());
    dims.extend(0u16.to_le_bytes());
    let path = crafted_xls(dir.path(), &[(0x0200, dims)]);
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(m.contains("单元格"), "{m}");
}

#[test]
fn two_xls_cells_at_opposite_corners_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = crafted_xls(dir.path(), &[number_cell(0, 0), number_cell(65_535, 255)]);
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(m.contains("16777216"), "{m}");
}

/// Reads every row of whatever a file holds; what matters is that it returns.
fn read_all(path: &Path) {
    if let Ok(mut book) = sheet::open(path) {
        for i in 0..book.sheet_names().len() {
            let _ = book.merges(i);
            if let Ok(rows) = book.rows(i) {
                for row in rows.take(10_000) {
                    if row.is_err() {
                        break;
                    }
                }
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 200, ..Default::default() })]

    /// A real roster with bytes changed anywhere (a damaged download, a crafted file): the reader
    /// answers — a refusal or rows — and does not panic or hang.
    #[test]
    fn a_damaged_xlsx_is_refused_or_read_never_a_crash(
        flips in proptest::collection::vec((0usize..100_000, proptest::num::u8::ANY), 1..8)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = crafted_xlsx(dir.path(), |_, b| b);
        let mut bytes = std::fs::read(&path).unwrap();
        for (at, b) in flips {
            let i = at % bytes.len();
            bytes[i] = b;
        }
        std::fs::write(&path, &bytes).unwrap();
        read_all(&path);
    }

    /// Any bytes at all, as a CSV or a BIFF-looking file.
    #[test]
    fn arbitrary_bytes_are_refused_or_read_never_a_crash(
        body in proptest::collection::vec(proptest::num::u8::ANY, 0..4096),
        ole in proptest::bool::ANY,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.xls");
        let mut bytes = if ole { vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] } else { Vec::new() };
        bytes.extend(body);
        std::fs::write(&path, &bytes).unwrap();
        read_all(&path);
    }
}
