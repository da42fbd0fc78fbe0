//! The roster (花名册): filtered, searched, sorted, paged lists of children inside the user's
//! jurisdiction, and the counts for the home page.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use shouwang_domain::authz::{Actor, Scope};
use shouwang_domain::child::{GuardianshipAssessment, GuardianshipType, Schooling};
use shouwang_domain::eligibility::{AgeBand, Definition, KeyTargetFlag, age_on};
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::lifecycle::{ChildStatus, RosterStanding};
use shouwang_domain::population::{self, Population};
use shouwang_domain::region::{RegionCode, RegionLevel};

use crate::Result;
use crate::regions::code_range;
use crate::rooms::RostersRoom;
use crate::scope::{self, Bind, roster_cutoff, scoped, upper_bound};

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
    /// Only the files one import wrote (its job's id, kept in their history).
    pub import: Option<String>,
    /// The population listed (issue 27); the left-behind roster when absent. `standing` applies
    /// within it: 信息不全 is 事实无人抚养's undecided files, and "not eligible" is left-behind only
    /// (other populations have no list of non-members: a blank is "未认定", not "不属于").
    pub population: Option<Population>,
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
    /// The populations of the registry besides 农村留守儿童 the file's facts establish
    /// (labels: 困境儿童, 事实无人抚养儿童), whatever the child's age.
    pub populations: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// 困境儿童 under 16 (issue 27).
    pub in_difficulty: i64,
    /// 事实无人抚养儿童 under 16.
    pub de_facto_unsupported: i64,
    /// Files whose parents' facts leave 事实无人抚养 undecided.
    pub de_facto_incomplete: i64,
}

impl Counts {
    fn add(&mut self, other: &Counts, sign: i64) {
        for (a, b) in [
            (&mut self.on_roster, other.on_roster),
            (&mut self.not_eligible, other.not_eligible),
            (&mut self.incomplete, other.incomplete),
            (&mut self.to_complete, other.to_complete),
            (&mut self.aged_out, other.aged_out),
            (&mut self.exited, other.exited),
            (&mut self.unsupervised, other.unsupervised),
            (&mut self.dropped_out, other.dropped_out),
            (&mut self.no_hukou, other.no_hukou),
            (&mut self.poor_guardianship, other.poor_guardianship),
            (&mut self.in_difficulty, other.in_difficulty),
            (&mut self.de_facto_unsupported, other.de_facto_unsupported),
            (&mut self.de_facto_incomplete, other.de_facto_incomplete),
        ] {
            *a += sign * b;
        }
    }
}

