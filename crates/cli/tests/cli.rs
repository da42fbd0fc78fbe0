//! The CLI contract: init, demo and user add, run as a real process against SQLite and (when
//! `SHOUWANG_TEST_PG` is set) PostgreSQL.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn fresh_db(dir: &std::path::Path) -> String {
    match std::env::var("SHOUWANG_TEST_PG") {
        Ok(server) if !server.is_empty() => {
            let name = format!("cli_{}_{}", std::process::id(), rand_suffix());
            let out = Command::new("psql")
                .args([
                    &format!("{server}/postgres"),
                    "-qc",
                    &format!("CREATE DATABASE {name}"),
                ])
                .output()
                .expect("psql runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            format!("{server}/{name}")
        }
        _ => dir.join("cli.db").to_string_lossy().into_owned(),
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    h.finish()
}

fn shouwang(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shouwang"))
        .args(args)
        .env("SHOUWANG_KEY_FILE", dir.join("test.keys"))
        .env("SHOUWANG_TODAY", "2026-11-24")
        .output()
        .expect("binary runs")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn init_loads_every_town_and_village_of_the_five_test_places() {
    for (code, expected) in [
        (
            "522730",
            "龙里县（522730）：0 个县级区划，6 个乡级区划，82 个村级区划",
        ),
        (
            "532801",
            "景洪市（532801）：0 个县级区划，17 个乡级区划，160 个村级区划",
        ),
        (
            "120114",
            "武清区（120114）：0 个县级区划，37 个乡级区划，745 个村级区划",
        ),
        (
            "2101",
            "沈阳市（2101）：13 个县级区划，190 个乡级区划，2703 个村级区划",
        ),
        (
            "152527",
            "太仆寺旗（152527）：0 个县级区划，8 个乡级区划，188 个村级区划",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh_db(dir.path());
        let out = stdout(&shouwang(
            dir.path(),
            &["init", "--db", &db, "--region", code],
        ));
        assert!(out.contains(expected), "{code}: {out}");
        // Idempotent: a second init changes nothing and says the same.
        let again = stdout(&shouwang(
            dir.path(),
            &["init", "--db", &db, "--region", code],
        ));
        assert!(again.contains(expected));
    }
}

#[test]
fn init_refuses_a_code_that_does_not_exist_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let out = shouwang(
        dir.path(),
        &["init", "--db", db.to_str().unwrap(), "--region", "522799"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("522799") && err.contains("不存在"), "{err}");
    assert!(!db.exists(), "nothing is created for a bad region");
}

#[test]
fn user_add_reads_the_password_from_stdin_and_checks_the_org_level() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path());
    stdout(&shouwang(
        dir.path(),
        &["init", "--db", &db, "--region", "522730"],
    ));
    let add = |args: &[&str], password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shouwang"))
            .args(["user", "add", "--db", &db, "--password-stdin"])
            .args(args)
            .env("SHOUWANG_KEY_FILE", dir.path().join("test.keys"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = add(
        &[
            "--username",
            "li_town",
            "--role",
            "town",
            "--org",
            "522730001",
        ],
        "a-long-password\n",
    );
    assert!(stdout(&ok).contains("已创建用户 li_town"));
    let wrong_level = add(
        &[
            "--username",
            "x_village",
            "--role",
            "village",
            "--org",
            "522730001",
        ],
        "a-long-password\n",
    );
    assert!(!wrong_level.status.success());
    assert!(String::from_utf8_lossy(&wrong_level.stderr).contains("村级"));
    let short = add(
        &["--username", "y", "--role", "bogus", "--org", "522730"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("未知角色"));
    let dup = add(
        &[
            "--username",
            "li_town",
            "--role",
            "town",
            "--org",
            "522730001",
        ],
        "a-long-password\n",
    );
    assert!(!dup.status.success());
}

#[test]
fn demo_creates_children_in_real_villages_and_prints_one_login_per_role() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path());
    let out = stdout(&shouwang(
        dir.path(),
        &[
            "demo",
            "--db",
            &db,
            "--region",
            "152527",
            "--children",
            "500",
            "--seed",
            "7",
        ],
    ));
    assert!(
        out.contains("已生成 500 名演示儿童，分布在 188 个村（社区）"),
        "{out}"
    );
    for role in [
        "village",
        "town",
        "county",
        "county_admin",
        "school",
        "police",
        "agency",
        "department",
        "oversight",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(role)),
            "{role} login missing: {out}"
        );
    }
}

/// Several regions in one demo (a national benchmark): the children shared out, the accounts those
/// of the first region, named by their real places however many regions follow.
#[test]
fn demo_shares_children_over_several_regions() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path());
    let out = stdout(&shouwang(
        dir.path(),
        &[
            "demo",
            "--db",
            &db,
            "--region",
            "522730,152527",
            "--children",
            "301",
            "--seed",
            "5",
        ],
    ));
    assert!(
        out.contains("已生成 151 名演示儿童，分布在 82 个村（社区）"),
        "{out}"
    );
    assert!(
        out.contains("已生成 150 名演示儿童，分布在 188 个村（社区）"),
        "{out}"
    );
    // The village account is 龙里县's, also in the second region's listing.
    let village_lines: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("village "))
        .collect();
    assert_eq!(village_lines.len(), 2, "{out}");
    assert!(village_lines.iter().all(|l| l.contains("龙里县")), "{out}");
    let bad = shouwang(
        dir.path(),
        &["demo", "--db", &db, "--region", "522730,999999"],
    );
    assert!(!bad.status.success());
}

/// A demo county with its users, for the import and export commands.
fn demo_county(dir: &std::path::Path, children: &str) -> String {
    let db = fresh_db(dir);
    stdout(&shouwang(
        dir,
        &[
            "demo",
            "--db",
            &db,
            "--region",
            "522730",
            "--children",
            children,
            "--seed",
            "3",
        ],
    ));
    db
}

fn roster_csv() -> String {
    use shouwang_domain::sample::id_number_for;
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
    format!(
        "序号,姓名,性别,民族,出生日期,身份证号,乡镇,村,就学情况,监护类型,留守类型,外出务工地点,监护人,与儿童关系\n\
         1,杨光,男,布依族,2016-03-12,{},龙山镇,余下村,小学,监护情况较好,父母双方外出,广东省广州市,杨国华,祖父\n\
         2,吴佳怡,女,苗族,2019-09-01,{},龙山镇,余下村,幼儿园,监护情况一般,父母双方外出,浙江宁波,吴桂英,外婆\n\
         3,罗晨,男,汉族,2012-11-20,5.22730E+17,龙山镇,余下村,初中,监护情况较好,父母双方外出,厦门,罗永福,爷爷\n",
        id_number_for("522730", d(2016, 3, 12), 31),
        id_number_for("522730", d(2019, 9, 1), 32)
    )
}

#[test]
fn import_previews_by_default_and_commits_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "0");
    let csv = dir.path().join("花名册.csv");
    std::fs::write(&csv, roster_csv()).unwrap();
    let errors = dir.path().join("errors.xlsx");
    let csv_s = csv.to_str().unwrap();
    let dry = stdout(&shouwang(
        dir.path(),
        &[
            "import",
            "--db",
            &db,
            "--as",
            "county",
            csv_s,
            "--errors",
            errors.to_str().unwrap(),
        ],
    ));
    assert!(
        dry.contains("新增 2 行，更新 0 行，无变化 0 行，错误 1 行"),
        "{dry}"
    );
    assert!(dry.contains("F4（身份证号）"), "{dry}");
    assert!(dry.contains("这是预览"));
    assert!(std::fs::read(&errors).unwrap().starts_with(b"PK"));
    // --commit all meets the error: non-zero, nothing written (the next preview still creates 2).
    let all = shouwang(
        dir.path(),
        &[
            "import", "--db", &db, "--as", "county", csv_s, "--commit", "all",
        ],
    );
    assert_eq!(all.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&all.stderr).contains("有1行存在错误"));
    let valid = stdout(&shouwang(
        dir.path(),
        &[
            "import", "--db", &db, "--as", "county", csv_s, "--commit", "valid",
        ],
    ));
    assert!(valid.contains("已导入：新增 2 名儿童"), "{valid}");
    let again = stdout(&shouwang(
        dir.path(),
        &["import", "--db", &db, "--as", "county", csv_s],
    ));
    assert!(
        again.contains("新增 0 行，更新 0 行，无变化 2 行，错误 1 行"),
        "{again}"
    );
    // A file that is not a spreadsheet: exit 2 and a reason.
    let junk = dir.path().join("photo.xlsx");
    std::fs::write(&junk, b"\x89PNG\r\n\x1a\n\0\0").unwrap();
    let bad = shouwang(
        dir.path(),
        &[
            "import",
            "--db",
            &db,
            "--as",
            "county",
            junk.to_str().unwrap(),
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("无法识别的文件"));
    // A user outside the import roles is refused.
    let school = shouwang(
        dir.path(),
        &["import", "--db", &db, "--as", "school", csv_s],
    );
    assert_eq!(school.status.code(), Some(2));
}

