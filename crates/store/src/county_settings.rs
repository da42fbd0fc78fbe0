//! A county's own settings (visiting cadence by risk, report deadlines, the parents' contact
//! lapse, an agreement's term): one JSON body per county, checked as a whole by
//! `domain::settings`.

use shouwang_domain::region::{RegionCode, RegionLevel};
use shouwang_domain::settings::CountySettings;

use crate::rooms::{CountiesRoom, CountiesTxRoom};
use crate::{Result, StoreError};

impl CountiesRoom<'_> {
    /// A county's settings (the defaults when it has chosen none). A code below a county reads its
    /// county's; above a county, the defaults.
    pub async fn county_settings(&self, code: &RegionCode) -> Result<CountySettings> {
        let Some(county) = code.at_level(RegionLevel::County) else {
            return Ok(Default::default());
        };
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM county_settings WHERE county_code = $1")
                .bind(county.as_str())
                .fetch_optional(&self.pool)
                .await?;
        match body {
            None => Ok(Default::default()),
            Some(b) => serde_json::from_str(&b)
                .map_err(|e| StoreError::Config(format!("county settings of {county}: {e}"))),
        }
    }
}

impl CountiesTxRoom<'_> {
    /// Keeps a county's settings.
    pub async fn set_county_settings(
        &mut self,
        county: &RegionCode,
        settings: &CountySettings,
        by: &str,
    ) -> Result<()> {
        let now = self.now().to_owned();
        sqlx::query(
            "INSERT INTO county_settings (county_code, body, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (county_code) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(county.as_str())
        .bind(serde_json::to_string(settings).expect("serialisable"))
        .bind(by)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
