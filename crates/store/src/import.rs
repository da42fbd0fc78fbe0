//! Storage side of spreadsheet imports: finding the children a sheet's rows already describe, and
//! writing a checked import in one transaction (all rows or none).

use std::collections::HashMap;

use sqlx::Row;

use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::Actor;
use shouwang_domain::child::ChildFile;
use shouwang_domain::history::{self, FieldChange};
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::lifecycle::ChildStatus;
use shouwang_domain::person::PersonName;
use shouwang_domain::region::RegionCode;

use crate::audit;
use crate::children::insert_import_history;
use crate::db::Params;
use crate::rooms::ImportsRoom;
use crate::{Result, StoreError};

/// What identifies a sheet row's child: the ID number, else name + birth date + village.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchKey {
    pub id_number: Option<IdNumber>,
    pub name: PersonName,
    pub birth_date: chrono::NaiveDate,
    pub village_code: RegionCode,
}

/// A stored child a row matched.
#[derive(Debug, Clone)]
pub enum Matched {
    /// Inside the user's jurisdiction: the file as stored, to update.
    Inside {
        id: String,
        version: i64,
        status: ChildStatus,
        file: Box<ChildFile>,
    },
    /// Registered elsewhere; nothing about it is shown.
    Elsewhere,
}

/// A checked update: the child, the version the preview saw, the new file and what changes.
#[derive(Debug, Clone)]
pub struct ImportUpdate {
    pub child_id: String,
    pub version: i64,
    pub file: ChildFile,
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
}

/// Rows per multi-row statement.
const BATCH: usize = 400;