#[test]
fn exports_write_the_roster_summary_and_printed_forms() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "300");
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let roster = stdout(&shouwang(
        dir.path(),
        &[
            "export",
            "roster",
            "--db",
            &db,
            "--as",
            "town",
            "--out",
            &out("r.xlsx"),
        ],
    ));
    assert!(roster.contains("已导出龙里县冠山街道花名册"), "{roster}");
    assert!(std::fs::read(out("r.xlsx")).unwrap().starts_with(b"PK"));
    let summary = stdout(&shouwang(
        dir.path(),
        &[
            "export",
            "summary",
            "--db",
            &db,
            "--as",
            "county",
            "--region",
            "522730",
            "--date",
            "2026-11-24",
            "--out",
            &out("s.xlsx"),
        ],
    ));
    assert!(summary.contains("勾稽关系校验通过"), "{summary}");
    // The exported roster imports back without changes.
    let back = stdout(&shouwang(
        dir.path(),
        &["import", "--db", &db, "--as", "town", &out("r.xlsx")],
    ));
    assert!(
        back.contains("新增 0 行，更新 0 行") && back.contains("错误 0 行"),
        "{back}"
    );
    // Another town's roster is refused.
    let other = shouwang(
        dir.path(),
        &[
            "export",
            "roster",
            "--db",
            &db,
            "--as",
            "town",
            "--region",
            "522730100",
            "--out",
            &out("x.xlsx"),
        ],
    );
    assert_eq!(other.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&other.stderr).contains("不在您的管辖范围内"));
    // Every 登记表 of the village director's village, one page each.
    let forms = stdout(&shouwang(
        dir.path(),
        &[
            "export",
            "form",
            "--db",
            &db,
            "--as",
            "village",
            "--out",
            &out("forms.pdf"),
        ],
    ));
    assert!(forms.contains("基本情况登记表"), "{forms}");
    let text = Command::new("pdftotext")
        .args([&out("forms.pdf"), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("农村留守儿童基本情况登记表") && text.contains("（√）"),
        "{text}"
    );
    // A machine without the system's fonts prints with the fonts shipped in the program.
    let shipped = shouwang(
        dir.path(),
        &[
            "export",
            "form",
            "--db",
            &db,
            "--as",
            "village",
            "--font-dir",
            "/nonexistent",
            "--out",
            &out("f.pdf"),
        ],
    );
    assert_eq!(
        shipped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&shipped.stderr)
    );
    let text = Command::new("pdftotext")
        .args([&out("f.pdf"), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("农村留守儿童基本情况登记表") && text.contains("（√）"),
        "{text}"
    );
    // The same forms as a workbook need no fonts; one form (title) per PDF page.
    let xlsx = stdout(&shouwang(
        dir.path(),
        &[
            "export",
            "form",
            "--db",
            &db,
            "--as",
            "village",
            "--font-dir",
            "/nonexistent",
            "--out",
            &out("forms.xlsx"),
        ],
    ));
    assert!(xlsx.contains("基本情况登记表"), "{xlsx}");
    let bytes = std::fs::read(out("forms.xlsx")).unwrap();
    assert!(bytes.starts_with(b"PK"));
    let pages = Command::new("pdfinfo")
        .arg(out("forms.pdf"))
        .output()
        .unwrap();
    let pages: usize = String::from_utf8_lossy(&pages.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages > 0);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("xl/sharedStrings.xml").unwrap(),
        &mut strings,
    )
    .unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    // The title is one shared string used once per form; forms are split by page breaks.
    assert!(strings.contains("农村留守儿童基本情况登记表"));
    assert_eq!(sheet.matches("<brk ").count(), pages - 1, "{pages} pages");
    // The agreement has no workbook form.
    let agreement = shouwang(
        dir.path(),
        &[
            "export",
            "agreement",
            "--db",
            &db,
            "--as",
            "village",
            "--child",
            "x",
            "--out",
            &out("a.xlsx"),
        ],
    );
    assert_eq!(agreement.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&agreement.stderr).contains("只能导出为 PDF"));
}

#[test]
fn the_server_prints_a_childs_forms_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "50");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = start_server(dir.path(), &db, port);
    let result = std::panic::catch_unwind(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let base = format!("http://127.0.0.1:{port}");
            let client = county_session(&base).await;
            let list: serde_json::Value = client
                .get(format!("{base}/api/v1/children?per_page=1"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let child = &list["items"][0];
            let id = child["id"].as_str().unwrap();
            for doc in ["form.pdf", "agreement.pdf"] {
                let r = client
                    .get(format!("{base}/api/v1/children/{id}/{doc}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{doc}");
                assert_eq!(r.headers()["content-type"], "application/pdf");
                let pdf = r.bytes().await.unwrap();
                let path = dir.path().join(doc);
                std::fs::write(&path, &pdf).unwrap();
                let text = Command::new("pdftotext")
                    .arg(&path)
                    .arg("-")
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&text.stdout);
                assert!(
                    text.contains(child["name"].as_str().unwrap()),
                    "{doc}: {text}"
                );
            }
            // The county's 定期通报 of its towns, printed.
            let r = client
                .get(format!("{base}/quarterly/ranking.pdf?quarter=2026Q4"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["content-type"], "application/pdf");
            let path = dir.path().join("ranking.pdf");
            std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
            let text = Command::new("pdftotext")
                .arg("-layout")
                .arg(&path)
                .arg("-")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&text.stdout);
            for want in [
                "第四季度农村留守儿童信息报送情况通报",
                "未到报送期限",
                "冠山街道",
                "核查率",
            ] {
                assert!(text.contains(want), "{want}: {text}");
            }
        });
    });
    let _ = server.kill();
    let _ = server.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn reconcile_links_two_csv_lists_and_writes_the_review_queue() {
    use shouwang_linkage::synth::{Damage, list_pair};
    let dir = tempfile::tempdir().unwrap();
    let pair = list_pair(1_500, 11, &Damage::default());
    let write = |name: &str, records: &[shouwang_linkage::Record]| {
        let path = dir.path().join(name);
        let mut w = csv::Writer::from_path(&path).unwrap();
        for r in records {
            w.serialize(r).unwrap();
        }
        w.flush().unwrap();
        path.to_string_lossy().into_owned()
    };
    let left = write("left.csv", &pair.left);
    let right = write("right.csv", &pair.right);
    let links = dir.path().join("links.csv");
    let review = dir.path().join("review.csv");
    let out = stdout(&shouwang(
        dir.path(),
        &[
            "reconcile",
            "--left",
            &left,
            "--right",
            &right,
            "--out",
            links.to_str().unwrap(),
            "--review",
            review.to_str().unwrap(),
        ],
    ));
    assert!(out.contains("比对完成"), "{out}");
    let mut reader = csv::Reader::from_path(&links).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["left_id", "right_id", "score", "decision"]
    );
    let truth: std::collections::HashSet<(String, String)> = pair.truth.into_iter().collect();
    let mut matched = 0;
    let mut correct = 0;
    let mut reviews = 0;
    for row in reader.records() {
        let row = row.unwrap();
        let score: f64 = row[2].parse().unwrap();
        match &row[3] {
            "match" => {
                matched += 1;
                assert!(score >= 0.95);
                correct += usize::from(truth.contains(&(row[0].to_owned(), row[1].to_owned())));
            }
            "review" => reviews += 1,
            other => panic!("decision {other}"),
        }
    }
    assert!(
        correct as f64 / matched as f64 > 0.99,
        "{correct}/{matched}"
    );
    assert!(
        correct as f64 / truth.len() as f64 > 0.97,
        "{correct}/{}",
        truth.len()
    );
    let review_rows = csv::Reader::from_path(&review).unwrap().records().count();
    assert_eq!(review_rows, reviews);
    // A list without names is refused with a message naming the column.
    std::fs::write(dir.path().join("bad.csv"), "record_id,sex\n1,女\n").unwrap();
    let bad = shouwang(
        dir.path(),
        &[
            "reconcile",
            "--left",
            dir.path().join("bad.csv").to_str().unwrap(),
            "--right",
            &right,
            "--out",
            links.to_str().unwrap(),
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("姓名"));
}

