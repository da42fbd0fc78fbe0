//! The API is what its description says. A property-based tester reads the OpenAPI document,
//! generates requests for every documented operation from it — values that fit the schemas and
//! values that do not (wrong types, unknown fields, hostile text, other users' ids) — sends them
//! as users of every kind and as nobody, and checks each answer: never a server error, only a
//! status the operation documents, and a JSON body that matches the schema documented for it.
//! The seed is fixed, so a failure names a request that fails again.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use serde_json::{Map, Value, json};

use shouwang_domain::authz::Role;

use crate::helpers::*;

/// Requests sent (each a different operation, user and input).
const CASES: usize = 2500;

/// Resolves `{"$ref": "#/components/schemas/X"}` against the document.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => s,
    }
}

/// Text an attacker or a careless client sends.
fn hostile_text() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!("")),
        Just(json!("   ")),
        Just(json!("../../etc/passwd")),
        Just(json!("' OR 1=1 --")),
        Just(json!("<script>alert(1)</script>")),
        Just(json!("\u{0000}\u{202e}王")),
        Just(json!("x".repeat(5000))),
        Just(json!("𠀀𠀁🧒")),
        "\\PC{0,40}".prop_map(Value::from),
    ]
    .boxed()
}

/// Any JSON value at all, of any type.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        hostile_text(),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A value that fits the schema (mostly: a fit value is what reaches the deepest code).
fn fitting(doc: &Value, s: &Value, depth: u32) -> BoxedStrategy<Value> {
    let s = resolve(doc, s);
    if let Some(all) = s.get("oneOf").or(s.get("anyOf")).and_then(Value::as_array) {
        let options: Vec<BoxedStrategy<Value>> =
            all.iter().map(|o| fitting(doc, o, depth)).collect();
        return proptest::strategy::Union::new(options).boxed();
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array)
        && let Some(first) = all.first()
    {
        return fitting(doc, first, depth);
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return proptest::sample::select(values.clone()).boxed();
    }
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec!["string"],
    };
    let options: Vec<BoxedStrategy<Value>> = types
        .iter()
        .map(|t| match *t {
            "null" => Just(Value::Null).boxed(),
            "boolean" => any::<bool>().prop_map(Value::from).boxed(),
            "integer" => {
                let lo = s["minimum"].as_i64().unwrap_or(-5);
                (lo..lo + 1000).prop_map(Value::from).boxed()
            }
            "number" => (0.0f64..1.0).prop_map(Value::from).boxed(),
            "array" if depth < 4 => {
                prop::collection::vec(fitting(doc, &s["items"], depth + 1), 0..3)
                    .prop_map(Value::from)
                    .boxed()
            }
            "object" if depth < 4 => object(doc, s, depth),
            "string" => string(s),
            _ => Just(Value::Null).boxed(),
        })
        .collect();
    proptest::strategy::Union::new(options).boxed()
}

fn string(s: &Value) -> BoxedStrategy<Value> {
    if let Some(p) = s["pattern"].as_str() {
        let p = p.trim_start_matches('^').trim_end_matches('$');
        return proptest::string::string_regex(p)
            .expect("a pattern proptest can generate")
            .prop_map(Value::from)
            .boxed();
    }
    if s["format"] == "date" {
        return (1990i32..2030, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| Value::from(format!("{y}-{m:02}-{d:02}")))
            .boxed();
    }
    let max = s["maxLength"].as_u64().unwrap_or(30).min(60) as usize;
    proptest::string::string_regex(&format!("[\\p{{Han}}a-z0-9 ]{{0,{max}}}"))
        .expect("a valid pattern")
        .prop_map(Value::from)
        .boxed()
}

fn object(doc: &Value, s: &Value, depth: u32) -> BoxedStrategy<Value> {
    let required: Vec<String> = s["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let props: Vec<(String, BoxedStrategy<Value>)> = s["properties"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), fitting(doc, v, depth + 1)))
                .collect()
        })
        .unwrap_or_default();
    let n = props.len();
    let keep = prop::collection::vec(prop::bool::weighted(0.5), n);
    let values: Vec<BoxedStrategy<Value>> = props.iter().map(|(_, v)| v.clone()).collect();
    let names: Vec<String> = props.into_iter().map(|(k, _)| k).collect();
    (keep, values)
        .prop_map(move |(keep, values)| {
            let mut o = Map::new();
            for ((k, v), kept) in names.iter().zip(values).zip(keep) {
                if kept || required.contains(k) {
                    o.insert(k.clone(), v);
                }
            }
            Value::Object(o)
        })
        .boxed()
}

/// A value for a body or parameter: usually one that fits, sometimes anything at all, or the
/// fitting one with a field broken.
fn input(doc: &Value, s: &Value) -> BoxedStrategy<Value> {
    let fit = fitting(doc, s, 0);
    let broken = (fitting(doc, s, 0), "[a-z_]{1,20}", any_json()).prop_map(|(v, k, junk)| {
        let mut v = v;
        if let Value::Object(o) = &mut v {
            // A known field with a value of the wrong kind, or an unknown field.
            let key = o.keys().next().cloned().unwrap_or(k);
            o.insert(key, junk);
        }
        v
    });
    prop_oneof![6 => fit, 2 => broken, 1 => any_json()].boxed()
}

