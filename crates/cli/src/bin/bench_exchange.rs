//! `shouwang-bench-exchange`: writes synthetic rosters for the import benchmarks, the way a county
//! would hand them over (the 花名册 columns, valid ID numbers, real villages), and times the exports.
//!
//!   shouwang-bench-exchange roster --rows 100000 --format xlsx --out roster.xlsx
//!   shouwang-bench-exchange roster --rows 1000000 --format csv --out roster.csv
//!   shouwang-bench-exchange exports --rows 100000      (roster .xlsx and PDF pages per second)
//!
//! The import itself is measured through the real CLI (`shouwang import --commit all`) under
//! `/usr/bin/time -v`, for wall time and peak memory; see scripts/bench-exchange.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use rand::SeedableRng;
use rand::rngs::StdRng;

use shouwang::demo::{IdSequences, child_input};
use shouwang_domain::child::ChildFile;
use shouwang_domain::input::ParseContext;
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_exchange::forms::{FormHeading, FormPrinter};
use shouwang_exchange::outputs::{self, Heading, ROSTER_COLUMNS, roster_values};
use shouwang_store::export::ExportChild;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Roster {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        #[arg(long, value_enum)]
        format: Format,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "522730")]
        region: String,
        /// First ID-number sequence pair (0–499): 250 makes numbers a demo database does not hold.
        #[arg(long, default_value_t = 0)]
        seq_from: u16,
    },
    Exports {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        #[arg(long, default_value_t = 200)]
        pages: usize,
        #[arg(long, default_value = "522730")]
        region: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Xlsx,
}

fn files(rows: usize, region: &str, seq_from: u16) -> Result<Vec<ChildFile>> {
    let divisions = Divisions::shipped();
    let region = RegionCode::parse(region)?;
    let villages: Vec<String> = divisions
        .subtree(&region)?
        .filter(|d| d.level == RegionLevel::Village)
        .map(|d| d.code.to_owned())
        .collect();
    let today = chrono::Utc::now().date_naive();
    let ctx = ParseContext { today, divisions };
    let mut rng = StdRng::seed_from_u64(7);
    let mut ids = IdSequences::starting_at(seq_from);
    let mut out = Vec::with_capacity(rows);
    let mut i = 0usize;
    while out.len() < rows {
        let village = &villages[i % villages.len()];
        i += 1;
        if let Ok(f) = child_input(&mut rng, village, today, &mut ids).parse(&ctx)
            && shouwang_domain::summary_table::counts_on(&f, today)
        {
            out.push(f);
        }
    }
    Ok(out)
}

/// Generated files as the store hands them to the exports.
fn as_exported(files: Vec<ChildFile>) -> Vec<ExportChild> {
    files
        .into_iter()
        .map(|file| ExportChild {
            id: String::new(),
            file,
        })
        .collect()
}

fn main() -> Result<()> {
    match Args::parse().command {
        Cmd::Roster {
            rows,
            format,
            out,
            region,
            seq_from,
        } => {
            let t = Instant::now();
            let files = files(rows, &region, seq_from)?;
            let generated = t.elapsed();
            let t = Instant::now();
            match format {
                Format::Csv => {
                    let mut w = csv::Writer::from_path(&out)?;
                    w.write_record(ROSTER_COLUMNS.iter().map(|(h, _)| *h))?;
                    for (i, f) in files.iter().enumerate() {
                        w.write_record(roster_values(i, f, true))?;
                    }
                    w.flush()?;
                }
                Format::Xlsx => {
                    let region = RegionCode::parse(&region)?;
                    let today = chrono::Utc::now().date_naive();
                    let children = as_exported(files);
                    std::fs::write(
                        &out,
                        outputs::roster_workbook(
                            &Heading::new(&region, today, today),
                            &children,
                            true,
                        )?,
                    )?;
                }
            }
            println!(
                "{rows} rows: generated in {:.1} s, written in {:.1} s → {} ({:.1} MB)",
                generated.as_secs_f64(),
                t.elapsed().as_secs_f64(),
                out.display(),
                std::fs::metadata(&out)?.len() as f64 / 1e6
            );
        }
        Cmd::Exports {
            rows,
            pages,
            region,
        } => {
            let files = files(rows, &region, 0)?;
            let region = RegionCode::parse(&region)?;
            let today = chrono::Utc::now().date_naive();
            let children = as_exported(files);
            let t = Instant::now();
            let bytes =
                outputs::roster_workbook(&Heading::new(&region, today, today), &children, true)?;
            let roster = t.elapsed();
            let t = Instant::now();
            let table =
                outputs::summary_rows(&region, &children, today).map_err(anyhow::Error::msg)?;
            let summary_bytes =
                outputs::summary_workbook(&Heading::new(&region, today, today), &table)?;
            let summary = t.elapsed();
            println!(
                "roster .xlsx of {rows} children: {:.2} s ({:.1} MB); 汇总表 over them: {:.3} s ({} bytes)",
                roster.as_secs_f64(),
                bytes.len() as f64 / 1e6,
                summary.as_secs_f64(),
                summary_bytes.len()
            );
            let t = Instant::now();
            let printer = shouwang_print::Printer::load(std::path::Path::new(
                shouwang_print::DEFAULT_FONT_DIR,
            ))?;
            let load = t.elapsed();
            let forms: Vec<FormHeading<'_>> = children[..pages.min(children.len())]
                .iter()
                .map(|c| FormHeading::of(&c.file, today, true))
                .collect();
            let t = Instant::now();
            let one = printer
                .registration_forms(&forms[..1])
                .map_err(anyhow::Error::msg)?;
            let first = t.elapsed();
            let t = Instant::now();
            let pdf = printer
                .registration_forms(&forms)
                .map_err(anyhow::Error::msg)?;
            let many = t.elapsed();
            let t = Instant::now();
            for f in forms.iter().take(20) {
                printer.agreement(f).map_err(anyhow::Error::msg)?;
            }
            let agreements = t.elapsed();
            println!(
                "PDF: fonts loaded in {:.0} ms; one 登记表 {:.0} ms ({} bytes); {} pages in one file {:.2} s = {:.0} pages/s ({:.1} MB); 20 确认书 {:.0} ms each",
                load.as_secs_f64() * 1e3,
                first.as_secs_f64() * 1e3,
                one.len(),
                forms.len(),
                many.as_secs_f64(),
                forms.len() as f64 / many.as_secs_f64(),
                pdf.len() as f64 / 1e6,
                agreements.as_secs_f64() * 1e3 / 20.0
            );
        }
    }
    Ok(())
}
