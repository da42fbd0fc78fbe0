//! 三方比对 through the API: the county compares its roster with a student list and a household
//! list; findings are scoped, assigned, decided once, audited, and their effects land (ID number
//! corrected in the file, discovery report in the town's queue, follow-on items on rejection).

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};

use shouwang_domain::authz::Role;
use shouwang_domain::region::{Divisions, RegionCode};
use shouwang_domain::sample::id_number_for;

use crate::helpers::*;

/// County, town, village names of a village code.
fn place(village: &str) -> [String; 3] {
    let l = Divisions::shipped()
        .lineage(&RegionCode::parse(village).unwrap())
        .unwrap();
    let n = l.len();
    [
        l[n - 3].name.to_owned(),
        l[n - 2].name.to_owned(),
        l[n - 1].name.to_owned(),
    ]
}

const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN: [&str; 12] = [
    "子涵", "浩然", "雨桐", "梓轩", "欣怡", "宇航", "诗琪", "俊杰", "佳怡", "明轩", "思远", "嘉怡",
];

struct Kid {
    id: String,
    name: String,
    birth: NaiveDate,
    id_number: Option<String>,
    village: &'static str,
}

/// Registers `n` school-age children over three villages of two towns.
async fn roster(app: &TestApp, n: usize) -> Vec<Kid> {
    let county = app.login("county").await;
    let villages = [VILLAGE_A, VILLAGE_A2, "522730100004"];
    let mut out = Vec::new();
    for i in 0..n {
        let name = format!("{}{}", SURNAMES[i % 10], GIVEN[(i / 10) % 12]);
        let birth = ymd(
            2012 + (i % 6) as i32,
            1 + (i % 12) as u32,
            1 + (i % 27) as u32,
        );
        let village = villages[i % 3];
        let mut input = boy_named(village, &name, birth, 101 + 2 * i as u16);
        if i == 1 {
            input.id_number = None;
        }
        let id_number = input.id_number.clone();
        let body = county.register(&input).await;
        out.push(Kid {
            id: body["id"].as_str().unwrap().to_owned(),
            name,
            birth,
            id_number,
            village,
        });
    }
    out
}

fn csv_row(cells: &[&str]) -> String {
    cells.join(",") + "\n"
}

async fn upload(u: &User, kind: &str, csv: &str) -> reqwest::Response {
    u.client
        .post(format!(
            "{}/api/v1/reconcile/runs?kind={kind}&filename=list.csv",
            u.base
        ))
        .body(csv.to_owned())
        .send()
        .await
        .unwrap()
}

async fn items(u: &User, query: &str) -> Vec<Value> {
    u.get_json(&format!("/api/v1/reconcile/items?limit=500&{query}"))
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn decide(u: &User, item: &str, body: Value) -> reqwest::Response {
    u.post_json(&format!("/api/v1/reconcile/items/{item}/decision"), &body)
        .await
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["kind"] == kind).collect()
}

