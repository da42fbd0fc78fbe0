//! The engine on synthetic list pairs with known truth: precision and recall of the one-to-one
//! links, explanations, determinism.

use std::collections::HashSet;

use shouwang_linkage::synth::{Damage, ListPair, list_pair};
use shouwang_linkage::{Decision, Linkage, Record, Settings, link};

/// Precision and recall of the links decided `match`, against the truth.
fn quality(pair: &ListPair, result: &Linkage) -> (f64, f64) {
    let truth: HashSet<(&str, &str)> = pair
        .truth
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let found: HashSet<(&str, &str)> = result
        .links
        .iter()
        .filter(|l| l.decision == Decision::Match)
        .map(|l| {
            (
                pair.left[l.left].record_id.as_str(),
                pair.right[l.right].record_id.as_str(),
            )
        })
        .collect();
    let right_links = found.intersection(&truth).count() as f64;
    (
        right_links / found.len() as f64,
        right_links / truth.len() as f64,
    )
}

#[test]
fn damaged_lists_link_one_to_one_with_high_precision_and_recall() {
    let pair = list_pair(4_000, 1, &Damage::default());
    let result = link(&pair.left, &pair.right, &Settings::default());
    let (precision, recall) = quality(&pair, &result);
    assert!(precision > 0.995, "precision {precision}");
    assert!(recall > 0.98, "recall {recall}");
    // One to one.
    let lefts: HashSet<usize> = result.links.iter().map(|l| l.left).collect();
    let rights: HashSet<usize> = result.links.iter().map(|l| l.right).collect();
    assert_eq!(lefts.len(), result.links.len());
    assert_eq!(rights.len(), result.links.len());
}

#[test]
fn a_link_says_which_fields_agreed_and_how_much_each_weighed() {
    let pair = list_pair(2_000, 2, &Damage::default());
    let result = link(&pair.left, &pair.right, &Settings::default());
    let link = &result.links[0];
    assert_eq!(link.reasons.len(), 5);
    let total: f64 = link.reasons.iter().map(|r| r.weight).sum::<f64>() + result.model.prior();
    assert!((total - link.weight).abs() < 1e-9);
    // Agreement is evidence for, disagreement against.
    let m = &result.model;
    for f in 0..5 {
        assert!(m.weight(f, 0) > 0.0, "field {f}");
        let last = m.m[f].len() as u8 - 1;
        assert!(m.weight(f, last) < 0.0, "field {f}");
    }
}

#[test]
fn homophone_names_and_swapped_dates_still_link_without_an_id() {
    let id = |seq| {
        shouwang_domain::sample::id_number_for(
            "522730",
            chrono::NaiveDate::from_ymd_opt(2015, 3, 8).unwrap(),
            seq,
        )
    };
    let mut pair = list_pair(3_000, 3, &Damage::default());
    let person = Record {
        record_id: "L-x".into(),
        name: Some("王小明".into()),
        sex: Some("男".into()),
        birth_date: Some("2015-03-08".into()),
        id_number: Some(id(901)),
        county: Some("龙里县".into()),
        town: Some("冠山街道".into()),
        village: Some("石河村".into()),
    };
    let written = Record {
        record_id: "R-x".into(),
        name: Some("汪小明".into()),
        birth_date: Some("2015-08-03".into()),
        id_number: None,
        village: Some("石河村委会".into()),
        ..person.clone()
    };
    pair.left.push(person);
    pair.right.push(written);
    let result = link(&pair.left, &pair.right, &Settings::default());
    let l = result
        .links
        .iter()
        .find(|l| pair.left[l.left].record_id == "L-x")
        .expect("linked");
    assert_eq!(pair.right[l.right].record_id, "R-x");
    let levels: Vec<&str> = l.reasons.iter().map(|r| r.level).collect();
    assert_eq!(levels, ["同音", "日月颠倒", "缺失", "相同", "同村"]);
}

#[test]
fn the_same_lists_give_the_same_links() {
    let pair = list_pair(
        2_000,
        4,
        &Damage {
            hard: true,
            ..Damage::default()
        },
    );
    let key = |l: &shouwang_linkage::Link| (l.left, l.right, l.weight.to_bits());
    let same = |left: &[Record], right: &[Record]| {
        let a = link(left, right, &Settings::default());
        assert!(!a.links.is_empty());
        // Run on a pool of another size, so the parallel work is split differently.
        let b = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| link(left, right, &Settings::default()));
        assert_eq!(
            a.links.iter().map(key).collect::<Vec<_>>(),
            b.links.iter().map(key).collect::<Vec<_>>()
        );
    };
    same(&pair.left, &pair.right);
    // Without ID numbers m comes from expectation–maximisation over fractional counts.
    let strip = |list: &[Record]| {
        list.iter()
            .cloned()
            .map(|r| Record {
                id_number: None,
                ..r
            })
            .collect::<Vec<_>>()
    };
    same(&strip(&pair.left), &strip(&pair.right));
}

#[test]
fn lists_without_any_id_numbers_are_linked_by_name_date_and_place() {
    let mut pair = list_pair(3_000, 5, &Damage::default());
    for r in pair.left.iter_mut().chain(pair.right.iter_mut()) {
        r.id_number = None;
    }
    let result = link(&pair.left, &pair.right, &Settings::default());
    let (precision, recall) = quality(&pair, &result);
    assert!(precision > 0.98, "precision {precision}");
    assert!(recall > 0.9, "recall {recall}");
}

#[test]
fn a_common_name_weighs_less_than_a_rare_one() {
    let mut pair = list_pair(3_000, 7, &Damage::default());
    let index = |list: &[Record], id: &str| list.iter().position(|r| r.record_id == id).unwrap();
    let (a, b) = (&pair.truth[10], &pair.truth[20]);
    let (al, ar) = (index(&pair.left, &a.0), index(&pair.right, &a.1));
    let (bl, br) = (index(&pair.left, &b.0), index(&pair.right, &b.1));
    // Pair A is called 王伟, like fifty other children in each list; pair B has a rare name.
    // Neither carries an ID number, so their names and the rest decide.
    for (i, name) in [(al, "王伟"), (bl, "覃梓涵")] {
        pair.left[i].name = Some(name.into());
        pair.left[i].id_number = None;
    }
    for (i, name) in [(ar, "王伟"), (br, "覃梓涵")] {
        pair.right[i].name = Some(name.into());
        pair.right[i].id_number = None;
    }
    for n in 0..50 {
        for (side, list) in [("L", &mut pair.left), ("R", &mut pair.right)] {
            list.push(Record {
                record_id: format!("{side}王伟{n}"),
                name: Some("王伟".into()),
                sex: Some("男".into()),
                birth_date: Some(format!("20{:02}-0{}-1{}", 10 + n % 6, 1 + n % 9, n % 10)),
                ..Record::default()
            });
        }
    }
    let result = link(&pair.left, &pair.right, &Settings::default());
    let name_weight = |l: usize, r: usize| {
        let link = result
            .links
            .iter()
            .find(|k| k.left == l && k.right == r)
            .expect("linked");
        link.reasons
            .iter()
            .find(|x| x.field == "name")
            .unwrap()
            .weight
    };
    let (common, rare) = (name_weight(al, ar), name_weight(bl, br));
    let plain = result.model.weight(0, 0);
    assert!(
        common < plain && plain < rare,
        "王伟 {common}, all names {plain}, 覃梓涵 {rare}"
    );
}
