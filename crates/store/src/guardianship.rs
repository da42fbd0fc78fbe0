//! Guardianship: the parents' contact log, the carer's checks, 委托监护 agreements and the lists of
//! what is due (carer re-assessments, agreements to renew) — SQL only (`app::guardianship`
//! decides who may).

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use shouwang_domain::authz::Actor;
use shouwang_domain::guardianship::{Agreement, CarerVerdict, ContactRecord};
use shouwang_domain::ids::ChildId;
use shouwang_domain::region::RegionCode;

use crate::By;
use crate::regions::code_range;
use crate::rooms::{GuardianshipRoom, GuardianshipTxRoom};
use crate::scope::{self, roster_cutoff, scoped};
use crate::sealed::{self, Attachment, Json, Sealed};
use crate::{Result, StoreError};

pub(crate) const PARENT_CONTACT: Sealed<Json<shouwang_domain::guardianship::ContactRecord>> =
    sealed::listed("parent_contacts", "body");
pub(crate) const CARER_CHECK: Sealed<Json<shouwang_domain::guardianship::CarerCheck>> =
    sealed::listed("carer_checks", "body");
pub(crate) const AGREEMENT_BODY: Sealed<Json<shouwang_domain::guardianship::Agreement>> =
    sealed::listed("agreements", "body");
pub(crate) const AGREEMENT_SCAN: Sealed<Attachment> = sealed::listed("agreements", "scan");

/// A recorded agreement (without the scan's bytes).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementView {
    pub id: String,
    pub child_id: String,
    #[serde(flatten)]
    pub agreement: Agreement,
    /// `image/jpeg`, `application/pdf`…, when the signed paper was scanned.
    pub scan_kind: Option<String>,
    pub scan_size: Option<i64>,
    pub replaced_by: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// A child of an area with something due on its 委托监护.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GuardianshipDue {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    /// The carer's re-assessment date, or the agreement's last day.
    pub due_on: NaiveDate,
    /// For a re-assessment: the last verdict.
    pub verdict: Option<CarerVerdict>,
}

const COLUMNS: &str = "id, child_id, body, scan_kind, scan_size, replaced_by, username, at";

