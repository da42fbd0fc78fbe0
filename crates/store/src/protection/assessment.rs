//! The town's assessments of a case.

use super::*;
use crate::rooms::{ProtectionRoom, ProtectionTxRoom};
use crate::sealed::{self, Json, Sealed};
use shouwang_domain::ids::CaseId;

pub(crate) const CASE_ASSESSMENT: Sealed<Json<shouwang_domain::protection::Assessment>> =
    sealed::listed("case_assessments", "body");

/// An assessment as recorded.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedAssessment {
    pub at: String,
    pub username: String,
    pub assessment: Assessment,
}

impl ProtectionRoom<'_> {
    /// A case's assessments, newest first.
    pub async fn assessments(&self, case_id: &CaseId) -> Result<Vec<RecordedAssessment>> {
        let case_id = case_id.as_str();
        let rows = sqlx::query(
            "SELECT at, username, body, id FROM case_assessments WHERE case_id = $1 ORDER BY at DESC, id DESC",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RecordedAssessment {
                    at: r.try_get("at")?,
                    username: r.try_get("username")?,
                    assessment: CASE_ASSESSMENT.open(
                        &self.cipher,
                        &r.try_get::<String, _>("id")?,
                        &r.try_get::<String, _>("body")?,
                    )?,
                })
            })
            .collect()
    }
}

impl ProtectionTxRoom<'_> {
    /// Records an assessment and sets the case's risk level from it.
    pub async fn add_assessment(
        &mut self,
        case_id: &CaseId,
        by: &By<'_>,
        a: &Assessment,
    ) -> Result<()> {
        let case_id = case_id.as_str();
        let now = self.now().to_owned();
        let id = crate::new_id();
        let sealed = CASE_ASSESSMENT.seal(&self.store.cipher, &id, a);
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
