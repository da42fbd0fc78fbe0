//! 保护个案 through the API (issue 13's Contract): a mandatory report reaches the police of the
//! child's town and the town at once; the reporter is seen only by the police handling it and the
//! county bureau; the police receive, respond and notify the town; the town closes with another
//! user's approval; an unreceived report goes up to the county after the delay.

use reqwest::StatusCode;
use serde_json::{Value, json};

use shouwang_domain::authz::Role;
use shouwang_domain::protection::{NewChildInput, PoliceRecord, ReportInput, Step, StepOutcome};

use crate::helpers::*;

async fn with_case_users(app: &TestApp) {
    app.with_standard_users().await;
    app.add_user("police_a", Role::Police, TOWN_A, None).await;
    app.add_user("police_county", Role::Police, "522730", None)
        .await;
    app.add_user("teacher_a", Role::School, TOWN_A, Some("冠山小学"))
        .await;
    app.add_user("hospital_a", Role::Agency, TOWN_A, Some("冠山卫生院"))
        .await;
}

fn living_alone() -> Value {
    serde_json::to_value(living_alone_report()).unwrap()
}

/// The report most tests file: a girl living alone, found by her school.
fn living_alone_report() -> ReportInput {
    ReportInput {
        child: Some(NewChildInput {
            name: Some("王小花".into()),
            sex: Some("女".into()),
            village_code: Some(VILLAGE_A.into()),
            ..Default::default()
        }),
        situations: vec!["living_alone".into()],
        description: Some("连续三天独自在家，父母在外务工联系不上".into()),
        severity: Some("urgent".into()),
        discovered_at: Some("2026-11-24T09:30:00+08:00".into()),
        reporter_phone: Some("13812345678".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_report_reaches_the_towns_police_and_only_they_and_the_county_see_the_reporter() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    let teacher = app.login("teacher_a").await;

    // Bad input names the field; nothing is filed.
    let r = teacher
        .post_json(
            "/api/v1/reports",
            &json!({"child_id": "x", "situations": ["alone"], "description": "独自在家"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "situations" && e["message"].as_str().unwrap().contains("alone")),
        "{body}"
    );

    let r = teacher.post_json("/api/v1/reports", &living_alone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let filed: Value = r.json().await.unwrap();
    assert_eq!(filed["status"], "unreceived");
    assert_eq!(filed["receiving_org"], TOWN_A);
    let (report, case) = (
        filed["id"].as_str().unwrap().to_owned(),
        filed["case_id"].as_str().unwrap().to_owned(),
    );

    // A town without a police user of its own: the county's police receive its reports.
    let mut elsewhere = living_alone();
    elsewhere["child"]["village_code"] = json!("522730100208");
    let r = teacher.post_json("/api/v1/reports", &elsewhere).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["receiving_org"], "522730");

    // The town's police see it at once, with the reporter.
    let police = app.login("police_a").await;
    let inbox = police.get_json("/api/v1/reports?status=unreceived").await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "{inbox}");
    let item = &inbox["items"][0];
    assert_eq!(item["id"], report.as_str());
    assert_eq!(item["child_name"], "王小花");
    assert_eq!(item["reporter"]["phone"], "13812345678");
    assert_eq!(item["reporter_confidential"], false);
    // The inbox page shows when it was filed in China's time, not the UTC text.
    let filed = chrono::DateTime::parse_from_rfc3339(item["filed_at"].as_str().unwrap()).unwrap();
    let beijing = (filed.with_timezone(&chrono::Utc) + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let page = police.get("/reports").await.text().await.unwrap();
    assert!(page.contains(&beijing), "{beijing} not on the inbox page");
    assert!(!page.contains("UTC"), "the inbox still shows UTC");
    // The town sees the report, not who made it.
    let town = app.login("town_a").await;
    let inbox = town.get_json("/api/v1/reports").await;
    assert_eq!(inbox["items"][0]["id"], report.as_str());
    assert!(inbox["items"][0]["reporter"].is_null());
    assert_eq!(inbox["items"][0]["reporter_confidential"], true);
    let c = town.get_json(&format!("/api/v1/cases/{case}")).await;
    assert!(c["reporter"].is_null());
    assert_eq!(c["reporter_confidential"], true);
    assert!(!c.to_string().contains("teacher_a") && !c.to_string().contains("冠山小学"));
    // The county bureau sees the reporter; the county police too.
    let county = app.login("county").await;
    let c = county.get_json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(c["reporter"]["unit"], "冠山小学");
    // Another town, a hospital that did not file, see nothing of it.
    for name in ["town_b", "hospital_a"] {
        let u = app.login(name).await;
        assert_eq!(
            u.get(&format!("/api/v1/cases/{case}")).await.status(),
            StatusCode::NOT_FOUND,
            "{name}"
        );
        let inbox = u.get_json("/api/v1/reports").await;
        assert!(
            inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["id"] != report.as_str()),
            "{name}"
        );
    }
    // The reporter follows what they filed, not the case's work.
    let mine = teacher.get_json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(mine["reporter_view"], true);
    assert!(mine["steps"].as_array().unwrap().is_empty());
    // A child not on the registry waits in the town's registration queue, without the reporter.
    let queue = town.get_json("/api/v1/discoveries").await;
    let entry = &queue["items"][0];
    assert_eq!(entry["child_name"], "王小花");
    assert!(entry["reporter_org"].as_str().unwrap().contains("保密"));
    assert!(entry["reporter_phone"].is_null());
    // Each view of the reporter by someone else is audited.
    let admin = app.login("admin").await;
    let reads = admin
        .get_json(&format!(
            "/api/v1/audit?action=case_reporter_read&entity_id={case}"
        ))
        .await;
    assert_eq!(reads["items"].as_array().unwrap().len(), 1, "{reads}");
    // What was reported is sealed in the database.
    let db = app.raw_db().await;
    let body: String = sqlx::query_scalar("SELECT body FROM protection_reports WHERE id = $1")
        .bind(&report)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!body.contains("独自在家") && !body.contains("13812345678"));
}

#[tokio::test]
async fn the_police_receive_respond_and_notify_the_town_which_closes_with_approval() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    let teacher = app.login("teacher_a").await;
    let filed = teacher.file_report(&living_alone_report()).await.created();
    let (report, case) = (
        filed["id"].as_str().unwrap().to_owned(),
        filed["case_id"].as_str().unwrap().to_owned(),
    );
    let police = app.login("police_a").await;
    let town = app.login("town_a").await;
    // Only the police receive; a step before receipt is out of order.
    town.receive(&report).await.is(StatusCode::FORBIDDEN);
    police
        .notify_town(&case, "x")
        .await
        .is(StatusCode::CONFLICT);
    let c = police.receive(&report).await.ok();
    assert_eq!(c["status"], "responding");
    assert_eq!(
        c["steps"].as_array().unwrap()[0]["step"],
        "order_parents_back"
    );
    police.receive(&report).await.is(StatusCode::CONFLICT); // received twice

    // The steps of the playbook: a failed one says why. A playbook is what is expected, not all
    // the police may do: another lawful step is recorded beside it, with no time limit
    // (内蒙古 001 四(二): 对于上述情形，要按照有关规定调查取证…).
    police
        .step(&case, Step::OrderParentsBack, StepOutcome::Failed, "")
        .await
        .refused_on("note");
    police
        .step(
            &case,
            Step::PreserveEvidence,
            StepOutcome::Done,
            "现场拍照取证",
        )
        .await
        .ok();
    let c = police.get_json(&format!("/api/v1/cases/{case}")).await;
    let other = c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "preserve_evidence")
        .unwrap_or_else(|| panic!("{c}"));
    assert_eq!(other["expected"], false, "{other}");
    assert!(
        other["due_at"].is_null() && other["overdue"] == false,
        "{other}"
    );
    assert_eq!(other["outcome"], "done");
    let page = police
        .get(&format!("/cases/{case}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("其他措施") && page.contains("记录其他处置措施"),
        "{page}"
    );
    police
        .step(
            &case,
            Step::OrderParentsBack,
            StepOutcome::Failed,
            "联系父母未果",
        )
        .await
        .ok();
    police
        .step(
            &case,
            Step::EscortToTemporaryCare,
            StepOutcome::Done,
            "护送至近亲属（姑姑）临时照料",
        )
        .await
        .ok();
    police
        .police_record(&case, PoliceRecord::CaseAccepted, "")
        .await
        .ok();
    police
        .police_record(&case, PoliceRecord::Feedback, "已联系家属，儿童由姑姑照料")
        .await
        .ok();
    // The town cannot record police steps.
    town.step(&case, Step::AdmonishParents, StepOutcome::Done, "")
        .await
        .is(StatusCode::FORBIDDEN);
    police
        .notify_town(&case, "儿童已由近亲属临时照料，请乡镇评估帮扶")
        .await
        .ok();
    let c = town.get_json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(c["status"], "assessing");
    // Steps left unrecorded when the case moved on keep no deadline, and are not late.
    let unrecorded: Vec<&Value> = c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"].is_null())
        .collect();
    assert!(!unrecorded.is_empty(), "{}", c["steps"]);
    for s in unrecorded {
        assert!(s["due_at"].is_null() && s["overdue"] == false, "{s}");
    }
    let page = police
        .get(&format!("/cases/{case}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("应急处置结束时未记录"), "the page says so");
    // A step posted from a page left open since 通报乡镇 is refused, not recorded late.
    police
        .step(&case, Step::AdmonishParents, StepOutcome::Done, "")
        .await
        .is(StatusCode::CONFLICT);
    let kinds: Vec<&str> = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "filed",
            "received",
            "step",
            "step",
            "step",
            "police_record",
            "police_record",
            "notified_town"
        ]
    );
    // Each line in words, with what the event's codes name.
    let labels: Vec<&str> = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "提交强制报告",
            "公安机关受理",
            "应急处置：固定证据（已完成）",
            "应急处置：责令父母立即返回或确定受委托监护人（未成功）",
            "应急处置：联系不上父母的，就近护送至近亲属、村（居）委会或救助管理机构、福利机构临时监护照料（已完成）",
            "公安机关：受案",
            "公安机关：向报告人反馈",
            "通报乡镇人民政府（街道办）",
        ]
    );
    assert_eq!(
        police
            .post_json(&format!("/api/v1/cases/{case}/assessments"), &json!({}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(c["timeline"][0]["by"], "报告人信息已保密");
    // The reporter reads the feedback.
    let mine = teacher.get_json(&format!("/api/v1/cases/{case}")).await;
    assert!(mine.to_string().contains("已联系家属"));
    assert!(!mine.to_string().contains("护送至近亲属"));

    // The town assesses: the child's view or why not; the risk sets the visits. The police do not.
    let assessment = json!({
        "safety": "some", "guardianship": "serious", "physical_health": "none", "mental_health": "some",
        "findings": "姑姑临时照料，父亲未返乡", "participants": "镇儿童督导员、村儿童主任"
    });
    let r = town
        .post_json(&format!("/api/v1/cases/{case}/assessments"), &assessment)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "child_view");
    let mut heard = assessment.clone();
    heard["child_view"] = json!("想和爸爸一起住");
    let r = police
        .post_json(&format!("/api/v1/cases/{case}/assessments"), &heard)
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = town
        .post_json(&format!("/api/v1/cases/{case}/assessments"), &heard)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["risk_level"], "high");
    assert_eq!(c["visit_interval_days"], 30);
    assert_eq!(
        c["assessments"][0]["assessment"]["child_view"],
        "想和爸爸一起住"
    );
    // The reporter does not read the assessment.
    let mine = teacher.get_json(&format!("/api/v1/cases/{case}")).await;
    assert!(mine["assessments"].as_array().unwrap().is_empty());
    assert!(mine["risk_level"].is_null());

    // Guardianship intervention: the police admonish and issue a warning letter in its order;
    // civil affairs apply to revoke, naming the ground and the applicant.
    let step = |measure: &str, stage: &str, note: &str| json!({"measure": measure, "stage": stage, "note": note});
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/interventions"),
            &step("admonition", "done", "训诫"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "the police admonish");
    let r = police
        .post_json(
            &format!("/api/v1/cases/{case}/interventions"),
            &step("warning_letter", "served", "送达"),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "served before issued"
    );
    for (m, st, n) in [
        ("admonition", "done", "对父亲进行训诫"),
        ("warning_letter", "issued", "出具告诫书"),
        ("warning_letter", "served", "当面送达父亲"),
        ("warning_letter", "village_told", "告知村委会"),
        ("warning_letter", "follow_up", "回访一次"),
        ("warning_letter", "follow_up", "回访两次"),
    ] {
        let r = police
            .post_json(
                &format!("/api/v1/cases/{case}/interventions"),
                &step(m, st, n),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{m} {st}");
    }
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/interventions"),
            &step("revocation", "applied", "向法院申请"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "ground");
    let mut apply = step("revocation", "applied", "向法院申请撤销父亲监护资格");
    apply["ground"] = json!("neglect_in_danger");
    apply["applicant"] = json!("县民政局");
    let r = town
        .post_json(&format!("/api/v1/cases/{case}/interventions"), &apply)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    let steps = c["interventions"].as_array().unwrap();
    assert_eq!(steps.len(), 7);
    assert_eq!(steps[6]["ground"], "neglect_in_danger");
    let mine = teacher.get_json(&format!("/api/v1/cases/{case}")).await;
    assert!(mine["interventions"].as_array().unwrap().is_empty());

    // Temporary guardianship: a legal ground and a placement; one at a time; it ends on an
    // assessment. The police do not place.
    let placement = json!({"reason": "guardian_refuses", "placement": "relatives", "carer": "姑姑王某", "start_date": "2026-11-24"});
    let r = police
        .post_json(&format!("/api/v1/cases/{case}/placements"), &placement)
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/placements"),
            &json!({"reason": "because", "placement": "relatives", "carer": "姑姑"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = town
        .post_json(&format!("/api/v1/cases/{case}/placements"), &placement)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    let placement_id = c["placements"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(c["placements"][0]["placement"], "relatives");
    let r = town
        .post_json(&format!("/api/v1/cases/{case}/placements"), &placement)
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "one at a time");
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/placements/{placement_id}/end"),
            &json!({"assessment": ""}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/placements/{placement_id}/end"),
            &json!({"assessment": "父亲返乡，评估具备监护能力，儿童返回家庭"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["placements"][0]["end_date"], "2026-11-24");

    // The help plan: a referral to a social-work organisation of the county, which accepts and
    // records its sessions; another provider sees none of it.
    app.add_user("social", Role::Agency, "522730", Some("县社工站"))
        .await;
    let agencies = town.get_json("/api/v1/providers").await;
    let social_id = agencies["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "县社工站")
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .expect("the county's social-work station");
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/referrals"),
            &json!({"kind": "counselling", "agency_id": social_id, "note": "请开展心理疏导"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["referrals"][0]["status"], "pending");
    let social = app.login("social").await;
    let mine = social.get_json("/api/v1/referrals").await;
    let referral = mine["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(mine["items"][0]["child_name"], "王小花");
    assert!(
        !mine.to_string().contains("冠山小学"),
        "the provider does not learn the reporter"
    );
    let hospital = app.login("hospital_a").await;
    assert_eq!(
        hospital.get_json("/api/v1/referrals").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let r = hospital
        .post_json(
            &format!("/api/v1/referrals/{referral}/answer"),
            &json!({"action": "accept"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = social
        .post_json(
            &format!("/api/v1/referrals/{referral}/answer"),
            &json!({"action": "decline"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "declining says why"
    );
    let r = social
        .post_json(
            &format!("/api/v1/referrals/{referral}/answer"),
            &json!({"action": "deliver", "note": "x"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "delivered before accepted"
    );
    for (action, note) in [
        ("accept", ""),
        ("deliver", "入户心理疏导一次"),
        ("complete", "三次疏导后情绪稳定"),
    ] {
        let r = social
            .post_json(
                &format!("/api/v1/referrals/{referral}/answer"),
                &json!({"action": action, "note": note}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    let c = town.get_json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(c["referrals"][0]["status"], "delivered");
    assert_eq!(c["referrals"][0]["log"].as_array().unwrap().len(), 3);
    // A referral nobody answers for a week is overdue.
    town.post_json(
        &format!("/api/v1/cases/{case}/referrals"),
        &json!({"kind": "dibao", "agency_id": social_id, "note": "核查低保条件"}),
    )
    .await;
    app.clock.advance(8 * 24 * 3600);
    let town = app.login("town_a").await;
    let c = town.get_json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(c["referrals"][1]["overdue"], true);
    assert_eq!(c["referrals"][0]["overdue"], false);
    // The same referral pressed again, or eight at once, refers the child once.
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/referrals"),
            &json!({"kind": "dibao", "agency_id": social_id, "note": "核查低保条件"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "already waiting");
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, base) = (town.client.clone(), town.base.clone());
        let body = json!({"kind": "counselling", "agency_id": social_id, "note": "再次心理疏导"});
        let path = format!("{base}/api/v1/cases/{case}/referrals");
        burst.spawn(async move { client.post(path).json(&body).send().await.unwrap().status() });
    }
    let statuses = burst.join_all().await;
    assert_eq!(
        statuses.iter().filter(|s| s.is_success()).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| s.is_success() || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let c = town.get_json(&format!("/api/v1/cases/{case}")).await;
    let waiting = c["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "counselling" && r["status"] == "pending")
        .count();
    assert_eq!(waiting, 1, "{c}");
    let social = app.login("social").await;
    assert_eq!(
        social.get_json("/api/v1/referrals").await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Closing: a reason, then another user's approval.
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/close-request"),
            &json!({"reason": ""}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/close-request"),
            &json!({"reason": "父亲已返乡照料，监护落实"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/close-decision"),
            &json!({"approve": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "the requester approves");
    let county = app.login("county").await;
    let r = county
        .post_json(
            &format!("/api/v1/cases/{case}/close-decision"),
            &json!({"approve": true, "note": "同意"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["status"], "closed");
    assert!(c["closed_at"].is_string());
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/reopen"),
            &json!({"reason": "父亲再次外出"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "assessing");

    // The period's figures, for the area of the reader.
    let f = county
        .get_json("/api/v1/cases/figures?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(f["reports"], 1);
    assert_eq!(f["by_situation"][0]["code"], "living_alone");
    assert_eq!(f["by_reporter"][0]["code"], "school");
    assert_eq!(f["received"], 1);
    assert_eq!(f["receipt_minutes_median"], 0);
    assert_eq!(f["placements"], 1);
    let referrals: std::collections::HashMap<String, i64> = f["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!((referrals["delivered"], referrals["pending"]), (1, 2));
    let before = county
        .get_json("/api/v1/cases/figures?from=2026-10-01&to=2026-10-31")
        .await;
    assert_eq!(before["reports"], 0);
    assert_eq!(
        county
            .get("/api/v1/cases/figures?from=2026-11-30&to=2026-11-01")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let teacher = app.login("teacher_a").await;
    assert_eq!(
        teacher.get("/api/v1/cases/figures").await.status(),
        StatusCode::FORBIDDEN
    );
    let town_b = app.login("town_b").await;
    assert_eq!(
        town_b
            .get_json("/api/v1/cases/figures?from=2026-11-01")
            .await["reports"],
        0
    );
}

#[tokio::test]
async fn a_report_nobody_receives_goes_up_to_the_county_after_the_delay() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.add_user("police_county", Role::Police, "522730", None)
        .await;
    app.add_user("police_a", Role::Police, TOWN_A, None).await;
    let village = app.login("village_a").await;
    let child = village.register(&boy(VILLAGE_A)).await;
    let filed: Value = village
        .post_json(
            "/api/v1/reports",
            &json!({"child_id": child["id"], "situations": ["guardian_neglect", "domestic_violence"], "description": "邻居反映孩子常被打"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filed["receiving_org"], TOWN_A);
    let report = filed["id"].as_str().unwrap().to_owned();
    // 59 minutes: still the town's.
    app.clock.advance(59 * 60);
    let county = app.login("county").await;
    let inbox = county.get_json("/api/v1/reports?status=unreceived").await;
    assert_eq!(inbox["items"][0]["escalated"], false);
    let r = county
        .post_json(&format!("/api/v1/reports/{report}/receive"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // An hour: sent up to the county, on the timeline and overdue in every inbox.
    app.clock.advance(60);
    let inbox = county.get_json("/api/v1/reports?status=unreceived").await;
    let item = &inbox["items"][0];
    assert_eq!(item["escalated"], true);
    assert_eq!(item["overdue"], true);
    assert_eq!(item["receiving_org"], "522730");
    let police = app.login("police_county").await;
    let inbox = police.get_json("/api/v1/reports?status=unreceived").await;
    assert_eq!(inbox["items"][0]["id"], report.as_str());
    // The county's civil affairs may now receive it.
    let r = county
        .post_json(&format!("/api/v1/reports/{report}/receive"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    let kinds: Vec<&str> = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["filed", "escalated", "received"]);
    // Domestic violence and neglect: both playbooks, once each, the town last.
    let steps: Vec<&str> = c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps.first(), Some(&"contact_parents"));
    assert_eq!(steps.last(), Some(&"notify_town"));
    assert!(steps.contains(&"shelter_placement"));
}

/// The police and the town are told at once, outside the system (the outbox, sent by the
/// dispatcher through a channel); an escalation tells the county; feedback tells the reporter. A
/// notification names no child and no reporter. E-mail goes through a sendmail-compatible program
/// to the address on file; a user without one is retried, not lost.
#[tokio::test]
async fn a_report_notifies_the_police_and_the_town_and_the_outbox_is_sent() {
    use shouwang_app::notify::{Channel, LogChannel, SendmailChannel, dispatch};
    use std::sync::Arc;

    let app = spawn_app().await;
    with_case_users(&app).await;
    let police = app
        .store
        .users()
        .actor_by_username("police_a")
        .await
        .unwrap()
        .unwrap();
    let address = shouwang_domain::person::EmailAddress::parse("duty@police.example").unwrap();
    app.store
        .users()
        .set_user_email(&police.user_id, Some(&address))
        .await
        .unwrap();
    let teacher = app.login("teacher_a").await;
    let filed: Value = teacher
        .post_json("/api/v1/reports", &living_alone())
        .await
        .json()
        .await
        .unwrap();
    let case = filed["case_id"].as_str().unwrap().to_owned();
    let told = app
        .store
        .notifications()
        .case_notifications(&shouwang_domain::ids::CaseId::from(case.as_str()))
        .await
        .unwrap();
    let mut who: Vec<&str> = told.iter().map(|n| n.username.as_str()).collect();
    who.sort();
    assert_eq!(who, ["police_a", "town_a"]);
    assert!(told.iter().all(|n| n.status == "pending"));

    // E-mail through a program that keeps what sendmail is given.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mail.txt");
    let program = dir.path().join("sendmail");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\necho \"$@\" > {0}.args\ncat >> {0}\n",
            out.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let email: Arc<dyn Channel> = Arc::new(SendmailChannel {
        program: program.to_string_lossy().into_owned(),
        from: "shouwang@county.example".into(),
    });
    let done = dispatch(&app.use_cases, email.clone()).await.unwrap();
    assert_eq!((done.sent, done.failed), (1, 1), "town_a has no address");
    let mail = std::fs::read_to_string(&out).unwrap();
    assert!(mail.contains("To: duty@police.example"));
    assert!(mail.contains("Subject: =?UTF-8?B?"));
    assert!(!mail.contains("王小花") && !mail.contains("冠山小学"));
    assert_eq!(
        std::fs::read_to_string(format!("{}.args", out.display()))
            .unwrap()
            .trim(),
        "-t -i"
    );
    // The failed one waits for its retry; the log channel sends it then.
    assert_eq!(dispatch(&app.use_cases, email).await.unwrap().sent, 0);
    app.clock.advance(3 * 60);
    let log: Arc<dyn Channel> = Arc::new(LogChannel);
    assert_eq!(dispatch(&app.use_cases, log.clone()).await.unwrap().sent, 1);
    let told = app
        .store
        .notifications()
        .case_notifications(&shouwang_domain::ids::CaseId::from(case.as_str()))
        .await
        .unwrap();
    assert!(told.iter().all(|n| n.status == "sent"), "{told:?}");

    // Nobody receives it for an hour: the county is told.
    app.clock.advance(60 * 60);
    let county = app.login("county").await;
    county.get_json("/api/v1/reports").await;
    let told = app
        .store
        .notifications()
        .case_notifications(&shouwang_domain::ids::CaseId::from(case.as_str()))
        .await
        .unwrap();
    let escalated: Vec<&str> = told
        .iter()
        .filter(|n| n.kind == "report_escalated")
        .map(|n| n.username.as_str())
        .collect();
    assert!(escalated.contains(&"county") && escalated.contains(&"police_county"));
    // Feedback tells the reporter.
    let police = app.login("police_a").await;
    let r = police
        .post_json(
            &format!("/api/v1/reports/{}/receive", filed["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    police
        .post_json(
            &format!("/api/v1/cases/{case}/police-records"),
            &json!({"record": "feedback", "note": "已处置"}),
        )
        .await;
    let told = app
        .store
        .notifications()
        .case_notifications(&shouwang_domain::ids::CaseId::from(case.as_str()))
        .await
        .unwrap();
    assert!(
        told.iter()
            .any(|n| n.kind == "feedback" && n.username == "teacher_a")
    );
}

fn photo() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend(std::iter::repeat_n(7u8, 2048));
    b
}

fn upload(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    )
}

/// Issue 24: the reporting school's evidence named the teacher (its file name held her phone) and
/// the timeline named the school's account, to the town, the village and oversight. Everything the
/// reporter does on the case is theirs: only those who may see the reporter read it. The figures
/// by kind of reporter show no cell small enough to name a case's reporter.
#[tokio::test]
async fn the_reporters_evidence_and_notes_stay_with_those_who_may_see_the_reporter() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    app.add_user("oversight", Role::Oversight, "522730", None)
        .await;
    let teacher = app.login("teacher_a").await;
    let filed: Value = teacher
        .post_json("/api/v1/reports", &living_alone())
        .await
        .json()
        .await
        .unwrap();
    let case = filed["case_id"].as_str().unwrap().to_owned();
    let r = teacher
        .client
        .post(format!("{}/api/v1/cases/{case}/attachments", teacher.base))
        .multipart(upload(
            "王老师13912345678的说明.pdf",
            b"%PDF-1.7\n%%EOF".to_vec(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let evidence = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let police = app.login("police_a").await;
    let r = police
        .post_json(
            &format!("/api/v1/reports/{}/receive", filed["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());

    for who in ["town_a", "village_a", "oversight"] {
        let u = app.login(who).await;
        let view = u.get(&format!("/api/v1/cases/{case}")).await;
        if view.status() == StatusCode::NOT_FOUND {
            continue;
        }
        let view = view.text().await.unwrap();
        let list = u
            .get(&format!("/api/v1/cases/{case}/attachments"))
            .await
            .text()
            .await
            .unwrap();
        let page = u.get(&format!("/cases/{case}")).await.text().await.unwrap();
        for text in [&view, &list, &page] {
            assert!(
                !text.contains("teacher_a")
                    && !text.contains("13912345678")
                    && !text.contains("王老师"),
                "{who} reads the reporter: {text}"
            );
        }
        assert_eq!(
            u.get(&format!("/api/v1/cases/{case}/attachments/{evidence}"))
                .await
                .status(),
            StatusCode::NOT_FOUND,
            "{who}"
        );
        // One report that day: no breakdown by reporter small enough to name its kind.
        let f = u
            .get("/api/v1/cases/figures?from=2026-11-24&to=2026-11-24")
            .await;
        if f.status() == StatusCode::OK {
            let f: Value = f.json().await.unwrap();
            assert!(f["reports"].as_i64().unwrap() >= 1, "{who}: {f}");
            assert!(
                f["by_reporter"].as_array().unwrap().is_empty(),
                "{who}: {f}"
            );
        }
    }
    // The police handling it and the county read it all.
    for who in ["police_a", "county"] {
        let u = app.login(who).await;
        let list = u
            .get(&format!("/api/v1/cases/{case}/attachments"))
            .await
            .text()
            .await
            .unwrap();
        assert!(list.contains("13912345678"), "{who}: {list}");
    }
    let f = app
        .login("county")
        .await
        .get_json("/api/v1/cases/figures?from=2026-11-24&to=2026-11-24")
        .await;
    assert_eq!(f["by_reporter"][0]["count"], 1, "{f}");
}

/// Evidence: type read from the bytes, size and count limited (also under a parallel burst),
/// sealed at rest, read by those who work on the case and by its uploader only, served sandboxed.
#[tokio::test]
async fn evidence_is_checked_sealed_and_scoped_like_the_case() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    let teacher = app.login("teacher_a").await;
    let filed: Value = teacher
        .post_json("/api/v1/reports", &living_alone())
        .await
        .json()
        .await
        .unwrap();
    let case = filed["case_id"].as_str().unwrap().to_owned();
    let url = |u: &User| format!("{}/api/v1/cases/{case}/attachments", u.base);
    let police = app.login("police_a").await;

    // A page of HTML named .jpg, an empty file: refused, naming the field.
    for (name, bytes) in [
        ("伤情.jpg", b"<html><script>alert(1)</script>".to_vec()),
        ("空.pdf", vec![]),
    ] {
        let r = police
            .client
            .post(url(&police))
            .multipart(upload(name, bytes))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json::<Value>().await.unwrap()["field"], "file");
    }
    // Past 10 MB: refused before it is kept.
    let r = police
        .client
        .post(url(&police))
        .multipart(upload("大.jpg", {
            let mut b = photo();
            b.resize(11 << 20, 0);
            b
        }))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(
            r.status(),
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::BAD_REQUEST
        ),
        "{}",
        r.status()
    );
    let r = police
        .client
        .post(url(&police))
        .multipart(upload("C:\\fakepath\\伤情.jpg", photo()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["kind"], "image/jpeg");
    assert_eq!(a["name"], "伤情.jpg");
    let r = teacher
        .client
        .post(url(&teacher))
        .multipart(upload("statement.pdf", b"%PDF-1.7\n%%EOF".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // The police see both; the reporter only their own; another town nothing.
    assert_eq!(
        police
            .get_json(&format!("/api/v1/cases/{case}/attachments"))
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let own = teacher
        .get_json(&format!("/api/v1/cases/{case}/attachments"))
        .await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    assert_eq!(own["items"][0]["name"], "statement.pdf");
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        teacher
            .get(&format!("/api/v1/cases/{case}/attachments/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let town_b = app.login("town_b").await;
    assert_eq!(
        town_b
            .get(&format!("/api/v1/cases/{case}/attachments"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Served as what it is, sandboxed, not cached.
    let r = police
        .get(&format!("/api/v1/cases/{case}/attachments/{id}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), photo());
    // Sealed at rest: neither the name nor the bytes are in the database as written.
    let db = app.raw_db().await;
    let (name, data): (String, String) =
        sqlx::query_as("SELECT name, data FROM case_attachments WHERE id = $1")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(!name.contains("伤情"));
    use base64::Engine;
    assert!(!data.contains(&base64::engine::general_purpose::STANDARD.encode(&photo()[..64])));

    // Forty uploads at once on a case that holds thirty: thirty kept.
    let mut burst = Vec::new();
    for i in 0..40 {
        let client = police.client.clone();
        let u = url(&police);
        burst.push(tokio::spawn(async move {
            client
                .post(u)
                .multipart(upload(&format!("{i}.jpg"), photo()))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    for b in burst {
        if b.await.unwrap() == StatusCode::CREATED {
            created += 1;
        }
    }
    assert_eq!(created, 28, "30 a case, 2 were there");
    assert_eq!(
        police
            .get_json(&format!("/api/v1/cases/{case}/attachments"))
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        30
    );
}

/// A temporary guardianship that has run 180 days with the parents not back meets a ground of
/// 民法典 Art. 36: the case reminds civil affairs to apply, until someone does.
#[tokio::test]
async fn civil_affairs_are_reminded_to_apply_for_revocation_when_the_facts_meet_a_ground() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    let teacher = app.login("teacher_a").await;
    let filed: Value = teacher
        .post_json("/api/v1/reports", &living_alone())
        .await
        .json()
        .await
        .unwrap();
    let (report, case) = (
        filed["id"].as_str().unwrap().to_owned(),
        filed["case_id"].as_str().unwrap().to_owned(),
    );
    let police = app.login("police_a").await;
    police
        .post_json(&format!("/api/v1/reports/{report}/receive"), &json!({}))
        .await;
    let town = app.login("town_a").await;
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/placements"),
            &json!({"reason": "guardian_refuses", "placement": "relatives", "carer": "姑姑王某"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.json::<Value>().await.unwrap()["revocation_reminders"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.clock.advance(181 * 24 * 3600);
    let town = app.login("town_a").await;
    let c = town.get_json(&format!("/api/v1/cases/{case}")).await;
    let reminders = c["revocation_reminders"].as_array().unwrap();
    assert_eq!(reminders.len(), 1, "{c}");
    assert!(reminders[0].as_str().unwrap().contains("181天"));
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/interventions"),
            &json!({"measure": "revocation", "stage": "applied", "note": "向县法院申请",
                    "ground": "neglect_in_danger", "applicant": "县民政局"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.json::<Value>().await.unwrap()["revocation_reminders"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// The county's court and procuratorate reach no child's file or list — only the cases sent to
/// them: the court those with an application for a protection order or a revocation, the
/// procuratorate those with a criminal referral; they record their own decisions, and do not learn
/// the reporter.
#[tokio::test]
async fn the_court_and_the_procuratorate_reach_only_the_cases_sent_to_them() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    app.add_user("court", Role::Court, "522730", None).await;
    app.add_user("procuratorate", Role::Procuratorate, "522730", None)
        .await;
    let village = app.login("village_a").await;
    let child = village.register(&boy(VILLAGE_A)).await;
    let child_id = child["id"].as_str().unwrap().to_owned();
    let filed: Value = village
        .post_json(
            "/api/v1/reports",
            &json!({"child_id": child_id, "situations": ["domestic_violence"], "description": "邻居反映孩子常被打"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let (report, case) = (
        filed["id"].as_str().unwrap().to_owned(),
        filed["case_id"].as_str().unwrap().to_owned(),
    );
    let court = app.login("court").await;
    let procuratorate = app.login("procuratorate").await;
    for u in [&court, &procuratorate] {
        assert_eq!(u.get_json("/api/v1/children?status=all").await["total"], 0);
        assert_eq!(
            u.get(&format!("/api/v1/children/{child_id}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            u.get(&format!("/api/v1/cases/{case}")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            u.get_json("/api/v1/reports").await["items"]
                .as_array()
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            u.get("/api/v1/exports/roster?region=522730").await.status(),
            StatusCode::FORBIDDEN
        );
        let r = u
            .post_json(
                "/api/v1/reports",
                &json!({"child_id": child_id, "situations": ["living_alone"], "description": "x"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let police = app.login("police_a").await;
    police
        .post_json(&format!("/api/v1/reports/{report}/receive"), &json!({}))
        .await;
    // The town applies for a protection order: the court now has the case.
    let town = app.login("town_a").await;
    let r = town
        .post_json(
            &format!("/api/v1/cases/{case}/interventions"),
            &json!({"measure": "protection_order", "stage": "applied", "note": "代为申请人身安全保护令"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c = court.get_json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(c["reporter_confidential"], true);
    assert!(c["reporter"].is_null());
    assert_eq!(
        court.get_json("/api/v1/reports").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        procuratorate
            .get(&format!("/api/v1/cases/{case}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The court records its decision, not the police's or the town's steps.
    let r = court
        .post_json(
            &format!("/api/v1/cases/{case}/interventions"),
            &json!({"measure": "protection_order", "stage": "granted", "note": "裁定准许"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = court
        .post_json(
            &format!("/api/v1/cases/{case}/interventions"),
            &json!({"measure": "admonition", "stage": "done", "note": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A criminal referral reaches the procuratorate, which records its receipt.
    let r = police
        .post_json(
            &format!("/api/v1/cases/{case}/interventions"),
            &json!({"measure": "criminal_referral", "stage": "done", "note": "移送审查起诉"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = procuratorate
        .post_json(
            &format!("/api/v1/cases/{case}/interventions"),
            &json!({"measure": "criminal_referral", "stage": "filed", "note": "已受理"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Still no child's file.
    assert_eq!(
        court
            .get(&format!("/api/v1/children/{child_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// Each step of the emergency response is due a time after receipt (two hours for what stops harm,
/// a day for the parents); a step not recorded in time is marked late until it is recorded.
#[tokio::test]
async fn a_step_not_recorded_in_its_time_is_marked_late() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    let teacher = app.login("teacher_a").await;
    let mut body = living_alone();
    body["situations"] = json!(["living_alone", "domestic_violence"]);
    let filed: Value = teacher
        .post_json("/api/v1/reports", &body)
        .await
        .json()
        .await
        .unwrap();
    let case = filed["case_id"].as_str().unwrap().to_owned();
    let police = app.login("police_a").await;
    police
        .post_json(
            &format!("/api/v1/reports/{}/receive", filed["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    let step = |c: &Value, code: &str| -> Value {
        c["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == code)
            .unwrap_or_else(|| panic!("{code} not in {c}"))
            .clone()
    };
    let c = police.get_json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(step(&c, "stop_violence")["overdue"], false);
    assert!(step(&c, "stop_violence")["due_at"].is_string());
    app.clock.advance(3 * 3600);
    let police = app.login("police_a").await;
    let c = police.get_json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(step(&c, "stop_violence")["overdue"], true, "{c}");
    assert_eq!(step(&c, "order_parents_back")["overdue"], false);
    let r = police
        .post_json(
            &format!("/api/v1/cases/{case}/steps"),
            &json!({"step": "stop_violence", "outcome": "done", "note": "已制止"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(22 * 3600);
    let police = app.login("police_a").await;
    let c = police.get_json(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(step(&c, "stop_violence")["overdue"], false);
    assert_eq!(step(&c, "order_parents_back")["overdue"], true);
}

/// Issue 25: one click on a case page writes its action and one read — the action does not build
/// a view the page throws away and builds again (it wrote three audit rows).
#[tokio::test]
async fn a_click_on_a_case_page_audits_the_action_and_one_read() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    let teacher = app.login("teacher_a").await;
    let filed: Value = teacher
        .post_json("/api/v1/reports", &living_alone())
        .await
        .json()
        .await
        .unwrap();
    let (report, case) = (
        filed["id"].as_str().unwrap().to_owned(),
        filed["case_id"].as_str().unwrap().to_owned(),
    );
    let police = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(browser_headers(&app.base))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = police
        .post(format!("{}/login", app.base))
        .form(&[("username", "police_a"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let inbox = police
        .get(format!("{}/reports", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = inbox
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .expect("the inbox has a form")
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let admin = app.login("admin").await;
    let count = |action: &'static str| {
        let (admin, case) = (&admin, case.clone());
        async move {
            admin
                .get_json(&format!("/api/v1/audit?action={action}&entity_id={case}"))
                .await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("case_read").await, 0);

    // 受理 from the inbox: the form posts, the page follows the redirect.
    let r = police
        .post(format!("{}/reports/{report}/receive", app.base))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/cases/{case}?received=1"));
    let page = police
        .get(format!("{}{to}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(count("case_receive").await, 1);
    assert_eq!(count("case_read").await, 1, "one read for one page shown");

    // A step from the case page: again the action and the page's one read.
    let r = police
        .post(format!("{}/cases/{case}/steps", app.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("step", "order_parents_back"),
            ("outcome", "done"),
            ("note", "已电话责令父母返回"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    police
        .get(format!("{}/cases/{case}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(count("case_respond").await, 1);
    assert_eq!(count("case_read").await, 2);

    // The API answers an action with the case, read and audited once.
    let r = police
        .post(format!("{}/api/v1/cases/{case}/notify-town", app.base))
        .header("x-csrf-token", csrf.as_str())
        .json(&json!({"note": "已通报乡镇"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(count("case_read").await, 3);
}

/// A guardian who abandoned a child and is given 批评教育 (too minor for a penalty) is 通报 to the
/// village committee (沈阳 002 一9), which then watches over the child; 批评教育 on another
/// situation tells nobody.
#[tokio::test]
async fn criticism_for_abandonment_is_told_to_the_village() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    let teacher = app.login("teacher_a").await;
    let police = app.login("police_a").await;
    let mut abandoned = living_alone_report();
    abandoned.situations = vec!["abandoned".into()];
    let mut neglected = living_alone_report();
    neglected.situations = vec!["guardian_neglect".into()];
    let mut cases = Vec::new();
    for report in [&abandoned, &neglected] {
        let filed = teacher.file_report(report).await.created();
        let id = filed["id"].as_str().unwrap().to_owned();
        police.receive(&id).await.ok();
        cases.push(filed["case_id"].as_str().unwrap().to_owned());
    }
    for case in &cases {
        let r = police
            .post_json(
                &format!("/api/v1/cases/{case}/interventions"),
                &json!({"measure": "criticism_education", "stage": "done", "note": "批评教育"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    assert_eq!(told(&app, "village_a", "intervention_notice").await, 1);
    assert_eq!(told(&app, "village_a2", "intervention_notice").await, 0);
}

/// The village's part in a 告诫书 and a 人身保护令 (内蒙古 001 四(四)): told when either is served,
/// it records its 入户跟踪查访 and reports a breach of the order, which tells the police and the town.
#[tokio::test]
async fn the_village_follows_up_a_warning_letter_and_reports_a_breached_order() {
    let app = spawn_app().await;
    with_case_users(&app).await;
    let teacher = app.login("teacher_a").await;
    let police = app.login("police_a").await;
    let town = app.login("town_a").await;
    let village = app.login("village_a").await;
    let mut report = living_alone_report();
    report.situations = vec!["domestic_violence".into()];
    let filed = teacher.file_report(&report).await.created();
    police.receive(filed["id"].as_str().unwrap()).await.ok();
    let case = filed["case_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/cases/{case}/interventions");
    let record =
        |measure: &str, stage: &str| json!({"measure": measure, "stage": stage, "note": "记录"});
    // The village may not serve a letter, but is told when the police do.
    let r = village
        .post_json(&path, &record("warning_letter", "issued"))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    for stage in ["issued", "served", "village_told"] {
        let r = police
            .post_json(&path, &record("warning_letter", stage))
            .await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{stage}: {}",
            r.text().await.unwrap()
        );
    }
    assert_eq!(told(&app, "village_a", "intervention_notice").await, 1);
    let page = village
        .get(&format!("/cases/{case}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("告诫书送达后的入户跟踪查访"), "{page}");
    let r = village
        .post_json(&path, &record("warning_letter", "follow_up"))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // A protection order: applied and granted by civil affairs, served by the police, then the
    // village reports that it is not kept.
    for (who, stage) in [(&town, "applied"), (&town, "granted"), (&police, "served")] {
        let r = who
            .post_json(&path, &record("protection_order", stage))
            .await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{stage}: {}",
            r.text().await.unwrap()
        );
    }
    assert_eq!(told(&app, "village_a", "intervention_notice").await, 2);
    let r = village
        .post_json(&path, &record("protection_order", "breached"))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(told(&app, "police_a", "intervention_notice").await, 1);
    assert_eq!(told(&app, "town_a", "intervention_notice").await, 1);
    assert_eq!(told(&app, "town_b", "intervention_notice").await, 0);
}