impl ImportsRoom<'_> {
    /// For each key, the stored child it names, if any. ID numbers are looked up by their keyed
    /// hash anywhere (a child registered in another county is reported, not shown); name + birth
    /// date + village only inside the jurisdiction.
    pub async fn match_children(
        &self,
        actor: &Actor,
        keys: &[MatchKey],
    ) -> Result<Vec<Option<Matched>>> {
        let mut conn = self.pool.acquire().await?;
        let mut found: Vec<Option<String>> = vec![None; keys.len()];
        let mut elsewhere = vec![false; keys.len()];
        // By ID number.
        let hashed: Vec<(usize, String)> = keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                k.id_number
                    .as_ref()
                    .map(|n| (i, self.cipher.blind_index(n.as_str())))
            })
            .collect();
        for chunk in hashed.chunks(BATCH) {
            let sql = format!(
                "SELECT id, id_hash, village_code FROM children WHERE id_hash IN ({})",
                Params::new(self.backend).list(chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for (_, h) in chunk {
                q = q.bind(h.clone());
            }
            let mut by_hash: HashMap<String, (String, i64)> = HashMap::new();
            for r in q.fetch_all(&mut *conn).await? {
                by_hash.insert(
                    r.try_get("id_hash")?,
                    (r.try_get("id")?, r.try_get("village_code")?),
                );
            }
            for (i, h) in chunk {
                if let Some((id, village)) = by_hash.get(h) {
                    if actor.covers(&village_code(*village)?) {
                        found[*i] = Some(id.clone());
                    } else {
                        elsewhere[*i] = true;
                    }
                }
            }
        }
        // By name + birth date + village, for rows the ID did not place. A row with an ID number
        // can only be a child stored without one (the same number was looked up above, and two
        // different numbers are two children), so it reads the small index of those; a row
        // without a number may be anyone of that name.
        let (with_id, without_id): (Vec<usize>, Vec<usize>) = (0..keys.len())
            .filter(|i| found[*i].is_none() && !elsewhere[*i])
            .partition(|i| keys[*i].id_number.is_some());
        for (rows, filter) in [(with_id, " AND id_hash IS NULL"), (without_id, "")] {
            for chunk in rows.chunks(BATCH) {
                let sql = format!(
                    "SELECT id, name, birth_date, village_code, id_hash FROM children WHERE name IN ({}){filter}",
                    Params::new(self.backend).list(chunk.len())
                );
                let mut q = sqlx::query(&sql);
                for i in chunk {
                    q = q.bind(keys[*i].name.as_str().to_owned());
                }
                let mut index: HashMap<(String, String, i64), (String, Option<String>)> =
                    HashMap::new();
                for r in q.fetch_all(&mut *conn).await? {
                    index.insert(
                        (
                            r.try_get("name")?,
                            r.try_get("birth_date")?,
                            r.try_get("village_code")?,
                        ),
                        (r.try_get("id")?, r.try_get("id_hash")?),
                    );
                }
                for i in chunk {
                    let k = &keys[*i];
                    let key = (
                        k.name.as_str().to_owned(),
                        k.birth_date.to_string(),
                        crate::regions::code_range(&k.village_code).0,
                    );
                    if let Some((id, stored_hash)) = index.get(&key) {
                        // Two different ID numbers are two children, whatever their names.
                        let differs = match (&k.id_number, stored_hash) {
                            (Some(n), Some(h)) => self.cipher.blind_index(n.as_str()) != *h,
                            _ => false,
                        };
                        if !differs && actor.covers(&k.village_code) {
                            found[*i] = Some(id.clone());
                        }
                    }
                }
            }
        }
        // The matched files, read a batch at a time.
        let wanted: Vec<&str> = found.iter().flatten().map(String::as_str).collect();
        let mut stored = HashMap::with_capacity(wanted.len());
        for chunk in wanted.chunks(BATCH) {
            for row in crate::children::load_many(&mut conn, self, chunk).await? {
                stored.insert(row.id.to_string(), row);
            }
        }
        let mut out = Vec::with_capacity(keys.len());
        for (i, id) in found.into_iter().enumerate() {
            out.push(match id {
                Some(id) => {
                    let row = stored.get(&id).cloned().ok_or(StoreError::NotFound)?;
                    Some(Matched::Inside {
                        id: row.id.into_string(),
                        version: row.version,
                        status: row.status,
                        file: Box::new(row.file),
                    })
                }
                None if elsewhere[i] => Some(Matched::Elsewhere),
                None => None,
            });
        }
        Ok(out)
    }

    /// Writes an import: new children and updates, in one transaction with their history and one
    /// audit event. The use case has checked the user may and that every file is in their area. Refused whole if a new child's ID number was registered meanwhile or an
    /// updated child was edited since the preview.
    pub async fn import_children(
        &self,
        actor: &Actor,
        source: &str,
        import_id: &str,
        creates: &[(&ChildFile, &[FieldChange])],
        updates: &[&ImportUpdate],
    ) -> Result<ImportCounts> {
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        // A new child's ID number registered since the preview refuses the whole import.
        let hashes: Vec<String> = creates
            .iter()
            .filter_map(|(f, _)| f.id_number.as_ref())
            .map(|n| self.cipher.blind_index(n.as_str()))
            .collect();
        for chunk in hashes.chunks(BATCH) {
            let sql = format!(
                "SELECT COUNT(*) FROM children WHERE id_hash IN ({})",
                Params::new(self.backend).list(chunk.len())
            );
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            for h in chunk {
                q = q.bind(h.clone());
            }
            if q.fetch_one(&mut *tx).await? > 0 {
                return Err(StoreError::Conflict {
                    field: Some("id_number".into()),
                    message: "预览之后有儿童以相同身份证号码登记，请重新预览后再导入".into(),
                });
            }
        }
        let set_aside = self.set_aside_indexes(&mut tx, creates.len()).await?;
        // Each batch is written while the next one is hashed, compressed and encrypted on a
        // blocking thread: the database works on a thread of its own (SQLite) or in its own
        // process (PostgreSQL), so the two overlap.
        let prepare = |chunk: &[(&ChildFile, &[FieldChange])]| {
            let rows: Vec<(String, ChildFile, Vec<FieldChange>)> = chunk
                .iter()
                .map(|(f, filled)| (crate::new_id(), (*f).clone(), filled.to_vec()))
                .collect();
            let cipher = self.cipher.clone();
            tokio::task::spawn_blocking(move || {
                let refs: Vec<(String, &ChildFile)> =
                    rows.iter().map(|(id, f, _)| (id.clone(), f)).collect();
                // A new file's first entry: what the file's fills stated for it (the rest is
                // the sheet's, named by the import's audit event).
                let history: Vec<(String, i64, Vec<FieldChange>)> = rows
                    .iter()
                    .map(|(id, _, filled)| (id.clone(), 1, filled.clone()))
                    .collect();
                (crate::summary::prepare(&cipher, &refs), history)
            })
        };
        let mut chunks = creates.chunks(BATCH);
        let mut next = chunks.next().map(prepare);
        while let Some(preparing) = next.take() {
            let (prepared, history) = preparing
                .await
                .map_err(|e| StoreError::Config(format!("preparing an import batch: {e}")))?;
            next = chunks.next().map(prepare);
            crate::summary::insert_prepared(&mut tx, self.backend, prepared, &now).await?;
            insert_import_history(
                &mut tx,
                self.backend,
                &self.cipher,
                &history,
                &now,
                actor,
                import_id,
            )
            .await?;
        }
        for sql in &set_aside {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        for chunk in updates.chunks(BATCH) {
            for u in chunk {
                let saved = crate::summary::update(
                    &mut tx,
                    &self.cipher,
                    &u.child_id,
                    &u.file,
                    u.version,
                    &now,
                )
                .await?;
                if !saved {
                    return Err(StoreError::Conflict {
                        field: Some("version".into()),
                        message: format!(
                            "儿童{}的档案在预览之后被他人修改，请重新预览后再导入",
                            u.file.name.as_str()
                        ),
                    });
                }
            }
            let history: Vec<(String, i64, Vec<FieldChange>)> = chunk
                .iter()
                .map(|u| (u.child_id.clone(), u.version + 1, u.changes.clone()))
                .collect();
            insert_import_history(
                &mut tx,
                self.backend,
                &self.cipher,
                &history,
                &now,
                actor,
                import_id,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            &self.cipher,
            &now,
            actor.into(),
            AuditAction::ChildImport,
            "import",
            None,
            Some(actor.region.as_str()),
            serde_json::json!({
                "source": source,
                "import": import_id,
                "created": creates.len(),
                "updated": updates.len(),
            }),
        )
        .await?;
        tx.commit().await?;
        if creates.len() > 1000 {
            self.bulk().analyze().await?;
        }
        Ok(ImportCounts {
            created: creates.len(),
            updated: updates.len(),
        })
    }
}

/// New children from which a SQLite import sets the roster's indexes aside (see below).
const REBUILD_MIN: usize = 10_000;

impl ImportsRoom<'_> {
    /// For a large import into SQLite that grows the children table by a quarter or more, drops
    /// the children's secondary indexes (returning their definitions) so the rows go in without
    /// keeping ten randomly ordered indexes up to date, row by row; they are rebuilt, sorted, in
    /// the same transaction. Readers keep their snapshot meanwhile (WAL), and a failed import rolls
    /// the drop back with everything else. (200,000 rows into an empty registry: about 6 s of
    /// index upkeep against 1.5 s to rebuild; 300,000 into a province's million: the write took
    /// 40–45 s keeping the indexes, 36–38 s rebuilding them, about 12 s of it the rebuild.)
    /// PostgreSQL is left alone: dropping an index there blocks the table's readers.
    async fn set_aside_indexes(
        &self,
        tx: &mut sqlx::AnyConnection,
        creates: usize,
    ) -> Result<Vec<String>> {
        if self.backend != crate::Backend::Sqlite || creates < REBUILD_MIN {
            return Ok(Vec::new());
        }
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM children")
            .fetch_one(&mut *tx)
            .await?;
        if (creates as i64) * 4 < existing {
            return Ok(Vec::new());
        }
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'children' AND sql IS NOT NULL ORDER BY name",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (name, _) in &indexes {
            sqlx::query(&format!("DROP INDEX \"{name}\""))
                .execute(&mut *tx)
                .await?;
        }
        Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
    }

    /// Saves a sheet's column mapping (an import's, or a 三方比对 list's) for the user's
    /// jurisdiction, replacing an earlier one for the same header.
    pub async fn save_import_mapping(
        &self,
        actor: &Actor,
        signature: &str,
        choices: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        let json = serde_json::to_string(choices).expect("serialisable");
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM import_mappings WHERE region_code = $1 AND signature = $2")
            .bind(actor.region.as_str())
            .bind(signature)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO import_mappings (region_code, signature, choices, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(actor.region.as_str())
        .bind(signature)
        .bind(json)
        .bind(&actor.username)
        .bind(self.now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The mapping saved for this header in the user's jurisdiction or the nearest one above it
    /// (a county's saved mapping serves its towns and villages).
    pub async fn import_mapping(
        &self,
        actor: &Actor,
        signature: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>> {
        let mut region = Some(actor.region.clone());
        while let Some(r) = region {
            let found: Option<String> = sqlx::query_scalar(
                "SELECT choices FROM import_mappings WHERE region_code = $1 AND signature = $2",
            )
            .bind(r.as_str())
            .bind(signature)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(json) = found {
                return Ok(serde_json::from_str(&json).ok());
            }
            region = r.parent();
        }
        Ok(None)
    }
}

/// The changes an import row makes to a stored file (ID numbers masked).
pub fn changes(old: &ChildFile, new: &ChildFile) -> Vec<FieldChange> {
    // Most rows of a roster imported again are the files as stored: no field to compare.
    if old == new {
        return Vec::new();
    }
    history::diff(old, new)
}

fn village_code(v: i64) -> Result<RegionCode> {
    RegionCode::parse(&format!("{v:012}"))
        .map_err(|e| StoreError::Config(format!("stored village code {v}: {e}")))
}
