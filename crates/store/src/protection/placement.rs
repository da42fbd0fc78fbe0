//! Temporary guardianship and other placements.

use super::*;

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
