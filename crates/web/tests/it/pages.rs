//! The Chinese pages: login, CSRF on forms, registration with errors next to the field, roster.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

pub async fn browser_login(app: &TestApp, username: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(browser_headers(&app.base))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .post(format!("{}/login", app.base))
        .form(&[("username", username), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A page with a form (the password form, for an account that must replace its first
    // password).
    let mut r = client
        .get(format!("{}/children/new", app.base))
        .send()
        .await
        .unwrap();
    if r.status() == StatusCode::SEE_OTHER {
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        r = client
            .get(format!("{}{to}", app.base))
            .send()
            .await
            .unwrap();
    }
    let page = r.text().await.unwrap();
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    (client, csrf)
}

fn form_of(input: &shouwang_domain::input::ChildInput, csrf: &str) -> Vec<(String, String)> {
    let mut out = vec![("csrf_token".to_owned(), csrf.to_owned())];
    if let serde_json::Value::Object(m) = serde_json::to_value(input).unwrap() {
        for (k, v) in m {
            match v {
                serde_json::Value::String(s) => out.push((k, s)),
                serde_json::Value::Array(items) => out.extend(
                    items
                        .into_iter()
                        .map(|i| (k.clone(), i.as_str().unwrap().to_owned())),
                ),
                _ => {}
            }
        }
    }
    out
}

#[tokio::test]
async fn pages_need_a_login() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/children", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");
    let login = client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("农村留守儿童关爱保护信息系统"));
}

