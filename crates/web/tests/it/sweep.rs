//! Another area's users against every documented operation that names a record: a town's child,
//! report, import, comparison and item, tried by a supervisor of another town, a school and an
//! agency of that other town, and an oversight user of another county. Each answer is a refusal
//! (403 or 404) — never the record, never a change. The operations come from the OpenAPI
//! document, so a new route with an id is swept without editing this test.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use shouwang_domain::authz::Role;
use shouwang_domain::region::RegionCode;

use crate::helpers::*;

/// Operations whose path names no one's record (a division's public name and subdivisions).
const PUBLIC: &[&str] = &["/api/v1/regions/{code}"];

/// A body that passes validation, so that what answers is the scope check, not the parser.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    Some(match (method.as_str(), path) {
        ("PATCH", "/api/v1/children/{id}") => json!({"version": 1, "remarks": "改"}),
        ("POST", "/api/v1/children/{id}/exit") => {
            json!({"version": 1, "reason": "parents_returned", "date": "2026-11-20"})
        }
        ("POST", "/api/v1/children/{id}/transfer") => {
            json!({"version": 1, "to_village": VILLAGE_A2})
        }
        ("POST", "/api/v1/discoveries/{id}/close") => json!({"note": "查无此人"}),
        ("POST", "/api/v1/imports/{id}/commit") => json!({"mode": "valid"}),
        ("POST", "/api/v1/reconcile/items/{id}/decision") => json!({"action": "reject"}),
        ("POST", "/api/v1/users/{id}/disable") => json!({}),
        _ => return None,
    })
}

#[tokio::test]
async fn no_user_of_another_area_reaches_a_record_through_any_operation() {
    let app = spawn_app_with_printer().await;
    app.with_standard_users().await;
    app.add_user("school_b", Role::School, TOWN_B, Some("龙山镇中心小学"))
        .await;
    app.add_user("agency_b", Role::Agency, TOWN_B, Some("龙山镇社工站"))
        .await;
    app.store
        .init_region(&RegionCode::parse("522731").unwrap())
        .await
        .unwrap();
    app.add_user("oversight_far", Role::Oversight, "522731", None)
        .await;
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Town A's records.
    let records = app.town_a_records().await;
    let Records {
        child,
        report,
        import,
        run,
        item,
    } = &records;
    let village = app.login("village_a").await;
    let town_a_user = app
        .store
        .actor_by_username("town_a")
        .await
        .unwrap()
        .unwrap()
        .user_id;
    let id_for = |path: &str| -> String {
        if path.starts_with("/api/v1/children/") {
            child.clone()
        } else if path.starts_with("/api/v1/discoveries/") {
            report.clone()
        } else if path.starts_with("/api/v1/imports/") {
            import.clone()
        } else if path.starts_with("/api/v1/reconcile/runs/")
            || path.starts_with("/api/v1/reconcile/jobs/")
        {
            run.clone()
        } else if path.starts_with("/api/v1/reconcile/items/") {
            item.clone()
        } else if path.starts_with("/api/v1/users/") {
            town_a_user.clone()
        } else {
            "unknown".to_owned()
        }
    };

    let mut outsiders = Vec::new();
    for name in ["town_b", "school_b", "agency_b", "oversight_far"] {
        outsiders.push((name, app.login(name).await));
    }
    let mut swept = 0;
    let mut leaks = Vec::new();
    for (path, item_ops) in doc["paths"].as_object().unwrap() {
        if !path.contains('{') || PUBLIC.contains(&path.as_str()) {
            continue;
        }
        for (m, _) in item_ops.as_object().unwrap() {
            let method: Method = m.to_uppercase().parse().unwrap();
            let mut url = path.replace("{id}", &id_for(path));
            // A link to an agency of the outsider's own town.
            url = url.replace("{agency_id}", "any-agency");
            for (name, user) in &outsiders {
                let mut req = user
                    .client
                    .request(method.clone(), format!("{}{url}", app.base));
                if let Some(b) = body_for(&method, path) {
                    req = req.json(&b);
                }
                let r = req.send().await.unwrap();
                let status = r.status();
                swept += 1;
                if status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN {
                    leaks.push(format!(
                        "{method} {url} as {name}: {status} {}",
                        r.text()
                            .await
                            .unwrap_or_default()
                            .chars()
                            .take(200)
                            .collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
    assert!(swept >= 4 * 18, "only {swept} requests swept");
    // Nothing changed: the child is as registered, the report still open, the import waiting.
    let v = village.get_json(&format!("/api/v1/children/{child}")).await;
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "on_roster");
    let town = app.login("town_a").await;
    assert_eq!(
        town.get_json("/api/v1/discoveries").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
