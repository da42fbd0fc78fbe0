//! Test set-up shared by the integration tests of `web` and `cli`: a fresh database per test (a
//! temporary SQLite file, or a new PostgreSQL database when `SHOUWANG_TEST_PG` names a server),
//! and the store itself for arranging what a test needs (regions, users) or checking what only
//! the database shows (the audit chain, the outbox).
//!
//! The web crate does not depend on the store; its tests reach it here, as an operator's tools
//! would, while everything the tests assert goes through HTTP.

pub use shouwang_store as store;

/// A fresh database: a file `test.db` in `dir`, or a new PostgreSQL database on the server
/// `SHOUWANG_TEST_PG` names.
pub async fn fresh_db(dir: &std::path::Path) -> String {
    match std::env::var("SHOUWANG_TEST_PG") {
        Ok(server) if !server.is_empty() => {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let name = format!("t_{}", uuid::Uuid::now_v7().simple());
            let mut admin = sqlx::AnyConnection::connect(&format!("{server}/postgres"))
                .await
                .expect("PostgreSQL reachable");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("database created");
            format!("{server}/{name}")
        }
        _ => dir.join("test.db").to_string_lossy().into_owned(),
    }
}
