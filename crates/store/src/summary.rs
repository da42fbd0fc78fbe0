//! The narrow, searchable row of a child, derived from the file: what the roster filters, sorts and
//! searches on. One definition serves registration, edits and bulk loads.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

use shouwang_domain::child::ChildFile;
use shouwang_domain::eligibility;
use shouwang_domain::history::FieldChange;
use shouwang_domain::id_number::{IdNumber, mask_id};

use crate::db::{Backend, Params};
use crate::regions::code_range;
use crate::sealed::{self, ChildDoc, Journal, Sealed};
use crate::{IdCipher, Result};

pub(crate) const CHILD_DOC: Sealed<ChildDoc> = sealed::listed("child_docs", "doc");
/// A history entry's changes (names, phones, health and parents' details are in them).
pub(crate) const CHILD_HISTORY: Sealed<Journal<shouwang_domain::history::FieldChange>> =
    sealed::listed("child_history", "changes");

/// Columns in bind order.
const COLUMNS: [&str; 15] = [
    "village_code",
    "name",
    "name_pinyin",
    "name_initials",
    "sex",
    "birth_date",
    "id_hash",
    "id_masked",
    "qualifies",
    "incomplete",
    "guardianship_type",
    "schooling",
    "flags",
    "summary_cells",
    "populations",
];

pub(crate) struct Summary {
    village: i64,
    name: String,
    pinyin: String,
    initials: String,
    sex: &'static str,
    birth: String,
    id_hash: Option<String>,
    id_masked: Option<String>,
    qualifies: i64,
    incomplete: i64,
    guardianship_type: &'static str,
    schooling: &'static str,
    flags: i64,
    summary_cells: String,
    populations: i64,
}

impl Summary {
    pub(crate) fn of(file: &ChildFile, cipher: &IdCipher) -> Summary {
        let (pinyin, initials) = file.name_pinyin();
        Summary {
            village: code_range(&file.village_code).0,
            name: file.name.as_str().to_owned(),
            pinyin,
            initials,
            sex: file.sex.label(),
            birth: file.birth_date.to_string(),
            id_hash: file
                .id_number
                .as_ref()
                .map(|i| cipher.blind_index(i.as_str())),
            id_masked: file.id_number.as_ref().map(IdNumber::masked),
            qualifies: i64::from(eligibility::qualifies_except_age(file)),
            incomplete: eligibility::completeness(file),
            // Blank (待补充) is stored as the empty text: no filter value matches it.
            guardianship_type: file.guardianship_type.map_or("", |g| g.code()),
            schooling: file.schooling.map_or("", |s| s.code()),
            flags: eligibility::flag_mask(&eligibility::key_target_flags(file)),
            summary_cells: shouwang_domain::summary_table::cells_code(file),
            populations: shouwang_domain::population::mask(file),
        }
    }

    fn bind<'q>(self, q: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>> {
        q.bind(self.village)
            .bind(self.name)
            .bind(self.pinyin)
            .bind(self.initials)
            .bind(self.sex)
            .bind(self.birth)
            .bind(self.id_hash)
            .bind(self.id_masked)
            .bind(self.qualifies)
            .bind(self.incomplete)
            .bind(self.guardianship_type)
            .bind(self.schooling)
            .bind(self.flags)
            .bind(self.summary_cells)
            .bind(self.populations)
    }
}

/// A new child's values, computed before writing: the summary row and the encrypted file.
pub(crate) struct NewChild {
    id: String,
    summary: Summary,
    doc: String,
}

impl NewChild {
    pub(crate) fn id(&self) -> &str {
        &self.id
    }
}

/// The hashing, compression and encryption a write needs, done apart from the write so a large
/// import can prepare the next batch while the database stores this one.
pub(crate) fn prepare(cipher: &IdCipher, rows: &[(String, &ChildFile)]) -> Vec<NewChild> {
    rows.iter()
        .map(|(id, file)| NewChild {
            id: id.clone(),
            summary: Summary::of(file, cipher),
            doc: CHILD_DOC.seal(cipher, id, file),
        })
        .collect()
}

/// Inserts new active children (summary row and encrypted file) in two multi-row statements.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    backend: Backend,
    cipher: &IdCipher,
    rows: &[(String, &ChildFile)],
    now: &str,
) -> Result<()> {
    insert_prepared(conn, backend, prepare(cipher, rows), now).await
}

pub(crate) async fn insert_prepared(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: Vec<NewChild>,
    now: &str,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    // id, the summary columns, status, version, created_at, updated_at.
    let per_row = COLUMNS.len() + 5;
    let sql = format!(
        "INSERT INTO children (id, {}, status, version, created_at, updated_at) VALUES {}",
        COLUMNS.join(", "),
        Params::new(backend).rows(rows.len(), per_row)
    );
    let docs = format!(
        "INSERT INTO child_docs (child_id, doc) VALUES {}",
        Params::new(backend).rows(rows.len(), 2)
    );
    let mut q = sqlx::query(&sql);
    let mut d = sqlx::query(&docs);
    for row in rows {
        q = row
            .summary
            .bind(q.bind(row.id.clone()))
            .bind("active")
            .bind(1_i64)
            .bind(now.to_owned())
            .bind(now.to_owned());
        d = d.bind(row.id).bind(row.doc);
    }
    q.execute(&mut *conn).await?;
    d.execute(&mut *conn).await?;
    Ok(())
}

