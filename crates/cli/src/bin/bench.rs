//! `shouwang-bench`: figures for the registry at realistic scale, measured through HTTP against the
//! real server (not asserted anywhere; reported in the issue notes).
//!
//! 1. bulk load N synthetic children (generation, validation, encryption, insert): children/s;
//! 2. registration through `POST /api/v1/children`, one request at a time: registrations/s;
//! 3. roster page of one town and search by name: p50/p99 over sequential requests;
//! 4. requests/s under concurrency for a trivial endpoint and for the roster, and with wrk when it
//!    is installed.
//!
//! 5. the 汇总表, the home page, the roster and a name search of a user over the whole first region.
//!
//! Usage: shouwang-bench --db <path|postgres://…> [--region 52[,53,…]] [--children 1000000]
//! [--requests 400] — several regions share the children out (the demo users are in the first).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use shouwang::demo;
use shouwang_domain::clock::{Clock, FixedClock};
use shouwang_domain::region::{Divisions, RegionLevel};
use shouwang_store::{KeyFile, Store};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    db: String,
    #[arg(long, default_value = "52")]
    region: String,
    #[arg(long, default_value_t = 1_000_000)]
    children: usize,
    #[arg(long, default_value_t = 400)]
    requests: usize,
    #[arg(long, default_value_t = 1000)]
    registrations: usize,
    /// Reuse an already loaded database
    #[arg(long)]
    skip_load: bool,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let mean = times.iter().sum::<Duration>().as_secs_f64() * 1000.0 / times.len() as f64;
    println!(
        "{label:<44} n={:<5} p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  mean {:>7.2} ms",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 0.99),
        percentile(&times, 1.0),
        mean
    );
}

async fn timed_get(client: &reqwest::Client, url: &str) -> Result<(Duration, Value)> {
    let t = Instant::now();
    let r = client.get(url).send().await?;
    anyhow::ensure!(r.status().is_success(), "GET {url}: {}", r.status());
    let v: Value = r.json().await?;
    Ok((t.elapsed(), v))
}

