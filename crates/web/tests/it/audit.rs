//! Every read of a file, every change and every login is in the append-only, hash-chained log.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn reads_changes_and_logins_are_audited_and_only_admins_browse_the_log() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let id = v.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    v.get_json(&format!("/api/v1/children/{id}")).await;
    v.get_json(&format!("/api/v1/children/{id}")).await;
    assert_eq!(v.get("/api/v1/audit").await.status(), StatusCode::FORBIDDEN);
    let admin = app.login("admin").await;
    let log = admin.get_json("/api/v1/audit?username=village_a").await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["child_read", "child_read", "child_register", "login"]
    );
    let words: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action_label"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["查看档案", "查看档案", "登记儿童", "登录"]);
    // The page says it in words, and filters by them.
    let page = admin
        .get("/audit?username=village_a&action=child_register")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<option value="child_register" selected>登记儿童</option>"#));
    assert!(page.contains(r#"<td data-label="操作" title="child_register">登记儿童</td>"#));
    assert!(!page.contains(r#"title="child_read">"#));
    // China's time (the test clock stands at 04:00 UTC = 12:00 in Beijing), the record and the
    // place in words, no ISO time, region code or JSON.
    assert!(page.contains("2026-11-24 12:00:00"), "{page}");
    assert!(page.contains("<td data-label=\"对象\">儿童档案 "), "{page}");
    assert!(page.contains("冠山社区"), "{page}");
    let rows = &page[page.find("<tbody>").unwrap()..];
    for raw in ["T04:00", "Z<", "{\"", ">522730001001<"] {
        assert!(!rows.contains(raw), "{raw} in {rows}");
    }
    // The details in words.
    let logins = admin.get("/audit?action=login").await.text().await.unwrap();
    let rows = &logins[logins.find("<tbody>").unwrap()..];
    assert!(rows.contains("两步验证：不需要"), "{rows}");
    let users = admin
        .get("/audit?action=user_add")
        .await
        .text()
        .await
        .unwrap();
    let rows = &users[users.find("<tbody>").unwrap()..];
    assert!(rows.contains("角色：儿童主任"), "{rows}");
    assert!(!rows.contains("{\""), "{rows}");
    assert!(
        !log.to_string()
            .contains(boy(VILLAGE_A).id_number.unwrap().as_str())
    );
    assert_eq!(
        app.store.audit_log().verify_audit_chain().await.unwrap(),
        None
    );
}

#[tokio::test]
async fn tampering_with_the_audit_log_breaks_the_chain() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    v.register(&boy(VILLAGE_A)).await;
    assert_eq!(
        app.store.audit_log().verify_audit_chain().await.unwrap(),
        None
    );
    let admin = app.login("admin").await;
    let log: Value = admin.get_json("/api/v1/audit?action=child_register").await;
    let seq = log["items"][0]["seq"].as_i64().unwrap();
    // Someone with database access rewrites what a row says.
    let pool = app.raw_db().await;
    sqlx::query("UPDATE audit_events SET username = 'someone_else' WHERE seq = $1")
        .bind(seq)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        app.store.audit_log().verify_audit_chain().await.unwrap(),
        Some(seq)
    );
}

/// A list or a search shows many children's details: it leaves a trace like opening one file —
/// who, which filter, how many rows — and a search by ID number is kept masked in the log.
#[tokio::test]
async fn reading_the_roster_and_searching_it_are_audited() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let id_number = boy(VILLAGE_A).id_number.unwrap();
    v.register(&boy(VILLAGE_A)).await;
    let town = app.login("town_a").await;
    town.get_json("/api/v1/children?status=all").await;
    let found = town
        .get_json(&format!("/api/v1/children?q={id_number}"))
        .await;
    assert_eq!(found["total"], 1);
    let admin = app.login("admin").await;
    let log = admin
        .get_json("/api/v1/audit?username=town_a&action=roster_read")
        .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{log}");
    let search: Value = serde_json::from_str(items[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(search["shown"], 1);
    assert_eq!(search["search"], format!("{}************", &id_number[..6]));
    assert!(!log.to_string().contains(&id_number));
    let all: Value = serde_json::from_str(items[1]["detail"].as_str().unwrap()).unwrap();
    assert!(all["filter"].as_str().unwrap().contains("All"), "{all}");
}

/// A report goes to a town of the reporter's own area: a village user cannot fill another
/// town's queue.
#[tokio::test]
async fn a_discovery_report_for_a_town_outside_the_reporters_area_is_refused() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let r = v
        .post_json(
            "/api/v1/discoveries",
            &serde_json::json!({"town_code": TOWN_B, "child_name": "李某", "situation": "独自在家"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "town_code");
    let r = v
        .post_json(
            "/api/v1/discoveries",
            &serde_json::json!({"town_code": TOWN_A, "child_name": "李某", "situation": "独自在家"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// Registering an ID number that another town registered tells the user only that a record
/// exists — not where — and puts the case in the town's queue for the county; the look-up is
/// audited (the register is not an oracle of who lives where).
#[tokio::test]
async fn an_id_number_registered_in_another_town_is_not_an_oracle() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let other = app.login("town_b").await;
    let mut there = boy("522730100211");
    there.name = Some("王小明".into());
    other.register(&there).await;
    let v = app.login("village_a").await;
    let r = v
        .post_json(
            "/api/v1/children",
            &serde_json::to_value(boy(VILLAGE_A)).unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("已有登记记录") && message.contains("县民政部门"),
        "{message}"
    );
    assert!(
        !message.contains("其他") && !body.to_string().contains("522730100"),
        "{body}"
    );
    // The town (and the county above it) has the case to resolve.
    let town = app.login("town_a").await;
    let queue = town.get_json("/api/v1/discoveries").await;
    let situation = queue["items"][0]["situation"].as_str().unwrap();
    assert!(situation.contains("身份证号码"), "{queue}");
    assert!(
        !queue
            .to_string()
            .contains(&boy(VILLAGE_A).id_number.unwrap())
    );
    let admin = app.login("admin").await;
    let log = admin
        .get_json("/api/v1/audit?username=village_a&action=id_duplicate_elsewhere")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
}

/// Issue 24: changing one's own child's ID number to one registered in another town answered the
/// same 409 as registration but audited and raised nothing. The edit is refused, the look-up is
/// audited and the town's queue gets the case to resolve — as at registration — and the file is
/// unchanged.
#[tokio::test]
async fn an_edit_to_an_id_number_registered_in_another_town_is_audited_and_raised() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let other = app.login("town_b").await;
    // Born the same day as the child edited below, so the number fits its birth date and sex.
    let there = boy_named("522730100211", "张小兵", ymd(2015, 6, 1), 23);
    let taken = there.id_number.clone().unwrap();
    other.register(&there).await;
    let v = app.login("village_a").await;
    let mine = boy_named(VILLAGE_A, "李小军", ymd(2015, 6, 1), 21);
    let created = v.register(&mine).await;
    let id = created["id"].as_str().unwrap();
    let r = v
        .patch_json(
            &format!("/api/v1/children/{id}"),
            &serde_json::json!({"version": 1, "id_number": taken}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("已有登记记录"),
        "{body}"
    );
    assert!(!body.to_string().contains("522730100"), "{body}");
    let admin = app.login("admin").await;
    let log = admin
        .get_json("/api/v1/audit?username=village_a&action=id_duplicate_elsewhere")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    let town = app.login("town_a").await;
    let queue = town.get_json("/api/v1/discoveries").await;
    assert!(
        queue["items"][0]["situation"]
            .as_str()
            .unwrap()
            .contains("身份证号码"),
        "{queue}"
    );
    assert!(!queue.to_string().contains(&taken));
    let file = v.get_json(&format!("/api/v1/children/{id}")).await;
    assert_eq!(file["version"], 1, "{file}");
}

/// The chain covers every column and is keyed: moving an event to another region (out of an
/// admin's view) breaks it too, and a failed login on an account is shown to that account's
/// area admin.
#[tokio::test]
async fn moving_an_event_out_of_an_admins_view_breaks_the_chain_and_failed_logins_are_seen() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    v.register(&boy(VILLAGE_A)).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&serde_json::json!({"username": "village_a", "password": "wrong-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let admin = app.login("admin").await;
    let failed = admin.get_json("/api/v1/audit?action=login_failed").await;
    assert_eq!(failed["items"][0]["username"], "village_a", "{failed}");
    assert_eq!(failed["items"][0]["region_code"], VILLAGE_A);
    assert_eq!(
        app.store.audit_log().verify_audit_chain().await.unwrap(),
        None
    );

    let log: Value = admin.get_json("/api/v1/audit?action=child_register").await;
    let seq = log["items"][0]["seq"].as_i64().unwrap();
    let pool = app.raw_db().await;
    sqlx::query("UPDATE audit_events SET region_code = '110101001001' WHERE seq = $1")
        .bind(seq)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        app.store.audit_log().verify_audit_chain().await.unwrap(),
        Some(seq)
    );
}

/// Issue 24: child B's sealed file copied over child A's was served as A's (and one report's body
/// over another's), and nothing noticed. Each sealed value is bound to its row: the copy does not
/// open, and nobody reads B's file as A's.
#[tokio::test]
async fn a_sealed_value_copied_to_another_row_does_not_open() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let a = v
        .register(&boy_named(VILLAGE_A, "李甲", ymd(2015, 6, 1), 31))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = v
        .register(&boy_named(VILLAGE_A, "王乙", ymd(2014, 3, 2), 33))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = |child: &str, what: &str| json!({"child_id": child, "situations": ["living_alone"], "description": what});
    let ra: Value = v
        .post_json("/api/v1/reports", &report(&a, "甲独自在家"))
        .await
        .json()
        .await
        .unwrap();
    let rb: Value = v
        .post_json("/api/v1/reports", &report(&b, "乙被打伤，邻居报告"))
        .await
        .json()
        .await
        .unwrap();
    let db = app.raw_db().await;
    sqlx::query(
        "UPDATE child_docs SET doc = (SELECT doc FROM child_docs WHERE child_id = $1) WHERE child_id = $2",
    )
    .bind(&b)
    .bind(&a)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE protection_reports SET body = (SELECT body FROM protection_reports WHERE id = $1) WHERE id = $2",
    )
    .bind(rb["id"].as_str().unwrap())
    .bind(ra["id"].as_str().unwrap())
    .execute(&db)
    .await
    .unwrap();
    let county = app.login("county").await;
    for path in [
        format!("/api/v1/children/{a}"),
        format!("/api/v1/cases/{}", ra["case_id"].as_str().unwrap()),
    ] {
        let r = county.get(&path).await;
        assert!(!r.status().is_success(), "{path}: {}", r.status());
        let body = r.text().await.unwrap();
        assert!(!body.contains("王乙") && !body.contains("被打伤"), "{body}");
    }
    // B's own file and report still read.
    let file = county.get_json(&format!("/api/v1/children/{b}")).await;
    assert!(file.to_string().contains("王乙"));
}
