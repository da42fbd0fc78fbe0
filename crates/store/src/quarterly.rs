//! The 汇总表 counted in the database, and the quarterly reports: SQL only. The caller
//! (`app::quarterly`) checks who may see and act on a unit.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shouwang_domain::ids::ChildId;
use sqlx::Row;

use shouwang_domain::eligibility::AgeBand;
use shouwang_domain::person::Sex;
use shouwang_domain::quarterly::{Quarter, ReportStatus};
use shouwang_domain::region::{RegionCode, RegionLevel};

use crate::regions::code_range;
use crate::rooms::{QuarterlyRoom, QuarterlyTxRoom};
use crate::scope::{on_roster, roster_cutoff};
use crate::sealed::{self, Journal, Sealed};
use crate::{Result, StoreError};
use shouwang_domain::elder::ElderFile;

pub(crate) const QUARTERLY_ROSTER: Sealed<Journal<RosterLine>> =
    sealed::listed("quarterly_reports", "roster");
/// The 留守老人花名册 a town report froze (names, ID numbers, health); none for a unit above.
const QUARTERLY_ELDERS: Sealed<Journal<ElderFile>> = sealed::listed("quarterly_reports", "elders");
fn seal_elders(cipher: &crate::IdCipher, id: &str, elders: &[ElderFile]) -> Option<String> {
    (!elders.is_empty()).then(|| QUARTERLY_ELDERS.seal(cipher, id, elders))
}

mod rollup;
mod signing;

pub use signing::{Confirmation, Signatures, SignedScan};

/// Children of one age band and sex who count in the same cells of the 汇总表.
#[derive(Debug, Clone)]
pub struct SummaryGroup {
    /// The unit of the level asked for (a town's villages…), when grouped by unit.
    pub unit: Option<String>,
    pub sex: Sex,
    pub band: AgeBand,
    /// `summary_table::cells_code`; empty for a child the table cannot place.
    pub cells: String,
    pub count: u64,
}

/// One child as a frozen town report counted it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterLine {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    pub sex: String,
    pub birth_date: String,
    pub schooling: String,
    pub guardianship_type: String,
    pub flags: i64,
}

/// A quarterly report as stored.
#[derive(Debug, Clone)]
pub struct StoredReport {
    pub id: String,
    pub region: RegionCode,
    pub quarter: Quarter,
    pub status: ReportStatus,
    pub as_of: NaiveDate,
    pub figures: Vec<u64>,
    /// The sections checked by the education bureau and the police.
    pub education_check: Option<SectionCheck>,
    pub police_check: Option<SectionCheck>,
    /// The figures of each unit below (a town's villages, a county's towns), by code.
    pub units: std::collections::BTreeMap<String, Vec<u64>>,
    pub unplaced: i64,
    pub frozen_at: String,
    pub frozen_by: String,
    pub submitted_at: Option<String>,
    pub filler: Option<String>,
    pub reviewer: Option<String>,
    pub head: Option<String>,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    /// The level above's comments per item when it returned the report.
    pub return_items: Vec<shouwang_domain::quarterly::ReturnItem>,
    pub version: i64,
    /// Who submitted it (the 填表人's account), and the 复核人's and 单位负责人's confirmations.
    pub filer_user_id: Option<String>,
    pub signatures: Signatures,
    /// The signed and stamped page, when it was uploaded instead.
    pub signed_scan: Option<SignedScan>,
}

/// The registry's activity over a period.
#[derive(Debug, Clone, Default)]
pub struct RegistryPeriod {
    pub registered: i64,
    /// (exit reason code, files).
    pub exits: Vec<(String, i64)>,
    pub visits: i64,
    pub children_visited: i64,
}

/// A department's check of its section of a report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SectionCheck {
    pub username: String,
    pub name: String,
    pub at: String,
    pub note: String,
}

/// What happened to a report, in order.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportEvent {
    pub at: shouwang_domain::clock::At,
    pub username: String,
    /// frozen, refreshed, submitted, approved, returned
    pub kind: String,
    pub note: String,
}

