//! Connection and migrations. One list of migrations; where the dialects differ a migration holds
//! both texts.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) async fn connect(db: &str) -> Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let (url, backend) = if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        (db.to_owned(), Backend::Postgres)
    } else {
        let path = db.strip_prefix("sqlite://").unwrap_or(db);
        if path.is_empty() {
            return Err(StoreError::Config("数据库路径为空".into()));
        }
        (format!("sqlite://{path}?mode=rwc"), Backend::Sqlite)
    };
    let options = AnyConnectOptions::from_str(&url)?;
    let pool = AnyPoolOptions::new()
        .max_connections(match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // rust-stack P3: WAL, a busy timeout, NORMAL sync, foreign keys on. Nothing here
                    // may need the write lock: a connection opened while another holds a write
                    // transaction would wait for it (`PRAGMA optimize`, which may write statistics,
                    // runs once in `migrate` instead).
                    conn.execute(
                        "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; \
                         PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
                    )
                    .await?;
                } else {
                    // One statement serves a town (a few hundred files) and a province (a million):
                    // a generic plan, which PostgreSQL settles on after five runs of a prepared
                    // statement, fits one of them badly. Plan each run for its own parameters.
                    conn.execute("SET plan_cache_mode = force_custom_plan")
                        .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok((pool, backend))
}

/// A schema change: the SQL for both dialects (the same text unless they differ).
struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

