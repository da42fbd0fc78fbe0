//! Imports and exports through the exchange crate's public interface against a real registry:
//! SQLite by default, PostgreSQL when `SHOUWANG_TEST_PG` holds a server URL. Sheets are made the
//! way users make them: title rows, merged two-row headers, ID numbers Excel turned into numbers,
//! GB18030 CSV, an .xls saved by LibreOffice and a password-protected workbook (tests/fixtures).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use shouwang_domain::authz::{Actor, Role};
use shouwang_domain::clock::FixedClock;
use shouwang_domain::region::RegionCode;
use shouwang_domain::sample::id_number_for;
use shouwang_exchange::import::{CommitMode, ImportError, Importer, Outcome, Plan};
use shouwang_store::roster::RosterQuery;
use shouwang_store::users::NewUser;
use shouwang_store::{IdCipher, Store};

struct Registry {
    store: Store,
    county: Actor,
    town_b: Actor,
    dir: tempfile::TempDir,
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn fresh_db(dir: &Path) -> String {
    match std::env::var("SHOUWANG_TEST_PG") {
        Ok(server) if !server.is_empty() => {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let name = format!(
                "x_{}_{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            );
            let mut admin = sqlx::AnyConnection::connect(&format!("{server}/postgres"))
                .await
                .expect("PostgreSQL reachable");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            format!("{server}/{name}")
        }
        _ => dir.join("x.db").to_string_lossy().into_owned(),
    }
}

async fn registry() -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path()).await;
    let store = Store::open(
        &db,
        IdCipher::new([3; 32], [4; 32]),
        Arc::new(FixedClock::on(ymd(2026, 11, 24))),
    )
    .await
    .unwrap();
    store
        .init_region(&RegionCode::parse("522730").unwrap())
        .await
        .unwrap();
    let mut actors = Vec::new();
    for (username, role, org) in [
        ("county", Role::County, "522730"),
        // 冠山街道: the other town's supervisor.
        ("town_b", Role::Town, "522730001"),
    ] {
        store
            .add_user(NewUser {
                username: username.into(),
                display_name: username.into(),
                password: "correct-horse-battery".into(),
                role,
                region: RegionCode::parse(org).unwrap(),
                agency: None,
            })
            .await
            .unwrap();
        actors.push(store.actor_by_username(username).await.unwrap().unwrap());
    }
    let town_b = actors.pop().unwrap();
    let county = actors.pop().unwrap();
    Registry {
        store,
        county,
        town_b,
        dir,
    }
}

impl Registry {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn plan(&self, actor: &Actor, path: &Path) -> Result<Plan, ImportError> {
        self.plan_with(actor, path, &BTreeMap::new()).await
    }

    async fn plan_with(
        &self,
        actor: &Actor,
        path: &Path,
        choices: &BTreeMap<String, String>,
    ) -> Result<Plan, ImportError> {
        Importer::new(&self.store, actor)?
            .plan(path, "test", choices, &mut |_| {})
            .await
    }

