//! The roster (花名册): filtered, searched, sorted, paged lists of children inside the user's
//! jurisdiction, and the counts for the home page.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use shouwang_domain::authz::Actor;
use shouwang_domain::child::{GuardianshipAssessment, GuardianshipType, Schooling};
use shouwang_domain::eligibility::{AgeBand, Definition, KeyTargetFlag, age_on};
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::lifecycle::{ChildStatus, RosterStanding};
use shouwang_domain::region::RegionCode;

use crate::scope::{self, Bind, roster_cutoff, scoped, upper_bound};
use crate::{Result, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StandingFilter {
    #[default]
    OnRoster,
    NotEligible,
    /// 信息不全: the file does not say enough to decide.
    Incomplete,
    AgedOut,
    Exited,
    All,
}

impl StandingFilter {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "on_roster" => Self::OnRoster,
            "not_eligible" => Self::NotEligible,
            "incomplete" => Self::Incomplete,
            "aged_out" => Self::AgedOut,
            "exited" => Self::Exited,
            "all" => Self::All,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// By village, then name: the printed roster's order.
    #[default]
    Village,
    Name,
    BirthDate,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "village" => Self::Village,
            "name" => Self::Name,
            "birth_date" => Self::BirthDate,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct RosterQuery {
    pub region: Option<RegionCode>,
    pub q: Option<String>,
    pub guardianship_type: Option<GuardianshipType>,
    /// 监护情况评估 (较好/一般/差): the guardianship types of that level.
    pub assessment: Option<GuardianshipAssessment>,
    /// Only files with a field of the form left blank (待补充).
    pub to_complete: bool,
    pub flag: Option<KeyTargetFlag>,
    pub age_band: Option<AgeBand>,
    pub schooling: Option<Schooling>,
    pub standing: StandingFilter,
    pub sort: Sort,
    pub page: u32,
    pub per_page: u32,
    /// Reference date; today when absent.
    pub on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildSummary {
    pub id: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub age: i32,
    pub village_code: String,
    pub id_number_masked: Option<String>,
    pub status: String,
    pub status_label: String,
    pub guardianship_type: String,
    pub schooling: String,
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub on_roster: i64,
    pub not_eligible: i64,
    /// 信息不全: active files of children under 16 that do not say enough to decide.
    pub incomplete: i64,
    /// On the roster with a field of the form left blank (待补充).
    pub to_complete: i64,
    pub aged_out: i64,
    pub exited: i64,
    pub unsupervised: i64,
    pub dropped_out: i64,
    pub no_hukou: i64,
    pub poor_guardianship: i64,
}

impl Store {
    pub async fn roster(&self, actor: &Actor, query: &RosterQuery) -> Result<Page<ChildSummary>> {
        let per_page = query.per_page.clamp(1, 200);
        let page = query.page.max(1);
        let empty = Page {
            items: vec![],
            total: 0,
            page,
            per_page,
        };
        let on = query.on.unwrap_or_else(|| self.today());
        let Some((mut w, join)) = scoped(actor, query.region.as_ref()) else {
            return Ok(empty);
        };
        let cutoff = roster_cutoff(on);
        match query.standing {
            StandingFilter::OnRoster => w.text(&scope::on_roster("c", "?"), cutoff),
            StandingFilter::NotEligible => w.text(&scope::not_eligible("c", "?"), cutoff),
            StandingFilter::Incomplete => w.text(&scope::incomplete("c", "?"), cutoff),
            StandingFilter::AgedOut => {
                w.text(&scope::aged_out("c", "?"), cutoff);
            }
            StandingFilter::Exited => w.raw("c.status = 'exited'"),
            StandingFilter::All => {}
        }
        if let Some(t) = query.guardianship_type {
            w.text("c.guardianship_type = ?", t.code().to_owned());
        }
        if let Some(a) = query.assessment {
            w.raw(&scope::assessed("c", a));
        }
        if query.to_complete {
            w.raw(&scope::to_complete("c"));
        }
        if let Some(s) = query.schooling {
            w.text("c.schooling = ?", s.code().to_owned());
        }
        if let Some(f) = query.flag {
            w.int("(c.flags & ?) <> 0", f.bit());
        }
        if let Some(band) = query.age_band {
            let (after, upto) = band.birth_range(on);
            w.text("c.birth_date > ?", after.to_string());
            w.text("c.birth_date <= ?", upto.to_string());
        }
        if let Some(q) = query
            .q
            .as_deref()
            .map(shouwang_domain::text::clean)
            .filter(|q| !q.is_empty())
        {
            let looks_like_id = q.len() >= 15
                && q.chars()
                    .all(|c| c.is_ascii_digit() || c == 'x' || c == 'X');
            if looks_like_id {
                match IdNumber::parse(&q) {
                    Ok(id) => w.text("c.id_hash = ?", self.cipher.blind_index(id.as_str())),
                    Err(_) => return Ok(empty),
                }
            } else if q.chars().all(|c| c.is_ascii_alphabetic()) {
                let q = q.to_ascii_lowercase();
                let hi = upper_bound(&q);
                w.binds.push(Bind::T(q.clone()));
                let a = w.binds.len();
                w.binds.push(Bind::T(hi));
                let b = w.binds.len();
                w.raw(&format!(
                    "((c.name_pinyin >= ${a} AND c.name_pinyin < ${b}) OR (c.name_initials >= ${a} AND c.name_initials < ${b}))"
                ));
            } else {
                w.text_range("c.name", &q);
            }
        }
        let order = match query.sort {
            Sort::Village => "c.village_code, c.name, c.id",
            Sort::Name => "c.name, c.id",
            Sort::BirthDate => "c.birth_date, c.name, c.id",
        };
        let count_sql = format!("SELECT COUNT(*) FROM children c{join}{}", w.sql);
        let total: i64 = w
            .bind(sqlx::query(&count_sql))
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let list_sql = format!(
            "SELECT c.id, c.name, c.sex, c.birth_date, c.village_code, c.id_masked, c.status, c.qualifies, \
             c.guardianship_type, c.schooling, c.flags, c.incomplete FROM children c{join}{} ORDER BY {order} LIMIT {per_page} OFFSET {}",
            w.sql,
            u64::from(page - 1) * u64::from(per_page)
        );
        let rows = w.bind(sqlx::query(&list_sql)).fetch_all(&self.pool).await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            let birth: String = r.try_get(3)?;
            let birth_date: NaiveDate = birth.parse().unwrap_or(on);
            let status: String = r.try_get(6)?;
            let standing = RosterStanding::of(
                ChildStatus::parse(&status).unwrap_or(ChildStatus::Active),
                Definition::from_stored(
                    r.try_get::<i64, _>(7)? == 1,
                    r.try_get::<i64, _>(11)? == 2,
                ),
                birth_date,
                on,
            );
            let village: i64 = r.try_get(4)?;
            let gt: String = r.try_get(8)?;
            let schooling: String = r.try_get(9)?;
            items.push(ChildSummary {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                sex: r.try_get(2)?,
                age: age_on(birth_date, on),
                birth_date: birth,
                village_code: format!("{village:012}"),
                id_number_masked: r.try_get(5)?,
                status: standing.code().to_owned(),
                status_label: standing.label().to_owned(),
                guardianship_type: GuardianshipType::parse(&gt)
                    .map(|g| g.label().to_owned())
                    .unwrap_or(gt),
                schooling: Schooling::parse(&schooling)
                    .map(|s| s.label().to_owned())
                    .unwrap_or(schooling),
                flags: KeyTargetFlag::from_mask(r.try_get(10)?)
                    .iter()
                    .map(|f| f.label().to_owned())
                    .collect(),
            });
        }
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    /// Headline counts of a jurisdiction for the home page.
    pub async fn counts(&self, actor: &Actor) -> Result<Counts> {
        let on = self.today();
        let Some((w, join)) = scoped(actor, None) else {
            return Ok(Counts::default());
        };
        let cutoff = roster_cutoff(on);
        let n = w.binds.len();
        let (c1, c2, c3) = (
            KeyTargetFlag::Unsupervised.bit(),
            KeyTargetFlag::DroppedOut.bit(),
            KeyTargetFlag::NoHukou.bit(),
        );
        let p = format!("${}", n + 1);
        let live = scope::on_roster("c", &p);
        let (not_eligible, aged_out) = (scope::not_eligible("c", &p), scope::aged_out("c", &p));
        let incomplete = scope::incomplete("c", &p);
        let to_complete = scope::to_complete("c");
        let poor = scope::assessed("c", GuardianshipAssessment::Poor);
        let sql = format!(
            "SELECT \
             COALESCE(SUM(CASE WHEN {live} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN {not_eligible} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN {aged_out} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN c.status = 'exited' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN {live} AND (c.flags & {c1}) <> 0 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN {live} AND (c.flags & {c2}) <> 0 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN {live} AND (c.flags & {c3}) <> 0 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN {live} AND {poor} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN {incomplete} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN {live} AND {to_complete} THEN 1 ELSE 0 END), 0) \
             FROM children c{join}{}",
            w.sql,
        );
        let mut q = w.bind(sqlx::query(&sql));
        q = q.bind(cutoff);
        let r = q.fetch_one(&self.pool).await?;
        // SUM over integer CASE values is BIGINT on PostgreSQL and INTEGER on SQLite.
        let get = |i: usize| -> Result<i64> { Ok(r.try_get::<i64, _>(i)?) };
        Ok(Counts {
            on_roster: get(0)?,
            not_eligible: get(1)?,
            aged_out: get(2)?,
            exited: get(3)?,
            unsupervised: get(4)?,
            dropped_out: get(5)?,
            no_hukou: get(6)?,
            poor_guardianship: get(7)?,
            incomplete: get(8)?,
            to_complete: get(9)?,
        })
    }
}
