//! A report's signatures (issue 26; 龙里 003 七(二): 签字确认，加盖公章): its 复核人's and 单位负责人's
//! confirmations in the system, or the signed and stamped page uploaded, sealed for its report.
//! When both confirmed, or the page is there, the report is submitted (`submitted_at`).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use shouwang_domain::quarterly::Signer;

use super::StoredReport;
use crate::Result;
use crate::rooms::{QuarterlyRoom, QuarterlyTxRoom};
use crate::sealed::{self, Attachment, Sealed};

pub(crate) const SIGNED_SCAN: Sealed<Attachment> =
    sealed::listed("quarterly_reports", "signed_scan");

/// A signer's confirmation: who (account and name) and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Confirmation {
    pub username: String,
    pub name: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// The confirmations a report has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Signatures {
    pub reviewer: Option<Confirmation>,
    pub head: Option<Confirmation>,
}

impl Signatures {
    pub fn of(&self, signer: Signer) -> Option<&Confirmation> {
        match signer {
            Signer::Reviewer => self.reviewer.as_ref(),
            Signer::Head => self.head.as_ref(),
        }
    }
    pub fn complete(&self) -> bool {
        self.reviewer.is_some() && self.head.is_some()
    }
}

/// The uploaded signed page (its bytes are read apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedScan {
    /// `application/pdf`, `image/jpeg`…
    pub kind: String,
    pub size: i64,
}

impl QuarterlyTxRoom<'_> {
    /// Records a signer's confirmation on a report still at `version` and waiting for it; with
    /// both, the report is submitted. Whether it was recorded.
    pub async fn confirm_signature(
        &mut self,
        r: &StoredReport,
        signer: Signer,
        c: Confirmation,
    ) -> Result<bool> {
        let mut signatures = r.signatures.clone();
        match signer {
            Signer::Reviewer => signatures.reviewer = Some(c),
            Signer::Head => signatures.head = Some(c),
        }
        let complete = signatures.complete();
        let now = self.now().to_owned();
        let done = sqlx::query(
            "UPDATE quarterly_reports SET signatures = $1, \
             status = CASE WHEN $2 = 1 THEN 'submitted' ELSE status END, \
             submitted_at = CASE WHEN $2 = 1 THEN $3 ELSE submitted_at END, \
             version = version + 1 WHERE id = $4 AND version = $5 AND status = 'signing'",
        )
        .bind(serde_json::to_string(&signatures).expect("a record serialises"))
        .bind(i64::from(complete))
        .bind(&now)
        .bind(&r.id)
        .bind(r.version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps the signed and stamped page of a report waiting for its signatures, which submits
    /// it. Whether it was kept.
    pub async fn attach_signed_scan(
        &mut self,
        r: &StoredReport,
        kind: &str,
        bytes: &[u8],
    ) -> Result<bool> {
        let sealed = SIGNED_SCAN.seal(&self.store.cipher, &r.id, bytes);
        let now = self.now().to_owned();
        let done = sqlx::query(
            "UPDATE quarterly_reports SET signed_scan = $1, signed_scan_kind = $2, \
             signed_scan_size = $3, status = 'submitted', submitted_at = $4, version = version + 1 \
             WHERE id = $5 AND version = $6 AND status = 'signing'",
        )
        .bind(sealed)
        .bind(kind)
        .bind(bytes.len() as i64)
        .bind(&now)
        .bind(&r.id)
        .bind(r.version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl QuarterlyRoom<'_> {
    /// A report's signed page: (kind, bytes).
    pub async fn signed_scan(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT signed_scan_kind, signed_scan FROM quarterly_reports \
             WHERE id = $1 AND signed_scan IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let kind: String = r.try_get("signed_scan_kind")?;
        let sealed: String = r.try_get("signed_scan")?;
        Ok(Some((kind, SIGNED_SCAN.open(&self.cipher, id, &sealed)?)))
    }
}
