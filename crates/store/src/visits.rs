//! Visits: SQL only. The caller (`app::visits`) has checked that the
//! actor may see the child; the due list applies the actor's scope itself (`scope::scoped`).

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use shouwang_domain::authz::Actor;
use shouwang_domain::ids::{CaseId, ChildId};
use shouwang_domain::population::Population;
use shouwang_domain::protection::RiskLevel;
use shouwang_domain::region::RegionCode;
use shouwang_domain::visits::VisitRecord;

use crate::By;
use crate::rooms::{VisitsRoom, VisitsTxRoom};
use crate::scope::{self, roster_cutoff, scoped};
use crate::sealed::{self, Attachment, Json, Sealed};
use crate::{Result, StoreError};

pub(crate) const VISIT_BODY: Sealed<Json<shouwang_domain::visits::VisitRecord>> =
    sealed::listed("visits", "body");
pub(crate) const VISIT_PHOTO: Sealed<Attachment> = sealed::listed("visit_photos", "data");

/// A visit's photo (without its bytes).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitPhoto {
    pub id: String,
    pub visit_id: String,
    /// image/jpeg, image/png or image/webp.
    pub kind: String,
    pub size: i64,
    pub at: String,
    pub username: String,
}

/// A recorded visit.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitView {
    pub id: String,
    pub child_id: String,
    pub case_id: Option<String>,
    /// Who recorded it (the user), and when.
    pub recorded_by: String,
    pub recorded_at: String,
    #[serde(flatten)]
    pub record: VisitRecord,
}

/// A child on the roster with what its visiting schedule needs.
#[derive(Debug, Clone)]
pub struct DueRow {
    pub child_id: String,
    pub name: String,
    pub village: RegionCode,
    pub flags: i64,
    /// When the file was registered (the schedule's start with no visit yet).
    pub since: NaiveDate,
    pub last_visit: Option<NaiveDate>,
    /// The highest risk of the child's open cases.
    pub risk: Option<RiskLevel>,
    /// The file's populations besides 农村留守儿童 (`population::mask`).
    pub populations: i64,
}

const VISIT_COLUMNS: &str = "id, child_id, case_id, username, at, body";

