//! The counts the triggers keep (`roster_rollup`, `roster_cube`: migrations 0022 and 0023; the
//! cube made again with the files' `reported` in 0037 and `populations` in 0047, the country added to the roll-up in 0039),
//! set aside for a bulk load and rebuilt in one pass after it: a demo or benchmark of millions of
//! children loads at the speed of plain inserts, not of twelve upserts per child.

use sqlx::Executor;

use crate::Result;
use crate::db::Backend;
use crate::rooms::KeptRoom;

const ROLLUP_SQLITE: &str = include_str!("../migrations/0022_roster_rollup.sqlite.sql");
const NATIONAL_SQLITE: &str = include_str!("../migrations/0039_national_rollup.sqlite.sql");
const CUBE_SQLITE: &str = include_str!("../migrations/0047_populations.sqlite.sql");
const ROLLUP_PG: &str = include_str!("../migrations/0022_roster_rollup.postgres.sql");
const NATIONAL_PG: &str = include_str!("../migrations/0039_national_rollup.postgres.sql");
const CUBE_PG: &str = include_str!("../migrations/0047_populations.postgres.sql");

const SQLITE_TRIGGERS: [&str; 8] = [
    "children_rollup_insert",
    "children_rollup_delete",
    "children_rollup_update_old",
    "children_rollup_update_new",
    "children_cube_insert",
    "children_cube_delete",
    "children_cube_update_old",
    "children_cube_update_new",
];
const PG_TRIGGERS: [&str; 6] = [
    "children_rollup_insert",
    "children_rollup_delete",
    "children_rollup_update",
    "children_cube_insert",
    "children_cube_delete",
    "children_cube_update",
];

/// The statements of a migration file (separated by lines "--;").
fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split("\n--;\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl KeptRoom<'_> {
    /// Stops keeping the counts (for a bulk load that nothing else writes during). Call
    /// [`Store::rebuild_kept_counts`] after it.
    pub async fn set_kept_counts_aside(&self) -> Result<()> {
        match self.backend() {
            Backend::Sqlite => {
                for t in SQLITE_TRIGGERS {
                    self.pool
                        .execute(format!("DROP TRIGGER IF EXISTS {t}").as_str())
                        .await?;
                }
            }
            Backend::Postgres => {
                for t in PG_TRIGGERS {
                    self.pool
                        .execute(format!("ALTER TABLE children DISABLE TRIGGER {t}").as_str())
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Counts everything again from the files and keeps the counts from here on (the migrations'
    /// own statements: the same triggers, the same one-pass fill).
    pub async fn rebuild_kept_counts(&self) -> Result<()> {
        if self.backend() == Backend::Sqlite {
            // Whatever was left of them goes, so that each is made once below.
            self.set_kept_counts_aside().await?;
        }
        let mut tx = self.pool.begin().await?;
        tx.execute("DELETE FROM roster_rollup").await?;
        tx.execute("DELETE FROM roster_cube").await?;
        match self.backend() {
            Backend::Sqlite => {
                // The fills in order (the areas, the country summed from the provinces, the
                // cube), then the triggers as the latest migration made them; the tables and
                // the indexes stayed.
                for sql in [ROLLUP_SQLITE, NATIONAL_SQLITE, CUBE_SQLITE] {
                    for s in statements(sql) {
                        if s.starts_with("INSERT INTO roster_") {
                            tx.execute(s).await?;
                        }
                    }
                }
                for sql in [NATIONAL_SQLITE, CUBE_SQLITE] {
                    for s in statements(sql) {
                        if s.starts_with("CREATE TRIGGER children_") {
                            tx.execute(s).await?;
                        }
                    }
                }
            }
            Backend::Postgres => {
                for sql in [ROLLUP_PG, NATIONAL_PG, CUBE_PG] {
                    for s in statements(sql) {
                        if s.starts_with("INSERT INTO roster_") {
                            tx.execute(s).await?;
                        }
                    }
                }
                for t in PG_TRIGGERS {
                    tx.execute(format!("ALTER TABLE children ENABLE TRIGGER {t}").as_str())
                        .await?;
                }
            }
        }
        tx.commit().await?;
        // A bulk load leaves the planners with the statistics of a smaller table (a town's page
        // was planned on a whole-table index: 93 ms on PostgreSQL, 116 ms on SQLite at a million
        // children, until the statistics were gathered).
        match self.backend() {
            Backend::Sqlite => {
                // Statistics from a sample of each index (a full ANALYZE of seven million
                // children reads every entry of every index: 30 s).
                let mut conn = self.pool.acquire().await?;
                conn.execute("PRAGMA analysis_limit = 2000").await?;
                conn.execute("ANALYZE").await?
            }
            Backend::Postgres => {
                // VACUUM too: the roster's covering index answers without the table only for
                // pages the visibility map marks all-visible, which a fresh load has none of.
                for t in ["children", "roster_rollup", "roster_cube"] {
                    self.pool
                        .execute(format!("VACUUM (ANALYZE) {t}").as_str())
                        .await?;
                }
                Default::default()
            }
        };
        Ok(())
    }
}

impl KeptRoom<'_> {
    /// At start-up: if a bulk load stopped before it rebuilt the counts (its triggers missing or
    /// disabled), rebuild them now, so that the counts are never silently stale.
    pub(crate) async fn ensure_kept_counts(&self) -> Result<()> {
        let whole = match self.backend() {
            Backend::Sqlite => {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' \
                     AND (name LIKE 'children_rollup_%' OR name LIKE 'children_cube_%')",
                )
                .fetch_one(&self.pool)
                .await?;
                n == SQLITE_TRIGGERS.len() as i64
            }
            Backend::Postgres => {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE 'children_%' \
                     AND tgenabled = 'D'",
                )
                .fetch_one(&self.pool)
                .await?;
                n == 0
            }
        };
        if !whole {
            self.rebuild_kept_counts().await?;
        }
        Ok(())
    }
}
