//! The fuzz targets: each parser of input that comes from outside, as a function of bytes that
//! must return (never panic, never allocate past the readers' limits) whatever the bytes are, and
//! whose output keeps the parser's promises. `fuzz/` drives them with libFuzzer for a bounded time
//! (`scripts/bench-fuzz`); `tests/corpus.rs` replays the saved corpus (`fuzz/corpus/<target>/`) in
//! the ordinary test command.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use shouwang_domain::id_number::IdNumber;
use shouwang_domain::input::ParseContext;
use shouwang_domain::region::{Divisions, RegionCode};
use shouwang_exchange::places::Places;
use shouwang_exchange::{lists, roster_file, sheet};

/// Under libFuzzer, every panic aborts (its hook), even one the readers catch and turn into a
/// refusal (`exchange::sheet` guards its calls into the spreadsheet library, which panics on some
/// malformed files). The targets put the default hook back: a caught panic is printed and counted
/// by `scripts/bench-fuzz`, one that escapes a target still aborts it (libfuzzer-sys catches the
/// unwind) and is a crash.
pub fn count_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| drop(std::panic::take_hook()));
}

/// A target: bytes in, nothing out; it returns or it is a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus folder and its cargo-fuzz binary have.
pub const TARGETS: &[(&str, Target)] = &[
    ("id_number", id_number),
    ("sheet_xlsx", sheet_xlsx),
    ("sheet_xls", sheet_xls),
    ("sheet_csv", sheet_csv),
    ("list", list),
    ("roster", roster),
];

/// An ID number typed or pasted anywhere (registration, import, search, 三方比对 lists): refused or
/// accepted; an accepted one parses again to itself and masks to the same length.
pub fn id_number(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = IdNumber::parse(&text) {
        let again = IdNumber::parse(id.as_str()).expect("an accepted number parses again");
        assert_eq!(again.as_str(), id.as_str());
        assert_eq!(id.masked().chars().count(), id.as_str().chars().count());
        // The birth date it carries is a real date (the parser checked it).
        let _ = id.birth_date();
    }
}

pub fn sheet_xlsx(data: &[u8]) {
    read_sheet(data, "xlsx");
}
pub fn sheet_xls(data: &[u8]) {
    read_sheet(data, "xls");
}
pub fn sheet_csv(data: &[u8]) {
    read_sheet(data, "csv");
}

/// The sheet reader on an uploaded file: every sheet's merges and rows, or a refusal.
fn read_sheet(data: &[u8], ext: &str) {
    let path = write(data, ext);
    let Ok(mut book) = sheet::open(&path) else {
        return;
    };
    for index in 0..book.sheet_names().len() {
        let _ = book.merges(index);
        if let Ok(rows) = book.rows(index) {
            for row in rows {
                if row.is_err() {
                    break;
                }
            }
        }
    }
}

/// A 三方比对 list (student or household list), as CSV or as a workbook (the first bytes decide,
/// as an upload's do).
pub fn list(data: &[u8]) {
    let path = write(data, upload_ext(data));
    let _ = lists::preview(&path);
    let _ = lists::read_list(&path);
}

/// A roster as the importer plans it: the header found, every row read and each child's input
/// parsed as a registration would be.
pub fn roster(data: &[u8]) {
    let path = write(data, upload_ext(data));
    let Ok(rows) = roster_file::read_rows(&path, &BTreeMap::new(), places()) else {
        return;
    };
    let ctx = ParseContext {
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date"),
        divisions: Divisions::shipped(),
    };
    for row in rows {
        let _ = row.input.parse(&ctx);
    }
}

/// What an upload's bytes look like: a zip is a workbook, an OLE file an old one, else text.
fn upload_ext(data: &[u8]) -> &'static str {
    if data.starts_with(b"PK") {
        "xlsx"
    } else if data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "xls"
    } else {
        "csv"
    }
}

fn places() -> &'static Places {
    static P: OnceLock<Places> = OnceLock::new();
    P.get_or_init(|| {
        Places::new(
            Divisions::shipped(),
            &RegionCode::parse("522730").expect("龙里县"),
        )
    })
}

/// The bytes as a file of this thread (the readers read files, as uploads are stored).
fn write(data: &[u8], ext: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("a temporary folder"));
    let thread = format!("{:?}", std::thread::current().id())
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    let path = dir.path().join(format!("input-{thread}.{ext}"));
    let mut f = std::fs::File::create(&path).expect("a temporary file");
    f.write_all(data).expect("written");
    path
}
