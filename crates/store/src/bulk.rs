//! Bulk loading of already-validated files (demo data, later imports): multi-row inserts in
//! batches, one transaction per batch, one audit event per batch.

use shouwang_domain::child::ChildFile;
use shouwang_domain::eligibility;
use shouwang_domain::id_number::IdNumber;

use crate::audit::{self, Who};
use crate::regions::code_range;
use crate::{Result, Store};

/// Rows per INSERT statement (17 parameters each: well under SQLite's 32,766 limit).
const BATCH: usize = 400;

impl Store {
    /// Refreshes the query planner's statistics on the children table.
    pub async fn analyze(&self) -> Result<()> {
        sqlx::query("ANALYZE children").execute(&self.pool).await?;
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
            let mut sql = String::from(
                "INSERT INTO children (id, village_code, name, name_pinyin, name_initials, sex, birth_date, id_hash, id_masked, \
                 status, qualifies, guardianship_type, schooling, flags, version, created_at, updated_at) VALUES ",
            );
            let mut dsql = String::from("INSERT INTO child_docs (child_id, doc) VALUES ");
            for i in 0..chunk.len() {
                let b = i * 14;
                if i > 0 {
                    sql.push(',');
                    dsql.push(',');
                }
                // id, village, name, pinyin, initials, sex, birth, id_hash, id_masked, 'active',
                // qualifies, guardianship_type, schooling, flags, 1, created_at, updated_at
                let p: Vec<String> = (1..=14).map(|k| format!("${}", b + k)).collect();
                sql.push_str(&format!(
                    "({}, 'active', {}, 1, {}, {})",
                    p[..9].join(", "),
                    p[9..13].join(", "),
                    p[13],
                    p[13]
                ));
                dsql.push_str(&format!("(${}, ${})", i * 2 + 1, i * 2 + 2));
            }
            let mut dq = sqlx::query(&dsql);
            let mut q = sqlx::query(&sql);
            for (id, f) in chunk_ids.iter().zip(chunk) {
                let (pinyin, initials) = f.name_pinyin();
                q = q
                    .bind(id.clone())
                    .bind(code_range(&f.village_code).0)
                    .bind(f.name.as_str().to_owned())
                    .bind(pinyin)
                    .bind(initials)
                    .bind(f.sex.label())
                    .bind(f.birth_date.to_string())
                    .bind(
                        f.id_number
                            .as_ref()
                            .map(|i| self.cipher.blind_index(i.as_str())),
                    )
                    .bind(f.id_number.as_ref().map(IdNumber::masked))
                    .bind(i64::from(eligibility::qualifies_except_age(f)))
                    .bind(f.guardianship_type.code())
                    .bind(f.schooling.code())
                    .bind(eligibility::flag_mask(&eligibility::key_target_flags(f)))
                    .bind(now.clone());
                dq = dq.bind(id.clone()).bind(self.encrypt_doc(f));
            }
            let mut tx = self.pool.begin().await?;
            audit::lock_head(&mut tx).await?;
            q.execute(&mut *tx).await?;
            dq.execute(&mut *tx).await?;
            let mut hsql = String::from(
                "INSERT INTO child_history (id, child_id, version, at, user_id, username, kind, changes) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 5;
                if i > 0 {
                    hsql.push(',');
                }
                hsql.push_str(&format!(
                    "(${}, ${}, 1, ${}, ${}, ${}, 'import', '[]')",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                ));
            }
            let mut hq = sqlx::query(&hsql);
            for id in &chunk_ids {
                hq = hq
                    .bind(crate::new_id())
                    .bind(id.clone())
                    .bind(now.clone())
                    .bind(who.user_id.unwrap_or("system").to_owned())
                    .bind(who.username.to_owned());
            }
            hq.execute(&mut *tx).await?;
            let links: Vec<(&String, &String)> = chunk_ids
                .iter()
                .zip(
                    &agency_for
                        [chunk_no * BATCH..(chunk_no * BATCH + chunk.len()).min(agency_for.len())],
                )
                .filter_map(|(id, a)| a.as_ref().map(|a| (id, a)))
                .collect();
            if !links.is_empty() {
                let mut lsql =
                    String::from("INSERT INTO child_agencies (child_id, agency_id) VALUES ");
                for i in 0..links.len() {
                    if i > 0 {
                        lsql.push(',');
                    }
                    lsql.push_str(&format!("(${}, ${})", i * 2 + 1, i * 2 + 2));
                }
                let mut lq = sqlx::query(&lsql);
                for (c, a) in &links {
                    lq = lq.bind((*c).clone()).bind((*a).clone());
                }
                lq.execute(&mut *tx).await?;
            }
            audit::record(
                &mut tx,
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
