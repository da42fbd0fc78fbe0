//! Temporary guardianship and other placements.

use super::*;
use crate::rooms::{ProtectionRoom, ProtectionTxRoom};
use crate::sealed::{self, Json, Sealed};
use shouwang_domain::ids::CaseId;

pub(crate) const CASE_PLACEMENT: Sealed<Json<shouwang_domain::protection::PlacementRecord>> =
    sealed::listed("case_placements", "body");

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

impl ProtectionRoom<'_> {
    pub async fn placements(&self, case_id: &CaseId) -> Result<Vec<PlacementView>> {
        let case_id = case_id.as_str();
        let rows = sqlx::query(
            "SELECT id, username, body, version FROM case_placements WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                Ok(PlacementView {
                    record: CASE_PLACEMENT.open(
                        &self.cipher,
                        &id,
                        &r.try_get::<String, _>("body")?,
                    )?,
                    id,
                    username: r.try_get("username")?,
                    version: r.try_get("version")?,
                })
            })
            .collect()
    }
}

impl ProtectionTxRoom<'_> {
    /// Whether the case has a placement not yet ended (read inside the transaction, after
    /// [`ProtectionTxRoom::hold_case`]).
    pub async fn has_open_placement(&mut self, case_id: &CaseId) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM case_placements WHERE case_id = $1 AND open = 1",
        )
        .bind(case_id.as_str())
        .fetch_one(self.conn())
        .await?;
        Ok(n > 0)
    }

    pub async fn add_placement(
        &mut self,
        case_id: &CaseId,
        by: &By<'_>,
        record: &shouwang_domain::protection::PlacementRecord,
    ) -> Result<String> {
        let case_id = case_id.as_str();
        let id = crate::new_id();
        let now = self.now().to_owned();
        let sealed = CASE_PLACEMENT.seal(&self.store.cipher, &id, record);
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
        let sealed = CASE_PLACEMENT.seal(&self.store.cipher, &p.id, record);
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