/// PostgreSQL compares text byte-wise only with the C collation; SQLite's default BINARY
/// collation already does, so the DDL is written once and `COLLATE "C"` is dropped for SQLite.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: include_str!("../migrations/0001_foundation.sql"),
        postgres: include_str!("../migrations/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        sqlite: include_str!("../migrations/0002_import_mappings.sql"),
        postgres: include_str!("../migrations/0002_import_mappings.sql"),
    },
    Migration {
        version: 3,
        sqlite: include_str!("../migrations/0003_reconcile.sql"),
        postgres: include_str!("../migrations/0003_reconcile.sql"),
    },
    Migration {
        version: 4,
        sqlite: include_str!("../migrations/0004_incomplete.sql"),
        postgres: include_str!("../migrations/0004_incomplete.sql"),
    },
    Migration {
        version: 5,
        sqlite: include_str!("../migrations/0005_jobs.sql"),
        postgres: include_str!("../migrations/0005_jobs.sql"),
    },
    Migration {
        version: 6,
        sqlite: include_str!("../migrations/0006_audit_chain_v2.sql"),
        postgres: include_str!("../migrations/0006_audit_chain_v2.sql"),
    },
    Migration {
        version: 7,
        sqlite: include_str!("../migrations/0007_login_attempts.sql"),
        postgres: include_str!("../migrations/0007_login_attempts.sql"),
    },
    Migration {
        version: 8,
        sqlite: include_str!("../migrations/0008_session_idle.sql"),
        postgres: include_str!("../migrations/0008_session_idle.sql"),
    },
    Migration {
        version: 9,
        sqlite: include_str!("../migrations/0009_password_change.sql"),
        postgres: include_str!("../migrations/0009_password_change.sql"),
    },
    Migration {
        version: 10,
        sqlite: include_str!("../migrations/0010_second_factor.sql"),
        postgres: include_str!("../migrations/0010_second_factor.sql"),
    },
    Migration {
        version: 11,
        sqlite: include_str!("../migrations/0011_retention.sql"),
        postgres: include_str!("../migrations/0011_retention.sql"),
    },
    Migration {
        version: 12,
        sqlite: include_str!("../migrations/0012_protection.sql"),
        postgres: include_str!("../migrations/0012_protection.sql"),
    },
    Migration {
        version: 13,
        sqlite: include_str!("../migrations/0013_notifications.sql"),
        postgres: include_str!("../migrations/0013_notifications.sql"),
    },
    Migration {
        version: 14,
        sqlite: include_str!("../migrations/0014_case_attachments.sql"),
        postgres: include_str!("../migrations/0014_case_attachments.sql"),
    },
    Migration {
        version: 15,
        sqlite: include_str!("../migrations/0015_assessments.sql"),
        postgres: include_str!("../migrations/0015_assessments.sql"),
    },
    Migration {
        version: 16,
        sqlite: include_str!("../migrations/0016_referrals.sql"),
        postgres: include_str!("../migrations/0016_referrals.sql"),
    },
    Migration {
        version: 17,
        sqlite: include_str!("../migrations/0017_placements.sql"),
        postgres: include_str!("../migrations/0017_placements.sql"),
    },
    Migration {
        version: 18,
        sqlite: include_str!("../migrations/0018_interventions.sql"),
        postgres: include_str!("../migrations/0018_interventions.sql"),
    },
    Migration {
        version: 19,
        sqlite: include_str!("../migrations/0019_visits.sql"),
        postgres: include_str!("../migrations/0019_visits.sql"),
    },
    Migration {
        version: 20,
        sqlite: include_str!("../migrations/0020_quarterly.sql"),
        postgres: include_str!("../migrations/0020_quarterly.sql"),
    },
    Migration {
        version: 21,
        sqlite: include_str!("../migrations/0021_index_fixes.sql"),
        postgres: include_str!("../migrations/0021_index_fixes.sql"),
    },
    Migration {
        version: 22,
        sqlite: include_str!("../migrations/0022_roster_rollup.sqlite.sql"),
        postgres: include_str!("../migrations/0022_roster_rollup.postgres.sql"),
    },
    Migration {
        version: 23,
        sqlite: include_str!("../migrations/0023_roster_cube.sqlite.sql"),
        postgres: include_str!("../migrations/0023_roster_cube.postgres.sql"),
    },
    Migration {
        version: 24,
        sqlite: include_str!("../migrations/0024_unreported_index.sql"),
        postgres: include_str!("../migrations/0024_unreported_index.sql"),
    },
    Migration {
        version: 25,
        sqlite: include_str!("../migrations/0025_return_items.sql"),
        postgres: include_str!("../migrations/0025_return_items.sql"),
    },
    Migration {
        version: 26,
        sqlite: include_str!("../migrations/0026_attendance.sql"),
        postgres: include_str!("../migrations/0026_attendance.sql"),
    },
    Migration {
        version: 27,
        sqlite: include_str!("../migrations/0027_carer_checks.sql"),
        postgres: include_str!("../migrations/0027_carer_checks.sql"),
    },
    Migration {
        version: 28,
        sqlite: include_str!("../migrations/0028_one_open_return.sql"),
        postgres: include_str!("../migrations/0028_one_open_return.sql"),
    },
    Migration {
        version: 29,
        sqlite: include_str!("../migrations/0029_routings.sql"),
        postgres: include_str!("../migrations/0029_routings.sql"),
    },
    Migration {
        version: 30,
        sqlite: include_str!("../migrations/0030_return_without_school.sqlite.sql"),
        postgres: include_str!("../migrations/0030_return_without_school.postgres.sql"),
    },
    Migration {
        version: 31,
        sqlite: include_str!("../migrations/0031_agreements.sql"),
        postgres: include_str!("../migrations/0031_agreements.sql"),
    },
    Migration {
        version: 32,
        sqlite: include_str!("../migrations/0032_county_settings.sql"),
        postgres: include_str!("../migrations/0032_county_settings.sql"),
    },
    Migration {
        version: 33,
        sqlite: include_str!("../migrations/0033_visit_assignments.sql"),
        postgres: include_str!("../migrations/0033_visit_assignments.sql"),
    },
    Migration {
        version: 34,
        sqlite: include_str!("../migrations/0034_visit_photos.sql"),
        postgres: include_str!("../migrations/0034_visit_photos.sql"),
    },
    Migration {
        version: 35,
        sqlite: include_str!("../migrations/0035_search_indexes.sql"),
        postgres: include_str!("../migrations/0035_search_indexes.sql"),
    },
    Migration {
        version: 36,
        sqlite: include_str!("../migrations/0036_verified.sqlite.sql"),
        postgres: include_str!("../migrations/0036_verified.postgres.sql"),
    },
    Migration {
        version: 37,
        sqlite: include_str!("../migrations/0037_unreported_kept.sqlite.sql"),
        postgres: include_str!("../migrations/0037_unreported_kept.postgres.sql"),
    },
    Migration {
        version: 38,
        sqlite: include_str!("../migrations/0038_area_indexes.sql"),
        postgres: include_str!("../migrations/0038_area_indexes.sql"),
    },
    Migration {
        version: 39,
        sqlite: include_str!("../migrations/0039_national_rollup.sqlite.sql"),
        postgres: include_str!("../migrations/0039_national_rollup.postgres.sql"),
    },
    Migration {
        version: 40,
        sqlite: include_str!("../migrations/0040_retention_indexes.sql"),
        postgres: include_str!("../migrations/0040_retention_indexes.sql"),
    },
    Migration {
        version: 41,
        sqlite: include_str!("../migrations/0041_hardening.sql"),
        postgres: include_str!("../migrations/0041_hardening.sql"),
    },
    Migration {
        version: 42,
        sqlite: include_str!("../migrations/0042_children_without_id.sql"),
        postgres: include_str!("../migrations/0042_children_without_id.sql"),
    },
    Migration {
        version: 43,
        sqlite: include_str!("../migrations/0043_report_signatures.sql"),
        postgres: include_str!("../migrations/0043_report_signatures.sql"),
    },
    Migration {
        version: 44,
        sqlite: include_str!("../migrations/0044_import_rows.sql"),
        postgres: include_str!("../migrations/0044_import_rows.sql"),
    },
    Migration {
        version: 45,
        sqlite: include_str!("../migrations/0045_reconcile_withdraw.sql"),
        postgres: include_str!("../migrations/0045_reconcile_withdraw.sql"),
    },
    Migration {
        version: 46,
        sqlite: include_str!("../migrations/0046_unreported_parent_incapable.sql"),
        postgres: include_str!("../migrations/0046_unreported_parent_incapable.sql"),
    },
    Migration {
        version: 47,
        sqlite: include_str!("../migrations/0047_populations.sqlite.sql"),
        postgres: include_str!("../migrations/0047_populations.postgres.sql"),
    },
    Migration {
        version: 48,
        sqlite: include_str!("../migrations/0048_elders.sql"),
        postgres: include_str!("../migrations/0048_elders.sql"),
    },
    Migration {
        version: 49,
        sqlite: include_str!("../migrations/0049_elder_exit.sql"),
        postgres: include_str!("../migrations/0049_elder_exit.sql"),
    },
    Migration {
        version: 50,
        sqlite: include_str!("../migrations/0050_quarterly_elders.sql"),
        postgres: include_str!("../migrations/0050_quarterly_elders.sql"),
    },
];

