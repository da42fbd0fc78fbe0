//! 发现报告's storage: the reports and the town queues. The rules are
//! `shouwang_domain::discovery`; the use cases `shouwang_app::discoveries`.

use serde::Serialize;
use sqlx::Row;

use shouwang_domain::discovery::{Discovery, DiscoveryStatus};
use shouwang_domain::ids::CaseId;
use shouwang_domain::region::RegionCode;

use crate::rooms::{DiscoveriesRoom, DiscoveriesTxRoom};
use crate::sealed::{self, Sealed, Text};
use crate::{Result, StoreError};

pub(crate) const DISCOVERY_CHILD_NAME: Sealed<Text> =
    sealed::listed("discovery_reports", "child_name");
pub(crate) const DISCOVERY_SITUATION: Sealed<Text> =
    sealed::listed("discovery_reports", "situation");
pub(crate) const DISCOVERY_PHONE: Sealed<Text> =
    sealed::listed("discovery_reports", "reporter_phone");

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiscoveryReport {
    pub id: String,
    pub created_at: String,
    pub reporter_org: String,
    pub town_code: String,
    pub village_code: Option<String>,
    pub child_name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub situation: String,
    pub reporter_phone: Option<String>,
    pub status: String,
    pub child_id: Option<String>,
}

// The columns of a report that say who the child is and what was found, or who reported it are
// sealed for their report (`crate::sealed`); written before reports were sealed, they were plain
// text, read as such only until the store has sealed every value for its row.

/// Encrypts the reports written before reports were sealed. Runs once per database, at open.
pub(crate) async fn seal_legacy(pool: &sqlx::AnyPool, cipher: &crate::IdCipher) -> Result<()> {
    const KEY: &str = "discoveries_sealed";
    if crate::settings::is(pool, KEY, "1").await? {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    crate::settings::set(&mut tx, KEY, "1").await?;
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, child_name, situation, reporter_phone FROM discovery_reports \
         WHERE child_name NOT LIKE 'v1:%' AND child_name NOT LIKE 'v2:%'",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (id, name, situation, phone) in rows {
        sqlx::query(
            "UPDATE discovery_reports SET child_name = $1, situation = $2, reporter_phone = $3 WHERE id = $4",
        )
        .bind(DISCOVERY_CHILD_NAME.seal(cipher, &id, &name))
        .bind(DISCOVERY_SITUATION.seal(cipher, &id, &situation))
        .bind(phone.map(|p| DISCOVERY_PHONE.seal(cipher, &id, &p)))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

const REPORT_COLUMNS: &str = "id, created_at, reporter_org, town_code, village_code, child_name, sex, birth_date, situation, reporter_phone, status, child_id";

impl DiscoveriesRoom<'_> {
    /// Open reports for towns inside `region`, oldest first.
    pub async fn open_discoveries(&self, region: &RegionCode) -> Result<Vec<DiscoveryReport>> {
        let rows = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM discovery_reports \
             WHERE town_code >= $1 AND town_code < $2 AND status = 'open' ORDER BY created_at"
        ))
        .bind(region.as_str())
        .bind(format!("{region}:"))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let c = &self.cipher;
                Ok(DiscoveryReport {
                    id: id.clone(),
                    created_at: r.try_get("created_at")?,
                    reporter_org: r.try_get("reporter_org")?,
                    town_code: r.try_get("town_code")?,
                    village_code: r.try_get("village_code")?,
                    child_name: DISCOVERY_CHILD_NAME.open_or_plain(
                        c,
                        &id,
                        &r.try_get::<String, _>("child_name")?,
                    )?,
                    sex: r.try_get("sex")?,
                    birth_date: r.try_get("birth_date")?,
                    situation: DISCOVERY_SITUATION.open_or_plain(
                        c,
                        &id,
                        &r.try_get::<String, _>("situation")?,
                    )?,
                    reporter_phone: r
                        .try_get::<Option<String>, _>("reporter_phone")?
                        .map(|p| DISCOVERY_PHONE.open_or_plain(c, &id, &p))
                        .transpose()?,
                    status: r.try_get("status")?,
                    child_id: r.try_get("child_id")?,
                })
            })
            .collect()
    }

    /// How many reports wait in the queues of towns inside `region`.
    pub async fn open_discovery_count(&self, region: &RegionCode) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM discovery_reports WHERE town_code >= $1 AND town_code < $2 AND status = 'open'")
            .bind(region.as_str())
            .bind(format!("{region}:"))
            .fetch_one(&self.pool)
            .await?)
    }
}

impl DiscoveriesTxRoom<'_> {
    /// Files a checked report in its town's queue; returns its id.
    pub async fn insert_discovery(
        &mut self,
        report: &Discovery,
        reporter_user_id: &str,
        reporter_org: &str,
    ) -> Result<String> {
        let id = crate::new_id();
        let now = self.now().to_owned();
        let cipher = self.store.cipher.clone();
        sqlx::query(
            "INSERT INTO discovery_reports (id, created_at, reporter_user_id, reporter_org, town_code, village_code, child_name, sex, birth_date, situation, reporter_phone, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open')",
        )
        .bind(&id)
        .bind(&now)
        .bind(reporter_user_id)
        .bind(reporter_org)
        .bind(report.town.as_str())
        .bind(report.village.as_ref().map(|v| v.as_str().to_owned()))
        .bind(DISCOVERY_CHILD_NAME.seal(&cipher, &id, report.name.as_str()))
        .bind(report.sex.map(|s| s.label().to_owned()))
        .bind(report.birth.map(|b| b.to_string()))
        .bind(DISCOVERY_SITUATION.seal(&cipher, &id, &report.situation))
        .bind(
            report
                .phone
                .as_ref()
                .map(|p| DISCOVERY_PHONE.seal(&cipher, &id, p.as_str())),
        )
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    /// Marks a queued report as coming from a protection case (a mandatory report on a child not
    /// yet registered).
    pub async fn set_discovery_case(&mut self, id: &str, case_id: &CaseId) -> Result<()> {
        let case_id = case_id.as_str();
        sqlx::query("UPDATE discovery_reports SET case_id = $1 WHERE id = $2")
            .bind(case_id)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The protection case a queued report came from, if any.
    pub async fn discovery_case(&mut self, id: &str) -> Result<Option<CaseId>> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT case_id FROM discovery_reports WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?
        .flatten()
        .map(CaseId::new))
    }

    /// The town of an open report (none if it is missing or closed).
    pub async fn open_discovery_town(&mut self, id: &str) -> Result<Option<RegionCode>> {
        let town: Option<String> = sqlx::query_scalar(
            "SELECT town_code FROM discovery_reports WHERE id = $1 AND status = 'open'",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?;
        town.map(|t| RegionCode::parse(&t).map_err(|e| StoreError::Config(e.to_string())))
            .transpose()
    }

    /// Closes a report with how it ended.
    pub async fn close_discovery(
        &mut self,
        id: &str,
        status: DiscoveryStatus,
        child_id: Option<&str>,
        handled_by: &str,
        note: &str,
    ) -> Result<()> {
        let now = self.now().to_owned();
        sqlx::query("UPDATE discovery_reports SET status = $1, child_id = $2, handled_by = $3, handled_at = $4, handling_note = $5 WHERE id = $6")
            .bind(status.code())
            .bind(child_id.map(str::to_owned))
            .bind(handled_by)
            .bind(&now)
            .bind(note)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
