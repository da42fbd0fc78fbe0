//! Candidate pairs: records that share at least one blocking key. A pair of lists of a million
//! records holds 10¹² pairs; the keys keep the few that could be the same person.
//!
//! First an exact pass on the ID number: a valid number found once in each list settles the pair,
//! and those records take no further keys (most records, in practice). The others are blocked on
//! birth date + county, surname pinyin + village, whole-name pinyin (each reading, for names with
//! heteronyms) + birth year, birth date with day and month in order + surname, and the ID number
//! with one position masked (a typo of one digit still meets its number).

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};

use chrono::Datelike;

use crate::prepare::Prepared;

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
    if let (Some(s), Some(v)) = (p.surname, p.village) {
        out.push(key(2, (s, v)));
    }
    if let Some(y) = p.birth_year() {
        // Every reading of a name with heteronyms: 王乐 meets 王悦 as wangyue.
        for n in p.all_readings() {
            out.push(key(3, (n, y)));
        }
    }
    if let (Some(b), Some(s)) = (p.birth, p.surname) {
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

/// The blocking of two lists, ready to give the candidate pairs of any run of left records: a
/// run is taken at a time, so the pairs of a million-record list never have to be held at once.
pub struct Blocking {
    /// Right records by key, for the records the ID pass did not settle.
    buckets: FxHashMap<u64, Vec<u32>>,
    left_done: Vec<bool>,
    /// Pairs with the same valid ID number (settled or not: a number written for two children
    /// leaves each of its pairs to be scored). Sorted.
    id_pairs: Vec<(u32, u32)>,
    /// Pairs with the same valid ID number, found once in each list. Sorted.
    pub settled: Vec<(u32, u32)>,
    max_bucket: usize,
}

impl Blocking {
    /// A key shared by more than `max_bucket` records of the right list (a very common name in
    /// one year) is passed over, so no key can swamp the run.
    pub fn new(left: &[Prepared], right: &[Prepared], max_bucket: usize) -> Blocking {
        // The exact ID pass.
        let (left_ids, right_ids) = (by_id(left), by_id(right));
        let mut settled = Vec::new();
        let mut id_pairs = Vec::new();
        let mut left_done = vec![false; left.len()];
        let mut right_done = vec![false; right.len()];
        for (id, ls) in &left_ids {
            if let Some(rs) = right_ids.get(id) {
                id_pairs.extend(ls.iter().flat_map(|&l| rs.iter().map(move |&r| (l, r))));
                if ls.len() == 1 && rs.len() == 1 {
                    settled.push((ls[0], rs[0]));
                    left_done[ls[0] as usize] = true;
                    right_done[rs[0] as usize] = true;
                }
            }
        }
        settled.sort_unstable();
        id_pairs.sort_unstable();
        // The other keys, for the right records left.
        let mut buckets: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
        for (i, p) in right.iter().enumerate() {
            if !right_done[i] {
                for k in keys(p) {
                    buckets.entry(k).or_default().push(i as u32);
                }
            }
        }
        Blocking {
            buckets,
            left_done,
            id_pairs,
            settled,
            max_bucket,
        }
    }

    /// The candidate pairs of the left records `from..to`, settled ones included, sorted.
    pub fn pairs(&self, left: &[Prepared], from: usize, to: usize) -> Vec<(u32, u32)> {
        let mut pairs: Vec<(u32, u32)> = (from..to)
            .into_par_iter()
            .filter(|&i| !self.left_done[i])
            .flat_map_iter(|i| {
                let mut found: Vec<(u32, u32)> = Vec::new();
                for k in keys(&left[i]) {
                    if let Some(rs) = self.buckets.get(&k)
                        && rs.len() <= self.max_bucket
                    {
                        found.extend(rs.iter().map(|&r| (i as u32, r)));
                    }
                }
                found
            })
            .collect();
        let lo = self.id_pairs.partition_point(|p| (p.0 as usize) < from);
        let hi = self.id_pairs.partition_point(|p| (p.0 as usize) < to);
        pairs.extend_from_slice(&self.id_pairs[lo..hi]);
        pairs.par_sort_unstable();
        pairs.dedup();
        pairs
    }
}

/// The records of a list by their valid ID number.
fn by_id(list: &[Prepared]) -> FxHashMap<&str, Vec<u32>> {
    let mut m: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for (i, p) in list.iter().enumerate() {
        if let Some(id) = &p.id {
            m.entry(&**id).or_default().push(i as u32);
        }
    }
    m
}
