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
    // 70 MB of well-formed shared strings in a file of well under a megabyte.
    let path = crafted_xlsx(dir.path(), |name, bytes| {
        if name == "xl/sharedStrings.xml" {
            let text = String::from_utf8(bytes).unwrap();
            let item = format!("<si><t>{}</t></si>", "王".repeat(1000));
            text.replacen("</sst>", &format!("{}</sst>", item.repeat(24_000)), 1)
                .into_bytes()
        } else {
            bytes
        }
    });
    assert!(std::fs::metadata(&path).unwrap().len() < 2 << 20);
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(
        m.contains("sharedStrings.xml") && m.contains("64 MB"),
        "{m}"
    );
}

/// The attack of issue 24: a ~1 MB upload whose sheet holds a vast run of whitespace inside
/// `<sheetData>`. The XML reader holds one text run whole (900 MB took the server to 2.9 GB, two
/// at once aborted it); the run is refused at 256 kB, before the reader opens the part.
#[test]
fn a_run_of_whitespace_inside_the_sheet_is_refused_before_the_reader_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    for (at, what) in [("<sheetData>", " "), ("<v>", "\t"), ("<sheetData>", "\r\n")] {
        let run = what.repeat((48 << 20) / what.len());
        let path = crafted_xlsx(
            dir.path(),
            sheet_xml(|x| x.replacen(at, &format!("{at}{run}"), 1)),
        );
        assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
        let m = too_large(sheet::open(&path).err().expect("refused"));
        assert!(m.contains("sheet1.xml") && m.contains("256 KB"), "{m}");
    }
    // The same inside a tag's attribute, and inside a comment.
    for (from, to) in [
        (
            "<sheetData>",
            format!("<sheetData x=\"{}\">", "a".repeat(300 << 10)),
        ),
        (
            "<sheetData>",
            format!("<!--{}--><sheetData>", "-".repeat(300 << 10)),
        ),
    ] {
        let path = crafted_xlsx(dir.path(), sheet_xml(|x| x.replacen(from, &to, 1)));
        let m = too_large(sheet::open(&path).err().expect("refused"));
        assert!(m.contains("256 KB"), "{m}");
    }
    // A real long cell (Excel's 32,767 characters) still reads.
    let long = "王".repeat(32_767);
    let path = crafted_xlsx(
        dir.path(),
        sheet_xml(|x| {
            x.replacen(
                "</row></sheetData>",
                &format!(
                    "<c r=\"D2\" t=\"inlineStr\"><is><t>{long}</t></is></c></row></sheetData>"
                ),
                1,
            )
        }),
    );
    let mut book = sheet::open(&path).expect("a long cell is a real sheet");
    let rows: Vec<_> = book.rows(0).unwrap().map(Result::unwrap).collect();
    assert!(
        rows[1]
            .cells
            .iter()
            .any(|c| c.display().chars().count() == 32_767)
    );
}

/// Shared strings declaring a hundred billion entries: the reader reserves what the file declares,
/// so a few bytes would ask for terabytes (an abort, not an error).
#[test]
fn shared_strings_declaring_billions_of_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = crafted_xlsx(dir.path(), |name, bytes| {
        if name == "xl/sharedStrings.xml" {
            let text = String::from_utf8(bytes).unwrap();
            let at = text.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
            let end = at + text[at..].find('"').unwrap();
            format!("{}100000000000{}", &text[..at], &text[end..]).into_bytes()
        } else {
            bytes
        }
    });
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(
        m.contains("100000000000") && m.contains("sharedStrings.xml"),
        "{m}"
    );
    // And present: three million tiny strings.
    let path = crafted_xlsx(dir.path(), |name, bytes| {
        if name == "xl/sharedStrings.xml" {
            let text = String::from_utf8(bytes).unwrap();
            text.replacen(
                "</sst>",
                &format!("{}</sst>", "<si><t/></si>".repeat(3_000_000)),
                1,
            )
            .into_bytes()
        } else {
            bytes
        }
    });
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(m.contains("2000000"), "{m}");
}

