//! Retention (issue 12 §13; 个人信息保护法 Art. 19, 47): a file that left the roster is archived
//! after the period — out of every working list and read, readable by county staff with a reason
//! that is audited — and its personal fields are erased years later, the counted row and the audit
//! log staying.

use reqwest::StatusCode;
use serde_json::{Value, json};

use shouwang_domain::authz::Role;
use shouwang_domain::region::RegionCode;
use shouwang_domain::retention::Retention;

use crate::helpers::*;

const REASON: &str = "核实申请临时救助时的监护情况";

#[tokio::test]
async fn a_file_that_left_the_roster_is_archived_then_its_personal_fields_are_erased() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.store
        .regions()
        .init_region(&RegionCode::parse("522731").unwrap())
        .await
        .unwrap();
    app.add_user("county_far", Role::County, "522731", None)
        .await;
    let village = app.login("village_a").await;
    let child = boy_named(VILLAGE_A, "杨归档", ymd(2016, 7, 31), 77);
    let id = village.register(&child).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = village
        .post_json(
            &format!("/api/v1/children/{id}/exit"),
            &json!({"version": 1, "reason": "parents_returned", "date": "2026-11-20"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let policy = Retention::default();

    // Within the period the village still sees the file it exited.
    let run = app.store.retention().run_retention(&policy).await.unwrap();
    assert_eq!((run.archived, run.erased), (0, 0));
    assert_eq!(
        village.get_json("/api/v1/children?status=exited").await["total"],
        1
    );

    // Thirty days after the exit it is archived: no list, search or read of anyone finds it.
    app.clock.set(ymd(2026, 12, 21));
    let run = app.store.retention().run_retention(&policy).await.unwrap();
    assert_eq!((run.archived, run.erased), (1, 0));
    assert_eq!(
        app.store
            .retention()
            .run_retention(&policy)
            .await
            .unwrap()
            .archived,
        0
    );
    for name in ["village_a", "town_a", "county"] {
        let u = app.login(name).await;
        assert_eq!(
            u.get(&format!("/api/v1/children/{id}")).await.status(),
            StatusCode::NOT_FOUND,
            "{name} reads an archived file outside the archive"
        );
        let all = u
            .get_json(&format!("/api/v1/children?status=all&q={}", "杨归档"))
            .await;
        assert_eq!(all["total"], 0, "{name} finds it in a list");
        assert_eq!(
            u.get(&format!("/children/{id}")).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    // The county reads the archive, with a reason; others may not, or do not find it.
    let county = app.login("county").await;
    let r = county.get("/api/v1/archive?q=杨").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "reason");
    let found = county
        .get_json(&format!("/api/v1/archive?q=杨&reason={REASON}"))
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["name"], "杨归档");
    let file = county
        .get_json(&format!("/api/v1/archive/{id}?reason={REASON}"))
        .await;
    assert_eq!(file["erased"], false);
    assert_eq!(file["child"]["name"], "杨归档");
    for name in ["village_a", "town_a"] {
        let u = app.login(name).await;
        let r = u
            .get(&format!("/api/v1/archive/{id}?reason={REASON}"))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{name}");
    }
    let far = app.login("county_far").await;
    let r = far
        .get(&format!("/api/v1/archive/{id}?reason={REASON}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The page shows the file read-only, with the reason.
    let page = county
        .get(&format!("/archive/{id}?reason={REASON}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("归档档案（只读）") && page.contains(REASON));
    assert!(!page.contains("修改档案"));
    let admin = app.login("admin").await;
    let reads = admin
        .get_json(&format!("/api/v1/audit?action=archive_read&entity_id={id}"))
        .await;
    let reads = reads["items"].as_array().unwrap();
    assert_eq!(reads.len(), 2, "API and page reads: {reads:?}");
    assert!(reads[0]["detail"].as_str().unwrap().contains(REASON));
    let events_before: i64 = {
        let db = app.raw_db().await;
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
            .fetch_one(&db)
            .await
            .unwrap()
    };

    // Three years after it left the roster, the personal fields go; the counted row stays.
    app.clock.set(ymd(2029, 11, 19));
    assert_eq!(
        app.store
            .retention()
            .run_retention(&policy)
            .await
            .unwrap()
            .erased,
        0
    );
    app.clock.set(ymd(2029, 11, 20));
    assert_eq!(
        app.store
            .retention()
            .run_retention(&policy)
            .await
            .unwrap()
            .erased,
        1
    );
    let db = app.raw_db().await;
    let row = sqlx::query(
        "SELECT name, name_pinyin, birth_date, id_hash, id_cipher, id_masked, status, exit_reason, sex \
         FROM children WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(&db)
    .await
    .unwrap();
    use sqlx::Row;
    assert_eq!(row.get::<String, _>(0), "");
    assert_eq!(row.get::<String, _>(1), "");
    assert_eq!(row.get::<String, _>(2), "2016-01-01");
    assert!(row.get::<Option<String>, _>(3).is_none());
    assert!(row.get::<Option<String>, _>(4).is_none());
    assert!(row.get::<Option<String>, _>(5).is_none());
    assert_eq!(row.get::<String, _>(6), "exited");
    assert_eq!(row.get::<String, _>(7), "parents_returned");
    for table in ["child_docs", "child_history"] {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE child_id = $1"))
                .bind(&id)
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!(n, 0, "{table} keeps the erased file");
    }
    // The audit log is whole: nothing removed, the erasure recorded, the chain intact.
    let events_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(events_after > events_before);
    assert_eq!(
        app.store.audit_log().verify_audit_chain().await.unwrap(),
        None
    );
    // The archive shows what is left.
    let county = app.login("county").await;
    let file = county
        .get_json(&format!("/api/v1/archive/{id}?reason={REASON}"))
        .await;
    assert_eq!(file["erased"], true);
    assert_eq!(file["row"]["name"], "");
    assert_eq!(file["row"]["birth_date"], "2016-01-01");
    assert_eq!(file["row"]["exit_reason"], "parents_returned");
    let page = county
        .get(&format!("/archive/{id}?reason={REASON}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("个人信息已删除"));
    assert!(!page.contains("杨归档"));
}

/// A child who turned 16 and was never exited leaves the working lists once the period has
/// passed since the birthday; a child still under 16 stays.
#[tokio::test]
async fn a_child_who_aged_out_is_archived_after_the_period() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    let mut older = boy_named(VILLAGE_A, "刘将满", ymd(2010, 12, 1), 41);
    older.schooling = Some("初中".into());
    town.register(&older).await;
    town.register(&boy_named(VILLAGE_A, "刘还小", ymd(2014, 3, 1), 43))
        .await;
    let policy = Retention::default();
    app.clock.set(ymd(2026, 12, 30));
    assert_eq!(
        app.store
            .retention()
            .run_retention(&policy)
            .await
            .unwrap()
            .archived,
        0
    );
    let town = app.login("town_a").await;
    assert_eq!(
        town.get_json("/api/v1/children?status=aged_out").await["total"],
        1
    );
    app.clock.set(ymd(2026, 12, 31));
    assert_eq!(
        app.store
            .retention()
            .run_retention(&policy)
            .await
            .unwrap()
            .archived,
        1
    );
    let town = app.login("town_a").await;
    assert_eq!(
        town.get_json("/api/v1/children?status=aged_out").await["total"],
        0
    );
    assert_eq!(
        town.get_json("/api/v1/children?status=all").await["total"],
        1
    );
}

/// Issue 24: an archived child was still reachable through its case, the reports inbox, its
/// routings (with the parents' phones) and its 劝返. Retention applies to every view of a file.
#[tokio::test]
async fn an_archived_childs_cases_routings_and_returns_are_out_of_every_view() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("police_a", Role::Police, TOWN_A, None).await;
    let records = app.town_a_records().await;
    let village = app.login("village_a").await;
    let version = village
        .get_json(&format!("/api/v1/children/{}", records.child))
        .await["version"]
        .as_i64()
        .unwrap();
    let r = village
        .post_json(
            &format!("/api/v1/children/{}/exit", records.child),
            &json!({"version": version, "reason": "parents_returned", "date": "2026-11-20"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Before the archive the police and the town still reach the case.
    let police = app.login("police_a").await;
    assert_eq!(
        police
            .get(&format!("/api/v1/cases/{}", records.case))
            .await
            .status(),
        StatusCode::OK
    );
    app.clock.set(ymd(2026, 12, 21));
    assert_eq!(
        app.store
            .retention()
            .run_retention(&Retention::default())
            .await
            .unwrap()
            .archived,
        1
    );
    for who in ["village_a", "town_a", "county", "police_a", "school_rec"] {
        let u = app.login(who).await;
        for path in [
            format!("/api/v1/cases/{}", records.case),
            format!("/api/v1/routings/{}", records.routing),
            format!("/api/v1/return-tasks/{}", records.return_task),
        ] {
            let status = u.get(&path).await.status();
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
                "{who} reaches {path}: {status}"
            );
        }
        for (list, id) in [
            ("/api/v1/reports", &records.protection_report),
            ("/api/v1/routings?all=true", &records.routing),
            ("/api/v1/return-tasks", &records.return_task),
        ] {
            let r = u.get(list).await;
            if r.status() == StatusCode::OK {
                let text = r.text().await.unwrap();
                assert!(!text.contains(id.as_str()), "{who} lists {id} in {list}");
            }
        }
    }
}