/// Starts `shouwang serve` on the database and waits until it answers.
/// The demo county user signed in, as a browser of the server at `base` would be (its requests
/// carry the site's Origin).
async fn county_session(base: &str) -> reqwest::Client {
    let mut origin = reqwest::header::HeaderMap::new();
    origin.insert(reqwest::header::ORIGIN, base.parse().unwrap());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(origin)
        .build()
        .unwrap();
    let r = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "county", "password": "shouwang-demo"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    client
}

fn start_server(dir: &std::path::Path, db: &str, port: u16) -> std::process::Child {
    start_server_with(dir, db, port, &["--second-factor-roles", "none"])
}

fn start_server_with(
    dir: &std::path::Path,
    db: &str,
    port: u16,
    extra: &[&str],
) -> std::process::Child {
    let server = Command::new(env!("CARGO_BIN_EXE_shouwang"))
        .args(["serve", "--db", db, "--bind", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env("SHOUWANG_KEY_FILE", dir.join("test.keys"))
        .env("SHOUWANG_TODAY", "2026-11-24")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    server
}

#[test]
fn an_import_job_survives_kill_and_restart_of_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "20");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let upload = |client: reqwest::Client, base: String, body: String| async move {
        let r = client
            .post(format!("{base}/api/v1/imports?filename=roster.csv"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let state = |client: reqwest::Client, base: String, id: String| async move {
        for _ in 0..400 {
            let v: serde_json::Value = client
                .get(format!("{base}/api/v1/imports/{id}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["state"] != "reading" && v["state"] != "committing" {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("import {id} did not finish");
    };
    // A big roster, still being read when the server is killed.
    let mut big = String::from("姓名,性别,民族,出生日期,乡镇,村,就学情况,监护类型,留守类型\n");
    for i in 0..40_000 {
        big.push_str(&format!(
            "杨{}{},男,汉族,2015-03-{:02},龙山镇,余下村,小学,监护情况较好,父母双方外出\n",
            ["光", "明", "华", "英"][i % 4],
            i,
            1 + i % 28
        ));
    }

    let mut server = start_server(dir.path(), &db, port);
    let (ready, running) = rt.block_on(async {
        let client = county_session(&base).await;
        let ready = upload(client.clone(), base.clone(), roster_csv()).await;
        let plan = state(client.clone(), base.clone(), ready.clone()).await;
        assert_eq!(plan["state"], "ready", "{plan}");
        let running = upload(client.clone(), base.clone(), big).await;
        (ready, running)
    });
    // kill -9: no chance to tidy up.
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = start_server(dir.path(), &db, port);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            let client = county_session(&base).await;
            let interrupted = state(client.clone(), base.clone(), running).await;
            assert_eq!(interrupted["state"], "failed", "{interrupted}");
            assert!(
                interrupted["message"]
                    .as_str()
                    .unwrap()
                    .contains("服务器在任务进行中停止"),
                "{interrupted}"
            );
            // The plan that waited for its decision is still there, and commits.
            let plan = state(client.clone(), base.clone(), ready.clone()).await;
            assert_eq!(plan["state"], "ready", "{plan}");
            let r = client
                .post(format!("{base}/api/v1/imports/{ready}/commit"))
                .json(&serde_json::json!({"mode": "valid"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        })
    }));
    let _ = server.kill();
    let _ = server.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// `shouwang audit verify` recomputes the keyed chain: it passes on an untouched log and exits 1
/// naming the first event after someone edited the database behind the system's back.
#[test]
fn audit_verify_passes_on_a_clean_log_and_names_the_first_broken_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "20");
    let ok = stdout(&shouwang(dir.path(), &["audit", "verify", "--db", &db]));
    assert!(ok.contains("校验通过"), "{ok}");
    let url = if db.starts_with("postgres") {
        db.clone()
    } else {
        format!("sqlite://{db}")
    };
    let seq: i64 = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        let seq: i64 = sqlx::query_scalar("SELECT MIN(seq) + 3 FROM audit_events")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_events SET detail = '{}' , action = 'nothing' WHERE seq = $1")
            .bind(seq)
            .execute(&mut conn)
            .await
            .unwrap();
        seq
    });
    let broken = shouwang(dir.path(), &["audit", "verify", "--db", &db]);
    assert_eq!(broken.status.code(), Some(1));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(err.contains(&format!("第 {seq} 条")), "{err}");
}

/// Runs `f` on a connection to `db`, as someone with the database file (not the key) would.
fn on_db(db: &str, f: &Sql) {
    let url = if db.starts_with("postgres") {
        db.to_owned()
    } else {
        format!("sqlite://{db}")
    };
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        f(&mut conn).await;
    })
}

/// Re-chains the whole log with the old unkeyed algorithm (version 1: SHA-256 without the user
/// and the region), numbering the events from 1, and sets the head to match.
async fn rechain_as_v1(c: &mut sqlx::AnyConnection) {
    let rows: Vec<OldEvent> = sqlx::query_as(
        "SELECT seq, at, username, action, entity, entity_id, detail FROM audit_events ORDER BY seq",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let mut prev = "0".repeat(64);
    for (new_seq, (old_seq, at, username, action, entity, entity_id, detail)) in (1i64..).zip(rows)
    {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [
            &prev,
            &new_seq.to_string(),
            &at,
            &username,
            &action,
            &entity,
            entity_id.as_deref().unwrap_or(""),
            &detail,
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let hash = hex::encode(h.finalize());
        sqlx::query(
            "UPDATE audit_events SET seq = $1, prev_hash = $2, hash = $3, hash_version = 1 WHERE seq = $4",
        )
        .bind(new_seq)
        .bind(&prev)
        .bind(&hash)
        .bind(old_seq)
        .execute(&mut *c)
        .await
        .unwrap();
        prev = hash;
    }
    head_to_last(c).await;
}

/// Sets the head to the log's last event, as an attacker hiding a cut tail would.
async fn head_to_last(c: &mut sqlx::AnyConnection) {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *c)
            .await
            .unwrap();
    let (seq, hash) = last.unwrap_or((0, "0".repeat(64)));
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .execute(&mut *c)
        .await
        .unwrap();
}

/// A log written before the keyed chain (version 1 throughout) fails verification until the
/// operator re-chains it with `shouwang audit upgrade`; then it verifies, against the anchor kept
/// before too (the keyed hashes of unchanged events are the same). A version 1 log that was
/// tampered with is not upgraded.
#[test]
fn a_log_written_before_the_keyed_chain_verifies_after_audit_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "5");
    on_db(&db, &|c| Box::pin(rechain_as_v1(c)));
    let o = shouwang(dir.path(), &["audit", "verify", "--db", &db]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("旧算法"));
    let out = stdout(&shouwang(dir.path(), &["audit", "upgrade", "--db", &db]));
    assert!(out.contains("重新串联"), "{out}");
    let verified = stdout(&shouwang(dir.path(), &["audit", "verify", "--db", &db]));
    assert!(verified.contains("与库外锚点"), "{verified}");
    // Broken before the upgrade: refused, and the log left as it was.
    on_db(&db, &|c| {
        Box::pin(async move {
            rechain_as_v1(c).await;
            sqlx::query("UPDATE audit_events SET username = 'nobody' WHERE seq = 3")
                .execute(&mut *c)
                .await
                .unwrap();
        })
    });
    let o = shouwang(dir.path(), &["audit", "upgrade", "--db", &db]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("第 3 条"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A piece of SQL run on a connection (the forgeries below).
type Sql = dyn Fn(
    &mut sqlx::AnyConnection,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>;
/// An audit event's fields as the old unkeyed chain covered them.
type OldEvent = (i64, String, String, String, String, Option<String>, String);

/// The forgeries of issue 24, each by someone with the database but not the key file: cutting the
/// tail (and setting the head to match), emptying the log, deleting chosen events and re-chaining
/// the rest with the old unkeyed algorithm, inserting an event. Each fails verification, naming
/// what was found; the anchor beside the key file is what shows a cut tail.
#[test]
fn audit_verify_fails_on_every_forgery_made_without_the_key() {
    let verify_fails = |dir: &std::path::Path, db: &str, expect: &str| {
        let o = shouwang(dir, &["audit", "verify", "--db", db]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(expect), "expected {expect}: {err}");
    };
    // The tail cut, head and all.
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "5");
    assert!(stdout(&shouwang(dir.path(), &["audit", "verify", "--db", &db])).contains("锚点"));
    on_db(&db, &|c| {
        Box::pin(async move {
            sqlx::query(
                "DELETE FROM audit_events WHERE seq > (SELECT MAX(seq) - 3 FROM audit_events)",
            )
            .execute(&mut *c)
            .await
            .unwrap();
            head_to_last(c).await;
        })
    });
    verify_fails(dir.path(), &db, "日志末尾被删除");
    // Without the anchor the cut cannot be seen, and verify says so rather than passing.
    std::fs::rename(
        dir.path().join("test.anchor"),
        dir.path().join("kept.anchor"),
    )
    .unwrap();
    verify_fails(dir.path(), &db, "没有找到库外的审计锚点");
    // A server or command started on the cut log does not anchor over it.
    std::fs::rename(
        dir.path().join("kept.anchor"),
        dir.path().join("test.anchor"),
    )
    .unwrap();
    let o = shouwang(dir.path(), &["retention", "--db", &db]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("锚点未更新"));
    verify_fails(dir.path(), &db, "审计日志校验失败");

    // The log emptied.
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "5");
    on_db(&db, &|c| {
        Box::pin(async move {
            sqlx::query("DELETE FROM audit_events")
                .execute(&mut *c)
                .await
                .unwrap();
            head_to_last(c).await;
        })
    });
    verify_fails(dir.path(), &db, "日志被清空");

    // Chosen events deleted, another edited, the rest re-chained as version 1 (unkeyed SHA-256).
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "5");
    on_db(&db, &|c| {
        Box::pin(async move {
            sqlx::query("DELETE FROM audit_events WHERE seq % 3 = 0")
                .execute(&mut *c)
                .await
                .unwrap();
            sqlx::query("UPDATE audit_events SET username = 'nobody' WHERE seq = 2")
                .execute(&mut *c)
                .await
                .unwrap();
            rechain_as_v1(c).await;
        })
    });
    verify_fails(dir.path(), &db, "旧算法");

    // An event inserted in the middle, and one deleted from the middle.
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "5");
    on_db(&db, &|c| {
        Box::pin(async move {
            sqlx::query("DELETE FROM audit_events WHERE seq = 4")
                .execute(&mut *c)
                .await
                .unwrap();
        })
    });
    verify_fails(dir.path(), &db, "第 4 条记录缺失");
    on_db(&db, &|c| {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO audit_events (seq, at, user_id, username, action, entity, entity_id, region_code, detail, prev_hash, hash, hash_version) \
                 SELECT 4, at, user_id, 'someone', action, entity, entity_id, region_code, detail, prev_hash, hash, 2 FROM audit_events WHERE seq = 5",
            )
            .execute(&mut *c)
            .await
            .unwrap();
        })
    });
    verify_fails(dir.path(), &db, "第 4 条记录起哈希链断开");
}

