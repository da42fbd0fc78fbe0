//! The demo county's left-behind elderly people (issue 27; 龙里 003 五(一)1): synthetic people of
//! 60 to 90 in every village of the demo, registered through the use case as the demo county user
//! would, some with facts left blank (待补充) as real registers have.

use std::collections::HashSet;

use anyhow::Result;
use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use shouwang_app::App;
use shouwang_app::elders::ElderQuery;
use shouwang_domain::elder::{ChildAwayInput, ElderInput, HealthDetail, HealthInput};
use shouwang_domain::region::{RegionCode, RegionLevel};
use shouwang_domain::sample::id_number_for;
use shouwang_store::Store;

use crate::demo::{SURNAMES, given_name, pick};

/// Where the demo's sons and daughters work, as a village writes it.
const PLACES: &[&str] = &[
    "广东省深圳市",
    "广东省东莞市",
    "浙江省宁波市",
    "浙江省杭州市",
    "福建省厦门市",
    "江苏省苏州市",
    "上海市",
    "贵州省贵阳市",
];

/// At most this many elders in one demo (a demo of millions of children needs no more to show).
const MOST: usize = 2_000;

/// One synthetic elder of `village`, `seq` distinguishing ID numbers.
fn elder_input(
    rng: &mut StdRng,
    village: &str,
    today: NaiveDate,
    used: &mut HashSet<(NaiveDate, u16)>,
) -> ElderInput {
    let age_days = rng.gen_range(60 * 366..90 * 365);
    let birth = today - Duration::days(age_days);
    let man = rng.gen_bool(0.45);
    let surname = pick(rng, SURNAMES);
    let some = |s: &str| Some(s.to_owned());
    // Most have an ID number on the register; some villages never wrote it down.
    let id_number = rng.gen_bool(0.75).then(|| {
        let mut seq = rng.gen_range(100..498) * 2 + u16::from(man);
        while !used.insert((birth, seq)) {
            seq = (seq + 2) % 1000;
        }
        id_number_for(&village[..6], birth, seq)
    });
    let living_with = match rng.gen_range(0..100) {
        0..30 => Some("alone"),
        30..65 => Some("spouse"),
        65..90 => Some("grandchildren"),
        90..95 => Some("other"),
        _ => None,
    };
    let away = if rng.gen_bool(0.05) {
        None
    } else {
        let n = rng.gen_range(1..=3);
        Some(
            (0..n)
                .map(|_| {
                    let son = rng.gen_bool(0.55);
                    ChildAwayInput {
                        name: Some(format!(
                            "{}{}",
                            if son { surname } else { pick(rng, SURNAMES) },
                            given_name(rng, son)
                        )),
                        work_place: Some(pick(rng, PLACES).to_owned()),
                        phone: rng.gen_bool(0.85).then(|| {
                            format!(
                                "1{}{:09}",
                                pick(rng, &["3", "5", "8"]),
                                rng.gen_range(0..1_000_000_000u32)
                            )
                        }),
                    }
                })
                .collect(),
        )
    };
    let (health, self_care) = match rng.gen_range(0..100) {
        0..40 => ("healthy", "full"),
        40..80 => ("chronic_illness", "full"),
        80..92 => ("serious_illness", "partial"),
        _ => (
            "disabled",
            if rng.gen_bool(0.5) { "partial" } else { "none" },
        ),
    };
    let mut income = vec!["pension".to_owned()];
    if away.is_some() {
        income.push("children".to_owned());
    }
    if rng.gen_bool(0.4) {
        income.push("farming".to_owned());
    }
    ElderInput {
        name: Some(format!("{surname}{}", given_name(rng, man))),
        sex: some(if man { "男" } else { "女" }),
        birth_date: Some(birth.to_string()),
        id_number,
        village_code: some(village),
        living_with: living_with.map(str::to_owned),
        children_away: away,
        health: Some(HealthInput::Detail(HealthDetail {
            status: some(health),
            self_care: (health != "healthy" || rng.gen_bool(0.8)).then(|| self_care.to_owned()),
            illness: (health == "serious_illness")
                .then(|| pick(rng, &["脑梗后遗症", "慢性肾病", "肺心病"]).to_owned()),
        })),
        income_sources: Some(income),
        assistance: Some(if rng.gen_bool(0.15) {
            vec!["dibao".to_owned()]
        } else {
            vec![]
        }),
        care: (living_with == Some("alone")).then(|| {
            pick(
                rng,
                &["邻居每日探望", "村儿童主任每周上门", "亲戚不定期照看"],
            )
            .to_owned()
        }),
        ..ElderInput::default()
    }
}

/// Registers about one elder for every five children of the demo (at most [`MOST`]), spread over
/// the villages of `regions`, as the demo's county user. A database that has elders already is
/// left as it is.
pub async fn add(store: &Store, regions: &[RegionCode], children: usize, seed: u64) -> Result<()> {
    let Some(county) = store.users().actor_by_username("county").await? else {
        return Ok(());
    };
    let app = App::new(store.clone());
    let any = shouwang_app::elders::roster(
        &app,
        &county,
        &ElderQuery {
            per_page: 1,
            ..ElderQuery::default()
        },
    )
    .await?;
    if any.total > 0 {
        return Ok(());
    }
    let mut villages = Vec::new();
    for r in regions.iter().filter(|r| county.region.contains(r)) {
        villages.extend(
            shouwang_app::places::regions_within(&app, r, RegionLevel::Village)
                .await?
                .into_iter()
                .map(|v| v.code),
        );
    }
    if villages.is_empty() {
        return Ok(());
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0xE1DE);
    let today = app.today();
    let mut used = HashSet::new();
    let n = (children / 5).clamp(1, MOST);
    for i in 0..n {
        let village = &villages[i % villages.len()];
        let input = elder_input(&mut rng, village, today, &mut used);
        shouwang_app::elders::register(&app, &county, &input).await?;
    }
    println!("已登记 {n} 名留守老人（{} 个村）", villages.len().min(n));
    Ok(())
}
