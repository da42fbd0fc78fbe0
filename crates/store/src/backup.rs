//! Backups: a consistent snapshot of the whole database while the server runs, in one file with a
//! manifest (when, which schema, how many rows in each table, the audit log's head) and the
//! payload's checksum; checked before anything is restored from it.
//!
//! - SQLite: `VACUUM INTO` a new file — a read transaction, so writers carry on; the copy is
//!   compact and whole.
//! - PostgreSQL: `pg_dump --format=custom` of a snapshot exported from a repeatable-read
//!   transaction, the counts taken in that same transaction (so the manifest describes exactly
//!   what the dump holds); restored with `pg_restore` into an empty database.
//!
//! The file is a zip (stored, not compressed: sealed values do not compress) holding
//! `manifest.json` and `database.sqlite` or `database.pgdump`. A backup holds no key: sealed
//! values stay sealed, and the keys are exported apart (`KeyFile::export_sealed`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};

use crate::db::{self, Backend};
use crate::{Result, StoreError};

/// What a backup file says of itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub schema_version: i64,
    /// Rows per table, as the snapshot holds them.
    pub tables: BTreeMap<String, i64>,
    pub audit_seq: i64,
    pub audit_hash: String,
    pub payload: Payload,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Payload {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

const FORMAT: &str = "shouwang-backup/1";
const MANIFEST: &str = "manifest.json";
const SQLITE_PAYLOAD: &str = "database.sqlite";
const PG_PAYLOAD: &str = "database.pgdump";

fn io(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Config(format!("{what}：{e}"))
}

fn damaged(why: impl std::fmt::Display) -> StoreError {
    StoreError::Config(format!("备份文件不完整或已损坏：{why}"))
}

/// The schema version this program writes (its newest migration).
pub fn schema_version_supported() -> i64 {
    db::latest_version()
}

/// Makes a backup of `db` at `out` (which must not exist). Written beside it first and renamed
/// when whole, so a file at `out` is always a complete backup.
pub async fn create(db: &str, out: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<Manifest> {
    if out.exists() {
        return Err(StoreError::Config(format!(
            "{} 已存在：备份不覆盖已有文件",
            out.display()
        )));
    }
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let work = tempfile::Builder::new()
        .prefix(".shouwang-backup-")
        .tempdir_in(&dir)
        .map_err(|e| io("无法在备份目录中建立临时目录", e))?;
    let (pool, backend) = db::connect(db).await?;
    let (payload_name, payload_path, facts) = match backend {
        Backend::Sqlite => {
            let copy = work.path().join(SQLITE_PAYLOAD);
            sqlx::query("VACUUM INTO $1")
                .bind(copy.to_string_lossy().into_owned())
                .execute(&pool)
                .await?;
            pool.close().await;
            // The counts are read from the copy itself: the manifest describes the file.
            let facts = sqlite_facts(&copy).await?;
            (SQLITE_PAYLOAD, copy, facts)
        }
        Backend::Postgres => {
            let dump = work.path().join(PG_PAYLOAD);
            let mut conn = pool.acquire().await?;
            sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *conn)
                .await?;
            let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
                .fetch_one(&mut *conn)
                .await?;
            let facts = facts_of(&mut conn, Backend::Postgres).await?;
            let (url, password) = split_password(db);
            let dump_path = dump.clone();
            let status = tokio::task::spawn_blocking(move || {
                let mut cmd = std::process::Command::new("pg_dump");
                cmd.arg("--format=custom")
                    .arg("--no-owner")
                    .arg("--no-privileges")
                    .arg(format!("--snapshot={snapshot}"))
                    .arg(format!("--file={}", dump_path.display()))
                    .arg(format!("--dbname={url}"));
                if let Some(p) = password {
                    cmd.env("PGPASSWORD", p);
                }
                cmd.output()
            })
            .await
            .map_err(|e| io("pg_dump", e))?
            .map_err(|e| io("无法运行 pg_dump（请安装 PostgreSQL 客户端）", e))?;
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            drop(conn);
            pool.close().await;
            if !status.status.success() {
                return Err(io(
                    "pg_dump 失败",
                    String::from_utf8_lossy(&status.stderr).trim(),
                ));
            }
            (PG_PAYLOAD, dump, facts)
        }
    };
    let (bytes, sha256) = digest(&payload_path)?;
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        backend: match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .into(),
        schema_version: facts.schema_version,
        tables: facts.tables,
        audit_seq: facts.audit_seq,
        audit_hash: facts.audit_hash,
        payload: Payload {
            name: payload_name.into(),
            bytes,
            sha256,
        },
    };
    let partial = work.path().join("backup.partial");
    {
        let file = std::fs::File::create(&partial).map_err(|e| io("无法写入备份", e))?;
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        zip.start_file(MANIFEST, stored)
            .map_err(|e| io("无法写入备份", e))?;
        zip.write_all(
            serde_json::to_string_pretty(&manifest)
                .expect("a manifest serialises")
                .as_bytes(),
        )
        .map_err(|e| io("无法写入备份", e))?;
        zip.start_file(payload_name, stored)
            .map_err(|e| io("无法写入备份", e))?;
        let mut src = std::fs::File::open(&payload_path).map_err(|e| io("无法读取快照", e))?;
        std::io::copy(&mut src, &mut zip).map_err(|e| io("无法写入备份", e))?;
        let mut inner = zip.finish().map_err(|e| io("无法写入备份", e))?;
        inner.flush().map_err(|e| io("无法写入备份", e))?;
        inner
            .get_ref()
            .sync_all()
            .map_err(|e| io("无法写入备份", e))?;
    }
    std::fs::rename(&partial, out).map_err(|e| io("无法写入备份", e))?;
    Ok(manifest)
}

