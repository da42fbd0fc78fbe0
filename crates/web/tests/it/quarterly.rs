//! 季度报表 through the API (issue 14's Contract): a town freezes its quarter, cannot submit while a
//! 勾稽关系 fails, corrects and submits with its signers; the county returns it, approves it; an
//! approved report is locked and keeps its figures after the files change; the county's report
//! opens only when every town is approved and is their sum.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn column(summary: &Value, no: u64) -> u64 {
    summary["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["no"] == no)
        .unwrap_or_else(|| panic!("no column {no} in {summary}"))["value"]
        .as_u64()
        .unwrap()
}

async fn post(user: &User, path: &str, body: Value) -> (StatusCode, Value) {
    let r = user.post_json(path, &body).await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Submits a report naming two other signers, and uploads the page they signed: it goes up.
async fn submit_signed(user: &User, id: &str) -> (StatusCode, Value) {
    let (status, body) = post(
        user,
        &format!("/api/v1/quarterly-reports/{id}/submit"),
        json!({"reviewer": "李复核", "head": "王镇长"}),
    )
    .await;
    if status != StatusCode::OK {
        return (status, body);
    }
    assert_eq!(body["status"], "signing", "{body}");
    upload_signed_page(user, id).await
}

#[tokio::test]
async fn a_quarter_is_frozen_checked_signed_returned_approved_locked_and_summed() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let first = village.register(&boy(VILLAGE_A)).await;
    let mut no_school = boy_named(VILLAGE_A, "李明", ymd(2015, 3, 2), 77);
    no_school.schooling = None;
    let second = village.register(&no_school).await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    let mut girl = boy_named(VILLAGE_A2, "王芳", ymd(2012, 9, 9), 88);
    girl.sex = Some("女".into());
    village
        .register(&boy_named(VILLAGE_A, "张伟", ymd(2019, 1, 1), 91))
        .await;
    let town = app.login("town_a").await;
    town.register(&girl).await;

    // The live table: the child without 就学情况 is left out and the check says so.
    let s = town
        .get_json(&format!("/api/v1/summary?region={TOWN_A}"))
        .await;
    assert_eq!(s["region"], TOWN_A);
    assert_eq!(s["date"], "2026-11-24");
    assert_eq!(s["columns"].as_array().unwrap().len(), 32);
    assert_eq!(column(&s, 1), 3, "{s}");
    assert_eq!(column(&s, 1), column(&s, 2) + column(&s, 5) + column(&s, 8));
    assert_eq!(s["frozen"], false);
    assert_eq!(s["checks_ok"], false);
    assert_eq!(s["unplaced"], 1);
    // Another town's user does not read it; a bad date is named.
    let town_b = app.login("town_b").await;
    assert_eq!(
        town_b
            .get(&format!("/api/v1/summary?region={TOWN_A}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        town.get(&format!("/api/v1/summary?region={TOWN_A}&date=2026-13-01"))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Bad input is named; a village does not prepare the town's report.
    let (status, body) = post(
        &town,
        "/api/v1/quarterly-reports",
        json!({"region": TOWN_A, "quarter": "2026Q9"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("quarter"));
    let (status, _) = post(
        &town,
        "/api/v1/quarterly-reports",
        json!({"region": TOWN_A, "quarter": "2027Q1"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a quarter not begun"
    );
    let (status, _) = post(
        &village,
        "/api/v1/quarterly-reports",
        json!({"region": TOWN_A, "quarter": "2026Q4"}),
    )
    .await;
    assert!(status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN);

    // Frozen as of the quarter's end.
    let (status, report) = post(
        &town,
        "/api/v1/quarterly-reports",
        json!({"region": TOWN_A, "quarter": "2026Q4"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["status"], "frozen");
    assert_eq!(report["summary"]["date"], "2026-12-31");
    assert_eq!(report["summary"]["frozen"], true);
    let id = report["id"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &town,
        "/api/v1/quarterly-reports",
        json!({"region": TOWN_A, "quarter": "2026Q4"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "one report per unit and quarter"
    );

    // Not submitted while a child cannot be placed; corrected, made again, submitted.
    let (status, body) = submit_signed(&town, &id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["message"].as_str().unwrap().contains("就学情况"));
    let r = town
        .patch_json(
            &format!("/api/v1/children/{second_id}"),
            &json!({"version": 1, "schooling": "小学"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, report) = post(
        &town,
        &format!("/api/v1/quarterly-reports/{id}/refresh"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["summary"]["checks_ok"], true, "{report}");
    assert_eq!(column(&report["summary"], 1), 4);
    let (status, report) = post(
        &town,
        &format!("/api/v1/quarterly-reports/{id}/submit"),
        json!({"reviewer": "李复核", "head": "王镇长"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // Named, not yet signed: the report waits for its 复核人 and 单位负责人, not for the county.
    assert_eq!(report["status"], "signing");
    assert_eq!(report["filler"], "town_a");
    assert_eq!(report["head"], "王镇长");
    assert!(report["submitted_at"].is_null());
    let county = app.login("county").await;
    let (status, _) = post(
        &county,
        &format!("/api/v1/quarterly-reports/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "not submitted until signed");
    // The signers are two other users of the town, named as the report names them.
    for (username, name, at) in [
        ("reviewer_a", "李复核", TOWN_A),
        ("head_a", "王镇长", TOWN_A),
        ("head_b", "王镇长", TOWN_B),
    ] {
        app.store
            .users()
            .add_user(shouwang_testkit::store::users::NewUser {
                username: username.into(),
                display_name: name.into(),
                password: PASSWORD.into(),
                role: shouwang_domain::authz::Role::Town,
                region: shouwang_domain::region::RegionCode::parse(at).unwrap(),
                agency: None,
            })
            .await
            .unwrap();
    }
    let confirm = |who: &str| json!({"as": who});
    // The filer does not sign for the others; a namesake of another town does not sign here; the
    // reviewer does not sign as the head.
    let path = format!("/api/v1/quarterly-reports/{id}/confirm");
    for (user, who) in [
        ("town_a", "head"),
        ("head_b", "head"),
        ("reviewer_a", "head"),
    ] {
        let (status, body) = post(&app.login(user).await, &path, confirm(who)).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{user} as {who}: {status} {body}"
        );
    }
    let (status, body) = post(&town, &path, confirm("signer")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let reviewer = app.login("reviewer_a").await;
    let (status, body) = post(&reviewer, &path, confirm("reviewer")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "signing");
    assert_eq!(body["signatures"]["reviewer"]["name"], "李复核");
    let (status, _) = post(&reviewer, &path, confirm("reviewer")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "signed once");
    // The head sees it on their work list, and signs: the report goes up.
    let head = app.login("head_a").await;
    let w = head.get_json("/api/v1/work").await;
    assert!(
        w["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "quarterly_to_sign" && i["href"] == format!("/quarterly/{id}")),
        "{w}"
    );
    let (status, report) = post(&head, &path, confirm("head")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["status"], "submitted");
    assert!(report["submitted_at"].is_string());
    assert_eq!(report["signatures"]["head"]["name"], "王镇长");

    // The town cannot approve its own; the county returns it, with what to fix.
    let (status, _) = post(
        &town,
        &format!("/api/v1/quarterly-reports/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let county = app.login("county").await;
    let (status, _) = post(
        &county,
        &format!("/api/v1/quarterly-reports/{id}/return"),
        json!({}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a return says why"
    );
    // Items that are not a column or a unit of this report are named by row.
    let (status, body) = post(
        &county,
        &format!("/api/v1/quarterly-reports/{id}/return"),
        json!({"items": [{"item": "33", "comment": "x"}, {"item": "522730100208", "comment": "y"},
                         {"item": "26", "comment": ""}]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["items[0].item", "items[1].item", "items[2].comment"] {
        assert!(body.to_string().contains(f), "{f}: {body}");
    }
    let (status, report) = post(
        &county,
        &format!("/api/v1/quarterly-reports/{id}/return"),
        json!({"comment": "请逐项核实后重报",
               "items": [{"item": "26", "comment": "请核实祖父母监护人数"},
                         {"item": VILLAGE_A, "comment": "本村少报一名"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["status"], "returned");
    let items = report["return_items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{report}");
    assert_eq!(items[0]["label"], "第26栏（委托监护 · （外）祖父母监护）");
    assert_eq!(items[0]["column"], 26);
    assert_eq!(items[1]["item"], VILLAGE_A);
    assert_ne!(items[1]["label"], VILLAGE_A, "the village by its name");
    // The town sees each item beside its figure on the page.
    let page = town
        .get(&format!("/quarterly/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("逐项意见") && page.contains("退回意见：请核实祖父母监护人数"));
    let (status, _) = submit_signed(&town, &id).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "corrected before it goes up again"
    );
    post(
        &town,
        &format!("/api/v1/quarterly-reports/{id}/refresh"),
        json!({}),
    )
    .await;
    // Submitted without a body: nobody's name is written for them (three signatures are three
    // people); the filer's own name is refused as a signer's.
    let r = town
        .client
        .post(format!(
            "{}/api/v1/quarterly-reports/{id}/submit",
            town.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["reviewer", "head"], "{body}");
    let (status, body) = post(
        &town,
        &format!("/api/v1/quarterly-reports/{id}/submit"),
        json!({"reviewer": "town_a", "head": "王镇长"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Resubmitted with the page they signed and stamped, uploaded: a file that is not one is
    // refused by what it is, not by its name.
    post(
        &town,
        &format!("/api/v1/quarterly-reports/{id}/submit"),
        json!({"reviewer": "李复核", "head": "王镇长"}),
    )
    .await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"MZ\x90\x00 not a scan".to_vec())
            .file_name("签字页.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let r = town
        .client
        .post(format!(
            "{}/api/v1/quarterly-reports/{id}/signed-page",
            town.base
        ))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = upload_signed_page(&town, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "submitted");
    assert_eq!(body["signed_scan"]["kind"], "application/pdf");
    let page = county
        .get(&format!("/api/v1/quarterly-reports/{id}/signed-page"))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.bytes().await.unwrap().as_ref(), SIGNED_PAGE);
    assert_eq!(
        app.login("town_b")
            .await
            .get(&format!("/api/v1/quarterly-reports/{id}/signed-page"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let r = county
        .client
        .post(format!(
            "{}/api/v1/quarterly-reports/{id}/approve",
            county.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let approved: Value = r.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(
        approved["return_items"],
        json!([]),
        "settled by the approval"
    );

    // Locked: nothing changes it; a later edit changes today's figures, not the frozen ones.
    for action in ["approve", "return", "refresh", "submit"] {
        let body = if action == "return" {
            json!({"comment": "再改"})
        } else {
            json!({})
        };
        let (status, _) = post(
            &county,
            &format!("/api/v1/quarterly-reports/{id}/{action}"),
            body,
        )
        .await;
        assert!(
            status == StatusCode::CONFLICT || status == StatusCode::FORBIDDEN,
            "{action}: {status}"
        );
    }
    let first_id = first["id"].as_str().unwrap();
    let r = village
        .post_json(
            &format!("/api/v1/children/{first_id}/exit"),
            &json!({"version": 1, "reason": "parents_returned", "date": "2026-11-24"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let frozen = county
        .get_json(&format!("/api/v1/summary?region={TOWN_A}&date=2026-12-31"))
        .await;
    assert_eq!(frozen["frozen"], true);
    assert_eq!(column(&frozen, 1), 4);
    let live = county
        .get_json(&format!("/api/v1/summary?region={TOWN_A}"))
        .await;
    assert_eq!(live["frozen"], false);
    assert_eq!(column(&live, 1), 3);
    assert_eq!(
        county
            .get_json(&format!("/api/v1/quarterly-reports/{id}"))
            .await["summary"]["columns"],
        approved["summary"]["columns"]
    );
    assert_eq!(
        town_b
            .get(&format!("/api/v1/quarterly-reports/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The exported 汇总表 of the quarter's end is the frozen one, and says so; today's is live.
    let sheet = |bytes: Vec<u8>| -> Vec<Vec<String>> {
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("汇总表").unwrap();
        range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    };
    let total_of = |rows: &[Vec<String>]| -> String {
        rows.iter().find(|r| r[0] == "合计").unwrap()[1].clone()
    };
    let frozen_sheet = sheet(
        county
            .get(&format!(
                "/api/v1/exports/summary?region={TOWN_A}&date=2026-12-31"
            ))
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    );
    assert!(
        frozen_sheet[0][0].contains("冻结报表"),
        "{:?}",
        frozen_sheet[0]
    );
    assert!(
        frozen_sheet
            .iter()
            .flatten()
            .any(|c| c.contains("本表为2026年第四季度报表的冻结数据（已审核通过"))
    );
    assert_eq!(total_of(&frozen_sheet), "4");
    let live_sheet = sheet(
        county
            .get(&format!("/api/v1/exports/summary?region={TOWN_A}"))
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    );
    assert!(!live_sheet[0][0].contains("冻结"));
    assert_eq!(total_of(&live_sheet), "3");
    // The roster the report froze: the four children it counted, the exited one included.
    let read = |bytes: Vec<u8>| -> Vec<Vec<String>> {
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let name = wb.sheet_names()[0].clone();
        wb.worksheet_range(&name)
            .unwrap()
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    };
    let r = county.get(&format!("/quarterly/{id}/roster.xlsx")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let roster = read(r.bytes().await.unwrap().to_vec());
    assert!(roster[0][0].contains("冻结"), "{:?}", roster[0]);
    assert!(roster[1][0].contains("截至 2026-12-31"));
    assert_eq!(roster.len(), 3 + 4, "title, note, header and four children");
    assert!(roster.iter().any(|row| row[1] == "李明"));
    assert_eq!(
        town_b
            .get(&format!("/quarterly/{id}/roster.xlsx"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The county's report waits for every town, and names those missing.
    let (status, body) = post(
        &county,
        "/api/v1/quarterly-reports",
        json!({"region": "522730", "quarter": "2026Q4"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = body["message"].as_str().unwrap().to_owned();
    let overview = county
        .get_json("/api/v1/quarterly-reports?quarter=2026Q4")
        .await;
    let towns = overview["below"].as_array().unwrap().clone();
    assert!(towns.len() > 1);
    for t in &towns {
        let approved = t["status"] == "approved";
        assert_eq!(
            message.contains(t["name"].as_str().unwrap()),
            !approved,
            "{message}"
        );
    }
    // The county prepares and approves the empty towns' reports; then its own is their sum.
    for t in towns.iter().filter(|t| t["status"] != "approved") {
        let (status, r) = post(
            &county,
            "/api/v1/quarterly-reports",
            json!({"region": t["region"], "quarter": "2026Q4"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{r}");
        let rid = r["id"].as_str().unwrap();
        let (status, _) = submit_signed(&county, rid).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = post(
            &county,
            &format!("/api/v1/quarterly-reports/{rid}/approve"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, total) = post(
        &county,
        "/api/v1/quarterly-reports",
        json!({"region": "522730", "quarter": "2026Q4"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{total}");
    assert_eq!(
        total["summary"]["columns"], approved["summary"]["columns"],
        "the county's figures are the sum of its approved towns (one with children)"
    );
    assert_eq!(total["summary"]["checks_ok"], true);
    // Nobody above the county here: the county does not approve its own report.
    let tid = total["id"].as_str().unwrap();
    submit_signed(&county, tid).await;
    let (status, _) = post(
        &county,
        &format!("/api/v1/quarterly-reports/{tid}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// 定期通报: units on time first, missing ones last; each with its children's verification this
/// quarter (a visit or a call counts); exported as .xlsx.
#[tokio::test]
async fn the_ranking_puts_units_on_time_first_and_shows_the_quarters_verification() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let child = village.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    village
        .register(&boy_named(VILLAGE_A, "李明", ymd(2015, 3, 2), 77))
        .await;
    let r = village
        .post_json(
            &format!("/api/v1/children/{child}/visits"),
            &json!({"method": "call", "visitor_role": "child_director", "condition": "good",
                    "seen": ["parent"], "no_change": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let town = app.login("town_a").await;
    let (status, report) = post(
        &town,
        "/api/v1/quarterly-reports",
        json!({"region": TOWN_A, "quarter": "2026Q4"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = submit_signed(&town, report["id"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);

    // After the towns' deadline (10 January).
    app.clock.set(ymd(2027, 1, 12));
    let county = app.login("county").await;
    let ranking = county
        .get_json("/api/v1/quarterly-ranking?quarter=2026Q4")
        .await;
    let units = ranking["units"].as_array().unwrap();
    assert!(units.len() > 1);
    assert_eq!(units[0]["region"], TOWN_A, "{ranking}");
    assert_eq!(units[0]["timeliness"], "on_time");
    assert_eq!(units[0]["first_submitted"], "2026-11-24");
    assert_eq!(units[0]["due"], "2027-01-10");
    assert_eq!(
        (units[0]["children"].as_i64(), units[0]["verified"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(units[0]["verified_percent"], 50);
    assert!(
        units[1..].iter().all(|u| u["timeliness"] == "missing"),
        "{ranking}"
    );
    // The town sees its villages' verification (villages do not report).
    let town = app.login("town_a").await;
    let villages = town
        .get_json("/api/v1/quarterly-ranking?quarter=2026Q4")
        .await;
    let a = villages["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["region"] == VILLAGE_A)
        .unwrap()
        .clone();
    assert_eq!(a["reports"], false);
    assert!(a["timeliness"].is_null());
    assert_eq!(a["verified"], 1);
    let r = county.get("/quarterly/ranking.xlsx?quarter=2026Q4").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(
        county
            .get("/api/v1/quarterly-ranking?quarter=2026Q7")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

/// At a quarter's end what time decides is written down: a child who turned 16 by then leaves the
/// roster with the reason 年满16周岁 on the birthday, in the history; one who turns 16 after the
/// quarter's end waits for the next. Running the pass again changes nothing.
#[tokio::test]
async fn the_quarter_end_records_children_who_turned_sixteen_as_exited() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let turned = village
        .register(&boy_named(VILLAGE_A, "王大", ymd(2010, 12, 15), 21))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let later = village
        .register(&boy_named(VILLAGE_A, "王二", ymd(2011, 1, 3), 23))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        shouwang_app::quarterly::apply_quarter_end(&app.use_cases)
            .await
            .unwrap(),
        0,
        "nobody is 16 at the end of the last quarter"
    );
    app.clock.set(ymd(2027, 1, 5));
    assert_eq!(
        shouwang_app::quarterly::apply_quarter_end(&app.use_cases)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        shouwang_app::quarterly::apply_quarter_end(&app.use_cases)
            .await
            .unwrap(),
        0
    );
    let county = app.login("county").await;
    let f = county.get_json(&format!("/api/v1/children/{turned}")).await;
    assert_eq!(f["status"], "exited", "{f}");
    assert_eq!(f["exit_reason"], "aged_sixteen");
    assert_eq!(f["exit_date"], "2026-12-15");
    let history = county
        .get_json(&format!("/api/v1/children/{turned}/history"))
        .await;
    assert!(history.to_string().contains("system"), "{history}");
    let f = county.get_json(&format!("/api/v1/children/{later}")).await;
    assert_ne!(f["status"], "exited");
}

/// Period figures (龙里 asks for 1 January–31 August): registrations, exits by reason, visits and
/// reports of the days asked for, and nothing of other days.
#[tokio::test]
async fn period_figures_count_what_happened_between_two_days() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    let a = town.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = town
        .register(&boy_named(VILLAGE_A, "李明", ymd(2015, 3, 2), 77))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = town
        .post_json(
            &format!("/api/v1/children/{b}/exit"),
            &json!({"version": 1, "reason": "parents_returned", "date": "2026-11-20"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = town
        .post_json(
            &format!("/api/v1/children/{a}/visits"),
            &json!({"method": "home", "visitor_role": "supervisor", "condition": "good",
                    "seen": ["child"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = town
        .post_json(
            "/api/v1/reports",
            &json!({"child_id": a, "situations": ["living_alone"], "description": "独自在家"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let f = town
        .get_json("/api/v1/period-figures?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(f["registered"], 2, "{f}");
    assert_eq!(f["exited"][0]["code"], "parents_returned");
    assert_eq!(f["exited"][0]["count"], 1);
    assert_eq!(f["visits"], 1);
    assert_eq!(f["cases"]["reports"], 1);
    let f = town
        .get_json("/api/v1/period-figures?from=2026-10-01&to=2026-10-31")
        .await;
    assert_eq!(
        (
            f["registered"].as_i64(),
            f["visits"].as_i64(),
            f["cases"]["reports"].as_i64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert!(f["exited"].as_array().unwrap().is_empty());
    let r = town.get("/api/v1/period-figures?from=2026-02-30").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("from"));
    let town_b = app.login("town_b").await;
    let f = town_b
        .get_json("/api/v1/period-figures?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(f["registered"], 0, "another town's figures are its own");
}

/// The home page of a region's user carries the dashboard — charts drawn on the server whose bars
/// link to the lists behind them — and stays small; a school's has none (it sees single pupils).
#[tokio::test]
async fn the_dashboard_draws_its_charts_on_the_server_and_links_every_bar() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user(
        "school_a",
        shouwang_domain::authz::Role::School,
        TOWN_A,
        Some("冠山街道中心小学"),
    )
    .await;
    let town = app.login("town_a").await;
    town.register(&boy(VILLAGE_A)).await;
    let r = town.get("/?rank=13").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.len() < 100_000, "{} bytes", html.len());
    assert!(html.matches(r#"<svg class="chart""#).count() >= 5);
    assert!(
        html.contains(r#"<a href="/children?age_band=6-13">"#),
        "{html}"
    );
    assert!(html.contains(&format!(r#"<a href="/children?region={VILLAGE_A}">"#)));
    assert!(!html.contains("<script>"), "no inline script");
    let school = app.login("school_a").await;
    let html = school.get("/").await.text().await.unwrap();
    assert!(!html.contains(r#"<svg class="chart""#));
}

/// 龙里 003 七(二): the education bureau checks the 控辍保学 figures and the police the 户籍 and
/// 应急处置 ones of a town's report before the county approves it; each checks only its own
/// section; a report made again must be checked again.
#[tokio::test]
async fn departments_check_their_sections_before_the_county_approves() {
    use shouwang_domain::authz::Role;
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("education", Role::Education, "522730", None)
        .await;
    app.add_user("police_a", Role::Police, TOWN_A, None).await;
    let town = app.login("town_a").await;
    town.register(&boy(VILLAGE_A)).await;
    let (_, report) = post(
        &town,
        "/api/v1/quarterly-reports",
        json!({"region": TOWN_A, "quarter": "2026Q4"}),
    )
    .await;
    let id = report["id"].as_str().unwrap().to_owned();
    let education = app.login("education").await;
    let (status, _) = post(
        &education,
        &format!("/api/v1/quarterly-reports/{id}/verify"),
        json!({"section": "education"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "checked once submitted");
    submit_signed(&town, &id).await;
    let county = app.login("county").await;
    let (status, body) = post(
        &county,
        &format!("/api/v1/quarterly-reports/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("控辍保学") && message.contains("户籍登记"),
        "{message}"
    );

    let police = app.login("police_a").await;
    for (user, section, expected) in [
        (&education, "police", StatusCode::FORBIDDEN),
        (&police, "education", StatusCode::FORBIDDEN),
        (&county, "education", StatusCode::FORBIDDEN),
        (&education, "school", StatusCode::UNPROCESSABLE_ENTITY),
        (&education, "education", StatusCode::OK),
        (&police, "police", StatusCode::OK),
    ] {
        let (status, body) = post(
            user,
            &format!("/api/v1/quarterly-reports/{id}/verify"),
            json!({"section": section, "note": "与本部门数据一致"}),
        )
        .await;
        assert_eq!(status, expected, "{section}: {body}");
    }
    let r = county
        .get_json(&format!("/api/v1/quarterly-reports/{id}"))
        .await;
    assert_eq!(r["education_check"]["username"], "education");
    assert_eq!(r["police_check"]["note"], "与本部门数据一致");

    // Returned and made again: checked again before approval.
    post(
        &county,
        &format!("/api/v1/quarterly-reports/{id}/return"),
        json!({"comment": "请补充"}),
    )
    .await;
    let (_, r) = post(
        &town,
        &format!("/api/v1/quarterly-reports/{id}/refresh"),
        json!({}),
    )
    .await;
    assert!(
        r["education_check"].is_null() && r["police_check"].is_null(),
        "{r}"
    );
    submit_signed(&town, &id).await;
    let (status, _) = post(
        &county,
        &format!("/api/v1/quarterly-reports/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    for (user, section) in [(&education, "education"), (&police, "police")] {
        let (status, _) = post(
            user,
            &format!("/api/v1/quarterly-reports/{id}/verify"),
            json!({"section": section}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, r) = post(
        &county,
        &format!("/api/v1/quarterly-reports/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "approved");
}

/// Above the county the dashboard reads the quarterly reports, never the files: a prefecture's
/// home page says which report its figures come from.
#[tokio::test]
async fn a_prefectures_dashboard_comes_from_its_reports() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user(
        "prefecture",
        shouwang_domain::authz::Role::Oversight,
        "5227",
        None,
    )
    .await;
    let town = app.login("town_a").await;
    town.register(&boy(VILLAGE_A)).await;
    let pref = app.login("prefecture").await;
    let html = pref.get("/").await.text().await.unwrap();
    assert!(html.contains("数据来源"), "{html}");
    assert!(html.contains("近四个季度尚无本级报表"));
    assert!(html.matches(r#"<svg class="chart""#).count() >= 5);
}

/// 每季度核查 as kept by the visits' triggers: a child visited twice in a quarter counts once, a
/// visit typed in late counts for the quarter it was made in, and the ranking reads the counts.
#[tokio::test]
async fn the_ranking_counts_each_child_verified_once_in_the_quarter_of_its_visit() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let first = village.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = village
        .register(&boy_named(VILLAGE_A, "李小红", ymd(2015, 2, 3), 51))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (child, on) in [
        (&first, "2026-11-24"),
        (&first, "2026-10-05"),
        (&second, "2026-09-20"),
    ] {
        let r = village
            .post_json(
                &format!("/api/v1/children/{child}/visits"),
                &json!({"method": "home", "visitor_role": "child_director", "visitor_name": "李芳",
                    "seen": ["child"], "condition": "good", "visited_on": on}),
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
    let county = app.login("county").await;
    let town = |q: &str| {
        let county = county.clone();
        let q = q.to_owned();
        async move {
            let r = county
                .get_json(&format!("/api/v1/quarterly-ranking?quarter={q}"))
                .await;
            r["units"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["region"] == TOWN_A)
                .cloned()
                .unwrap()
        }
    };
    let q4 = town("2026Q4").await;
    assert_eq!(
        (q4["children"].as_i64(), q4["verified"].as_i64()),
        (Some(2), Some(1)),
        "{q4}"
    );
    let q3 = town("2026Q3").await;
    assert_eq!(q3["verified"], 1, "{q3}");
    // The home pages of the county and of the town read the same: one of two this quarter.
    for user in ["county", "town_a"] {
        let html = app.login(user).await.get("/").await.text().await.unwrap();
        assert!(
            html.contains("50%") && html.contains("1 / 2 名在册儿童本季度已走访或电话核查"),
            "{user}: {html}"
        );
        if user == "county" {
            // The units below are the villages' counts summed: town A's bar says 2.
            let bar = html
                .split(&format!(r#"<a href="/children?region={TOWN_A}">"#))
                .nth(1)
                .and_then(|rest| rest.split("</a>").next())
                .unwrap_or_default();
            assert!(bar.ends_with(">2</text>"), "{bar}");
        }
    }
}
