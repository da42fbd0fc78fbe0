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
    // The password the admin chose is replaced first: until then everything else is refused.
    let r = v.get("/api/v1/children").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "password_change_required"
    );
    let r = v
        .post_json(
            "/api/v1/password",
            &json!({"current_password": PASSWORD, "new_password": PASSWORD}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not the same one"
    );
    let r = v
        .post_json(
            "/api/v1/password",
            &json!({"current_password": "wrong-one-123", "new_password": "my-own-password-1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<Value>().await.unwrap()["field"],
        "current_password"
    );
    let r = v
        .post_json(
            "/api/v1/password",
            &json!({"current_password": PASSWORD, "new_password": "my-own-password-1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
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
    // The school's first sign-in in a browser goes to the form that replaces the admin's password.
    let (school, csrf) = crate::pages::browser_login(&app, "guanshan_school").await;
    let r = school
        .get(format!("{}/children", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/password");
    let form = |new: &str, confirm: &str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("current_password", PASSWORD.to_owned()),
            ("new_password", new.to_owned()),
            ("confirm_password", confirm.to_owned()),
        ]
    };
    let r = school
        .post(format!("{}/password", app.base))
        .form(&form("school-password-1", "school-password-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("两次输入的新密码不一致"));
    let r = school
        .post(format!("{}/password", app.base))
        .form(&form("school-password-1", "school-password-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = school
        .get(format!("{}/api/v1/children", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 0);
}

/// A token cannot make tokens; its owner lists and revokes it, and it stops at once. An admin
/// disables a user: every session and token of theirs ends at that moment, and they cannot sign
/// in; an admin does not disable themselves, nor anyone outside their area.
#[tokio::test]
async fn tokens_are_revocable_and_a_disabled_user_is_out_at_once() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let token = v
        .post_json("/api/v1/tokens", &json!({"name": "县平台对接"}))
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = reqwest::Client::new();
    let with_token = |method: reqwest::Method, path: &str| {
        bearer
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&token)
    };
    let r = with_token(reqwest::Method::POST, "/api/v1/tokens")
        .json(&json!({"name": "再来一个", "days": 365}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a token minted a token");
    let listed = v.get_json("/api/v1/tokens").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["name"], "县平台对接");
    let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    // Another user cannot revoke it.
    let other = app.login("village_a2").await;
    let r = other
        .client
        .delete(format!("{}/api/v1/tokens/{id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = with_token(reqwest::Method::GET, "/api/v1/children")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = v
        .client
        .delete(format!("{}/api/v1/tokens/{id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = with_token(reqwest::Method::GET, "/api/v1/children")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A new token, then the admin disables the user.
    let token2 = v
        .post_json("/api/v1/tokens", &json!({"name": "第二个"}))
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let village = app
        .store
        .users()
        .actor_by_username("village_a")
        .await
        .unwrap()
        .unwrap();
    let admin_actor = app
        .store
        .users()
        .actor_by_username("admin")
        .await
        .unwrap()
        .unwrap();
    let admin = app.login("admin").await;
    let r = admin
        .post_json(
            &format!("/api/v1/users/{}/disable", admin_actor.user_id),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .post_json(
            &format!("/api/v1/users/{}/disable", village.user_id),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        v.get("/api/v1/children").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = bearer
        .get(format!("{}/api/v1/children", app.base))
        .bearer_auth(&token2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"username": "village_a", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Another county's admin does not find this county's users.
    app.store
        .regions()
        .init_region(&shouwang_domain::region::RegionCode::parse("522731").unwrap())
        .await
        .unwrap();
    app.add_user(
        "admin_far",
        shouwang_domain::authz::Role::CountyAdmin,
        "522731",
        None,
    )
    .await;
    let far = app.login("admin_far").await;
    let town = app
        .store
        .users()
        .actor_by_username("town_a")
        .await
        .unwrap()
        .unwrap();
    let r = far
        .post_json(
            &format!("/api/v1/users/{}/disable", town.user_id),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// A session left unused for an hour ends (a phone left unlocked in a village office); one in use
/// goes on until its absolute end.
#[tokio::test]
async fn a_session_unused_for_an_hour_ends() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let start = chrono::Utc::now();
    let at = |minutes: i64| {
        *app.clock.0.lock().unwrap() = start + chrono::Duration::minutes(minutes);
    };
    at(0);
    let busy = app.login("village_a").await;
    let idle = app.login("town_a").await;
    // Used every 40 minutes: still signed in after two hours.
    for m in [40, 80, 120] {
        at(m);
        assert_eq!(
            busy.get("/api/v1/children").await.status(),
            StatusCode::OK,
            "at {m} min"
        );
    }
    assert_eq!(
        idle.get("/api/v1/children").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// A user sees where they are signed in and ends a session left on another device; the other
/// session stops at once, their own goes on, and nobody else can end theirs.
#[tokio::test]
async fn a_user_lists_their_sessions_and_ends_one_left_elsewhere() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let phone = app.login("village_a").await;
    let office = app.login("village_a").await;
    let listed = office.get_json("/api/v1/sessions").await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{listed}");
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let other = items.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = app.login("village_a2").await;
    let r = stranger
        .client
        .delete(format!("{}/api/v1/sessions/{other}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(phone.get("/api/v1/children").await.status(), StatusCode::OK);
    let r = office
        .client
        .delete(format!("{}/api/v1/sessions/{other}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        phone.get("/api/v1/children").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        office.get("/api/v1/children").await.status(),
        StatusCode::OK
    );
}

/// Issue 24: a county administrator's API token could create accounts. An administrator's change
/// is made in a signed-in session, never with a token (which lives in scripts and files).
#[tokio::test]
async fn an_administrators_token_cannot_make_accounts_or_change_settings() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let admin = app.login("admin").await;
    let token = admin
        .post_json("/api/v1/tokens", &json!({"name": "脚本"}))
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = reqwest::Client::new();
    let r = bearer
        .post(format!("{}/api/v1/users", app.base))
        .bearer_auth(&token)
        .json(
            &json!({"username": "mole", "password": "correct-horse-battery-9",
            "role": "county_admin", "org": "522730"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        app.store
            .users()
            .actor_by_username("mole")
            .await
            .unwrap()
            .is_none()
    );
    let village = app
        .store
        .users()
        .actor_by_username("village_a")
        .await
        .unwrap()
        .unwrap();
    let r = bearer
        .post(format!(
            "{}/api/v1/users/{}/disable",
            app.base, village.user_id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = bearer
        .put(format!("{}/api/v1/settings", app.base))
        .bearer_auth(&token)
        .json(&json!({"contact_lapse_days": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        admin.get_json("/api/v1/settings").await["settings"]["contact_lapse_days"],
        30
    );
    // The session does it.
    let r = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "helper", "password": "correct-horse-battery-9",
                "role": "village", "org": VILLAGE_A}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}
