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
        agreement_term_months: 12,
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
        // The county's term from the day it is filled (a year less a day), as it is recorded.
        "2027年11月23日",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn without_the_system_fonts_the_shipped_ones_print_the_chinese_text() {
    let empty = tempfile::tempdir().unwrap();
    let printer = Printer::load(empty.path()).unwrap();
    assert_eq!(printer.font_source(), &shouwang_print::FontSource::Shipped);
    // Characters to the end of the block (龙 U+9F99, 黔, 高), outside GB 2312 (玥, 喆) and the
    // full-width punctuation print (pdftotext reads a character back even when it printed as an
    // empty box, so the laid-out glyphs are asked).
    assert_eq!(
        printer
            .unprintable("龙黔高玥喆王：（）、，。农村留守儿童基本情况登记表0123456789AZaz√")
            .unwrap(),
        Vec::<char>::new()
    );
    assert_eq!(
        printer.unprintable("王\u{20000}").unwrap(),
        vec!['\u{20000}']
    );
    // Every character the forms' templates print themselves.
    let templates: String = [
        include_str!("../templates/common.typ"),
        include_str!("../templates/registration.typ"),
        include_str!("../templates/agreement.typ"),
        include_str!("../templates/table.typ"),
    ]
    .concat()
    .chars()
    .filter(|c| !c.is_ascii())
    .collect();
    assert_eq!(printer.unprintable(&templates).unwrap(), Vec::<char>::new());
    // 玥 is outside GB 2312, common in girls' names: the shipped Regular face has it.
    let mut file = boy();
    file.name = shouwang_domain::person::PersonName::parse("王玥").unwrap();
    let pdf = printer
        .registration_forms(&[heading(&file, false)])
        .unwrap();
    let text = pdf_text(&pdf);
    for needle in [
        "农村留守儿童基本情况登记表",
        "王玥",
        "龙里县冠山街道冠山社区居民委员会",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn a_font_folder_holding_half_of_the_fonts_is_named_as_broken() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("NotoSerifCJK-Bold.ttc"), b"").unwrap();
    let e = Printer::load(dir.path()).err().unwrap();
    assert!(matches!(e, PrintError::FontMissing(_)));
    assert!(
        e.to_string().contains("NotoSerifCJK-Regular.ttc")
            && e.to_string().contains("fonts-noto-cjk")
    );
}

#[test]
fn the_elder_form_prints_the_elder_and_each_child_away_and_blank_lines_for_the_unknown() {
    use shouwang_domain::elder::{ChildAwayInput, ElderInput};
    let file = ElderInput {
        name: Some("李秀英".into()),
        sex: Some("女".into()),
        birth_date: Some("1950-03-02".into()),
        village_code: Some("522730001001".into()),
        living_with: Some("与孙辈同住".into()),
        children_away: Some(vec![ChildAwayInput {
            name: Some("王建国".into()),
            work_place: Some("广东省深圳市".into()),
            phone: Some("13800138000".into()),
        }]),
        ..ElderInput::default()
    }
    .parse(&ParseContext {
        today: ymd(2026, 12, 8),
        divisions: Divisions::shipped(),
    })
    .unwrap();
    let data = shouwang_exchange::elders::elder_form_data(
        &file,
        "龙里县冠山街道",
        ymd(2026, 12, 8),
        false,
    );
    let pdf = printer().elder_form(&data).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let text = pdf_text(&pdf);
    assert!(text.contains("农村留守老人基本情况登记表"), "{text}");
    for s in [
        "李秀英",
        "与孙辈同住",
        "王建国",
        "广东省深圳市",
        "13800138000",
        "1950年3月2日（76",
    ] {
        assert!(text.contains(s), "{s}: {text}");
    }
    // 身体状况 was not stated: nothing is printed for it.
    assert!(!text.contains("健康"), "{text}");
}