const REPORT_COLUMNS: &str = "id, region_code, quarter, status, as_of, figures, unplaced, \
     frozen_at, frozen_by, submitted_at, filler, reviewer, head, decided_at, decided_by, comment, version, \
     unit_figures, education_check, police_check, return_items, filer_user_id, signatures, \
     signed_scan_kind, signed_scan_size";

fn check(json: Option<String>) -> Result<Option<SectionCheck>> {
    json.map(|j| {
        serde_json::from_str(&j)
            .map_err(|_| StoreError::Config("quarterly report: bad check".into()))
    })
    .transpose()
}

fn report_of(r: &sqlx::any::AnyRow) -> Result<StoredReport> {
    let bad = |what: &str| StoreError::Config(format!("quarterly report: bad {what}"));
    let region: String = r.try_get("region_code")?;
    let quarter: String = r.try_get("quarter")?;
    let status: String = r.try_get("status")?;
    let as_of: String = r.try_get("as_of")?;
    let figures: String = r.try_get("figures")?;
    Ok(StoredReport {
        id: r.try_get("id")?,
        region: RegionCode::parse(&region).map_err(|_| bad("region"))?,
        quarter: Quarter::parse(&quarter).ok_or_else(|| bad("quarter"))?,
        status: ReportStatus::parse(&status).ok_or_else(|| bad("status"))?,
        as_of: as_of.parse().map_err(|_| bad("date"))?,
        figures: serde_json::from_str(&figures).map_err(|_| bad("figures"))?,
        unplaced: r.try_get("unplaced")?,
        frozen_at: r.try_get("frozen_at")?,
        frozen_by: r.try_get("frozen_by")?,
        submitted_at: r.try_get("submitted_at")?,
        filler: r.try_get("filler")?,
        reviewer: r.try_get("reviewer")?,
        head: r.try_get("head")?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
        comment: r.try_get("comment")?,
        version: r.try_get("version")?,
        units: serde_json::from_str(&r.try_get::<String, _>("unit_figures")?)
            .map_err(|_| bad("units"))?,
        education_check: check(r.try_get("education_check")?)?,
        police_check: check(r.try_get("police_check")?)?,
        return_items: serde_json::from_str(&r.try_get::<String, _>("return_items")?)
            .map_err(|_| bad("return items"))?,
        filer_user_id: r.try_get("filer_user_id")?,
        signatures: serde_json::from_str(&r.try_get::<String, _>("signatures")?)
            .map_err(|_| bad("signatures"))?,
        signed_scan: match (
            r.try_get::<Option<String>, _>("signed_scan_kind")?,
            r.try_get::<Option<i64>, _>("signed_scan_size")?,
        ) {
            (Some(kind), Some(size)) => Some(SignedScan { kind, size }),
            _ => None,
        },
    })
}

