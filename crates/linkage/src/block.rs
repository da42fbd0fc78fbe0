//! Candidate pairs: records that share at least one blocking key. A pair of lists of a million
//! records holds 10¹² pairs; the keys keep the few that could be the same person.
//!
//! First an exact pass on the ID number: a valid number found once in each list settles the pair,
//! and those records take no further keys (most records, in practice). The others are blocked on
//! birth date + county, surname pinyin + village, whole-name pinyin + birth year, birth date with
//! day and month in order + surname, and the ID number with one position masked (a typo of one
//! digit still meets its number).

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};

use chrono::Datelike;

use crate::prepare::Prepared;

/// The candidate pairs `(left index, right index)`, sorted, and how many the ID pass settled.
#[derive(Debug, Default)]
pub struct Candidates {
    pub pairs: Vec<(u32, u32)>,
    /// Pairs with the same valid ID number, found once in each list.
    pub settled: Vec<(u32, u32)>,
}

fn key<T: Hash>(rule: u8, parts: T) -> u64 {
    let mut h = FxHasher::default();
    rule.hash(&mut h);
    parts.hash(&mut h);
    h.finish()
}

/// The blocking keys of a record that the ID pass did not settle.
fn keys(p: &Prepared) -> Vec<u64> {
    let mut out = Vec::with_capacity(24);
    if let (Some(b), Some(c)) = (p.birth, &p.county) {
        out.push(key(1, (b, c)));
    }
    if let (Some(s), Some(v)) = (&p.surname_pinyin, &p.village) {
        out.push(key(2, (s, v)));
    }
    if let (Some(n), Some(y)) = (&p.pinyin, p.birth_year()) {
        out.push(key(3, (n, y)));
    }
    if let (Some(b), Some(s)) = (p.birth, &p.surname_pinyin) {
        let (lo, hi) = (b.month().min(b.day()), b.month().max(b.day()));
        out.push(key(4, (b.year(), lo, hi, s)));
    }
    if let Some(id) = p.id_digits() {
        // The check digit is left out: a typo elsewhere changes it as well.
        let body = &id.as_bytes()[..id.len().min(17)];
        for i in 0..body.len() {
            let mut masked = body.to_vec();
            masked[i] = b'*';
            out.push(key(5, &masked));
        }
    }
    out
}

/// Pairs sharing a key; a key shared by more than `max_bucket` records of the right list (a very
/// common name in one year) is passed over, so no key can swamp the run.
pub fn candidates(left: &[Prepared], right: &[Prepared], max_bucket: usize) -> Candidates {
    // The exact ID pass.
    let mut left_ids: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for (i, p) in left.iter().enumerate() {
        if let Some(id) = &p.id {
            left_ids.entry(id).or_default().push(i as u32);
        }
    }
    let mut right_ids: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for (i, p) in right.iter().enumerate() {
        if let Some(id) = &p.id {
            right_ids.entry(id).or_default().push(i as u32);
        }
    }
    let mut settled = Vec::new();
    let mut id_pairs = Vec::new();
    let mut left_done = vec![false; left.len()];
    let mut right_done = vec![false; right.len()];
    for (id, ls) in &left_ids {
        if let Some(rs) = right_ids.get(id) {
            for &l in ls {
                for &r in rs {
                    id_pairs.push((l, r));
                }
            }
            if ls.len() == 1 && rs.len() == 1 {
                settled.push((ls[0], rs[0]));
                left_done[ls[0] as usize] = true;
                right_done[rs[0] as usize] = true;
            }
        }
    }
    // The other keys, for the records left.
    let mut buckets: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    for (i, p) in right.iter().enumerate() {
        if !right_done[i] {
            for k in keys(p) {
                buckets.entry(k).or_default().push(i as u32);
            }
        }
    }
    let mut pairs: Vec<(u32, u32)> = left
        .par_iter()
        .enumerate()
        .filter(|(i, _)| !left_done[*i])
        .flat_map_iter(|(i, p)| {
            let mut found: Vec<(u32, u32)> = Vec::new();
            for k in keys(p) {
                if let Some(rs) = buckets.get(&k)
                    && rs.len() <= max_bucket
                {
                    found.extend(rs.iter().map(|&r| (i as u32, r)));
                }
            }
            found.sort_unstable();
            found.dedup();
            found
        })
        .collect();
    pairs.extend(id_pairs);
    pairs.par_sort_unstable();
    pairs.dedup();
    settled.sort_unstable();
    Candidates { pairs, settled }
}
