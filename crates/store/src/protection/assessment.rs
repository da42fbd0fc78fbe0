//! The town's assessments of a case.

use super::*;

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
