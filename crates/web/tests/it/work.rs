//! 今日待办 (issue 26's Contract: `GET /api/v1/work`): each role's open work, most urgent first,
//! scoped like everything else; whoever a piece of work waits on is told; the read is audited once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use shouwang_domain::authz::Role;
use shouwang_domain::protection::{NewChildInput, ReportInput};

use crate::helpers::*;

async fn work(user: &User) -> Value {
    user.get_json("/api/v1/work?limit=500").await
}

fn of_kind<'a>(w: &'a Value, kind: &str) -> Vec<&'a Value> {
    w["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect()
}

async fn work_reads(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'work_read'")
        .fetch_one(&app.raw_db().await)
        .await
        .unwrap()
}

/// Late lines first, then by the day they fall due, lines without a day last.
fn assert_most_urgent_first(w: &Value) {
    let items = w["items"].as_array().unwrap();
    let key = |i: &Value| {
        (
            !i["overdue"].as_bool().unwrap(),
            i["due_on"].is_null(),
            i["due_on"].as_str().unwrap_or("").to_owned(),
        )
    };
    for pair in items.windows(2) {
        assert!(key(&pair[0]) <= key(&pair[1]), "out of order: {w}");
    }
}

fn report_on(village: &str) -> ReportInput {
    ReportInput {
        child: Some(NewChildInput {
            name: Some("王小花".into()),
            sex: Some("女".into()),
            village_code: Some(village.into()),
            ..Default::default()
        }),
        situations: vec!["living_alone".into()],
        description: Some("连续三天独自在家，父母在外务工联系不上".into()),
        severity: Some("urgent".into()),
        discovered_at: Some("2026-11-24T09:30:00+08:00".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn each_role_sees_its_own_work_and_whoever_is_waited_on_is_told() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("police_a", Role::Police, TOWN_A, None).await;
    app.add_user("teacher_a", Role::School, TOWN_A, Some("冠山小学"))
        .await;
    let village = app.login("village_a").await;
    let child = village.register(&boy(VILLAGE_A)).await;
    let child_id = child["id"].as_str().unwrap();

    // The village's 儿童主任 visits the child: a line for the child, to its visits page.
    let w = work(&village).await;
    let visits = of_kind(&w, "visit_due");
    assert_eq!(visits.len(), 1, "{w}");
    assert_eq!(visits[0]["child_id"], child_id);
    assert_eq!(visits[0]["href"], format!("/children/{child_id}/visits"));
    assert!(
        visits[0]["title"].as_str().unwrap().contains("王小明"),
        "{w}"
    );
    assert!(visits[0]["due_on"].is_string());
    assert_eq!(w["total"], w["items"].as_array().unwrap().len());
    // Another village's director has no such line; the town sees its village's count, no name.
    let other = work(&app.login("village_a2").await).await;
    assert!(of_kind(&other, "visit_due").is_empty(), "{other}");
    assert!(!other.to_string().contains(child_id));
    let town = app.login("town_a").await;
    let tw = work(&town).await;
    let per_village = of_kind(&tw, "visit_due");
    assert_eq!(per_village.len(), 1, "{tw}");
    assert!(per_village[0]["child_id"].is_null());
    assert_eq!(per_village[0]["href"], "/visits");
    assert!(
        per_village[0]["title"]
            .as_str()
            .unwrap()
            .contains("1 名儿童本期待走访（1 个村"),
        "{tw}"
    );
    assert!(of_kind(&work(&app.login("town_b").await).await, "visit_due").is_empty());

    // A child recorded as living alone with no report filed: the village reports at once (a line
    // to the report form, already late); the town sees how many.
    let mut alone = boy_named(VILLAGE_A, "张独居", ymd(2014, 5, 6), 61);
    alone.living_alone = Some("是".into());
    let alone = village.register(&alone).await;
    let alone_id = alone["id"].as_str().unwrap();
    let vw = work(&village).await;
    let unfiled = of_kind(&vw, "report_unfiled");
    assert_eq!(unfiled.len(), 1, "{vw}");
    assert_eq!(
        unfiled[0]["href"],
        format!("/reports/new?child_id={alone_id}")
    );
    assert_eq!(unfiled[0]["overdue"], true);
    assert_most_urgent_first(&vw);
    assert_eq!(
        vw["items"][0]["kind"], "report_unfiled",
        "the most urgent first: {vw}"
    );
    let tw = work(&town).await;
    let aggregate = of_kind(&tw, "report_unfiled");
    assert_eq!(aggregate.len(), 1, "{tw}");
    assert!(aggregate[0]["child_id"].is_null());
    assert!(of_kind(&work(&app.login("town_b").await).await, "report_unfiled").is_empty());

    // A teacher's mandatory report waits on the town's police: they are told and it is theirs.
    let teacher = app.login("teacher_a").await;
    let filed = teacher.file_report(&report_on(VILLAGE_A)).await.created();
    let case = filed["case_id"].as_str().unwrap().to_owned();
    let police = app.login("police_a").await;
    let pw = work(&police).await;
    let to_receive = of_kind(&pw, "report_unreceived");
    assert_eq!(to_receive.len(), 1, "{pw}");
    assert_eq!(to_receive[0]["overdue"], false);
    assert_eq!(to_receive[0]["href"], "/reports?status=unreceived");
    assert_eq!(told(&app, "police_a", "report_filed").await, 1);
    // The town does not receive (it waits on the police); nor does the county before the delay.
    assert!(of_kind(&work(&town).await, "report_unreceived").is_empty());
    let county = app.login("county").await;
    assert!(of_kind(&work(&county).await, "report_unreceived").is_empty());
    // Two hours later it is late for the police and has gone up to the county, which may receive.
    app.clock.advance(2 * 3600);
    // (A session idle this long has ended: each signs in again.)
    let police = app.login("police_a").await;
    let county = app.login("county").await;
    let pw = work(&police).await;
    assert_eq!(
        of_kind(&pw, "report_unreceived")[0]["overdue"],
        true,
        "{pw}"
    );
    assert_most_urgent_first(&pw);
    assert_eq!(of_kind(&work(&county).await, "report_unreceived").len(), 1);
    // The line leads to the inbox, where the county can receive it (the town cannot).
    let receive = format!("/reports/{}/receive", filed["id"].as_str().unwrap());
    let inbox = county
        .get("/reports?status=unreceived")
        .await
        .text()
        .await
        .unwrap();
    assert!(inbox.contains(&receive), "{inbox}");
    let inbox = app
        .login("town_a")
        .await
        .get("/reports?status=unreceived")
        .await
        .text()
        .await
        .unwrap();
    assert!(!inbox.contains(&receive), "{inbox}");

    // Received, the emergency steps are the police's work on the case, each with its time limit.
    police.receive(filed["id"].as_str().unwrap()).await.ok();
    let pw = work(&police).await;
    assert!(of_kind(&pw, "report_unreceived").is_empty(), "{pw}");
    let steps = of_kind(&pw, "case_step_due");
    assert_eq!(steps.len(), 1, "{pw}");
    assert_eq!(steps[0]["href"], format!("/cases/{case}"));
    assert_eq!(steps[0]["overdue"], false);
    assert!(steps[0]["due_on"].is_string());
    // Three days on, the steps not recorded are late.
    app.clock.advance(3 * 86400);
    let police = app.login("police_a").await;
    let town = app.login("town_a").await;
    let teacher = app.login("teacher_a").await;
    let pw = work(&police).await;
    assert_eq!(of_kind(&pw, "case_step_due")[0]["overdue"], true, "{pw}");

    // A 发现报告 waits on the town: its users are told; the reporter's own list has no such line.
    let r = teacher
        .post_json(
            "/api/v1/discoveries",
            &json!({"town_code": TOWN_A, "child_name": "李某", "situation": "独自在家，无人照料"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // (The town was told of the report's own with the report: report_filed.)
    assert_eq!(told(&app, "town_a", "discovery_filed").await, 1);
    assert_eq!(told(&app, "town_a", "report_filed").await, 1);
    assert_eq!(told(&app, "town_b", "discovery_filed").await, 0);
    let tw = work(&town).await;
    // (The report on a child not yet registered filed one too.)
    let waiting = of_kind(&tw, "registration_waiting");
    assert_eq!(waiting.len(), 2, "{tw}");
    assert!(waiting.iter().all(|w| w["href"] == "/discoveries"));
    assert!(
        waiting
            .iter()
            .any(|w| w["title"].as_str().unwrap().contains("李某"))
    );
    assert!(
        of_kind(
            &work(&app.login("town_b").await).await,
            "registration_waiting"
        )
        .is_empty()
    );
    assert!(of_kind(&work(&teacher).await, "registration_waiting").is_empty());
    assert_most_urgent_first(&tw);

    // Past the quarter's end the village's visits are late: the town sees that village on a line
    // of its own, to its overdue list.
    app.clock.set(ymd(2027, 1, 3));
    let town = app.login("town_a").await;
    let tw = work(&town).await;
    let late = of_kind(&tw, "visit_due");
    assert_eq!(late.len(), 1, "{tw}");
    assert_eq!(
        late[0]["href"],
        format!("/visits?region={VILLAGE_A}&state=overdue")
    );
    assert_eq!(late[0]["overdue"], true);
    assert!(
        late[0]["title"].as_str().unwrap().contains("已逾期"),
        "{tw}"
    );
}

#[tokio::test]
async fn the_list_filters_by_kind_limits_refuses_bad_values_and_is_audited_once() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    for (i, name) in ["张一", "张二", "张三"].iter().enumerate() {
        village
            .register(&boy_named(
                VILLAGE_A,
                name,
                ymd(2015, 3, 2),
                41 + 2 * i as u16,
            ))
            .await;
    }
    let before = work_reads(&app).await;
    let one = village
        .get_json("/api/v1/work?kind=visit_due&limit=1")
        .await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["total"], 3);
    assert_eq!(work_reads(&app).await, before + 1, "one audit row per read");
    let none = village
        .get_json("/api/v1/work?kind=quarterly_to_verify")
        .await;
    assert_eq!(none["total"], 0);
    for bad in ["kind=visits", "limit=0", "limit=501", "limit=-1", "limit=x"] {
        let r = village.get(&format!("/api/v1/work?{bad}")).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{bad}: {status} {body}"
        );
        let field = bad.split('=').next().unwrap();
        assert!(body.to_string().contains(field), "{bad}: {body}");
    }
    // Not signed in: nothing.
    let r = reqwest::get(format!("{}/api/v1/work", app.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The home page lists the same work, the late first, each line a link.
    let html = village.get("/").await.text().await.unwrap();
    assert!(html.contains("今日待办"), "{html}");
    assert!(html.contains("走访张一") && html.contains("/visits\""));
    // The full list and its kind filter.
    let all = village
        .get("/work?kind=visit_due")
        .await
        .text()
        .await
        .unwrap();
    assert!(all.contains("共 3 项"), "{all}");
}

#[tokio::test]
async fn a_submitted_town_report_waits_on_the_police_and_the_county_who_are_told() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("police_county", Role::Police, "522730", None)
        .await;
    app.add_user("police_b", Role::Police, TOWN_B, None).await;
    let town = app.login("town_a").await;
    // The quarter just ended (2026Q3, due on 10 October) is the town's to submit: late.
    let tw = work(&town).await;
    let prepare = of_kind(&tw, "quarterly_to_prepare");
    assert_eq!(prepare.len(), 1, "{tw}");
    assert_eq!(prepare[0]["due_on"], "2026-10-10");
    assert_eq!(prepare[0]["overdue"], true);
    // The village has no report to make.
    assert!(
        of_kind(
            &work(&app.login("village_a").await).await,
            "quarterly_to_prepare"
        )
        .is_empty()
    );

    let r = town
        .post_json(
            "/api/v1/quarterly-reports",
            &json!({"region": TOWN_A, "quarter": "2026Q3"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        of_kind(&work(&town).await, "quarterly_to_prepare")[0]["href"],
        format!("/quarterly/{id}")
    );
    let r = town
        .post_json(
            &format!("/api/v1/quarterly-reports/{id}/submit"),
            &json!({"reviewer": "李复核", "head": "王镇长"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Not yet signed: it is still the town's to see through, and nobody above is told yet.
    let waiting = of_kind(&work(&town).await, "quarterly_to_prepare")[0].clone();
    assert!(
        waiting["title"].as_str().unwrap().contains("签字确认"),
        "{waiting}"
    );
    assert!(
        of_kind(
            &work(&app.login("county").await).await,
            "quarterly_to_approve"
        )
        .is_empty()
    );
    assert_eq!(told(&app, "county", "quarterly_submitted").await, 0);
    assert_eq!(told(&app, "town_a", "quarterly_to_sign").await, 1);
    // The page the signers signed and stamped, uploaded: it goes up.
    let (status, body) = upload_signed_page(&town, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(of_kind(&work(&town).await, "quarterly_to_prepare").is_empty());

    // The county approves it; the county's police check their section; both are told.
    let county = app.login("county").await;
    let cw = work(&county).await;
    let approve = of_kind(&cw, "quarterly_to_approve");
    assert_eq!(approve.len(), 1, "{cw}");
    assert_eq!(approve[0]["href"], format!("/quarterly/{id}"));
    assert_eq!(told(&app, "county", "quarterly_submitted").await, 1);
    let police = app.login("police_county").await;
    let pw = work(&police).await;
    let verify = of_kind(&pw, "quarterly_to_verify");
    assert_eq!(verify.len(), 1, "{pw}");
    assert!(
        verify[0]["title"]
            .as_str()
            .unwrap()
            .contains("公安机关核实")
    );
    assert_eq!(told(&app, "police_county", "quarterly_to_verify").await, 1);
    // Another town's police have nothing to check here.
    assert!(
        of_kind(
            &work(&app.login("police_b").await).await,
            "quarterly_to_verify"
        )
        .is_empty()
    );
    assert_eq!(told(&app, "police_b", "quarterly_to_verify").await, 0);

    // Checked, it leaves the police's list and the county is told.
    let r = police
        .post_json(
            &format!("/api/v1/quarterly-reports/{id}/verify"),
            &json!({"section": "police"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(of_kind(&work(&police).await, "quarterly_to_verify").is_empty());
    assert_eq!(told(&app, "county", "quarterly_verified").await, 1);

    // Returned, it is the town's again, and the town is told.
    let r = county
        .post_json(
            &format!("/api/v1/quarterly-reports/{id}/return"),
            &json!({"comment": "请核对留守儿童总数"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let tw = work(&town).await;
    let returned = of_kind(&tw, "quarterly_returned");
    assert_eq!(returned.len(), 1, "{tw}");
    assert_eq!(returned[0]["overdue"], true);
    assert_eq!(told(&app, "town_a", "quarterly_returned").await, 1);
    assert!(of_kind(&work(&county).await, "quarterly_to_approve").is_empty());
}