/// kill -9 while an import of 20,000 children is being committed and while registrations are
/// arriving: after the restart each is all or nothing — the roster holds the demo's children plus
/// the whole import or none of it, every registered child has its history — and the audit chain
/// verifies.
#[test]
fn kill_9_during_a_commit_and_registrations_leaves_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "20");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let total = |client: reqwest::Client, base: String| async move {
        let v: serde_json::Value = client
            .get(format!("{base}/api/v1/children?status=all&per_page=1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["total"].as_i64().unwrap()
    };
    let mut roster = String::from(
        "姓名,性别,民族,出生日期,户口性质,乡镇,村,就学情况,监护类型,留守类型,外出务工地点\n",
    );
    let chars: Vec<char> = "明华国建平志强军文辉海波涛鹏飞宇浩然子轩梓涵欣怡雨萱佳琪思远博"
        .chars()
        .collect();
    for i in 0..20_000usize {
        roster.push_str(&format!(
            "田{}{}{},男,汉族,2013-{:02}-{:02},农业,龙山镇,余下村,小学,无人监护,父母双方外出,广东省广州市\n",
            chars[i % chars.len()],
            chars[(i / chars.len()) % chars.len()],
            chars[(i / (chars.len() * chars.len())) % chars.len()],
            1 + i % 12,
            1 + i % 28
        ));
    }

    let mut server = start_server(dir.path(), &db, port);
    let before = rt.block_on(async {
        let client = county_session(&base).await;
        let before = total(client.clone(), base.clone()).await;
        let r = client
            .post(format!("{base}/api/v1/imports?filename=roster.csv"))
            .body(roster)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let id = r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for _ in 0..1200 {
            let v: serde_json::Value = client
                .get(format!("{base}/api/v1/imports/{id}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["state"] == "ready" {
                assert_eq!(v["counts"]["create"], 20_000, "{}", v["counts"]);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // The commit and a burst of registrations, then the power goes.
        let commit = {
            let (client, base, id) = (client.clone(), base.clone(), id.clone());
            tokio::spawn(async move {
                let _ = client
                    .post(format!("{base}/api/v1/imports/{id}/commit"))
                    .json(&serde_json::json!({"mode": "all"}))
                    .send()
                    .await;
            })
        };
        for i in 0..20u32 {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let _ = client
                    .post(format!("{base}/api/v1/children"))
                    .json(&serde_json::json!({
                        "name": format!("杜{}", ["一", "二", "三", "四", "五"][(i % 5) as usize]),
                        "sex": "女", "birth_date": format!("2014-0{}-1{}", 1 + i % 9, i % 10),
                        "village_code": "522730100211", "confirm_duplicate": true,
                    }))
                    .send()
                    .await;
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        drop(commit);
        before
    });
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = start_server(dir.path(), &db, port);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            let client = county_session(&base).await;
            let after = total(client.clone(), base.clone()).await;
            let registered = after - before;
            eprintln!("children before the kill {before}, after the restart {after}");
            // The import whole or not at all; registrations (each its own transaction) 0–20.
            assert!(
                (0..=20).contains(&registered) || (20_000..=20_020).contains(&registered),
                "{before} → {after}"
            );
        })
    }));
    let _ = server.kill();
    let _ = server.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    let verified = stdout(&shouwang(dir.path(), &["audit", "verify", "--db", &db]));
    assert!(verified.contains("校验通过"), "{verified}");
    // Every child has the history of its registration or import.
    let url = if db.starts_with("postgres") {
        db.clone()
    } else {
        format!("sqlite://{db}")
    };
    let orphans: i64 = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM children c WHERE NOT EXISTS \
             (SELECT 1 FROM child_history h WHERE h.child_id = c.id)",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap()
    });
    assert_eq!(orphans, 0);
}

/// Without `--key-file` the keys go apart from the data (a copy of the data directory carries no
/// key): under the configuration directory, owner-only; the server finds them there again.
#[test]
fn the_key_file_defaults_to_a_place_apart_from_the_database() {
    if std::env::var("SHOUWANG_TEST_PG").is_ok_and(|s| !s.is_empty()) {
        return; // the SQLite path is what this is about
    }
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let db = data.path().join("county.db");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_shouwang"))
            .args(args)
            .env_remove("SHOUWANG_KEY_FILE")
            .env("XDG_CONFIG_HOME", config.path())
            .env("SHOUWANG_TODAY", "2026-11-24")
            .output()
            .unwrap()
    };
    let out = stdout(&run(&[
        "init",
        "--db",
        db.to_str().unwrap(),
        "--region",
        "522730",
    ]));
    assert!(out.contains("密钥文件"), "{out}");
    let beside: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".keys"))
        .collect();
    assert!(beside.is_empty(), "a key file sits beside the database");
    let keys: Vec<_> = std::fs::read_dir(config.path().join("shouwang/keys"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".keys"))
        .collect();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].file_name().to_string_lossy().starts_with("county-"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = keys[0].metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    // Found again: the audit chain verifies with the same keys.
    let verified = stdout(&run(&["audit", "verify", "--db", db.to_str().unwrap()]));
    assert!(verified.contains("校验通过"), "{verified}");
}

