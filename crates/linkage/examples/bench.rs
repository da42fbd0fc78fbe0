//! The linkage benchmark: the engine on a synthetic list pair with known truth.
//!
//!   cargo run --release -p shouwang-linkage --example bench -- --people 100000 [--hard] [--csv DIR]
//!
//! Prints the time of each step and the precision, recall and F1 of the one-to-one links decided
//! `match` (and with the review queue counted as links), and the size of the review queue. With
//! `--csv DIR` it also writes left.csv, right.csv and truth.csv, for running another tool (Splink) on
//! the same lists. Peak memory: run under `/usr/bin/time` (scripts/bench-linkage).

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc; // as the shouwang binary

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;

use shouwang_linkage::synth::{Damage, list_pair};
use shouwang_linkage::{Decision, Settings, link};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    people: usize,
    /// Twins, siblings and repeated common names.
    #[arg(long)]
    hard: bool,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print this many true pairs that were not found (linked or to review), to see why.
    #[arg(long, default_value_t = 0)]
    missed: usize,
    /// Also write the lists and the truth as CSV here.
    #[arg(long)]
    csv: Option<PathBuf>,
}

fn f1(precision: f64, recall: f64) -> f64 {
    2.0 * precision * recall / (precision + recall)
}

/// The process's peak resident memory so far, in MB (Linux).
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let t = Instant::now();
    let pair = list_pair(
        args.people,
        args.seed,
        &Damage {
            hard: args.hard,
            ..Damage::default()
        },
    );
    println!(
        "lists: {} × {} records, {} true pairs ({:.1} s to generate; peak memory {:.0} MB)",
        pair.left.len(),
        pair.right.len(),
        pair.truth.len(),
        t.elapsed().as_secs_f64(),
        peak_mb()
    );
    if let Some(dir) = &args.csv {
        std::fs::create_dir_all(dir)?;
        for (name, records) in [("left.csv", &pair.left), ("right.csv", &pair.right)] {
            let mut w = csv::Writer::from_path(dir.join(name))?;
            for r in records.iter() {
                w.serialize(r)?;
            }
            w.flush()?;
        }
        let mut w = csv::Writer::from_path(dir.join("truth.csv"))?;
        w.write_record(["left_id", "right_id"])?;
        for (l, r) in &pair.truth {
            w.write_record([l, r])?;
        }
        w.flush()?;
    }
    let t = Instant::now();
    let result = link(&pair.left, &pair.right, &Settings::default());
    let secs = t.elapsed().as_secs_f64();
    let peak = peak_mb();
    let truth: HashSet<(&str, &str)> = pair
        .truth
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let score = |only_matches: bool| {
        let found: Vec<(&str, &str)> = result
            .links
            .iter()
            .filter(|l| !only_matches || l.decision == Decision::Match)
            .map(|l| {
                (
                    pair.left[l.left].record_id.as_str(),
                    pair.right[l.right].record_id.as_str(),
                )
            })
            .collect();
        let right = found.iter().filter(|p| truth.contains(*p)).count() as f64;
        let precision = right / found.len() as f64;
        let recall = right / truth.len() as f64;
        (found.len(), precision, recall, f1(precision, recall))
    };
    if args.missed > 0 {
        let found: HashSet<(&str, &str)> = result
            .links
            .iter()
            .map(|l| {
                (
                    pair.left[l.left].record_id.as_str(),
                    pair.right[l.right].record_id.as_str(),
                )
            })
            .collect();
        let by_id = |list: &[shouwang_linkage::Record]| {
            list.iter()
                .map(|r| (r.record_id.clone(), r.clone()))
                .collect::<std::collections::HashMap<_, _>>()
        };
        let (left, right) = (by_id(&pair.left), by_id(&pair.right));
        for (a, b) in pair
            .truth
            .iter()
            .filter(|(a, b)| !found.contains(&(a.as_str(), b.as_str())))
            .take(args.missed)
        {
            let (x, y) = (&left[a], &right[b]);
            let px = shouwang_linkage::prepare::Prepared::of(x);
            let py = shouwang_linkage::prepare::Prepared::of(y);
            println!(
                "missed {:?}\n   and {:?}\n   levels {:?}",
                x,
                y,
                shouwang_linkage::compare::compare(&px, &py)
            );
        }
    }
    let (n, p, r, f) = score(true);
    let reviews = result
        .links
        .iter()
        .filter(|l| l.decision == Decision::Review)
        .count();
    println!(
        "linked in {secs:.2} s (peak memory {peak:.0} MB): {} candidate pairs, {n} matches, {reviews} to review",
        result.candidates
    );
    println!("matches only:       precision {p:.6}  recall {r:.6}  F1 {f:.6}");
    let (_, p, r, f) = score(false);
    println!("matches + review:   precision {p:.6}  recall {r:.6}  F1 {f:.6}");
    println!(
        "model: λ {:.4}; weights (same … different) {}",
        result.model.lambda,
        shouwang_linkage::compare::FIELDS
            .iter()
            .enumerate()
            .map(|(i, field)| format!(
                "{} {}",
                field.label(),
                (0..field.levels().len())
                    .map(|l| format!("{:+.1}", result.model.weight(i, l as u8)))
                    .collect::<Vec<_>>()
                    .join("/")
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok(())
}
