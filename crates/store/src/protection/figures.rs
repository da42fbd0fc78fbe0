//! A case's activity for figures.

use super::*;

use crate::rooms::ProtectionRoom;

/// What the figures of a period count beside the reports themselves.
#[derive(Debug, Clone, Default)]
pub struct CaseActivity {
    /// Per case: the first response step or police record.
    pub first_action: std::collections::HashMap<String, shouwang_domain::clock::At>,
    /// Placements started, by case.
    pub placements: std::collections::HashMap<String, i64>,
    /// Referrals by status code.
    pub referrals: std::collections::HashMap<String, i64>,
}

impl ProtectionRoom<'_> {
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
        out.first_action = rows
            .into_iter()
            .map(|(case, at)| {
                let at = crate::decode::parse_at("case_events.at", &case, &at)?;
                Ok((case, at))
            })
            .collect::<Result<_>>()?;
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