/// A server started without saying otherwise asks county staff for a second factor: the county
/// demo user's password opens a session that can only set one up. An unknown role is refused at
/// start, naming it.
#[test]
fn serve_requires_a_second_factor_of_county_roles_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "5");
    let bad = shouwang(
        dir.path(),
        &[
            "serve",
            "--db",
            &db,
            "--bind",
            "127.0.0.1:0",
            "--second-factor-roles",
            "county,mayor",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("mayor"));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = start_server_with(dir.path(), &db, port, &[]);
    let result = std::panic::catch_unwind(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let base = format!("http://127.0.0.1:{port}");
            let client = county_session(&base).await;
            let r = client
                .get(format!("{base}/api/v1/children"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["code"], "second_factor_enrolment_required");
            // A village director is not asked.
            let mut origin = reqwest::header::HeaderMap::new();
            origin.insert(reqwest::header::ORIGIN, base.parse().unwrap());
            let village = reqwest::Client::builder()
                .cookie_store(true)
                .default_headers(origin)
                .build()
                .unwrap();
            let login: serde_json::Value = village
                .post(format!("{base}/api/v1/session"))
                .json(&serde_json::json!({"username": "village", "password": "shouwang-demo"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(login["second_factor"], "none");
        });
    });
    server.kill().unwrap();
    server.wait().unwrap();
    result.unwrap();
}

/// `shouwang retention` archives and erases on the day it is run: nothing on the demo's day for
/// files still on the roster; in 2050 every demo child has long turned 16, so every file is
/// archived and its personal fields erased, and the audit chain still verifies. A period out of
/// range is refused.
#[test]
fn retention_archives_and_erases_by_the_periods_and_keeps_the_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    // More files than one batch archives (2,000) or erases (200).
    let db = demo_county(dir.path(), "2100");
    let bad = shouwang(
        dir.path(),
        &["retention", "--db", &db, "--erase-after-years", "0"],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("删除期限"));
    let later = stdout(&shouwang(
        dir.path(),
        &["retention", "--db", &db, "--today", "2050-01-01"],
    ));
    assert!(later.contains("已归档 2100 份"), "{later}");
    assert!(later.contains("已删除 2100 份"), "{later}");
    let again = stdout(&shouwang(
        dir.path(),
        &["retention", "--db", &db, "--today", "2050-01-01"],
    ));
    assert!(
        again.contains("已归档 0 份") && again.contains("已删除 0 份"),
        "{again}"
    );
    let verified = stdout(&shouwang(dir.path(), &["audit", "verify", "--db", &db]));
    assert!(verified.contains("校验通过"), "{verified}");
}

