//! The Fellegi–Sunter model: for each field and agreement level, m = P(level | same person) and
//! u = P(level | different people); a pair's match weight is the sum of log₂(m/u) over its fields
//! plus the prior log-odds.
//!
//! Both are estimated from the lists themselves, as Splink does: u from random pairs (almost all
//! of them different people), m and the share of matches λ by expectation–maximisation over the
//! candidate pairs with u held fixed. EM starts from the pairs the ID pass settled (nearly all true
//! matches), which also keeps it from converging on a wrong solution. Sampling is seeded:
//! the same lists give the same model.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::compare::{FIELDS, MISSING, Pattern, compare};
use crate::prepare::Prepared;

/// Random pairs drawn to estimate u.
const U_SAMPLE: usize = 1_000_000;
const EM_ROUNDS: usize = 30;

/// What two lists' records of the same child usually show, per field and level (the levels of
/// [`crate::compare::Field::levels`]): a Dirichlet prior on m worth [`PRIOR_PAIRS`] pairs. Large
/// lists outweigh it at once; a town's list of forty children is not left with m estimated
/// from a handful of pairs that all agree (which made a homophone count against a match).
pub const PRIOR_M: [&[f64]; 5] = [
    // 姓名: 相同, 同音, 一字之差, 拼音相近, 不同
    &[0.90, 0.04, 0.035, 0.015, 0.01],
    // 出生日期: 相同, 日月颠倒, 一位数字不同或相差一天, 不同
    &[0.93, 0.02, 0.03, 0.02],
    // 身份证号码: 相同, 一位数字不同或相邻两位颠倒, 相近但双方均有效, 不同
    &[0.96, 0.025, 0.005, 0.01],
    // 性别: 相同, 不同
    &[0.995, 0.005],
    // 住址: 同村, 同乡镇, 同县, 不同
    &[0.80, 0.12, 0.06, 0.02],
];
/// How many pairs' worth of evidence the prior is.
pub const PRIOR_PAIRS: f64 = 30.0;

#[derive(Debug, Clone)]
pub struct Model {
    /// m and u per field and level.
    pub m: Vec<Vec<f64>>,
    pub u: Vec<Vec<f64>>,
    /// Share of candidate pairs that are matches.
    pub lambda: f64,
}

impl Model {
    /// log₂(m/u) of a field's level (0 for a missing field).
    pub fn weight(&self, field: usize, level: u8) -> f64 {
        if level == MISSING {
            return 0.0;
        }
        (self.m[field][level as usize] / self.u[field][level as usize]).log2()
    }

    pub fn prior(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// The match weight of a pattern: prior plus each field's weight.
    pub fn score(&self, p: &Pattern) -> f64 {
        self.prior()
            + p.iter()
                .enumerate()
                .map(|(f, l)| self.weight(f, *l))
                .sum::<f64>()
    }
}

pub fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    odds / (1.0 + odds)
}

fn normalise(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts.iter().map(|c| c / total).collect()
}

/// Each field's count per level. Patterns are taken in order: counts weighted by probabilities
/// are not whole numbers, and their sum must not depend on the map's order (which depends on
/// how the parallel tally was merged).
fn level_counts(patterns: &FxHashMap<Pattern, f64>) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> = FIELDS.iter().map(|f| vec![0.0; f.levels().len()]).collect();
    let mut sorted: Vec<(&Pattern, &f64)> = patterns.iter().collect();
    sorted.sort_unstable_by_key(|(p, _)| **p);
    for (p, n) in sorted {
        for (f, l) in p.iter().enumerate() {
            if *l != MISSING {
                counts[f][*l as usize] += n;
            }
        }
    }
    counts
}

/// u from random pairs, with one pseudo-count per level so no level is impossible.
pub fn estimate_u(left: &[Prepared], right: &[Prepared], seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = U_SAMPLE
        .min(50 * (left.len() + right.len()))
        .min(left.len() * right.len());
    let picks: Vec<(usize, usize)> = (0..n)
        .map(|_| (rng.gen_range(0..left.len()), rng.gen_range(0..right.len())))
        .collect();
    let patterns = tally(picks.par_iter().map(|&(l, r)| compare(&left[l], &right[r])));
    level_counts(&patterns)
        .into_iter()
        .map(|c| normalise(&c.iter().map(|x| x + 1.0).collect::<Vec<_>>()))
        .collect()
}

