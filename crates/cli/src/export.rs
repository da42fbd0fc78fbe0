//! `shouwang export`: the official documents of a jurisdiction, written to a file.

use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;

use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::child::{GuardianshipType, Schooling};
use shouwang_domain::eligibility::{AgeBand, KeyTargetFlag};
use shouwang_domain::region::RegionCode;
use shouwang_exchange::outputs::{self, Heading, RosterFilter};
use shouwang_store::export::ExportKind;
use shouwang_store::{Store, StoreError};

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

fn explain(e: StoreError, region: &str) -> anyhow::Error {
    match e {
        StoreError::NotFound => anyhow::anyhow!("{region} 不在您的管辖范围内"),
        StoreError::Forbidden => anyhow::anyhow!("您的账号没有导出权限"),
        other => other.into(),
    }
}

pub async fn roster(
    store: &Store,
    actor: &Actor,
    region: &RegionCode,
    on: NaiveDate,
    filter: &RosterFilter,
    out: &Path,
) -> Result<()> {
    let children = store
        .roster_on(actor, region, on, ExportKind::Roster)
        .await
        .map_err(|e| explain(e, region.as_str()))?;
    let children: Vec<_> = children
        .into_iter()
        .filter(|c| filter.admits(&c.file, on))
        .collect();
    let heading = Heading::new(region, on, store.today());
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
    store: &Store,
    actor: &Actor,
    region: &RegionCode,
    on: NaiveDate,
    out: &Path,
) -> Result<()> {
    let children = store
        .roster_on(actor, region, on, ExportKind::Summary)
        .await
        .map_err(|e| explain(e, region.as_str()))?;
    let (rows, total) = outputs::summary_rows(region, &children, on)
        .map_err(|e| anyhow::anyhow!("汇总数据未通过表间勾稽关系校验：{e}"))?;
    let heading = Heading::new(region, on, store.today());
    std::fs::write(out, outputs::summary_workbook(&heading, &rows, &total)?)
        .with_context(|| format!("无法写入 {}", out.display()))?;
    println!(
        "已导出{}汇总表（统计时点 {on}）：合计 {} 名儿童，{} 个填报单位，勾稽关系校验通过 → {}",
        heading.unit,
        total.figures.get(1),
        rows.len(),
        out.display()
    );
    Ok(())
}

pub async fn pdf(
    store: &Store,
    actor: &Actor,
    child: &str,
    agreement: bool,
    out: &Path,
) -> Result<()> {
    let _ = (store, actor, child, agreement, out);
    bail!("PDF 导出尚未完成")
}