impl VisitsRoom<'_> {
    fn visit_of(&self, r: &sqlx::any::AnyRow) -> Result<VisitView> {
        let id: String = r.try_get("id")?;
        let record = VISIT_BODY.open(&self.cipher, &id, &r.try_get::<String, _>("body")?)?;
        Ok(VisitView {
            id,
            child_id: r.try_get("child_id")?,
            case_id: r.try_get("case_id")?,
            recorded_by: r.try_get("username")?,
            recorded_at: r.try_get("at")?,
            record,
        })
    }

    pub async fn visits_of_child(&self, child_id: &ChildId, limit: i64) -> Result<Vec<VisitView>> {
        let child_id = child_id.as_str();
        let rows = sqlx::query(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE child_id = $1 \
             ORDER BY visited_on DESC, at DESC LIMIT $2"
        ))
        .bind(child_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.visit_of(r)).collect()
    }

    /// One visit by its id.
    pub async fn visit(&self, id: &str) -> Result<Option<VisitView>> {
        let row = sqlx::query(&format!("SELECT {VISIT_COLUMNS} FROM visits WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| self.visit_of(r)).transpose()
    }

    /// The visits that follow up a case (随访), oldest first.
    pub async fn visits_of_case(&self, case_id: &CaseId) -> Result<Vec<VisitView>> {
        let case_id = case_id.as_str();
        let rows = sqlx::query(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE case_id = $1 ORDER BY visited_on, at"
        ))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.visit_of(r)).collect()
    }

    /// The visit a user already sent under this key, if any.
    pub async fn visit_by_client_key(&self, user_id: &str, key: &str) -> Result<Option<VisitView>> {
        let row = sqlx::query(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE user_id = $1 AND client_key = $2"
        ))
        .bind(user_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(|r| self.visit_of(r)).transpose()
    }

    /// The 儿童主任 of each village inside `area` — the village users, their names — who are
    /// assigned a village's visits unless someone else is named. (village code, name), the first
    /// account of a village by user name.
    pub async fn village_directors(&self, area: &RegionCode) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT region_code, display_name FROM users WHERE role = 'village' AND active = 1 \
             AND region_code >= $1 AND region_code < $2 ORDER BY region_code, username",
        )
        .bind(area.as_str())
        .bind(scope::upper_bound(area.as_str()))
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(String, String)> = Vec::with_capacity(rows.len());
        for r in rows {
            let (code, name): (String, String) =
                (r.try_get("region_code")?, r.try_get("display_name")?);
            if out.last().is_none_or(|(c, _)| *c != code) {
                out.push((code, name));
            }
        }
        Ok(out)
    }

    /// A child's visit photos, oldest first.
    pub async fn visit_photos(&self, child_id: &ChildId) -> Result<Vec<VisitPhoto>> {
        let child_id = child_id.as_str();
        let rows = sqlx::query(
            "SELECT id, visit_id, kind, size, at, username FROM visit_photos WHERE child_id = $1 ORDER BY at, id",
        )
        .bind(child_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(VisitPhoto {
                    id: r.try_get("id")?,
                    visit_id: r.try_get("visit_id")?,
                    kind: r.try_get("kind")?,
                    size: r.try_get("size")?,
                    at: r.try_get("at")?,
                    username: r.try_get("username")?,
                })
            })
            .collect()
    }

    /// A photo of one of the child's visits: (kind, bytes).
    pub async fn visit_photo(
        &self,
        child_id: &ChildId,
        id: &str,
    ) -> Result<Option<(String, Vec<u8>)>> {
        let child_id = child_id.as_str();
        let row =
            sqlx::query("SELECT kind, data FROM visit_photos WHERE child_id = $1 AND id = $2")
                .bind(child_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(r) = row else { return Ok(None) };
        let data = VISIT_PHOTO.open(&self.cipher, id, &r.try_get::<String, _>("data")?)?;
        Ok(Some((r.try_get("kind")?, data)))
    }

    /// Who a child's visits are assigned to, if anyone: (name, role).
    pub async fn visit_assignment(
        &self,
        child_id: &ChildId,
    ) -> Result<Option<(String, shouwang_domain::visits::VisitorRole)>> {
        let child_id = child_id.as_str();
        let row = sqlx::query("SELECT name, role FROM visit_assignments WHERE child_id = $1")
            .bind(child_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        let role: String = r.try_get("role")?;
        Ok(Some((
            r.try_get("name")?,
            shouwang_domain::visits::VisitorRole::parse(&role)
                .ok_or_else(|| StoreError::Config(format!("visitor role {role}")))?,
        )))
    }

    /// The children of `area` whose visits are assigned to a named person: (child, name, role).
    pub async fn visit_assignments(
        &self,
        area: &RegionCode,
    ) -> Result<Vec<(String, String, shouwang_domain::visits::VisitorRole)>> {
        let (lo, hi) = crate::regions::code_range(area);
        let rows = sqlx::query(
            "SELECT a.child_id, a.name, a.role FROM visit_assignments a JOIN children c ON c.id = a.child_id \
             WHERE c.village_code >= $1 AND c.village_code <= $2",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                Ok((
                    r.try_get("child_id")?,
                    r.try_get("name")?,
                    shouwang_domain::visits::VisitorRole::parse(&role)
                        .ok_or_else(|| StoreError::Config(format!("visitor role {role}")))?,
                ))
            })
            .collect()
    }

    /// The children on the roster inside the actor's scope (narrowed to `region`) — the
    /// left-behind roster, 困境儿童 and 事实无人抚养儿童 (issue 27: the plans visit them all) — each
    /// with its last visit and the highest risk of its open cases, in village and name order.
    pub async fn visit_schedule(
        &self,
        actor: &Actor,
        region: Option<&RegionCode>,
    ) -> Result<Vec<DueRow>> {
        let Some((mut w, join)) = scoped(actor, region) else {
            return Ok(vec![]);
        };
        let cutoff = roster_cutoff(self.today());
        w.binds.push(scope::Bind::T(cutoff));
        let p = format!("${}", w.binds.len());
        w.raw(&format!(
            "(({}) OR ({}) OR ({}))",
            scope::on_roster("c", &p),
            scope::in_population("c", Population::InDifficulty, &p),
            scope::in_population("c", Population::DeFactoUnsupported, &p)
        ));
        let sql = format!(
            "SELECT c.id, c.name, c.village_code, c.flags, c.populations, c.created_at, \
             (SELECT MAX(v.visited_on) FROM visits v WHERE v.child_id = c.id) AS last_visit, \
             (SELECT CAST(MAX(CASE p.risk_level WHEN 'critical' THEN 4 WHEN 'high' THEN 3 \
                 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END) AS BIGINT) \
              FROM protection_cases p WHERE p.child_id = c.id AND p.status <> 'closed') AS risk \
             FROM children c{join}{} ORDER BY c.village_code, c.name, c.id",
            w.sql
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let village: i64 = r.try_get("village_code")?;
                let created: String = r.try_get("created_at")?;
                let last: Option<String> = r.try_get("last_visit")?;
                let risk: Option<i64> = r.try_get("risk")?;
                Ok(DueRow {
                    child_id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    village: RegionCode::parse(&format!("{village:012}"))
                        .map_err(|e| StoreError::Config(format!("village {village}: {e}")))?,
                    flags: r.try_get("flags")?,
                    populations: r.try_get("populations")?,
                    since: created
                        .get(..10)
                        .and_then(|d| d.parse().ok())
                        .unwrap_or_else(|| self.today()),
                    last_visit: last.and_then(|d| d.parse().ok()),
                    risk: match risk {
                        Some(4) => Some(RiskLevel::Critical),
                        Some(3) => Some(RiskLevel::High),
                        Some(2) => Some(RiskLevel::Medium),
                        Some(1) => Some(RiskLevel::Low),
                        _ => None,
                    },
                })
            })
            .collect()
    }
}

