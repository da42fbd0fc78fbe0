//! 控辍保学 at school: absences and 劝返 tasks — SQL only (`app::attendance` decides who may).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use shouwang_domain::attendance::{ReturnStatus, ReturnStep};
use shouwang_domain::ids::ChildId;
use shouwang_domain::region::RegionCode;

use crate::By;
use crate::regions::code_range;
use crate::rooms::{AttendanceRoom, AttendanceTxRoom};
use crate::sealed::{self, Journal, Sealed, Text};
use crate::{Result, StoreError};

/// An absence's note, sealed for `child_id/day`.
pub(crate) const ABSENCE_NOTE: Sealed<Text> = sealed::listed("absences", "note");
pub(crate) const RETURN_STEPS: Sealed<Journal<StepRecord>> =
    sealed::listed("return_tasks", "steps");

/// One step of a 劝返, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRecord {
    pub step: ReturnStep,
    pub note: String,
    pub on: NaiveDate,
    pub by: String,
}

/// A 劝返 task.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnTask {
    pub id: String,
    pub child_id: ChildId,
    /// The school working it; none when the county opened it from 三方比对 (the town and the
    /// village work it then).
    pub agency_id: Option<String>,
    pub village_code: String,
    /// The stretch away from school that started it.
    pub away_from: NaiveDate,
    pub away_to: NaiveDate,
    pub status: ReturnStatus,
    pub steps: Vec<StepRecord>,
    pub outcome_note: Option<String>,
    /// The day the pupil was marked in the 学籍 system (劝返无效).
    pub marked_on: Option<NaiveDate>,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub version: i64,
    /// Where it came from when not from absences (`reconcile:<finding id>`).
    pub source: Option<String>,
}

const TASK_COLUMNS: &str = "id, child_id, agency_id, village_code, away_from, away_to, status, steps, \
     outcome_note, marked_on, opened_at, closed_at, closed_by, version, source";

impl AttendanceRoom<'_> {
    fn task_of(&self, r: &sqlx::any::AnyRow) -> Result<ReturnTask> {
        let bad = |w: &str| StoreError::Config(format!("return task: bad {w}"));
        let date = |s: String| s.parse::<NaiveDate>().map_err(|_| bad("date"));
        let village: i64 = r.try_get("village_code")?;
        let status: String = r.try_get("status")?;
        let marked: Option<String> = r.try_get("marked_on")?;
        let id: String = r.try_get("id")?;
        Ok(ReturnTask {
            steps: RETURN_STEPS.open(&self.cipher, &id, &r.try_get::<String, _>("steps")?)?,
            id,
            child_id: ChildId::new(r.try_get::<String, _>("child_id")?),
            agency_id: r.try_get("agency_id")?,
            village_code: format!("{village:012}"),
            away_from: date(r.try_get("away_from")?)?,
            away_to: date(r.try_get("away_to")?)?,
            status: ReturnStatus::parse(&status).ok_or_else(|| bad("status"))?,
            outcome_note: r.try_get("outcome_note")?,
            marked_on: marked.map(date).transpose()?,
            opened_at: r.try_get("opened_at")?,
            closed_at: r.try_get("closed_at")?,
            closed_by: r.try_get("closed_by")?,
            version: r.try_get("version")?,
            source: r.try_get("source")?,
        })
    }

    /// The unexplained days a pupil was away since `since`.
    pub async fn unexcused_days(
        &self,
        child_id: &ChildId,
        since: NaiveDate,
    ) -> Result<Vec<NaiveDate>> {
        let child_id = child_id.as_str();
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT day FROM absences WHERE child_id = $1 AND excused = 0 AND day >= $2 ORDER BY day",
        )
        .bind(child_id)
        .bind(since.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().filter_map(|d| d.parse().ok()).collect())
    }

    /// A pupil's absences recorded since `since`: (day, excused, note).
    pub async fn absences(
        &self,
        child_id: &ChildId,
        since: NaiveDate,
    ) -> Result<Vec<(NaiveDate, bool, Option<String>)>> {
        let child_id = child_id.as_str();
        let rows = sqlx::query(
            "SELECT day, excused, note FROM absences WHERE child_id = $1 AND day >= $2 ORDER BY day DESC",
        )
        .bind(child_id)
        .bind(since.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let day: String = r.try_get("day")?;
                let note: Option<String> = r.try_get("note")?;
                Ok((
                    day.parse()
                        .map_err(|_| StoreError::Config(format!("absence day {day}")))?,
                    r.try_get::<i64, _>("excused")? == 1,
                    // An absence is one per pupil and day: its note is bound to both.
                    ABSENCE_NOTE.open_opt(
                        &self.cipher,
                        &format!("{child_id}/{day}"),
                        note.as_deref(),
                    )?,
                ))
            })
            .collect()
    }

    /// A school's pupils on the roster (linked to it): (id, name, ID-number index).
    pub async fn agency_pupils(
        &self,
        agency_id: &str,
    ) -> Result<Vec<(String, String, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT c.id, c.name, c.id_hash FROM child_agencies ca JOIN children c ON c.id = ca.child_id \
             WHERE ca.agency_id = $1 AND c.status = 'active' AND c.archived_at IS NULL ORDER BY c.id",
        )
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?, r.try_get("id_hash")?)))
            .collect()
    }

    pub async fn return_task(&self, id: &str) -> Result<Option<ReturnTask>> {
        let row = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS} FROM return_tasks WHERE id = $1 AND {}",
            crate::scope::live_child("return_tasks.child_id")
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.task_of(&r)).transpose()
    }

    /// The open 劝返 of a pupil, if any.
    pub async fn open_return_task(&self, child_id: &ChildId) -> Result<Option<ReturnTask>> {
        let child_id = child_id.as_str();
        let row = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS} FROM return_tasks WHERE child_id = $1 AND status = 'open' AND {}",
            crate::scope::live_child("return_tasks.child_id")
        ))
        .bind(child_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.task_of(&r)).transpose()
    }

    /// 劝返 tasks of a school, or of an area (villages of `area`), newest first.
    pub async fn return_tasks(
        &self,
        agency: Option<&str>,
        area: &RegionCode,
        limit: i64,
    ) -> Result<Vec<ReturnTask>> {
        let (lo, hi) = code_range(area);
        let rows = match agency {
            Some(a) => {
                sqlx::query(&format!(
                    "SELECT {TASK_COLUMNS} FROM return_tasks WHERE agency_id = $1 AND {} \
                     ORDER BY status = 'open' DESC, opened_at DESC LIMIT {}",
                    crate::scope::live_child("return_tasks.child_id"),
                    limit.clamp(1, 500)
                ))
                .bind(a)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {TASK_COLUMNS} FROM return_tasks WHERE village_code >= $1 AND village_code <= $2 \
                     AND {} ORDER BY status = 'open' DESC, opened_at DESC LIMIT {}",
                    crate::scope::live_child("return_tasks.child_id"),
                    limit.clamp(1, 500)
                ))
                .bind(lo)
                .bind(hi)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(|r| self.task_of(r)).collect()
    }
}

