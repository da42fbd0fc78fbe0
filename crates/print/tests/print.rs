//! The printed forms, checked the way a person would: the text pdftotext reads back holds the
//! child's name and the right ticks, and a page renders to an image (poppler-utils).

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;

use shouwang_domain::child::ChildFile;
use shouwang_domain::input::ParseContext;
use shouwang_domain::region::Divisions;
use shouwang_domain::sample::left_behind_boy;
use shouwang_print::{DEFAULT_FONT_DIR, FormHeading, FormPrinter, PrintError, Printer};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn boy() -> ChildFile {
    left_behind_boy("522730001001", ymd(2016, 7, 31))
        .parse(&ParseContext {
            today: ymd(2026, 11, 24),
            divisions: Divisions::shipped(),
        })
        .unwrap()
}

fn heading(file: &ChildFile, reveal_ids: bool) -> FormHeading<'_> {
    FormHeading {
        file,
        unit: "龙里县冠山街道冠山社区居民委员会".into(),
        filled: ymd(2026, 11, 24),
        reveal_ids,
    }
}

fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("form.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success());
    // pdftotext spaces CJK from digits ("2032 年 7 月"); compare without the spaces.
    String::from_utf8(out.stdout).unwrap().replace(' ', "")
}

fn printer() -> Printer {
    Printer::load(Path::new(DEFAULT_FONT_DIR)).expect("fonts-noto-cjk is installed")
}

#[test]
fn the_registration_form_prints_the_child_and_ticks_the_right_boxes() {
    let file = boy();
    let pdf = printer()
        .registration_forms(&[heading(&file, false)])
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let text = pdf_text(&pdf);
    assert!(text.contains("农村留守儿童基本情况登记表"), "{text}");
    // The 填表说明 of 附件1 under the form (one text shared with the workbook).
    assert!(text.contains("填表说明"), "{text}");
    assert!(text.contains("王小明"));
    assert!(text.contains("布依族"));
    assert!(
        text.contains("（√）健康") && text.contains("（）残疾"),
        "{text}"
    );
    assert!(text.contains("（√）小学"));
    assert!(text.contains("（√）监护情况一般"));
    assert!(text.contains("（√）打工收入") && text.contains("（√）种养殖业"));
    assert!(
        text.contains("广东省广州市"),
        "parents' work place to city level"
    );
    // The paternal grandfather is deceased: "—" on his row (附件1 note 4).
    assert!(
        text.lines().any(|l| l.contains("祖父") && l.contains("—")),
        "{text}"
    );
    // Masked ID numbers for a user who may not see them.
    assert!(text.contains("522730************"), "{text}");
    assert!(text.contains("单位负责人（签名）"));
}

#[test]
fn the_form_prints_exactly_the_national_assistance_boxes_with_extreme_poverty_under_other() {
    use shouwang_domain::child::Assistance;
    let mut file = boy();
    file.assistance = [Assistance::Dibao, Assistance::ExtremePoverty].into();
    let text = pdf_text(
        &printer()
            .registration_forms(&[heading(&file, false)])
            .unwrap(),
    );
    // 附件1: 享受低保 / 临时救助 / 医疗救助 / 住房救助 / 其他救助 — 特困供养 has no box of its own.
    assert!(text.contains("（√）享受低保"), "{text}");
    assert!(
        text.contains("（）临时救助") && text.contains("（）住房救助"),
        "{text}"
    );
    assert!(text.contains("（√）其他救助"), "{text}");
    assert!(!text.contains("特困供养"), "{text}");
}

#[test]
fn a_village_prints_one_page_per_child_and_the_page_renders() {
    let a = boy();
    let mut b = boy();
    b.name = shouwang_domain::person::PersonName::parse("李芳").unwrap();
    let pdf = printer()
        .registration_forms(&[heading(&a, true), heading(&b, true)])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("village.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let info = Command::new("pdfinfo").arg(&path).output().unwrap();
    let info = String::from_utf8(info.stdout).unwrap();
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.ends_with(" 2")),
        "{info}"
    );
    assert!(info.contains("(A4)"), "A4: {info}");
    let text = pdf_text(&pdf);
    assert!(text.contains("王小明") && text.contains("李芳"));
    assert!(
        text.contains(a.id_number.as_ref().unwrap().as_str()),
        "full ID for those who may see it"
    );
    let png = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "40", "-f", "1", "-l", "1"])
        .arg(&path)
        .arg(&png)
        .status()
        .unwrap();
    assert!(status.success());
    let rendered = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".png"))
        .expect("a PNG page");
    assert!(std::fs::metadata(rendered.path()).unwrap().len() > 2_000);
    // The CJK font is embedded, not substituted.
    let fonts = Command::new("pdffonts").arg(&path).output().unwrap();
    assert!(String::from_utf8_lossy(&fonts.stdout).contains("NotoSerifCJK"));
}

#[test]
fn the_agreement_names_the_parties_and_the_duties_of_the_law() {
    let file = boy();
    let text = pdf_text(&printer().agreement(&heading(&file, true)).unwrap());
    assert!(text.contains("农村留守儿童委托监护责任确认书"));
    for needle in [
        "王小明",
        "王建国",
        "李秀英",
        "祖父母",
        "书面告知",
        "每周至少联系",
        "第二十二条",
        "手印",
        "盖章",
        "2032年7月31日",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn a_missing_font_stops_the_printer_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let e = Printer::load(dir.path()).err().unwrap();
    assert!(matches!(e, PrintError::FontMissing(_)));
    assert!(
        e.to_string().contains("NotoSerifCJK-Regular.ttc")
            && e.to_string().contains("fonts-noto-cjk")
    );
}