impl GuardianshipRoom<'_> {
    fn agreement_of(&self, r: &sqlx::any::AnyRow) -> Result<AgreementView> {
        let id: String = r.try_get("id")?;
        Ok(AgreementView {
            agreement: AGREEMENT_BODY.open(&self.cipher, &id, &r.try_get::<String, _>("body")?)?,
            id,
            child_id: r.try_get("child_id")?,
            scan_kind: r.try_get("scan_kind")?,
            scan_size: r.try_get("scan_size")?,
            replaced_by: r.try_get("replaced_by")?,
            recorded_by: r.try_get("username")?,
            recorded_at: r.try_get("at")?,
        })
    }

    /// A child's agreements, newest first.
    pub async fn agreements(&self, child_id: &ChildId) -> Result<Vec<AgreementView>> {
        let child_id = child_id.as_str();
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM agreements WHERE child_id = $1 ORDER BY at DESC, id DESC LIMIT 50"
        ))
        .bind(child_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.agreement_of(r)).collect()
    }

    /// An agreement's scan: (kind, bytes).
    pub async fn agreement_scan(
        &self,
        child_id: &ChildId,
        id: &str,
    ) -> Result<Option<(String, Vec<u8>)>> {
        let child_id = child_id.as_str();
        let row = sqlx::query(
            "SELECT scan_kind, scan FROM agreements WHERE id = $1 AND child_id = $2 AND scan IS NOT NULL",
        )
        .bind(id)
        .bind(child_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let kind: String = r.try_get("scan_kind")?;
        let sealed: String = r.try_get("scan")?;
        let bytes = AGREEMENT_SCAN.open(&self.cipher, id, &sealed)?;
        Ok(Some((kind, bytes)))
    }

    /// The children of `area` on the roster whose carer is due a re-assessment by `until` (the
    /// latest check's next date), soonest first.
    pub async fn reassessments_due(
        &self,
        area: &RegionCode,
        until: NaiveDate,
        limit: i64,
    ) -> Result<Vec<GuardianshipDue>> {
        let (lo, hi) = code_range(area);
        let rows = sqlx::query(&format!(
            "SELECT c.id, c.village_code, k.next_due, k.verdict, c.name FROM carer_checks k \
             JOIN children c ON c.id = k.child_id \
             WHERE k.next_due <= $1 AND c.village_code >= $2 AND c.village_code <= $3 \
             AND c.status = 'active' AND c.archived_at IS NULL \
             AND k.at = (SELECT MAX(x.at) FROM carer_checks x WHERE x.child_id = k.child_id) \
             ORDER BY k.next_due, c.id LIMIT {}",
            limit.clamp(1, 1000)
        ))
        .bind(until.to_string())
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let village: i64 = r.try_get("village_code")?;
                let due: String = r.try_get("next_due")?;
                let verdict: String = r.try_get("verdict")?;
                Ok(GuardianshipDue {
                    child_id: r.try_get("id")?,
                    village_code: format!("{village:012}"),
                    due_on: due
                        .parse()
                        .map_err(|_| StoreError::Config("carer check: bad date".into()))?,
                    verdict: CarerVerdict::parse(&verdict),
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    /// The children of `area` on the roster whose current agreement ends by `until` (renew it), or
    /// has ended, soonest first.
    pub async fn agreements_ending(
        &self,
        area: &RegionCode,
        until: NaiveDate,
        limit: i64,
    ) -> Result<Vec<GuardianshipDue>> {
        let (lo, hi) = code_range(area);
        let rows = sqlx::query(&format!(
            "SELECT c.id, c.village_code, a.ends_on, c.name FROM agreements a \
             JOIN children c ON c.id = a.child_id \
             WHERE a.replaced_by IS NULL AND a.ends_on <= $1 \
             AND c.village_code >= $2 AND c.village_code <= $3 \
             AND c.status = 'active' AND c.archived_at IS NULL \
             ORDER BY a.ends_on, c.id LIMIT {}",
            limit.clamp(1, 1000)
        ))
        .bind(until.to_string())
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let village: i64 = r.try_get("village_code")?;
                let due: String = r.try_get("ends_on")?;
                Ok(GuardianshipDue {
                    child_id: r.try_get("id")?,
                    village_code: format!("{village:012}"),
                    due_on: due
                        .parse()
                        .map_err(|_| StoreError::Config("agreement: bad date".into()))?,
                    verdict: None,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }
}

impl GuardianshipTxRoom<'_> {
    /// Records an agreement (replacing the child's current one) with its scan, if any.
    pub async fn add_agreement(
        &mut self,
        child_id: &ChildId,
        by: &By<'_>,
        a: &Agreement,
        scan: Option<(&str, &[u8])>,
    ) -> Result<String> {
        let child_id = child_id.as_str();
        let id = crate::new_id();
        let now = self.now().to_owned();
        let body = AGREEMENT_BODY.seal(&self.store.cipher, &id, a);
        let sealed = scan.map(|(_, bytes)| AGREEMENT_SCAN.seal(&self.store.cipher, &id, bytes));
        sqlx::query(
            "UPDATE agreements SET replaced_by = $1 WHERE child_id = $2 AND replaced_by IS NULL",
        )
        .bind(&id)
        .bind(child_id)
        .execute(self.conn())
        .await?;
        sqlx::query(
            "INSERT INTO agreements (id, child_id, kind, signed_on, ends_on, body, scan_kind, scan_size, \
             scan, user_id, username, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(child_id)
        .bind(a.kind.code())
        .bind(a.signed_on.to_string())
        .bind(a.ends_on.to_string())
        .bind(body)
        .bind(scan.map(|(k, _)| k))
        .bind(scan.map(|(_, b)| b.len() as i64))
        .bind(sealed)
        .bind(by.user_id.unwrap_or(""))
        .bind(by.username)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(id)
    }
}

/// A carer check as stored.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CarerCheckView {
    pub id: String,
    pub recorded_by: String,
    pub recorded_at: String,
    #[serde(flatten)]
    pub check: shouwang_domain::guardianship::CarerCheck,
}

/// A recorded contact with the parents.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactView {
    pub id: String,
    pub child_id: String,
    pub recorded_by: String,
    pub recorded_at: String,
    #[serde(flatten)]
    pub record: ContactRecord,
}

/// A child of the roster with a contact log: the last day the parents were reached or sent
/// support, and the first recorded attempt.
#[derive(Debug, Clone)]
pub struct ContactSummary {
    pub child_id: String,
    pub name: String,
    pub village: RegionCode,
    pub last_heard: Option<NaiveDate>,
    pub first_recorded: NaiveDate,
}

impl GuardianshipRoom<'_> {
    /// A child's carer checks, newest first.
    pub async fn carer_checks(&self, child_id: &ChildId) -> Result<Vec<CarerCheckView>> {
        let child_id = child_id.as_str();
        let rows = sqlx::query(
            "SELECT id, username, at, body FROM carer_checks WHERE child_id = $1 ORDER BY at DESC, id DESC LIMIT 50",
        )
        .bind(child_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                Ok(CarerCheckView {
                    check: CARER_CHECK.open(&self.cipher, &id, &r.try_get::<String, _>("body")?)?,
                    id,
                    recorded_by: r.try_get("username")?,
                    recorded_at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// A child's contact log, newest first (at most `limit`).
    pub async fn parent_contacts(
        &self,
        child_id: &ChildId,
        limit: i64,
    ) -> Result<Vec<ContactView>> {
        let child_id = child_id.as_str();
        let rows = sqlx::query(
            "SELECT id, child_id, username, at, body FROM parent_contacts WHERE child_id = $1 \
             ORDER BY contacted_on DESC, at DESC LIMIT $2",
        )
        .bind(child_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                Ok(ContactView {
                    record: PARENT_CONTACT.open(
                        &self.cipher,
                        &id,
                        &r.try_get::<String, _>("body")?,
                    )?,
                    id,
                    child_id: r.try_get("child_id")?,
                    recorded_by: r.try_get("username")?,
                    recorded_at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// What the contact log says, without opening it: (date, reached, support) per entry.
    pub async fn contact_facts(&self, child_id: &ChildId) -> Result<Vec<(NaiveDate, bool, bool)>> {
        let child_id = child_id.as_str();
        let rows = sqlx::query(
            "SELECT contacted_on, reached, support FROM parent_contacts WHERE child_id = $1",
        )
        .bind(child_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let d: String = r.try_get("contacted_on")?;
                Ok((
                    d.parse()
                        .map_err(|_| StoreError::Config(format!("contact date {d}")))?,
                    r.try_get::<i64, _>("reached")? != 0,
                    r.try_get::<i64, _>("support")? != 0,
                ))
            })
            .collect()
    }

    /// The children on the roster in the actor's scope whose parents' contact log has entries.
    pub async fn contact_summaries(&self, actor: &Actor) -> Result<Vec<ContactSummary>> {
        let Some((mut w, join)) = scoped(actor, None) else {
            return Ok(vec![]);
        };
        w.text(&scope::on_roster("c", "?"), roster_cutoff(self.today()));
        let sql = format!(
            "SELECT c.id, c.name, c.village_code, \
             MAX(CASE WHEN p.reached = 1 OR p.support = 1 THEN p.contacted_on END) AS last_reached, \
             MIN(p.contacted_on) AS first_contact \
             FROM children c{join} JOIN parent_contacts p ON p.child_id = c.id{} \
             GROUP BY c.id, c.name, c.village_code",
            w.sql
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let village: i64 = r.try_get("village_code")?;
                let last: Option<String> = r.try_get("last_reached")?;
                let first: String = r.try_get("first_contact")?;
                Ok(ContactSummary {
                    child_id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    village: RegionCode::parse(&format!("{village:012}"))
                        .map_err(|e| StoreError::Config(e.to_string()))?,
                    last_heard: last.and_then(|d| d.parse().ok()),
                    first_recorded: first
                        .parse()
                        .map_err(|_| StoreError::Config(format!("contact date {first}")))?,
                })
            })
            .collect()
    }
}

impl GuardianshipTxRoom<'_> {
    pub async fn add_carer_check(
        &mut self,
        child_id: &ChildId,
        by: &By<'_>,
        check: &shouwang_domain::guardianship::CarerCheck,
    ) -> Result<String> {
        let child_id = child_id.as_str();
        let id = crate::new_id();
        let now = self.now().to_owned();
        let body = CARER_CHECK.seal(&self.store.cipher, &id, check);
        sqlx::query(
            "INSERT INTO carer_checks (id, child_id, verdict, next_due, user_id, username, at, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(child_id)
        .bind(check.verdict.code())
        .bind(check.next_due.map(|d| d.to_string()))
        .bind(by.user_id.unwrap_or(""))
        .bind(by.username)
        .bind(now)
        .bind(body)
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    pub async fn add_parent_contact(
        &mut self,
        child_id: &ChildId,
        by: &By<'_>,
        record: &ContactRecord,
    ) -> Result<String> {
        let child_id = child_id.as_str();
        let id = crate::new_id();
        let now = self.now().to_owned();
        let sealed = PARENT_CONTACT.seal(&self.store.cipher, &id, record);
        sqlx::query(
            "INSERT INTO parent_contacts (id, child_id, contacted_on, reached, support, user_id, \
             username, at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(child_id)
        .bind(record.contacted_on.to_string())
        .bind(i64::from(record.reached))
        .bind(i64::from(record.support))
        .bind(by.user_id.unwrap_or(""))
        .bind(by.username)
        .bind(now)
        .bind(sealed)
        .execute(self.conn())
        .await?;
        Ok(id)
    }
}
