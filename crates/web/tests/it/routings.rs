//! 部门转办 through the API: a child without hukou goes to the police station of its town until it
//! is registered (the date, the number, DNA when not the parents' own); a disabled child to the
//! county's 残联, which sees who to reach but not the file; each side does only its own steps;
//! a closed routing takes nothing more; another town's police and another department see nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use shouwang_domain::authz::Role;
use shouwang_testkit::store::users::NewUser;

use crate::helpers::*;

#[tokio::test]
async fn a_child_goes_to_the_police_until_registered_and_to_a_department_that_sees_only_its_own() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("police_a", Role::Police, TOWN_A, None).await;
    app.add_user("police_b", Role::Police, TOWN_B, None).await;
    app.add_user("cdpf", Role::Department, "522730", Some("龙里县残联"))
        .await;
    app.add_user(
        "health",
        Role::Department,
        "522730",
        Some("龙里县卫生健康局"),
    )
    .await;
    // A department must say which it is.
    let e = app
        .store
        .users()
        .add_user(NewUser {
            username: "bureau".into(),
            display_name: "某局".into(),
            password: PASSWORD.into(),
            role: Role::Department,
            region: shouwang_domain::region::RegionCode::parse("522730").unwrap(),
            agency: Some("龙里县某某局".into()),
        })
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("agency"), "{e:?}");

    let village = app.login("village_a").await;
    // A child whose birth was never registered (无户籍).
    let mut unregistered = boy(VILLAGE_A);
    unregistered.hukou_registered = Some("否".into());
    unregistered.id_number = None;
    let child = village.register(&unregistered).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let flags = |file: &Value| -> Vec<String> {
        file["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["flag"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = village.get_json(&format!("/api/v1/children/{child}")).await;
    assert!(flags(&before).contains(&"no_hukou".to_owned()), "{before}");
    let path = format!("/api/v1/children/{child}/routings");

    // Hukou goes to the police only; each bad field is named.
    let r = village
        .post_json(&path, &json!({"need": "no_hukou", "units": ["health"]}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("units"));
    let r = village
        .post_json(&path, &json!({"need": "lonely", "note": "x".repeat(501)}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("need") && body.contains("note"), "{body}");
    // A town-b user cannot send town a's child.
    let other = app.login("town_b").await;
    let r = other.post_json(&path, &json!({"need": "no_hukou"})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = village
        .post_json(
            &path,
            &json!({"need": "无户籍", "note": "出生后未登记户口"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let sent: Value = r.json().await.unwrap();
    let hukou = sent["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sent["items"][0]["unit"], "police");
    assert_eq!(sent["items"][0]["status"], "sent");
    // Sent again (a double tap): the open one, nothing new.
    let again: Value = village
        .post_json(&path, &json!({"need": "no_hukou"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["items"][0]["id"], hukou.as_str());
    assert_eq!(told(&app, "police_a", "routing_sent").await, 1);

    // The town's police see it with whom to reach; the other town's and the departments do not.
    let police = app.login("police_a").await;
    // The home page lists what waits in the inbox, as a line of work to the routing.
    let home = police.get("/").await.text().await.unwrap();
    assert!(home.contains("受理转办：王小明（无户籍）"), "{home}");
    assert!(
        home.contains(&format!("href=\"/routings/{hukou}\"")),
        "{home}"
    );
    let inbox = police.get_json("/api/v1/routings").await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "{inbox}");
    assert_eq!(inbox["items"][0]["child_name"], "王小明");
    for u in ["police_b", "cdpf"] {
        let u = app.login(u).await;
        assert!(
            u.get_json("/api/v1/routings").await["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            u.get(&format!("/api/v1/routings/{hukou}")).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    // The sender cannot accept; the police cannot withdraw.
    let ev = format!("/api/v1/routings/{hukou}/events");
    let r = village.post_json(&ev, &json!({"event": "accept"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = police
        .post_json(&ev, &json!({"event": "withdraw", "note": "不归我管"}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = police.post_json(&ev, &json!({"event": "accept"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "accepted");
    // Registered: the date and number required; DNA when not the parents' own child.
    let r = police.post_json(&ev, &json!({"event": "finish"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("registered_on") && body.contains("hukou_number"),
        "{body}"
    );
    let done = json!({"event": "finish", "registered_on": "2026-11-20",
        "hukou_number": "522730201711230012", "not_biological": true});
    let r = police.post_json(&ev, &done).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("dna_collected"));
    let mut done = done;
    done["dna_collected"] = json!(true);
    let r = police.post_json(&ev, &done).await;
    assert_eq!(r.status(), StatusCode::OK);
    let closed: Value = r.json().await.unwrap();
    assert_eq!(closed["status"], "done");
    assert_eq!(closed["registered_on"], "2026-11-20");
    assert_eq!(closed["dna_collected"], true);
    // The file says the child is registered now, by an edit in its history; the flag is gone
    // (龙里 003 五(四)).
    let after = village.get_json(&format!("/api/v1/children/{child}")).await;
    assert_eq!(after["file"]["hukou_registered"], true, "{after}");
    assert!(!flags(&after).contains(&"no_hukou".to_owned()), "{after}");
    let history = village
        .get_json(&format!("/api/v1/children/{child}/history"))
        .await;
    assert!(history.to_string().contains("police_a"), "{history}");
    assert!(told(&app, "town_a", "routing_event").await >= 2);
    // Closed: nothing more, from either side.
    let r = village
        .post_json(&ev, &json!({"event": "withdraw", "note": "误报"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The sender's list shows it once closed only when asked for everything.
    assert!(
        village.get_json("/api/v1/routings").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let everything = village.get_json("/api/v1/routings?all=true").await;
    assert_eq!(everything["items"][0]["status"], "done");

    // A disabled child to the county's 残联 (and 卫健): each department sees its own only, never
    // the file.
    let r = village
        .post_json(
            &path,
            &json!({"need": "disability", "units": ["disability", "health"],
            "note": "肢体残疾二级，需康复救助"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let cdpf = app.login("cdpf").await;
    let mine = cdpf.get_json("/api/v1/routings").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["items"][0]["unit"], "disability");
    let id = mine["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        cdpf.get(&format!("/api/v1/children/{child}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let health = app.login("health").await;
    let theirs = health.get_json("/api/v1/routings").await;
    assert_eq!(theirs["items"][0]["unit"], "health");
    assert_ne!(theirs["items"][0]["id"], id.as_str());
    let ev = format!("/api/v1/routings/{id}/events");
    let r = cdpf.post_json(&ev, &json!({"event": "finish"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("note"));
    let r = cdpf
        .post_json(
            &ev,
            &json!({"event": "finish", "note": "已纳入残疾儿童康复救助，每月康复训练"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The child's own list shows all three.
    let list = village.get_json(&path).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "{list}");
    // Finished, the routing is out of the department's reach (issue 24: a department read what
    // it had been routed for ever).
    assert!(
        cdpf.get_json("/api/v1/routings").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        cdpf.get(&format!("/api/v1/routings/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // A village or town cannot link the child to a department to open the file to it (issue
    // 24: the link to 县残联 gave it the whole file, visit notes, photos, contacts)…
    let agency = app
        .store
        .users()
        .actor_by_username("cdpf")
        .await
        .unwrap()
        .unwrap()
        .agency_id
        .unwrap();
    for who in [&village, &app.login("town_a").await] {
        let r = who
            .client
            .put(format!(
                "{}/api/v1/children/{child}/agencies/{agency}",
                who.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    // …and a link written straight into the database opens nothing either.
    sqlx::query("INSERT INTO child_agencies (child_id, agency_id) VALUES ($1, $2)")
        .bind(&child)
        .bind(&agency)
        .execute(&app.raw_db().await)
        .await
        .unwrap();
    for path in [
        format!("/api/v1/children/{child}"),
        format!("/api/v1/children/{child}/visits"),
        format!("/api/v1/children/{child}/routings"),
    ] {
        let status = cdpf.get(&path).await.status();
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
            "{path}: {status}"
        );
    }
    let r = cdpf.get("/api/v1/children").await;
    if r.status() == StatusCode::OK {
        assert_eq!(r.json::<Value>().await.unwrap()["total"], 0);
    }
}

/// Two sends at once for the same need and unit store one routing (a unique index).
#[tokio::test]
async fn a_burst_of_sends_stores_one_routing() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let child = village.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/children/{child}/routings");
    let sends: Vec<_> = (0..6)
        .map(|_| {
            let (v, p) = (village.clone(), path.clone());
            tokio::spawn(
                async move { v.post_json(&p, &json!({"need": "hardship"})).await.status() },
            )
        })
        .collect();
    for s in sends {
        let status = s.await.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status}"
        );
    }
    let list = village.get_json(&path).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}

/// A 15-year-old whose 劝返 fails goes to the county education bureau for free secondary
/// vocational education, which records the outcome; a 10-year-old cannot be sent there.
#[tokio::test]
async fn a_failed_return_at_fifteen_goes_to_the_education_bureau_for_vocational_school() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("school_a", Role::School, TOWN_A, Some("冠山中学"))
        .await;
    app.add_user("edu", Role::Education, "522730", None).await;
    let village = app.login("village_a").await;
    let young = village.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = village
        .post_json(
            &format!("/api/v1/children/{young}/routings"),
            &json!({"need": "vocational"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("14至16周岁"));

    let teen = village
        .register(&boy_named(VILLAGE_A, "李大壮", ymd(2011, 3, 2), 31))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.link_to_agency_of(&teen, "school_a").await;
    let school = app.login("school_a").await;
    let r: Value = school
        .post_json(
            &format!("/api/v1/children/{teen}/absences"),
            &json!({"from": "2026-11-16", "to": "2026-11-24"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let task = r["task"]["id"].as_str().unwrap().to_owned();
    school
        .post_json(
            &format!("/api/v1/return-tasks/{task}/steps"),
            &json!({"step": "contact_parents", "note": "父亲不同意返校"}),
        )
        .await;
    let r = school
        .post_json(
            &format!("/api/v1/return-tasks/{task}/finish"),
            &json!({"outcome": "failed", "note": "", "marked_on": "2026-11-24"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let edu = app.login("edu").await;
    let inbox = edu.get_json("/api/v1/routings").await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "{inbox}");
    assert_eq!(inbox["items"][0]["need"], "vocational");
    assert_eq!(inbox["items"][0]["child_id"], teen.as_str());
    assert_eq!(inbox["items"][0]["source"], format!("return:{task}"));
    let id = inbox["items"][0]["id"].as_str().unwrap();
    let r = edu
        .post_json(
            &format!("/api/v1/routings/{id}/events"),
            &json!({"event": "finish", "note": "已入读县中等职业学校，免学费"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mine = village
        .get_json(&format!("/api/v1/children/{teen}/routings"))
        .await;
    assert_eq!(mine["items"][0]["status"], "done");
}

/// A child who must change school (in temporary care, or harmed) is routed to the county's
/// education bureau, which sees it (内蒙古 001 四(二): 教育部门应给予保障; 龙里 003 五(一)2).
#[tokio::test]
async fn a_child_who_must_change_school_is_routed_to_the_education_bureau() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("edu", Role::Education, "522730", None).await;
    let village = app.login("village_a").await;
    let child = village.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let town = app.login("town_a").await;
    let r = town
        .post_json(
            &format!("/api/v1/children/{child}/routings"),
            &json!({"need": "school_transfer", "note": "临时监护期间需转入县城小学"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let sent: Value = r.json().await.unwrap();
    assert_eq!(sent["items"][0]["unit"], "education");
    let edu = app.login("edu").await;
    let inbox = edu.get_json("/api/v1/routings").await;
    assert_eq!(inbox["items"][0]["need"], "school_transfer", "{inbox}");
}