impl RostersRoom<'_> {
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
        let population = query.population.unwrap_or(Population::LeftBehind);
        match (population, query.standing) {
            (Population::LeftBehind, StandingFilter::OnRoster) => {
                w.text(&scope::on_roster("c", "?"), cutoff)
            }
            (Population::LeftBehind, StandingFilter::NotEligible) => {
                w.text(&scope::not_eligible("c", "?"), cutoff)
            }
            (Population::LeftBehind, StandingFilter::Incomplete) => {
                w.text(&scope::incomplete("c", "?"), cutoff)
            }
            (p, StandingFilter::OnRoster) => w.text(&scope::in_population("c", p, "?"), cutoff),
            (Population::DeFactoUnsupported, StandingFilter::Incomplete) => {
                w.text(&scope::de_facto_undecided("c", "?"), cutoff)
            }
            // No list of non-members, nor of undecided 困境儿童 (the use cases refuse them).
            (_, StandingFilter::NotEligible | StandingFilter::Incomplete) => return Ok(empty),
            (p, StandingFilter::AgedOut) => {
                w.text(&scope::aged_out("c", "?"), cutoff);
                if p != Population::LeftBehind {
                    w.raw(&scope::population_mask("c", p));
                }
            }
            (p, StandingFilter::Exited) => {
                w.raw("c.status = 'exited'");
                if p != Population::LeftBehind {
                    w.raw(&scope::population_mask("c", p));
                }
            }
            (p, StandingFilter::All) => {
                if p != Population::LeftBehind {
                    w.raw(&scope::population_mask("c", p));
                }
            }
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
        if let Some(import) = &query.import {
            w.text(
                "c.id IN (SELECT h.child_id FROM child_history h WHERE h.import_id = ?)",
                import.clone(),
            );
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
            Sort::Name => "c.name, c.village_code, c.id",
            Sort::BirthDate => "c.birth_date, c.name, c.id",
        };
        // A county or more: a page in name or birth-date order walks that index and tests the
        // area on it (`+`: not an index bound), instead of sorting every file of the area; and
        // a list filtered by standing alone takes its total from the kept counts.
        let wide = match actor.scope() {
            Scope::Region { code } => {
                let area = query
                    .region
                    .clone()
                    .filter(|r| code.contains(r))
                    .unwrap_or(code);
                (area.level() <= RegionLevel::County).then_some(area)
            }
            _ => None,
        };
        // A name typed in: the name index finds it, however wide the area (the area is tested on
        // the index, not walked).
        let by_name = query.q.as_deref().is_some_and(|q| {
            !q.trim().is_empty() && !q.trim().chars().all(|c| c.is_ascii_alphanumeric())
        });
        if wide.is_some() && (query.sort != Sort::Village || by_name) {
            w.sql = w
                .sql
                .replace("c.village_code >=", "+c.village_code >=")
                .replace("c.village_code <=", "+c.village_code <=");
            if query.sort == Sort::Name {
                // Text has no unary plus on PostgreSQL; "|| ''" hides the column the same way.
                w.sql = w
                    .sql
                    .replace("c.birth_date >", "(c.birth_date || '') >")
                    .replace("c.birth_date <=", "(c.birth_date || '') <=");
            }
        }
        let only_standing = query.q.as_deref().is_none_or(|q| q.trim().is_empty())
            && query.guardianship_type.is_none()
            && query.assessment.is_none()
            && !query.to_complete
            && query.import.is_none()
            && query.schooling.is_none()
            && query.flag.is_none()
            && query.age_band.is_none();
        // A county or more listing a standing (of the roster, or a population's members) takes
        // its total from the kept counts (0047 keeps the populations' mask in them).
        let kept_total = match &wide {
            Some(area) if only_standing && query.standing != StandingFilter::All => {
                let c = self.counts_kept(area, on).await?;
                match (population, query.standing) {
                    (Population::LeftBehind, s) => Some(match s {
                        StandingFilter::OnRoster => c.on_roster,
                        StandingFilter::NotEligible => c.not_eligible,
                        StandingFilter::Incomplete => c.incomplete,
                        StandingFilter::AgedOut => c.aged_out,
                        StandingFilter::Exited | StandingFilter::All => c.exited,
                    }),
                    (Population::InDifficulty, StandingFilter::OnRoster) => Some(c.in_difficulty),
                    (Population::DeFactoUnsupported, StandingFilter::OnRoster) => {
                        Some(c.de_facto_unsupported)
                    }
                    (Population::DeFactoUnsupported, StandingFilter::Incomplete) => {
                        Some(c.de_facto_incomplete)
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        let total: i64 = match kept_total {
            Some(t) => t,
            None => {
                let count_sql = format!("SELECT COUNT(*) AS n FROM children c{join}{}", w.sql);
                w.bind(sqlx::query(&count_sql))
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("n")?
            }
        };
        // The page's ids from the index alone, then those rows: a page never reads every file
        // that matches (a deferred join).
        let list_sql = format!(
            "SELECT c.id, c.name, c.sex, c.birth_date, c.village_code, c.id_masked, c.status, c.qualifies, \
             c.guardianship_type, c.schooling, c.flags, c.incomplete, c.populations FROM children c WHERE c.id IN \
             (SELECT c.id FROM children c{join}{} ORDER BY {order} LIMIT {per_page} OFFSET {}) ORDER BY {order}",
            w.sql,
            u64::from(page - 1) * u64::from(per_page)
        );
        let rows = w.bind(sqlx::query(&list_sql)).fetch_all(&self.pool).await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            let birth_date = crate::decode::date(&r, "birth_date")?;
            let standing = RosterStanding::of(
                crate::decode::code(&r, "status", ChildStatus::parse)?,
                Definition::from_stored(
                    r.try_get::<i64, _>("qualifies")? == 1,
                    r.try_get::<i64, _>("incomplete")? == 2,
                ),
                birth_date,
                on,
            );
            let village: i64 = r.try_get("village_code")?;
            let gt: String = r.try_get("guardianship_type")?;
            let schooling: String = r.try_get("schooling")?;
            items.push(ChildSummary {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                sex: r.try_get("sex")?,
                age: age_on(birth_date, on),
                birth_date: birth_date.to_string(),
                village_code: format!("{village:012}"),
                id_number_masked: r.try_get("id_masked")?,
                status: standing.code().to_owned(),
                status_label: standing.label().to_owned(),
                guardianship_type: GuardianshipType::parse(&gt)
                    .map(|g| g.label().to_owned())
                    .unwrap_or(gt),
                schooling: Schooling::parse(&schooling)
                    .map(|s| s.label().to_owned())
                    .unwrap_or(schooling),
                flags: KeyTargetFlag::from_mask(r.try_get("flags")?)
                    .iter()
                    .map(|f| f.label().to_owned())
                    .collect(),
                populations: population::members_of_mask(r.try_get("populations")?)
                    .iter()
                    .map(|p| p.label().to_owned())
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

    /// Headline counts of a jurisdiction for the home page. A county or an area above it is read
    /// from the counts the triggers keep (`roster_cube`, a few hundred rows) — corrected for the
    /// active files of children already 16, read from their own index — and a town, a village or
    /// an agency is counted over the roster's covering index.
    pub async fn counts(&self, actor: &Actor) -> Result<Counts> {
        let on = self.today();
        if let Scope::Region { code } = actor.scope()
            && code.level() <= RegionLevel::County
        {
            return self.counts_kept(&code, on).await;
        }
        self.counts_counted(actor).await
    }

    /// [`Store::counts`] counted over the rows, whatever the actor's level (what the kept counts
    /// are checked against).
    pub async fn counts_counted(&self, actor: &Actor) -> Result<Counts> {
        let on = self.today();
        let Some((w, join)) = scoped(actor, None) else {
            return Ok(Counts::default());
        };
        let p = format!("${}", w.binds.len() + 1);
        let sql = format!(
            "SELECT {} FROM children c{join}{}",
            counts_select(&p, "1"),
            w.sql
        );
        let r = w
            .bind(sqlx::query(&sql))
            .bind(roster_cutoff(on))
            .fetch_one(&self.pool)
            .await?;
        counts_row(&r)
    }

    async fn counts_kept(&self, region: &RegionCode, on: NaiveDate) -> Result<Counts> {
        // The kept counts know no age: read them as if every child were young (a birth date no
        // cutoff excludes), then move the active files of children already 16 — counted there
        // as young — to where their age puts them.
        const YOUNG: &str = "'9999-12-31' AS birth_date";
        let cube = format!(
            "SELECT {} FROM (SELECT status, qualifies, incomplete, guardianship_type, flags, populations, n, {YOUNG} \
             FROM roster_cube WHERE region = $1) c",
            counts_select("$2", "c.n")
        );
        let cutoff = roster_cutoff(on);
        let kept = counts_row(
            &sqlx::query(&cube)
                .bind(region.as_str())
                .bind(&cutoff)
                .fetch_one(&self.pool)
                .await?,
        )?;
        let (lo, hi) = code_range(region);
        // The aged files of the area's province from their partial index (migration 0038: the
        // province, then the birth date), the area tested on its rows ("+village_code": not a
        // bound that would pick the roster's index and walk the area). Each counts once as it is
        // and once less as the young file the kept counts took it for.
        let sql = format!(
            "WITH aged AS MATERIALIZED (SELECT status, qualifies, incomplete, guardianship_type, \
             flags, populations, birth_date FROM children WHERE status = 'active' AND archived_at IS NULL \
             AND (village_code / {PROVINCE}) = $5 AND birth_date <= $1 \
             AND +village_code >= $2 AND +village_code <= $3) \
             SELECT {} FROM (SELECT status, qualifies, incomplete, guardianship_type, flags, \
             populations, birth_date, 1 AS w FROM aged UNION ALL SELECT status, qualifies, \
             incomplete, guardianship_type, flags, populations, {YOUNG}, -1 AS w FROM aged) c",
            counts_select("$4", "c.w"),
            PROVINCE = scope::PROVINCE,
        );
        let c = counts_row(
            &sqlx::query(&sql)
                .bind(&cutoff)
                .bind(lo)
                .bind(hi)
                .bind(&cutoff)
                .bind(lo / scope::PROVINCE)
                .fetch_one(&self.pool)
                .await?,
        )?;
        let mut out = kept;
        out.add(&c, 1);
        Ok(out)
    }
}

/// The home page's counts as one SELECT list over `c` (children, or rows standing for `weight`
/// children each), `p` the placeholder of [`roster_cutoff`].
fn counts_select(p: &str, weight: &str) -> String {
    let (c1, c2, c3) = (
        KeyTargetFlag::Unsupervised.bit(),
        KeyTargetFlag::DroppedOut.bit(),
        KeyTargetFlag::NoHukou.bit(),
    );
    let live = scope::on_roster("c", p);
    let (not_eligible, aged_out) = (scope::not_eligible("c", p), scope::aged_out("c", p));
    let incomplete = scope::incomplete("c", p);
    let to_complete = scope::to_complete("c");
    let poor = scope::assessed("c", GuardianshipAssessment::Poor);
    [
        ("on_roster", live.clone()),
        ("not_eligible", not_eligible),
        ("aged_out", aged_out),
        ("exited", "c.status = 'exited'".to_owned()),
        ("unsupervised", format!("{live} AND (c.flags & {c1}) <> 0")),
        ("dropped_out", format!("{live} AND (c.flags & {c2}) <> 0")),
        ("no_hukou", format!("{live} AND (c.flags & {c3}) <> 0")),
        ("poor_guardianship", format!("{live} AND {poor}")),
        ("incomplete", incomplete),
        ("to_complete", format!("{live} AND {to_complete}")),
        (
            "in_difficulty",
            scope::in_population("c", Population::InDifficulty, p),
        ),
        (
            "de_facto_unsupported",
            scope::in_population("c", Population::DeFactoUnsupported, p),
        ),
        ("de_facto_incomplete", scope::de_facto_undecided("c", p)),
    ]
    .iter()
    // SUM is BIGINT on PostgreSQL and INTEGER on SQLite; CAST keeps both i64.
    .map(|(name, cond)| {
        format!(
            "CAST(COALESCE(SUM(CASE WHEN {cond} THEN {weight} ELSE 0 END), 0) AS BIGINT) AS {name}"
        )
    })
    .collect::<Vec<_>>()
    .join(", ")
}

fn counts_row(r: &sqlx::any::AnyRow) -> Result<Counts> {
    let get = |name: &str| -> Result<i64> { Ok(r.try_get::<i64, _>(name)?) };
    Ok(Counts {
        on_roster: get("on_roster")?,
        not_eligible: get("not_eligible")?,
        aged_out: get("aged_out")?,
        exited: get("exited")?,
        unsupervised: get("unsupervised")?,
        dropped_out: get("dropped_out")?,
        no_hukou: get("no_hukou")?,
        poor_guardianship: get("poor_guardianship")?,
        incomplete: get("incomplete")?,
        to_complete: get("to_complete")?,
        in_difficulty: get("in_difficulty")?,
        de_facto_unsupported: get("de_facto_unsupported")?,
        de_facto_incomplete: get("de_facto_incomplete")?,
    })
}