#[test]
fn a_doctype_in_a_part_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = crafted_xlsx(
        dir.path(),
        sheet_xml(|x| {
            x.replacen(
                "<worksheet",
                "<!DOCTYPE worksheet [<!ENTITY a \"aaaaaaaaaa\">]><worksheet",
                1,
            )
        }),
    );
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(m.contains("DOCTYPE"), "{m}");
}

/// A CSV is read a record at a time, but a record whole: one line of a million commas would be a
/// million cells, one unterminated quote a field of the whole file.
#[test]
fn a_csv_line_of_endless_fields_or_an_endless_field_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.csv");
    std::fs::write(
        &path,
        format!("姓名,性别\n王小明{}\n", ",".repeat(1_000_000)),
    )
    .unwrap();
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(m.contains("第 2 行") && m.contains("16384"), "{m}");
    let path = dir.path().join("long.csv");
    std::fs::write(&path, format!("姓名,性别\n\"{}", "王".repeat(1 << 20))).unwrap();
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(m.contains("256 KB"), "{m}");
    // A quoted field holding the delimiter and a line break is one field.
    let path = dir.path().join("ok.csv");
    std::fs::write(&path, "姓名,住址\n王小明,\"冠山街道,\n冠山社区\"\n").unwrap();
    let mut book = sheet::open(&path).unwrap();
    let rows: Vec<_> = book.rows(0).unwrap().map(Result::unwrap).collect();
    assert_eq!(rows[1].cells.len(), 2);
}

/// A BIFF8 workbook stream in an OLE container, as Excel 97–2003 writes it: the globals, then one
/// sheet with the given records.
fn crafted_xls(dir: &Path, sheet: &[(u16, Vec<u8>)]) -> PathBuf {
    crafted_xls_book(dir, &[sheet])
}

/// The same with several sheets, each named and placed by its BOUNDSHEET record.
fn crafted_xls_book(dir: &Path, sheets: &[&[(u16, Vec<u8>)]]) -> PathBuf {
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
    // The globals name each sheet and where its records start (BOUNDSHEET), as Excel writes them.
    let boundsheet = |at: u32, i: usize| {
        let name = format!("Sheet{}", i + 1);
        let mut b = at.to_le_bytes().to_vec();
        b.extend([0u8, 0u8]); // visible worksheet
        b.extend([name.len() as u8, 0u8]); // 8-bit characters
        b.extend(name.as_bytes());
        b
    };
    let bodies: Vec<Vec<u8>> = sheets
        .iter()
        .map(|sheet| {
            let mut s = record(0x0809, &bof(0x0010));
            for (typ, body) in sheet.iter() {
                s.extend(record(*typ, body));
            }
            s.extend(record(0x000A, &[]));
            s
        })
        .collect();
    let globals_len = record(0x0809, &bof(0x0005)).len()
        + (0..sheets.len())
            .map(|i| record(0x0085, &boundsheet(0, i)).len())
            .sum::<usize>()
        + record(0x000A, &[]).len();
    let mut stream = record(0x0809, &bof(0x0005));
    let mut at = globals_len;
    for (i, body) in bodies.iter().enumerate() {
        stream.extend(record(0x0085, &boundsheet(at as u32, i)));
        at += body.len();
    }
    stream.extend(record(0x000A, &[]));
    for body in &bodies {
        stream.extend(body);
    }
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

/// The reader lays out every sheet of an .xls at once: 200 sheets of two corner cells each (each
/// under the one-sheet limit) would be ~24 GB.
#[test]
fn an_xls_whose_sheets_together_span_too_many_cells_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = [number_cell(0, 0), number_cell(19_999, 59)];
    let sheets: Vec<&[(u16, Vec<u8>)]> = (0..200).map(|_| &sheet[..]).collect();
    let path = crafted_xls_book(dir.path(), &sheets);
    let m = too_large(sheet::open(&path).err().expect("refused"));
    assert!(m.contains("6000000"), "{m}");
    // Two such sheets are a real workbook.
    let path = crafted_xls_book(dir.path(), &sheets[..2]);
    assert_eq!(sheet::open(&path).unwrap().sheet_names().len(), 2);
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
