//! 保护个案's storage: cases, the mandatory reports that open them, their timelines, the police
//! inboxes and the escalation of unreceived reports. SQL only: who may see and do what is
//! `shouwang_app::protection`, the rules `shouwang_domain::protection`.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use shouwang_domain::protection::{
    Assessment, CaseStatus, HelpKind, ReferralStatus, RiskLevel, Severity, Situation,
};
use shouwang_domain::region::{RegionCode, RegionLevel};

use crate::tx::Tx;
use crate::{By, Result, Store, StoreError};

/// What a report says that is not counted: sealed as one value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReportBody {
    pub description: String,
    pub place: Option<String>,
    /// The reporter: name, unit and phone (kept confidential).
    pub reporter_name: String,
    pub reporter_unit: String,
    pub reporter_phone: Option<String>,
    /// The child as the reporter knew them (a child not on the registry).
    pub child_name: Option<String>,
    pub child_sex: Option<String>,
    pub child_birth: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: String,
    pub child_id: Option<String>,
    pub town: RegionCode,
    pub village: RegionCode,
    pub status: CaseStatus,
    pub situations: Vec<Situation>,
    pub severity: Severity,
    pub opened_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub close_requested_by: Option<String>,
    pub version: i64,
    /// The latest assessment's risk level.
    pub risk: Option<RiskLevel>,
}

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub id: String,
    pub case_id: String,
    pub reporter_user_id: String,
    pub reporter_role: String,
    pub receiving_org: RegionCode,
    pub town: RegionCode,
    pub village: RegionCode,
    /// `unreceived` or `received`.
    pub status: String,
    pub filed_at: String,
    pub discovered_at: String,
    pub received_at: Option<String>,
    pub received_by: Option<String>,
    pub escalated_at: Option<String>,
    pub accepted_at: Option<String>,
    pub feedback_at: Option<String>,
    pub body: ReportBody,
}

/// One entry of a case's timeline.
#[derive(Debug, Clone)]
pub struct CaseEvent {
    pub at: String,
    pub user_id: Option<String>,
    pub username: String,
    pub role: String,
    pub kind: String,
    pub code: Option<String>,
    pub outcome: Option<String>,
    pub note: Option<String>,
}

/// Which reports a list shows (the use case builds it from the actor).
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Reports whose police org lies inside this region.
    pub receiving_within: Option<RegionCode>,
    /// Reports about a child inside this region.
    pub area_within: Option<RegionCode>,
    /// Reports this user filed.
    pub reporter: Option<String>,
    /// `unreceived`, `received`, or all.
    pub status: Option<String>,
    /// Only cases on which one of these intervention measures was recorded (the cases sent to a
    /// court or a procuratorate).
    pub with_measures: Option<Vec<shouwang_domain::protection::Measure>>,
    /// Filed at or after / before these instants (RFC 3339).
    pub filed_from: Option<String>,
    pub filed_before: Option<String>,
    pub limit: i64,
    /// Also reports on children whose files were archived (counted in figures; never listed).
    pub with_archived: bool,
}

const BODY_AAD: &str = "protection_reports.body";
const DETAIL_AAD: &str = "case_events.detail";

const CASE_COLUMNS: &str = "c.id, c.child_id, c.town_code, c.village_code, c.status, c.situations, c.severity, \
     c.opened_at, c.updated_at, c.closed_at, c.close_requested_by, c.version, c.risk_level";
const REPORT_COLUMNS: &str = "r.id, r.case_id, r.reporter_user_id, r.reporter_role, r.receiving_org, r.town_code, \
     r.village_code, r.status, r.filed_at, r.discovered_at, r.received_at, r.received_by, r.escalated_at, \
     r.accepted_at, r.feedback_at, r.body";

fn region(s: &str) -> Result<RegionCode> {
    RegionCode::parse(s).map_err(|e| StoreError::Config(e.to_string()))
}

fn case_of(r: &sqlx::any::AnyRow, at: usize) -> Result<CaseRow> {
    let status: String = r.try_get(at + 4)?;
    let situations: String = r.try_get(at + 5)?;
    let severity: String = r.try_get(at + 6)?;
    Ok(CaseRow {
        id: r.try_get(at)?,
        child_id: r.try_get(at + 1)?,
        town: region(&r.try_get::<String, _>(at + 2)?)?,
        village: region(&r.try_get::<String, _>(at + 3)?)?,
        status: CaseStatus::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("case status {status}")))?,
        situations: situations.split(',').filter_map(Situation::parse).collect(),
        severity: Severity::parse(&severity).unwrap_or(Severity::Serious),
        opened_at: r.try_get(at + 7)?,
        updated_at: r.try_get(at + 8)?,
        closed_at: r.try_get(at + 9)?,
        close_requested_by: r.try_get(at + 10)?,
        version: r.try_get(at + 11)?,
        risk: r
            .try_get::<Option<String>, _>(at + 12)?
            .as_deref()
            .and_then(RiskLevel::parse),
    })
}