/// How many times each pattern occurs (whole numbers, so the sum is exact in any order).
pub fn tally(patterns: impl ParallelIterator<Item = Pattern>) -> FxHashMap<Pattern, f64> {
    patterns
        .fold(FxHashMap::default, |mut acc: FxHashMap<Pattern, f64>, p| {
            *acc.entry(p).or_default() += 1.0;
            acc
        })
        .reduce(FxHashMap::default, merge)
}

/// Adds the counts of `b` to `a`.
pub fn merge(
    mut a: FxHashMap<Pattern, f64>,
    b: FxHashMap<Pattern, f64>,
) -> FxHashMap<Pattern, f64> {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
    a
}

/// m per field and level, and λ = P(two records, one from each list, are the same person).
///
/// m comes from pairs that are matches beyond doubt: for name, birth date, sex and address the
/// pairs the exact-ID pass settled (the same valid ID number, found once in each list); for the ID
/// number the candidate pairs that agree exactly on name, birth date, sex and village. Where the
/// lists carry too few ID numbers for that, m is found by expectation–maximisation over the
/// candidate pairs' patterns with u and λ held fixed. λ is taken over all pairs, as in Splink, so
/// a pair's probability does not depend on how it was found.
///
/// (EM over the candidates with λ free, tried first, converged on λ ≈ 0.97: the candidates agree on
/// their blocking keys far more often than random pairs, and EM read that as matching.)
pub fn estimate(
    u: Vec<Vec<f64>>,
    candidates: &FxHashMap<Pattern, f64>,
    settled: &FxHashMap<Pattern, f64>,
    expected_matches: f64,
    all_pairs: f64,
) -> Model {
    let lambda = (expected_matches / all_pairs).clamp(1e-12, 0.5);
    let smooth = |f: usize, c: Vec<f64>| {
        normalise(
            &c.iter()
                .zip(PRIOR_M[f])
                .map(|(x, p)| x + PRIOR_PAIRS * p)
                .collect::<Vec<_>>(),
        )
    };
    let id = FIELDS
        .iter()
        .position(|f| *f == crate::compare::Field::Id)
        .expect("compared");
    if settled.values().sum::<f64>() >= 50.0 {
        let mut m = level_counts(settled);
        let sure: FxHashMap<Pattern, f64> = candidates
            .iter()
            .filter(|(p, _)| {
                p.iter()
                    .enumerate()
                    .all(|(f, l)| f == id || *l == 0 || *l == MISSING)
                    && p[0] == 0
                    && p[1] == 0
            })
            .map(|(p, n)| (*p, *n))
            .collect();
        m[id] = level_counts(&sure).swap_remove(id);
        return Model {
            m: m.into_iter()
                .enumerate()
                .map(|(f, c)| smooth(f, c))
                .collect(),
            u,
            lambda,
        };
    }
    // Without anchors: EM from the prior.
    let mut m: Vec<Vec<f64>> = PRIOR_M.iter().map(|p| p.to_vec()).collect();
    for _ in 0..EM_ROUNDS {
        let model = Model {
            m: m.clone(),
            u: u.clone(),
            lambda,
        };
        let weighted: FxHashMap<Pattern, f64> = candidates
            .iter()
            .map(|(p, n)| (*p, probability(model.score(p)) * n))
            .collect();
        m = level_counts(&weighted)
            .into_iter()
            .enumerate()
            .map(|(f, c)| smooth(f, c))
            .collect();
    }
    Model { m, u, lambda }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prior_has_a_level_for_every_level() {
        for (f, field) in FIELDS.iter().enumerate() {
            assert_eq!(PRIOR_M[f].len(), field.levels().len(), "{field:?}");
            assert!((PRIOR_M[f].iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
    }
}
