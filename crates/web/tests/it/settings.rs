//! A county's own settings: read by its users, changed by its administrator only (each wrong field
//! named, nothing half-saved), and acted on — the visiting schedule, the report deadlines on the
//! ranking, the parents' contact lapse and an agreement's default term follow them; another
//! county keeps its own.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_countys_settings_change_its_schedule_deadlines_lapses_and_terms() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let admin = app.login("admin").await;
    let child = village.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Defaults: quarterly visits (due at the quarter's end), towns report 10 days after it.
    let s = village.get_json("/api/v1/settings").await;
    assert_eq!(s["county"], "522730");
    assert_eq!(s["settings"]["visits"]["other"], "quarterly");
    let due = village
        .get_json(&format!("/api/v1/visits/due?region={TOWN_A}"))
        .await;
    assert_eq!(due["items"][0]["due_on"], "2026-12-31", "{due}");
    let county = app.login("county").await;
    let ranking = county
        .get_json("/api/v1/quarterly-ranking?quarter=2026Q4")
        .await;
    let town = |r: &Value| {
        r["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["region"] == TOWN_A)
            .unwrap()["due"]
            .clone()
    };
    assert_eq!(town(&ranking), "2027-01-10");

    // Only the administrator changes them; each wrong field is named and nothing is kept.
    let r = village
        .client
        .put(format!("{}/api/v1/settings", village.base))
        .json(&json!({"visit_other": "monthly"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let put = |body: Value| {
        admin
            .client
            .put(format!("{}/api/v1/settings", admin.base))
            .json(&body)
            .send()
    };
    let r = put(json!({"visit_other": "yearly", "town_report_days": 0, "contact_lapse_days": 7}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("visit_other") && body.contains("town_report_days"),
        "{body}"
    );
    assert_eq!(
        village.get_json("/api/v1/settings").await["settings"]["contact_lapse_days"],
        30
    );
    let r = put(
        json!({"visit_other": "monthly", "town_report_days": 5, "county_report_days": 12,
        "contact_lapse_days": 7, "agreement_term_months": 6}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // The schedule: monthly now, due at the month's end.
    let due = village
        .get_json(&format!("/api/v1/visits/due?region={TOWN_A}"))
        .await;
    assert_eq!(due["items"][0]["due_on"], "2026-11-30", "{due}");
    // The ranking: the towns' deadline five days after the quarter.
    let ranking = county
        .get_json("/api/v1/quarterly-ranking?quarter=2026Q4")
        .await;
    assert_eq!(town(&ranking), "2027-01-05");
    // The parents' silence: a week is a lapse now.
    let r = village
        .post_json(
            &format!("/api/v1/children/{child}/parent-contacts"),
            &json!({"parent": "both", "method": "phone", "reached": false, "note": "电话停机",
                "contacted_on": "2026-11-10"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let lapsed = village.get_json("/api/v1/parent-contacts/lapsed").await;
    assert_eq!(lapsed["items"][0]["child_id"], child.as_str(), "{lapsed}");
    // An agreement without an end: the county's six months.
    let fit = json!({"carer_name": "李秀英", "disqualifications": [], "checked_how": "询问邻居",
        "ratings": {"health": "good", "time": "good", "means": "good", "schooling": "good", "safety": "good"}});
    village
        .post_json(&format!("/api/v1/children/{child}/carer-checks"), &fit)
        .await;
    let a: Value = village
        .post_json(
            &format!("/api/v1/children/{child}/agreements"),
            &json!({"carer_name": "李秀英", "signed_on": "2026-11-20"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["items"][0]["ends_on"], "2027-05-19", "{a}");

    // The page shows them; only the administrator gets a form that saves.
    let page = village.get("/settings").await.text().await.unwrap();
    assert!(
        page.contains("本县设置") && page.contains("disabled"),
        "{page}"
    );
    let page = admin.get("/settings").await.text().await.unwrap();
    assert!(page.contains("保存设置"));
    let csrf = csrf_of(&page);
    let r = admin
        .client
        .post(format!("{}/settings", admin.base))
        .form(&[("csrf_token", csrf.as_str()), ("town_report_days", "三十")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("请填写整数"));
}
