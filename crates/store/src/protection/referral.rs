//! Referrals to services and their log.

use super::*;
use crate::rooms::{ProtectionRoom, ProtectionTxRoom};
use crate::sealed::{self, Journal, Sealed, Text};
use shouwang_domain::ids::CaseId;

pub(crate) const REFERRAL_NOTE: Sealed<Text> = sealed::listed("case_referrals", "note");
pub(crate) const REFERRAL_LOG: Sealed<Journal<ReferralEntry>> =
    sealed::listed("case_referrals", "log");

/// One entry a provider recorded on a referral.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralEntry {
    pub at: String,
    pub username: String,
    /// accepted, declined, delivered, completed
    pub kind: String,
    pub note: String,
}

/// A referral to a provider.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referral {
    pub id: String,
    pub case_id: CaseId,
    pub kind: HelpKind,
    pub agency_id: String,
    pub agency_name: String,
    pub status: ReferralStatus,
    pub referred_at: String,
    pub answered_at: Option<String>,
    pub delivered_at: Option<String>,
    /// What the town asks for.
    pub note: String,
    pub log: Vec<ReferralEntry>,
    pub version: i64,
}

const REFERRAL_COLUMNS: &str = "f.id, f.case_id, f.kind, f.agency_id, a.name AS agency_name, f.status, \
     f.referred_at, f.answered_at, f.delivered_at, f.note, f.log, f.version";

impl ProtectionRoom<'_> {
    fn referral_of(&self, r: &sqlx::any::AnyRow) -> Result<Referral> {
        let kind: String = r.try_get("kind")?;
        let status: String = r.try_get("status")?;
        let id: String = r.try_get("id")?;
        Ok(Referral {
            note: REFERRAL_NOTE.open(&self.cipher, &id, &r.try_get::<String, _>("note")?)?,
            log: REFERRAL_LOG.open(&self.cipher, &id, &r.try_get::<String, _>("log")?)?,
            id,
            case_id: CaseId::new(r.try_get::<String, _>("case_id")?),
            kind: HelpKind::parse(&kind)
                .ok_or_else(|| StoreError::Config(format!("help kind {kind}")))?,
            agency_id: r.try_get("agency_id")?,
            agency_name: r.try_get("agency_name")?,
            status: ReferralStatus::parse(&status)
                .ok_or_else(|| StoreError::Config(format!("referral status {status}")))?,
            referred_at: r.try_get("referred_at")?,
            answered_at: r.try_get("answered_at")?,
            delivered_at: r.try_get("delivered_at")?,
            version: r.try_get("version")?,
        })
    }

    /// A case's referrals, oldest first.
    pub async fn referrals_of_case(&self, case_id: &CaseId) -> Result<Vec<Referral>> {
        let case_id = case_id.as_str();
        let rows = sqlx::query(&format!(
            "SELECT {REFERRAL_COLUMNS} FROM case_referrals f JOIN agencies a ON a.id = f.agency_id \
             WHERE f.case_id = $1 ORDER BY f.referred_at, f.id"
        ))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.referral_of(r)).collect()
    }

    /// An agency's referrals, newest first.
    pub async fn referrals_of_agency(&self, agency_id: &str) -> Result<Vec<Referral>> {
        let rows = sqlx::query(&format!(
            "SELECT {REFERRAL_COLUMNS} FROM case_referrals f JOIN agencies a ON a.id = f.agency_id \
             WHERE f.agency_id = $1 ORDER BY f.referred_at DESC, f.id LIMIT 500"
        ))
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.referral_of(r)).collect()
    }

    pub async fn referral(&self, id: &str) -> Result<Option<Referral>> {
        let row = sqlx::query(&format!(
            "SELECT {REFERRAL_COLUMNS} FROM case_referrals f JOIN agencies a ON a.id = f.agency_id WHERE f.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.referral_of(&r)).transpose()
    }
}

impl ProtectionTxRoom<'_> {
    /// Whether the case has a referral of this kind to this provider still waiting for an
    /// answer or accepted (read inside the transaction, after
    /// [`ProtectionTxRoom::hold_case`]).
    pub async fn has_open_referral(
        &mut self,
        case_id: &CaseId,
        kind: HelpKind,
        agency_id: &str,
    ) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM case_referrals WHERE case_id = $1 AND kind = $2 AND agency_id = $3 \
             AND status IN ('pending', 'accepted')",
        )
        .bind(case_id.as_str())
        .bind(kind.code())
        .bind(agency_id)
        .fetch_one(self.conn())
        .await?;
        Ok(n > 0)
    }

    pub async fn insert_referral(
        &mut self,
        case_id: &CaseId,
        kind: HelpKind,
        agency_id: &str,
        by: &str,
        note: &str,
    ) -> Result<String> {
        let case_id = case_id.as_str();
        let id = crate::new_id();
        let now = self.now().to_owned();
        let (note, log) = (
            REFERRAL_NOTE.seal(&self.store.cipher, &id, note),
            REFERRAL_LOG.seal(&self.store.cipher, &id, &[]),
        );
        sqlx::query(
            "INSERT INTO case_referrals (id, case_id, kind, agency_id, status, referred_at, referred_by, note, log, version) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, 1)",
        )
        .bind(&id)
        .bind(case_id)
        .bind(kind.code())
        .bind(agency_id)
        .bind(now)
        .bind(by)
        .bind(note)
        .bind(log)
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    /// Moves a referral to `status` with a new log, if it is still at `version`.
    pub async fn update_referral(
        &mut self,
        r: &Referral,
        status: ReferralStatus,
        log: &[ReferralEntry],
    ) -> Result<bool> {
        let now = self.now().to_owned();
        let answered = match (r.answered_at.as_ref(), status) {
            (None, ReferralStatus::Accepted | ReferralStatus::Declined) => Some(now.clone()),
            (a, _) => a.cloned(),
        };
        let delivered = (status == ReferralStatus::Delivered).then(|| now.clone());
        let sealed = REFERRAL_LOG.seal(&self.store.cipher, &r.id, log);
        let done = sqlx::query(
            "UPDATE case_referrals SET status = $1, answered_at = $2, delivered_at = COALESCE($3, delivered_at), log = $4, version = version + 1 \
             WHERE id = $5 AND version = $6",
        )
        .bind(status.code())
        .bind(answered)
        .bind(delivered)
        .bind(sealed)
        .bind(&r.id)
        .bind(r.version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