#[tokio::test]
async fn registering_through_the_form_shows_errors_next_to_the_field_then_succeeds() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let (client, csrf) = browser_login(&app, "village_a").await;
    let mut input = boy(VILLAGE_A);
    let good_id = input.id_number.clone().unwrap();
    input.id_number = Some(format!(
        "{}{}",
        &good_id[..17],
        if good_id.ends_with('0') { '1' } else { '0' }
    ));
    let r = client
        .post(format!("{}/children", app.base))
        .form(&form_of(&input, &csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"err-id_number\">身份证号码校验位错误"),
        "error next to the field"
    );
    assert!(html.contains("value=\"王小明\""), "typed values are kept");
    assert_eq!(app.count_children().await, 0);

    input.id_number = Some(good_id);
    let r = client
        .post(format!("{}/children", app.base))
        .form(&form_of(&input, &csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let file = client
        .get(format!("{}{location}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        file.contains("登记成功")
            && file.contains("王小明")
            && file.contains("符合农村留守儿童认定条件")
    );
    assert!(file.contains("522730************"));
    let roster = client
        .get(format!("{}/children?q=wxm", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(roster.contains("王小明"));
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let (client, _) = browser_login(&app, "village_a").await;
    let r = client
        .post(format!("{}/children", app.base))
        .form(&form_of(&boy(VILLAGE_A), "forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("页面已过期"));
    assert_eq!(app.count_children().await, 0);
}

/// Every form a signed-in user posts (not the streamed uploads, which check the token they
/// read) is refused before its handler runs unless it carries the session's own token in its
/// body: none at all, another user's real token, or this session's token put in the address
/// instead of the form.
#[tokio::test]
async fn every_form_post_is_refused_without_its_own_token_in_the_body() {
    const FORMS: [&str; 46] = [
        "/cases/x/assessments",
        "/cases/x/close-decision",
        "/cases/x/close-request",
        "/cases/x/interventions",
        "/cases/x/notify-town",
        "/cases/x/placements",
        "/cases/x/placements/y/end",
        "/cases/x/police-records",
        "/cases/x/referrals",
        "/cases/x/reopen",
        "/cases/x/steps",
        "/children",
        "/children/x/absences",
        "/children/x/carer-checks",
        "/children/x/edit",
        "/children/x/exit",
        "/children/x/parent-contacts",
        "/children/x/routings",
        "/children/x/school",
        "/children/x/transfer",
        "/children/x/visitor",
        "/children/x/visits",
        "/discoveries",
        "/discoveries/x/close",
        "/import/x/commit",
        "/import/x/discard",
        "/import/x/mapping",
        "/logout",
        "/password",
        "/quarterly",
        "/quarterly/x/action",
        "/reconcile/items/x",
        "/reconcile/jobs/x/start",
        "/referrals/x/answer",
        "/reports/new",
        "/reports/x/receive",
        "/returns/x/action",
        "/routings/x/action",
        "/second-factor/confirm",
        "/second-factor/off",
        "/second-factor/setup",
        "/settings",
        "/users",
        "/users/x/disable",
        "/users/x/second-factor/reset",
        "/login/second-factor",
    ];
    let app = spawn_app().await;
    app.with_standard_users().await;
    let (client, own) = browser_login(&app, "county").await;
    let (_, others) = browser_login(&app, "town_a").await;
    assert_ne!(own, others);
    for path in FORMS {
        for (query, body) in [
            ("", vec![("name", "王小明")]),
            (
                "",
                vec![("csrf_token", others.as_str()), ("name", "王小明")],
            ),
            (&*format!("?csrf_token={own}"), vec![("name", "王小明")]),
        ] {
            let r = client
                .post(format!("{}{path}{query}", app.base))
                .form(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::BAD_REQUEST,
                "{path}{query} {body:?}"
            );
            assert!(
                r.text().await.unwrap().contains("页面已过期"),
                "{path}{query} {body:?}"
            );
        }
    }
    // Nothing was done: no child, and the session still works (the logout was refused too).
    assert_eq!(app.count_children().await, 0);
    let home = client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
}

#[tokio::test]
async fn another_towns_user_cannot_open_or_find_the_child_in_the_ui() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let t = app.login("town_a").await;
    let id = t.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (client, _) = browser_login(&app, "town_b").await;
    let r = client
        .get(format!("{}/children/{id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let roster = client
        .get(format!("{}/children?q=王小明", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!roster.contains(&format!("/children/{id}")) && roster.contains("没有符合条件的儿童"));
}

#[tokio::test]
async fn editing_through_the_form_keeps_the_hidden_id_numbers_and_records_only_what_changed() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let input = boy(VILLAGE_A);
    let created = v.register(&input).await;
    let id = created["id"].as_str().unwrap();
    let (client, csrf) = browser_login(&app, "village_a").await;
    let form = client
        .get(format!("{}/children/{id}/edit", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let full_id = input.id_number.clone().unwrap();
    assert!(
        !form.contains(&full_id),
        "the edit form never shows the full number"
    );
    assert!(form.contains("（不修改请留空）"));
    // The browser submits every field; ID number fields stay empty.
    let mut edited = input.clone();
    edited.id_number = None;
    edited.school_name = Some("龙里县第三小学".into());
    let mut fields = form_of(&edited, &csrf);
    fields.push(("version".into(), "1".into()));
    let r = client
        .post(format!("{}/children/{id}/edit", app.base))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = v.get_json(&format!("/api/v1/children/{id}")).await;
    assert_eq!(after["file"]["school_name"], "龙里县第三小学");
    assert_eq!(after["id_number_masked"], created["id_number_masked"]);
    let history = client
        .get(format!("{}/children/{id}/history", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        history.contains("就读学校")
            && history.contains("龙里县第三小学")
            && history.contains("修改")
    );
    // A stale form (version 1 again) is refused with a clear message.
    let r = client
        .post(format!("{}/children/{id}/edit", app.base))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("已被他人修改"));
}

#[tokio::test]
async fn exiting_through_the_form_takes_the_child_off_the_roster() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let t = app.login("town_a").await;
    let id = t.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (client, csrf) = browser_login(&app, "town_a").await;
    let page = client
        .get(format!("{}/children/{id}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("退出花名册") && page.contains("父母双方同时外出"));
    let r = client
        .post(format!("{}/children/{id}/exit", app.base))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("version", "1"),
            ("reason", "moved_with_parents"),
            ("date", "2026-11-20"),
            ("note", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = client
        .get(format!("{}/children/{id}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("已退出") && page.contains("随父母迁出"));
    assert_eq!(t.get_json("/api/v1/children").await["total"], 0);
}

/// The card's number and the list its link opens, read off the home page as a person would.
async fn card(user: &User, home: &str, label: &str) -> (i64, i64) {
    let before = home.split(label).next().unwrap();
    let link = before.rsplit("href=\"").next().unwrap();
    let href = link.split('"').next().unwrap().replace("&amp;", "&");
    let number: i64 = link
        .split("<b>")
        .nth(1)
        .unwrap()
        .split("</b>")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let query = href.split_once('?').map(|(_, q)| q).unwrap_or("");
    let listed = user.get_json(&format!("/api/v1/children?{query}")).await["total"]
        .as_i64()
        .unwrap();
    (number, listed)
}

#[tokio::test]
async fn the_poor_guardianship_card_counts_and_links_the_same_children() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    for (i, (name, assessment)) in [
        ("甲", "受委托监护人监护能力不足"),
        ("乙", "受委托监护人监护能力不足"),
        ("丙", "监护情况一般"),
        ("丁", "监护情况较好"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut child = boy_named(
            VILLAGE_A,
            &format!("王{name}"),
            ymd(2015, 3, 1),
            11 + 2 * i as u16,
        );
        child.guardianship_type = Some(assessment.into());
        village.register(&child).await;
    }
    let (client, _) = browser_login(&app, "town_a").await;
    let home = client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let town = app.login("town_a").await;
    let (number, listed) = card(&town, &home, "监护情况“差”").await;
    assert_eq!((number, listed), (2, 2), "{home}");
    for label in ["在册留守儿童", "无人监护", "失学辍学", "无户籍", "已退出"] {
        let (number, listed) = card(&town, &home, label).await;
        assert_eq!(number, listed, "card {label}");
    }
}

/// A question left unanswered stays unanswered when the form comes back with errors: a blank
/// 户口 or 民族 is not turned into "否" or a preselected 汉族 that the next submission would save
/// as a fact (the file would then leave the 信息不全 list on a guess).
#[tokio::test]
async fn a_form_sent_back_with_errors_keeps_unanswered_questions_blank() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let (client, csrf) = browser_login(&app, "village_a").await;
    let blank_form = client
        .get(format!("{}/children/new", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The form's sections and labels come from the field catalogue.
    for title in [
        "一、个人基本情况",
        "四、监护类型",
        "六、村（居）委会联系人与其他",
        "祖母出生日期",
    ] {
        assert!(blank_form.contains(title), "{title}");
    }
    let mut input = boy(VILLAGE_A);
    input.hukou_registered = None;
    input.hukou_rural = None;
    input.ethnicity = None;
    input.name = None;
    let r = client
        .post(format!("{}/children", app.base))
        .form(&form_of(&input, &csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"err-name\">请填写姓名"));
    for page in [&blank_form, &html] {
        for q in ["hukou_registered", "hukou_rural"] {
            assert!(
                !page.contains(&format!("name=\"{q}\" value=\"false\" checked")),
                "{q} must not come back as 否"
            );
        }
        let ethnicity = &page[page.find("id=\"f-ethnicity\"").unwrap()..];
        let ethnicity = &ethnicity[..ethnicity.find("</select>").unwrap()];
        assert!(!ethnicity.contains("selected"), "no 民族 preselected");
    }
}

/// The roster's area picker drills down: a county user is offered the towns, then a town's
/// villages once the town is chosen — never every village at once.
#[tokio::test]
async fn the_roster_area_picker_offers_one_level_at_a_time() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let county = app.login("county").await;
    let options = |html: &str| -> Vec<String> {
        let start = html.find(r#"<select name="region""#).unwrap();
        let end = start + html[start..].find("</select>").unwrap();
        html[start..end]
            .split("<option value=\"")
            .skip(2)
            .map(|o| o.split('"').next().unwrap().to_owned())
            .collect()
    };
    let html = county.get("/children").await.text().await.unwrap();
    let top = options(&html);
    assert!(
        top.contains(&TOWN_A.to_owned()) && top.contains(&TOWN_B.to_owned()),
        "{top:?}"
    );
    assert!(top.iter().all(|c| c.len() == 9), "towns only: {top:?}");
    let html = county
        .get(&format!("/children?region={TOWN_A}"))
        .await
        .text()
        .await
        .unwrap();
    let down = options(&html);
    assert_eq!(down[0], TOWN_A, "the way to the chosen town first");
    assert!(
        down[1..]
            .iter()
            .all(|c| c.starts_with(TOWN_A) && c.len() == 12),
        "{down:?}"
    );
    assert!(down.contains(&VILLAGE_A.to_owned()));
    assert!(!down.iter().any(|c| c.starts_with(TOWN_B)));
}

/// GET `path` as `user` with and without `Accept-Encoding: gzip`: (content-encoding, bytes on the
/// wire with gzip, the body without).
async fn fetched_both_ways(user: &User, path: &str) -> (Option<String>, Vec<u8>, Vec<u8>) {
    let url = format!("{}{path}", user.base);
    let zipped = user
        .client
        .get(&url)
        .header(reqwest::header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.status(), StatusCode::OK, "{path}");
    let encoding = zipped
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned());
    let wire = zipped.bytes().await.unwrap().to_vec();
    let plain = user.get(path).await;
    assert!(
        plain
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .is_none()
    );
    (encoding, wire, plain.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn pages_scripts_and_json_are_gzipped_for_slow_connections_but_workbooks_are_not() {
    use std::io::Read;
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let id = village.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        "/static/htmx.min.js".to_owned(),
        "/children/new".to_owned(),
        format!("/api/v1/children/{id}"),
    ] {
        let (encoding, wire, plain) = fetched_both_ways(&village, &path).await;
        assert_eq!(encoding.as_deref(), Some("gzip"), "{path}");
        assert!(
            wire.len() * 2 < plain.len(),
            "{path}: {} of {}",
            wire.len(),
            plain.len()
        );
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&wire[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        if path.starts_with("/static") {
            assert_eq!(unzipped, plain, "{path}");
        } else {
            // Pages carry a fresh CSRF token each time; the text around it is the same.
            assert!(
                unzipped.len().abs_diff(plain.len()) < 64,
                "{path}: {} vs {}",
                unzipped.len(),
                plain.len()
            );
        }
    }
    // A workbook is a zip already: it goes as it is.
    let (encoding, wire, plain) =
        fetched_both_ways(&village, &format!("/children/{id}/form.xlsx")).await;
    assert_eq!(encoding, None);
    assert_eq!(&wire[..4], b"PK\x03\x04");
    assert_eq!(wire.len(), plain.len());
}

#[tokio::test]
async fn the_live_id_check_never_hands_out_the_check_digit_fills_sex_and_birth_and_says_when_registered()
 {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let check = |user: User, number: String, editing: Option<String>| async move {
        let mut path = format!("/children/check-id?id_number={number}");
        if let Some(e) = editing {
            path.push_str(&format!("&editing={e}"));
        }
        let r = user.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.unwrap()
    };
    let good = shouwang_domain::sample::id_number_for("522730", ymd(2015, 3, 8), 24);
    // A middle digit mistyped: refused, and nothing says which last character would fit.
    let mut typo = good.clone().into_bytes();
    typo[10] = if typo[10] == b'9' { b'8' } else { typo[10] + 1 };
    let typo = String::from_utf8(typo).unwrap();
    let html = check(village.clone(), typo.clone(), None).await;
    assert!(
        html.contains("class=\"bad\"") && html.contains("校验位错误"),
        "{html}"
    );
    for c in "0123456789X".chars() {
        let fitting = format!("{}{c}", &typo[..17]);
        if shouwang_domain::id_number::IdNumber::parse(&fitting).is_ok() {
            assert!(!html.contains(&format!("应为{c}")), "{html}");
        }
    }
    assert!(!html.contains("应为"), "{html}");
    // A 15-digit number is no child's.
    let html = check(village.clone(), "431389760616601".into(), None).await;
    assert!(html.contains("15位旧身份证号码"), "{html}");
    // Valid: the sex and birth date it holds, for the form to fill in; not registered yet.
    let html = check(village.clone(), good.clone(), None).await;
    assert!(
        html.contains("data-sex=\"女\"") && html.contains("data-birth=\"2015-03-08\""),
        "{html}"
    );
    assert!(!html.contains("已在"), "{html}");
    // Registered in the user's area: a link to the file; elsewhere: only that it exists.
    let mut girl = boy(VILLAGE_A);
    girl.name = Some("石小花".into());
    girl.sex = Some("女".into());
    girl.birth_date = Some("2015-03-08".into());
    girl.id_number = Some(good.clone());
    let id = village.register(&girl).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let html = check(village.clone(), good.clone(), None).await;
    assert!(html.contains(&format!("href=\"/children/{id}\"")), "{html}");
    // Its own number, on its own edit form, is no duplicate.
    let html = check(village.clone(), good.clone(), Some(id.clone())).await;
    assert!(!html.contains("已在"), "{html}");
    let other = app.login("town_b").await;
    let html = check(other, good.clone(), None).await;
    assert!(html.contains("已在其他地区登记"), "{html}");
    assert!(!html.contains(&id), "{html}");
}

/// Times on pages are China's: a report filed at 00:30 in Beijing (16:30 UTC the day before) shows
/// that day and time, on the queue and on the child's routings, never its UTC text.
#[tokio::test]
async fn pages_show_times_and_days_in_chinas_time() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    app.clock.set(ymd(2026, 11, 24));
    // 04:00 UTC + 12.5 h = 16:30 UTC = 00:30 on the 25th in Beijing.
    app.clock.advance(12 * 3600 + 1800);
    let village = app.login("village_a").await;
    let r = village
        .post_json(
            "/api/v1/discoveries",
            &serde_json::json!({"town_code": TOWN_A, "child_name": "李某", "situation": "独自在家"}),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let child = village.register(&boy(VILLAGE_A)).await;
    let id = child["id"].as_str().unwrap();
    let page = app
        .login("town_a")
        .await
        .get("/discoveries")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("2026-11-25 00:30"), "{page}");
    assert!(!page.contains("2026-11-24T16:30"), "{page}");
    let file = village
        .get(&format!("/children/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(file.contains("登记于 2026-11-25 00:30"), "{file}");
}

/// The import page states once what holds for the whole file (`字段=值`, as `--fill`): a wrong
/// field is named on the form and nothing is stored; a right one shows on the preview and fills
/// every row that leaves it blank.
#[tokio::test]
async fn the_import_page_fills_what_the_whole_file_states_once() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let town = app.login("town_a").await;
    let page = town.get("/import").await.text().await.unwrap();
    let csrf = csrf_of(&page);
    let csv = "姓名,性别,出生日期,村,就学情况\n李小红,女,2015-02-03,冠山社区,小学\n";
    let upload = |fill: &str| {
        reqwest::multipart::Form::new()
            .text("csrf_token", csrf.clone())
            .text("fill", fill.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("花名册.csv"),
            )
    };
    let r = town
        .client
        .post(format!("{}/import", town.base))
        .multipart(upload("不存在的栏目=1"))
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("不存在的栏目"), "{body}");
    assert!(body.contains("error-box"), "{body}");
    let r = town
        .client
        .post(format!("{}/import", town.base))
        .multipart(upload("户籍性质=农业户口\n\n是否学校寄宿=否"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    let id = job.rsplit('/').next().unwrap().to_owned();
    // Read in the background: wait for the preview.
    let mut preview = String::new();
    for _ in 0..100 {
        preview = town.get(&job).await.text().await.unwrap();
        if preview.contains("name=\"mode\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        preview.contains("全表统一填写") && preview.contains("户籍性质=农业户口"),
        "{preview}"
    );
    let r = town
        .post_json(
            &format!("/api/v1/imports/{id}/commit"),
            &serde_json::json!({"mode": "valid"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    for _ in 0..100 {
        let v = town.get_json(&format!("/api/v1/imports/{id}")).await;
        if v["state"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let list = town.get_json("/api/v1/children?q=李小红&status=all").await;
    let child = list["items"][0]["id"].as_str().unwrap().to_owned();
    let file = town.get_json(&format!("/api/v1/children/{child}")).await;
    assert_eq!(file["file"]["hukou_rural"], true, "{file}");
    assert_eq!(file["file"]["boarding"], false, "{file}");

    // The result links to exactly the files this import wrote, 信息不全 or not; a child
    // registered by hand beside it is not among them, and no other town sees them.
    let done = town.get(&job).await.text().await.unwrap();
    assert!(done.contains(&format!("/children?import={id}")), "{done}");
    let village = app.login("village_a").await;
    village
        .register(&boy_named(VILLAGE_A, "张手登", ymd(2014, 5, 6), 7))
        .await;
    let written = town
        .get_json(&format!("/api/v1/children?import={id}"))
        .await;
    assert_eq!(written["total"], 1, "{written}");
    assert_eq!(written["items"][0]["id"], child.as_str(), "{written}");
    let all = town.get_json("/api/v1/children?status=all").await;
    assert!(all["total"].as_i64().unwrap() >= 2, "{all}");
    let page = town
        .get(&format!("/children?import={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("李小红")
            && !page.contains("张手登")
            && page.contains("只看这次导入写入的儿童"),
        "{page}"
    );
    let other = app.login("town_b").await;
    let theirs = other
        .get_json(&format!("/api/v1/children?import={id}"))
        .await;
    assert_eq!(theirs["total"], 0, "{theirs}");
    let bad = town.get("/api/v1/children?import=1%27%20OR%201%3D1").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert!(body.to_string().contains("import"), "{body}");
}

/// 为所选儿童填写: the 待补充 list completes the ticked files at once, only where they are blank,
/// refuses a field that tells one child from another, and reaches no file outside the user's area.
#[tokio::test]
async fn the_to_complete_list_fills_the_ticked_files_where_they_are_blank() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let village = app.login("village_a").await;
    let mut ids = Vec::new();
    for (i, (name, ethnicity)) in [("张一", None), ("张二", None), ("张三", Some("苗族"))]
        .into_iter()
        .enumerate()
    {
        let mut c = boy_named(VILLAGE_A, name, ymd(2015, 3, 2), 41 + 2 * i as u16);
        c.ethnicity = ethnicity.map(str::to_owned);
        ids.push(
            village.register(&c).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let list = village
        .get("/children?to_complete=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("为所选儿童填写"), "{list}");
    assert!(
        list.contains(&format!("name=\"id\" value=\"{}\"", ids[0])),
        "{list}"
    );
    let csrf = csrf_of(&list);
    let post = |user: &User, form: Vec<(&'static str, String)>| {
        let user = user.clone();
        async move {
            let r = user
                .client
                .post(format!("{}/children/fill", user.base))
                .form(&form)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let mut form: Vec<(&'static str, String)> = ids.iter().map(|i| ("id", i.clone())).collect();
    form.push(("csrf_token", csrf.clone()));
    // A field that tells one child from another is not filled for many.
    let mut bad = form.clone();
    bad.push(("fill", "姓名=张三".into()));
    let (status, body) = post(&village, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("姓名"), "{body}");
    let (status, body) = post(
        &village,
        vec![("csrf_token", csrf.clone()), ("fill", "民族=汉族".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("请先勾选"), "{body}");
    // Filled where blank; the one already stated keeps its value.
    let mut good = form.clone();
    good.push(("fill", "民族=汉族".into()));
    let (status, body) = post(&village, good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("已为 2 名儿童填写：民族=汉族"), "{body}");
    assert!(body.contains("另有 1 名"), "{body}");
    let ethnicity = |v: Value| v["file"]["ethnicity"].as_str().unwrap_or("").to_owned();
    // (民族 is kept by its GB 3304 code: 01 汉族.)
    assert_eq!(
        ethnicity(
            village
                .get_json(&format!("/api/v1/children/{}", ids[0]))
                .await
        ),
        "01"
    );
    assert_ne!(
        ethnicity(
            village
                .get_json(&format!("/api/v1/children/{}", ids[2]))
                .await
        ),
        "01"
    );
    // Another village's director cannot fill these files.
    let other = app.login("village_a2").await;
    let other_csrf = csrf_of(
        &other
            .get("/children?to_complete=1")
            .await
            .text()
            .await
            .unwrap(),
    );
    let (status, _) = post(
        &other,
        vec![
            ("csrf_token", other_csrf),
            ("id", ids[1].clone()),
            ("fill", "是否学校寄宿=否".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