impl Store {
    fn report_of(&self, r: &sqlx::any::AnyRow, at: usize) -> Result<ReportRow> {
        let sealed: String = r.try_get(at + 15)?;
        let id: String = r.try_get(at)?;
        let body: ReportBody = serde_json::from_str(&self.cipher.open_str(BODY_AAD, &id, &sealed)?)
            .map_err(|e| StoreError::Config(format!("report body: {e}")))?;
        Ok(ReportRow {
            id: r.try_get(at)?,
            case_id: r.try_get(at + 1)?,
            reporter_user_id: r.try_get(at + 2)?,
            reporter_role: r.try_get(at + 3)?,
            receiving_org: region(&r.try_get::<String, _>(at + 4)?)?,
            town: region(&r.try_get::<String, _>(at + 5)?)?,
            village: region(&r.try_get::<String, _>(at + 6)?)?,
            status: r.try_get(at + 7)?,
            filed_at: r.try_get(at + 8)?,
            discovered_at: r.try_get(at + 9)?,
            received_at: r.try_get(at + 10)?,
            received_by: r.try_get(at + 11)?,
            escalated_at: r.try_get(at + 12)?,
            accepted_at: r.try_get(at + 13)?,
            feedback_at: r.try_get(at + 14)?,
            body,
        })
    }

    /// The police org a report about a child of `town` goes to: the town, when a police user
    /// sits at it (the station responsible for the town), else the town's county.
    pub async fn police_org_for(&self, town: &RegionCode) -> Result<RegionCode> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE role = 'police' AND region_code = $1 AND active = 1",
        )
        .bind(town.as_str())
        .fetch_one(&self.pool)
        .await?;
        if n > 0 {
            return Ok(town.clone());
        }
        town.at_level(RegionLevel::County)
            .ok_or_else(|| StoreError::Config(format!("{town} has no county")))
    }

    /// A case and the report that opened it.
    pub async fn case_with_report(&self, case_id: &str) -> Result<Option<(CaseRow, ReportRow)>> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS}, {REPORT_COLUMNS} FROM protection_cases c \
             JOIN protection_reports r ON r.case_id = c.id WHERE c.id = $1 AND {}",
            crate::scope::live_child("c.child_id")
        ))
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((case_of(&r, 0)?, self.report_of(&r, 13)?)))
            .transpose()
    }

    /// A report and its case.
    pub async fn report_with_case(&self, report_id: &str) -> Result<Option<(CaseRow, ReportRow)>> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS}, {REPORT_COLUMNS} FROM protection_reports r \
             JOIN protection_cases c ON c.id = r.case_id WHERE r.id = $1 AND {}",
            crate::scope::live_child("c.child_id")
        ))
        .bind(report_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((case_of(&r, 0)?, self.report_of(&r, 13)?)))
            .transpose()
    }

    /// Reports with their cases, newest first.
    pub async fn reports(&self, f: &ReportFilter) -> Result<Vec<(CaseRow, ReportRow)>> {
        let mut sql = format!(
            "SELECT {CASE_COLUMNS}, {REPORT_COLUMNS} FROM protection_reports r \
             JOIN protection_cases c ON c.id = r.case_id WHERE 1=1"
        );
        let mut binds: Vec<String> = Vec::new();
        if !f.with_archived {
            sql.push_str(" AND ");
            sql.push_str(&crate::scope::live_child("c.child_id"));
        }
        // Region codes are text here: the codes inside one are a prefix range.
        fn within(column: &str, code: &RegionCode, binds: &mut Vec<String>) -> String {
            binds.push(code.as_str().to_owned());
            binds.push(format!("{code}:"));
            format!(
                " AND {column} >= ${} AND {column} < ${}",
                binds.len() - 1,
                binds.len()
            )
        }
        if let Some(r) = &f.receiving_within {
            sql.push_str(&within("r.receiving_org", r, &mut binds));
        }
        if let Some(r) = &f.area_within {
            sql.push_str(&within("r.village_code", r, &mut binds));
        }
        if let Some(u) = &f.reporter {
            binds.push(u.clone());
            sql.push_str(&format!(" AND r.reporter_user_id = ${}", binds.len()));
        }
        if let Some(s) = &f.status {
            binds.push(s.clone());
            sql.push_str(&format!(" AND r.status = ${}", binds.len()));
        }
        if let Some(measures) = &f.with_measures {
            let mut marks = Vec::new();
            for m in measures {
                binds.push(m.code().to_owned());
                marks.push(format!("${}", binds.len()));
            }
            if marks.is_empty() {
                sql.push_str(" AND 1 = 0");
            } else {
                sql.push_str(&format!(
                    " AND r.case_id IN (SELECT case_id FROM case_interventions WHERE measure IN ({}))",
                    marks.join(", ")
                ));
            }
        }
        if let Some(t) = &f.filed_from {
            binds.push(t.clone());
            sql.push_str(&format!(" AND r.filed_at >= ${}", binds.len()));
        }
        if let Some(t) = &f.filed_before {
            binds.push(t.clone());
            sql.push_str(&format!(" AND r.filed_at < ${}", binds.len()));
        }
        sql.push_str(&format!(
            " ORDER BY r.filed_at DESC, r.id LIMIT {}",
            f.limit.clamp(1, 100_000)
        ));
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((case_of(r, 0)?, self.report_of(r, 13)?)))
            .collect()
    }

    /// Whether any report filed at or before `filed_by` is still unreceived and not sent up (a read
    /// that spares every inbox read the write lock when there is nothing to escalate).
    pub async fn unreceived_due(&self, filed_by: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM protection_reports \
             WHERE status = 'unreceived' AND escalated_at IS NULL AND filed_at <= $1 LIMIT 1) due",
        )
        .bind(filed_by)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// A case's timeline, oldest first.
    pub async fn case_events(&self, case_id: &str) -> Result<Vec<CaseEvent>> {
        let rows = sqlx::query(
            "SELECT at, user_id, username, role, kind, code, outcome, detail, id FROM case_events \
             WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let sealed: String = r.try_get(7)?;
                let note =
                    self.cipher
                        .open_str(DETAIL_AAD, &r.try_get::<String, _>(8)?, &sealed)?;
                Ok(CaseEvent {
                    at: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    username: r.try_get(2)?,
                    role: r.try_get(3)?,
                    kind: r.try_get(4)?,
                    code: r.try_get(5)?,
                    outcome: r.try_get(6)?,
                    note: Some(note).filter(|n| !n.is_empty()),
                })
            })
            .collect()
    }
}

