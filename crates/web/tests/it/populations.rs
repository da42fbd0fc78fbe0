//! The populations of the registry besides 农村留守儿童 (issue 27): 困境儿童 and 事实无人抚养儿童,
//! listed by `population`, carried on the child's view with their reasons, scoped like every list.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shouwang_domain::input::ChildInput;

use crate::helpers::*;

/// Not left behind: the father cares at home; the family lives on 低保.
fn poor_at_home() -> ChildInput {
    let mut i = boy_named(VILLAGE_A, "王困境", ymd(2015, 3, 2), 51);
    i.father_situation = Some("在家".into());
    i.father_work_place = None;
    i.mother_situation = Some("在家".into());
    i.mother_work_place = None;
    i.entrusted = None;
    i.guardian_name = None;
    i.guardian_phone = None;
    i.guardian_relation = None;
    i.guardian_address = None;
    i.assistance = Some(vec!["dibao".into()]);
    i
}

/// 事实无人抚养: the father in prison, the mother dead; the grandmother cares for him.
fn father_in_prison(name: &str, seq: u16, mother: Option<&str>) -> ChildInput {
    let mut i = boy_named(VILLAGE_A, name, ymd(2014, 5, 6), seq);
    i.father_situation = Some("服刑在押".into());
    i.father_work_place = None;
    i.mother_work_place = None;
    match mother {
        Some("deceased") => {
            i.mother_status = Some("已故".into());
            i.mother_situation = None;
        }
        other => i.mother_situation = other.map(Into::into),
    }
    i
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn each_population_is_its_own_list_and_the_left_behind_roster_stays() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let id = |b: Value| b["id"].as_str().unwrap().to_owned();
    let left_behind = id(v.register(&boy(VILLAGE_A)).await);
    let poor = id(v.register(&poor_at_home()).await);
    let de_facto = id(v
        .register(&father_in_prison("李无养", 55, Some("deceased")))
        .await);
    let undecided = id(v.register(&father_in_prison("赵待定", 57, None)).await);

    // The default list is the left-behind roster, as before.
    assert_eq!(
        ids(&v.get_json("/api/v1/children").await),
        [left_behind.as_str()]
    );
    let listed = v
        .get_json("/api/v1/children?population=in_difficulty")
        .await;
    assert_eq!(ids(&listed), [poor.as_str()]);
    assert_eq!(listed["items"][0]["populations"], json!(["困境儿童"]));
    assert_eq!(
        ids(&v
            .get_json("/api/v1/children?population=de_facto_unsupported")
            .await),
        [de_facto.as_str()]
    );
    assert_eq!(
        ids(&v
            .get_json("/api/v1/children?population=de_facto_unsupported&status=incomplete")
            .await),
        [undecided.as_str()]
    );
    assert_eq!(
        ids(&v.get_json("/api/v1/children?population=left_behind").await),
        [left_behind.as_str()]
    );

    // The view says which populations and why; a population the facts do not establish is absent.
    let got = v.get_json(&format!("/api/v1/children/{poor}")).await;
    assert_eq!(
        got["populations"],
        json!([{"code": "in_difficulty", "reasons": ["家庭贫困：享受最低生活保障"]}])
    );
    assert_eq!(got["status"], "not_eligible");
    let got = v.get_json(&format!("/api/v1/children/{de_facto}")).await;
    assert_eq!(got["populations"][0]["code"], "de_facto_unsupported");
    assert_eq!(
        got["populations"][0]["reasons"],
        json!(["父亲服刑在押", "母亲已故"])
    );
    // 龙里 003 五(五)2: named for 特困供养, to verify (the form keeps no 生活来源 as such).
    assert_eq!(
        got["safety_net"][0]["benefit"], "extreme_poverty_support",
        "{got}"
    );
    assert_eq!(got["safety_net"][0]["to_verify"], true);
    let poor_view = v.get_json(&format!("/api/v1/children/{poor}")).await;
    assert_eq!(poor_view["safety_net"][0]["benefit"], "insurance_subsidy");
    let got = v.get_json(&format!("/api/v1/children/{undecided}")).await;
    assert_eq!(got["populations"], json!([]));
    assert_eq!(got["de_facto_missing"], json!(["母亲目前情况"]));
    // The village is asked to find it out, on its home.
    let work = v.get_json("/api/v1/work").await;
    assert!(
        work["items"].as_array().unwrap().iter().any(|i| i["href"]
            == "/children?population=de_facto_unsupported&status=incomplete"
            && i["title"]
                .as_str()
                .unwrap()
                .starts_with("1 名儿童的父母情况不详")),
        "{work}"
    );
    let got = v.get_json(&format!("/api/v1/children/{left_behind}")).await;
    assert_eq!(got["populations"][0]["code"], "left_behind");
    assert_eq!(got["populations"].as_array().unwrap().len(), 1);

    // The village visits them all: the de-facto-unsupported child monthly, like a child without
    // guardianship; the undecided one is not on the schedule until the facts are known.
    let s = v.get_json("/api/v1/visits/schedule").await;
    let cadence = |id: &str| {
        s["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["child_id"] == id)
            .map(|i| i["cadence"].as_str().unwrap().to_owned())
    };
    assert_eq!(cadence(&left_behind).as_deref(), Some("quarterly"), "{s}");
    assert_eq!(cadence(&poor).as_deref(), Some("quarterly"));
    assert_eq!(cadence(&de_facto).as_deref(), Some("monthly"));
    assert_eq!(cadence(&undecided), None);

    // A harm stated on the file (an edit) makes the left-behind boy a 困境儿童 as well.
    let r = v
        .patch_json(
            &format!("/api/v1/children/{left_behind}"),
            &json!({"version": 1, "harm": ["遭受虐待"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let got = v.get_json(&format!("/api/v1/children/{left_behind}")).await;
    let codes: Vec<&str> = got["populations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["left_behind", "in_difficulty"]);
    assert_eq!(
        v.get_json("/api/v1/children?population=in_difficulty")
            .await["total"],
        2
    );

    // Scoped like every list: the county sees them, another town does not.
    let county = app.login("county").await;
    assert_eq!(
        county
            .get_json("/api/v1/children?population=in_difficulty")
            .await["total"],
        2
    );
    assert_eq!(
        county
            .get_json("/api/v1/children?population=de_facto_unsupported&region=522730001")
            .await["total"],
        1
    );
    let other = app.login("town_b").await;
    for p in ["in_difficulty", "de_facto_unsupported"] {
        assert_eq!(
            other
                .get_json(&format!("/api/v1/children?population={p}"))
                .await["total"],
            0
        );
    }

    // The list page says which population it lists, and tags each child's.
    let page = v
        .get("/children?population=in_difficulty")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("困境儿童：共 <b>2</b> 人"), "{page}");
    assert!(page.contains("王困境"));
    let file = v
        .get(&format!("/children/{de_facto}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        file.contains("所属人群") && file.contains("父亲服刑在押"),
        "{file}"
    );
}

#[tokio::test]
async fn a_population_the_list_does_not_know_or_a_status_it_has_not_is_refused_by_name() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    for (query, field) in [
        ("population=orphans", "population"),
        ("population=in_difficulty&status=not_eligible", "status"),
        ("population=in_difficulty&status=incomplete", "status"),
        (
            "population=de_facto_unsupported&status=not_eligible",
            "status",
        ),
    ] {
        let r = v.get(&format!("/api/v1/children?{query}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    // The page says it in Chinese.
    let page = v
        .get("/children?population=orphans")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("不是可选值"), "{page}");
}

/// 龙里 003 五(一)1: the lists of 事实无人监护 children and of 留守老人 go to 县公安局、县卫计局、县妇联
/// and the towns. The county's 卫计 and 妇联 receive those two lists — not the roster, not a file;
/// another department (残联) receives neither.
#[tokio::test]
async fn the_county_health_bureau_and_womens_federation_receive_the_two_lists_only() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user(
        "health",
        shouwang_domain::authz::Role::Department,
        "522730",
        Some("龙里县卫生健康局"),
    )
    .await;
    app.add_user(
        "fulian",
        shouwang_domain::authz::Role::Agency,
        "522730",
        Some("龙里县妇联"),
    )
    .await;
    app.add_user(
        "cdpf",
        shouwang_domain::authz::Role::Department,
        "522730",
        Some("龙里县残联"),
    )
    .await;
    let v = app.login("village_a").await;
    let id = |b: Value| b["id"].as_str().unwrap().to_owned();
    let de_facto = id(v
        .register(&father_in_prison("李无养", 55, Some("deceased")))
        .await);
    v.register(&boy(VILLAGE_A)).await;
    let elder = v
        .post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for name in ["health", "fulian"] {
        let u = app.login(name).await;
        let list = u
            .get_json("/api/v1/children?population=de_facto_unsupported")
            .await;
        assert_eq!(ids(&list), [de_facto.as_str()], "{name}");
        // Not the roster, not the file.
        assert_eq!(u.get_json("/api/v1/children").await["total"], 0, "{name}");
        assert_eq!(
            u.get(&format!("/api/v1/children/{de_facto}"))
                .await
                .status(),
            StatusCode::NOT_FOUND,
            "{name}"
        );
        // The elders' register, and a record of it (卫计's health checks, 五(一)4).
        assert_eq!(u.get_json("/api/v1/elders").await["total"], 1, "{name}");
        assert_eq!(
            u.get(&format!("/api/v1/elders/{elder}")).await.status(),
            StatusCode::OK
        );
        // They read; they do not register.
        assert_eq!(
            u.post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        let page = u
            .get("/children?population=de_facto_unsupported")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("李无养"), "{page}");
        assert!(!page.contains(&format!("href=\"/children/{de_facto}\"")));
    }
    let cdpf = app.login("cdpf").await;
    assert_eq!(
        cdpf.get_json("/api/v1/children?population=de_facto_unsupported")
            .await["total"],
        0
    );
    assert_eq!(
        cdpf.get("/api/v1/elders").await.status(),
        StatusCode::FORBIDDEN
    );
}
