//! `shouwang reconcile`: link two lists (CSV or Excel) and write the links, and the pairs to
//! review with the reasons, as CSV.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use shouwang_linkage::{Decision, Record, Settings, link};

/// Reads a list (CSV or Excel; see `shouwang_exchange::lists`).
pub fn read_list(path: &Path) -> Result<Vec<Record>> {
    Ok(shouwang_exchange::lists::read_list(path)?
        .into_iter()
        .map(|e| e.record)
        .collect())
}

pub fn run(left: &Path, right: &Path, out: &Path, review: Option<&Path>) -> Result<()> {
    let started = Instant::now();
    let l = read_list(left)?;
    let r = read_list(right)?;
    let result = link(&l, &r, &Settings::default());
    let mut w =
        csv::Writer::from_path(out).with_context(|| format!("无法写入 {}", out.display()))?;
    w.write_record(["left_id", "right_id", "score", "decision"])?;
    for k in &result.links {
        w.write_record([
            l[k.left].record_id.as_str(),
            r[k.right].record_id.as_str(),
            &format!("{:.4}", k.probability),
            k.decision.code(),
        ])?;
    }
    w.flush()?;
    let to_review: Vec<_> = result
        .links
        .iter()
        .filter(|k| k.decision == Decision::Review)
        .collect();
    if let Some(path) = review {
        let mut w =
            csv::Writer::from_path(path).with_context(|| format!("无法写入 {}", path.display()))?;
        w.write_record([
            "left_id",
            "right_id",
            "score",
            "left_name",
            "right_name",
            "reasons",
        ])?;
        for k in &to_review {
            let reasons = k
                .reasons
                .iter()
                .map(|x| format!("{}{}（{:+.1}）", x.label, x.level, x.weight))
                .collect::<Vec<_>>()
                .join("；");
            w.write_record([
                l[k.left].record_id.as_str(),
                r[k.right].record_id.as_str(),
                &format!("{:.4}", k.probability),
                l[k.left].name.as_deref().unwrap_or(""),
                r[k.right].name.as_deref().unwrap_or(""),
                &reasons,
            ])?;
        }
        w.flush()?;
    }
    println!(
        "比对完成：左表 {} 条，右表 {} 条，候选对 {} 个；确认匹配 {} 对，待人工复核 {} 对（用时 {:.1} 秒）→ {}",
        l.len(),
        r.len(),
        result.candidates,
        result.links.len() - to_review.len(),
        to_review.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
