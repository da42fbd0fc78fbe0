//! The whole run: prepare, block, compare, estimate, score, and resolve one to one.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::block::Blocking;
use crate::compare::{FIELDS, MISSING, Pattern, compare};
use crate::model::{self, Model, probability};
use crate::prepare::{Prepared, Record, prepare};

#[derive(Debug, Clone)]
pub struct Settings {
    /// At or above this match probability a pair is linked.
    pub match_probability: f64,
    /// From this up to the match threshold a pair goes to people to review.
    pub review_probability: f64,
    /// Seed of the random pairs that estimate u.
    pub seed: u64,
    /// A blocking key shared by more right-hand records than this is passed over.
    pub max_bucket: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            match_probability: 0.95,
            review_probability: 0.5,
            seed: 20161014,
            max_bucket: 500,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Match,
    Review,
}

impl Decision {
    pub fn code(self) -> &'static str {
        match self {
            Decision::Match => "match",
            Decision::Review => "review",
        }
    }
}

/// One field's part in a link's score.
#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub field: &'static str,
    pub label: &'static str,
    /// The agreement level ("同音"), or 缺失 where a record lacks the field.
    pub level: &'static str,
    /// log₂(m/u): positive for evidence of the same person.
    pub weight: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    /// Indexes into the left and right lists.
    pub left: usize,
    pub right: usize,
    pub probability: f64,
    pub weight: f64,
    pub decision: Decision,
    pub reasons: Vec<Reason>,
}

#[derive(Debug)]
pub struct Linkage {
    /// Linked and to-review pairs, one to one, strongest first.
    pub links: Vec<Link>,
    pub model: Model,
    pub candidates: usize,
}

/// Each field's level and weight in a pattern's score.
pub(crate) fn explain(model: &Model, pattern: &Pattern) -> Vec<Reason> {
    FIELDS
        .iter()
        .enumerate()
        .map(|(f, field)| Reason {
            field: field.key(),
            label: field.label(),
            level: if pattern[f] == MISSING {
                "缺失"
            } else {
                field.levels()[pattern[f] as usize]
            },
            weight: model.weight(f, pattern[f]),
        })
        .collect()
}

/// The name's place in a pattern.
const NAME: usize = 0;

/// How often each name occurs in the two lists together. Two records agreeing on 王伟 say less
/// than two agreeing on 覃梓涵: as Splink's term-frequency adjustment, an exact name's weight is
/// log₂(m / f) with f the name's own frequency instead of the u of all names (u is the chance
/// that two random records share *a* name: the frequencies' weighted mean).
struct NameFrequency<'a> {
    counts: FxHashMap<&'a str, u32>,
    total: f64,
}

impl<'a> NameFrequency<'a> {
    fn of(l: &'a [Prepared], r: &'a [Prepared]) -> NameFrequency<'a> {
        let mut counts: FxHashMap<&str, u32> = FxHashMap::default();
        for name in l.iter().chain(r).filter_map(|p| p.name.as_deref()) {
            *counts.entry(name).or_default() += 1;
        }
        let total = counts.values().map(|&c| f64::from(c)).sum::<f64>().max(1.0);
        NameFrequency { counts, total }
    }

    /// The change to the name's weight for a pair whose names are the same: log₂(u / f).
    fn adjustment(&self, model: &Model, left: &Prepared, pattern: &Pattern) -> f64 {
        if pattern[NAME] != 0 {
            return 0.0;
        }
        let Some(name) = left.name.as_deref() else {
            return 0.0;
        };
        let f = f64::from(self.counts.get(name).copied().unwrap_or(1)) / self.total;
        (model.u[NAME][0] / f).log2()
    }
}

/// Left records taken at a time: candidate pairs are held only for their run, so memory follows
/// the lists' length and the links found, not the number of candidates.
const RUN: usize = 1 << 16;

/// Links two lists. The result depends only on the lists and the settings.
pub fn link(left: &[Record], right: &[Record], settings: &Settings) -> Linkage {
    link_prepared(&prepare(left), &prepare(right), settings)
}

/// Links two lists already prepared (a caller reading a large file prepares each record as it
/// reads it and keeps only that).
pub fn link_prepared(l: &[Prepared], r: &[Prepared], settings: &Settings) -> Linkage {
    if l.is_empty() || r.is_empty() {
        return Linkage {
            links: Vec::new(),
            model: Model {
                m: Vec::new(),
                u: Vec::new(),
                lambda: 0.0,
            },
            candidates: 0,
        };
    }
    let blocking = Blocking::new(l, r, settings.max_bucket);
    let runs = || {
        (0..l.len())
            .step_by(RUN)
            .map(|from| (from, (from + RUN).min(l.len())))
    };
    let compared = |&(a, b): &(u32, u32)| compare(&l[a as usize], &r[b as usize]);
    // First pass: the candidates' patterns, counted.
    let mut all: FxHashMap<Pattern, f64> = FxHashMap::default();
    let mut candidates = 0;
    for (from, to) in runs() {
        let pairs = blocking.pairs(l, from, to);
        candidates += pairs.len();
        all = model::merge(all, model::tally(pairs.par_iter().map(compared)));
    }
    let settled = model::tally(blocking.settled.par_iter().map(compared));
    let u = model::estimate_u(l, r, settings.seed);
    // How many people the lists share: the settled share of the records that carry an ID number,
    // applied to the shorter list.
    let with_id = |ps: &[Prepared]| ps.iter().filter(|p| p.id.is_some()).count().max(1);
    let shorter = l.len().min(r.len()) as f64;
    let expected = if blocking.settled.is_empty() {
        shorter
    } else {
        (shorter * blocking.settled.len() as f64 / with_id(l).min(with_id(r)) as f64).min(shorter)
    };
    let model = model::estimate(u, &all, &settled, expected, l.len() as f64 * r.len() as f64);
    let names = NameFrequency::of(l, r);
    // Second pass: the pairs above the review line, strongest first; ties in index order.
    let mut scored: Vec<(f64, u32, u32, Pattern)> = Vec::new();
    for (from, to) in runs() {
        let pairs = blocking.pairs(l, from, to);
        scored.par_extend(pairs.par_iter().filter_map(|pair| {
            let p = compared(pair);
            let w = model.score(&p) + names.adjustment(&model, &l[pair.0 as usize], &p);
            (probability(w) >= settings.review_probability).then_some((w, pair.0, pair.1, p))
        }));
    }
    scored.par_sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut left_taken = vec![false; l.len()];
    let mut right_taken = vec![false; r.len()];
    let mut links = Vec::new();
    for (w, a, b, pattern) in scored {
        let (a, b) = (a as usize, b as usize);
        if left_taken[a] || right_taken[b] {
            continue;
        }
        left_taken[a] = true;
        right_taken[b] = true;
        let p = probability(w);
        links.push(Link {
            left: a,
            right: b,
            probability: p,
            weight: w,
            decision: if p >= settings.match_probability {
                Decision::Match
            } else {
                Decision::Review
            },
            reasons: {
                let mut reasons = explain(&model, &pattern);
                reasons[NAME].weight += names.adjustment(&model, &l[a], &pattern);
                reasons
            },
        });
    }
    Linkage {
        links,
        model,
        candidates,
    }
}