impl QuarterlyRoom<'_> {
    /// The children on the roster of `region` on `on`, grouped by what the 汇总表 counts them in.
    /// With `by`, the groups are also split by the unit of that level the child lives in.
    /// A county or anything above it, by units no smaller than counties, is read from the
    /// maintained roll-up (a few hundred rows at any scale); a town, or units of towns and
    /// villages, is counted over the roster's covering index.
    pub async fn summary_groups(
        &self,
        region: &RegionCode,
        on: NaiveDate,
        by: Option<RegionLevel>,
    ) -> Result<Vec<SummaryGroup>> {
        if region.level() <= RegionLevel::County && by.is_none_or(|l| l <= RegionLevel::County) {
            self.summary_groups_rolled(region, on, by).await
        } else {
            self.summary_groups_counted(region, on, by).await
        }
    }

    /// [`Store::summary_groups`] counted over the narrow rows, no file opened (and no roll-up:
    /// what the roll-up is checked against).
    pub async fn summary_groups_counted(
        &self,
        region: &RegionCode,
        on: NaiveDate,
        by: Option<RegionLevel>,
    ) -> Result<Vec<SummaryGroup>> {
        let (lo, hi) = code_range(region);
        let infant_after = AgeBand::Infant.birth_range(on).0.to_string();
        let school_after = AgeBand::School.birth_range(on).0.to_string();
        let digits = by.map(RegionLevel::code_len).unwrap_or(12);
        // A village code is 12 digits: the unit of a level is its leading digits.
        let divisor = 10_i64.pow(12 - digits as u32);
        let sql = format!(
            "SELECT c.sex, CASE WHEN c.birth_date > $4 THEN 0 WHEN c.birth_date > $5 THEN 1 ELSE 2 END \
             AS band, c.summary_cells, COUNT(*) AS n, c.village_code / {divisor} AS unit FROM children c \
             WHERE c.village_code >= $1 AND c.village_code <= $2 AND c.archived_at IS NULL AND {} \
             AND c.birth_date <= $6 GROUP BY 1, 2, 3, 5",
            on_roster("c", "$3")
        );
        let rows = sqlx::query(&sql)
            .bind(lo)
            .bind(hi)
            .bind(roster_cutoff(on))
            .bind(infant_after)
            .bind(school_after)
            .bind(on.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let sex: String = r.try_get("sex")?;
                let band: i64 = r.try_get("band")?;
                let unit: i64 = r.try_get("unit")?;
                Ok(SummaryGroup {
                    unit: by.map(|_| format!("{unit:0digits$}")),
                    sex: Sex::parse(&sex)
                        .ok_or_else(|| StoreError::Config(format!("sex {sex}")))?,
                    band: match band {
                        0 => AgeBand::Infant,
                        1 => AgeBand::School,
                        _ => AgeBand::Teen,
                    },
                    cells: r.try_get("summary_cells")?,
                    count: u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
                })
            })
            .collect()
    }

    /// How many children were on the roster of `region` on each of `dates`, as the files say
    /// today, counted in one pass over the roster's index (a town's trend over the quarters).
    pub async fn roster_totals(
        &self,
        region: &RegionCode,
        dates: &[NaiveDate],
    ) -> Result<Vec<i64>> {
        if dates.is_empty() {
            return Ok(Vec::new());
        }
        let (lo, hi) = code_range(region);
        let sums: Vec<String> = (0..dates.len())
            .map(|i| {
                let (cutoff, on) = (3 + 2 * i, 4 + 2 * i);
                format!(
                    "CAST(COALESCE(SUM(CASE WHEN c.birth_date > ${cutoff} AND c.birth_date <= ${on} \
                     THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_{i}"
                )
            })
            .collect();
        // The standing of `on_roster` without its age, which each column tests for its date.
        let sql = format!(
            "SELECT {} FROM children c WHERE c.village_code >= $1 AND c.village_code <= $2 \
             AND c.archived_at IS NULL AND c.status = 'active' AND c.qualifies = 1",
            sums.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(lo).bind(hi);
        for on in dates {
            q = q.bind(roster_cutoff(*on)).bind(on.to_string());
        }
        let row = q.fetch_one(&self.pool).await?;
        (0..dates.len())
            .map(|i| Ok(row.try_get::<i64, _>(format!("on_{i}").as_str())?))
            .collect()
    }

    /// Per unit of `by` inside `region`: the children on the roster on `on`, and how many of them
    /// were visited (走访 or called) between `from` and `on` — the quarter's verification.
    pub async fn verification_counts(
        &self,
        region: &RegionCode,
        by: RegionLevel,
        from: NaiveDate,
        on: NaiveDate,
    ) -> Result<Vec<(String, i64, i64)>> {
        // The children on the roster per unit: the kept roll-up above a county, the roster's
        // index below.
        let mut per: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        for g in self.summary_groups(region, on, Some(by)).await? {
            per.entry(g.unit.unwrap_or_default()).or_default().0 += g.count as i64;
        }
        for (unit, v) in self.verified_in(region, by, from).await? {
            if let Some(e) = per.get_mut(&unit) {
                e.1 = v.min(e.0);
            }
        }
        Ok(per
            .into_iter()
            .filter(|(_, (n, _))| *n > 0)
            .map(|(unit, (n, v))| (unit, n, v))
            .collect())
    }

    /// Per unit of `by` inside `region`: the children verified in the quarter of `day`, as the
    /// visits' triggers keep them (0036) — children visited or called in the quarter, in the
    /// village they lived in then. The caller caps each at the unit's roster.
    pub async fn verified_in(
        &self,
        region: &RegionCode,
        by: RegionLevel,
        day: NaiveDate,
    ) -> Result<std::collections::BTreeMap<String, i64>> {
        let quarter = shouwang_domain::quarterly::Quarter::of(day).to_string();
        let digits = by.code_len() as i64;
        let rows = sqlx::query(
            "SELECT region, n FROM verification_rollup WHERE quarter = $1 AND region >= $2 \
             AND region < $3 AND length(region) = $4",
        )
        .bind(&quarter)
        .bind(region.as_str())
        .bind(format!("{region};"))
        .bind(digits)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("region")?, r.try_get("n")?)))
            .collect()
    }

    /// The provinces this database holds, as the aged files' index leads with them
    /// (`village_code / scope::PROVINCE`, migration 0038), in order.
    pub(crate) async fn province_keys(&self) -> Result<Vec<i64>> {
        let codes: Vec<i64> = sqlx::query_scalar(
            "SELECT code12 FROM regions WHERE level = 'province' ORDER BY code12",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(codes
            .into_iter()
            .map(|c| c / crate::scope::PROVINCE)
            .collect())
    }

    /// Active files of children 16 or older on `on` (a batch): (id, version, birth date, village).
    /// Read province by province on the aged files' index (migration 0038).
    pub async fn aged_out_on(
        &self,
        on: NaiveDate,
        limit: i64,
    ) -> Result<Vec<(ChildId, i64, NaiveDate, RegionCode)>> {
        let limit = limit.clamp(1, 5000);
        let provinces = self.province_keys().await?;
        let sql = format!(
            "SELECT c.id, c.version, c.birth_date, c.village_code FROM children c \
             WHERE c.archived_at IS NULL AND (c.village_code / {PROVINCE}) = $2 AND {} \
             ORDER BY c.birth_date, c.id LIMIT {limit}",
            crate::scope::aged_out("c", "$1"),
            PROVINCE = crate::scope::PROVINCE,
        );
        let mut rows = Vec::new();
        for p in provinces {
            let left = limit - rows.len() as i64;
            if left <= 0 {
                break;
            }
            rows.extend(
                sqlx::query(&sql)
                    .bind(roster_cutoff(on))
                    .bind(p)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .take(left as usize),
            );
        }
        rows.iter()
            .map(|r| {
                let birth: String = r.try_get("birth_date")?;
                let village: i64 = r.try_get("village_code")?;
                Ok((
                    ChildId::new(r.try_get::<String, _>("id")?),
                    r.try_get("version")?,
                    birth
                        .parse()
                        .map_err(|_| StoreError::Config(format!("birth date {birth}")))?,
                    RegionCode::parse(&format!("{village:012}"))
                        .map_err(|e| StoreError::Config(e.to_string()))?,
                ))
            })
            .collect()
    }

    /// The registry's activity in `region` between two instants (`start` ≤ t < `end`, stored
    /// time) and two days (`from` ≤ d ≤ `to`, China dates): files registered, exits by reason,
    /// visits and children visited.
    pub async fn registry_period(
        &self,
        region: &RegionCode,
        (start, end): (&str, &str),
        (from, to): (NaiveDate, NaiveDate),
    ) -> Result<RegistryPeriod> {
        let (lo, hi) = code_range(region);
        let registered: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM children WHERE village_code >= $1 AND village_code <= $2 \
             AND created_at >= $3 AND created_at < $4",
        )
        .bind(lo)
        .bind(hi)
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        let exits: Vec<(String, i64)> = sqlx::query_as(
            "SELECT exit_reason, COUNT(*) FROM children WHERE village_code >= $1 AND village_code <= $2 \
             AND status = 'exited' AND exit_date >= $3 AND exit_date <= $4 GROUP BY exit_reason ORDER BY exit_reason",
        )
        .bind(lo)
        .bind(hi)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.pool)
        .await?;
        let (visits, visited): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(DISTINCT v.child_id) FROM visits v JOIN children c ON c.id = v.child_id \
             WHERE c.village_code >= $1 AND c.village_code <= $2 AND v.visited_on >= $3 AND v.visited_on <= $4",
        )
        .bind(lo)
        .bind(hi)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(RegistryPeriod {
            registered,
            exits,
            visits,
            children_visited: visited,
        })
    }

    /// The roster of a town on `on`, as a frozen report keeps it.
    pub async fn roster_lines(
        &self,
        region: &RegionCode,
        on: NaiveDate,
    ) -> Result<Vec<RosterLine>> {
        let (lo, hi) = code_range(region);
        let sql = format!(
            "SELECT c.id, c.name, c.village_code, c.sex, c.birth_date, c.schooling, \
             c.guardianship_type, c.flags FROM children c \
             WHERE c.village_code >= $1 AND c.village_code <= $2 AND c.archived_at IS NULL AND {} \
             ORDER BY c.village_code, c.name, c.id",
            on_roster("c", "$3")
        );
        let rows = sqlx::query(&sql)
            .bind(lo)
            .bind(hi)
            .bind(roster_cutoff(on))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let village: i64 = r.try_get("village_code")?;
                Ok(RosterLine {
                    child_id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    village_code: format!("{village:012}"),
                    sex: r.try_get("sex")?,
                    birth_date: r.try_get("birth_date")?,
                    schooling: r.try_get("schooling")?,
                    guardianship_type: r.try_get("guardianship_type")?,
                    flags: r.try_get("flags")?,
                })
            })
            .collect()
    }

    /// Whether an active user of `role` has an area that holds `region` (the unit itself or one
    /// above it): a department that can check its section of the unit's report.
    pub async fn has_role_covering(
        &self,
        region: &RegionCode,
        role: shouwang_domain::authz::Role,
    ) -> Result<bool> {
        let mut codes = vec![region.as_str().to_owned()];
        let mut at = region.parent();
        while let Some(c) = at {
            at = c.parent();
            codes.push(c.as_str().to_owned());
        }
        let list: Vec<String> = (0..codes.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT COUNT(*) FROM users WHERE active = 1 AND role = $1 AND region_code IN ({})",
            list.join(", ")
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(role.code());
        for c in &codes {
            q = q.bind(c.as_str());
        }
        Ok(q.fetch_one(&self.pool).await? > 0)
    }

    pub async fn quarterly_report(&self, id: &str) -> Result<Option<StoredReport>> {
        let row = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM quarterly_reports WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(report_of).transpose()
    }

    pub async fn quarterly_report_of(
        &self,
        region: &RegionCode,
        quarter: Quarter,
    ) -> Result<Option<StoredReport>> {
        let row = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM quarterly_reports WHERE region_code = $1 AND quarter = $2"
        ))
        .bind(region.as_str())
        .bind(quarter.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(report_of).transpose()
    }

    /// The reports of a quarter of the units inside `within` (itself included).
    pub async fn quarterly_reports_within(
        &self,
        within: &RegionCode,
        quarter: Quarter,
    ) -> Result<Vec<StoredReport>> {
        let rows = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM quarterly_reports WHERE quarter = $1 \
             AND region_code >= $2 AND region_code < $3 ORDER BY region_code"
        ))
        .bind(quarter.to_string())
        .bind(within.as_str())
        .bind(crate::scope::upper_bound(within.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(report_of).collect()
    }

    /// The 留守老人花名册 a town report froze (empty when it had none).
    pub async fn quarterly_elders(&self, id: &str) -> Result<Vec<ElderFile>> {
        let sealed: Option<String> =
            sqlx::query_scalar("SELECT elders FROM quarterly_reports WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .flatten();
        match sealed.filter(|s| !s.is_empty()) {
            None => Ok(vec![]),
            Some(s) => QUARTERLY_ELDERS.open(&self.cipher, id, &s),
        }
    }

    /// The roster a town report froze.
    pub async fn quarterly_roster(&self, id: &str) -> Result<Vec<RosterLine>> {
        let sealed: Option<String> =
            sqlx::query_scalar("SELECT roster FROM quarterly_reports WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match sealed.filter(|s| !s.is_empty()) {
            None => Ok(vec![]),
            Some(s) => QUARTERLY_ROSTER.open(&self.cipher, id, &s),
        }
    }

    pub async fn quarterly_report_events(&self, id: &str) -> Result<Vec<ReportEvent>> {
        let rows = sqlx::query(
            "SELECT at, username, kind, note FROM quarterly_report_events WHERE report_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportEvent {
                    at: crate::decode::at(r, "at")?,
                    username: r.try_get("username")?,
                    kind: r.try_get("kind")?,
                    note: r.try_get("note")?,
                })
            })
            .collect()
    }
}