/// A child whose file records a situation that must be reported and for whom no report was filed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unreported {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    /// When it was recorded: the file's last change (the situation was recorded then or before),
    /// or the visit that found it.
    pub recorded_at: String,
    /// `file` (单独居住 or 无人监护 in the file) or `visit` (a visit found a reportable situation).
    pub source: String,
}

/// A visit that found a situation to report, with the child's latest case (if any).
#[derive(Debug, Clone)]
pub struct ReportableVisit {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    pub visited_on: chrono::NaiveDate,
    pub recorded_at: String,
    pub last_case_opened: Option<String>,
    /// The file itself is on [`Store::unreported`]'s list (单独居住 or 无人监护, no case ever).
    pub in_file_list: bool,
}

/// 单独居住 | 无人监护 as flag bits, written as a number in the partial index of migrations 0024
/// and 0037, which the query must repeat to be served by it.
const UNREPORTED_BITS: i64 = 3;

impl Store {
    /// Children of the actor's area on the roster whose file says 单独居住 or 无人监护 — a situation
    /// the seeds require reporting at once (景洪 000 三(二)3) — and for whom no mandatory report was
    /// ever filed (未成年人保护法 Art. 117: failure to report is visible to the town and oversight).
    pub async fn unreported(
        &self,
        actor: &shouwang_domain::authz::Actor,
        region: Option<&RegionCode>,
        limit: i64,
    ) -> Result<Vec<Unreported>> {
        let Some((w, join)) = crate::scope::scoped(actor, region) else {
            return Ok(vec![]);
        };
        let bits = UNREPORTED_BITS;
        let sql = format!(
            "SELECT c.id, c.name, c.village_code, c.updated_at FROM children c{join}{} \
             AND c.status = 'active' AND (c.flags & {bits}) <> 0 AND c.reported = 0 \
             ORDER BY c.updated_at, c.id LIMIT {}",
            w.sql,
            limit.clamp(1, 1000)
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let village: i64 = r.try_get(2)?;
                Ok(Unreported {
                    child_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    village_code: format!("{village:012}"),
                    recorded_at: r.try_get(3)?,
                    source: "file".into(),
                })
            })
            .collect()
    }

    /// How many children [`Store::unreported`] lists for the actor (without its limit): for a
    /// county or an area above it read from the counts the triggers keep (`roster_cube`, migration
    /// 0037), for a town, a village or an agency counted on the list's own partial index.
    pub async fn unreported_count(
        &self,
        actor: &shouwang_domain::authz::Actor,
        region: Option<&RegionCode>,
    ) -> Result<i64> {
        let bits = UNREPORTED_BITS;
        if let shouwang_domain::authz::Scope::Region { code: mine } = actor.scope() {
            let code = match region {
                None => mine,
                Some(r) if mine.contains(r) => r.clone(),
                Some(r) if r.contains(&mine) => mine,
                Some(_) => return Ok(0),
            };
            if code.level() > RegionLevel::County {
                return self.unreported_counted(actor, Some(&code)).await;
            }
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM roster_cube WHERE region = $1 \
                 AND status = 'active' AND reported = 0 AND (flags & {bits}) <> 0"
            );
            return Ok(sqlx::query_scalar(&sql)
                .bind(code.as_str())
                .fetch_one(&self.pool)
                .await?);
        }
        self.unreported_counted(actor, region).await
    }

    async fn unreported_counted(
        &self,
        actor: &shouwang_domain::authz::Actor,
        region: Option<&RegionCode>,
    ) -> Result<i64> {
        let bits = UNREPORTED_BITS;
        let Some((w, join)) = crate::scope::scoped(actor, region) else {
            return Ok(0);
        };
        let sql = format!(
            "SELECT COUNT(*) FROM children c{join}{} \
             AND c.status = 'active' AND (c.flags & {bits}) <> 0 AND c.reported = 0",
            w.sql
        );
        let row = w.bind(sqlx::query(&sql)).fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    /// Visits of the actor's area that found a situation to report (the latest per child), with
    /// the child's latest case: whether it was reported is the domain's rule
    /// (`protection::reported_since`).
    pub async fn reportable_visits(
        &self,
        actor: &shouwang_domain::authz::Actor,
        region: Option<&RegionCode>,
        limit: i64,
    ) -> Result<Vec<ReportableVisit>> {
        let Some((w, join)) = crate::scope::scoped(actor, region) else {
            return Ok(vec![]);
        };
        // From the few reportable visits (their partial index, migration 0024) to the files, not
        // from every file of the area to its visits: SQLite takes a CROSS JOIN's order as written.
        let bits = UNREPORTED_BITS;
        let sql = format!(
            "SELECT c.id, c.name, c.village_code, MAX(v.visited_on), MAX(v.at), \
             (SELECT MAX(pc.opened_at) FROM protection_cases pc WHERE pc.child_id = c.id), \
             CASE WHEN (c.flags & {bits}) <> 0 AND c.reported = 0 THEN 1 ELSE 0 END \
             FROM visits v CROSS JOIN children c{join}{} \
             AND c.id = v.child_id AND c.status = 'active' AND v.reportable = 1 \
             GROUP BY c.id, c.name, c.village_code, c.flags, c.reported ORDER BY MAX(v.at) DESC LIMIT {}",
            w.sql,
            limit.clamp(1, 1000)
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let village: i64 = r.try_get(2)?;
                let on: String = r.try_get(3)?;
                Ok(ReportableVisit {
                    child_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    village_code: format!("{village:012}"),
                    visited_on: on
                        .parse()
                        .map_err(|_| StoreError::Config(format!("visit date {on}")))?,
                    recorded_at: r.try_get(4)?,
                    last_case_opened: r.try_get(5)?,
                    in_file_list: r.try_get::<i64, _>(6)? == 1,
                })
            })
            .collect()
    }
}

