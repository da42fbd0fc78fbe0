//! Bulk loading of already-validated files (the demo, benchmarks): the CPU work — ids, summary
//! rows, sealed files and history entries — is [`Store::prepare_children`], callable on any thread
//! while the database writes the previous batch; [`Store::insert_prepared`] writes one batch in
//! one transaction with one audit event. A load of millions runs between
//! [`Store::begin_bulk_load`] and [`Store::finish_bulk_load`]: the kept counts and the secondary
//! indexes of the child tables are set aside and made again once, in one pass each, which is
//! what loads a country in minutes rather than an hour.

use sqlx::Executor;

use shouwang_domain::audit::AuditAction;
use shouwang_domain::child::ChildFile;

use crate::audit::{self, Who};
use crate::db::{Backend, Params};
use crate::rooms::BulkRoom;
use crate::summary::CHILD_HISTORY;
use crate::summary::NewChild;
use crate::{Result, StoreError};

/// Rows per INSERT statement (17 parameters each: well under SQLite's 32,766 limit).
const BATCH: usize = 400;

/// The tables whose secondary indexes a bulk load sets aside.
const LOADED_TABLES: [&str; 4] = ["children", "child_docs", "child_history", "child_agencies"];

/// Where the indexes set aside are remembered until they are made again (a load that stopped
/// half-way gets them back when the database is next opened).
const SET_ASIDE_KEY: &str = "bulk_load_indexes";

/// Files ready to be written: the CPU work of a batch, done before its transaction.
pub struct PreparedChildren {
    rows: Vec<NewChild>,
    /// (history id, child id, sealed changes) — a new file's first entry.
    history: Vec<(String, String, String)>,
    /// (child id, agency id).
    links: Vec<(String, String)>,
}

impl PreparedChildren {
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// The new children's ids, in the order of the files.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(NewChild::id)
    }
}

impl BulkRoom<'_> {
    /// Refreshes the query planner's statistics on the children table.
    pub async fn analyze(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Sqlite {
            // Statistics from a sample of each index, as SQLite advises for large tables: a full
            // ANALYZE of a million children reads every index entry.
            sqlx::query("PRAGMA analysis_limit = 2000")
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("ANALYZE children").execute(&mut *conn).await?;
        Ok(())
    }

    /// The CPU work of writing `files` as new active children (ids, summary rows, sealed files,
    /// first history entries), with the agency each is linked to. No I/O: call it on a blocking
    /// thread while the database writes the previous batch. The caller has validated the files
    /// (they are `ChildFile`s, so parsed) and checked jurisdiction.
    pub fn prepare_children(
        &self,
        files: &[ChildFile],
        agency_for: &[Option<String>],
    ) -> PreparedChildren {
        let ids: Vec<String> = files.iter().map(|_| crate::new_id()).collect();
        let refs: Vec<(String, &ChildFile)> = ids.iter().cloned().zip(files).collect();
        let rows = crate::summary::prepare(&self.cipher, &refs);
        let history = ids
            .iter()
            .map(|child| {
                let id = crate::new_id();
                let sealed = CHILD_HISTORY.seal(&self.cipher, &id, &[]);
                (id, child.clone(), sealed)
            })
            .collect();
        let links = ids
            .iter()
            .zip(agency_for)
            .filter_map(|(c, a)| a.as_ref().map(|a| (c.clone(), a.clone())))
            .collect();
        PreparedChildren {
            rows,
            history,
            links,
        }
    }

    /// Writes a prepared batch in one transaction: its rows, history entries and agency links,
    /// in statements of a few hundred rows, and one audit event. On PostgreSQL several batches
    /// may be written at once ([`Store::bulk_writers`]).
    pub async fn insert_prepared(&self, who: Who<'_>, batch: PreparedChildren) -> Result<usize> {
        let n = batch.rows.len();
        if n == 0 {
            return Ok(0);
        }
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        // SQLite has one writer: the head is taken first, which takes the write lock at once.
        // PostgreSQL writes several batches at once and takes the head only for the audit event
        // at the end (new rows lock nothing another batch needs, so this cannot deadlock).
        if self.backend == Backend::Sqlite {
            audit::lock_head(&mut tx).await?;
        }
        let mut rows = batch.rows;
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(BATCH));
            crate::summary::insert_prepared(&mut tx, self.backend, rows, &now).await?;
            rows = rest;
        }
        for chunk in batch.history.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO child_history (id, child_id, version, at, user_id, username, kind, changes) VALUES {}",
                Params::new(self.backend).rows(chunk.len(), 8)
            );
            let mut q = sqlx::query(&sql);
            for (id, child, sealed) in chunk {
                q = q
                    .bind(id.clone())
                    .bind(child.clone())
                    .bind(1_i64)
                    .bind(now.clone())
                    .bind(who.user_id.unwrap_or("system").to_owned())
                    .bind(who.username.to_owned())
                    .bind("import")
                    .bind(sealed.clone());
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in batch.links.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO child_agencies (child_id, agency_id) VALUES {}",
                Params::new(self.backend).rows(chunk.len(), 2)
            );
            let mut q = sqlx::query(&sql);
            for (c, a) in chunk {
                q = q.bind(c.clone()).bind(a.clone());
            }
            q.execute(&mut *tx).await?;
        }
        if self.backend == Backend::Postgres {
            audit::lock_head(&mut tx).await?;
        }
        audit::record(
            &mut tx,
            &self.cipher,
            &now,
            Who {
                user_id: who.user_id,
                username: who.username,
            },
            AuditAction::ChildBulkInsert,
            "child",
            None,
            None,
            serde_json::json!({"count": n}),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// How many batches a bulk load should write at once: one on SQLite (one writer), two on
    /// PostgreSQL (a server process each).
    pub fn bulk_writers(&self) -> usize {
        match self.backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        }
    }

    /// Inserts files as new active children (prepared here, then written) and refreshes the
    /// planner's statistics. Returns their ids in order.
    pub async fn bulk_insert_children(
        &self,
        who: Who<'_>,
        files: &[ChildFile],
        agency_for: &[Option<String>],
    ) -> Result<Vec<String>> {
        let batch = self.prepare_children(files, agency_for);
        let ids = batch.ids().map(str::to_owned).collect();
        self.insert_prepared(who, batch).await?;
        self.analyze().await?;
        Ok(ids)
    }

    /// Before a load of many files that nothing else writes during: the kept counts stop being
    /// kept and the child tables' secondary indexes are dropped (remembered in the database, so a
    /// load that stops half-way gets them back at the next open). Call
    /// [`Store::finish_bulk_load`] after it.
    pub async fn begin_bulk_load(&self) -> Result<()> {
        self.kept().set_kept_counts_aside().await?;
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let mut kept: Vec<String> = remembered(&mut tx).await?.unwrap_or_default();
        for (name, sql) in secondary_indexes(&mut tx, self.backend).await? {
            tx.execute(format!("DROP INDEX \"{name}\"").as_str())
                .await?;
            kept.push(sql);
        }
        crate::settings::set(
            &mut tx,
            SET_ASIDE_KEY,
            &serde_json::to_string(&kept).expect("serialisable"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// After a bulk load: the indexes set aside made again, the kept counts rebuilt from the rows
    /// in one pass, the planner's statistics refreshed (by the rebuild).
    pub async fn finish_bulk_load(&self) -> Result<()> {
        restore_indexes(&self.pool).await?;
        self.kept().rebuild_kept_counts().await
    }
}

/// The indexes a bulk load set aside, if one did and did not finish.
async fn remembered(conn: &mut sqlx::AnyConnection) -> Result<Option<Vec<String>>> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT value FROM store_settings WHERE key = $1")
            .bind(SET_ASIDE_KEY)
            .fetch_optional(&mut *conn)
            .await?;
    match stored.as_deref() {
        None | Some("") | Some("[]") => Ok(None),
        Some(s) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| StoreError::Config(format!("{SET_ASIDE_KEY}: {e}"))),
    }
}