/// Rewrites a child's summary row and file if the version is still `expected_version`; returns
/// false when someone else saved first.
pub(crate) async fn update(
    conn: &mut AnyConnection,
    cipher: &IdCipher,
    id: &str,
    file: &ChildFile,
    expected_version: i64,
    now: &str,
) -> Result<bool> {
    let sets: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    let n = COLUMNS.len();
    let sql = format!(
        "UPDATE children SET {}, version = version + 1, updated_at = ${} WHERE id = ${} AND version = ${}",
        sets.join(", "),
        n + 1,
        n + 2,
        n + 3
    );
    let done = Summary::of(file, cipher)
        .bind(sqlx::query(&sql))
        .bind(now)
        .bind(id)
        .bind(expected_version)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE child_docs SET doc = $1 WHERE child_id = $2")
        .bind(CHILD_DOC.seal(cipher, id, file))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Derives every file's summary row again when the domain's rules changed since the database was
/// last derived (`eligibility::DERIVATION_VERSION`): a rule change must not leave yesterday's
/// figures in the columns every list and count reads. Versions and history are not touched — the
/// files themselves did not change.
pub(crate) async fn rederive_if_rules_changed(
    pool: &sqlx::AnyPool,
    cipher: &IdCipher,
) -> Result<()> {
    const KEY: &str = "derivation_version";
    let current = eligibility::DERIVATION_VERSION.to_string();
    if crate::settings::is(pool, KEY, &current).await? {
        return Ok(());
    }
    let sets: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE children SET {} WHERE id = ${}",
        sets.join(", "),
        COLUMNS.len() + 1
    );
    let mut tx = pool.begin().await?;
    // A write first, so that a second process opening the database waits here for the first
    // (SQLite's write lock, PostgreSQL's row lock) and then finds the work done.
    crate::settings::set(&mut tx, "derivation_lock", &current).await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT value FROM store_settings WHERE key = $1")
            .bind(KEY)
            .fetch_optional(&mut *tx)
            .await?;
    if stored.as_deref() == Some(current.as_str()) {
        tx.commit().await?;
        return Ok(());
    }
    // Files a batch at a time, in key order.
    let mut after = String::new();
    let mut files = 0usize;
    loop {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT child_id, doc FROM child_docs WHERE child_id > $1 ORDER BY child_id LIMIT 500",
        )
        .bind(&after)
        .fetch_all(&mut *tx)
        .await?;
        let Some((last, _)) = rows.last() else { break };
        after = last.clone();
        files += rows.len();
        for (id, doc) in rows {
            let file = CHILD_DOC.open(cipher, &id, &doc)?;
            Summary::of(&file, cipher)
                .bind(sqlx::query(&sql))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    crate::settings::set(&mut tx, KEY, &current).await?;
    tx.commit().await?;
    if files > 0 {
        tracing::info!(files, version = %current, "summaries derived again");
    }
    Ok(())
}

/// Masks again the ID numbers that history entries written under an earlier mask still show (the
/// first mask kept the last four characters, which with the birth date give the number away). Runs
/// once per database, at open.
pub(crate) async fn remask_history(pool: &sqlx::AnyPool) -> Result<()> {
    const KEY: &str = "id_mask_version";
    const CURRENT: &str = "2";
    if crate::settings::is(pool, KEY, CURRENT).await? {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    crate::settings::set(&mut tx, KEY, CURRENT).await?;
    let mut after = String::new();
    let mut rewritten = 0usize;
    loop {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, changes FROM child_history WHERE id > $1 AND changes LIKE '%id_number%' \
             ORDER BY id LIMIT 1000",
        )
        .bind(&after)
        .fetch_all(&mut *tx)
        .await?;
        let Some((last, _)) = rows.last() else { break };
        after = last.clone();
        for (id, changes) in rows {
            let Ok(mut list) = serde_json::from_str::<Vec<FieldChange>>(&changes) else {
                continue;
            };
            let mut changed = false;
            for c in list.iter_mut().filter(|c| c.field.ends_with("id_number")) {
                for v in [&mut c.old, &mut c.new].into_iter().flatten() {
                    let masked = mask_id(v);
                    if masked != *v {
                        *v = masked;
                        changed = true;
                    }
                }
            }
            if changed {
                sqlx::query("UPDATE child_history SET changes = $1 WHERE id = $2")
                    .bind(serde_json::to_string(&list).expect("serialisable"))
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                rewritten += 1;
            }
        }
    }
    tx.commit().await?;
    if rewritten > 0 {
        tracing::info!(entries = rewritten, "history entries masked again");
    }
    Ok(())
}

/// Encrypts the history entries written before entries were encrypted (plain JSON). Runs once per
/// database, at open, after [`remask_history`] (which works on the plain text).
pub(crate) async fn seal_history(pool: &sqlx::AnyPool, cipher: &IdCipher) -> Result<()> {
    const KEY: &str = "history_sealed";
    if crate::settings::is(pool, KEY, "1").await? {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    crate::settings::set(&mut tx, KEY, "1").await?;
    let mut sealed = 0usize;
    loop {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, changes FROM child_history WHERE changes LIKE '[%' ORDER BY id LIMIT 1000",
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        for (id, changes) in rows {
            // The JSON as written, sealed as it is (reading it back parses it).
            sqlx::query("UPDATE child_history SET changes = $1 WHERE id = $2")
                .bind(cipher.seal(CHILD_HISTORY.bound_to(), &id, changes.as_bytes()))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            sealed += 1;
        }
    }
    tx.commit().await?;
    if sealed > 0 {
        tracing::info!(entries = sealed, "history entries encrypted");
    }
    Ok(())
}
