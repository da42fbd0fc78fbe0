//! `shouwang-bench-linkage`: the linkage engine on a synthetic list pair with known truth.
//!
//!   shouwang-bench-linkage --people 100000 [--hard] [--csv DIR]
//!
//! Prints the time of each step and the precision, recall and F1 of the one-to-one links decided
//! `match` (and with the review queue counted as links), and the size of the review queue. With
//! `--csv DIR` it also writes left.csv, right.csv and truth.csv, for running another tool (Splink) on
//! the same lists. Peak memory: run under `/usr/bin/time` (scripts/bench-linkage).

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
    /// Also write the lists and the truth as CSV here.
    #[arg(long)]
    csv: Option<PathBuf>,
}

fn f1(precision: f64, recall: f64) -> f64 {
    2.0 * precision * recall / (precision + recall)
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
        "lists: {} × {} records, {} true pairs ({:.1} s to generate)",
        pair.left.len(),
        pair.right.len(),
        pair.truth.len(),
        t.elapsed().as_secs_f64()
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
    let (n, p, r, f) = score(true);
    let reviews = result
        .links
        .iter()
        .filter(|l| l.decision == Decision::Review)
        .count();
    println!(
        "linked in {secs:.2} s: {} candidate pairs, {n} matches, {reviews} to review",
        result.candidates
    );
    println!("matches only:       precision {p:.5}  recall {r:.5}  F1 {f:.5}");
    let (_, p, r, f) = score(false);
    println!("matches + review:   precision {p:.5}  recall {r:.5}  F1 {f:.5}");
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