/// Makes again the indexes a bulk load set aside (the end of a load, or the next open after one
/// that stopped half-way). Each statement is the one the migrations wrote; each index is made in
/// a transaction of its own that holds the audit head and reads the list again, so two processes
/// doing this at once (or one beginning a load meanwhile) neither lose an index nor make one
/// twice.
pub(crate) async fn restore_indexes(pool: &sqlx::AnyPool) -> Result<()> {
    loop {
        let mut tx = pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let Some(mut sqls) = remembered(&mut tx).await? else {
            return Ok(());
        };
        if sqls.is_empty() {
            return Ok(());
        }
        let sql = sqls.remove(0);
        tx.execute(if_not_exists(&sql).as_str()).await?;
        crate::settings::set(
            &mut tx,
            SET_ASIDE_KEY,
            &serde_json::to_string(&sqls).expect("serialisable"),
        )
        .await?;
        tx.commit().await?;
    }
}

/// `CREATE [UNIQUE] INDEX name …` as `CREATE [UNIQUE] INDEX IF NOT EXISTS name …` (both
/// databases accept it): an index some migration or process made meanwhile is left alone.
fn if_not_exists(sql: &str) -> String {
    for head in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = sql.strip_prefix(head)
            && !rest.starts_with("IF NOT EXISTS")
        {
            return format!("{head}IF NOT EXISTS {rest}");
        }
    }
    sql.to_owned()
}

/// Whether the store's own settings table exists yet (not on a database never migrated).
pub(crate) async fn settings_exist(pool: &sqlx::AnyPool, backend: Backend) -> Result<bool> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'store_settings'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_name = 'store_settings'"
        }
    };
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
    Ok(n > 0)
}

/// The child tables' indexes that no constraint needs: (name, the statement that makes it).
async fn secondary_indexes(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> Result<Vec<(String, String)>> {
    let tables = LOADED_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    // Not the indexes that back a constraint (they have no statement of their own in SQLite), nor
    // a unique index: what guards a rule stays while the rows go in.
    let sql = match backend {
        Backend::Sqlite => format!(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({tables}) \
             AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE %' ORDER BY tbl_name, name"
        ),
        Backend::Postgres => format!(
            "SELECT i.indexname::text, i.indexdef::text FROM pg_indexes i \
             JOIN pg_class c ON c.relname = i.indexname \
             AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
             JOIN pg_index x ON x.indexrelid = c.oid \
             WHERE i.schemaname = current_schema() AND i.tablename IN ({tables}) \
             AND NOT x.indisunique AND NOT x.indisprimary \
             ORDER BY i.tablename, i.indexname"
        ),
    };
    Ok(sqlx::query_as(&sql).fetch_all(&mut *conn).await?)
}