/// What a snapshot holds, for its manifest (and to check a restore against).
struct Facts {
    schema_version: i64,
    tables: BTreeMap<String, i64>,
    audit_seq: i64,
    audit_hash: String,
}

async fn sqlite_facts(path: &Path) -> Result<Facts> {
    sqlx::any::install_default_drivers();
    let mut conn =
        sqlx::AnyConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await?;
    let facts = facts_of(&mut conn, Backend::Sqlite).await;
    let _ = conn.close().await;
    facts
}

async fn facts_of(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<Facts> {
    let names: Vec<String> = sqlx::query_scalar(match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        }
    })
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = BTreeMap::new();
    for name in names {
        // Names come from the catalogue and are checked, never from input.
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {name}"))
            .fetch_one(&mut *conn)
            .await?;
        tables.insert(name, n);
    }
    let schema_version: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .fetch_one(&mut *conn)
            .await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Facts {
        schema_version,
        tables,
        audit_seq: head.try_get("seq")?,
        audit_hash: head.try_get("hash")?,
    })
}

fn digest(path: &Path) -> Result<(u64, String)> {
    let mut file = std::fs::File::open(path).map_err(|e| io("无法读取快照", e))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let read = file.read(&mut buf).map_err(|e| io("无法读取快照", e))?;
        if read == 0 {
            break;
        }
        hash.update(&buf[..read]);
        n += read as u64;
    }
    Ok((n, hex::encode(hash.finalize())))
}

/// A PostgreSQL URL without its password, and the password (given to the tools by environment,
/// never on a command line others may read).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_owned(), None);
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return (url.to_owned(), None);
    };
    let creds = &rest[..at];
    match creds.split_once(':') {
        Some((user, password)) => (
            format!("{}{user}@{}", &url[..scheme_end + 3], &rest[at + 1..]),
            Some(password.to_owned()),
        ),
        None => (url.to_owned(), None),
    }
}