/// The served OpenAPI document.
async fn document(app: &TestApp) -> Value {
    reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The first `n` characters.
fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

struct Operation {
    method: Method,
    path: String,
    op: Value,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let method = m.to_uppercase().parse().unwrap();
            out.push(Operation {
                method,
                path: path.clone(),
                op: op.clone(),
            });
        }
    }
    out
}

/// The schema documented for a status, if its body is JSON.
fn response_schema(op: &Value, status: u16) -> Option<&Value> {
    op["responses"][status.to_string()]["content"]["application/json"].get("schema")
}

#[tokio::test]
async fn every_answer_is_one_the_description_lists_with_the_body_it_describes() {
    let app = spawn_app_with_printer().await;
    app.with_standard_users().await;
    app.add_user("school_a", Role::School, TOWN_A, Some("冠山街道中心小学"))
        .await;
    let doc = document(&app).await;

    // Things to point at: town A's records of each kind, and ids that are nobody's.
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
    } = app.town_a_records().await;
    // The record each kind of path names (chosen half the time, so that operations on records
    // reach their success as often as they reach their refusals).
    let own_ids: Vec<(&str, String)> = vec![
        ("/api/v1/children/", child.clone()),
        ("/api/v1/discoveries/", report.clone()),
        ("/api/v1/imports/", import.clone()),
        ("/api/v1/reconcile/runs/", run.clone()),
        ("/api/v1/reconcile/jobs/", run.clone()),
        ("/api/v1/reconcile/items/", item.clone()),
        ("/api/v1/reports/", protection_report.clone()),
        ("/api/v1/cases/", case.clone()),
        ("/api/v1/quarterly-reports/", quarterly.clone()),
        ("/api/v1/return-tasks/", return_task.clone()),
        ("/api/v1/routings/", routing.clone()),
        ("/api/v1/elders/", elder.clone()),
        ("/api/v1/regions/", TOWN_A.to_owned()),
    ];
    let ids = vec![
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
        uuid::Uuid::now_v7().to_string(),
        TOWN_A.to_owned(),
        "522730".to_owned(),
        "%2e%2e%2f".to_owned(),
        "x".repeat(300),
    ];

    let mut users = vec![None];
    for name in ["village_a", "town_b", "county", "admin", "school_a"] {
        users.push(Some(app.login(name).await));
    }
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let ops = operations(&doc);
    // Logging out ends the session the other cases use; it is exercised elsewhere.
    let ops: Vec<&Operation> = ops
        .iter()
        .filter(|o| !(o.method == Method::DELETE && o.path == "/api/v1/session"))
        .collect();
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let mut seen: std::collections::BTreeMap<String, std::collections::BTreeSet<u16>> =
        Default::default();
    let mut failures = Vec::new();
    for case in 0..CASES {
        let op = ops[case % ops.len()];
        let pick = |runner: &mut TestRunner, n: usize| (0..n).new_tree(runner).unwrap().current();
        let mut path = op.path.clone();
        let mut query = Vec::new();
        for p in op.op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap();
            match p["in"].as_str() {
                Some("path") => {
                    let own = own_ids
                        .iter()
                        .find(|(prefix, _)| op.path.starts_with(prefix))
                        .map(|(_, id)| id);
                    let id = match own {
                        Some(id) if pick(&mut runner, 2) == 0 => id,
                        _ => &ids[pick(&mut runner, ids.len())],
                    };
                    path = path.replace(&format!("{{{name}}}"), id);
                }
                Some("query") if pick(&mut runner, 3) > 0 => {
                    let v = input(&doc, &p["schema"])
                        .new_tree(&mut runner)
                        .unwrap()
                        .current();
                    let text = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    query.push((name.to_owned(), text));
                }
                _ => {}
            }
        }
        let who = pick(&mut runner, users.len());
        let client = match &users[who] {
            Some(u) => &u.client,
            None => &anonymous,
        };
        let mut req = client
            .request(op.method.clone(), format!("{}{path}", app.base))
            .query(&query);
        let content = &op.op["requestBody"]["content"];
        let body_desc;
        if let Some(schema) = content["application/json"].get("schema") {
            let body = input(&doc, schema).new_tree(&mut runner).unwrap().current();
            body_desc = body.to_string();
            req = req.json(&body);
        } else if content.get("application/octet-stream").is_some() {
            let files = [
                "姓名,性别,出生日期\n王小明,男,2016-07-31\n"
                    .as_bytes()
                    .to_vec(),
                b"PK\x03\x04garbage".to_vec(),
                vec![0xff; 64],
                Vec::new(),
            ];
            let f = files[pick(&mut runner, files.len())].clone();
            body_desc = format!("{} bytes", f.len());
            req = req.body(f);
        } else {
            body_desc = String::new();
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let is_json = r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let text = r.text().await.unwrap_or_default();
        let what = format!(
            "{} {path} ?{query:?} as {} body {}",
            op.method,
            users[who].as_ref().map_or("nobody", |_| [
                "",
                "village_a",
                "town_b",
                "county",
                "admin",
                "school_a"
            ][who]),
            clip(&body_desc, 300)
        );
        seen.entry(format!("{} {}", op.method, op.path))
            .or_default()
            .insert(status.as_u16());
        if status.is_server_error() {
            failures.push(format!("{status} for {what}: {text}"));
            continue;
        }
        if op.op["responses"].get(status.as_str()).is_none() {
            failures.push(format!(
                "undocumented {status} for {what}: {}",
                clip(&text, 300)
            ));
            continue;
        }
        if let Some(schema) = response_schema(&op.op, status.as_u16()) {
            if !is_json {
                failures.push(format!("{status} for {what} is not JSON"));
                continue;
            }
            let body: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{status} for {what}: body is not JSON ({e})"));
                    continue;
                }
            };
            let root = json!({"allOf": [schema], "components": doc["components"]});
            let validator =
                jsonschema::validator_for(&root).expect("the document's schemas compile");
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| format!("{} at {}", e, e.instance_path))
                .take(3)
                .collect();
            if !errors.is_empty() {
                failures.push(format!(
                    "{status} body of {what} does not match its schema: {errors:?}; body {}",
                    clip(&text, 400)
                ));
            }
        }
    }
    eprintln!("statuses per operation: {seen:#?}");
    // Every operation was reached, and some answered with success: the tester went past the
    // doors, not only into them.
    // Operations that succeed only with a secret the tester is not given (a password, an
    // authenticator's code) are not counted against it.
    const NEED_A_SECRET: &[&str] = &[
        "POST /api/v1/session",
        "POST /api/v1/password",
        "POST /api/v1/session/second-factor",
        "POST /api/v1/second-factor/confirm",
        "POST /api/v1/second-factor/off",
    ];
    let successes = seen
        .iter()
        .filter(|(op, _)| !NEED_A_SECRET.contains(&op.as_str()))
        .filter(|(_, s)| s.iter().any(|c| (200..300).contains(c)))
        .count();
    let open_ops = ops.len() - NEED_A_SECRET.len();
    assert!(
        failures.is_empty(),
        "{} of {CASES} answers break the description:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(seen.len(), ops.len(), "every operation was tried");
    assert!(
        successes * 2 >= open_ops,
        "at least half the operations answered a success ({successes} of {open_ops}): {seen:?}",
    );
}

