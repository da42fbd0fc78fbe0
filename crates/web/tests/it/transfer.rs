//! Imports and exports over HTTP: upload through the API and through the page, the job belongs to
//! its user, exports are scoped and come back as real workbooks.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn roster_csv() -> String {
    let id = |birth, seq| shouwang_domain::sample::id_number_for("522730", birth, seq);
    format!(
        "冠山街道农村留守儿童花名册\n\
         序号,姓名,性别,民族,出生日期,身份证号,村,就学情况,监护类型,留守类型,外出务工地点,监护人,与儿童关系\n\
         1,杨光,男,布依族,2016-03-12,{},冠山社区,小学,监护情况较好,父母双方外出,广东省广州市,杨国华,祖父\n\
         2,吴佳怡,女,苗族,2019-09-01,{},西门社区,幼儿园,监护情况一般,父母双方外出,浙江宁波,吴桂英,外婆\n\
         3,罗晨,男,汉族,2012-02-30,,冠山社区,初中,监护情况较好,父母双方外出,厦门,罗永福,爷爷\n",
        id(ymd(2016, 3, 12), 31),
        id(ymd(2019, 9, 1), 32)
    )
}

async fn wait_ready(user: &User, id: &str) -> Value {
    for _ in 0..100 {
        let v = user.get_json(&format!("/api/v1/imports/{id}")).await;
        if v["state"] != "reading" && v["state"] != "committing" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

#[tokio::test]
async fn a_roster_uploaded_through_the_api_is_previewed_then_its_valid_rows_committed() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    let r = town
        .client
        .post(format!("{}/api/v1/imports?filename=roster.csv", town.base))
        .body(roster_csv())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plan = wait_ready(&town, &id).await;
    assert_eq!(plan["state"], "ready", "{plan}");
    assert_eq!(
        plan["counts"],
        json!({"create": 2, "update": 0, "unchanged": 0, "error": 1})
    );
    let error_row = plan["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["outcome"] == "error")
        .unwrap();
    assert_eq!(error_row["row"], 5);
    assert!(
        error_row["errors"][0]
            .as_str()
            .unwrap()
            .contains("E5（出生日期）"),
        "{error_row}"
    );
    assert_eq!(app.count_children().await, 0, "a preview writes nothing");

    // All-or-nothing refuses; valid rows only writes two.
    let r = town
        .post_json(
            &format!("/api/v1/imports/{id}/commit"),
            &json!({"mode": "all"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(app.count_children().await, 0);
    let errors = town.get(&format!("/api/v1/imports/{id}/errors.xlsx")).await;
    assert_eq!(errors.status(), StatusCode::OK);
    assert!(errors.bytes().await.unwrap().starts_with(b"PK"));
    let r = town
        .post_json(
            &format!("/api/v1/imports/{id}/commit"),
            &json!({"mode": "valid"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["result"],
        json!({"created": 2, "updated": 0})
    );
    assert_eq!(app.count_children().await, 2);

    // Someone else's job is not there for them.
    let other = app.login("town_b").await;
    assert_eq!(
        other.get(&format!("/api/v1/imports/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_import_page_uploads_with_its_csrf_token_and_shows_the_preview() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    let page = town.get("/import").await.text().await.unwrap();
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let form = |token: &str| {
        reqwest::multipart::Form::new()
            .text("csrf_token", token.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(roster_csv().into_bytes()).file_name("花名册.csv"),
            )
    };
    let refused = town
        .client
        .post(format!("{}/import", town.base))
        .multipart(form("forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let r = town
        .client
        .post(format!("{}/import", town.base))
        .multipart(form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let id = location.trim_start_matches("/import/").to_owned();
    wait_ready(&town, &id).await;
    let html = town.get(&location).await.text().await.unwrap();
    assert!(html.contains("只导入无误的 2 行"), "{html}");
    assert!(html.contains("E5（出生日期）"));
    assert!(html.contains("下载错误行"));
    // A work list: errors grouped by the column at fault, each group with what to do.
    assert!(html.contains("出生日期（E列）：1 行"), "{html}");
    assert!(html.contains("怎么改：填写真实存在的日期"), "{html}");
    // Not the layout grid that squeezed the table into one column.
    assert!(!html.contains("<table class=\"grid\""), "{html}");
}

#[tokio::test]
async fn exports_come_back_as_workbooks_and_stop_at_the_jurisdiction() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    let child = town.register(&boy(VILLAGE_A)).await;
    let id = child["id"].as_str().unwrap();
    // The 登记表 as a workbook needs no fonts (this server has no PDF printer): for the child
    // and for the whole village; the other town's supervisor does not find the child.
    for path in [
        format!("/api/v1/children/{id}/form.xlsx"),
        format!("/children/{id}/form.xlsx"),
        format!("/exports/forms.xlsx?region={VILLAGE_A}"),
    ] {
        let r = town.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(".xlsx")
        );
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    }
    let other = app.login("town_b").await;
    assert_eq!(
        other
            .get(&format!("/api/v1/children/{id}/form.xlsx"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let r = town
        .get(&format!("/api/v1/exports/roster?region={TOWN_A}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''")
    );
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let r = town.get("/exports/summary.xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    // Another town's roster is not found; a bad date names the field.
    let r = town
        .get(&format!("/api/v1/exports/roster?region={TOWN_B}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = town.get("/api/v1/exports/summary?date=2026-13-01").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "date");
    // Schools may not export rosters.
    app.add_user(
        "school",
        shouwang_domain::authz::Role::School,
        TOWN_A,
        Some("冠山小学"),
    )
    .await;
    let school = app.login("school").await;
    assert_eq!(
        school.get("/api/v1/exports/roster").await.status(),
        StatusCode::FORBIDDEN
    );
    // The exports page lists the town and its villages.
    let html = town.get("/exports").await.text().await.unwrap();
    assert!(html.contains("冠山社区居民委员会"));
}

#[tokio::test]
async fn a_column_fixed_on_the_preview_page_is_saved_for_the_next_file() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    let csv = format!(
        "姓名,性别,民族,出生日期,身份证号,所在村别,就学情况,监护类型,父母务工地点,监护人,与儿童关系\n\
         杨光,男,布依族,2016-03-12,{},冠山社区,小学,监护情况较好,广东省广州市,杨国华,祖父\n",
        shouwang_domain::sample::id_number_for("522730", ymd(2016, 3, 12), 31)
    );
    let upload = || async {
        let r = town
            .client
            .post(format!("{}/api/v1/imports?filename=a.csv", town.base))
            .body(csv.clone())
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let id = upload().await;
    let plan = wait_ready(&town, &id).await;
    assert_eq!(plan["counts"]["error"], 1, "所在村别 is not a known header");
    assert_eq!(plan["sheet"]["saved_mapping"], false);
    let page = town
        .get(&format!("/import/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let r = town
        .client
        .post(format!("{}/import/{id}/mapping", town.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("col_5", "village"),
            ("save", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let plan = wait_ready(&town, &id).await;
    assert_eq!(plan["counts"]["create"], 1, "{plan}");
    assert_eq!(
        app.count_children().await,
        0,
        "fixing the mapping writes no child"
    );
    // The next file with the same header is read with the saved mapping.
    let next = upload().await;
    let plan = wait_ready(&town, &next).await;
    assert_eq!(plan["sheet"]["saved_mapping"], true);
    assert_eq!(plan["counts"]["create"], 1);
}

async fn upload(user: &User, name: &str, body: String) -> reqwest::Response {
    user.client
        .post(format!("{}/api/v1/imports?filename={name}", user.base))
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_burst_of_uploads_opens_at_most_five_jobs_and_never_touches_another_users() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town_b = app.login("town_b").await;
    let r = upload(&town_b, "b.csv", roster_csv()).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let b_job = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Twelve uploads at once by one user: five jobs, seven refusals naming the limit.
    let town = app.login("town_a").await;
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let (client, base) = (town.client.clone(), town.base.clone());
            tokio::spawn(async move {
                client
                    .post(format!("{base}/api/v1/imports?filename=r{i}.csv"))
                    .body(roster_csv())
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let accepted = answers
        .iter()
        .filter(|r| r.status() == StatusCode::ACCEPTED)
        .count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .collect();
    assert_eq!((accepted, refused.len()), (5, 7));

    // The other user's job is still there, and they can start another.
    assert_eq!(wait_ready(&town_b, &b_job).await["state"], "ready");
    assert_eq!(
        upload(&town_b, "b2.csv", roster_csv()).await.status(),
        StatusCode::ACCEPTED
    );
    // And the first user's jobs are theirs alone.
    assert_eq!(
        town_b
            .get(&format!("/api/v1/imports/{b_job}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        town.get(&format!("/api/v1/imports/{b_job}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_plan_waiting_for_its_decision_survives_a_restart_and_a_running_job_is_failed() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    let r = upload(&town, "roster.csv", roster_csv()).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(wait_ready(&town, &id).await["state"], "ready");

    // A second server on the same database, as after a restart: nothing in memory.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let use_cases = app.use_cases.clone();
    tokio::spawn(async move { shouwang_web::serve_on(use_cases, listener, None).await });
    let again = TestApp::login_at(&base, "town_a").await;
    let plan = wait_ready(&again, &id).await;
    assert_eq!(plan["state"], "ready", "{plan}");
    assert_eq!(plan["counts"]["create"], 2);
    let r = again
        .post_json(
            &format!("/api/v1/imports/{id}/commit"),
            &json!({"mode": "valid"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["result"]["created"], 2);
}

#[tokio::test]
async fn a_preview_can_be_given_up_and_one_left_a_day_expires() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    let id_of = |v: Value| v["id"].as_str().unwrap().to_owned();
    let given_up = id_of(
        upload(&town, "a.csv", roster_csv())
            .await
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(wait_ready(&town, &given_up).await["state"], "ready");
    let r = town
        .client
        .delete(format!("{}/api/v1/imports/{given_up}", town.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let v = town.get_json(&format!("/api/v1/imports/{given_up}")).await;
    assert_eq!(
        (v["state"].as_str(), v["message"].as_str()),
        (Some("failed"), Some("已放弃，没有写入任何数据"))
    );
    let again = town
        .client
        .delete(format!("{}/api/v1/imports/{given_up}", town.base))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    // Nobody else can give up someone's import.
    let forgotten = id_of(
        upload(&town, "b.csv", roster_csv())
            .await
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(wait_ready(&town, &forgotten).await["state"], "ready");
    let other = app.login("town_b").await;
    let r = other
        .client
        .delete(format!("{}/api/v1/imports/{forgotten}", other.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Four more left waiting: the five slots are taken.
    for i in 0..4 {
        let id = id_of(
            upload(&town, &format!("c{i}.csv"), roster_csv())
                .await
                .json()
                .await
                .unwrap(),
        );
        assert_eq!(wait_ready(&town, &id).await["state"], "ready");
    }
    assert_eq!(
        upload(&town, "full.csv", roster_csv()).await.status(),
        StatusCode::CONFLICT
    );

    // A day later the forgotten previews are gone and their slots free again, whether or not
    // anyone looks at them first.
    app.clock.set(ymd(2026, 11, 26));
    let town = app.login("town_a").await;
    assert_eq!(
        upload(&town, "later.csv", roster_csv()).await.status(),
        StatusCode::ACCEPTED
    );
    let v = town.get_json(&format!("/api/v1/imports/{forgotten}")).await;
    assert_eq!(v["state"], "failed", "{v}");
    assert!(v["message"].as_str().unwrap().contains("24小时"), "{v}");
}

/// Issue 24: 50 parallel 6 MB uploads by one user were read whole into memory before the
/// five-jobs limit answered 409. The limit is decided before the body is read: a user with five
/// unfinished jobs is refused while their next upload's body has not even arrived, and a body
/// declared past the limit is refused before a byte of it is read.
#[tokio::test]
async fn an_upload_is_refused_by_its_limits_before_its_body_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    for i in 0..5 {
        let r = upload(&town, &format!("r{i}.csv"), roster_csv()).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"username": "town_a", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let host = app.base.trim_start_matches("http://").to_owned();
    // Headers and a first kilobyte of a 6 MB body; the rest never comes.
    let send_half = |length: usize| {
        let (host, cookie, base) = (host.clone(), cookie.clone(), app.base.clone());
        async move {
            let mut s = tokio::net::TcpStream::connect(&host).await.unwrap();
            let head = format!(
                "POST /api/v1/imports?filename=big.csv HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\
                 Origin: {base}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
            );
            s.write_all(head.as_bytes()).await.unwrap();
            s.write_all(&vec![b'x'; 1024]).await.unwrap();
            let mut answer = vec![0u8; 4096];
            let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut answer))
                .await
                .expect("answered without waiting for the body")
                .unwrap();
            String::from_utf8_lossy(&answer[..n]).into_owned()
        }
    };
    let answer = send_half(6 << 20).await;
    assert!(answer.starts_with("HTTP/1.1 409"), "{answer}");
    assert!(answer.contains("5个未完成的任务"), "{answer}");
    let answer = send_half(65 << 20).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
}
