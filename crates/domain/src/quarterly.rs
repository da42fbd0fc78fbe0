//! The quarterly cycle (每季度核查、报送): each town's 汇总表 as of the quarter's end, frozen, submitted
//! with its signers (填表人、复核人、单位负责人), approved or returned by the level above, locked once
//! approved; a county's report is the sum of its towns' approved ones, and goes up the same way
//! (沈阳 002 一2 每季度…报送, 并抄报同级教育、公安部门; 龙里 003 七(二) 镇(街道)要在每季度末填写…经镇(街道)
//! 主要负责人签字并加盖公章后报县民政局; 武清 004 二(四) 村—镇—区 逐级汇总、上报). DHIS2's data approval is the
//! model: per period and unit, level by level, a parent only after its children
//! (`anchors.md` §2).

use crate::authz::{Actor, Role};
use crate::code_enum;
use crate::region::{RegionCode, RegionLevel};
use chrono::{Datelike, NaiveDate};

/// A calendar quarter: "2026Q4".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1–4.
    pub q: u32,
}

impl Quarter {
    /// "2026Q4" (also "2026q4", "2026-Q4").
    pub fn parse(s: &str) -> Option<Quarter> {
        let s = s.trim().to_ascii_uppercase().replace('-', "");
        let (y, q) = s.split_once('Q')?;
        let year: i32 = y.parse().ok()?;
        let q: u32 = q.parse().ok()?;
        ((2000..=2200).contains(&year) && (1..=4).contains(&q)).then_some(Quarter { year, q })
    }

    /// The quarter a date falls in.
    pub fn of(d: NaiveDate) -> Quarter {
        Quarter {
            year: d.year(),
            q: (d.month() - 1) / 3 + 1,
        }
    }

    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.q - 1) * 3 + 1, 1).expect("valid quarter")
    }

    /// The quarter's last day: the reference date of its reports.
    pub fn end(self) -> NaiveDate {
        crate::visits::quarter_end(self.start())
    }

    pub fn previous(self) -> Quarter {
        if self.q == 1 {
            Quarter {
                year: self.year - 1,
                q: 4,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q - 1,
            }
        }
    }

    /// 2026年第四季度.
    pub fn label(self) -> String {
        format!(
            "{}年第{}季度",
            self.year,
            ["一", "二", "三", "四"][self.q as usize - 1]
        )
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}Q{}", self.year, self.q)
    }
}

code_enum! {
    /// Where a quarterly report stands.
    pub enum ReportStatus {
        Frozen = ("frozen", "已冻结待提交"),
        /// Named its 复核人 and 单位负责人, who have not both confirmed (nor was the signed and
        /// stamped page uploaded): not yet submitted.
        Signing = ("signing", "待签字确认"),
        Submitted = ("submitted", "已提交待审核"),
        Returned = ("returned", "已退回待修改"),
        Approved = ("approved", "已审核通过"),
    }
}

code_enum! {
    /// What is done to a report.
    pub enum ReportAction {
        Refresh = ("refresh", "重新生成"),
        Submit = ("submit", "提交"),
        /// The signers confirmed (or the signed page was uploaded): the report goes up.
        Confirm = ("confirm", "签字确认"),
        Approve = ("approve", "审核通过"),
        Return = ("return", "退回"),
    }
}

/// Why an action is refused: the state does not allow it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("报表当前状态为“{}”，不能{}", .from.label(), .action.label())]
pub struct ReportTransitionError {
    pub from: ReportStatus,
    pub action: ReportAction,
}

/// The report's state machine: frozen → submitted → approved (locked) | returned → (refreshed)
/// frozen → submitted …; a frozen report may be made again from the files before it is submitted.
pub fn transition(
    from: ReportStatus,
    action: ReportAction,
) -> Result<ReportStatus, ReportTransitionError> {
    use ReportAction as A;
    use ReportStatus as S;
    match (from, action) {
        (S::Frozen | S::Returned | S::Signing, A::Refresh) => Ok(S::Frozen),
        (S::Frozen, A::Submit) => Ok(S::Signing),
        (S::Signing, A::Confirm) => Ok(S::Submitted),
        (S::Submitted, A::Approve) => Ok(S::Approved),
        (S::Submitted, A::Return) => Ok(S::Returned),
        _ => Err(ReportTransitionError { from, action }),
    }
}

/// The level whose reports a unit's report sums: a town's report counts its children; a county's
/// sums its towns, a prefecture its counties, a province its prefectures.
pub fn reporting_level(region: &RegionCode) -> Option<RegionLevel> {
    match region.level() {
        RegionLevel::Town => Some(RegionLevel::Village),
        RegionLevel::County => Some(RegionLevel::Town),
        RegionLevel::Prefecture => Some(RegionLevel::County),
        RegionLevel::Province => Some(RegionLevel::Prefecture),
        _ => None,
    }
}