/// Checks a backup file: a zip holding a manifest of this format and its payload, the payload's
/// size and checksum as the manifest says; a SQLite payload opened and checked page by page
/// (`integrity_check`) and counted table by table against the manifest; a PostgreSQL dump listed
/// by `pg_restore`. Returns the manifest.
pub async fn verify(file: &Path) -> Result<Manifest> {
    let work = tempfile::tempdir().map_err(|e| io("无法建立临时目录", e))?;
    let (manifest, payload) = unpack(file, work.path())?;
    match manifest.backend.as_str() {
        "sqlite" => {
            let facts = sqlite_facts(&payload).await.map_err(damaged)?;
            sqlx::any::install_default_drivers();
            let mut conn =
                sqlx::AnyConnection::connect(&format!("sqlite://{}?mode=ro", payload.display()))
                    .await
                    .map_err(damaged)?;
            let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&mut conn)
                .await
                .map_err(damaged)?;
            let _ = conn.close().await;
            if check != "ok" {
                return Err(damaged(format!("数据库页校验失败（{check}）")));
            }
            if facts.tables != manifest.tables
                || facts.schema_version != manifest.schema_version
                || facts.audit_seq != manifest.audit_seq
                || facts.audit_hash != manifest.audit_hash
            {
                return Err(damaged("数据库内容与清单不符"));
            }
        }
        "postgres" => {
            let out = std::process::Command::new("pg_restore")
                .arg("--list")
                .arg(&payload)
                .output()
                .map_err(|e| io("无法运行 pg_restore（请安装 PostgreSQL 客户端）", e))?;
            if !out.status.success() {
                return Err(damaged(String::from_utf8_lossy(&out.stderr).trim()));
            }
        }
        other => return Err(damaged(format!("未知的数据库类型“{other}”"))),
    }
    Ok(manifest)
}