impl VisitsTxRoom<'_> {
    /// Records a visit. A second record under the same user's `client_key` is refused by the
    /// unique index as a `Conflict` on `client_key` (two sends racing; the caller answers with the
    /// stored one).
    pub async fn add_visit(
        &mut self,
        child_id: &ChildId,
        case_id: Option<&str>,
        by: &By<'_>,
        record: &VisitRecord,
        client_key: Option<&str>,
    ) -> Result<String> {
        let child_id = child_id.as_str();
        let id = crate::new_id();
        let now = self.now().to_owned();
        let sealed = VISIT_BODY.seal(&self.store.cipher, &id, record);
        sqlx::query(
            "INSERT INTO visits (id, child_id, case_id, visited_on, method, condition, reportable, \
             user_id, username, at, client_key, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(child_id)
        .bind(case_id)
        .bind(record.visited_on.to_string())
        .bind(record.method.code())
        .bind(record.condition.code())
        .bind(i64::from(record.reportable))
        .bind(by.user_id.unwrap_or(""))
        .bind(by.username)
        .bind(now)
        .bind(client_key)
        .bind(sealed)
        .execute(self.conn())
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
                field: Some("client_key".into()),
                message: "该记录已提交过".into(),
            },
            e => e.into(),
        })?;
        Ok(id)
    }

    /// Adds a photo to a visit of the child; None when the visit is not the child's, Some(None)
    /// when it has `max` already.
    pub async fn add_visit_photo(
        &mut self,
        child_id: &ChildId,
        visit_id: &str,
        by: &By<'_>,
        kind: &str,
        data: &[u8],
        max: i64,
    ) -> Result<Option<Option<String>>> {
        let child_id = child_id.as_str();
        let ours: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM visits WHERE id = $1 AND child_id = $2")
                .bind(visit_id)
                .bind(child_id)
                .fetch_one(self.conn())
                .await?;
        if ours == 0 {
            return Ok(None);
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM visit_photos WHERE visit_id = $1")
            .bind(visit_id)
            .fetch_one(self.conn())
            .await?;
        if n >= max {
            return Ok(Some(None));
        }
        let id = crate::new_id();
        let now = self.now().to_owned();
        let sealed = VISIT_PHOTO.seal(&self.store.cipher, &id, data);
        sqlx::query(
            "INSERT INTO visit_photos (id, visit_id, child_id, kind, size, data, user_id, username, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(visit_id)
        .bind(child_id)
        .bind(kind)
        .bind(data.len() as i64)
        .bind(sealed)
        .bind(by.user_id.unwrap_or_default())
        .bind(by.username)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(Some(Some(id)))
    }

    /// Assigns a child's visits to a named person, or back to the village's 儿童主任 (None).
    pub async fn assign_visitor(
        &mut self,
        child_id: &ChildId,
        who: Option<(&str, shouwang_domain::visits::VisitorRole)>,
        by: &str,
    ) -> Result<()> {
        let child_id = child_id.as_str();
        sqlx::query("DELETE FROM visit_assignments WHERE child_id = $1")
            .bind(child_id)
            .execute(self.conn())
            .await?;
        if let Some((name, role)) = who {
            let now = self.now().to_owned();
            sqlx::query(
                "INSERT INTO visit_assignments (child_id, name, role, assigned_by, at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(child_id)
            .bind(name)
            .bind(role.code())
            .bind(by)
            .bind(now)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Erases what field work recorded of a child whose file is erased (`retention`): visits,
    /// parents' contacts, carer checks, agreements and their scans, absences, 劝返 and routings.
    pub(crate) async fn erase_visits(&mut self, child_id: &str) -> Result<()> {
        for table in [
            "visit_photos",
            "visits",
            "visit_assignments",
            "parent_contacts",
            "carer_checks",
            "agreements",
            "absences",
            "return_tasks",
            "routings",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE child_id = $1"))
                .bind(child_id)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}
