//! 留守老人 through the public interface (issue 27's contract): registered by the village, refused
//! under 60 on `birth_date`, scoped like children, audited, edited without overwriting, and the
//! pages a village uses on a phone.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shouwang_domain::authz::Role;

use crate::helpers::*;

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(&app.raw_db().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_contract_body_registers_an_elder_and_a_younger_one_is_refused_on_birth_date() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let r = v
        .post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["status"], "active");
    assert_eq!(body["living_with"], "grandchildren");
    assert_eq!(
        body["record"]["children_away"][0]["work_place"],
        "广东省深圳市"
    );
    assert_eq!(body["missing"], json!(["生活自理能力"]));
    assert_eq!(audited(&app, "elder_register").await, 1);
    // The village's home says what is left to complete, and where.
    let work = v.get_json("/api/v1/work").await;
    assert!(
        work["items"].as_array().unwrap().iter().any(|i| {
            i["href"] == "/elders?incomplete=1" && i["title"] == "1 名留守老人的信息待补充"
        }),
        "{work}"
    );

    // 59 on the day (the clock's today is 2026-11-24): refused on birth_date, nothing kept.
    let mut young = grandmother_elder(VILLAGE_A);
    young["birth_date"] = json!("1966-11-25");
    let r = v.post_json("/api/v1/elders", &young).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "birth_date", "{e}");
    assert!(
        e["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("未满60周岁")
    );
    // 60 that day: registered.
    young["birth_date"] = json!("1966-11-24");
    young["name"] = json!("张德福");
    young["sex"] = json!("男");
    // A phone typed as a number is taken as the text it is, as for a child.
    young["phone"] = json!(13800138001_u64);
    assert_eq!(
        v.post_json("/api/v1/elders", &young).await.status(),
        StatusCode::CREATED
    );

    // Every wrong field named, by its path; an unknown key refused, not dropped.
    let r = v
        .post_json(
            "/api/v1/elders",
            &json!({"name": "王", "sex": "x", "birth_date": "1940-01-01", "village_code": "522731001001",
                    "children_away": [{"phone": "123"}], "health": {"status": "fine"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    for f in ["sex", "children_away[0].phone", "health"] {
        assert!(fields.contains(&f), "{f}: {e}");
    }
    let r = v
        .post_json("/api/v1/elders", &json!({"name": "王芳", "age": 70}))
        .await;
    assert!(r.status().is_client_error());
    assert_ne!(r.status(), StatusCode::CREATED);

    // The same ID number twice: a conflict, whoever registers it.
    let mut with_id = grandmother_elder(VILLAGE_A);
    with_id["id_number"] = json!(shouwang_domain::sample::id_number_for(
        "522730",
        ymd(1950, 3, 2),
        12
    ));
    assert_eq!(
        v.post_json("/api/v1/elders", &with_id).await.status(),
        StatusCode::CREATED
    );
    let county = app.login("county").await;
    with_id["village_code"] = json!(VILLAGE_A2);
    let r = county.post_json("/api/v1/elders", &with_id).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["field"], "id_number");

    // The record, audited as read; an edit based on an old version is refused.
    let got = v.get_json(&format!("/api/v1/elders/{id}")).await;
    assert_eq!(got["name"], "李秀英");
    assert_eq!(audited(&app, "elder_read").await, 1);
    let r = v
        .patch_json(
            &format!("/api/v1/elders/{id}"),
            &json!({"version": 1, "living_with": "alone", "health": {"status": "chronic_illness", "self_care": "partial"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["watched"], true);
    assert_eq!(edited["version"], 2);
    assert_eq!(
        edited["record"]["children_away"][0]["name"], "王建国",
        "an edit keeps what it does not state"
    );
    let r = county
        .patch_json(
            &format!("/api/v1/elders/{id}"),
            &json!({"version": 1, "needs": "送医"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let history = v.get_json(&format!("/api/v1/elders/{id}/history")).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_register_is_scoped_like_children_and_closed_to_schools_agencies_and_courts() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("school_x", Role::School, TOWN_A, Some("冠山中学"))
        .await;
    app.add_user("agency_x", Role::Agency, TOWN_A, Some("冠山社工站"))
        .await;
    app.add_user("court", Role::Court, "522730", None).await;
    app.add_user("police", Role::Police, "522730", None).await;
    let v = app.login("village_a").await;
    let id = v
        .post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The county sees it in the area it names, not in another; the police read the list (龙里
    // 003 五(一)1, 五(一)4).
    for name in ["county", "police", "town_a"] {
        let u = app.login(name).await;
        assert_eq!(
            u.get_json("/api/v1/elders?region=522730").await["total"],
            1,
            "{name}"
        );
    }
    let county = app.login("county").await;
    assert_eq!(
        county.get_json("/api/v1/elders?region=522730001").await["total"],
        1
    );
    assert_eq!(
        county.get_json("/api/v1/elders?region=522730100").await["total"],
        0
    );
    // A region outside the county: nothing, not an error that says where.
    assert_eq!(
        county.get_json("/api/v1/elders?region=522731").await["total"],
        0
    );
    assert_eq!(audited(&app, "elder_roster_read").await, 6);

    let town_b = app.login("town_b").await;
    assert_eq!(town_b.get_json("/api/v1/elders").await["total"], 0);
    assert_eq!(
        town_b.get(&format!("/api/v1/elders/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let r = town_b
        .patch_json(
            &format!("/api/v1/elders/{id}"),
            &json!({"version": 1, "remarks": "改"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Town B cannot register one in town A's village either.
    let r = town_b
        .post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for name in ["school_x", "agency_x", "court"] {
        let u = app.login(name).await;
        for path in ["/api/v1/elders".to_owned(), format!("/api/v1/elders/{id}")] {
            let s = u.get(&path).await.status();
            assert!(
                s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
                "{name} {path}: {s}"
            );
        }
        assert_eq!(
            u.post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
                .await
                .status(),
            StatusCode::FORBIDDEN,
            "{name}"
        );
    }
    // The police read; they do not register.
    let police = app.login("police").await;
    assert_eq!(
        police
            .post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Nothing changed.
    let got = v.get_json(&format!("/api/v1/elders/{id}")).await;
    assert_eq!(got["version"], 1);
}

#[tokio::test]
async fn a_village_registers_an_elder_on_the_page_with_the_errors_a_person_makes() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let form = v.get("/elders/new").await.text().await.unwrap();
    assert!(form.contains("登记农村留守老人"), "{form}");
    // Nothing that records a fact is chosen for the person.
    assert!(!form.contains("selected>独居") && !form.contains("checked"));
    let csrf = csrf_of(&form);
    let post = |pairs: Vec<(&'static str, String)>| {
        let v = v.clone();
        async move {
            v.client
                .post(format!("{}/elders", v.base))
                .form(&pairs)
                .send()
                .await
                .unwrap()
        }
    };
    // Too young, a phone too short on the second line: both said, what was typed kept.
    let r = post(vec![
        ("csrf_token", csrf.clone()),
        ("name", "李秀英".into()),
        ("sex", "女".into()),
        ("birth_date", "1970-01-01".into()),
        ("village_code", VILLAGE_A.into()),
        ("away_name", "王建国".into()),
        ("away_place", "广东省深圳市".into()),
        ("away_phone", "13800138000".into()),
        ("away_name", "王建芳".into()),
        ("away_place", "".into()),
        ("away_phone", "1380013".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("未满60周岁"), "{page}");
    // The error sits on the second line's phone, not on every line.
    assert!(
        page.contains(r#"<div class="field has-error"><label for="f-away-phone-2">"#),
        "{page}"
    );
    assert_eq!(page.matches("field has-error").count(), 2, "{page}");
    assert!(page.contains("value=\"王建芳\""));
    let r = post(vec![
        ("csrf_token", csrf.clone()),
        ("name", "李秀英".into()),
        ("sex", "女".into()),
        ("birth_date", "1950-03-02".into()),
        ("village_code", VILLAGE_A.into()),
        ("living_with", "alone".into()),
        ("away_name", "王建国".into()),
        ("away_place", "广东省深圳市".into()),
        ("away_phone", "13800138000".into()),
        ("away_name", "".into()),
        ("away_place", "".into()),
        ("away_phone", "".into()),
        ("income_sources", "pension".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let at = r.headers()["location"].to_str().unwrap().to_owned();
    let page = v.get(&at).await.text().await.unwrap();
    assert!(
        page.contains("李秀英") && page.contains("广东省深圳市"),
        "{page}"
    );
    assert!(page.contains("重点关注"));
    assert!(page.contains("待补充：身体状况、生活自理能力"), "{page}");
    let list = v.get("/elders").await.text().await.unwrap();
    assert!(
        list.contains("李秀英") && list.contains("共 <b>1</b> 人"),
        "{list}"
    );
    // The 花名册 downloads as a workbook.
    let r = v.get("/elders/roster.xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(audited(&app, "export").await, 1);
}

#[tokio::test]
async fn an_elder_leaves_the_register_once_with_a_reason_and_stays_among_the_exited() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let id = v
        .post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let exit = |body: Value| {
        let v = v.clone();
        let id = id.clone();
        async move {
            v.post_json(&format!("/api/v1/elders/{id}/exit"), &body)
                .await
        }
    };
    // Each wrong field named; a day to come refused; nothing changes.
    let r = exit(json!({"version": 1, "reason": "gone", "date": "someday"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["reason", "date"]);
    let r = exit(json!({"version": 1, "reason": "died", "date": "2026-12-31"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = exit(json!({"version": 1, "reason": "children_returned", "date": "2026-11-20"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "exited");
    assert_eq!(body["exit_reason"], "children_returned");
    assert_eq!(body["exit_date"], "2026-11-20");
    // Once: a second exit, or an edit, is a conflict.
    let r = exit(json!({"version": 2, "reason": "died", "date": "2026-11-21"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = v
        .patch_json(
            &format!("/api/v1/elders/{id}"),
            &json!({"version": 2, "needs": "送医"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Off the register, among the exited, audited, in the history.
    assert_eq!(v.get_json("/api/v1/elders").await["total"], 0);
    assert_eq!(v.get_json("/api/v1/elders?status=exited").await["total"], 1);
    assert_eq!(audited(&app, "elder_exit").await, 1);
    let history = v.get_json(&format!("/api/v1/elders/{id}/history")).await;
    assert_eq!(history["items"][0]["kind"], "exit");
    let page = v.get(&format!("/elders/{id}")).await.text().await.unwrap();
    assert!(page.contains("已退出（子女返乡，2026-11-20）"), "{page}");
    // The page's form says a refusal where it was made, with its status.
    let r = v
        .client
        .post(format!("{}/elders/{id}/exit", v.base))
        .form(&[
            ("csrf_token", csrf_of(&page).as_str()),
            ("version", "2"),
            ("reason", "died"),
            ("date", "2026-11-21"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("该老人已退出名册"));
    assert!(!page.contains("退出名册</button>"));
}

/// 龙里 003 七(二): a town's quarterly report keeps its 留守老人花名册 (附件6) as the register stood
/// when the report was made, for whoever may read the report and the register.
#[tokio::test]
async fn a_towns_quarterly_report_keeps_its_elders_roster() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    assert_eq!(
        v.post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
            .await
            .status(),
        StatusCode::CREATED
    );
    let town = app.login("town_a").await;
    let r = town
        .post_json(
            "/api/v1/quarterly-reports",
            &json!({"region": TOWN_A, "quarter": "2026Q4"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An elder registered after it is not in it: the report keeps what it froze.
    let mut later = grandmother_elder(VILLAGE_A);
    later["name"] = json!("张德福");
    later["sex"] = json!("男");
    v.post_json("/api/v1/elders", &later).await;
    let r = town.get(&format!("/quarterly/{id}/elders.xlsx")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let names: Vec<String> = range
        .rows()
        .skip(3)
        .map(|row| row.get(1).map(|c| c.to_string()).unwrap_or_default())
        .filter(|n| !n.is_empty() && !n.contains("签名"))
        .collect();
    assert_eq!(names, ["李秀英"]);
    assert_eq!(audited(&app, "export").await, 1);
    let page = town
        .get(&format!("/quarterly/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("留守老人花名册（附件6"), "{page}");
    // Another town cannot read it.
    let other = app.login("town_b").await;
    assert_eq!(
        other
            .get(&format!("/quarterly/{id}/elders.xlsx"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
