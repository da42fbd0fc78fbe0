//! Bulk loading of already-validated files (demo data, later imports): multi-row inserts in
//! batches, one transaction per batch, one audit event per batch.

use shouwang_domain::child::ChildFile;

use crate::audit::{self, Who};
use crate::{Result, Store};

/// Rows per INSERT statement (17 parameters each: well under SQLite's 32,766 limit).
const BATCH: usize = 400;

impl Store {
    /// Refreshes the query planner's statistics on the children table.
    pub async fn analyze(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        if self.backend == crate::Backend::Sqlite {
            // Statistics from a sample of each index, as SQLite advises for large tables: a full
            // ANALYZE of a million children reads every index entry.
            sqlx::query("PRAGMA analysis_limit = 2000")
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("ANALYZE children").execute(&mut *conn).await?;
        Ok(())
    }

    /// Inserts files as new active children. Returns their ids in order. The caller has validated
    /// the files (they are `ChildFile`s, so parsed) and checked jurisdiction.
    pub async fn bulk_insert_children(
        &self,
        who: Who<'_>,
        files: &[ChildFile],
        agency_for: &[Option<String>],
    ) -> Result<Vec<String>> {
        let mut ids = Vec::with_capacity(files.len());
        for (chunk_no, chunk) in files.chunks(BATCH).enumerate() {
            let now = self.now_text();
            let chunk_ids: Vec<String> = chunk.iter().map(|_| crate::new_id()).collect();
            let mut tx = self.pool.begin().await?;
            audit::lock_head(&mut tx).await?;
            let rows: Vec<(String, &ChildFile)> = chunk_ids.iter().cloned().zip(chunk).collect();
            crate::summary::insert(&mut tx, self.backend, &self.cipher, &rows, &now).await?;
            let history: Vec<_> = chunk_ids
                .iter()
                .map(|id| (id.clone(), 1, Vec::new()))
                .collect();
            crate::children::insert_history_rows(
                &mut tx,
                self.backend,
                &self.cipher,
                &history,
                &now,
                Who {
                    user_id: who.user_id,
                    username: who.username,
                },
                "import",
            )
            .await?;
            let links: Vec<(&String, &String)> = chunk_ids
                .iter()
                .zip(
                    &agency_for
                        [chunk_no * BATCH..(chunk_no * BATCH + chunk.len()).min(agency_for.len())],
                )
                .filter_map(|(id, a)| a.as_ref().map(|a| (id, a)))
                .collect();
            if !links.is_empty() {
                let lsql = format!(
                    "INSERT INTO child_agencies (child_id, agency_id) VALUES {}",
                    crate::db::Params::new(self.backend).rows(links.len(), 2)
                );
                let mut lq = sqlx::query(&lsql);
                for (c, a) in &links {
                    lq = lq.bind((*c).clone()).bind((*a).clone());
                }
                lq.execute(&mut *tx).await?;
            }
            audit::record(
                &mut tx,
                &self.cipher,
                &now,
                Who {
                    user_id: who.user_id,
                    username: who.username,
                },
                "child_bulk_insert",
                "child",
                None,
                None,
                serde_json::json!({"count": chunk.len()}),
            )
            .await?;
            tx.commit().await?;
            ids.extend(chunk_ids);
        }
        // Fresh statistics, so the planners pick the name index for searches and the roster index
        // for town pages rather than guessing.
        self.analyze().await?;
        Ok(ids)
    }
}