/// What a new case and its report are, for [`Tx::insert_case`].
pub struct NewCase<'a> {
    pub child_id: Option<&'a str>,
    pub town: &'a RegionCode,
    pub village: &'a RegionCode,
    pub situations: &'a [Situation],
    pub severity: Severity,
    pub reporter_user_id: &'a str,
    pub reporter_role: &'a str,
    pub receiving_org: &'a RegionCode,
    pub discovered_at: &'a str,
    pub body: &'a ReportBody,
}

impl Tx {
    /// A new case and the report that opens it: (case id, report id).
    pub async fn insert_case(&mut self, new: &NewCase<'_>) -> Result<(String, String)> {
        let (case_id, report_id) = (crate::new_id(), crate::new_id());
        let now = self.now().to_owned();
        let codes: Vec<&str> = new.situations.iter().map(|s| s.code()).collect();
        sqlx::query(
            "INSERT INTO protection_cases (id, child_id, town_code, village_code, status, situations, severity, opened_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, 'reported', $5, $6, $7, $7, 1)",
        )
        .bind(&case_id)
        .bind(new.child_id)
        .bind(new.town.as_str())
        .bind(new.village.as_str())
        .bind(codes.join(","))
        .bind(new.severity.code())
        .bind(&now)
        .execute(self.conn())
        .await?;
        let body = serde_json::to_string(new.body).expect("serialisable");
        let sealed = self.store.cipher.seal_str(BODY_AAD, &report_id, &body);
        sqlx::query(
            "INSERT INTO protection_reports (id, case_id, reporter_user_id, reporter_role, receiving_org, town_code, village_code, status, filed_at, discovered_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'unreceived', $8, $9, $10)",
        )
        .bind(&report_id)
        .bind(&case_id)
        .bind(new.reporter_user_id)
        .bind(new.reporter_role)
        .bind(new.receiving_org.as_str())
        .bind(new.town.as_str())
        .bind(new.village.as_str())
        .bind(&now)
        .bind(new.discovered_at)
        .bind(sealed)
        .execute(self.conn())
        .await?;
        Ok((case_id, report_id))
    }