/// Reads the manifest and extracts the payload into `dir`, checking its size and checksum.
fn unpack(file: &Path, dir: &Path) -> Result<(Manifest, PathBuf)> {
    let f =
        std::fs::File::open(file).map_err(|e| io(&format!("无法打开 {}", file.display()), e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(damaged)?;
    let manifest: Manifest = {
        let mut entry = zip
            .by_name(MANIFEST)
            .map_err(|_| damaged("没有清单（manifest.json），不是守望的备份文件"))?;
        let mut text = String::new();
        entry
            .by_ref()
            .take(1 << 20)
            .read_to_string(&mut text)
            .map_err(damaged)?;
        serde_json::from_str(&text).map_err(|e| damaged(format!("清单无法读取：{e}")))?
    };
    if manifest.format != FORMAT {
        return Err(damaged(format!(
            "格式“{}”不是本程序能读的",
            manifest.format
        )));
    }
    if !matches!(manifest.payload.name.as_str(), SQLITE_PAYLOAD | PG_PAYLOAD) {
        return Err(damaged("清单中的数据文件名不正确"));
    }
    let path = dir.join(&manifest.payload.name);
    let mut entry = zip
        .by_name(&manifest.payload.name)
        .map_err(|_| damaged("缺少数据库文件"))?;
    // Written stored, never compressed: what it unpacks to is no larger than the file itself,
    // whatever the manifest declares (a crafted backup must not fill the disk).
    if entry.compression() != zip::CompressionMethod::Stored
        || entry.size() != manifest.payload.bytes
        || entry.compressed_size() != entry.size()
    {
        return Err(damaged("数据库文件的存放方式或大小与清单不符"));
    }
    let mut out = std::fs::File::create(&path).map_err(|e| io("无法解出备份", e))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let read = entry.read(&mut buf).map_err(damaged)?;
        if read == 0 {
            break;
        }
        n += read as u64;
        // Never more than the manifest says: a crafted entry does not fill the disk.
        if n > manifest.payload.bytes {
            return Err(damaged("数据库文件比清单所记的大"));
        }
        hash.update(&buf[..read]);
        out.write_all(&buf[..read])
            .map_err(|e| io("无法解出备份", e))?;
    }
    out.sync_all().map_err(|e| io("无法解出备份", e))?;
    if n != manifest.payload.bytes || hex::encode(hash.finalize()) != manifest.payload.sha256 {
        return Err(damaged("数据库文件的大小或校验和与清单不符"));
    }
    Ok((manifest, path))
}

/// Whether `db` holds no database yet (a SQLite path with no file, or a PostgreSQL database with
/// no table): nothing to open with a key, and a place a backup may be restored into.
pub async fn is_empty(db: &str) -> Result<bool> {
    let postgres = db.starts_with("postgres://") || db.starts_with("postgresql://");
    if !postgres {
        let path = db.strip_prefix("sqlite://").unwrap_or(db);
        return Ok(!Path::new(path).exists());
    }
    let (pool, _) = db::connect(db).await?;
    let tables: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()")
            .fetch_one(&pool)
            .await?;
    pool.close().await;
    Ok(tables == 0)
}

/// Restores a checked backup into `db`: a SQLite path where no database is yet, or an empty
/// PostgreSQL database. Refuses a damaged or partial file, a backup of a newer schema than this
/// program knows, and a target that holds data.
pub async fn restore(file: &Path, db: &str) -> Result<Manifest> {
    let manifest = verify(file).await?;
    if manifest.schema_version > schema_version_supported() {
        return Err(StoreError::Config(format!(
            "备份来自更新的版本（数据库结构 {}，本程序只到 {}）：请用新版本恢复",
            manifest.schema_version,
            schema_version_supported()
        )));
    }
    let postgres = db.starts_with("postgres://") || db.starts_with("postgresql://");
    match (manifest.backend.as_str(), postgres) {
        ("sqlite", false) => {
            let target = PathBuf::from(db.strip_prefix("sqlite://").unwrap_or(db));
            for p in [
                target.clone(),
                PathBuf::from(format!("{}-wal", target.display())),
            ] {
                if p.exists() {
                    return Err(StoreError::Config(format!(
                        "{} 已存在：恢复只写入新的数据库，不覆盖已有的",
                        p.display()
                    )));
                }
            }
            let dir = target
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            let work = tempfile::Builder::new()
                .prefix(".shouwang-restore-")
                .tempdir_in(&dir)
                .map_err(|e| io("无法在目标目录中建立临时目录", e))?;
            let (_, payload) = unpack(file, work.path())?;
            std::fs::rename(&payload, &target).map_err(|e| io("无法写入数据库", e))?;
        }
        ("postgres", true) => {
            let (pool, _) = db::connect(db).await?;
            let tables: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
            )
            .fetch_one(&pool)
            .await?;
            pool.close().await;
            if tables > 0 {
                return Err(StoreError::Config(
                    "目标数据库不是空的：恢复只写入新建的空数据库".into(),
                ));
            }
            let work = tempfile::tempdir().map_err(|e| io("无法建立临时目录", e))?;
            let (_, payload) = unpack(file, work.path())?;
            let (url, password) = split_password(db);
            let out = tokio::task::spawn_blocking(move || {
                let mut cmd = std::process::Command::new("pg_restore");
                cmd.arg("--no-owner")
                    .arg("--no-privileges")
                    .arg("--exit-on-error")
                    .arg("--single-transaction")
                    .arg(format!("--dbname={url}"))
                    .arg(&payload);
                if let Some(p) = password {
                    cmd.env("PGPASSWORD", p);
                }
                cmd.output()
            })
            .await
            .map_err(|e| io("pg_restore", e))?
            .map_err(|e| io("无法运行 pg_restore（请安装 PostgreSQL 客户端）", e))?;
            if !out.status.success() {
                return Err(io(
                    "pg_restore 失败",
                    String::from_utf8_lossy(&out.stderr).trim(),
                ));
            }
        }
        (kind, _) => {
            return Err(StoreError::Config(format!(
                "这是 {kind} 数据库的备份，不能恢复到{}",
                if postgres {
                    " PostgreSQL"
                } else {
                    " SQLite 文件"
                }
            )));
        }
    }
    // What was restored is what was backed up.
    let (pool, backend) = db::connect(db).await?;
    let mut conn = pool.acquire().await?;
    let facts = facts_of(&mut conn, backend).await?;
    drop(conn);
    pool.close().await;
    if facts.tables != manifest.tables || facts.audit_seq != manifest.audit_seq {
        return Err(StoreError::Config(
            "恢复后的数据与备份清单不符，请检查目标数据库".into(),
        ));
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://sw:secret@localhost:5432/shouwang"),
            (
                "postgres://sw@localhost:5432/shouwang".to_owned(),
                Some("secret".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://sw@localhost/db"),
            ("postgres://sw@localhost/db".to_owned(), None)
        );
    }
}