#[tokio::test]
async fn the_student_list_finds_dropouts_id_numbers_and_undiscovered_children() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let kids = roster(&app, 60).await;
    let county = app.login("county").await;

    // The school's list also holds a parent's ID number in a column of its own.
    let parent_id = id_number_for("522730", ymd(1985, 4, 2), 777);
    let mut csv = csv_row(&[
        "学籍号",
        "姓名",
        "性别",
        "出生日期",
        "身份证号",
        "县",
        "乡镇",
        "村",
        "学校",
        "家长身份证",
        "是否留守",
    ]);
    for (i, k) in kids.iter().enumerate() {
        if i == 0 {
            continue; // not at school
        }
        let [c, t, v] = place(k.village);
        let id = match i {
            // The roster lacks it; the school has it.
            1 => id_number_for("522730", k.birth, 901),
            // Mistyped by the school: the check digit fails.
            2 => {
                let good = k.id_number.clone().unwrap();
                let last = if good.ends_with('1') { '2' } else { '1' };
                format!("{}{last}", &good[..17])
            }
            _ => k.id_number.clone().unwrap(),
        };
        let birth = k.birth.to_string();
        csv.push_str(&csv_row(&[
            &format!("G{i:04}"),
            &k.name,
            "男",
            &birth,
            &id,
            &c,
            &t,
            &v,
            "冠山小学",
            &parent_id,
            "是",
        ]));
    }
    let [c, t, v] = place(VILLAGE_A);
    // This school writes the village as its division code.
    csv.push_str(&csv_row(&[
        "G9001",
        "欧阳娜娜",
        "女",
        "2015-04-02",
        "",
        "",
        "",
        VILLAGE_A,
        "冠山小学",
        &parent_id,
        "是",
    ]));
    csv.push_str(&csv_row(&[
        "G9002",
        "司马青",
        "女",
        "2014-02-03",
        "",
        &c,
        &t,
        &v,
        "冠山小学",
        &parent_id,
        "否",
    ]));
    csv.push_str(&csv_row(&[
        "G9003",
        "上官云",
        "男",
        "2013-05-06",
        "",
        "贵定县",
        "城关镇",
        "",
        "冠山小学",
        &parent_id,
        "是",
    ]));

    // Only the county runs comparisons; bad files and kinds are refused by name.
    let town = app.login("town_a").await;
    assert_eq!(
        upload(&town, "education", &csv).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = upload(&county, "school", &csv).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "kind");
    let r = upload(&county, "education", "学籍号,性别\n1,男\n").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["field"], "file");
    assert!(body["message"].as_str().unwrap().contains("姓名"), "{body}");

    let r = upload(&county, "education", &csv).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let run: Value = r.json().await.unwrap();
    assert_eq!(run["tally"]["roster"], 60);
    assert_eq!(run["tally"]["list"], 62);
    assert_eq!(run["tally"]["matched"], 59, "{run}");
    let run_id = run["id"].as_str().unwrap().to_owned();

    let all = items(&county, &format!("run_id={run_id}")).await;
    // Masked there as everywhere, in the list's other columns too.
    assert!(
        !all.iter().any(|i| i.to_string().contains(&parent_id)),
        "{all:?}"
    );
    let dropouts = of_kind(&all, "not_in_school_list");
    assert_eq!(dropouts.len(), 1, "{all:?}");
    assert_eq!(dropouts[0]["child_id"], kids[0].id.as_str());
    assert_eq!(dropouts[0]["child"]["name"], kids[0].name.as_str());
    let ids = of_kind(&all, "id_number");
    assert_eq!(ids.len(), 2, "{ids:?}");
    let fill = ids
        .iter()
        .find(|i| i["child_id"] == kids[1].id.as_str())
        .unwrap();
    let full = id_number_for("522730", kids[1].birth, 901);
    // Masked as the roster masks them; county staff may reveal one item's whole numbers, and
    // that read is audited.
    assert_eq!(fill["fix"]["side"], "roster");
    assert!(
        fill["fix"]["to"].as_str().unwrap().contains('*')
            && !all.iter().any(|i| i.to_string().contains(&full)),
        "{fill}"
    );
    let fill_id = fill["id"].as_str().unwrap();
    let whole = county
        .get_json(&format!("/api/v1/reconcile/items/{fill_id}?reveal=1"))
        .await;
    assert_eq!(whole["fix"]["to"], full.as_str());
    assert!(whole.to_string().contains(&parent_id), "{whole}");
    let audit = app
        .login("admin")
        .await
        .get_json("/api/v1/audit?action=reconcile_id_reveal")
        .await;
    assert!(audit.to_string().contains(fill_id), "{audit}");
    let r = county
        .get(&format!("/api/v1/reconcile/items/{fill_id}?reveal=maybe"))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let typo = ids
        .iter()
        .find(|i| i["child_id"] == kids[2].id.as_str())
        .unwrap();
    assert_eq!(typo["fix"]["side"], "list");
    assert!(typo["fix"]["to"].is_null());
    // Every pair carries its reasons.
    assert!(
        fill["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["label"] == "身份证号码" && r["level"] == "缺失"),
        "{fill}"
    );
    let new = of_kind(&all, "not_on_roster");
    assert_eq!(
        new.len(),
        1,
        "only the left-behind child of this county: {new:?}"
    );
    assert_eq!(new[0]["entry"]["name"], "欧阳娜娜");
    assert_eq!(new[0]["region_code"], VILLAGE_A);
    assert!(
        new[0]["entry"]["extra"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e[0] == "学校" && e[1] == "冠山小学")
    );
    assert_eq!(all.len(), 4, "{all:?}");

    // Nobody else sees the county's findings until they are assigned.
    assert!(items(&town, "").await.is_empty());
    assert_eq!(
        town.get(&format!("/api/v1/reconcile/runs/{run_id}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let dropout = dropouts[0]["id"].as_str().unwrap();
    // Another town, or a school of another town, does not cover the child (issue 24: it then
    // read the item — name, sex, birth date, place).
    app.add_user("school_b", Role::School, TOWN_B, Some("龙山中学"))
        .await;
    let school_b = app
        .store
        .users()
        .actor_by_username("school_b")
        .await
        .unwrap()
        .unwrap()
        .agency_id
        .unwrap();
    for assignee in ["town:522730100".to_owned(), format!("school:{school_b}")] {
        let r = decide(
            &county,
            dropout,
            json!({"action": "assign", "assignee": assignee}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{assignee}");
        assert_eq!(r.json::<Value>().await.unwrap()["field"], "assignee");
    }
    assert!(items(&app.login("school_b").await, "").await.is_empty());
    let r = decide(
        &county,
        dropout,
        json!({"action": "assign", "assignee": "town:520102001"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "assignee");
    let r = decide(
        &county,
        dropout,
        json!({"action": "assign", "assignee": format!("town:{TOWN_A}")}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let item: Value = r.json().await.unwrap();
    assert_eq!(item["status"], "assigned");
    assert_eq!(item["assignee"], format!("town:{TOWN_A}"));

    let mine = items(&town, "").await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], dropout);
    assert_eq!(mine[0]["may_decide"], true);
    assert_eq!(mine[0]["may_assign"], false);
    // The town's ID numbers are masked.
    assert!(
        mine[0]["child"]["id_number"]
            .as_str()
            .unwrap()
            .contains('*')
    );
    // The town may not reveal them.
    let r = town
        .get(&format!("/api/v1/reconcile/items/{dropout}?reveal=1"))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let other = app.login("town_b").await;
    assert!(items(&other, "").await.is_empty());
    assert_eq!(
        decide(&other, dropout, json!({"action": "accept"}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        decide(
            &town,
            dropout,
            json!({"action": "assign", "assignee": "town:522730100"})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let r = decide(
        &town,
        dropout,
        json!({"action": "accept", "note": "已辍学两周，已开展劝返"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let item: Value = r.json().await.unwrap();
    assert_eq!(item["status"], "accepted");
    assert_eq!(item["decided_by"], "town_a");
    assert_eq!(item["note"], "已辍学两周，已开展劝返");
    let r = decide(&county, dropout, json!({"action": "reject"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Accepting the ID number writes it into the child's file, with history.
    let r = decide(
        &county,
        fill["id"].as_str().unwrap(),
        json!({"action": "accept"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let child = county
        .get_json(&format!("/api/v1/children/{}?reveal=true", kids[1].id))
        .await;
    assert_eq!(child["file"]["id_number"], full.as_str(), "{child}");
    let history = county
        .get_json(&format!("/api/v1/children/{}/history", kids[1].id))
        .await;
    assert!(history.to_string().contains("id_number"), "{history}");
    // The school's own typo changes nothing in the roster.
    let r = decide(
        &county,
        typo["id"].as_str().unwrap(),
        json!({"action": "accept"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let child = county
        .get_json(&format!("/api/v1/children/{}?reveal=true", kids[2].id))
        .await;
    assert_eq!(
        child["file"]["id_number"],
        kids[2].id_number.as_deref().unwrap()
    );

    // Accepting the undiscovered child puts a discovery report in the town's queue.
    let r = decide(
        &county,
        new[0]["id"].as_str().unwrap(),
        json!({"action": "accept"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let queue = town.get_json("/api/v1/discoveries").await;
    let reports = queue["items"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{queue}");
    assert_eq!(reports[0]["child_name"], "欧阳娜娜");
    assert!(
        reports[0]["situation"]
            .as_str()
            .unwrap()
            .contains("学籍名单")
    );

    // Run counts follow the decisions, and every decision is in the audit log.
    let run = county
        .get_json(&format!("/api/v1/reconcile/runs/{run_id}"))
        .await;
    let pending: i64 = run["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pending"].as_i64().unwrap())
        .sum();
    assert_eq!(pending, 0, "{run}");
    // The history of comparisons shows the same run with the same counts.
    let runs = county.get_json("/api/v1/reconcile/runs").await;
    let runs = runs["items"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["id"], run["id"]);
    assert_eq!(runs[0]["counts"], run["counts"]);
    assert_eq!(runs[0]["tally"], run["tally"]);
    let admin = app.login("admin").await;
    let log = admin
        .get_json("/api/v1/audit?action=reconcile_item_accept")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 4, "{log}");
    let log = admin.get_json("/api/v1/audit?action=reconcile_run").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_household_list_finds_missing_and_urban_hukou_and_a_rejected_pair_splits() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("police", Role::Police, "522730", None).await;
    let kids = roster(&app, 40).await;
    let county = app.login("county").await;
    let mut csv = csv_row(&[
        "record_id",
        "name",
        "sex",
        "birth_date",
        "id_number",
        "county",
        "town",
        "village",
        "户口性质",
    ]);
    for (i, k) in kids.iter().enumerate() {
        if i == 0 || i == 1 {
            continue;
        }
        let [c, t, v] = place(k.village);
        let birth = k.birth.to_string();
        let (name, id, birth, t, v) = if i == 5 {
            // One character of the name different, day and month swapped, no ID number and
            // no village: maybe the same child, maybe not — a person decides.
            let mut chars: Vec<char> = k.name.chars().collect();
            *chars.last_mut().unwrap() = '寒';
            let swapped = format!(
                "{}-{:02}-{:02}",
                k.birth.format("%Y"),
                k.birth.format("%d"),
                k.birth.format("%m")
            );
            (
                chars.into_iter().collect(),
                String::new(),
                swapped,
                t,
                String::new(),
            )
        } else {
            (
                k.name.clone(),
                k.id_number.clone().unwrap_or_default(),
                birth,
                t,
                v,
            )
        };
        let hukou = if i == 3 { "非农业" } else { "农业" };
        csv.push_str(&csv_row(&[
            &format!("H{i}"),
            &name,
            "男",
            &birth,
            &id,
            &c,
            &t,
            &v,
            hukou,
        ]));
    }
    let r = upload(&county, "household", &csv).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let run: Value = r.json().await.unwrap();
    let run_id = run["id"].as_str().unwrap();
    let all = items(&county, &format!("run_id={run_id}")).await;
    let missing: Vec<&str> = of_kind(&all, "not_in_household_list")
        .iter()
        .map(|i| i["child_id"].as_str().unwrap())
        .collect();
    assert!(missing.contains(&kids[0].id.as_str()), "{all:?}");
    // The child without an ID number on the roster is not in the list either.
    assert!(missing.contains(&kids[1].id.as_str()), "{all:?}");
    let urban = of_kind(&all, "urban_hukou");
    assert_eq!(urban.len(), 1);
    assert_eq!(urban[0]["child_id"], kids[3].id.as_str());
    assert_eq!(urban[0]["entry"]["hukou"], "非农业户口");

    let review = of_kind(&all, "review");
    assert_eq!(review.len(), 1, "{all:?}");
    {
        let pair = review[0];
        assert_eq!(pair["child_id"], kids[5].id.as_str());
        assert!(
            pair["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["label"] == "姓名" && r["level"] == "同音"),
            "{pair}"
        );
        let child = pair["child_id"].as_str().unwrap().to_owned();
        let p = pair["probability"].as_f64().unwrap();
        assert!((0.5..0.95).contains(&p), "{pair}");
        let r = decide(
            &county,
            pair["id"].as_str().unwrap(),
            json!({"action": "reject", "note": "不是同一人"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let after = items(
            &county,
            &format!("run_id={run_id}&kind=not_in_household_list"),
        )
        .await;
        assert!(
            after.iter().any(|i| i["child_id"] == child.as_str()),
            "a rejected pair leaves the child missing from the list: {after:?}"
        );
    }

    // The police unit of the county sees what is assigned to it.
    let police = app.login("police").await;
    assert!(items(&police, "").await.is_empty());
    let r = decide(
        &county,
        urban[0]["id"].as_str().unwrap(),
        json!({"action": "assign", "assignee": "police:522730"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mine = items(&police, "").await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["kind"], "urban_hukou");
    // Police see masked numbers in the list and may reveal the whole ones (they keep the
    // register).
    assert!(
        mine[0]["child"]["id_number"]
            .as_str()
            .unwrap()
            .contains('*')
    );
    let whole = police
        .get_json(&format!(
            "/api/v1/reconcile/items/{}?reveal=1",
            mine[0]["id"].as_str().unwrap()
        ))
        .await;
    assert!(!whole["child"]["id_number"].as_str().unwrap().contains('*'));
    let r = decide(
        &police,
        urban[0]["id"].as_str().unwrap(),
        json!({"action": "reject", "note": "已于2025年迁回农村"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "rejected");
}

#[tokio::test]
async fn the_pages_run_a_comparison_and_work_the_queue() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let kids = roster(&app, 12).await;
    let county = app.login("county").await;
    let page = county.get("/reconcile").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("三方比对") && html.contains("学籍名单"));
    let csrf = csrf_of(&html);
    // A school's own export: titles the reader does not know, so the person maps them.
    let mut csv = csv_row(&["学生", "男女", "生日", "证件", "班级"]);
    for k in &kids[1..] {
        csv.push_str(&csv_row(&[
            &k.name,
            "男",
            &k.birth.to_string(),
            k.id_number.as_deref().unwrap_or(""),
            "三(2)班",
        ]));
    }
    let send = |csv: String| {
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", csrf.clone())
            .text("kind", "education")
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("学籍名单.csv"),
            );
        county
            .client
            .post(format!("{}/reconcile", county.base))
            .multipart(form)
            .send()
    };
    let r = send(csv.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(job.starts_with("/reconcile/jobs/"), "{job}");
    let html = county.get(&job).await.text().await.unwrap();
    assert!(
        html.contains("表头在第 1 行") && html.contains("col_E"),
        "{html}"
    );
    // The first rows are shown beside each column, to see what it holds.
    assert!(html.contains(&kids[1].name) && html.contains("三(2)班"));
    // Nobody else sees the job.
    let town = app.login("town_a").await;
    assert_eq!(town.get(&job).await.status(), StatusCode::NOT_FOUND);
    let start = |choices: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("csrf_token", csrf.clone())];
        form.extend(choices.into_iter().map(|(k, v)| (k, v.to_owned())));
        county
            .client
            .post(format!("{}{job}/start", county.base))
            .form(&form)
            .send()
    };
    // Without a name column: the page again, saying so; nothing runs.
    let r = start(vec![("col_A", "-"), ("col_D", "id_number")])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("请指定哪一列是“姓名”"), "{html}");
    // Two columns for one field: named.
    let html = start(vec![("col_A", "name"), ("col_B", "name")])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("有两列都对应“姓名”"), "{html}");
    let r = start(vec![
        ("col_A", "name"),
        ("col_B", "sex"),
        ("col_C", "birth_date"),
        ("col_D", "id_number"),
        ("col_E", "-"),
        ("save", "1"),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The comparison runs in the background; the job's page leads to the run when it is done.
    let mut to = String::new();
    for _ in 0..200 {
        let r = county.get(&job).await;
        if r.status() == StatusCode::SEE_OTHER {
            to = r.headers()["location"].to_str().unwrap().to_owned();
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        to.starts_with("/reconcile/runs/"),
        "the comparison did not finish"
    );
    let status = county.get(&format!("{job}/status")).await;
    assert_eq!(status.headers()["hx-redirect"].to_str().unwrap(), to);
    // The API reports the same job to its owner, and to nobody else.
    let api_job = job.replace("/reconcile/jobs/", "/api/v1/reconcile/jobs/");
    let v = county.get_json(&api_job).await;
    assert_eq!(v["state"], "done");
    assert_eq!(
        format!("/reconcile/runs/{}", v["run_id"].as_str().unwrap()),
        to
    );
    assert_eq!(town.get(&api_job).await.status(), StatusCode::NOT_FOUND);
    // Started once only.
    assert_eq!(
        start(vec![("col_A", "name")]).await.unwrap().status(),
        StatusCode::CONFLICT
    );
    // The next list with the same header comes with the saved choices.
    let r = send(csv).await.unwrap();
    let next = r.headers()["location"].to_str().unwrap().to_owned();
    let html = county.get(&next).await.text().await.unwrap();
    assert!(html.contains("已套用此前为相同表头保存的列对应"), "{html}");
    assert!(html.contains(r#"<option value="name" selected>"#), "{html}");
    let html = county.get(&to).await.text().await.unwrap();
    assert!(html.contains("学籍名单中未找到"), "{html}");
    assert!(html.contains(&kids[0].name));
    let item = items(&county, "kind=not_in_school_list").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = county
        .client
        .post(format!("{}/reconcile/items/{item}", county.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("action", "reject"),
            ("note", "已转学到外省"),
            ("back", to.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().starts_with(&to));
    let html = county
        .get(&format!("{to}?status=rejected"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("已转学到外省"), "{html}");
    // A town user is sent to their task list.
    let r = town.get("/reconcile").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(town.get("/reconcile/tasks").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_api_takes_column_choices_for_titles_it_does_not_know() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let kids = roster(&app, 6).await;
    let county = app.login("county").await;
    // 出生日期 is a known title; 学生 and 证件 are not.
    let mut csv = csv_row(&["学生", "证件", "出生日期", "班级"]);
    for k in &kids {
        csv.push_str(&csv_row(&[
            &k.name,
            k.id_number.as_deref().unwrap_or(""),
            &k.birth.to_string(),
            "一(1)班",
        ]));
    }
    let post = |query: &str| {
        county
            .client
            .post(format!(
                "{}/api/v1/reconcile/runs?kind=education&filename=list.csv&{query}",
                county.base
            ))
            .body(csv.clone())
            .send()
    };
    // What the reader makes of the header: 出生日期 known, the others not.
    let r = county
        .client
        .post(format!(
            "{}/api/v1/reconcile/columns?filename=list.csv",
            county.base
        ))
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let preview: Value = r.json().await.unwrap();
    let columns = preview["columns"]["columns"].as_array().unwrap();
    assert_eq!(columns[0]["title"], "学生");
    assert!(columns[0]["field"].is_null());
    assert_eq!(columns[2]["field"], "birth_date");
    assert_eq!(preview["sample"][0][0], kids[0].name.as_str());
    // Only those who compare may ask.
    let town = app.login("town_a").await;
    let r = town
        .client
        .post(format!("{}/api/v1/reconcile/columns", town.base))
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Without choices there is no name column: the file is refused, saying what is missing.
    let r = post("").await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["field"], "file", "{body}");
    assert!(body["message"].as_str().unwrap().contains("姓名"), "{body}");
    // Bad choices name the parameter.
    for bad in ["columns=A%3Dnickname", "columns=A", "columns=Z%3Dname"] {
        let r = post(bad).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], "columns", "{bad}: {body}");
    }
    let r = post("columns=A%3Dname,%E8%AF%81%E4%BB%B6%3Did_number")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let run: Value = r.json().await.unwrap();
    assert_eq!(run["tally"]["list"], 6, "{run}");
    // Every child found: linked, or put to review where name and birth date are all there is.
    let found =
        run["tally"]["matched"].as_i64().unwrap() + run["tally"]["review"].as_i64().unwrap();
    assert_eq!(found, 6, "{run}");
    assert!(run["tally"]["matched"].as_i64().unwrap() >= 5, "{run}");

    // A left-behind child on no roster, the town given as its division code and the village by
    // name: placed in that town's village (龙里县 has a 金星村 in two towns).
    let list = csv_row(&["姓名", "出生日期", "乡镇", "村", "是否留守"])
        + &csv_row(&["覃小雨", "2015-04-02", "522730104", "金星村", "是"])
        // Without the town, 金星村 could be either: the entry stays with the county.
        + &csv_row(&["覃小云", "2016-05-03", "", "金星村", "是"]);
    let r = upload(&county, "education", &list).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let run: Value = r.json().await.unwrap();
    let all = items(&county, &format!("run_id={}", run["id"].as_str().unwrap())).await;
    let new = of_kind(&all, "not_on_roster");
    assert_eq!(new.len(), 2, "{all:?}");
    let placed = |name: &str| {
        new.iter()
            .find(|i| i["entry"]["name"] == name)
            .map(|i| i["region_code"].clone())
    };
    assert_eq!(placed("覃小雨"), Some(json!("522730104231")));
    assert_eq!(placed("覃小云"), Some(json!("522730")));
}

/// Accepted findings act on the files: 疑似辍学 opens a 劝返 (no school: the town works it),
/// 疑似无户籍 sends the child to the police station, 非农业户口 asks the town to review; accepting
/// again answers with what is open, nothing twice.
#[tokio::test]
async fn accepted_findings_open_a_return_a_police_routing_and_a_town_review() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("police_a", Role::Police, TOWN_A, None).await;
    let kids = roster(&app, 12).await;
    let county = app.login("county").await;
    let header = [
        "姓名",
        "性别",
        "出生日期",
        "身份证号",
        "县",
        "乡镇",
        "村",
        "户口性质",
    ];
    let row = |k: &Kid, hukou: &str| {
        let [c, t, v] = place(k.village);
        csv_row(&[
            &k.name,
            "男",
            &k.birth.to_string(),
            k.id_number.as_deref().unwrap_or(""),
            &c,
            &t,
            &v,
            hukou,
        ])
    };
    // kids[0] (village A) is missing from both lists; kids[3] (village A) has urban hukou.
    let mut household = csv_row(&header);
    let mut school = csv_row(&header[..7]);
    for (i, k) in kids.iter().enumerate().skip(1) {
        household.push_str(&row(k, if i == 3 { "非农业" } else { "农业" }));
        let line = row(k, "");
        school.push_str(&line[..line.rfind(',').unwrap()]);
        school.push('\n');
    }
    assert_eq!(
        upload(&county, "household", &household).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        upload(&county, "education", &school).await.status(),
        StatusCode::CREATED
    );
    let all = items(&county, "").await;
    let find = |kind: &str, child: &str| -> String {
        all.iter()
            .find(|i| i["kind"] == kind && i["child_id"] == child)
            .unwrap_or_else(|| panic!("{kind} {child}: {all:?}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let no_hukou = find("not_in_household_list", &kids[0].id);
    let dropout = find("not_in_school_list", &kids[0].id);
    let urban = find("urban_hukou", &kids[3].id);

    // Before: the police have nothing, the town no 劝返.
    let police = app.login("police_a").await;
    assert!(
        police.get_json("/api/v1/routings").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    for item in [&no_hukou, &dropout, &urban] {
        let r = decide(
            &county,
            item,
            json!({"action": "accept", "note": "核实属实"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    let inbox = police.get_json("/api/v1/routings").await["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["child_id"], kids[0].id.as_str());
    assert_eq!(inbox[0]["need"], "no_hukou");
    assert_eq!(inbox[0]["status"], "sent");
    assert_eq!(inbox[0]["source"], format!("reconcile:{no_hukou}"));
    let town = app.login("town_a").await;
    let tasks = town.get_json("/api/v1/return-tasks").await["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["child_id"], kids[0].id.as_str());
    assert!(tasks[0]["agency_id"].is_null());
    assert_eq!(tasks[0]["source"], format!("reconcile:{dropout}"));
    // The town can work it (no school to wait for).
    let r = town
        .post_json(
            &format!(
                "/api/v1/return-tasks/{}/steps",
                tasks[0]["id"].as_str().unwrap()
            ),
            &json!({"step": "home_visit", "note": "会同村委会入户，孩子在家帮忙务农"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // The town was asked to review the urban-hukou child, by a notification that names no child.
    let db = app.raw_db().await;
    let told: Vec<(String, String)> = sqlx::query_as(
        "SELECT n.kind, n.body FROM notifications n JOIN users u ON u.id = n.recipient_user_id \
         WHERE u.username = 'town_a' ORDER BY n.created_at",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let review = told
        .iter()
        .find(|(k, _)| k == "eligibility_review")
        .expect("review asked");
    assert!(
        review.1.contains(&kids[3].id) && !review.1.contains(&kids[3].name),
        "{review:?}"
    );
    assert!(told.iter().any(|(k, _)| k == "return_opened"), "{told:?}");
    let police_told: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.recipient_user_id \
         WHERE u.username = 'police_a' AND n.kind = 'routing_sent'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(police_told, 1);
}

/// One school's short list is compared with the children it can speak for (its pupils' village
/// and ages), not the whole county, and the run says the sizes do not fit; the county decides
/// many items at once (each refused item said), and withdraws the run, which empties every
/// queue of its items.
#[tokio::test]
async fn a_short_list_covers_its_area_many_items_are_decided_at_once_and_a_run_is_withdrawn() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let kids = roster(&app, 60).await;
    let county = app.login("county").await;
    let mut csv = csv_row(&["学籍号", "姓名", "性别", "出生日期", "身份证号"]);
    // Six pupils of one village; the list says no place and no school.
    for (i, k) in kids.iter().enumerate().step_by(3).take(6) {
        let birth = k.birth.to_string();
        csv.push_str(&csv_row(&[
            &format!("G{i:04}"),
            &k.name,
            "男",
            &birth,
            k.id_number.as_deref().unwrap_or(""),
        ]));
    }
    let r = upload(&county, "education", &csv).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let run: Value = r.json().await.unwrap();
    assert_eq!(run["tally"]["matched"], 6, "{run}");
    // Only the village the six live in: its 20 children, 14 of them not on the list.
    assert_eq!(run["tally"]["covered"], 20, "{run}");
    let warnings = run["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("名单只有 6 行")),
        "{run}"
    );
    let run_id = run["id"].as_str().unwrap().to_owned();
    let all = items(&county, &format!("run_id={run_id}")).await;
    let dropouts = of_kind(&all, "not_in_school_list");
    assert_eq!(dropouts.len(), 14, "{all:?}");
    assert!(
        dropouts.iter().all(|d| d["region_code"] == VILLAGE_A),
        "{dropouts:?}"
    );
    let page = county
        .get(&format!("/reconcile/runs/{run_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("名单只有 6 行")
            && page.contains("批量处理")
            && page.contains("撤回此次比对"),
        "{page}"
    );

    // Many at once: an id not the county's is refused and said, the others done.
    let ids: Vec<String> = dropouts[..3]
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    let mut asked = ids.clone();
    asked.push("not-an-item".into());
    let r = county
        .post_json(
            "/api/v1/reconcile/items/decisions",
            &json!({"ids": asked, "action": "reject", "note": "已在县外就读"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let outcome: Value = r.json().await.unwrap();
    assert_eq!(outcome["done"].as_array().unwrap().len(), 3, "{outcome}");
    assert_eq!(outcome["refused"][0]["id"], "not-an-item", "{outcome}");
    // Again: each is decided already.
    let again: Value = county
        .post_json(
            "/api/v1/reconcile/items/decisions",
            &json!({"ids": ids, "action": "accept"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["done"].as_array().unwrap().len(), 0, "{again}");
    assert!(
        again["refused"][0]["message"]
            .as_str()
            .unwrap()
            .contains("已否定"),
        "{again}"
    );
    for (body, field) in [
        (json!({"ids": [], "action": "reject"}), "ids"),
        (json!({"ids": vec!["x"; 501], "action": "reject"}), "ids"),
        (json!({"ids": ["x"], "action": "approve"}), "action"),
        (
            json!({"ids": ["x"], "action": "assign", "assignee": "nowhere"}),
            "assignee",
        ),
    ] {
        let r = county
            .post_json("/api/v1/reconcile/items/decisions", &body)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.json::<Value>().await.unwrap()["field"], field);
    }
    // Another town's user decides none of them.
    let other = app.login("town_b").await;
    let theirs: Value = other
        .post_json(
            "/api/v1/reconcile/items/decisions",
            &json!({"ids": [dropouts[5]["id"]], "action": "accept"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["done"].as_array().unwrap().len(), 0, "{theirs}");
    // The page's ticked items.
    let csrf = csrf_of(&page);
    let r = county
        .client
        .post(format!("{}/reconcile/items/bulk", county.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("back", &format!("/reconcile/runs/{run_id}")),
            ("action", "reject"),
            ("note", "转学"),
            ("id", dropouts[3]["id"].as_str().unwrap()),
            ("id", dropouts[4]["id"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.contains("done=2&refused=0"), "{to}");
    let after = county.get(&to).await.text().await.unwrap();
    assert!(after.contains("已处理 2 条"), "{after}");

    // Withdrawn: only by the county, with a reason; its waiting items leave every queue.
    let town = app.login("town_a").await;
    let assigned = dropouts[6]["id"].as_str().unwrap();
    decide(
        &county,
        assigned,
        json!({"action": "assign", "assignee": format!("town:{TOWN_A}")}),
    )
    .await;
    assert_eq!(items(&town, "").await.len(), 1);
    let withdraw = format!("/api/v1/reconcile/runs/{run_id}/withdraw");
    let r = town
        .post_json(&withdraw, &json!({"reason": "名单有误"}))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = county.post_json(&withdraw, &json!({"reason": " "})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = county
        .post_json(
            &withdraw,
            &json!({"reason": "上传的是一所学校的名单，应按全县学籍重新比对"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["withdrawn"]["by"], "county", "{done}");
    assert!(items(&town, "status=pending").await.is_empty());
    assert!(
        items(&county, &format!("run_id={run_id}&status=pending"))
            .await
            .is_empty()
    );
    assert_eq!(
        items(&county, &format!("run_id={run_id}&status=withdrawn"))
            .await
            .len(),
        9
    );
    assert_eq!(
        items(&county, &format!("run_id={run_id}&status=rejected"))
            .await
            .len(),
        5,
        "what was decided stays"
    );
    let r = county
        .post_json(&withdraw, &json!({"reason": "再次"}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = decide(&county, assigned, json!({"action": "accept"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = county
        .get(&format!("/reconcile/runs/{run_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("此次比对已于") && !page.contains("撤回原因"),
        "{page}"
    );
}
