//! 发现报告: any working unit reports a child; the report lands in that town's queue only.

use reqwest::StatusCode;
use serde_json::{Value, json};

use shouwang_domain::authz::Role;

use crate::helpers::*;

#[tokio::test]
async fn a_school_reports_a_child_and_only_that_towns_supervisor_sees_and_closes_it() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("school_a", Role::School, TOWN_A, Some("冠山街道中心小学"))
        .await;
    let s = app.login("school_a").await;
    let r = s
        .post_json(
            "/api/v1/discoveries",
            &json!({"town_code": TOWN_A, "child_name": "张某", "sex": "男", "situation": ""}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "situation");
    let r = s
        .post_json(
            "/api/v1/discoveries",
            &json!({"town_code": TOWN_A, "village_code": VILLAGE_A, "child_name": "王小明", "sex": "男", "birth_date": "2016-07-31",
                    "situation": "父母均在外地务工，与年迈的祖母同住，近两周未到校", "reporter_phone": "13812345678"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let report_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let queue = app
        .login("town_a")
        .await
        .get_json("/api/v1/discoveries")
        .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["child_name"], "王小明");
    assert!(
        queue["items"][0]["reporter_org"]
            .as_str()
            .unwrap()
            .contains("冠山街道中心小学")
    );
    assert_eq!(
        app.login("town_b")
            .await
            .get_json("/api/v1/discoveries")
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.login("village_a")
            .await
            .get_json("/api/v1/discoveries")
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Another town cannot close it; the right town registers the child and closes the report.
    let b = app.login("town_b").await;
    let r = b
        .post_json(
            &format!("/api/v1/discoveries/{report_id}/close"),
            &json!({"note": "非本镇"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let t = app.login("town_a").await;
    let r = t
        .post_json(
            &format!("/api/v1/discoveries/{report_id}/close"),
            &json!({}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "dismissing needs a reason"
    );
    let child = t.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t
        .post_json(
            &format!("/api/v1/discoveries/{report_id}/close"),
            &json!({"child_id": child}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get_json("/api/v1/discoveries").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn the_discovery_form_lands_in_the_town_queue_page() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let (client, csrf) = crate::pages::browser_login(&app, "village_a").await;
    let r = client
        .post(format!("{}/discoveries", app.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("town_code", TOWN_A),
            ("child_name", "李某"),
            ("situation", "独自在家"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("已提交"));
    let (town, _) = crate::pages::browser_login(&app, "town_a").await;
    let queue = town
        .get(format!("{}/discoveries", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(queue.contains("李某") && queue.contains("独自在家"));
    let home = town
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("<b>1</b><span>发现报告待登记</span>"),
        "the home page counts the open report"
    );
}

#[tokio::test]
async fn linking_a_child_to_a_school_through_the_api_lets_that_school_see_them() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("school_a", Role::School, TOWN_A, Some("冠山街道中心小学"))
        .await;
    app.add_user("school_b", Role::School, TOWN_B, Some("龙山镇中心小学"))
        .await;
    let t = app.login("town_a").await;
    let id = t.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let agencies = t.get_json("/api/v1/agencies").await;
    let items = agencies["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the agencies of the town: {agencies}");
    let school_a = items[0]["id"].as_str().unwrap();
    let school_b = app
        .store
        .users()
        .actor_by_username("school_b")
        .await
        .unwrap()
        .unwrap()
        .agency_id
        .unwrap();
    let r = t
        .client
        .put(format!(
            "{}/api/v1/children/{id}/agencies/{school_b}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "an agency of another town is out of scope"
    );
    let r = t
        .client
        .put(format!(
            "{}/api/v1/children/{id}/agencies/{school_a}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login("school_a")
            .await
            .get_json("/api/v1/children")
            .await["total"],
        1
    );
    assert_eq!(
        app.login("school_b")
            .await
            .get_json("/api/v1/children")
            .await["total"],
        0
    );
}

/// A report names a child and what was found (often the worst of it) and the reporter's phone:
/// stored encrypted, read back whole by the town.
#[tokio::test]
async fn discovery_reports_are_stored_encrypted() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let r = v
        .post_json(
            "/api/v1/discoveries",
            &serde_json::json!({"town_code": TOWN_A, "child_name": "李小花", "situation": "父母外出，独自在家，身上有伤", "reporter_phone": "13800138000"}),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let pool = app.raw_db().await;
    let (name, situation, phone): (String, String, String) =
        sqlx::query_as("SELECT child_name, situation, reporter_phone FROM discovery_reports")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    for (raw, secret) in [
        (&name, "李小花"),
        (&situation, "身上有伤"),
        (&phone, "13800138000"),
    ] {
        assert!(raw.starts_with("v2:") && !raw.contains(secret), "{raw}");
    }
    let town = app.login("town_a").await;
    let queue = town.get_json("/api/v1/discoveries").await;
    assert_eq!(queue["items"][0]["child_name"], "李小花");
    assert_eq!(queue["items"][0]["reporter_phone"], "13800138000");
}
