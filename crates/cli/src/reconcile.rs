//! `shouwang reconcile`: link two lists (CSV or Excel) and write the links, and the pairs to
//! review with the reasons, as CSV.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use shouwang_linkage::{Decision, Record, Settings, link};

/// The columns a list has (any order; missing ones are empty).
pub const COLUMNS: [&str; 8] = [
    "record_id",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "county",
    "town",
    "village",
];

/// Reads a list: UTF-8 CSV with a header row, or the first sheet of an .xlsx/.xls.
pub fn read_list(path: &Path) -> Result<Vec<Record>> {
    let rows: Vec<Vec<String>> = match shouwang_exchange::sheet::sniff_format(path)
        .with_context(|| format!("无法读取 {}", path.display()))?
    {
        shouwang_exchange::sheet::Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_path(path)
                .with_context(|| format!("无法读取 {}", path.display()))?;
            let mut rows = Vec::new();
            for (n, r) in reader.records().enumerate() {
                let r = r.with_context(|| format!("{} 第{}行无法读取", path.display(), n + 1))?;
                rows.push(
                    r.iter()
                        .map(|c| c.trim_start_matches('\u{feff}').to_owned())
                        .collect(),
                );
            }
            rows
        }
        _ => {
            let mut book = shouwang_exchange::sheet::open(path)
                .with_context(|| format!("无法读取 {}", path.display()))?;
            let mut rows = Vec::new();
            for row in book.rows(0)? {
                rows.push(row?.cells.iter().map(|c| c.display()).collect());
            }
            rows
        }
    };
    let Some((header, body)) = rows.split_first() else {
        bail!("{} 是空的", path.display());
    };
    let at = |name: &str| header.iter().position(|h| h.trim() == name);
    let Some(id_col) = at("record_id") else {
        bail!(
            "{} 缺少 record_id 列（表头应为 {}）",
            path.display(),
            COLUMNS.join(",")
        );
    };
    let cols: Vec<Option<usize>> = COLUMNS.iter().map(|c| at(c)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(body.len());
    for (n, row) in body.iter().enumerate() {
        let get = |i: usize| {
            cols[i]
                .and_then(|c| row.get(c))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let id = row.get(id_col).map(|s| s.trim()).unwrap_or_default();
        if id.is_empty() {
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            bail!("{} 第{}行缺少 record_id", path.display(), n + 2);
        }
        if !seen.insert(id.to_owned()) {
            bail!("{} 第{}行的 record_id “{id}”重复", path.display(), n + 2);
        }
        out.push(Record {
            record_id: id.to_owned(),
            name: get(1),
            sex: get(2),
            birth_date: get(3),
            id_number: get(4),
            county: get(5),
            town: get(6),
            village: get(7),
        });
    }
    Ok(out)
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
