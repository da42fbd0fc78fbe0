//! Guardianship intervention: its measures' stages.

use super::*;
use crate::rooms::{ProtectionRoom, ProtectionTxRoom};
use crate::sealed::{self, Json, Sealed};
use shouwang_domain::ids::CaseId;

pub(crate) const CASE_INTERVENTION: Sealed<Json<InterventionDetail>> =
    sealed::listed("case_interventions", "body");

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

impl ProtectionRoom<'_> {
    /// A case's intervention steps, oldest first.
    pub async fn interventions(&self, case_id: &CaseId) -> Result<Vec<InterventionStep>> {
        let case_id = case_id.as_str();
        let rows = sqlx::query(
            "SELECT at, username, measure, stage, body, id FROM case_interventions WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let measure: String = r.try_get("measure")?;
                let stage: String = r.try_get("stage")?;
                Ok(InterventionStep {
                    at: r.try_get("at")?,
                    username: r.try_get("username")?,
                    measure: shouwang_domain::protection::Measure::parse(&measure)
                        .ok_or_else(|| StoreError::Config(format!("measure {measure}")))?,
                    stage: shouwang_domain::protection::Stage::parse(&stage)
                        .ok_or_else(|| StoreError::Config(format!("stage {stage}")))?,
                    detail: CASE_INTERVENTION.open(
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
    /// Records a step of a measure; the stages already recorded for it, read in this transaction,
    /// are returned first for the caller's check (so two people cannot record the same step).
    pub async fn recorded_stages(
        &mut self,
        case_id: &CaseId,
        measure: shouwang_domain::protection::Measure,
    ) -> Result<Vec<shouwang_domain::protection::Stage>> {
        let case_id = case_id.as_str();
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
        case_id: &CaseId,
        by: &By<'_>,
        measure: shouwang_domain::protection::Measure,
        stage: shouwang_domain::protection::Stage,
        detail: &InterventionDetail,
    ) -> Result<()> {
        let case_id = case_id.as_str();
        let now = self.now().to_owned();
        let id = crate::new_id();
        let sealed = CASE_INTERVENTION.seal(&self.store.cipher, &id, detail);
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
