//! Cases and their reports: rows, reads, the timeline, and the writes of the case's life.

use super::*;
use shouwang_domain::ids::{CaseId, ChildId};
use shouwang_domain::protection::CaseEventKind;

use crate::decode::{at, at_opt};
use crate::rooms::{ProtectionRoom, ProtectionTxRoom};
use crate::sealed::{self, Json, Sealed, Text};
use shouwang_domain::clock::At;

/// A 强制报告's body.
pub(crate) const REPORT_BODY: Sealed<Json<ReportBody>> =
    sealed::listed("protection_reports", "body");
pub(crate) const CASE_EVENT_DETAIL: Sealed<Text> = sealed::listed("case_events", "detail");

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
    pub id: CaseId,
    pub child_id: Option<ChildId>,
    pub town: RegionCode,
    pub village: RegionCode,
    pub status: CaseStatus,
    pub situations: Vec<Situation>,
    pub severity: Severity,
    pub opened_at: At,
    pub updated_at: At,
    pub closed_at: Option<At>,
    pub close_requested_by: Option<String>,
    pub version: i64,
    /// The latest assessment's risk level.
    pub risk: Option<RiskLevel>,
}

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub id: String,
    pub case_id: CaseId,
    pub reporter_user_id: String,
    pub reporter_role: String,
    pub receiving_org: RegionCode,
    pub town: RegionCode,
    pub village: RegionCode,
    /// `unreceived` or `received`.
    pub status: String,
    pub filed_at: At,
    pub discovered_at: At,
    pub received_at: Option<At>,
    pub received_by: Option<String>,
    pub escalated_at: Option<At>,
    pub accepted_at: Option<At>,
    pub feedback_at: Option<At>,
    pub body: ReportBody,
}

/// One entry of a case's timeline.
#[derive(Debug, Clone)]
pub struct CaseEvent {
    pub at: At,
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
    /// Only cases not closed.
    pub open_only: bool,
}

/// A case's columns, named `c_…` (a case is read with its report, whose columns share names).
const CASE_COLUMNS: &str = "c.id AS c_id, c.child_id AS c_child_id, c.town_code AS c_town, \
     c.village_code AS c_village, c.status AS c_status, c.situations AS c_situations, \
     c.severity AS c_severity, c.opened_at AS c_opened_at, c.updated_at AS c_updated_at, \
     c.closed_at AS c_closed_at, c.close_requested_by AS c_close_requested_by, \
     c.version AS c_version, c.risk_level AS c_risk";
/// A report's columns, named `r_…`.
const REPORT_COLUMNS: &str = "r.id AS r_id, r.case_id AS r_case_id, \
     r.reporter_user_id AS r_reporter_user_id, r.reporter_role AS r_reporter_role, \
     r.receiving_org AS r_receiving_org, r.town_code AS r_town, r.village_code AS r_village, \
     r.status AS r_status, r.filed_at AS r_filed_at, r.discovered_at AS r_discovered_at, \
     r.received_at AS r_received_at, r.received_by AS r_received_by, \
     r.escalated_at AS r_escalated_at, r.accepted_at AS r_accepted_at, \
     r.feedback_at AS r_feedback_at, r.body AS r_body";

fn region(s: &str) -> Result<RegionCode> {
    RegionCode::parse(s).map_err(|e| StoreError::Config(e.to_string()))
}

fn case_of(r: &sqlx::any::AnyRow) -> Result<CaseRow> {
    let situations: String = r.try_get("c_situations")?;
    Ok(CaseRow {
        id: CaseId::new(r.try_get::<String, _>("c_id")?),
        child_id: r
            .try_get::<Option<String>, _>("c_child_id")?
            .map(ChildId::new),
        town: region(&r.try_get::<String, _>("c_town")?)?,
        village: region(&r.try_get::<String, _>("c_village")?)?,
        status: crate::decode::code(r, "c_status", CaseStatus::parse)?,
        situations: situations.split(',').filter_map(Situation::parse).collect(),
        severity: crate::decode::code(r, "c_severity", Severity::parse)?,
        opened_at: at(r, "c_opened_at")?,
        updated_at: at(r, "c_updated_at")?,
        closed_at: at_opt(r, "c_closed_at")?,
        close_requested_by: r.try_get("c_close_requested_by")?,
        version: r.try_get("c_version")?,
        risk: r
            .try_get::<Option<String>, _>("c_risk")?
            .as_deref()
            .and_then(RiskLevel::parse),
    })
}

