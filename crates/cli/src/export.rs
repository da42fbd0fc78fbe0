//! `shouwang export`: the official documents of a jurisdiction, written to a file.

use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;

use shouwang_app::App;
use shouwang_app::exports::ExportKind;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::child::{GuardianshipType, Schooling};
use shouwang_domain::eligibility::{AgeBand, KeyTargetFlag};
use shouwang_domain::region::RegionCode;
use shouwang_exchange::forms::{FormHeading, FormPrinter};
use shouwang_exchange::outputs::{self, Heading, RosterFilter};

/// Parses the roster filters given on the command line.
pub fn filter(
    guardianship_type: Option<&str>,
    schooling: Option<&str>,
    age_band: Option<&str>,
    flag: Option<&str>,
) -> Result<RosterFilter> {
    fn one<T>(value: Option<&str>, what: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>> {
        value
            .map(|v| parse(v).with_context(|| format!("{what}“{v}”不是可选值")))
            .transpose()
    }
    Ok(RosterFilter {
        guardianship_type: one(guardianship_type, "监护类型", GuardianshipType::parse)?,
        schooling: one(schooling, "就学情况", Schooling::parse)?,
        age_band: one(age_band, "年龄段", AgeBand::parse)?,
        flag: one(flag, "重点对象标记", KeyTargetFlag::parse)?,
    })
}

fn explain(e: shouwang_app::Error, region: &str) -> anyhow::Error {
    match e {
        shouwang_app::Error::NotFound => anyhow::anyhow!("{region} 不在您的管辖范围内"),
        shouwang_app::Error::Forbidden => anyhow::anyhow!("您的账号没有导出权限"),
        other => other.into(),
    }
}

pub async fn roster(
    app: &App,
    actor: &Actor,
    region: &RegionCode,
    on: NaiveDate,
    filter: &RosterFilter,
    out: &Path,
) -> Result<()> {
    let children = shouwang_app::exports::roster_on(app, actor, region, on, ExportKind::Roster)
        .await
        .map_err(|e| explain(e, region.as_str()))?;
    let children: Vec<_> = children
        .into_iter()
        .filter(|c| filter.admits(&c.file, on))
        .collect();
    let heading = Heading::new(region, on, app.today());
    let bytes = outputs::roster_workbook(&heading, &children, actor.may(Action::UnmaskIdNumber))?;
    std::fs::write(out, bytes).with_context(|| format!("无法写入 {}", out.display()))?;
    println!(
        "已导出{}花名册（统计时点 {on}）：{} 名儿童 → {}",
        heading.unit,
        children.len(),
        out.display()
    );
    Ok(())
}

pub async fn summary(
    app: &App,
    actor: &Actor,
    region: &RegionCode,
    on: NaiveDate,
    out: &Path,
) -> Result<()> {
    let summary = shouwang_app::exports::summary_table(app, actor, region, on)
        .await
        .map_err(|e| explain(e, region.as_str()))?;
    let heading = Heading::new(region, on, app.today());
    std::fs::write(out, outputs::summary_workbook(&heading, &summary)?)
        .with_context(|| format!("无法写入 {}", out.display()))?;
    println!(
        "已导出{}汇总表（统计时点 {on}）：合计 {} 名儿童，{} 个填报单位，勾稽关系校验通过 → {}",
        heading.unit,
        summary.total.figures.get(1),
        summary.units.len(),
        out.display()
    );
    if summary.unplaced > 0 {
        println!(
            "另有 {} 名儿童的就学情况未填写，未计入汇总表：请补充后重新导出",
            summary.unplaced
        );
    }
    Ok(())
}

/// The printer of the forms, with the system's CJK fonts in `font_dir`, else the shipped ones.
pub fn printer(font_dir: &Path) -> Result<shouwang_print::Printer> {
    let printer = shouwang_print::Printer::load(font_dir)?;
    match printer.font_source() {
        shouwang_print::FontSource::System(dir) => {
            tracing::info!(dir = %dir.display(), "printed forms use the system's Noto Serif CJK")
        }
        shouwang_print::FontSource::Shipped => tracing::info!(
            dir = %font_dir.display(),
            "no Noto Serif CJK in the font folder: printed forms use the fonts shipped with the program"
        ),
    }
    Ok(printer)
}

/// Whether a form goes out as `.xlsx` (by the output file's name) rather than PDF.
pub fn wants_xlsx(out: &Path) -> bool {
    out.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// 登记表 (one child, or with `region` every child of a village on the date) as PDF or, for an
/// `.xlsx` output, as a workbook; 确认书 as PDF. `printer` is needed for PDF only.
#[allow(clippy::too_many_arguments)]
pub async fn forms(
    app: &App,
    actor: &Actor,
    printer: Option<&dyn FormPrinter>,
    child: Option<&str>,
    region: Option<&RegionCode>,
    on: NaiveDate,
    agreement: bool,
    out: &Path,
) -> Result<()> {
    if agreement && wants_xlsx(out) {
        bail!("委托监护责任确认书只能导出为 PDF（--out 文件名以 .pdf 结尾）");
    }
    let reveal = actor.may(Action::UnmaskIdNumber);
    let kind = if agreement {
        ExportKind::Agreement
    } else {
        ExportKind::Form
    };
    let children = match (child, region) {
        (Some(id), _) => vec![
            shouwang_app::exports::child_for_form(
                app,
                actor,
                &shouwang_domain::ids::ChildId::from(id),
                kind,
            )
            .await
            .map_err(|e| explain(e, id))?,
        ],
        (None, Some(r)) if !agreement => shouwang_app::exports::roster_on(app, actor, r, on, kind)
            .await
            .map_err(|e| explain(e, r.as_str()))?,
        _ => bail!("请用 --child <儿童编号> 指定儿童（登记表也可用 --region <村级代码> 打印全村）"),
    };
    if children.is_empty() {
        bail!("所选范围内没有儿童");
    }
    let term = shouwang_app::settings::get(app, actor)
        .await
        .map(|(_, s)| s.agreement_term_months)
        .unwrap_or(shouwang_domain::guardianship::DEFAULT_TERM_MONTHS);
    let headings: Vec<FormHeading<'_>> = children
        .iter()
        .map(|c| FormHeading::of(&c.file, app.today(), reveal).with_agreement_term(term))
        .collect();
    let bytes = match printer {
        _ if wants_xlsx(out) => shouwang_exchange::forms::registration_workbook(&headings)?,
        Some(printer) if agreement => printer
            .agreement(&headings[0])
            .map_err(|e| anyhow::anyhow!(e))?,
        Some(printer) => printer
            .registration_forms(&headings)
            .map_err(|e| anyhow::anyhow!(e))?,
        None => bail!("打印 PDF 需要中文字体"),
    };
    std::fs::write(out, bytes).with_context(|| format!("无法写入 {}", out.display()))?;
    println!(
        "已导出{}：{} 名儿童 → {}",
        if agreement {
            "委托监护责任确认书"
        } else {
            "基本情况登记表"
        },
        children.len(),
        out.display()
    );
    Ok(())
}

/// 《农村留守老人花名册》 (龙里 003 附件6) of a region, as a workbook.
pub async fn elder_roster(app: &App, actor: &Actor, region: &RegionCode, out: &Path) -> Result<()> {
    if !wants_xlsx(out) {
        bail!("留守老人花名册导出为 Excel（--out 文件名以 .xlsx 结尾）");
    }
    let elders = shouwang_app::elders::export_roster(app, actor, region)
        .await
        .map_err(|e| explain(e, region.as_str()))?;
    let heading = Heading::new(region, app.today(), app.today());
    let bytes = shouwang_exchange::elders::elder_roster_workbook(
        &heading,
        &elders,
        actor.may(Action::UnmaskIdNumber),
    )?;
    std::fs::write(out, bytes).with_context(|| format!("无法写入 {}", out.display()))?;
    println!(
        "已导出留守老人花名册：{} 人 → {}",
        elders.len(),
        out.display()
    );
    Ok(())
}

/// 《农村留守老人基本情况登记表》 (龙里 003 附件7) of one elder, as a PDF.
pub async fn elder_form(
    app: &App,
    actor: &Actor,
    printer: &dyn FormPrinter,
    elder: &str,
    out: &Path,
) -> Result<()> {
    if wants_xlsx(out) {
        bail!("留守老人基本情况登记表导出为 PDF（--out 文件名以 .pdf 结尾）");
    }
    let file =
        shouwang_app::elders::export_form(app, actor, &shouwang_domain::ids::ElderId::from(elder))
            .await
            .map_err(|e| match e {
                shouwang_app::Error::NotFound => {
                    anyhow::anyhow!("找不到留守老人 {elder}，或不在您的管辖范围内")
                }
                other => explain(other, elder),
            })?;
    let unit = outputs::unit_name(&file.village_code);
    let data = shouwang_exchange::elders::elder_form_data(
        &file,
        &unit,
        app.today(),
        actor.may(Action::UnmaskIdNumber),
    );
    let bytes = printer.elder_form(&data).map_err(|e| anyhow::anyhow!(e))?;
    std::fs::write(out, bytes).with_context(|| format!("无法写入 {}", out.display()))?;
    println!(
        "已导出留守老人基本情况登记表：{} → {}",
        file.name,
        out.display()
    );
    Ok(())
}
