//! `shouwang reconcile`: link two lists (CSV or Excel) and write the links, and the pairs to
//! review with the reasons, as CSV.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use shouwang_linkage::prepare::{Prepared, prepare};
use shouwang_linkage::{Decision, Record, Settings, link_prepared};

/// Records read before they are prepared together (on both cores).
const BATCH: usize = 1 << 14;

/// A list as the run keeps it: each record prepared as it is read, with only its id and name
/// kept beside (for the output files), so a large file is never held as text.
#[derive(Default)]
struct List {
    ids: Vec<String>,
    names: Vec<Option<String>>,
    prepared: Vec<Prepared>,
}

impl List {
    /// Reads a list (CSV or Excel; see `shouwang_exchange::lists`).
    fn read(path: &Path) -> Result<List> {
        let mut list = List::default();
        let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
        shouwang_exchange::lists::read_list_with(path, &BTreeMap::new(), |e| {
            batch.push(e.record);
            if batch.len() == BATCH {
                list.take(&mut batch);
            }
        })?;
        list.take(&mut batch);
        Ok(list)
    }

    fn take(&mut self, batch: &mut Vec<Record>) {
        self.prepared.extend(prepare(batch));
        for r in batch.drain(..) {
            self.ids.push(r.record_id);
            self.names.push(r.name);
        }
    }
}

pub fn run(left: &Path, right: &Path, out: &Path, review: Option<&Path>) -> Result<()> {
    let started = Instant::now();
    let l = List::read(left)?;
    let r = List::read(right)?;
    let result = link_prepared(&l.prepared, &r.prepared, &Settings::default());
    let mut w =
        csv::Writer::from_path(out).with_context(|| format!("无法写入 {}", out.display()))?;
    w.write_record(["left_id", "right_id", "score", "decision"])?;
    for k in &result.links {
        w.write_record([
            l.ids[k.left].as_str(),
            r.ids[k.right].as_str(),
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
                l.ids[k.left].as_str(),
                r.ids[k.right].as_str(),
                &format!("{:.4}", k.probability),
                l.names[k.left].as_deref().unwrap_or(""),
                r.names[k.right].as_deref().unwrap_or(""),
                &reasons,
            ])?;
        }
        w.flush()?;
    }
    println!(
        "比对完成：左表 {} 条，右表 {} 条，候选对 {} 个；确认匹配 {} 对，待人工复核 {} 对（用时 {:.1} 秒）→ {}",
        l.ids.len(),
        r.ids.len(),
        result.candidates,
        result.links.len() - to_review.len(),
        to_review.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
