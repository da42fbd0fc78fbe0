//! `shouwang-bench-cases`: the figures of issue 13 (printed, nothing asserted). On a fresh SQLite
//! county (release build, the machine's disk):
//!
//! 1. `--cases N` mandatory reports filed one after another through the use case (the county's
//!    load), and the filing rate;
//! 2. `--burst B` reports filed at once: the time from filing to being in the police station's
//!    inbox (each filing commits the report where the inbox reads it), p50 / p99 / max;
//! 3. the inbox read by the town's police, the town and the county, p50 / p99 over `--reads` reads.
//!
//!   shouwang-bench-cases --cases 100000 --burst 1000

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;

use shouwang_app::protection::{self, InboxStatus};
use shouwang_domain::authz::Role;
use shouwang_domain::clock::Clock;
use shouwang_domain::protection::{NewChildInput, ReportInput};
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_store::users::NewUser;
use shouwang_store::{IdCipher, Store};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    cases: usize,
    #[arg(long, default_value_t = 1_000)]
    burst: usize,
    #[arg(long, default_value_t = 200)]
    reads: usize,
    #[arg(long, default_value = "522730")]
    region: String,
}

struct Now;
impl Clock for Now {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(village: &str, i: usize) -> ReportInput {
    ReportInput {
        child: Some(NewChildInput {
            name: Some(
                [
                    "王小花",
                    "李明",
                    "张伟",
                    "刘洋",
                    "陈静",
                    "杨帆",
                    "赵磊",
                    "黄丽",
                ][i % 8]
                    .into(),
            ),
            sex: Some(if i.is_multiple_of(2) { "男" } else { "女" }.into()),
            village_code: Some(village.to_owned()),
            ..Default::default()
        }),
        situations: vec!["living_alone".into()],
        description: Some("连续多日独自在家".into()),
        severity: Some("serious".into()),
        ..Default::default()
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let db = std::env::temp_dir().join(format!("shouwang-bench-cases-{}.db", std::process::id()));
    let store = Store::open(
        db.to_str().unwrap(),
        IdCipher::new([3; 32], [4; 32]),
        Arc::new(Now),
    )
    .await?;
    let county = RegionCode::parse(&args.region)?;
    store.regions().init_region(&county).await?;
    let app = shouwang_app::App::new(store.clone());
    let villages: Vec<String> = Divisions::shipped()
        .subtree(&county)?
        .filter(|d| d.level == RegionLevel::Village)
        .map(|d| d.code.to_owned())
        .collect();
    let first_town = RegionCode::parse(&villages[0])?
        .at_level(RegionLevel::Town)
        .unwrap();
    for (name, role, org) in [
        ("police", Role::Police, first_town.clone()),
        ("town", Role::Town, first_town.clone()),
        ("county", Role::County, county.clone()),
        ("reporter", Role::County, county.clone()),
    ] {
        store
            .users()
            .add_user(NewUser {
                username: name.into(),
                display_name: name.into(),
                password: "bench-password-1".into(),
                role,
                region: org,
                agency: None,
            })
            .await?;
    }
    let reporter = store.users().actor_by_username("reporter").await?.unwrap();
    let actor = |n: &str| {
        let s = store.clone();
        let n = n.to_owned();
        async move { s.users().actor_by_username(&n).await.map(|a| a.unwrap()) }
    };

    // 1. The county's load, filed one after another.
    let t = Instant::now();
    for i in 0..args.cases {
        protection::file(&app, &reporter, &report(&villages[i % villages.len()], i)).await?;
    }
    let took = t.elapsed();
    println!(
        "filed {} reports one after another in {:.1} s ({:.0} a second)",
        args.cases,
        took.as_secs_f64(),
        args.cases as f64 / took.as_secs_f64()
    );

    // 2. A burst: each filing's time until it is in the police inbox (committed).
    let town_villages: Vec<String> = villages
        .iter()
        .filter(|v| v.starts_with(first_town.as_str()))
        .cloned()
        .collect();
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(args.burst);
    for i in 0..args.burst {
        let (s, a, v) = (
            app.clone(),
            reporter.clone(),
            town_villages[i % town_villages.len()].clone(),
        );
        tasks.push(tokio::spawn(async move {
            let start = Instant::now();
            protection::file(&s, &a, &report(&v, i))
                .await
                .map(|_| start.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(args.burst);
    for task in tasks {
        latencies.push(task.await??);
    }
    let wall = t.elapsed();
    latencies.sort();
    println!(
        "burst of {} filings at once: all in the police inbox after {:.2} s; filing to inbox p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        args.burst,
        wall.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
    let police = actor("police").await?;
    let inbox = protection::inbox(&app, &police, InboxStatus::Unreceived).await?;
    println!(
        "the town's police inbox shows {} (capped at 200)",
        inbox.len()
    );

    // 3. Inbox reads.
    for name in ["police", "town", "county"] {
        let who = actor(name).await?;
        let mut times = Vec::with_capacity(args.reads);
        for _ in 0..args.reads {
            let t = Instant::now();
            protection::inbox(&app, &who, InboxStatus::All).await?;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "inbox of {name}: p50 {:.1} ms, p99 {:.1} ms over {} reads",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            args.reads
        );
    }
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    Ok(())
}
