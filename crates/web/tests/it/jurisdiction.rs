//! A user reads and writes only inside their jurisdiction; outside it, records do not exist.

use reqwest::StatusCode;
use serde_json::{Value, json};

use shouwang_domain::authz::Role;

use crate::helpers::*;

#[tokio::test]
async fn a_user_of_one_town_cannot_read_search_or_edit_another_towns_child() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let a = app.login("town_a").await;
    let input = boy(VILLAGE_A);
    let id = a.register(&input).await["id"].as_str().unwrap().to_owned();
    let b = app.login("town_b").await;
    let r = b.get(&format!("/api/v1/children/{id}")).await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "out of scope reads are 404, not 403"
    );
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "not_found");
    for q in [
        "王小明",
        "wangxiaoming",
        input.id_number.as_deref().unwrap(),
    ] {
        let list = b
            .get_json(&format!(
                "/api/v1/children?q={}",
                crate::api_children::urlencode(q)
            ))
            .await;
        assert_eq!(list["total"], 0, "search {q}");
    }
    assert_eq!(
        b.get_json(&format!("/api/v1/children?region={TOWN_A}"))
            .await["total"],
        0
    );
    assert_eq!(b.get_json("/api/v1/children?status=all").await["total"], 0);
    assert_eq!(
        b.get(&format!("/api/v1/children/{id}/history"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let r = b
        .patch_json(
            &format!("/api/v1/children/{id}"),
            &json!({"version": 1, "school_name": "别处"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = b
        .post_json(
            &format!("/api/v1/children/{id}/exit"),
            &json!({"version": 1, "reason": "other", "date": "2026-11-01"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The town's own supervisor and the county see the child.
    assert_eq!(
        a.get(&format!("/api/v1/children/{id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login("county").await.get_json("/api/v1/children").await["total"],
        1
    );
}

#[tokio::test]
async fn a_village_director_cannot_register_into_another_village() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let r = v
        .post_json(
            "/api/v1/children",
            &serde_json::to_value(boy(VILLAGE_A2)).unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "village_code");
    assert_eq!(app.count_children().await, 0);
    // A child of the neighbouring village is invisible to this village's director.
    let t = app.login("town_a").await;
    let id = t.register(&boy(VILLAGE_A2)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        v.get(&format!("/api/v1/children/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.login("village_a2")
            .await
            .get(&format!("/api/v1/children/{id}"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_school_sees_only_the_children_linked_to_it_and_cannot_edit() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("school_a", Role::School, TOWN_A, Some("冠山街道中心小学"))
        .await;
    let t = app.login("town_a").await;
    let linked = t
        .register(&boy_named(VILLAGE_A, "陈一", ymd(2015, 2, 2), 31))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = t
        .register(&boy_named(VILLAGE_A, "陈二", ymd(2015, 3, 3), 33))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.link_to_agency_of(&linked, "school_a").await;
    let s = app.login("school_a").await;
    let list = s.get_json("/api/v1/children").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["name"], "陈一");
    assert_eq!(
        s.get(&format!("/api/v1/children/{other}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get(&format!("/api/v1/children/{linked}")).await.status(),
        StatusCode::OK
    );
    let r = s
        .patch_json(
            &format!("/api/v1/children/{linked}"),
            &json!({"version": 1, "school_name": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .post_json(
            "/api/v1/children",
            &serde_json::to_value(boy(VILLAGE_A)).unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// A school sees a child because the child is its pupil in its area: when the child moves to
/// another town, or leaves the roster, the school's access ends with it — and a link left over
/// (made before this rule) still shows nothing outside the school's area.
#[tokio::test]
async fn a_schools_access_ends_when_the_child_moves_away_or_exits() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("school_a", Role::School, TOWN_A, Some("冠山街道中心小学"))
        .await;
    let town = app
        .store
        .users()
        .actor_by_username("town_a")
        .await
        .unwrap()
        .unwrap();
    let county = app
        .store
        .users()
        .actor_by_username("county")
        .await
        .unwrap()
        .unwrap();
    let school = app
        .store
        .users()
        .actor_by_username("school_a")
        .await
        .unwrap()
        .unwrap();
    let agency = school.agency_id.clone().unwrap();
    let t = app.login("town_a").await;
    let mut ids = Vec::new();
    for (name, seq) in [("陈一", 31), ("陈二", 33)] {
        let id = t
            .register(&boy_named(VILLAGE_A, name, ymd(2015, 2, 2), seq))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        shouwang_app::children::link_agency(
            &app.use_cases,
            &town,
            &shouwang_domain::ids::ChildId::from(id.as_str()),
            &agency,
        )
        .await
        .unwrap();
        ids.push(id);
    }
    let s = app.login("school_a").await;
    assert_eq!(s.get_json("/api/v1/children").await["total"], 2);

    // The first moves to 龙山镇.
    let moved = shouwang_app::children::transfer(
        &app.use_cases,
        &county,
        &shouwang_domain::ids::ChildId::from(ids[0].as_str()),
        1,
        "522730100211",
    )
    .await
    .unwrap();
    assert_eq!(moved.version, 2);
    assert_eq!(
        s.get(&format!("/api/v1/children/{}", ids[0]))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The second leaves the roster.
    shouwang_app::children::exit(
        &app.use_cases,
        &town,
        &shouwang_domain::ids::ChildId::from(ids[1].as_str()),
        1,
        shouwang_domain::lifecycle::ExitReason::ParentsReturned,
        ymd(2026, 11, 20),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        s.get(&format!("/api/v1/children/{}", ids[1]))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.get_json("/api/v1/children?status=all").await["total"], 0);

    // A link that outlived its reason (written before links ended with a move) shows nothing
    // outside the school's area either.
    let pool = app.raw_db().await;
    sqlx::query("INSERT INTO child_agencies (child_id, agency_id) VALUES ($1, $2)")
        .bind(&ids[0])
        .bind(&agency)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(
        s.get(&format!("/api/v1/children/{}", ids[0]))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.get_json("/api/v1/children?status=all").await["total"], 0);
}
