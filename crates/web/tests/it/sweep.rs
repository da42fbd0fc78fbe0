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
        ("PATCH", "/api/v1/elders/{id}") => json!({"version": 1, "remarks": "改"}),
        ("POST", "/api/v1/elders/{id}/exit") => {
            json!({"version": 1, "reason": "died", "date": "2026-11-20"})
        }
        ("POST", "/api/v1/children/{id}/exit") => {
            json!({"version": 1, "reason": "parents_returned", "date": "2026-11-20"})
        }
        ("POST", "/api/v1/children/{id}/transfer") => {
            json!({"version": 1, "to_village": VILLAGE_A2})
        }
        ("POST", "/api/v1/discoveries/{id}/close") => json!({"note": "查无此人"}),
        ("POST", "/api/v1/imports/{id}/commit") => json!({"mode": "valid"}),
        ("POST", "/api/v1/reconcile/items/{id}/decision") => json!({"action": "reject"}),
        ("POST", "/api/v1/reconcile/runs/{id}/withdraw") => json!({"reason": "名单有误"}),
        ("POST", "/api/v1/users/{id}/disable") => json!({}),
        ("POST", "/api/v1/users/{id}/second-factor/reset") => json!({}),
        ("POST", "/api/v1/reports/{id}/receive") => json!({}),
        ("POST", "/api/v1/cases/{id}/steps") => {
            json!({"step": "order_parents_back", "outcome": "done"})
        }
        ("POST", "/api/v1/cases/{id}/police-records") => json!({"record": "case_accepted"}),
        ("POST", "/api/v1/cases/{id}/notify-town") => json!({"note": "已处置"}),
        ("POST", "/api/v1/cases/{id}/close-request") => json!({"reason": "监护已落实"}),
        ("POST", "/api/v1/cases/{id}/close-decision") => json!({"approve": true}),
        ("POST", "/api/v1/cases/{id}/reopen") => json!({"reason": "再次外出"}),
        ("POST", "/api/v1/referrals/{id}/answer") => json!({"action": "accept"}),
        ("POST", "/api/v1/cases/{id}/interventions") => {
            json!({"measure": "criticism_education", "stage": "done", "note": "教育"})
        }
        ("POST", "/api/v1/cases/{id}/placements") => {
            json!({"reason": "guardian_refuses", "placement": "relatives", "carer": "姑姑"})
        }
        ("POST", "/api/v1/cases/{id}/placements/{placement_id}/end") => {
            json!({"assessment": "返回家庭"})
        }
        ("POST", "/api/v1/cases/{id}/referrals") => {
            json!({"kind": "counselling", "agency_id": "any-agency", "note": "疏导"})
        }
        ("POST", "/api/v1/cases/{id}/assessments") => json!({
            "safety": "some", "guardianship": "some", "physical_health": "none",
            "mental_health": "none", "findings": "已照料", "participants": "督导员",
            "child_view": "愿意"
        }),
        ("POST", "/api/v1/children/{id}/visits") => json!({
            "method": "home", "visitor_role": "child_director", "visitor_name": "李芳",
            "seen": ["child"], "condition": "good"
        }),
        ("POST", "/api/v1/quarterly-reports/{id}/verify") => json!({"section": "education"}),
        ("POST", "/api/v1/quarterly-reports/{id}/confirm") => json!({"as": "reviewer"}),
        ("POST", "/api/v1/children/{id}/parent-contacts") => {
            json!({"parent": "mother", "method": "phone", "reached": true})
        }
        ("POST", "/api/v1/children/{id}/absences") => json!({"from": "2026-11-20"}),
        ("POST", "/api/v1/children/{id}/carer-checks") => json!({
            "carer_name": "李秀英", "disqualifications": [], "checked_how": "询问邻居",
            "ratings": {"health": "good", "time": "good", "means": "good", "schooling": "good", "safety": "good"}
        }),
        ("POST", "/api/v1/return-tasks/{id}/steps") => {
            json!({"step": "home_visit", "note": "入户"})
        }
        ("POST", "/api/v1/return-tasks/{id}/finish") => json!({"outcome": "returned"}),
        ("POST", "/api/v1/children/{id}/routings") => json!({"need": "hardship"}),
        ("PUT", "/api/v1/children/{id}/visitor") => {
            json!({"name": "刘网格", "role": "grid_worker"})
        }
        ("POST", "/api/v1/routings/{id}/events") => json!({"event": "progress", "note": "已核实"}),
        ("POST", "/api/v1/children/{id}/agreements") => {
            json!({"carer_name": "李秀英", "signed_on": "2026-11-20"})
        }
        ("POST", "/api/v1/children/{id}/offline-edits") => {
            json!({"base": {"remarks": null}, "changes": {"remarks": "改"}})
        }
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
        .regions()
        .init_region(&RegionCode::parse("522731").unwrap())
        .await
        .unwrap();
    app.add_user("oversight_far", Role::Oversight, "522731", None)
        .await;
    // The county's own court: it reaches no child, only cases sent to it (none here).
    app.add_user("court", Role::Court, "522730", None).await;
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
        protection_report,
        case,
        quarterly,
        return_task,
        routing,
        elder,
    } = &records;
    let village = app.login("village_a").await;
    let town_a_user = app
        .store
        .users()
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
        } else if path.starts_with("/api/v1/reports/") {
            protection_report.clone()
        } else if path.starts_with("/api/v1/cases/") {
            case.clone()
        } else if path.starts_with("/api/v1/quarterly-reports/") {
            quarterly.clone()
        } else if path.starts_with("/api/v1/return-tasks/") {
            return_task.clone()
        } else if path.starts_with("/api/v1/routings/") {
            routing.clone()
        } else if path.starts_with("/api/v1/elders/") {
            elder.clone()
        } else {
            "unknown".to_owned()
        }
    };

    let mut outsiders = Vec::new();
    for name in ["town_b", "school_b", "agency_b", "oversight_far", "court"] {
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
            let mut url = path
                .replace("{id}", &id_for(path))
                .replace("{attachment_id}", "any-attachment")
                .replace("{agreement_id}", "any-agreement")
                .replace("{visit_id}", "any-visit")
                .replace("{photo_id}", "any-photo")
                .replace("{placement_id}", "any-placement");
            // A link to an agency of the outsider's own town.
            url = url.replace("{agency_id}", "any-agency");
            for (name, user) in &outsiders {
                let mut req = user
                    .client
                    .request(method.clone(), format!("{}{url}", app.base));
                if (path.ends_with("/attachments") || path.ends_with("/signed-page"))
                    && method == Method::POST
                {
                    req = req.multipart(evidence_form(""));
                } else if let Some(b) = body_for(&method, path) {
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
    assert!(swept >= 5 * 18, "only {swept} requests swept");
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

/// An upload of a small photo, as a phone's form sends it (with the page's CSRF token).
fn evidence_form(csrf: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("csrf_token", csrf.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10])
                .file_name("photo.jpg"),
        )
}

/// The fields a page's form sends besides its CSRF token, with values that pass, so that what
/// answers is the scope check.
fn page_form_for(path: &str) -> Vec<(&'static str, &'static str)> {
    let tail = path.rsplit('/').next().unwrap_or("");
    match (path.split('/').nth(1).unwrap_or(""), tail) {
        ("children", "edit") => vec![("version", "1"), ("remarks", "改")],
        ("elders", "edit") => vec![("version", "1"), ("name", "李秀英"), ("remarks", "改")],
        ("elders", "exit") => vec![("version", "1"), ("reason", "died"), ("date", "2026-11-20")],
        ("children", "exit") => vec![
            ("version", "1"),
            ("reason", "parents_returned"),
            ("date", "2026-11-20"),
        ],
        ("children", "transfer") => vec![("version", "1"), ("to_village", VILLAGE_A2)],
        ("discoveries", "close") => vec![("note", "查无此人")],
        ("import", "commit") => vec![("mode", "valid")],
        ("reconcile", "{id}") => vec![("action", "reject")],
        ("cases", "steps") => vec![("step", "order_parents_back"), ("outcome", "done")],
        ("cases", "police-records") => vec![("record", "case_accepted")],
        ("cases", "notify-town") => vec![("note", "已处置")],
        ("cases", "close-request" | "reopen") => vec![("reason", "监护已落实")],
        ("cases", "close-decision") => vec![("approve", "1")],
        ("referrals", "answer") => vec![("action", "accept")],
        ("cases", "interventions") => vec![
            ("measure", "criticism_education"),
            ("stage", "done"),
            ("note", "教育"),
        ],
        ("cases", "placements") => vec![
            ("reason", "guardian_refuses"),
            ("placement", "relatives"),
            ("carer", "姑姑"),
        ],
        ("cases", "end") => vec![("assessment", "返回家庭")],
        ("cases", "referrals") => vec![
            ("kind", "counselling"),
            ("agency_id", "any-agency"),
            ("note", "疏导"),
        ],
        ("cases", "assessments") => vec![
            ("safety", "some"),
            ("guardianship", "some"),
            ("physical_health", "none"),
            ("mental_health", "none"),
            ("findings", "已照料"),
            ("participants", "督导员"),
            ("child_view", "愿意"),
        ],
        ("children", "visits") => vec![
            ("method", "home"),
            ("visitor_role", "child_director"),
            ("visitor_name", "李芳"),
            ("seen", "child"),
            ("condition", "good"),
        ],
        ("children", "parent-contacts") => vec![
            ("parent", "mother"),
            ("contact_method", "phone"),
            ("reached", "yes"),
        ],
        ("quarterly", "action") => vec![("action", "approve")],
        ("returns", "action") => vec![("action", "returned")],
        ("routings", "action") => vec![("event", "progress"), ("note", "已核实")],
        ("children", "routings") => vec![("need", "hardship")],
        ("children", "visitor") => vec![
            ("visitor_assignee", "刘网格"),
            ("visitor_assignee_role", "grid_worker"),
        ],
        ("children", "carer-checks") => vec![("carer_name", "李秀英"), ("checked_how", "询问邻居")],
        ("children", "absences") => vec![("from", "2026-11-20")],
        ("children", "school") => vec![("agency_id", "any-agency")],
        _ => vec![],
    }
}

/// Every route of the router, read from the source of the web crate (each `.route("…", …)` and
/// the methods it takes), so that a new route is in the table without editing this test.
fn route_table() -> Vec<(String, Vec<Method>)> {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut sources = Vec::new();
    files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut sources,
    );
    let mut routes = Vec::new();
    for file in sources {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let trimmed = rest.trim_start();
            let Some(quoted) = trimmed.strip_prefix('"') else {
                continue;
            };
            let path = &quoted[..quoted.find('"').unwrap()];
            // The handlers: up to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let end = trimmed
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap();
            let handlers = &trimmed[..end];
            let methods: Vec<Method> = ["get", "post", "put", "patch", "delete"]
                .into_iter()
                .filter(|m| {
                    handlers.match_indices(&format!("{m}(")).any(|(i, _)| {
                        i == 0
                            || !handlers.as_bytes()[i - 1].is_ascii_alphanumeric()
                                && handlers.as_bytes()[i - 1] != b'_'
                    })
                })
                .map(|m| m.to_uppercase().parse().unwrap())
                .collect();
            assert!(
                !methods.is_empty(),
                "no method read for {path} in {}",
                file.display()
            );
            routes.push((path.to_owned(), methods));
        }
    }
    routes.sort_by(|a, b| a.0.cmp(&b.0));
    routes
}