/// A fingerprint of the schema this program migrates to (every migration's text): a template
/// database made by one build serves only tests of a build with the same migrations.
pub fn schema_fingerprint() -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for m in MIGRATIONS {
        h.update(m.version.to_le_bytes());
        h.update(m.sqlite.as_bytes());
        h.update([0]);
        h.update(m.postgres.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// The newest migration this program knows.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<()> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .await?;
    for m in MIGRATIONS {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(pool)
                .await?;
        if applied.is_some() {
            continue;
        }
        let sql = match backend {
            Backend::Sqlite => m.sqlite.replace(" COLLATE \"C\"", ""),
            Backend::Postgres => m.postgres.to_owned(),
        };
        let mut tx = pool.begin().await?;
        // Statements end with ";" at a line's end, or — in a file holding triggers and
        // functions, whose bodies have their own — with a line "--;".
        let separator = if sql.contains("\n--;\n") {
            "\n--;\n"
        } else {
            ";\n"
        };
        for statement in sql
            .split(separator)
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            tx.execute(statement).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(m.version)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    if backend == Backend::Sqlite {
        // Statistics for the planner where they are missing or stale (cheap, bounded).
        pool.execute("PRAGMA optimize=0x10002").await?;
    }
    Ok(())
}

/// Placeholders for a statement whose values are bound in the order they appear: `$1, $2, …` for
/// PostgreSQL, anonymous `?` for SQLite. sqlx asks SQLite for the name of every numbered
/// parameter, a scan over all of the statement's names, so a 400-row insert written with `$n`
/// spent most of its time there; anonymous parameters have no names to scan.
pub(crate) struct Params {
    backend: Backend,
    bound: usize,
}

impl Params {
    pub(crate) fn new(backend: Backend) -> Params {
        Params { backend, bound: 0 }
    }

    /// The next placeholder.
    pub(crate) fn one(&mut self) -> String {
        self.bound += 1;
        match self.backend {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${}", self.bound),
        }
    }

    /// `n` placeholders separated by commas.
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }

    /// `rows` parenthesised groups of `per_row` placeholders, for a multi-row VALUES clause.
    pub(crate) fn rows(&mut self, rows: usize, per_row: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(per_row)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_binding_order() {
        let mut pg = Params::new(Backend::Postgres);
        assert_eq!(pg.rows(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(pg.list(2), "$5, $6");
        let mut lite = Params::new(Backend::Sqlite);
        assert_eq!(lite.rows(2, 2), "(?, ?), (?, ?)");
        assert_eq!(lite.one(), "?");
    }
}