    async fn total(&self) -> i64 {
        self.store
            .roster(&self.county, &RosterQuery::default())
            .await
            .unwrap()
            .total
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn errors_of(plan: &Plan) -> Vec<String> {
    plan.error_lines().into_iter().map(|(_, l)| l).collect()
}

/// name, sex, ethnicity, birth date, ID sequence, town, village, schooling.
type HandRow = (
    &'static str,
    &'static str,
    &'static str,
    NaiveDate,
    u16,
    &'static str,
    &'static str,
    &'static str,
);

/// A county's roster as kept by hand in Excel: a merged title, 填报单位 line, a two-row header
/// whose upper row groups 父亲 / 母亲 / 受委托监护人 over merged cells, birth dates as date cells,
/// and one ID number that Excel turned into a number.
fn hand_made_workbook(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let date = Format::new().set_num_format("yyyy年m月d日");
    ws.merge_range(0, 0, 0, 16, "龙里县农村留守儿童花名册", &Format::new())
        .unwrap();
    ws.write(1, 0, "填报单位：龙里县民政局").unwrap();
    let singles = [
        (0, "序号"),
        (1, "姓名"),
        (2, "性别"),
        (3, "民族"),
        (4, "出生年月"),
        (5, "公民身份号码"),
        (6, "乡镇（街道）"),
        (7, "村（居）"),
        (8, "就学情况"),
        (15, "监护类型"),
        (16, "备注"),
    ];
    for (col, title) in singles {
        ws.merge_range(2, col, 3, col, title, &Format::new())
            .unwrap();
    }
    ws.merge_range(2, 9, 2, 10, "父亲", &Format::new()).unwrap();
    ws.merge_range(2, 11, 2, 12, "母亲", &Format::new())
        .unwrap();
    ws.merge_range(2, 13, 2, 14, "受委托监护人情况", &Format::new())
        .unwrap();
    for (col, title) in [
        (9, "姓名"),
        (10, "务工地点"),
        (11, "姓名"),
        (12, "务工地点"),
        (13, "姓名"),
        (14, "与被监护人关系"),
    ] {
        ws.write(3, col, title).unwrap();
    }
    let children: [HandRow; 4] = [
        (
            "王小明",
            "男",
            "布依族",
            ymd(2016, 7, 31),
            11,
            "冠山街道",
            "播箕村",
            "小学",
        ),
        (
            "李芳",
            "女",
            "汉",
            ymd(2015, 3, 8),
            12,
            "龙山镇",
            "余下村委会",
            "小学在读",
        ),
        (
            "陈晨",
            "男",
            "苗族",
            ymd(2019, 1, 15),
            13,
            "龙山",
            "余下",
            "幼儿园",
        ),
        (
            "赵敏",
            "女",
            "汉族",
            ymd(2014, 5, 6),
            14,
            "冠山街道",
            "播箕",
            "初中",
        ),
    ];
    for (i, (name, sex, eth, birth, seq, town, village, school)) in children.iter().enumerate() {
        let r = 4 + i as u32;
        ws.write(r, 0, (i + 1) as u32).unwrap();
        ws.write(r, 1, *name).unwrap();
        ws.write(r, 2, *sex).unwrap();
        ws.write(r, 3, *eth).unwrap();
        let d =
            ExcelDateTime::from_ymd(birth.year() as u16, birth.month() as u8, birth.day() as u8)
                .unwrap();
        ws.write_with_format(r, 4, &d, &date).unwrap();
        let seq = if *sex == "男" { seq * 2 + 1 } else { seq * 2 };
        let id = id_number_for("522730", *birth, seq);
        if i == 3 {
            // Typed into a General cell: Excel keeps 15 significant digits.
            ws.write(r, 5, id.parse::<f64>().unwrap()).unwrap();
        } else {
            ws.write(r, 5, id.as_str()).unwrap();
        }
        ws.write(r, 6, *town).unwrap();
        ws.write(r, 7, *village).unwrap();
        ws.write(r, 8, *school).unwrap();
        ws.write(r, 9, format!("{}父", &name[..3])).unwrap();
        ws.write(r, 10, "广东省深圳市").unwrap();
        ws.write(r, 11, "张丽").unwrap();
        ws.write(r, 12, "广东深圳").unwrap();
        ws.write(r, 13, "李秀英").unwrap();
        ws.write(r, 14, "奶奶").unwrap();
        ws.write(r, 15, "监护情况较好").unwrap();
    }
    ws.write(9, 0, "填表人：            复核人：").unwrap();
    wb.save(path).unwrap();
}

#[tokio::test]
async fn a_hand_made_roster_with_merged_two_row_headers_is_read_and_imported() {
    let reg = registry().await;
    let path = reg.path("花名册.xlsx");
    hand_made_workbook(&path);
    let plan = reg.plan(&reg.county, &path).await.unwrap();
    let m = &plan.info.mapping;
    assert_eq!((m.header_first, m.header_last), (2, 3));
    for (key, col) in [
        ("name", 1),
        ("birth_date", 4),
        ("id_number", 5),
        ("father_name", 9),
        ("father_work_place", 10),
        ("mother_work_place", 12),
        ("guardian_name", 13),
        ("guardian_relation", 14),
    ] {
        assert_eq!(m.column_of(key), Some(col), "{key}");
    }
    let counts = plan.counts();
    assert_eq!(
        (counts.create, counts.error),
        (3, 1),
        "{:?}",
        errors_of(&plan)
    );
    let errors = errors_of(&plan);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("F8（公民身份号码）") && errors[0].contains("科学计数法"),
        "{}",
        errors[0]
    );
    // Places and words resolved: 余下村委会 in 龙山镇, 奶奶 → 祖父母, 广东深圳 → 4403.
    let li = plan
        .rows
        .iter()
        .find_map(|r| match &r.outcome {
            Outcome::Create(f) if f.name.as_str() == "李芳" => Some(f.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(li.village_code.as_str(), "522730100208");
    assert_eq!(li.mother.work_place.as_ref().unwrap().as_str(), "4403");
    assert_eq!(
        li.entrusted_guardian.as_ref().unwrap().relation.label(),
        "祖父母"
    );
    assert_eq!(li.ethnicity.label(), "汉族");

    // Nothing was written by the preview; all-or-nothing refuses a file with errors.
    assert_eq!(reg.total().await, 0);
    let importer = Importer::new(&reg.store, &reg.county).unwrap();
    assert!(matches!(
        importer.commit(&plan, CommitMode::All).await,
        Err(ImportError::HasErrors(1))
    ));
    assert_eq!(reg.total().await, 0);
    let done = importer.commit(&plan, CommitMode::Valid).await.unwrap();
    assert_eq!((done.created, done.updated), (3, 0));
    assert_eq!(reg.total().await, 3);

    // The same file again changes nothing.
    let again = reg.plan(&reg.county, &path).await.unwrap().counts();
    assert_eq!((again.create, again.update, again.unchanged), (0, 0, 3));
}

#[tokio::test]
async fn the_error_rows_come_back_as_a_workbook_that_imports_once_fixed() {
    let reg = registry().await;
    let path = reg.path("roster.xlsx");
    hand_made_workbook(&path);
    let plan = reg.plan(&reg.county, &path).await.unwrap();
    let errors = reg.path("errors.xlsx");
    let n = shouwang_exchange::xlsx::write_error_workbook(&plan, &errors).unwrap();
    assert_eq!(n, 1);
    // The error workbook is itself importable: same columns, the reason in an extra column.
    let back = reg.plan(&reg.county, &errors).await.unwrap();
    assert_eq!(back.counts().error, 1);
    let reason_column = back
        .info
        .mapping
        .columns
        .iter()
        .find(|c| c.title.starts_with("错误原因"))
        .unwrap();
    assert_eq!(reason_column.key, None);
    assert_eq!(back.info.mapping.column_of("father_name"), Some(9));
}

#[tokio::test]
async fn a_changed_phone_number_is_an_update_that_names_the_field() {
    let reg = registry().await;
    let csv = |phone: &str| {
        format!(
            "姓名,性别,民族,出生日期,身份证号码,村,就学情况,监护类型,父母务工地点,监护人,与儿童关系,联系电话\n\
             杨光,男,布依族,2016-03-12,{},余下村,小学,监护情况较好,广东省广州市,杨国华,祖父,{phone}\n",
            id_number_for("522730", ymd(2016, 3, 12), 31)
        )
    };
    let first = reg.path("a.csv");
    std::fs::write(&first, csv("13812345678")).unwrap();
    let plan = reg.plan(&reg.county, &first).await.unwrap();
    Importer::new(&reg.store, &reg.county)
        .unwrap()
        .commit(&plan, CommitMode::All)
        .await
        .unwrap();
    let second = reg.path("b.csv");
    std::fs::write(&second, csv("13812345679")).unwrap();
    let plan = reg.plan(&reg.county, &second).await.unwrap();
    let Outcome::Update(u) = &plan.rows[0].outcome else {
        panic!("expected an update, got {:?}", plan.rows[0].outcome);
    };
    assert_eq!(u.changes.len(), 1);
    assert_eq!(u.changes[0].field, "entrusted_guardian.phone");
    assert_eq!(u.changes[0].new.as_deref(), Some("13812345679"));
    Importer::new(&reg.store, &reg.county)
        .unwrap()
        .commit(&plan, CommitMode::All)
        .await
        .unwrap();
    let history = reg
        .store
        .child_history(&reg.county, &u.child_id)
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|h| h.kind == "import"));
}

#[tokio::test]
async fn gb18030_and_utf8_bom_csv_read_the_same() {
    let reg = registry().await;
    let text = std::fs::read_to_string(fixture("roster-source.csv")).unwrap();
    let gbk = reg.path("gbk.csv");
    std::fs::write(&gbk, encoding_rs::GB18030.encode(&text).0).unwrap();
    let bom = reg.path("bom.csv");
    std::fs::write(&bom, [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat()).unwrap();
    let a = reg.plan(&reg.county, &gbk).await.unwrap();
    let b = reg.plan(&reg.county, &bom).await.unwrap();
    assert_eq!(a.info.encoding, Some("gb18030"));
    assert_eq!(b.info.encoding, Some("UTF-8"));
    assert_eq!(a.counts().create, 3, "{:?}", errors_of(&a));
    let names = |p: &Plan| p.rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), ["杨光", "吴佳怡", "罗晨"]);
    assert_eq!(names(&a), names(&b));
}

#[tokio::test]
async fn an_xls_saved_by_libreoffice_reads_like_its_source() {
    let reg = registry().await;
    let plan = reg.plan(&reg.county, &fixture("roster.xls")).await.unwrap();
    assert_eq!(plan.info.format, "Excel 97-2003 工作簿（.xls）");
    assert_eq!(plan.counts().create, 3, "{:?}", errors_of(&plan));
    let source = reg
        .plan(&reg.county, &fixture("roster-source.csv"))
        .await
        .unwrap();
    let files = |p: &Plan| {
        p.rows
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Create(f) => (**f).clone(),
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(files(&plan), files(&source));
}

#[tokio::test]
async fn broken_files_get_a_clear_message_and_write_nothing() {
    let reg = registry().await;
    let png = reg.path("photo.xlsx");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let empty = reg.path("empty.csv");
    std::fs::write(&empty, b"").unwrap();
    let no_header = reg.path("numbers.csv");
    std::fs::write(&no_header, "1,2,3\n4,5,6\n").unwrap();
    let only_header = reg.path("header.csv");
    std::fs::write(&only_header, "姓名,性别,出生日期\n").unwrap();
    let cases: [(&Path, &str); 5] = [
        (&png, "无法识别的文件"),
        (&empty, "文件是空的"),
        (&fixture("encrypted.xlsx"), "密码"),
        (&no_header, "没有找到表头"),
        (&only_header, "没有儿童数据"),
    ];
    for (path, expected) in cases {
        let e = reg.plan(&reg.county, path).await.unwrap_err();
        assert!(e.to_string().contains(expected), "{}: {e}", path.display());
    }
    assert_eq!(reg.total().await, 0);
}

#[tokio::test]
async fn rows_outside_the_jurisdiction_are_refused_by_name() {
    let reg = registry().await;
    // The 冠山街道 supervisor imports the 龙山镇 roster.
    let plan = reg
        .plan(&reg.town_b, &fixture("roster-source.csv"))
        .await
        .unwrap();
    assert_eq!(plan.counts().error, 3);
    let errors = errors_of(&plan);
    assert!(
        errors.iter().all(|e| e.contains("不在您的管辖范围内")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_column_the_importer_does_not_know_can_be_mapped_by_the_user() {
    let reg = registry().await;
    let path = reg.path("custom.csv");
    std::fs::write(
        &path,
        format!(
            "姓名,性别,民族,出生日期,身份证号,所在村别,就学情况,监护类型,父母务工地点\n\
             杨光,男,布依族,2016-03-12,{},余下村,小学,无人监护,广东省广州市\n",
            id_number_for("522730", ymd(2016, 3, 12), 31)
        ),
    )
    .unwrap();
    let plan = reg.plan(&reg.county, &path).await.unwrap();
    assert_eq!(plan.info.mapping.column_of("village"), None);
    assert_eq!(plan.counts().error, 1);
    let choices = BTreeMap::from([("所在村别".to_owned(), "village".to_owned())]);
    let plan = reg.plan_with(&reg.county, &path, &choices).await.unwrap();
    assert_eq!(plan.counts().create, 1, "{:?}", errors_of(&plan));
    let bad = BTreeMap::from([("所在村别".to_owned(), "planet".to_owned())]);
    let e = reg.plan_with(&reg.county, &path, &bad).await.unwrap_err();
    assert!(e.to_string().contains("planet"), "{e}");
}