    /// Adds an entry to a case's timeline (the note sealed).
    /// Links a case opened on a child not yet registered to the file registered for the child.
    /// False when the case already names a child.
    pub async fn link_case_child(&mut self, case_id: &str, child_id: &str) -> Result<bool> {
        let now = self.now().to_owned();
        let done = sqlx::query(
            "UPDATE protection_cases SET child_id = $1, updated_at = $2, version = version + 1 \
             WHERE id = $3 AND child_id IS NULL",
        )
        .bind(child_id)
        .bind(now)
        .bind(case_id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn add_case_event(
        &mut self,
        case_id: &str,
        by: &By<'_>,
        kind: &str,
        code: Option<&str>,
        outcome: Option<&str>,
        note: &str,
    ) -> Result<()> {
        let now = self.now().to_owned();
        let id = crate::new_id();
        let sealed = self.store.cipher.seal_str(DETAIL_AAD, &id, note);
        sqlx::query(
            "INSERT INTO case_events (id, case_id, at, user_id, username, role, kind, code, outcome, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(case_id)
        .bind(now)
        .bind(by.user_id)
        .bind(by.username)
        .bind(by.role)
        .bind(kind)
        .bind(code)
        .bind(outcome)
        .bind(sealed)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Moves a case to `status` if it is still at `version`; false if someone moved it meanwhile.
    pub async fn set_case_status(
        &mut self,
        case_id: &str,
        version: i64,
        status: CaseStatus,
        close_requested_by: Option<&str>,
    ) -> Result<bool> {
        let now = self.now().to_owned();
        let closed_at = (status == CaseStatus::Closed).then(|| now.clone());
        let done = sqlx::query(
            "UPDATE protection_cases SET status = $1, updated_at = $2, closed_at = $3, close_requested_by = $4, version = version + 1 \
             WHERE id = $5 AND version = $6",
        )
        .bind(status.code())
        .bind(&now)
        .bind(closed_at)
        .bind(close_requested_by)
        .bind(case_id)
        .bind(version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that the police received a report; false if it was received already.
    pub async fn receive_report(&mut self, report_id: &str, by_user: &str) -> Result<bool> {
        let now = self.now().to_owned();
        let done = sqlx::query(
            "UPDATE protection_reports SET status = 'received', received_at = $1, received_by = $2 \
             WHERE id = $3 AND status = 'unreceived'",
        )
        .bind(&now)
        .bind(by_user)
        .bind(report_id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Notes the first 受案/立案 or the first feedback to the reporter on a report.
    pub async fn mark_report(&mut self, report_id: &str, feedback: bool) -> Result<()> {
        let now = self.now().to_owned();
        let sql = if feedback {
            "UPDATE protection_reports SET feedback_at = COALESCE(feedback_at, $1) WHERE id = $2"
        } else {
            "UPDATE protection_reports SET accepted_at = COALESCE(accepted_at, $1) WHERE id = $2"
        };
        sqlx::query(sql)
            .bind(now)
            .bind(report_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Sends up to the county every report still unreceived that was filed at or before `filed_by`
    /// (and not sent up already): (report id, case id, the county it went to).
    pub async fn escalate_unreceived(
        &mut self,
        filed_by: &str,
    ) -> Result<Vec<(String, String, RegionCode)>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, case_id, town_code FROM protection_reports \
             WHERE status = 'unreceived' AND escalated_at IS NULL AND filed_at <= $1 ORDER BY filed_at LIMIT 1000",
        )
        .bind(filed_by)
        .fetch_all(self.conn())
        .await?;
        let now = self.now().to_owned();
        let mut out = Vec::with_capacity(rows.len());
        for (id, case_id, town) in rows {
            let county = region(&town)?
                .at_level(RegionLevel::County)
                .ok_or_else(|| StoreError::Config(format!("{town} has no county")))?;
            sqlx::query(
                "UPDATE protection_reports SET escalated_at = $1, receiving_org = $2 WHERE id = $3",
            )
            .bind(&now)
            .bind(county.as_str())
            .bind(&id)
            .execute(self.conn())
            .await?;
            out.push((id, case_id, county));
        }
        Ok(out)
    }
}

const ATTACHMENT_AAD: &str = "case_attachments.data";
const ATTACHMENT_NAME_AAD: &str = "case_attachments.name";

/// Evidence on a case, as listed (its bytes are fetched one at a time).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: String,
    pub at: String,
    pub username: String,
    #[serde(skip)]
    pub user_id: String,
    /// image/jpeg, image/png, image/webp or application/pdf
    pub kind: String,
    pub size: i64,
    pub name: String,
}

impl Store {
    /// A case's evidence, oldest first.
    pub async fn attachments(&self, case_id: &str) -> Result<Vec<Attachment>> {
        let rows = sqlx::query(
            "SELECT id, at, user_id, username, kind, size, name FROM case_attachments WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                Ok(Attachment {
                    name: self.cipher.open_str(
                        ATTACHMENT_NAME_AAD,
                        &id,
                        &r.try_get::<String, _>(6)?,
                    )?,
                    id,
                    at: r.try_get(1)?,
                    user_id: r.try_get(2)?,
                    username: r.try_get(3)?,
                    kind: r.try_get(4)?,
                    size: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// One attachment of a case with its bytes.
    pub async fn attachment(
        &self,
        case_id: &str,
        id: &str,
    ) -> Result<Option<(Attachment, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT id, at, user_id, username, kind, size, name, data FROM case_attachments WHERE case_id = $1 AND id = $2",
        )
        .bind(case_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let data = self
            .cipher
            .open(ATTACHMENT_AAD, id, &r.try_get::<String, _>(7)?)?;
        Ok(Some((
            Attachment {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                user_id: r.try_get(2)?,
                username: r.try_get(3)?,
                kind: r.try_get(4)?,
                size: r.try_get(5)?,
                name: self
                    .cipher
                    .open_str(ATTACHMENT_NAME_AAD, id, &r.try_get::<String, _>(6)?)?,
            },
            data,
        )))
    }
}

impl Tx {
    /// Stores a piece of evidence, sealed; refused past `max` on the case (counted inside the
    /// transaction, so parallel uploads cannot pass it).
    pub async fn add_attachment(
        &mut self,
        case_id: &str,
        by: &By<'_>,
        kind: &str,
        name: &str,
        data: &[u8],
        max: i64,
    ) -> Result<Option<String>> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_attachments WHERE case_id = $1")
            .bind(case_id)
            .fetch_one(self.conn())
            .await?;
        if n >= max {
            return Ok(None);
        }
        let id = crate::new_id();
        let now = self.now().to_owned();
        let (sealed_name, sealed) = (
            self.store.cipher.seal_str(ATTACHMENT_NAME_AAD, &id, name),
            self.store.cipher.seal(ATTACHMENT_AAD, &id, data),
        );
        sqlx::query(
            "INSERT INTO case_attachments (id, case_id, at, user_id, username, kind, size, name, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(case_id)
        .bind(now)
        .bind(by.user_id.unwrap_or_default())
        .bind(by.username)
        .bind(kind)
        .bind(data.len() as i64)
        .bind(sealed_name)
        .bind(sealed)
        .execute(self.conn())
        .await?;
        Ok(Some(id))
    }
}

const ASSESSMENT_AAD: &str = "case_assessments.body";

/// An assessment as recorded.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedAssessment {
    pub at: String,
    pub username: String,
    pub assessment: Assessment,
}

impl Store {
    /// A case's assessments, newest first.
    pub async fn assessments(&self, case_id: &str) -> Result<Vec<RecordedAssessment>> {
        let rows = sqlx::query(
            "SELECT at, username, body, id FROM case_assessments WHERE case_id = $1 ORDER BY at DESC, id DESC",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let body = self.cipher.open_str(
                    ASSESSMENT_AAD,
                    &r.try_get::<String, _>(3)?,
                    &r.try_get::<String, _>(2)?,
                )?;
                Ok(RecordedAssessment {
                    at: r.try_get(0)?,
                    username: r.try_get(1)?,
                    assessment: serde_json::from_str(&body)
                        .map_err(|e| StoreError::Config(format!("assessment: {e}")))?,
                })
            })
            .collect()
    }
}

impl Tx {
    /// Records an assessment and sets the case's risk level from it.
    pub async fn add_assessment(
        &mut self,
        case_id: &str,
        by: &By<'_>,
        a: &Assessment,
    ) -> Result<()> {
        let now = self.now().to_owned();
        let body = serde_json::to_string(a).expect("serialisable");
        let id = crate::new_id();
        let sealed = self.store.cipher.seal_str(ASSESSMENT_AAD, &id, &body);
        sqlx::query(
            "INSERT INTO case_assessments (id, case_id, at, user_id, username, risk, body) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(case_id)
        .bind(&now)
        .bind(by.user_id.unwrap_or_default())
        .bind(by.username)
        .bind(a.risk.code())
        .bind(sealed)
        .execute(self.conn())
        .await?;
        sqlx::query("UPDATE protection_cases SET risk_level = $1, updated_at = $2 WHERE id = $3")
            .bind(a.risk.code())
            .bind(&now)
            .bind(case_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

const REFERRAL_NOTE_AAD: &str = "case_referrals.note";
const REFERRAL_LOG_AAD: &str = "case_referrals.log";

/// One entry a provider recorded on a referral.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralEntry {
    pub at: String,
    pub username: String,
    /// accepted, declined, delivered, completed
    pub kind: String,
    pub note: String,
}

/// A referral to a provider.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referral {
    pub id: String,
    pub case_id: String,
    pub kind: HelpKind,
    pub agency_id: String,
    pub agency_name: String,
    pub status: ReferralStatus,
    pub referred_at: String,
    pub answered_at: Option<String>,
    pub delivered_at: Option<String>,
    /// What the town asks for.
    pub note: String,
    pub log: Vec<ReferralEntry>,
    pub version: i64,
}

const REFERRAL_COLUMNS: &str = "f.id, f.case_id, f.kind, f.agency_id, a.name, f.status, f.referred_at, \
     f.answered_at, f.delivered_at, f.note, f.log, f.version";

impl Store {
    fn referral_of(&self, r: &sqlx::any::AnyRow) -> Result<Referral> {
        let kind: String = r.try_get(2)?;
        let status: String = r.try_get(5)?;
        let id: String = r.try_get(0)?;
        let log = self
            .cipher
            .open_str(REFERRAL_LOG_AAD, &id, &r.try_get::<String, _>(10)?)?;
        Ok(Referral {
            id: r.try_get(0)?,
            case_id: r.try_get(1)?,
            kind: HelpKind::parse(&kind)
                .ok_or_else(|| StoreError::Config(format!("help kind {kind}")))?,
            agency_id: r.try_get(3)?,
            agency_name: r.try_get(4)?,
            status: ReferralStatus::parse(&status)
                .ok_or_else(|| StoreError::Config(format!("referral status {status}")))?,
            referred_at: r.try_get(6)?,
            answered_at: r.try_get(7)?,
            delivered_at: r.try_get(8)?,
            note: self
                .cipher
                .open_str(REFERRAL_NOTE_AAD, &id, &r.try_get::<String, _>(9)?)?,
            log: serde_json::from_str(&log)
                .map_err(|e| StoreError::Config(format!("referral log: {e}")))?,
            version: r.try_get(11)?,
        })
    }

    /// A case's referrals, oldest first.
    pub async fn referrals_of_case(&self, case_id: &str) -> Result<Vec<Referral>> {
        let rows = sqlx::query(&format!(
            "SELECT {REFERRAL_COLUMNS} FROM case_referrals f JOIN agencies a ON a.id = f.agency_id \
             WHERE f.case_id = $1 ORDER BY f.referred_at, f.id"
        ))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.referral_of(r)).collect()
    }

    /// An agency's referrals, newest first.
    pub async fn referrals_of_agency(&self, agency_id: &str) -> Result<Vec<Referral>> {
        let rows = sqlx::query(&format!(
            "SELECT {REFERRAL_COLUMNS} FROM case_referrals f JOIN agencies a ON a.id = f.agency_id \
             WHERE f.agency_id = $1 ORDER BY f.referred_at DESC, f.id LIMIT 500"
        ))
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.referral_of(r)).collect()
    }

    pub async fn referral(&self, id: &str) -> Result<Option<Referral>> {
        let row = sqlx::query(&format!(
            "SELECT {REFERRAL_COLUMNS} FROM case_referrals f JOIN agencies a ON a.id = f.agency_id WHERE f.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.referral_of(&r)).transpose()
    }
}

impl Tx {
    pub async fn insert_referral(
        &mut self,
        case_id: &str,
        kind: HelpKind,
        agency_id: &str,
        by: &str,
        note: &str,
    ) -> Result<String> {
        let id = crate::new_id();
        let now = self.now().to_owned();
        let (note, log) = (
            self.store.cipher.seal_str(REFERRAL_NOTE_AAD, &id, note),
            self.store.cipher.seal_str(REFERRAL_LOG_AAD, &id, "[]"),
        );
        sqlx::query(
            "INSERT INTO case_referrals (id, case_id, kind, agency_id, status, referred_at, referred_by, note, log, version) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, 1)",
        )
        .bind(&id)
        .bind(case_id)
        .bind(kind.code())
        .bind(agency_id)
        .bind(now)
        .bind(by)
        .bind(note)
        .bind(log)
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    /// Moves a referral to `status` with a new log, if it is still at `version`.
    pub async fn update_referral(
        &mut self,
        r: &Referral,
        status: ReferralStatus,
        log: &[ReferralEntry],
    ) -> Result<bool> {
        let now = self.now().to_owned();
        let answered = match (r.answered_at.as_ref(), status) {
            (None, ReferralStatus::Accepted | ReferralStatus::Declined) => Some(now.clone()),
            (a, _) => a.cloned(),
        };
        let delivered = (status == ReferralStatus::Delivered).then(|| now.clone());
        let sealed = self.store.cipher.seal_str(
            REFERRAL_LOG_AAD,
            &r.id,
            &serde_json::to_string(log).expect("serialisable"),
        );
        let done = sqlx::query(
            "UPDATE case_referrals SET status = $1, answered_at = $2, delivered_at = COALESCE($3, delivered_at), log = $4, version = version + 1 \
             WHERE id = $5 AND version = $6",
        )
        .bind(status.code())
        .bind(answered)
        .bind(delivered)
        .bind(sealed)
        .bind(&r.id)
        .bind(r.version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

const PLACEMENT_AAD: &str = "case_placements.body";

/// A temporary guardianship on a case.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlacementView {
    pub id: String,
    pub username: String,
    #[serde(flatten)]
    pub record: shouwang_domain::protection::PlacementRecord,
    #[serde(skip)]
    pub version: i64,
}

impl Store {
    pub async fn placements(&self, case_id: &str) -> Result<Vec<PlacementView>> {
        let rows = sqlx::query(
            "SELECT id, username, body, version FROM case_placements WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let body = self.cipher.open_str(
                    PLACEMENT_AAD,
                    &r.try_get::<String, _>(0)?,
                    &r.try_get::<String, _>(2)?,
                )?;
                Ok(PlacementView {
                    id: r.try_get(0)?,
                    username: r.try_get(1)?,
                    record: serde_json::from_str(&body)
                        .map_err(|e| StoreError::Config(format!("placement: {e}")))?,
                    version: r.try_get(3)?,
                })
            })
            .collect()
    }
}

impl Tx {
    pub async fn add_placement(
        &mut self,
        case_id: &str,
        by: &By<'_>,
        record: &shouwang_domain::protection::PlacementRecord,
    ) -> Result<String> {
        let id = crate::new_id();
        let now = self.now().to_owned();
        let sealed = self.store.cipher.seal_str(
            PLACEMENT_AAD,
            &id,
            &serde_json::to_string(record).expect("serialisable"),
        );
        sqlx::query(
            "INSERT INTO case_placements (id, case_id, at, username, open, body, version) VALUES ($1, $2, $3, $4, 1, $5, 1)",
        )
        .bind(&id)
        .bind(case_id)
        .bind(now)
        .bind(by.username)
        .bind(sealed)
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    /// Ends a placement if it is still open at `version`.
    pub async fn end_placement(
        &mut self,
        p: &PlacementView,
        record: &shouwang_domain::protection::PlacementRecord,
    ) -> Result<bool> {
        let sealed = self.store.cipher.seal_str(
            PLACEMENT_AAD,
            &p.id,
            &serde_json::to_string(record).expect("serialisable"),
        );
        let done = sqlx::query(
            "UPDATE case_placements SET open = 0, body = $1, version = version + 1 WHERE id = $2 AND version = $3 AND open = 1",
        )
        .bind(sealed)
        .bind(&p.id)
        .bind(p.version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// What the figures of a period count beside the reports themselves.
#[derive(Debug, Clone, Default)]
pub struct CaseActivity {
    /// Per case: the first response step or police record.
    pub first_action: std::collections::HashMap<String, String>,
    /// Placements started, by case.
    pub placements: std::collections::HashMap<String, i64>,
    /// Referrals by status code.
    pub referrals: std::collections::HashMap<String, i64>,
}

impl Store {
    /// The activity on the cases of reports filed in `region` between the instants.
    pub async fn case_activity(
        &self,
        region: &RegionCode,
        from: &str,
        before: &str,
    ) -> Result<CaseActivity> {
        let (lo, hi) = (region.as_str().to_owned(), format!("{region}:"));
        let within = "SELECT case_id FROM protection_reports WHERE village_code >= $1 AND village_code < $2 \
             AND filed_at >= $3 AND filed_at < $4";
        let mut out = CaseActivity::default();
        let rows: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT case_id, MIN(at) FROM case_events WHERE kind IN ('step', 'police_record') \
             AND case_id IN ({within}) GROUP BY case_id"
        ))
        .bind(&lo)
        .bind(&hi)
        .bind(from)
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        out.first_action = rows.into_iter().collect();
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT case_id, COUNT(*) FROM case_placements WHERE case_id IN ({within}) GROUP BY case_id"
        ))
        .bind(&lo)
        .bind(&hi)
        .bind(from)
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        out.placements = rows.into_iter().collect();
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT status, COUNT(*) FROM case_referrals WHERE case_id IN ({within}) GROUP BY status"
        ))
        .bind(&lo)
        .bind(&hi)
        .bind(from)
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        out.referrals = rows.into_iter().collect();
        Ok(out)
    }
}

const INTERVENTION_AAD: &str = "case_interventions.body";

/// What a step of an intervention says beside its codes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InterventionDetail {
    pub note: String,
    /// For a revocation's application: the ground (民法典 Art. 36) and who applied.
    pub ground: Option<shouwang_domain::protection::RevocationGround>,
    pub applicant: Option<String>,
}

/// A recorded step of a measure.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InterventionStep {
    pub at: String,
    pub username: String,
    pub measure: shouwang_domain::protection::Measure,
    pub stage: shouwang_domain::protection::Stage,
    #[serde(flatten)]
    pub detail: InterventionDetail,
}

impl Store {
    /// A case's intervention steps, oldest first.
    pub async fn interventions(&self, case_id: &str) -> Result<Vec<InterventionStep>> {
        let rows = sqlx::query(
            "SELECT at, username, measure, stage, body, id FROM case_interventions WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let measure: String = r.try_get(2)?;
                let stage: String = r.try_get(3)?;
                let body = self.cipher.open_str(
                    INTERVENTION_AAD,
                    &r.try_get::<String, _>(5)?,
                    &r.try_get::<String, _>(4)?,
                )?;
                Ok(InterventionStep {
                    at: r.try_get(0)?,
                    username: r.try_get(1)?,
                    measure: shouwang_domain::protection::Measure::parse(&measure)
                        .ok_or_else(|| StoreError::Config(format!("measure {measure}")))?,
                    stage: shouwang_domain::protection::Stage::parse(&stage)
                        .ok_or_else(|| StoreError::Config(format!("stage {stage}")))?,
                    detail: serde_json::from_str(&body)
                        .map_err(|e| StoreError::Config(format!("intervention: {e}")))?,
                })
            })
            .collect()
    }
}

impl Tx {
    /// Records a step of a measure; the stages already recorded for it, read in this transaction,
    /// are returned first for the caller's check (so two people cannot record the same step).
    pub async fn recorded_stages(
        &mut self,
        case_id: &str,
        measure: shouwang_domain::protection::Measure,
    ) -> Result<Vec<shouwang_domain::protection::Stage>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT stage FROM case_interventions WHERE case_id = $1 AND measure = $2 ORDER BY at, id",
        )
        .bind(case_id)
        .bind(measure.code())
        .fetch_all(self.conn())
        .await?;
        Ok(rows
            .iter()
            .filter_map(|s| shouwang_domain::protection::Stage::parse(s))
            .collect())
    }

    pub async fn add_intervention(
        &mut self,
        case_id: &str,
        by: &By<'_>,
        measure: shouwang_domain::protection::Measure,
        stage: shouwang_domain::protection::Stage,
        detail: &InterventionDetail,
    ) -> Result<()> {
        let now = self.now().to_owned();
        let id = crate::new_id();
        let sealed = self.store.cipher.seal_str(
            INTERVENTION_AAD,
            &id,
            &serde_json::to_string(detail).expect("serialisable"),
        );
        sqlx::query(
            "INSERT INTO case_interventions (id, case_id, at, user_id, username, measure, stage, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(case_id)
        .bind(now)
        .bind(by.user_id.unwrap_or_default())
        .bind(by.username)
        .bind(measure.code())
        .bind(stage.code())
        .bind(sealed)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod unreported_tests {
    use shouwang_domain::eligibility::KeyTargetFlag;

    #[test]
    fn the_unreported_index_holds_the_living_alone_and_unsupervised_bits() {
        assert_eq!(
            super::UNREPORTED_BITS,
            KeyTargetFlag::LivingAlone.bit() | KeyTargetFlag::Unsupervised.bit()
        );
        for sql in [
            include_str!("../migrations/0037_unreported_kept.sqlite.sql"),
            include_str!("../migrations/0037_unreported_kept.postgres.sql"),
        ] {
            assert!(sql.contains("(flags & 3) <> 0 AND reported = 0"));
        }
    }
}