impl AttendanceTxRoom<'_> {
    /// Records days absent (a day recorded again takes the new excused/note).
    pub async fn add_absences(
        &mut self,
        child_id: &ChildId,
        agency_id: &str,
        days: &[NaiveDate],
        excused: bool,
        note: Option<&str>,
        by: &By<'_>,
    ) -> Result<()> {
        let child_id = child_id.as_str();
        let now = self.now().to_owned();
        for day in days {
            let sealed = note
                .map(|n| ABSENCE_NOTE.seal(&self.store.cipher, &format!("{child_id}/{day}"), n));
            sqlx::query(
                "INSERT INTO absences (id, child_id, agency_id, day, excused, note, user_id, username, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (child_id, day) DO UPDATE SET excused = excluded.excused, note = excluded.note, \
                 user_id = excluded.user_id, username = excluded.username, at = excluded.at",
            )
            .bind(crate::new_id())
            .bind(child_id)
            .bind(agency_id)
            .bind(day.to_string())
            .bind(i64::from(excused))
            .bind(sealed.as_deref())
            .bind(by.user_id.unwrap_or(""))
            .bind(by.username)
            .bind(&now)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Opens a 劝返; a pupil with one open already is a conflict (a unique index, so two requests
    /// at once open one).
    pub async fn open_return(
        &mut self,
        child_id: &ChildId,
        agency_id: Option<&str>,
        village: &RegionCode,
        away: (NaiveDate, NaiveDate),
        source: Option<&str>,
    ) -> Result<String> {
        let child_id = child_id.as_str();
        let id = crate::new_id();
        let now = self.now().to_owned();
        let steps = RETURN_STEPS.seal(&self.store.cipher, &id, &[]);
        let (lo, _) = code_range(village);
        sqlx::query(
            "INSERT INTO return_tasks (id, child_id, agency_id, village_code, away_from, away_to, status, \
             steps, opened_at, version, source) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, 1, $9)",
        )
        .bind(&id)
        .bind(child_id)
        .bind(agency_id)
        .bind(lo)
        .bind(away.0.to_string())
        .bind(away.1.to_string())
        .bind(steps)
        .bind(now)
        .bind(source)
        .execute(self.conn())
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
                field: Some("child_id".into()),
                message: "该生已有进行中的劝返".into(),
            },
            e => e.into(),
        })?;
        Ok(id)
    }

    /// Writes a task's new state if it is still at `t.version`; false if someone changed it.
    pub async fn save_return(&mut self, t: &ReturnTask, by: &str) -> Result<bool> {
        let now = self.now().to_owned();
        let steps = RETURN_STEPS.seal(&self.store.cipher, &t.id, &t.steps);
        let closing = t.status != ReturnStatus::Open;
        let done = sqlx::query(
            "UPDATE return_tasks SET status = $1, steps = $2, outcome_note = $3, marked_on = $4, \
             away_to = $5, closed_at = $6, closed_by = $7, version = version + 1 \
             WHERE id = $8 AND version = $9",
        )
        .bind(t.status.code())
        .bind(steps)
        .bind(t.outcome_note.as_deref())
        .bind(t.marked_on.map(|d| d.to_string()))
        .bind(t.away_to.to_string())
        .bind(closing.then_some(now))
        .bind(closing.then_some(by))
        .bind(&t.id)
        .bind(t.version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