/// Who makes and submits a unit's report: its own staff (a town's 儿童督导员; a county's civil
/// affairs), or the county for a town that has no user yet.
pub fn may_prepare(actor: &Actor, region: &RegionCode) -> bool {
    match actor.role {
        Role::Town => actor.region == *region,
        Role::County | Role::CountyAdmin => actor.region.contains(region),
        // Above the county, the prefecture's or province's own staff (oversight users there).
        Role::Oversight => actor.region == *region && region.level() < RegionLevel::County,
        _ => false,
    }
}

/// Who approves or returns a unit's report: civil affairs or oversight of a level above it that
/// contains it (the county for its towns; the prefecture's or province's oversight above a county).
pub fn may_approve(actor: &Actor, region: &RegionCode) -> bool {
    actor.region != *region
        && actor.region.contains(region)
        && matches!(
            actor.role,
            Role::County | Role::CountyAdmin | Role::Oversight
        )
}

code_enum! {
    /// Who signs a unit's report besides the one who filled it in (填表人): 龙里 003 七(二) asks
    /// for the report 签字确认，加盖公章.
    pub enum Signer {
        Reviewer = ("reviewer", "复核人"),
        Head = ("head", "单位负责人"),
    }
}

/// Whether the actor confirms as `signer` of the unit's report: a user of the unit itself (one who
/// may prepare its report and sits at it), not the one who submitted it, whose name is the name
/// the report gives for that signer. Three signatures are three people: the filer does not sign
/// for the others, and a user does not sign twice.
pub fn may_confirm(
    actor: &Actor,
    actor_name: &str,
    region: &RegionCode,
    filer_user_id: Option<&str>,
    named: &str,
) -> bool {
    actor.region == *region
        && may_prepare(actor, region)
        && filer_user_id != Some(actor.user_id.as_str())
        && !named.is_empty()
        && crate::text::clean(actor_name) == crate::text::clean(named)
}

code_enum! {
    /// The sections of a town's report another department checks before the county approves it
    /// (龙里 003 七(二): 县教育局和县公安局要分别核实更新…控辍保学、户籍登记和应急处置有关数据).
    pub enum Section {
        Education = ("education", "控辍保学（教育行政部门核实）"),
        Police = ("police", "户籍登记和应急处置（公安机关核实）"),
    }
}

impl Section {
    /// The role that checks the section.
    pub fn role(self) -> Role {
        match self {
            Section::Education => Role::Education,
            Section::Police => Role::Police,
        }
    }
}

/// Whether the actor checks this section of a town's report: the department's own users whose
/// area holds the town (the county's education bureau, the town's or the county's police).
pub fn may_verify(actor: &Actor, region: &RegionCode, section: Section) -> bool {
    actor.role == section.role()
        && actor.region.contains(region)
        && region.level() == RegionLevel::Town
}

/// Days after a quarter's end a unit's report is due: a town's first, its county's after the
/// towns are in, the levels above after that. 龙里 003 七(二) gave the county fifteen days after the
/// period's end (9月15日前 for the figures to 31 August); the towns' and the higher levels' days are
/// Shouwang's defaults. The server sets its own (`shouwang serve --report-days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub town: u32,
    pub county: u32,
    pub above: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            town: 10,
            county: 15,
            above: 20,
        }
    }
}

impl Deadlines {
    /// `town=10,county=15,above=20` (any of them; the others keep their defaults).
    pub fn parse(s: &str) -> Result<Deadlines, String> {
        let mut d = Deadlines::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("“{part}”应为 级别=天数，如 town=10"))?;
            let days: u32 = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=90).contains(n))
                .ok_or_else(|| format!("“{part}”的天数应为1到90"))?;
            match k.trim() {
                "town" => d.town = days,
                "county" => d.county = days,
                "above" => d.above = days,
                other => return Err(format!("未知级别“{other}”（可选：town, county, above）")),
            }
        }
        Ok(d)
    }

    /// The last day a unit's report of `quarter` is on time.
    pub fn due(&self, region: &RegionCode, quarter: Quarter) -> NaiveDate {
        let days = match region.level() {
            RegionLevel::Town | RegionLevel::Village => self.town,
            RegionLevel::County => self.county,
            _ => self.above,
        };
        quarter.end() + chrono::Duration::days(i64::from(days))
    }
}

code_enum! {
    /// Whether a unit reported in time (定期通报).
    pub enum Timeliness {
        OnTime = ("on_time", "按时报送"),
        Late = ("late", "逾期报送"),
        Missing = ("missing", "逾期未报"),
        Pending = ("pending", "未到报送期限"),
    }
}