/// The same sweep over the pages: every route with a record in its path (an id), page or API,
/// tried by the same four outsiders with their own valid CSRF token and a form that would pass
/// — 403 or 404 everywhere, never the record, never a change. The table is the router's source,
/// so a page added without a scope check fails here.
#[tokio::test]
async fn no_user_of_another_area_reaches_a_record_through_any_route_of_the_router() {
    let app = spawn_app_with_printer().await;
    app.with_standard_users().await;
    app.add_user("school_b", Role::School, TOWN_B, Some("龙山镇中心小学"))
        .await;
    app.add_user("agency_b", Role::Agency, TOWN_B, Some("龙山镇社工站"))
        .await;
    app.store
        .regions()
        .init_region(&RegionCode::parse("522731").unwrap())
        .await
        .unwrap();
    app.add_user("oversight_far", Role::Oversight, "522731", None)
        .await;
    // The county's own court: it reaches no child, only cases sent to it (none here).
    app.add_user("court", Role::Court, "522730", None).await;
    let records = app.town_a_records().await;
    let town_a_user = app
        .store
        .users()
        .actor_by_username("town_a")
        .await
        .unwrap()
        .unwrap()
        .user_id;
    // Town A's supervisor's own session and API token.
    let town_a = app.login("town_a").await;
    let r = town_a
        .post_json("/api/v1/tokens", &json!({"name": "脚本"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let token_id = town_a.get_json("/api/v1/tokens").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let session_id = town_a.get_json("/api/v1/sessions").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A referral of town A's case to a provider of town A (the outsiders' agency is another).
    app.add_user("police_a", Role::Police, TOWN_A, None).await;
    app.add_user("social_a", Role::Agency, TOWN_A, Some("冠山社工站"))
        .await;
    let police = app.login("police_a").await;
    let case_view: Value = police
        .post_json(
            &format!("/api/v1/reports/{}/receive", records.protection_report),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case_view["status"], "responding");
    police
        .post_json(
            &format!("/api/v1/cases/{}/notify-town", records.case),
            &json!({"note": "请评估"}),
        )
        .await;
    let social_id = town_a.get_json("/api/v1/providers").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "冠山社工站")
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .unwrap();
    let r = town_a
        .post_json(
            &format!("/api/v1/cases/{}/referrals", records.case),
            &json!({"kind": "counselling", "agency_id": social_id, "note": "疏导"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let referral_id = r.json::<Value>().await.unwrap()["referrals"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id_for = |path: &str| -> String {
        let p = path.trim_start_matches("/api/v1");
        if p.starts_with("/referrals/") {
            referral_id.clone()
        } else if p.starts_with("/sessions/") {
            session_id.clone()
        } else if p.starts_with("/tokens/") {
            token_id.clone()
        } else if p.starts_with("/children/") || p.starts_with("/archive/") {
            records.child.clone()
        } else if p.starts_with("/discoveries/") {
            records.report.clone()
        } else if p.starts_with("/import/") || p.starts_with("/imports/") {
            records.import.clone()
        } else if p.starts_with("/reconcile/runs/") || p.starts_with("/reconcile/jobs/") {
            records.run.clone()
        } else if p.starts_with("/reconcile/items/") {
            records.item.clone()
        } else if p.starts_with("/users/") {
            town_a_user.clone()
        } else if p.starts_with("/reports/") {
            records.protection_report.clone()
        } else if p.starts_with("/cases/") {
            records.case.clone()
        } else if p.starts_with("/quarterly-reports/") || p.starts_with("/quarterly/") {
            records.quarterly.clone()
        } else if p.starts_with("/return-tasks/") || p.starts_with("/returns/") {
            records.return_task.clone()
        } else if p.starts_with("/routings/") {
            records.routing.clone()
        } else if p.starts_with("/elders/") {
            records.elder.clone()
        } else {
            panic!("the sweep does not know whose record {path} names: add it here")
        }
    };

    let table = route_table();
    let with_ids: Vec<_> = table
        .iter()
        .filter(|(p, _)| p.contains('{') && !PUBLIC.contains(&p.as_str()))
        .collect();
    let pages = with_ids
        .iter()
        .filter(|(p, _)| !p.starts_with("/api/"))
        .count();
    assert!(
        pages >= 20,
        "only {pages} page routes with an id read from the source"
    );

    // The outsiders, each with the CSRF token of their own session (a form's token passes).
    let mut outsiders = Vec::new();
    for name in ["town_b", "school_b", "agency_b", "oversight_far", "court"] {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(browser_headers(&app.base))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let login: Value = client
            .post(format!("{}/api/v1/session", app.base))
            .json(&json!({"username": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let csrf = login["csrf_token"].as_str().unwrap().to_owned();
        outsiders.push((name, client, csrf));
    }
    let mut leaks = Vec::new();
    let mut swept = 0;
    for (path, methods) in &with_ids {
        let url = path
            .replace("{id}", &id_for(path))
            .replace("{agency_id}", "any-agency")
            .replace("{attachment_id}", "any-attachment")
            .replace("{agreement_id}", "any-agreement")
            .replace("{visit_id}", "any-visit")
            .replace("{photo_id}", "any-photo")
            .replace("{placement_id}", "any-placement");
        for method in methods {
            for (name, client, csrf) in &outsiders {
                let mut req = client.request(method.clone(), format!("{}{url}", app.base));
                if method != Method::GET {
                    let upload = path.ends_with("/attachments")
                        || path.ends_with("/signed-page")
                        || (!path.starts_with("/api/")
                            && (path.ends_with("/agreements") || path.ends_with("/photos")));
                    req = if upload {
                        req.multipart(evidence_form(csrf))
                    } else if path.starts_with("/api/") {
                        req.json(&body_for(method, path).unwrap_or_else(|| json!({})))
                    } else {
                        let mut form = vec![("csrf_token", csrf.as_str())];
                        form.extend(page_form_for(path));
                        req.form(&form)
                    };
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
                            .take(160)
                            .collect::<String>()
                    ));
                }
            }
        }
    }
    eprintln!(
        "{swept} requests over {} routes with an id ({pages} pages)",
        with_ids.len()
    );
    assert!(leaks.is_empty(), "{leaks:#?}");
    assert!(swept >= 5 * 40, "only {swept} requests swept");
    // Nothing changed: the child is as registered, the report still open.
    let village = app.login("village_a").await;
    let v = village
        .get_json(&format!("/api/v1/children/{}", records.child))
        .await;
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "on_roster");
    assert_eq!(
        town_a.get_json("/api/v1/discoveries").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Town A's session and token still work.
    assert_eq!(
        town_a.get_json("/api/v1/tokens").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
