//! Exit, transfer and ageing out.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_child_leaves_the_roster_on_the_sixteenth_birthday_without_an_edit() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let t = app.login("town_a").await;
    let mut i = boy_named(VILLAGE_A, "刘将满", ymd(2010, 12, 1), 41);
    i.schooling = Some("初中".into());
    let id = t.register(&i).await["id"].as_str().unwrap().to_owned();
    assert_eq!(t.get_json("/api/v1/children").await["total"], 1);
    app.clock.set(ymd(2026, 11, 30));
    // Sessions last hours, not days: sign in again on each new day.
    let t = app.login("town_a").await;
    assert_eq!(t.get_json("/api/v1/children").await["total"], 1);
    app.clock.set(ymd(2026, 12, 1));
    let t = app.login("town_a").await;
    assert_eq!(t.get_json("/api/v1/children").await["total"], 0);
    let due = t.get_json("/api/v1/children?status=aged_out").await;
    assert_eq!(due["items"][0]["id"], id.as_str());
    assert_eq!(due["items"][0]["status"], "aged_out");
    let got = t.get_json(&format!("/api/v1/children/{id}")).await;
    assert_eq!(got["status"], "aged_out");
    assert_eq!(got["eligibility"]["qualifies"], false);
    // Reference dates in the past still count them.
    assert_eq!(
        t.get_json("/api/v1/children?on=2026-11-30").await["total"],
        1
    );
}

#[tokio::test]
async fn exit_with_a_reason_and_transfer_keep_the_history() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let t = app.login("town_a").await;
    let id = t.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t
        .post_json(
            &format!("/api/v1/children/{id}/transfer"),
            &json!({"version": 1, "to_village": VILLAGE_A2}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let moved: Value = r.json().await.unwrap();
    assert_eq!(moved["village_code"], VILLAGE_A2);
    // Transfer to another town: the sending town loses sight of the child, the county keeps it.
    let r = t
        .post_json(
            &format!("/api/v1/children/{id}/transfer"),
            &json!({"version": 2, "to_village": "522730100004"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(
        t.get(&format!("/api/v1/children/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let b = app.login("town_b").await;
    assert_eq!(b.get_json("/api/v1/children").await["total"], 1);
    let h = b.get_json(&format!("/api/v1/children/{id}/history")).await;
    let kinds: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["transfer", "transfer", "register"]);
    assert_eq!(h["items"][1]["changes"][0]["old"], VILLAGE_A);

    let bad = b
        .post_json(
            &format!("/api/v1/children/{id}/exit"),
            &json!({"version": 3, "reason": "返乡", "date": "2026-11-20"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json::<Value>().await.unwrap()["field"], "reason");
    let future = b
        .post_json(
            &format!("/api/v1/children/{id}/exit"),
            &json!({"version": 3, "reason": "parents_returned", "date": "2027-01-01"}),
        )
        .await;
    assert_eq!(future.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = b.post_json(&format!("/api/v1/children/{id}/exit"), &json!({"version": 3, "reason": "parents_returned", "date": "2026-11-20", "note": "母亲返乡照顾"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let exited: Value = r.json().await.unwrap();
    assert_eq!(exited["status"], "exited");
    assert_eq!(exited["exit_reason"], "parents_returned");
    assert_eq!(b.get_json("/api/v1/children").await["total"], 0);
    assert_eq!(
        b.get_json("/api/v1/children?status=exited").await["total"],
        1
    );
    let again = b
        .post_json(
            &format!("/api/v1/children/{id}/exit"),
            &json!({"version": 4, "reason": "other", "date": "2026-11-21"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_mother_left_blank_puts_the_child_on_the_incomplete_list_not_the_roster() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let mut child = boy(VILLAGE_A);
    child.mother_status = None;
    child.mother_name = None;
    child.mother_situation = None;
    child.mother_work_place = None;
    let id = village.register(&child).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = village.get_json(&format!("/api/v1/children/{id}")).await;
    assert_eq!(file["status"], "incomplete", "{file}");
    assert_eq!(
        village.get_json("/api/v1/children").await["total"],
        0,
        "not on the roster"
    );
    assert_eq!(
        village
            .get_json("/api/v1/children?status=not_eligible")
            .await["total"],
        0,
        "nor 'not left behind'"
    );
    assert_eq!(
        village.get_json("/api/v1/children?status=incomplete").await["total"],
        1
    );
    // A search by name finds the child whatever the state of the file, and says the state; the
    // page's filter shows what it searched.
    let found = village.get_json("/api/v1/children?q=王小明").await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["items"][0]["status"], "incomplete", "{found}");
    let page = village
        .get("/children?q=%E7%8E%8B%E5%B0%8F%E6%98%8E")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("王小明") && page.contains("信息不全"),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"\" selected>在册（搜索姓名时不限）"),
        "{page}"
    );
    // A search that names a state keeps to it.
    assert_eq!(
        village
            .get_json("/api/v1/children?q=王小明&status=on_roster")
            .await["total"],
        0
    );
    // Filling the gap puts the child on the roster.
    let r = village
        .patch_json(
            &format!("/api/v1/children/{id}"),
            &json!({"version": file["version"], "mother_status": "健在", "mother_name": "张丽",
                    "mother_situation": "外出务工", "mother_work_place": "4401"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(village.get_json("/api/v1/children").await["total"], 1);
}

#[tokio::test]
async fn summaries_are_derived_again_when_the_rules_change() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let mut child = boy(VILLAGE_A);
    child.hukou_rural = None;
    village.register(&child).await;
    assert_eq!(village.get_json("/api/v1/children").await["total"], 0);

    // A database derived by older rules (农村户籍 assumed): the stored summary says "qualifies".
    let pool = app.raw_db().await;
    sqlx::query("UPDATE children SET qualifies = 1, incomplete = 0")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE store_settings SET value = '1' WHERE key = 'derivation_version'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(village.get_json("/api/v1/children").await["total"], 1);

    // Opening the database again derives every summary with today's rules.
    let reopened = shouwang_testkit::store::Store::open(
        &app.db,
        shouwang_testkit::store::IdCipher::new([7; 32], [9; 32]),
        std::sync::Arc::new(app.clock.clone()),
    )
    .await
    .unwrap();
    reopened.close().await;
    assert_eq!(village.get_json("/api/v1/children").await["total"], 0);
    assert_eq!(
        village.get_json("/api/v1/children?status=incomplete").await["total"],
        1
    );
    let version: String =
        sqlx::query_scalar("SELECT value FROM store_settings WHERE key = 'derivation_version'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        version,
        shouwang_domain::eligibility::DERIVATION_VERSION.to_string()
    );
}
