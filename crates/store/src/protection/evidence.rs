//! A case's evidence: sealed attachments.

use super::*;
use crate::rooms::{ProtectionRoom, ProtectionTxRoom};
use crate::sealed::{self, Sealed, Text};
use shouwang_domain::ids::CaseId;

pub(crate) const CASE_ATTACHMENT: Sealed<sealed::Attachment> =
    sealed::listed("case_attachments", "data");
pub(crate) const CASE_ATTACHMENT_NAME: Sealed<Text> = sealed::listed("case_attachments", "name");

/// Evidence on a case, as listed (its bytes are fetched one at a time).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: String,
    pub at: String,
    pub username: String,
    #[serde(skip)]
    pub user_id: String,
    /// image/jpeg, image/png, image/webp or application/pdf
    pub kind: String,
    pub size: i64,
    pub name: String,
}

const LISTED: &str = "id, at, user_id, username, kind, size, name";

impl ProtectionRoom<'_> {
    fn attachment_of(&self, r: &sqlx::any::AnyRow) -> Result<Attachment> {
        let id: String = r.try_get("id")?;
        Ok(Attachment {
            name: CASE_ATTACHMENT_NAME.open(&self.cipher, &id, &r.try_get::<String, _>("name")?)?,
            id,
            at: r.try_get("at")?,
            user_id: r.try_get("user_id")?,
            username: r.try_get("username")?,
            kind: r.try_get("kind")?,
            size: r.try_get("size")?,
        })
    }

    /// A case's evidence, oldest first.
    pub async fn attachments(&self, case_id: &CaseId) -> Result<Vec<Attachment>> {
        let case_id = case_id.as_str();
        let rows = sqlx::query(&format!(
            "SELECT {LISTED} FROM case_attachments WHERE case_id = $1 ORDER BY at, id"
        ))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.attachment_of(r)).collect()
    }

    /// One attachment of a case with its bytes.
    pub async fn attachment(
        &self,
        case_id: &CaseId,
        id: &str,
    ) -> Result<Option<(Attachment, Vec<u8>)>> {
        let case_id = case_id.as_str();
        let row = sqlx::query(&format!(
            "SELECT {LISTED}, data FROM case_attachments WHERE case_id = $1 AND id = $2"
        ))
        .bind(case_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let data = CASE_ATTACHMENT.open(&self.cipher, id, &r.try_get::<String, _>("data")?)?;
        Ok(Some((self.attachment_of(&r)?, data)))
    }
}

impl ProtectionTxRoom<'_> {
    /// Stores a piece of evidence, sealed; refused past `max` on the case (counted inside the
    /// transaction, so parallel uploads cannot pass it).
    pub async fn add_attachment(
        &mut self,
        case_id: &CaseId,
        by: &By<'_>,
        kind: &str,
        name: &str,
        data: &[u8],
        max: i64,
    ) -> Result<Option<String>> {
        let case_id = case_id.as_str();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_attachments WHERE case_id = $1")
            .bind(case_id)
            .fetch_one(self.conn())
            .await?;
        if n >= max {
            return Ok(None);
        }
        let id = crate::new_id();
        let now = self.now().to_owned();
        let (sealed_name, sealed) = (
            CASE_ATTACHMENT_NAME.seal(&self.store.cipher, &id, name),
            CASE_ATTACHMENT.seal(&self.store.cipher, &id, data),
        );
        sqlx::query(
            "INSERT INTO case_attachments (id, case_id, at, user_id, username, kind, size, name, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(case_id)
        .bind(now)
        .bind(by.user_id.unwrap_or_default())
        .bind(by.username)
        .bind(kind)
        .bind(data.len() as i64)
        .bind(sealed_name)
        .bind(sealed)
        .execute(self.conn())
        .await?;
        Ok(Some(id))
    }
}