/// What a frozen report holds.
pub struct Frozen<'a> {
    pub as_of: NaiveDate,
    pub figures: &'a [u64],
    pub units: &'a std::collections::BTreeMap<String, Vec<u64>>,
    pub unplaced: i64,
    /// A town's roster (empty for a unit that sums reports).
    pub roster: &'a [RosterLine],
    /// A town's 留守老人花名册 (龙里 003 七(二), 附件6; empty for a unit that sums reports).
    pub elders: &'a [ElderFile],
}

impl QuarterlyTxRoom<'_> {
    fn seal_roster(&self, id: &str, roster: &[RosterLine]) -> String {
        if roster.is_empty() {
            return String::new();
        }
        QUARTERLY_ROSTER.seal(&self.store.cipher, id, roster)
    }

    /// Freezes a new report; a second one of the same unit and quarter is a conflict.
    pub async fn insert_quarterly_report(
        &mut self,
        region: &RegionCode,
        quarter: Quarter,
        frozen: &Frozen<'_>,
        username: &str,
    ) -> Result<String> {
        let id = crate::new_id();
        let now = self.now().to_owned();
        let roster = self.seal_roster(&id, frozen.roster);
        let elders = seal_elders(&self.store.cipher, &id, frozen.elders);
        sqlx::query(
            "INSERT INTO quarterly_reports (id, region_code, quarter, status, as_of, figures, unplaced, \
             roster, frozen_at, frozen_by, version, unit_figures, elders) \
             VALUES ($1, $2, $3, 'frozen', $4, $5, $6, $7, $8, $9, 1, $10, $11)",
        )
        .bind(&id)
        .bind(region.as_str())
        .bind(quarter.to_string())
        .bind(frozen.as_of.to_string())
        .bind(serde_json::to_string(frozen.figures).expect("numbers"))
        .bind(frozen.unplaced)
        .bind(roster)
        .bind(&now)
        .bind(username)
        .bind(serde_json::to_string(frozen.units).expect("numbers"))
        .bind(elders)
        .execute(self.conn())
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
                field: Some("quarter".into()),
                message: "该单位本季度的报表已生成".into(),
            },
            e => e.into(),
        })?;
        self.add_report_event(&id, username, "frozen", "").await?;
        Ok(id)
    }

    /// Makes a report again from the files (frozen or returned), if still at `version`.
    pub async fn refreeze_quarterly_report(
        &mut self,
        r: &StoredReport,
        frozen: &Frozen<'_>,
        username: &str,
    ) -> Result<bool> {
        let now = self.now().to_owned();
        let roster = self.seal_roster(&r.id, frozen.roster);
        let elders = seal_elders(&self.store.cipher, &r.id, frozen.elders);
        let done = sqlx::query(
            "UPDATE quarterly_reports SET status = 'frozen', as_of = $1, figures = $2, unplaced = $3, \
             roster = $4, frozen_at = $5, frozen_by = $6, unit_figures = $9, elders = $10, \
             education_check = NULL, police_check = NULL, filer_user_id = NULL, signatures = '{}', \
             signed_scan = NULL, signed_scan_kind = NULL, signed_scan_size = NULL, \
             version = version + 1 WHERE id = $7 AND version = $8",
        )
        .bind(frozen.as_of.to_string())
        .bind(serde_json::to_string(frozen.figures).expect("numbers"))
        .bind(frozen.unplaced)
        .bind(roster)
        .bind(&now)
        .bind(username)
        .bind(&r.id)
        .bind(r.version)
        .bind(serde_json::to_string(frozen.units).expect("numbers"))
        .bind(elders)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Submits a report for its signers' confirmation (status `signing`), naming the 填表人 (the
    /// submitting user), the 复核人 and the 单位负责人; earlier confirmations and scans are void.
    pub async fn submit_quarterly_report(
        &mut self,
        r: &StoredReport,
        filer_user_id: &str,
        filler: &str,
        reviewer: &str,
        head: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE quarterly_reports SET status = 'signing', submitted_at = NULL, filler = $1, \
             reviewer = $2, head = $3, filer_user_id = $4, signatures = '{}', signed_scan = NULL, \
             signed_scan_kind = NULL, signed_scan_size = NULL, version = version + 1 \
             WHERE id = $5 AND version = $6",
        )
        .bind(filler)
        .bind(reviewer)
        .bind(head)
        .bind(filer_user_id)
        .bind(&r.id)
        .bind(r.version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a department's check of its section, if the report is still at `version`.
    pub async fn check_section(
        &mut self,
        r: &StoredReport,
        section: shouwang_domain::quarterly::Section,
        check: &SectionCheck,
    ) -> Result<bool> {
        let column = match section {
            shouwang_domain::quarterly::Section::Education => "education_check",
            shouwang_domain::quarterly::Section::Police => "police_check",
        };
        let done = sqlx::query(&format!(
            "UPDATE quarterly_reports SET {column} = $1, version = version + 1 WHERE id = $2 AND version = $3"
        ))
        .bind(serde_json::to_string(check).expect("serialisable"))
        .bind(&r.id)
        .bind(r.version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Approves or returns a report, if still at `version`.
    pub async fn decide_quarterly_report(
        &mut self,
        r: &StoredReport,
        to: ReportStatus,
        username: &str,
        comment: Option<&str>,
        items: &[shouwang_domain::quarterly::ReturnItem],
    ) -> Result<bool> {
        let now = self.now().to_owned();
        let items = serde_json::to_string(items)
            .map_err(|e| StoreError::Config(format!("return items: {e}")))?;
        let done = sqlx::query(
            "UPDATE quarterly_reports SET status = $1, decided_at = $2, decided_by = $3, comment = $4, \
             return_items = $7, version = version + 1 WHERE id = $5 AND version = $6",
        )
        .bind(to.code())
        .bind(&now)
        .bind(username)
        .bind(comment)
        .bind(&r.id)
        .bind(r.version)
        .bind(items)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn add_report_event(
        &mut self,
        report_id: &str,
        username: &str,
        kind: &str,
        note: &str,
    ) -> Result<()> {
        let now = self.now().to_owned();
        sqlx::query(
            "INSERT INTO quarterly_report_events (id, report_id, at, username, kind, note) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(crate::new_id())
        .bind(report_id)
        .bind(now)
        .bind(username)
        .bind(kind)
        .bind(note)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