/// How a unit stands against its deadline: by its first submission (a report returned and
/// submitted again keeps the first date), or, with none, by today.
pub fn timeliness(
    due: NaiveDate,
    first_submitted: Option<NaiveDate>,
    today: NaiveDate,
) -> Timeliness {
    match first_submitted {
        Some(d) if d <= due => Timeliness::OnTime,
        Some(_) => Timeliness::Late,
        None if today > due => Timeliness::Missing,
        None => Timeliness::Pending,
    }
}

/// One item of a returned report and what to correct in it: a column of the 汇总表 ("26") or a
/// unit whose row is wrong (its code). The level above returns "with comments per item".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnItem {
    /// A column number (1–32; "第26栏" is read too) or the code of a unit of the report.
    pub item: String,
    pub comment: String,
}

/// The most items one return may name, and the longest comment of one.
pub const MAX_RETURN_ITEMS: usize = 40;
pub const MAX_ITEM_COMMENT_CHARS: usize = 500;

/// What an item names, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemRef<'a> {
    Column(usize),
    Unit(&'a str),
}

impl ReturnItem {
    /// What the item names: a column of the table, or one of `units`.
    pub fn target<'a>(&'a self, units: &[&'a str]) -> Option<ItemRef<'a>> {
        let item = self.item.trim();
        let digits = item.trim_start_matches('第').trim_end_matches('栏').trim();
        if let Ok(n) = digits.parse::<usize>()
            && (1..=32).contains(&n)
            && digits.len() <= 2
        {
            return Some(ItemRef::Column(n));
        }
        units.iter().find(|u| **u == item).map(|u| ItemRef::Unit(u))
    }
}

/// Checks the items of a return against the report's units: each names a column or a unit and
/// says what to correct; blank rows (a form's unused lines) are dropped. Errors name the row
/// (`items[2].item`).
pub fn check_return_items(
    items: &[ReturnItem],
    units: &[&str],
) -> Result<Vec<ReturnItem>, crate::validation::ValidationErrors> {
    let mut e = crate::validation::ValidationErrors::default();
    let mut out = Vec::new();
    if items.len() > MAX_RETURN_ITEMS {
        e.add("items", format!("逐项意见最多{MAX_RETURN_ITEMS}条"));
        return Err(e);
    }
    for (i, it) in items.iter().enumerate() {
        let comment = crate::text::clean(&it.comment);
        if it.item.trim().is_empty() && comment.is_empty() {
            continue;
        }
        if it.target(units).is_none() {
            e.add(
                &format!("items[{i}].item"),
                "应为栏次（1至32）或本报表中的单位",
            );
        }
        if comment.is_empty() {
            e.add(&format!("items[{i}].comment"), "请写明这一项需要修改的内容");
        } else if comment.chars().count() > MAX_ITEM_COMMENT_CHARS {
            e.add(
                &format!("items[{i}].comment"),
                format!("每条意见请不超过{MAX_ITEM_COMMENT_CHARS}字"),
            );
        }
        out.push(ReturnItem {
            item: it.item.trim().to_owned(),
            comment,
        });
    }
    e.into_result(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_items_name_a_column_or_a_unit_of_the_report_and_say_what_to_correct() {
        let units = ["522730001001", "522730001002"];
        let item = |i: &str, c: &str| ReturnItem {
            item: i.into(),
            comment: c.into(),
        };
        let ok = check_return_items(
            &[
                item("26", "祖父母监护人数与花名册不符"),
                item("第17栏", "辍学人数请与教育局核对"),
                item("522730001002", "本村少报两名"),
                item("", ""),
            ],
            &units,
        )
        .unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[1].target(&units), Some(ItemRef::Column(17)));
        assert_eq!(ok[2].target(&units), Some(ItemRef::Unit("522730001002")));
        let e = check_return_items(
            &[
                item("33", "x"),
                item("522730100208", "别的镇的村"),
                item("5", ""),
            ],
            &units,
        )
        .unwrap_err();
        for f in ["items[0].item", "items[1].item", "items[2].comment"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
    }

    fn actor(role: Role, region: &str) -> Actor {
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            role,
            region: RegionCode::parse(region).unwrap(),
            agency_id: None,
        }
    }

    #[test]
    fn quarters_parse_and_end_on_their_last_day() {
        let q = Quarter::parse("2026Q4").unwrap();
        assert_eq!(q.end(), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        assert_eq!(q.to_string(), "2026Q4");
        assert_eq!(q.label(), "2026年第四季度");
        assert_eq!(
            Quarter::parse("2028q1").unwrap().end().to_string(),
            "2028-03-31"
        );
        assert_eq!(
            Quarter::parse("2026-Q2").unwrap().start().to_string(),
            "2026-04-01"
        );
        for bad in ["2026Q5", "2026", "Q4", "26Q4", "2026Q0", "x"] {
            assert_eq!(Quarter::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Quarter::of(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()).previous(),
            q
        );
    }

    #[test]
    fn a_report_is_submitted_then_approved_and_locked_or_returned_and_made_again() {
        use ReportAction as A;
        use ReportStatus as S;
        assert_eq!(transition(S::Frozen, A::Submit), Ok(S::Signing));
        assert_eq!(transition(S::Signing, A::Confirm), Ok(S::Submitted));
        assert_eq!(transition(S::Signing, A::Refresh), Ok(S::Frozen));
        assert!(transition(S::Signing, A::Approve).is_err());
        assert!(transition(S::Frozen, A::Confirm).is_err());
        assert_eq!(transition(S::Submitted, A::Approve), Ok(S::Approved));
        assert_eq!(transition(S::Submitted, A::Return), Ok(S::Returned));
        assert_eq!(transition(S::Returned, A::Refresh), Ok(S::Frozen));
        assert_eq!(transition(S::Frozen, A::Refresh), Ok(S::Frozen));
        // Locked once approved; a returned report is corrected before it goes up again.
        for a in ReportAction::ALL {
            assert!(transition(S::Approved, *a).is_err());
        }
        assert!(transition(S::Returned, A::Submit).is_err());
        assert!(transition(S::Frozen, A::Approve).is_err());
        let e = transition(S::Approved, A::Refresh).unwrap_err();
        assert_eq!(e.to_string(), "报表当前状态为“已审核通过”，不能重新生成");
    }

    #[test]
    fn reports_are_due_days_after_the_quarter_and_judged_by_their_first_submission() {
        let q = Quarter::parse("2026Q4").unwrap();
        let d = Deadlines::default();
        let town = RegionCode::parse("522730001").unwrap();
        let county = RegionCode::parse("522730").unwrap();
        let ymd = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(d.due(&town, q), ymd("2027-01-10"));
        assert_eq!(d.due(&county, q), ymd("2027-01-15"));
        let due = d.due(&town, q);
        assert_eq!(
            timeliness(due, Some(ymd("2027-01-10")), ymd("2027-02-01")),
            Timeliness::OnTime
        );
        assert_eq!(
            timeliness(due, Some(ymd("2027-01-11")), ymd("2027-02-01")),
            Timeliness::Late
        );
        assert_eq!(
            timeliness(due, None, ymd("2027-01-10")),
            Timeliness::Pending
        );
        assert_eq!(
            timeliness(due, None, ymd("2027-01-11")),
            Timeliness::Missing
        );
        assert_eq!(
            Deadlines::parse("town=7, county=12").unwrap(),
            Deadlines {
                town: 7,
                county: 12,
                above: 20
            }
        );
        assert!(Deadlines::parse("town=0").is_err());
        assert!(
            Deadlines::parse("village=3")
                .unwrap_err()
                .contains("village")
        );
        assert!(Deadlines::parse("town").is_err());
    }

    #[test]
    fn education_and_the_police_check_their_sections_of_a_towns_report() {
        let town = RegionCode::parse("522730001").unwrap();
        let county = RegionCode::parse("522730").unwrap();
        assert!(may_verify(
            &actor(Role::Education, "522730"),
            &town,
            Section::Education
        ));
        assert!(!may_verify(
            &actor(Role::Education, "522730"),
            &town,
            Section::Police
        ));
        assert!(may_verify(
            &actor(Role::Police, "522730001"),
            &town,
            Section::Police
        ));
        assert!(!may_verify(
            &actor(Role::Police, "522730100"),
            &town,
            Section::Police
        ));
        assert!(!may_verify(
            &actor(Role::Education, "522730"),
            &county,
            Section::Education
        ));
        assert!(!may_verify(
            &actor(Role::County, "522730"),
            &town,
            Section::Education
        ));
    }

    #[test]
    fn the_level_above_approves_and_the_unit_prepares() {
        let town = RegionCode::parse("522730001").unwrap();
        let county = RegionCode::parse("522730").unwrap();
        assert!(may_prepare(&actor(Role::Town, "522730001"), &town));
        assert!(!may_prepare(&actor(Role::Town, "522730100"), &town));
        assert!(may_prepare(&actor(Role::County, "522730"), &town));
        assert!(!may_prepare(&actor(Role::Village, "522730001001"), &town));
        assert!(may_approve(&actor(Role::County, "522730"), &town));
        assert!(!may_approve(&actor(Role::Town, "522730001"), &town));
        assert!(!may_approve(&actor(Role::County, "522730"), &county));
        assert!(may_approve(&actor(Role::Oversight, "5227"), &county));
        assert!(!may_approve(&actor(Role::Oversight, "522731"), &town));
        assert_eq!(reporting_level(&county), Some(RegionLevel::Town));
    }
}
