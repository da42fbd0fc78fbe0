//! `shouwang import`: a dry run that prints what a spreadsheet would create, update and reject, or
//! with `--commit` the import itself.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Result, bail};

use shouwang_app::App;
use shouwang_app::import::{
    CommitMode, ImportError, Importer, Outcome, Progress, describe_changes,
};
use shouwang_domain::authz::Actor;
use shouwang_exchange::columns::{column_letter, target};

/// Lines listed per kind of outcome before "…".
const LIST: usize = 30;

/// What `shouwang import` was asked, besides the file.
pub struct Options<'a> {
    pub commit: Option<CommitMode>,
    pub errors: Option<&'a Path>,
    pub map: &'a [String],
    pub fill: &'a [String],
    pub save_mapping: bool,
}

/// Runs an import; returns the exit status (0 = the file was read, and committed if asked).
pub async fn run(app: &App, actor: &Actor, file: &Path, options: Options<'_>) -> Result<i32> {
    let Options {
        commit,
        errors,
        map,
        fill,
        save_mapping,
    } = options;
    let fills = match shouwang_exchange::fill::parse_all(fill) {
        Ok(f) => f,
        Err(e) => bail!("--fill：{e}"),
    };
    let mut choices = BTreeMap::new();
    for m in map {
        let Some((column, field)) = m.split_once('=') else {
            bail!("--map “{m}” 应写成 列标题=字段，例如 村别=village");
        };
        choices.insert(column.trim().to_owned(), field.trim().to_owned());
    }
    let importer = match Importer::new(app, actor) {
        Ok(i) => i.with_fills(fills),
        Err(e) => {
            eprintln!("导入失败：{e}");
            return Ok(2);
        }
    };
    let source = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tty = std::io::stderr().is_terminal();
    let mut last = 0u64;
    let mut progress = |p: Progress| {
        if tty || p.rows_read >= last + 50_000 {
            last = p.rows_read;
            let total = p
                .rows_expected
                .map(|t| format!(" / 约 {t}"))
                .unwrap_or_default();
            eprint!("\r已读取并核对 {} 行{total}", p.rows_read);
            if !tty {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    };
    let started = std::time::Instant::now();
    let plan = match importer.plan(file, &source, &choices, &mut progress).await {
        Ok(p) => p,
        Err(e) => {
            if tty {
                eprintln!();
            }
            eprintln!("无法导入 {}：{e}", file.display());
            return Ok(2);
        }
    };
    if tty {
        eprintln!();
    }
    let info = &plan.info;
    println!(
        "文件：{}（{}{}），工作表“{}”，表头在第 {}–{} 行",
        file.display(),
        info.format,
        info.encoding
            .map(|e| format!("，{e} 编码"))
            .unwrap_or_default(),
        info.sheet,
        info.mapping.header_first + 1,
        info.mapping.header_last + 1
    );
    if info.saved_mapping {
        println!("已套用此前保存的列对应");
    }
    println!("列对应：");
    for c in &info.mapping.columns {
        if c.title.is_empty() && c.key.is_none() {
            continue;
        }
        let field = c
            .key
            .as_deref()
            .and_then(target)
            .map(|t| format!("{}（{}）", t.label, t.key))
            .unwrap_or_else(|| "（不导入）".to_owned());
        println!("  {} {} → {}", column_letter(c.index), c.title, field);
    }
    if !plan.missing_columns.is_empty() {
        println!(
            "注意：表中没有这些列，新登记的儿童会因缺少信息而出错：{}",
            plan.missing_columns.join("、")
        );
    }
    if !plan.columns_to_complete.is_empty() {
        println!(
            "表中没有这些列：{}。新登记的儿童照常保存，这些项目列入“待补充”",
            plan.columns_to_complete.join("、")
        );
    }
    let counts = plan.counts();
    println!(
        "新增 {} 行，更新 {} 行，无变化 {} 行，错误 {} 行（读取并检查用时 {:.1} 秒）",
        counts.create,
        counts.update,
        counts.unchanged,
        counts.error,
        started.elapsed().as_secs_f64()
    );
    let mut listed = [0usize; 2];
    for r in &plan.rows {
        match &r.outcome {
            Outcome::Create(_) if listed[0] < LIST => {
                listed[0] += 1;
                println!("  新增 第{}行 {}", r.row, r.name);
            }
            Outcome::Update(u) if listed[1] < LIST => {
                listed[1] += 1;
                println!(
                    "  更新 第{}行 {}：{}",
                    r.row,
                    r.name,
                    describe_changes(&u.changes)
                );
            }
            _ => {}
        }
    }
    if counts.create > LIST || counts.update > LIST {
        println!("  ……（只列出前 {LIST} 行）");
    }
    for (_, line) in plan.error_lines().iter().take(LIST * 10) {
        println!("  错误 {line}");
    }
    if save_mapping {
        importer.save_mapping(&plan).await?;
        println!("列对应已保存，表头相同的文件以后会自动套用");
    }
    if let Some(path) = errors {
        match plan.write_errors(path) {
            Ok(n) => println!(
                "错误行（{n} 行）已写入 {}，修改后可重新导入",
                path.display()
            ),
            Err(e) => bail!("写出错误清单失败：{e}"),
        }
    }
    let Some(mode) = commit else {
        println!("这是预览，没有写入任何数据。确认无误后加 --commit all 或 --commit valid 导入。");
        return Ok(0);
    };
    let started = std::time::Instant::now();
    let import_id = importer.import_id().to_owned();
    match importer.commit(&plan, mode).await {
        Ok(done) => {
            println!(
                "已导入：新增 {} 名儿童，更新 {} 名儿童{}（写入用时 {:.1} 秒；本次导入编号 {import_id}，花名册中可按此编号列出这些儿童：/children?import={import_id}）",
                done.created,
                done.updated,
                if counts.error > 0 && mode == CommitMode::Valid {
                    format!("；跳过错误行 {} 行", counts.error)
                } else {
                    String::new()
                },
                started.elapsed().as_secs_f64()
            );
            Ok(0)
        }
        Err(ImportError::HasErrors(n)) => {
            eprintln!("{}", ImportError::HasErrors(n));
            Ok(1)
        }
        Err(e) => {
            eprintln!("导入失败，没有写入任何数据：{e}");
            Ok(1)
        }
    }
}
