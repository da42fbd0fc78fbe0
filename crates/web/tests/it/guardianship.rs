//! 委托监护 as tracked documents: an agreement is recorded only after a check that did not find the
//! carer unfit; its scan is read from its bytes, kept sealed and shown to those who see the file;
//! a newer one replaces it; the area's list asks to renew a month before it ends and to re-assess
//! the carer when due.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1,
];

fn fit_check() -> Value {
    json!({"carer_name": "李秀英", "disqualifications": [], "checked_how": "询问本人和邻居",
        "ratings": {"health": "good", "time": "good", "means": "good", "schooling": "good", "safety": "good"}})
}

#[tokio::test]
async fn an_agreement_follows_a_fit_check_keeps_its_scan_and_is_asked_to_renew_before_it_lapses() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let child = village.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/children/{child}/agreements");
    let signed =
        json!({"carer_name": "李秀英", "signed_on": "2025-12-10", "school_notified": true});

    // No assessment yet: refused, naming the carer.
    let r = village.post_json(&path, &signed).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("carer_name"));
    let r = village
        .post_json(
            &format!("/api/v1/children/{child}/carer-checks"),
            &fit_check(),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let r = village.post_json(&path, &signed).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let list: Value = r.json().await.unwrap();
    // Signed 10 December 2025 for the default year: ends 9 December 2026, within a month.
    assert_eq!(list["items"][0]["ends_on"], "2026-12-09");
    assert_eq!(list["items"][0]["state"], "expiring");
    assert_eq!(list["items"][0]["school_notified"], true);
    let due = village.get_json("/api/v1/guardianship/due").await;
    assert_eq!(due["renew"][0]["child_id"], child.as_str(), "{due}");
    assert_eq!(due["renew"][0]["overdue"], false);
    // The fit carer is re-assessed in a year: not due yet.
    assert!(due["reassess"].as_array().unwrap().is_empty(), "{due}");
    // Another town sees none of it.
    let other = app.login("town_b").await;
    assert_eq!(other.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert!(
        other.get_json("/api/v1/guardianship/due").await["renew"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Renewed on the page with the photo of the signed paper; a file that is not a photo or a PDF
    // is refused by its bytes, whatever its name says.
    let page = village
        .get(&format!("/children/{child}/guardianship"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("委托监护协议") && page.contains("即将到期"),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let send = |bytes: Vec<u8>, name: &str| {
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", csrf.clone())
            .text("carer_name", "李秀英")
            .text("signed_on", "2026-11-20")
            .text("village_notified", "1")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        village
            .client
            .post(format!("{}/children/{child}/agreements", village.base))
            .multipart(form)
            .send()
    };
    let r = send(b"MZ\x90\x00not a photo".to_vec(), "签字页.jpg")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("只能上传照片"));
    let r = send(JPEG.to_vec(), "IMG_0001.jpg").await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let list = village.get_json(&path).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(items[0]["state"], "in_force");
    assert_eq!(items[0]["ends_on"], "2027-11-19");
    assert_eq!(items[0]["scan_kind"], "image/jpeg");
    assert_eq!(items[1]["state"], "replaced");
    assert!(
        village.get_json("/api/v1/guardianship/due").await["renew"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let scan = format!("{path}/{}/scan", items[0]["id"].as_str().unwrap());
    let r = village.get(&scan).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().as_ref(), JPEG);
    assert_eq!(other.get(&scan).await.status(), StatusCode::NOT_FOUND);

    // A year on: the carer is due a re-assessment and the agreement a renewal.
    app.clock.set(ymd(2027, 11, 10));
    let village = app.login("village_a").await;
    let due = village.get_json("/api/v1/guardianship/due").await;
    assert_eq!(due["reassess"][0]["due_on"], "2027-11-24", "{due}");
    assert_eq!(due["renew"][0]["due_on"], "2027-11-19", "{due}");
    let page = village.get("/guardianship").await.text().await.unwrap();
    assert!(
        page.contains("待复评（1）") && page.contains("待续签（1）"),
        "{page}"
    );
    app.clock.set(ymd(2027, 11, 25));
    let village = app.login("village_a").await;
    let due = village.get_json("/api/v1/guardianship/due").await;
    assert_eq!(due["renew"][0]["overdue"], true);
}