impl ProtectionRoom<'_> {
    fn report_of(&self, r: &sqlx::any::AnyRow) -> Result<ReportRow> {
        let id: String = r.try_get("r_id")?;
        let body = REPORT_BODY.open(&self.cipher, &id, &r.try_get::<String, _>("r_body")?)?;
        Ok(ReportRow {
            id,
            case_id: CaseId::new(r.try_get::<String, _>("r_case_id")?),
            reporter_user_id: r.try_get("r_reporter_user_id")?,
            reporter_role: r.try_get("r_reporter_role")?,
            receiving_org: region(&r.try_get::<String, _>("r_receiving_org")?)?,
            town: region(&r.try_get::<String, _>("r_town")?)?,
            village: region(&r.try_get::<String, _>("r_village")?)?,
            status: r.try_get("r_status")?,
            filed_at: at(r, "r_filed_at")?,
            discovered_at: at(r, "r_discovered_at")?,
            received_at: at_opt(r, "r_received_at")?,
            received_by: r.try_get("r_received_by")?,
            escalated_at: at_opt(r, "r_escalated_at")?,
            accepted_at: at_opt(r, "r_accepted_at")?,
            feedback_at: at_opt(r, "r_feedback_at")?,
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
    pub async fn case_with_report(&self, case_id: &CaseId) -> Result<Option<(CaseRow, ReportRow)>> {
        let case_id = case_id.as_str();
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS}, {REPORT_COLUMNS} FROM protection_cases c \
             JOIN protection_reports r ON r.case_id = c.id WHERE c.id = $1 AND {}",
            crate::scope::live_child("c.child_id")
        ))
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((case_of(&r)?, self.report_of(&r)?)))
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
        row.map(|r| Ok((case_of(&r)?, self.report_of(&r)?)))
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
        if f.open_only {
            sql.push_str(" AND c.status <> 'closed'");
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
            .map(|r| Ok((case_of(r)?, self.report_of(r)?)))
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
    pub async fn case_events(&self, case_id: &CaseId) -> Result<Vec<CaseEvent>> {
        let case_id = case_id.as_str();
        let rows = sqlx::query(
            "SELECT at, user_id, username, role, kind, code, outcome, detail, id FROM case_events \
             WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let note = CASE_EVENT_DETAIL.open(
                    &self.cipher,
                    &r.try_get::<String, _>("id")?,
                    &r.try_get::<String, _>("detail")?,
                )?;
                Ok(CaseEvent {
                    at: at(r, "at")?,
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    role: r.try_get("role")?,
                    kind: r.try_get("kind")?,
                    code: r.try_get("code")?,
                    outcome: r.try_get("outcome")?,
                    note: Some(note).filter(|n| !n.is_empty()),
                })
            })
            .collect()
    }
}

/// What a new case and its report are, for [`Tx::insert_case`].
pub struct NewCase<'a> {
    pub child_id: Option<&'a ChildId>,
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

impl ProtectionTxRoom<'_> {
    /// A new case and the report that opens it: (case id, report id).
    pub async fn insert_case(&mut self, new: &NewCase<'_>) -> Result<(CaseId, String)> {
        let (case_id, report_id) = (crate::new_id(), crate::new_id());
        let now = self.now().to_owned();
        let codes: Vec<&str> = new.situations.iter().map(|s| s.code()).collect();
        sqlx::query(
            "INSERT INTO protection_cases (id, child_id, town_code, village_code, status, situations, severity, opened_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, 'reported', $5, $6, $7, $7, 1)",
        )
        .bind(&case_id)
        .bind(new.child_id.map(ChildId::as_str))
        .bind(new.town.as_str())
        .bind(new.village.as_str())
        .bind(codes.join(","))
        .bind(new.severity.code())
        .bind(&now)
        .execute(self.conn())
        .await?;
        let sealed = REPORT_BODY.seal(&self.store.cipher, &report_id, new.body);
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
        Ok((CaseId::new(case_id), report_id))
    }

    /// Adds an entry to a case's timeline (the note sealed).
    /// Links a case opened on a child not yet registered to the file registered for the child.
    /// False when the case already names a child.
    pub async fn link_case_child(&mut self, case_id: &CaseId, child_id: &ChildId) -> Result<bool> {
        let child_id = child_id.as_str();
        let case_id = case_id.as_str();
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
        case_id: &CaseId,
        by: &By<'_>,
        kind: CaseEventKind,
        code: Option<&str>,
        outcome: Option<&str>,
        note: &str,
    ) -> Result<()> {
        let case_id = case_id.as_str();
        let now = self.now().to_owned();
        let id = crate::new_id();
        let sealed = CASE_EVENT_DETAIL.seal(&self.store.cipher, &id, note);
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
        .bind(kind.code())
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
        case_id: &CaseId,
        version: i64,
        status: CaseStatus,
        close_requested_by: Option<&str>,
    ) -> Result<bool> {
        let case_id = case_id.as_str();
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

    /// Holds a case for the rest of the transaction if it is still in one of `statuses` (a write
    /// that changes nothing but takes the row's lock): what was checked before the transaction
    /// is true under the lock, so two requests at once (a double click, a retried call) act one
    /// after the other, the second seeing what the first wrote. False when the case has moved on.
    pub async fn hold_case(&mut self, case_id: &CaseId, statuses: &[CaseStatus]) -> Result<bool> {
        let list = statuses
            .iter()
            .map(|s| format!("'{}'", s.code()))
            .collect::<Vec<_>>()
            .join(", ");
        let done = sqlx::query(&format!(
            "UPDATE protection_cases SET version = version WHERE id = $1 AND status IN ({list})"
        ))
        .bind(case_id.as_str())
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
    ) -> Result<Vec<(String, CaseId, RegionCode)>> {
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
            // Checked again by the write: a report received, or sent up by another pass, since
            // the read above is left as it is (and not told about twice).
            let done = sqlx::query(
                "UPDATE protection_reports SET escalated_at = $1, receiving_org = $2 \
                 WHERE id = $3 AND status = 'unreceived' AND escalated_at IS NULL",
            )
            .bind(&now)
            .bind(county.as_str())
            .bind(&id)
            .execute(self.conn())
            .await?;
            if done.rows_affected() == 1 {
                out.push((id, CaseId::new(case_id), county));
            }
        }
        Ok(out)
    }
}
