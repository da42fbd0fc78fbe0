//! A case's evidence: sealed attachments.

use super::*;

const ATTACHMENT_AAD: &str = "case_attachments.data";
const ATTACHMENT_NAME_AAD: &str = "case_attachments.name";

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

impl Store {
    /// A case's evidence, oldest first.
    pub async fn attachments(&self, case_id: &str) -> Result<Vec<Attachment>> {
        let rows = sqlx::query(
            "SELECT id, at, user_id, username, kind, size, name FROM case_attachments WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                Ok(Attachment {
                    name: self.cipher.open_str(
                        ATTACHMENT_NAME_AAD,
                        &id,
                        &r.try_get::<String, _>(6)?,
                    )?,
                    id,
                    at: r.try_get(1)?,
                    user_id: r.try_get(2)?,
                    username: r.try_get(3)?,
                    kind: r.try_get(4)?,
                    size: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// One attachment of a case with its bytes.
    pub async fn attachment(
        &self,
        case_id: &str,
        id: &str,
    ) -> Result<Option<(Attachment, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT id, at, user_id, username, kind, size, name, data FROM case_attachments WHERE case_id = $1 AND id = $2",
        )
        .bind(case_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let data = self
            .cipher
            .open(ATTACHMENT_AAD, id, &r.try_get::<String, _>(7)?)?;
        Ok(Some((
            Attachment {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                user_id: r.try_get(2)?,
                username: r.try_get(3)?,
                kind: r.try_get(4)?,
                size: r.try_get(5)?,
                name: self
                    .cipher
                    .open_str(ATTACHMENT_NAME_AAD, id, &r.try_get::<String, _>(6)?)?,
            },
            data,
        )))
    }
}

impl Tx {
    /// Stores a piece of evidence, sealed; refused past `max` on the case (counted inside the
    /// transaction, so parallel uploads cannot pass it).
    pub async fn add_attachment(
        &mut self,
        case_id: &str,
        by: &By<'_>,
        kind: &str,
        name: &str,
        data: &[u8],
        max: i64,
    ) -> Result<Option<String>> {
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
            self.store.cipher.seal_str(ATTACHMENT_NAME_AAD, &id, name),
            self.store.cipher.seal(ATTACHMENT_AAD, &id, data),
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
