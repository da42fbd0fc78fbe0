//! County administrators manage the users of their own county, and no further.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_county_admin_adds_a_village_director_who_can_then_log_in() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let admin = app.login("admin").await;
    let r = admin
        .post_json("/api/v1/users", &json!({"username": "new_director", "display_name": "陈红", "password": PASSWORD, "role": "village", "org": VILLAGE_A2}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = app.login("new_director").await;
    assert_eq!(v.get("/api/v1/children").await.status(), StatusCode::OK);
    let users = admin.get_json("/api/v1/users").await;
    assert!(
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "new_director" && u["role"] == "village")
    );
    let log = admin.get_json("/api/v1/audit?action=user_add").await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["username"] == "admin")
    );
}

#[tokio::test]
async fn user_creation_is_checked_and_limited_to_the_admins_county() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let admin = app.login("admin").await;
    // Another county (龙里's neighbour 贵定县 522723) is out of reach.
    let r = admin.post_json("/api/v1/users", &json!({"username": "outsider", "password": PASSWORD, "role": "county", "org": "522723"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "org");
    let r = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "v2", "password": PASSWORD, "role": "village", "org": TOWN_A}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a village director sits at a village"
    );
    let r = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "v3", "password": "short", "role": "town", "org": TOWN_A}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "password");
    let r = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "town_a", "password": PASSWORD, "role": "town", "org": TOWN_A}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let town = app.login("town_a").await;
    let r = town
        .post_json(
            "/api/v1/users",
            &json!({"username": "x", "password": PASSWORD, "role": "village", "org": VILLAGE_A}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        town.get("/api/v1/users").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_users_page_creates_a_school_user() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let (client, _) = crate::pages::browser_login(&app, "admin").await;
    let page = client
        .get(format!("{}/users", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = client
        .post(format!("{}/users", app.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "guanshan_school"),
            ("display_name", "冠山小学"),
            ("role", "school"),
            ("org", TOWN_A),
            ("agency", ""),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("需指定所属机构名称"));
    let r = client
        .post(format!("{}/users", app.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "guanshan_school"),
            ("display_name", "冠山小学"),
            ("role", "school"),
            ("org", TOWN_A),
            ("agency", "冠山小学"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("已创建用户 guanshan_school")
    );
    assert_eq!(
        app.login("guanshan_school")
            .await
            .get_json("/api/v1/children")
            .await["total"],
        0
    );
}