async fn throughput(client: &reqwest::Client, url: &str, tasks: usize, seconds: u64) -> f64 {
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (client, url, done) = (client.clone(), url.to_owned(), done.clone());
        handles.push(tokio::spawn(async move {
            while Instant::now() < until {
                if let Ok(r) = client.get(&url).send().await {
                    let _ = r.bytes().await;
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    done.load(std::sync::atomic::Ordering::Relaxed) as f64 / seconds as f64
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let regions = args
        .region
        .split(',')
        .map(|r| Divisions::shipped().parse_existing(r.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let region = regions[0].clone();
    let keys = if args.db.starts_with("postgres") {
        "bench.keys".to_owned()
    } else {
        format!("{}.keys", args.db)
    };
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::on(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
    ));
    let store = Store::open(&args.db, KeyFile::load_or_create(keys.as_ref())?, clock)
        .await
        .context("open database")?;
    println!(
        "backend: {:?}; region {} ({})",
        store.backend(),
        region,
        Divisions::shipped().get(&region)?.name
    );

    if !args.skip_load {
        let t = Instant::now();
        for r in &regions {
            store.regions().init_region(r).await?;
        }
        println!("init regions: {:.1} s", t.elapsed().as_secs_f64());
        let t = Instant::now();
        demo::run_regions(&store, &regions, args.children, 42, None).await?;
        let s = t.elapsed().as_secs_f64();
        println!(
            "bulk load: {} children in {:.1} s = {:.0} children/s",
            args.children,
            s,
            args.children as f64 / s
        );
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server_app = shouwang_app::App::new(store.clone());
    tokio::spawn(async move { shouwang_web::serve_on(server_app, listener, Some(false)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(64)
        .build()?;
    let r = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": "town", "password": demo::DEMO_PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(
        r.status().is_success(),
        "login as the demo town user: {}",
        r.status()
    );
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    let town = store
        .users()
        .actor_by_username("town")
        .await?
        .context("demo town user")?
        .region;
    let first = timed_get(&client, &format!("{base}/api/v1/children?per_page=20"))
        .await?
        .1;
    let town_total = first["total"].as_i64().unwrap_or(0);
    println!(
        "town {} ({}) has {} children on the roster",
        town,
        Divisions::shipped().get(&town)?.name,
        town_total
    );
    let pages = ((town_total + 19) / 20).clamp(1, 50);

    // Names to search for, drawn from the town's roster.
    let mut names = Vec::new();
    for p in 1..=pages.min(10) {
        let v = timed_get(
            &client,
            &format!("{base}/api/v1/children?per_page=20&page={p}"),
        )
        .await?
        .1;
        for i in v["items"].as_array().into_iter().flatten() {
            names.push(i["name"].as_str().unwrap_or("").to_owned());
        }
    }
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..20 {
        timed_get(&client, &format!("{base}/api/v1/children?per_page=20")).await?;
    }
    let mut roster = Vec::new();
    let mut roster_html = Vec::new();
    let mut search = Vec::new();
    let mut county_search = Vec::new();
    let county = town.at_level(RegionLevel::County).expect("town has county");
    let county_client = reqwest::Client::builder().cookie_store(true).build()?;
    county_client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": "county", "password": demo::DEMO_PASSWORD}))
        .send()
        .await?;
    for _ in 0..args.requests {
        let p = rng.gen_range(1..=pages);
        roster.push(
            timed_get(
                &client,
                &format!("{base}/api/v1/children?region={town}&per_page=20&page={p}"),
            )
            .await?
            .0,
        );
        let t = Instant::now();
        let r = client
            .get(format!("{base}/children?region={town}&page={p}"))
            .send()
            .await?;
        let _ = r.text().await?;
        roster_html.push(t.elapsed());
        let name = &names[rng.gen_range(0..names.len())];
        search.push(
            timed_get(
                &client,
                &format!("{base}/api/v1/children?q={}", urlencode(name)),
            )
            .await?
            .0,
        );
        county_search.push(
            timed_get(
                &county_client,
                &format!("{base}/api/v1/children?q={}", urlencode(name)),
            )
            .await?
            .0,
        );
    }
    report("roster page, one town (API)", roster);
    report("roster page, one town (HTML page)", roster_html);
    report("search by name, town user (API)", search);
    report(
        &format!("search by name, county user {county} (API)"),
        county_search,
    );

    // The 汇总表 of the town, the county and the whole loaded region (an oversight user there),
    // through the API and as the .xlsx export: counted from the stored cells, no file opened.
    let top = reqwest::Client::builder().cookie_store(true).build()?;
    let added = store
        .users()
        .add_user(shouwang_store::users::NewUser {
            username: "bench_top".into(),
            display_name: "省级督查".into(),
            password: demo::DEMO_PASSWORD.into(),
            role: shouwang_domain::authz::Role::Oversight,
            region: region.clone(),
            agency: None,
        })
        .await;
    if let Err(e) = added
        && !matches!(e, shouwang_store::StoreError::Conflict { .. })
    {
        return Err(e.into());
    }
    top.post(format!("{base}/api/v1/session"))
        .json(&json!({"username": "bench_top", "password": demo::DEMO_PASSWORD}))
        .send()
        .await?;
    for (label, unit) in [("town", &town), ("county", &county), ("region", &region)] {
        let mut api = Vec::new();
        let mut export = Vec::new();
        for _ in 0..args.requests.clamp(5, 50) {
            let (t, v) = timed_get(&top, &format!("{base}/api/v1/summary?region={unit}")).await?;
            anyhow::ensure!(v["checks_ok"].is_boolean(), "summary of {unit}: {v}");
            api.push(t);
            let t = Instant::now();
            let r = top
                .get(format!("{base}/api/v1/exports/summary?region={unit}"))
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "export of {unit}: {}", r.status());
            let _ = r.bytes().await?;
            export.push(t.elapsed());
        }
        let total = timed_get(&top, &format!("{base}/api/v1/summary?region={unit}"))
            .await?
            .1["columns"][0]["value"]
            .as_u64()
            .unwrap_or(0);
        report(
            &format!("汇总表 API, {label} {unit} ({total} children)"),
            api,
        );
        report(&format!("汇总表 .xlsx export, {label} {unit}"), export);
    }
    // The same tables straight from the store: the roll-up the triggers keep, beside counting
    // the rows (the way before it), for a county, the region and the whole country.
    let on = store.today();
    for (label, unit) in [
        ("county", Some(&county)),
        ("region", Some(&region)),
        ("national", None),
    ] {
        let (mut rolled, mut counted) = (Vec::new(), Vec::new());
        let mut total = 0;
        for i in 0..args.requests.clamp(5, 50) {
            let t = Instant::now();
            let groups = match unit {
                Some(u) => store.quarterly().summary_groups(u, on, None).await?,
                None => store.quarterly().summary_groups_national(on).await?,
            };
            rolled.push(t.elapsed());
            total = groups.iter().map(|g| g.count).sum::<u64>();
            if let Some(u) = unit
                && i < 5
            {
                let t = Instant::now();
                let again = store
                    .quarterly()
                    .summary_groups_counted(u, on, None)
                    .await?;
                counted.push(t.elapsed());
                anyhow::ensure!(
                    again.iter().map(|g| g.count).sum::<u64>() == total,
                    "roll-up and rows disagree for {u}"
                );
            }
        }
        let name = unit.map(ToString::to_string).unwrap_or_default();
        report(
            &format!("汇总表 from the roll-up, {label} {name} ({total})"),
            rolled,
        );
        if !counted.is_empty() {
            report(
                &format!("汇总表 counting the rows, {label} {name}"),
                counted,
            );
        }
    }
    // The whole region's user on the pages a town user uses: the roster (default order and by
    // name), a name search and the roster page.
    let (mut top_roster, mut top_by_name, mut top_search, mut top_html) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut html_size = 0;
    for i in 0..args.requests.clamp(5, 100) {
        let p = 1 + i % 20;
        top_roster.push(
            timed_get(
                &top,
                &format!("{base}/api/v1/children?per_page=20&page={p}"),
            )
            .await?
            .0,
        );
        top_by_name.push(
            timed_get(
                &top,
                &format!("{base}/api/v1/children?per_page=20&page={p}&sort=name"),
            )
            .await?
            .0,
        );
        let name = &names[i % names.len()];
        top_search.push(
            timed_get(
                &top,
                &format!("{base}/api/v1/children?q={}", urlencode(name)),
            )
            .await?
            .0,
        );
        let t = Instant::now();
        let r = top.get(format!("{base}/children?page={p}")).send().await?;
        anyhow::ensure!(r.status().is_success(), "roster page: {}", r.status());
        html_size = r.text().await?.len();
        top_html.push(t.elapsed());
    }
    report(&format!("roster, region user {region} (API)"), top_roster);
    report("roster by name, region user (API)", top_by_name);
    report("search by full name, region user (API)", top_search);
    report(
        &format!("roster page, region user ({} kB)", html_size / 1024),
        top_html,
    );
    // The 定期通报 ranking (timeliness and this quarter's verification of the units below).
    for (label, user) in [("county", &county_client), ("region", &top)] {
        let mut times = Vec::new();
        for _ in 0..args.requests.clamp(5, 30) {
            times.push(
                timed_get(user, &format!("{base}/api/v1/quarterly-ranking"))
                    .await?
                    .0,
            );
        }
        report(&format!("定期通报 ranking, {label} (API)"), times);
    }
    // The other populations' lists (issue 27: 困境儿童, 事实无人抚养 — partial indexes, 0047) of a
    // town, a county and the whole region, first pages with their totals.
    for population in ["in_difficulty", "de_facto_unsupported"] {
        for (label, user) in [
            ("town", &client),
            ("county", &county_client),
            ("region", &top),
        ] {
            let mut times = Vec::new();
            let mut total = 0;
            for i in 0..args.requests.clamp(5, 30) {
                let (t, v) = timed_get(
                    user,
                    &format!(
                        "{base}/api/v1/children?population={population}&per_page=20&page={}",
                        1 + i % 3
                    ),
                )
                .await?;
                total = v["total"].as_i64().unwrap_or(0);
                times.push(t);
            }
            report(&format!("{population} list, {label} ({total})"), times);
        }
    }
    // The home page (counts and the dashboard) of a town, a county and a whole-region user.
    for (label, user) in [
        ("town", &client),
        ("county", &county_client),
        ("region", &top),
    ] {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..args.requests.clamp(5, 30) {
            let t = Instant::now();
            let r = user.get(format!("{base}/")).send().await?;
            anyhow::ensure!(r.status().is_success(), "home of {label}: {}", r.status());
            size = r.text().await?.len();
            times.push(t.elapsed());
        }
        report(
            &format!("home page with dashboard, {label} ({} kB)", size / 1024),
            times,
        );
    }

    let trivial = throughput(&client, &format!("{base}/static/app.css"), 8, 5).await;
    let roster_rps = throughput(
        &client,
        &format!("{base}/api/v1/children?region={town}&per_page=20"),
        8,
        5,
    )
    .await;
    println!(
        "throughput, 8 concurrent clients: trivial endpoint {trivial:.0} req/s; roster page {roster_rps:.0} req/s; ratio {:.2}",
        roster_rps / trivial
    );

    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok()
    {
        for (label, path) in [
            (
                "trivial endpoint (/static/app.css)",
                "/static/app.css".to_owned(),
            ),
            (
                "roster page",
                format!("/api/v1/children?region={town}&per_page=20"),
            ),
        ] {
            let out = std::process::Command::new("wrk")
                .args([
                    "-t2",
                    "-c16",
                    "-d10s",
                    "-H",
                    &format!("Cookie: {cookie}"),
                    &format!("{base}{path}"),
                ])
                .output()?;
            let text = String::from_utf8_lossy(&out.stdout);
            let rps = text
                .lines()
                .find(|l| l.starts_with("Requests/sec"))
                .unwrap_or("Requests/sec: ?");
            let lat = text
                .lines()
                .find(|l| l.trim_start().starts_with("Latency"))
                .unwrap_or("")
                .trim()
                .to_owned();
            println!("wrk {label}: {rps}; {lat}");
        }
    }

    // Registration through the API, one at a time, as the town supervisor.
    let villages: Vec<String> = Divisions::shipped()
        .subtree(&town)?
        .filter(|d| d.level == RegionLevel::Village)
        .map(|d| d.code.to_owned())
        .collect();
    let mut ids = demo::IdSequences::default();
    let mut rng = StdRng::seed_from_u64(99);
    let today = store.today();
    let t = Instant::now();
    let mut ok = 0;
    let mut times = Vec::new();
    for _ in 0..args.registrations {
        let village = &villages[rng.gen_range(0..villages.len())];
        let mut input =
            serde_json::to_value(demo::child_input(&mut rng, village, today, &mut ids))?;
        input["confirm_duplicate"] = json!(true);
        // Fresh ID numbers that cannot clash with the loaded ones: registered as having none.
        input["id_number"] = Value::Null;
        input["hukou_registered"] = json!("否");
        let rt = Instant::now();
        let r = client
            .post(format!("{base}/api/v1/children"))
            // A cookie session's writes name their origin (the server refuses them otherwise).
            .header("origin", &base)
            .json(&input)
            .send()
            .await?;
        times.push(rt.elapsed());
        if r.status().as_u16() == 201 {
            ok += 1;
        } else if r.status().as_u16() != 422 {
            eprintln!("registration: {} {}", r.status(), r.text().await?);
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "registration through the API: {ok} of {} accepted in {s:.1} s = {:.0} registrations/s (sequential)",
        args.registrations,
        ok as f64 / s
    );
    report("registration request latency", times);

    // The duplicate warning: children of the town typed again with a homophone surname, half of
    // them with the day and month swapped, no ID number. Each request must come back 409.
    let listed = timed_get(&client, &format!("{base}/api/v1/children?per_page=100"))
        .await?
        .1;
    let homophone = |c: char| match c {
        '王' => '汪',
        '陈' => '晨',
        '张' => '章',
        '李' => '里',
        '刘' => '留',
        '杨' => '阳',
        '黄' => '皇',
        '赵' => '照',
        '吴' => '武',
        '周' => '州',
        c => c,
    };
    let (mut warned, mut times) = (0, Vec::new());
    let items = listed["items"].as_array().cloned().unwrap_or_default();
    for (n, c) in items.iter().cycle().take(args.requests).enumerate() {
        let mut input = demo::child_input(
            &mut rng,
            c["village_code"].as_str().unwrap_or(""),
            today,
            &mut ids,
        );
        let name: String = c["name"]
            .as_str()
            .unwrap_or("")
            .chars()
            .enumerate()
            .map(|(i, ch)| if i == 0 { homophone(ch) } else { ch })
            .collect();
        let mut birth: chrono::NaiveDate = c["birth_date"].as_str().unwrap_or("").parse()?;
        if n % 2 == 1 {
            use chrono::Datelike;
            if let Some(b) =
                chrono::NaiveDate::from_ymd_opt(birth.year(), birth.day(), birth.month())
            {
                birth = b;
            }
        }
        input.name = Some(name);
        input.sex = c["sex"].as_str().map(str::to_owned);
        input.birth_date = Some(birth.to_string());
        input.id_number = None;
        input.hukou_registered = Some("否".into());
        let rt = Instant::now();
        let r = client
            .post(format!("{base}/api/v1/children"))
            // A cookie session's writes name their origin (the server refuses them otherwise).
            .header("origin", &base)
            .json(&input)
            .send()
            .await?;
        times.push(rt.elapsed());
        if r.status().as_u16() == 409 {
            warned += 1;
        }
    }
    println!(
        "duplicate warning: {warned} of {} re-typed children warned (homophone surname; half with day/month swapped)",
        times.len()
    );
    report("registration refused with a duplicate warning", times);
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
