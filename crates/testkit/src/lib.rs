//! Test set-up shared by the integration tests of `app`, `web` and `cli`: a fresh database per
//! test (a temporary SQLite file, or a new PostgreSQL database when `SHOUWANG_TEST_PG` names a
//! server), and the store itself for arranging what a test needs (regions, users) or checking
//! what only the database shows (the audit chain, the outbox).
//!
//! Each fresh database is a copy of a template migrated once per schema (keyed by
//! [`store::schema_fingerprint`]): a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on
//! PostgreSQL. Forty-odd migrations run once, not once per test.
//!
//! The web crate does not depend on the store; its tests reach it here, as an operator's tools
//! would, while everything the tests assert goes through HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use shouwang_store as store;

use sqlx::Connection;

/// A fresh, migrated database: a file `test.db` in `dir`, or a new PostgreSQL database on the
/// server `SHOUWANG_TEST_PG` names.
pub async fn fresh_db(dir: &Path) -> String {
    match std::env::var("SHOUWANG_TEST_PG") {
        Ok(server) if !server.is_empty() => fresh_postgres(&server).await,
        _ => {
            let path = dir.join("test.db");
            std::fs::copy(sqlite_template().await, &path).expect("template copied");
            path.to_string_lossy().into_owned()
        }
    }
}

/// Opens a database with throwaway keys and a fixed clock, which migrates it, and closes it.
async fn migrate(db: &str) {
    let clock = Arc::new(shouwang_domain::clock::FixedClock::on(
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date"),
    ));
    let store = store::Store::open(db, store::IdCipher::new([1; 32], [2; 32]), clock)
        .await
        .expect("template migrated");
    store.close().await;
}

/// The SQLite template for this schema, made if missing. Parallel test processes may each make
/// one; each is written under its own name and renamed into place whole, so a test copies a
/// finished template or none.
async fn sqlite_template() -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "shouwang-test-template-{}.db",
        store::schema_fingerprint()
    ));
    if path.exists() {
        return path;
    }
    let building = path.with_extension(format!(
        "{}.{}.building",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ));
    let building_text = building.to_string_lossy().into_owned();
    migrate(&building_text).await;
    // One self-contained file (no write-ahead log beside it) to copy.
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("sqlite:{building_text}"))
        .await
        .expect("template reopened");
    sqlx::query("PRAGMA journal_mode=DELETE")
        .execute(&mut conn)
        .await
        .expect("template checkpointed");
    conn.close().await.expect("template closed");
    std::fs::rename(&building, &path).expect("template in place");
    path
}

/// A new PostgreSQL database copied from this schema's template, which the first test to need it
/// makes under an advisory lock (the others wait for it).
async fn fresh_postgres(server: &str) -> String {
    sqlx::any::install_default_drivers();
    let template = format!("t_template_{}", store::schema_fingerprint());
    let mut admin = sqlx::AnyConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL reachable");
    if !template_exists(&mut admin, &template).await {
        sqlx::query("SELECT pg_advisory_lock(872201)")
            .execute(&mut admin)
            .await
            .expect("lock taken");
        if !template_exists(&mut admin, &template).await {
            let building = format!("t_building_{}", uuid::Uuid::now_v7().simple());
            sqlx::query(&format!("CREATE DATABASE {building}"))
                .execute(&mut admin)
                .await
                .expect("template database created");
            migrate(&format!("{server}/{building}")).await;
            // The store's connections are closed; their server processes may take a moment to go.
            let mut tries = 0;
            while let Err(e) =
                sqlx::query(&format!("ALTER DATABASE {building} RENAME TO {template}"))
                    .execute(&mut admin)
                    .await
            {
                tries += 1;
                assert!(tries < 50, "template not renamed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            sqlx::query(&format!(
                "ALTER DATABASE {template} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
            ))
            .execute(&mut admin)
            .await
            .expect("template marked");
        }
        sqlx::query("SELECT pg_advisory_unlock(872201)")
            .execute(&mut admin)
            .await
            .expect("lock released");
    }
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut admin)
        .await
        .expect("database created from the template");
    format!("{server}/{name}")
}

/// Whether the finished template is there.
async fn template_exists(admin: &mut sqlx::AnyConnection, template: &str) -> bool {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM pg_database WHERE datname = $1 AND datistemplate",
    )
    .bind(template)
    .fetch_one(admin)
    .await
    .expect("catalogue readable")
        > 0
}

/// The store on `db`, opened with `cipher` and `clock`, with 龙里县 (522730) and its towns and
/// villages loaded: where most tests begin.
pub async fn county_store(
    db: &str,
    cipher: store::IdCipher,
    clock: Arc<dyn shouwang_domain::clock::Clock>,
) -> store::Store {
    let store = store::Store::open(db, cipher, clock)
        .await
        .expect("store opens");
    store
        .regions()
        .init_region(&shouwang_domain::region::RegionCode::parse("522730").expect("a county"))
        .await
        .expect("county loaded");
    store
}

/// Adds a user (display name = username, a test password) and returns them as the actor the use
/// cases take.
pub async fn actor(
    store: &store::Store,
    username: &str,
    display_name: &str,
    role: shouwang_domain::authz::Role,
    region: &str,
) -> shouwang_domain::authz::Actor {
    store
        .users()
        .add_user(store::users::NewUser {
            username: username.into(),
            display_name: display_name.into(),
            password: "correct-horse-battery".into(),
            role,
            region: shouwang_domain::region::RegionCode::parse(region).expect("a region code"),
            agency: None,
        })
        .await
        .expect("user added");
    store
        .users()
        .actor_by_username(username)
        .await
        .expect("read back")
        .expect("the user just added")
}