#[tokio::test]
async fn every_success_of_every_operation_describes_its_body() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut missing = Vec::new();
    for op in operations(&doc) {
        for (status, resp) in op.op["responses"].as_object().unwrap() {
            let code: u16 = status.parse().unwrap();
            // 204 has no body; everything else says what its body is.
            if code == 204 {
                continue;
            }
            let described = resp["content"]
                .as_object()
                .is_some_and(|c| c.values().any(|m| m.get("schema").is_some()));
            if !described {
                missing.push(format!("{} {} → {status}", op.method, op.path));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "responses without a body schema: {missing:#?}"
    );
}

/// What a standard OpenAPI 3.1 validator checks first: every reference resolves, component names
/// are what the specification allows, path parameters are required and declared in their path,
/// and every operation has a distinct id.
#[tokio::test]
async fn the_document_is_well_formed_openapi() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let mut problems = Vec::new();
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    out.push(r.to_owned());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        if !r.starts_with("#/components/schemas/") || doc["components"]["schemas"][name].is_null() {
            problems.push(format!("unresolved reference {r}"));
        }
    }
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    for n in doc["components"]["schemas"].as_object().unwrap().keys() {
        if !name_ok(n) {
            problems.push(format!("component name {n}"));
        }
    }
    let mut ids = std::collections::BTreeSet::new();
    for op in operations(&doc) {
        if let Some(id) = op.op["operationId"].as_str()
            && !ids.insert(id.to_owned())
        {
            problems.push(format!("operationId {id} used twice"));
        }
        for p in op.op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap_or("");
            if p["in"] == "path" {
                if p["required"] != true {
                    problems.push(format!(
                        "{} {}: path parameter {name} not required",
                        op.method, op.path
                    ));
                }
                if !op.path.contains(&format!("{{{name}}}")) {
                    problems.push(format!(
                        "{} {}: {name} is not in the path",
                        op.method, op.path
                    ));
                }
            }
            if p.get("schema").is_none() {
                problems.push(format!("{} {}: {name} has no schema", op.method, op.path));
            }
        }
        if op.op["responses"].as_object().is_none_or(|r| r.is_empty()) {
            problems.push(format!("{} {}: no responses", op.method, op.path));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