/// The 汇总表 of a county, a prefecture and a province read from the roll-up the database's
/// triggers keep equals the table counted over the files' rows — after bulk registration, edits
/// that move a child's birth date across the age boundaries, change its sex or its schooling,
/// exits and archiving — for every level, by unit, on many dates (29 February, year ends, the
/// days either side of a boundary).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rolled_up_summary_equals_counting_the_rows_after_every_kind_of_change() {
    use chrono::NaiveDate;
    use shouwang_app::children::EditMode;
    use shouwang_domain::input::ChildInput;
    use shouwang_domain::lifecycle::ExitReason;
    use shouwang_domain::region::{RegionCode, RegionLevel};
    use shouwang_domain::sample::id_number_for;
    use shouwang_store::roster::{RosterQuery, StandingFilter};
    use shouwang_store::{IdCipher, Store};
    use std::sync::Arc;

    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let today = ymd(2026, 11, 24);
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path());
    let store = Store::open(
        &db,
        IdCipher::new([3; 32], [4; 32]),
        Arc::new(shouwang_domain::clock::FixedClock::on(today)),
    )
    .await
    .unwrap();
    // The first county loads as a bulk load (counts and indexes set aside, made again in one
    // pass each); everything after is kept by the triggers the rebuild put back.
    store.bulk().begin_bulk_load().await.unwrap();
    for (code, n, seed) in [("522730", 700, 7), ("532801", 300, 8)] {
        let code = RegionCode::parse(code).unwrap();
        store.regions().init_region(&code).await.unwrap();
        shouwang::demo::run(&store, &code, n, seed).await.unwrap();
        if code.as_str() == "522730" {
            store.bulk().finish_bulk_load().await.unwrap();
        }
    }
    // The demo's county user of 龙里县 edits and exits some of its children.
    let county = store
        .users()
        .actor_by_username("county")
        .await
        .unwrap()
        .unwrap();
    let mut ids = Vec::new();
    for page in 1..=20 {
        let p = store
            .rosters()
            .roster(
                &county,
                &RosterQuery {
                    standing: StandingFilter::All,
                    page,
                    per_page: 100,
                    ..RosterQuery::default()
                },
            )
            .await
            .unwrap();
        if p.items.is_empty() {
            break;
        }
        ids.extend(p.items.into_iter().map(|c| c.id));
    }
    assert!(ids.len() > 500, "{}", ids.len());
    let births = [
        ymd(2010, 11, 24),
        ymd(2010, 11, 25),
        ymd(2012, 11, 24),
        ymd(2012, 11, 25),
        ymd(2020, 11, 24),
        ymd(2020, 11, 25),
        ymd(2012, 2, 29),
        ymd(2016, 12, 31),
        ymd(2017, 1, 1),
    ];
    for (k, id) in ids.iter().enumerate().filter(|(k, _)| k % 5 == 0) {
        let record = shouwang_app::children::get(
            &shouwang_app::App::new(store.clone()),
            &county,
            &shouwang_domain::ids::ChildId::from(id.as_str()),
            false,
        )
        .await
        .unwrap();
        let birth = births[k / 5 % births.len()];
        let sex_seq = 500 + (k / 5) as u16;
        let mut patch = ChildInput {
            birth_date: Some(birth.to_string()),
            sex: Some(if sex_seq % 2 == 1 { "男" } else { "女" }.to_owned()),
            id_number: Some(id_number_for(
                &record.file.village_code.as_str()[..6],
                birth,
                sex_seq,
            )),
            ..ChildInput::default()
        };
        if k % 3 == 0 {
            patch.schooling = Some("辍学".to_owned());
            patch.boarding = Some("否".to_owned());
        }
        shouwang_app::children::update(
            &shouwang_app::App::new(store.clone()),
            &county,
            &shouwang_domain::ids::ChildId::from(id.as_str()),
            record.version,
            patch,
            EditMode::Patch,
        )
        .await
        .unwrap();
    }
    for id in ids.iter().skip(1).step_by(9) {
        let record = shouwang_app::children::get(
            &shouwang_app::App::new(store.clone()),
            &county,
            &shouwang_domain::ids::ChildId::from(id.as_str()),
            false,
        )
        .await
        .unwrap();
        if record.status != shouwang_domain::lifecycle::ChildStatus::Active {
            continue;
        }
        shouwang_app::children::exit(
            &shouwang_app::App::new(store.clone()),
            &county,
            &shouwang_domain::ids::ChildId::from(id.as_str()),
            record.version,
            ExitReason::ParentsReturned,
            ymd(2026, 10, 1),
            None,
        )
        .await
        .unwrap();
    }
    let run = store
        .retention()
        .run_retention(&shouwang_domain::retention::Retention {
            archive_after_days: 30,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(run.archived > 0, "some exits archived");
    // And one exit since, still in the working lists.
    let recent = shouwang_app::children::get(
        &shouwang_app::App::new(store.clone()),
        &county,
        &shouwang_domain::ids::ChildId::from(ids[3].as_str()),
        false,
    )
    .await
    .unwrap();
    shouwang_app::children::exit(
        &shouwang_app::App::new(store.clone()),
        &county,
        &shouwang_domain::ids::ChildId::from(ids[3].as_str()),
        recent.version,
        ExitReason::MovedWithParents,
        today,
        None,
    )
    .await
    .unwrap();

    // A bulk load that stopped before rebuilding (its counts set aside): the next open rebuilds;
    // the changes after it are kept by the triggers the rebuild put back.
    store.kept().set_kept_counts_aside().await.unwrap();
    shouwang::demo::run(&store, &RegionCode::parse("522730").unwrap(), 40, 99)
        .await
        .unwrap();
    let store = Store::open(
        &db,
        IdCipher::new([3; 32], [4; 32]),
        Arc::new(shouwang_domain::clock::FixedClock::on(today)),
    )
    .await
    .unwrap();

    // 应报未报: a report filed on every other child whose file says 单独居住 or 无人监护 takes it off
    // the list (the case's trigger marks the file reported, 0037).
    let unreported = store
        .protection()
        .unreported(&county, None, 1000)
        .await
        .unwrap();
    assert!(unreported.len() >= 2, "{}", unreported.len());
    for u in unreported.iter().step_by(2) {
        shouwang_app::protection::file(
            &shouwang_app::App::new(store.clone()),
            &county,
            &shouwang_domain::protection::ReportInput {
                child_id: Some(u.child_id.clone()),
                situations: vec!["living_alone".into()],
                description: Some("连续多日独自在家".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let left = store
        .protection()
        .unreported(&county, None, 1000)
        .await
        .unwrap();
    assert_eq!(left.len(), unreported.len() / 2, "half reported");
    // A report on a child not yet found on the registry, linked to its file afterwards, takes it
    // off too.
    let filed = shouwang_app::protection::file(
        &shouwang_app::App::new(store.clone()),
        &county,
        &shouwang_domain::protection::ReportInput {
            child: Some(shouwang_domain::protection::NewChildInput {
                name: Some("张小明".into()),
                village_code: Some(left[0].village_code.clone()),
                ..Default::default()
            }),
            situations: vec!["living_alone".into()],
            description: Some("连续多日独自在家".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        store
            .protection()
            .unreported(&county, None, 1000)
            .await
            .unwrap()
            .len(),
        left.len()
    );
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.protection()
            .link_case_child(
                &filed.case_id,
                &shouwang_domain::ids::ChildId::from(left[0].child_id.as_str())
            )
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .protection()
            .unreported(&county, None, 1000)
            .await
            .unwrap()
            .len(),
        left.len() - 1
    );

    // And one more exit, after the rebuild.
    let last = shouwang_app::children::get(
        &shouwang_app::App::new(store.clone()),
        &county,
        &shouwang_domain::ids::ChildId::from(ids[8].as_str()),
        false,
    )
    .await
    .unwrap();
    shouwang_app::children::exit(
        &shouwang_app::App::new(store.clone()),
        &county,
        &shouwang_domain::ids::ChildId::from(ids[8].as_str()),
        last.version,
        ExitReason::MovedWithParents,
        today,
        None,
    )
    .await
    .unwrap();

    let mut dates = vec![
        today,
        ymd(2028, 2, 29),
        ymd(2026, 12, 31),
        ymd(2027, 1, 1),
        ymd(2025, 6, 30),
        ymd(2026, 11, 25),
        ymd(2026, 11, 23),
    ];
    let mut on = ymd(2024, 1, 3);
    while on < ymd(2031, 1, 1) {
        dates.push(on);
        on = on.checked_add_days(chrono::Days::new(97)).unwrap();
    }
    let shape = |gs: Vec<shouwang_store::quarterly::SummaryGroup>| {
        let mut sums = std::collections::BTreeMap::new();
        for g in gs {
            *sums
                .entry((g.unit, g.band.code(), g.sex.label(), g.cells))
                .or_insert(0) += g.count;
        }
        sums.retain(|_, n| *n > 0);
        sums
    };
    let mut compared = 0;
    for (region, by) in [
        ("52", None),
        ("52", Some(RegionLevel::Prefecture)),
        ("52", Some(RegionLevel::County)),
        ("5227", None),
        ("5227", Some(RegionLevel::County)),
        ("522730", None),
        ("53", Some(RegionLevel::County)),
        ("532801", None),
    ] {
        let region = RegionCode::parse(region).unwrap();
        for on in &dates {
            let rolled = shape(
                store
                    .quarterly()
                    .summary_groups(&region, *on, by)
                    .await
                    .unwrap(),
            );
            let counted = shape(
                store
                    .quarterly()
                    .summary_groups_counted(&region, *on, by)
                    .await
                    .unwrap(),
            );
            assert_eq!(rolled, counted, "{region:?} by {by:?} on {on}");
            compared += rolled.len();
        }
    }
    assert!(compared > 1000, "{compared} groups compared");
    // A town's trend: every date's total in one pass equals counting that date's groups.
    for code in ["522730001", "522730100", "522730"] {
        let region = RegionCode::parse(code).unwrap();
        let totals = store
            .quarterly()
            .roster_totals(&region, &dates)
            .await
            .unwrap();
        assert!(totals.iter().any(|t| *t > 0), "{code}: {totals:?}");
        for (on, total) in dates.iter().zip(totals) {
            let counted: u64 = store
                .quarterly()
                .summary_groups_counted(&region, *on, None)
                .await
                .unwrap()
                .iter()
                .map(|g| g.count)
                .sum();
            assert_eq!(total as u64, counted, "{code} on {on}");
        }
    }
    // The whole country (0039: its own area of the roll-up) is its two provinces counted.
    for on in &dates {
        let mut counted = Vec::new();
        for p in ["52", "53"] {
            counted.extend(
                store
                    .quarterly()
                    .summary_groups_counted(&RegionCode::parse(p).unwrap(), *on, None)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(
            shape(
                store
                    .quarterly()
                    .summary_groups_national(*on)
                    .await
                    .unwrap()
            ),
            shape(counted),
            "national on {on}"
        );
    }

    // The home page's counts kept by the triggers equal counting the rows, for the county, the
    // prefecture and the province (children aged 16 still active among them).
    for (name, code) in [("p52", "52"), ("p5227", "5227"), ("p53", "53")] {
        store
            .users()
            .add_user(shouwang_store::users::NewUser {
                username: name.into(),
                display_name: name.into(),
                password: "correct-horse-battery".into(),
                role: shouwang_domain::authz::Role::Oversight,
                region: RegionCode::parse(code).unwrap(),
                agency: None,
            })
            .await
            .unwrap();
    }
    for name in ["county", "p52", "p5227", "p53"] {
        let actor = store
            .users()
            .actor_by_username(name)
            .await
            .unwrap()
            .unwrap();
        let kept = store.rosters().counts(&actor).await.unwrap();
        assert_eq!(
            kept,
            store.rosters().counts_counted(&actor).await.unwrap(),
            "{name}"
        );
        assert_eq!(
            store
                .protection()
                .unreported_count(&actor, None)
                .await
                .unwrap(),
            store
                .protection()
                .unreported(&actor, None, 1000)
                .await
                .unwrap()
                .len() as i64,
            "{name}: 应报未报"
        );
        assert!(kept.on_roster > 0, "{name}: {kept:?}");
        if name != "p53" {
            // The demo's 低保, disabled, abandoned and 事实无人抚养 children (issue 27).
            assert!(
                kept.in_difficulty > 0 && kept.de_facto_unsupported > 0,
                "{name}: {kept:?}"
            );
        }
        // A population's list holds what its count says.
        for (population, want) in [
            (
                shouwang_domain::population::Population::InDifficulty,
                kept.in_difficulty,
            ),
            (
                shouwang_domain::population::Population::DeFactoUnsupported,
                kept.de_facto_unsupported,
            ),
        ] {
            let listed = store
                .rosters()
                .roster(
                    &actor,
                    &RosterQuery {
                        population: Some(population),
                        per_page: 200,
                        ..RosterQuery::default()
                    },
                )
                .await
                .unwrap();
            // The total (from the kept counts above a town) is the rows the list holds.
            assert!(want < 200, "{name}: {want}");
            assert_eq!(listed.total, want, "{name}: {population:?}");
            assert_eq!(listed.items.len() as i64, want, "{name}: {population:?}");
        }
        if name != "p53" {
            assert!(kept.aged_out > 0 && kept.exited > 0, "{name}: {kept:?}");
        }
        // The roster's totals of a standing come from the same kept counts; its pages in name
        // and birth-date order walk their index.
        for (standing, want) in [
            (StandingFilter::OnRoster, kept.on_roster),
            (StandingFilter::NotEligible, kept.not_eligible),
            (StandingFilter::Incomplete, kept.incomplete),
            (StandingFilter::AgedOut, kept.aged_out),
            (StandingFilter::Exited, kept.exited),
        ] {
            for sort in [
                shouwang_store::roster::Sort::Village,
                shouwang_store::roster::Sort::Name,
                shouwang_store::roster::Sort::BirthDate,
            ] {
                let page = store
                    .rosters()
                    .roster(
                        &actor,
                        &RosterQuery {
                            standing,
                            sort,
                            per_page: 50,
                            ..RosterQuery::default()
                        },
                    )
                    .await
                    .unwrap();
                assert_eq!(page.total, want, "{name} {standing:?}");
                assert_eq!(page.items.len() as i64, want.min(50), "{name} {standing:?}");
                let keys: Vec<(String, String)> = page
                    .items
                    .iter()
                    .map(|c| match sort {
                        shouwang_store::roster::Sort::Name => {
                            (c.name.clone(), c.village_code.clone())
                        }
                        shouwang_store::roster::Sort::BirthDate => {
                            (c.birth_date.clone(), c.name.clone())
                        }
                        shouwang_store::roster::Sort::Village => {
                            (c.village_code.clone(), c.name.clone())
                        }
                    })
                    .collect();
                assert!(keys.is_sorted(), "{name} {standing:?} {sort:?}");
                assert!(
                    page.items
                        .iter()
                        .all(|c| c.village_code.starts_with(actor.region.as_str())),
                    "{name}"
                );
            }
        }
    }
}

/// Runs the binary with `input` on its standard input (a passphrase).
fn shouwang_with_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shouwang"))
        .args(args)
        .env("SHOUWANG_KEY_FILE", dir.join("test.keys"))
        .env("SHOUWANG_TODAY", "2026-11-24")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Issue 24's drill: a backup taken while the server works (every read writes an audit event),
/// the keys exported under a passphrase, the database and its keys destroyed; restored into a new
/// database, the keys imported: the audit log verifies, the counts are the backup's, and a child's
/// file reads as it did. A damaged or partial backup and a wrong passphrase are refused.
#[test]
fn a_backup_taken_under_load_restores_with_its_keys_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "60");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut server = start_server_with(dir.path(), &db, port, &["--second-factor-roles", "none"]);
    let base = format!("http://127.0.0.1:{port}");
    let login = |base: String| async move {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let r = client
            .post(format!("{base}/api/v1/session"))
            .header("origin", &base)
            .json(&serde_json::json!({"username": "county", "password": "shouwang-demo"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        client
    };
    let client = rt.block_on(login(base.clone()));
    let roster: serde_json::Value = rt.block_on(async {
        client
            .get(format!("{base}/api/v1/children?per_page=1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let child = roster["items"][0]["id"].as_str().unwrap().to_owned();
    let file_of = |client: reqwest::Client, base: String, child: String| async move {
        let v: serde_json::Value = client
            .get(format!("{base}/api/v1/children/{child}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v
    };
    let before = rt.block_on(file_of(client.clone(), base.clone(), child.clone()));
    assert!(
        before["file"].is_object() || before["name"].is_string(),
        "{before}"
    );
    // Reads going on (each one audited) while the backup is taken.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (client, base, stop) = (client.clone(), base.clone(), stop.clone());
        rt.spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = client
                    .get(format!("{base}/api/v1/children?per_page=5"))
                    .send()
                    .await;
                n += 1;
            }
            n
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let backup = dir.path().join("county.backup");
    let out = stdout(&shouwang(
        dir.path(),
        &["backup", "--db", &db, "--out", backup.to_str().unwrap()],
    ));
    assert!(out.contains("已备份"), "{out}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(rt.block_on(load).unwrap() > 0);
    let verified = stdout(&shouwang(
        dir.path(),
        &["backup", "verify", backup.to_str().unwrap()],
    ));
    assert!(verified.contains("备份完整"), "{verified}");
    // The keys, sealed with a passphrase (a short one refused).
    let sealed = dir.path().join("keys.sealed");
    let short = shouwang_with_stdin(
        dir.path(),
        &[
            "keys",
            "export",
            "--db",
            &db,
            "--out",
            sealed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        "short\n",
    );
    assert_eq!(short.status.code(), Some(1));
    let passphrase = "冠山街道-留守儿童-2026-保管\n";
    stdout(&shouwang_with_stdin(
        dir.path(),
        &[
            "keys",
            "export",
            "--db",
            &db,
            "--out",
            sealed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        passphrase,
    ));
    assert!(
        !std::fs::read_to_string(&sealed).unwrap().contains(
            &std::fs::read_to_string(dir.path().join("test.keys"))
                .unwrap()
                .lines()
                .find(|l| l.starts_with("encryption_key"))
                .unwrap()[18..]
        )
    );
    server.kill().unwrap();
    let _ = server.wait();
    let counts = |db: &str| -> Vec<(String, i64)> {
        let url = if db.starts_with("postgres") {
            db.to_owned()
        } else {
            format!("sqlite://{db}")
        };
        rt.block_on(async {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let mut c = sqlx::AnyConnection::connect(&url).await.unwrap();
            let mut out = Vec::new();
            for t in ["children", "child_docs", "child_history", "users"] {
                let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
                out.push((t.to_owned(), n));
            }
            out
        })
    };
    let counted = counts(&db);

    // The disk dies: the database and its keys are gone.
    if db.starts_with("postgres") {
        let (server_url, name) = db.rsplit_once('/').unwrap();
        let out = Command::new("psql")
            .args([
                &format!("{server_url}/postgres"),
                "-qc",
                &format!("DROP DATABASE {name} WITH (FORCE)"),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{db}{suffix}"));
        }
    }
    std::fs::remove_file(dir.path().join("test.keys")).unwrap();

    // A partial copy of the backup, and a damaged one, are refused.
    let new_dir = tempfile::tempdir().unwrap();
    let new_db = fresh_db(new_dir.path());
    let bytes = std::fs::read(&backup).unwrap();
    let partial = new_dir.path().join("partial.backup");
    std::fs::write(&partial, &bytes[..bytes.len() / 2]).unwrap();
    let mut damaged = bytes.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 0xFF;
    let broken = new_dir.path().join("damaged.backup");
    std::fs::write(&broken, &damaged).unwrap();
    for bad in [&partial, &broken] {
        let o = shouwang(new_dir.path(), &["backup", "verify", bad.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1));
        let o = shouwang(
            new_dir.path(),
            &["restore", "--from", bad.to_str().unwrap(), "--db", &new_db],
        );
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(String::from_utf8_lossy(&o.stderr).contains("备份文件不完整或已损坏"));
    }

    // Restored, then the keys imported (a wrong passphrase refused).
    let out = stdout(&shouwang(
        new_dir.path(),
        &[
            "restore",
            "--from",
            backup.to_str().unwrap(),
            "--db",
            &new_db,
        ],
    ));
    assert!(out.contains("keys import"), "{out}");
    let wrong = shouwang_with_stdin(
        new_dir.path(),
        &[
            "keys",
            "import",
            "--db",
            &new_db,
            "--from",
            sealed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        "not-the-passphrase-at-all\n",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("口令不正确"));
    let out = stdout(&shouwang_with_stdin(
        new_dir.path(),
        &[
            "keys",
            "import",
            "--db",
            &new_db,
            "--from",
            sealed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        passphrase,
    ));
    assert!(out.contains("密钥与数据相符"), "{out}");
    let verified = stdout(&shouwang(
        new_dir.path(),
        &["audit", "verify", "--db", &new_db],
    ));
    assert!(verified.contains("校验通过"), "{verified}");
    assert_eq!(counts(&new_db), counted);
    // A restore never writes over a database.
    let again = shouwang(
        new_dir.path(),
        &[
            "restore",
            "--from",
            backup.to_str().unwrap(),
            "--db",
            &new_db,
        ],
    );
    assert_eq!(again.status.code(), Some(1));

    // Restored where the lost database was, its key file and anchor kept (the anchor ahead of the
    // backup: events were written after it was taken): the restore sets the old anchor aside and
    // the restored log verifies against its own.
    let same_dir = tempfile::tempdir().unwrap();
    let same_db = fresh_db(same_dir.path());
    stdout(&shouwang_with_stdin(
        same_dir.path(),
        &[
            "keys",
            "import",
            "--db",
            &same_db,
            "--from",
            sealed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        passphrase,
    ));
    std::fs::copy(
        dir.path().join("test.anchor"),
        same_dir.path().join("test.anchor"),
    )
    .unwrap();
    let out = stdout(&shouwang(
        same_dir.path(),
        &[
            "restore",
            "--from",
            backup.to_str().unwrap(),
            "--db",
            &same_db,
        ],
    ));
    assert!(
        out.contains("审计锚点已移到") && out.contains("密钥与数据相符"),
        "{out}"
    );
    let verified = stdout(&shouwang(
        same_dir.path(),
        &["audit", "verify", "--db", &same_db],
    ));
    assert!(verified.contains("校验通过"), "{verified}");

    // The same child's file, read through the restored server.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = start_server_with(
        new_dir.path(),
        &new_db,
        port,
        &["--second-factor-roles", "none"],
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = rt.block_on(login(base.clone()));
    let after = rt.block_on(file_of(client, base, child));
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(before, after);
}

/// `serve --backup-dir` writes a backup every interval and keeps the newest N, each one whole.
#[test]
fn the_server_backs_up_on_a_schedule_and_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "5");
    let backups = dir.path().join("backups");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = start_server_with(
        dir.path(),
        &db,
        port,
        &[
            "--second-factor-roles",
            "none",
            "--backup-dir",
            backups.to_str().unwrap(),
            "--backup-every",
            "2s",
            "--backup-keep",
            "2",
        ],
    );
    let listed = || -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(&backups)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.retain(|p| p.extension().is_some_and(|e| e == "backup"));
        v.sort();
        v
    };
    // Every two seconds: after nine, four or so were written and two kept.
    std::thread::sleep(std::time::Duration::from_secs(9));
    server.kill().unwrap();
    let _ = server.wait();
    let kept = listed();
    assert_eq!(kept.len(), 2, "{kept:?}");
    for b in &kept {
        let out = stdout(&shouwang(
            dir.path(),
            &["backup", "verify", b.to_str().unwrap()],
        ));
        assert!(out.contains("备份完整"), "{out}");
    }
    let bad = shouwang(
        dir.path(),
        &[
            "serve",
            "--db",
            &db,
            "--backup-dir",
            "x",
            "--backup-every",
            "3w",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
}

/// Issue 25: a bulk load sets the child tables' secondary indexes aside and makes them again —
/// at its end, or when the database is next opened after a load that stopped half-way — with
/// the statements the migrations wrote, on both databases.
#[tokio::test]
async fn a_bulk_load_sets_the_indexes_aside_and_gets_them_back_even_after_a_stop() {
    use shouwang_domain::region::RegionCode;
    use shouwang_store::{IdCipher, Store};
    use sqlx::Connection;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path());
    let open = || async {
        Store::open(
            &db,
            IdCipher::new([3; 32], [4; 32]),
            Arc::new(shouwang_domain::clock::FixedClock::on(
                chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            )),
        )
        .await
        .unwrap()
    };
    let url = if db.starts_with("postgres") {
        db.clone()
    } else {
        format!("sqlite://{db}")
    };
    sqlx::any::install_default_drivers();
    let indexes = || async {
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        let sql = if url.starts_with("postgres") {
            "SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE tablename IN \
             ('children', 'child_docs', 'child_history', 'child_agencies') ORDER BY indexname"
        } else {
            "SELECT name || ': ' || COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name IN \
             ('children', 'child_docs', 'child_history', 'child_agencies') ORDER BY name"
        };
        let found: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        found
    };
    let store = open().await;
    let county = RegionCode::parse("522730").unwrap();
    store.regions().init_region(&county).await.unwrap();
    let before = indexes().await;
    assert!(
        before.iter().any(|i| i.starts_with("children_roster")),
        "{before:?}"
    );

    // A load that stops half-way: the indexes are gone while it runs, back at the next open.
    store.bulk().begin_bulk_load().await.unwrap();
    let during = indexes().await;
    assert!(during.len() < before.len(), "{during:?}");
    assert!(!during.iter().any(|i| i.starts_with("children_roster")));
    shouwang::demo::run(&store, &county, 300, 5).await.unwrap();
    store.close().await;
    let store = open().await;
    assert_eq!(indexes().await, before);
    let town = store
        .users()
        .actor_by_username("town")
        .await
        .unwrap()
        .unwrap();
    let counted = store.rosters().counts(&town).await.unwrap();

    // A load that finishes: the same indexes, the counts kept again.
    store.bulk().begin_bulk_load().await.unwrap();
    shouwang::demo::run(&store, &county, 200, 6).await.unwrap();
    store.bulk().finish_bulk_load().await.unwrap();
    assert_eq!(indexes().await, before);
    let after = store.rosters().counts(&town).await.unwrap();
    let total = |c: &shouwang_store::roster::Counts| c.on_roster + c.not_eligible + c.incomplete;
    assert!(
        total(&after) > total(&counted),
        "{} then {}",
        total(&counted),
        total(&after)
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fill_states_a_field_once_for_the_whole_file_and_each_file_says_who_stated_it() {
    use shouwang_domain::id_number::IdNumber;
    use shouwang_domain::sample::id_number_for;
    use shouwang_store::{KeyFile, Store};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "0");
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let (yang, wu) = (
        id_number_for("522730", d(2016, 3, 12), 31),
        id_number_for("522730", d(2019, 9, 1), 32),
    );
    // A county's 花名册 that says nothing of 户籍 for anyone, and 民族 for one row only.
    let csv = dir.path().join("花名册.csv");
    std::fs::write(
        &csv,
        format!(
            "姓名,性别,民族,出生日期,身份证号,乡镇,村,就学情况,留守类型,外出务工地点,监护人,与儿童关系\n\
             杨光,男,布依族,2016-03-12,{yang},龙山镇,余下村,小学,父母双方外出,广东省广州市,杨国华,祖父\n\
             吴佳怡,女,,2019-09-01,{wu},龙山镇,余下村,幼儿园,父母双方外出,浙江宁波,吴桂英,外婆\n"
        ),
    )
    .unwrap();
    let import = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "--db",
            &db,
            "--as",
            "county",
            csv.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        shouwang(dir.path(), &args)
    };
    // A fill that cannot be stated for a whole file is refused before anything is read.
    for (spec, says) in [
        ("姓名=张三", "不能为整个文件统一填写"),
        ("星座=白羊", "没有名为“星座”的字段"),
        ("户籍性质=居民户口", "居民户口"),
    ] {
        let o = import(&["--fill", spec, "--commit", "all"]);
        assert_eq!(o.status.code(), Some(1), "{spec}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(says), "{spec}");
    }
    let out = stdout(&import(&[
        "--fill",
        "户籍性质=农业户口",
        "--fill",
        "民族=汉族",
        "--commit",
        "all",
    ]));
    assert!(out.contains("新增 2 名儿童"), "{out}");

    let store = Store::open(
        &db,
        KeyFile::load(&dir.path().join("test.keys")).unwrap(),
        Arc::new(shouwang_domain::clock::FixedClock::on(d(2026, 11, 24))),
    )
    .await
    .unwrap();
    for (number, ethnicity) in [(&yang, "布依族"), (&wu, "汉族")] {
        let id = IdNumber::parse(number).unwrap();
        let found = store
            .children()
            .children_with_id_number(&id, None)
            .await
            .unwrap();
        let child = shouwang_domain::ids::ChildId::new(found[0].0.clone());
        let file = store.children().child(&child).await.unwrap().file;
        assert_eq!(file.hukou_rural, Some(true));
        // The row's own 民族 stands; the fill only took the blank one.
        assert_eq!(file.ethnicity.map(|e| e.label()), Some(ethnicity));
        let history = store.children().child_history(&child).await.unwrap();
        let first = &history[0];
        assert_eq!(
            (first.kind.as_str(), first.username.as_str()),
            ("import", "county")
        );
        let stated: Vec<&str> = first.changes.iter().map(|c| c.field.as_str()).collect();
        assert!(stated.contains(&"hukou_rural"), "{stated:?}");
        assert_eq!(
            stated.contains(&"ethnicity"),
            ethnicity == "汉族",
            "{stated:?}"
        );
    }
    store.close().await;
}

#[test]
fn the_demo_registers_elders_and_their_roster_and_form_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_county(dir.path(), "300");
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let roster = stdout(&shouwang(
        dir.path(),
        &[
            "export",
            "elder-roster",
            "--db",
            &db,
            "--as",
            "county",
            "--region",
            "522730",
            "--out",
            &out("elders.xlsx"),
        ],
    ));
    assert!(roster.contains("已导出留守老人花名册：60 人"), "{roster}");
    assert!(
        std::fs::read(out("elders.xlsx"))
            .unwrap()
            .starts_with(b"PK")
    );
    // A region outside the user's area is refused by name.
    let far = shouwang(
        dir.path(),
        &[
            "export",
            "elder-roster",
            "--db",
            &db,
            "--as",
            "town",
            "--region",
            "522730100",
            "--out",
            &out("far.xlsx"),
        ],
    );
    assert!(!far.status.success());
    assert!(String::from_utf8_lossy(&far.stderr).contains("不在您的管辖范围内"));
    // One elder's 登记表 as a PDF, by the id the register gives.
    let conn = first_elder(&db);
    let form = stdout(&shouwang(
        dir.path(),
        &[
            "export",
            "elder-form",
            "--db",
            &db,
            "--as",
            "county",
            "--elder",
            &conn,
            "--out",
            &out("elder.pdf"),
        ],
    ));
    assert!(form.contains("已导出留守老人基本情况登记表"), "{form}");
    assert!(
        std::fs::read(out("elder.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );
    let none = shouwang(
        dir.path(),
        &[
            "export",
            "elder-form",
            "--db",
            &db,
            "--as",
            "county",
            "--elder",
            "no-such-elder",
            "--out",
            &out("none.pdf"),
        ],
    );
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("找不到留守老人"));
}

/// The id of the first elder of a demo database, read as an operator would (the register's list
/// through the API is tested elsewhere).
fn first_elder(db: &str) -> String {
    let url = if db.starts_with("postgres") {
        db.to_owned()
    } else {
        format!("sqlite://{db}")
    };
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT id FROM elders ORDER BY village_code, name LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    })
}
