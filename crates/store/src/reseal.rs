//! Every sealed value bound to its row (issue 24: a sealed value copied from one row to another —
//! child B's file over child A's, one report's body over another's — opened as the other's).
//! Values are sealed `v2` with their column and their row's key as associated data
//! (`IdCipher::seal`); this pass seals again, once per database, what was sealed before (`v1`,
//! bound to its column only) or never sealed (plain history written before it was), and from then
//! on the cipher opens nothing else.
//!
//! What it cannot tell: a database whose marker was deleted gets the pass again, which would seal
//! for their new rows any old `v1` values planted meanwhile (values of this key, from an old copy
//! of this database). The key file is not in the database; the marker is.

use sqlx::Row;

use crate::{IdCipher, Result, StoreError};

/// Every sealed column: table, column, the column's associated data, the columns of the row's key
/// (joined with `/` into the key sealed with the value).
pub(crate) const SEALED: &[(&str, &str, &str, &[&str])] = &[
    ("child_docs", "doc", "children.doc", &["child_id"]),
    ("child_history", "changes", "child_history.changes", &["id"]),
    (
        "protection_reports",
        "body",
        "protection_reports.body",
        &["id"],
    ),
    ("case_events", "detail", "case_events.detail", &["id"]),
    ("case_attachments", "data", "case_attachments.data", &["id"]),
    ("case_attachments", "name", "case_attachments.name", &["id"]),
    ("case_assessments", "body", "case_assessments.body", &["id"]),
    ("case_referrals", "note", "case_referrals.note", &["id"]),
    ("case_referrals", "log", "case_referrals.log", &["id"]),
    ("case_placements", "body", "case_placements.body", &["id"]),
    (
        "case_interventions",
        "body",
        "case_interventions.body",
        &["id"],
    ),
    (
        "quarterly_reports",
        "roster",
        "quarterly_reports.roster",
        &["id"],
    ),
    ("reconcile_items", "doc", "reconcile_items.doc", &["id"]),
    ("routings", "note", "routings.note", &["id"]),
    ("routings", "events", "routings.events", &["id"]),
    ("routings", "hukou_number", "routings.hukou_number", &["id"]),
    ("visits", "body", "visits.body", &["id"]),
    ("parent_contacts", "body", "parent_contacts.body", &["id"]),
    ("carer_checks", "body", "carer_checks.body", &["id"]),
    ("visit_photos", "data", "visit_photos.data", &["id"]),
    ("absences", "note", "absences.note", &["child_id", "day"]),
    ("return_tasks", "steps", "return_tasks.steps", &["id"]),
    ("agreements", "body", "agreements.body", &["id"]),
    ("agreements", "scan", "agreements.scan", &["id"]),
    ("job_files", "content", "job_files.content", &["job_id"]),
    (
        "discovery_reports",
        "child_name",
        "discovery_reports.child_name",
        &["id"],
    ),
    (
        "discovery_reports",
        "situation",
        "discovery_reports.situation",
        &["id"],
    ),
    (
        "discovery_reports",
        "reporter_phone",
        "discovery_reports.reporter_phone",
        &["id"],
    ),
    ("users", "totp_secret", "totp", &["id"]),
    ("users", "totp_pending", "totp", &["id"]),
];

const MARKER: &str = "sealed_for_rows";
const BATCH: i64 = 500;

/// Seals for its row every value sealed before rows were bound (and plain history and discovery
/// values written before those were sealed), in short transactions; then the cipher refuses the
/// old form. Once per database, at open.
pub(crate) async fn reseal(pool: &sqlx::AnyPool, cipher: &IdCipher) -> Result<()> {
    if crate::settings::is(pool, MARKER, "1").await? {
        cipher.refuse_legacy();
        return Ok(());
    }
    let mut resealed = 0usize;
    for (table, column, aad, keys) in SEALED {
        let key_list = keys.join(", ");
        // Plain values only where they were ever written plain: history as JSON, discovery
        // reports' fields as text.
        let plain = match *table {
            "child_history" => format!(" OR {column} LIKE '[%'"),
            "discovery_reports" => {
                format!(
                    " OR ({column} IS NOT NULL AND {column} NOT LIKE 'v1:%' AND {column} NOT LIKE 'v2:%')"
                )
            }
            _ => String::new(),
        };
        // Walked once in key order (a cursor on the key's index): asking again from the start
        // after each batch would read the values already sealed again and again — a province's
        // million files are read once, not two thousand times.
        let marks: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
        let mut after: Option<Vec<String>> = None;
        loop {
            let from = if after.is_some() {
                format!("({key_list}) > ({}) AND ", marks.join(", "))
            } else {
                String::new()
            };
            let sql = format!(
                "SELECT {key_list}, {column} FROM {table} WHERE {from}({column} LIKE 'v1:%'{plain}) \
                 ORDER BY {key_list} LIMIT {BATCH}"
            );
            let mut q = sqlx::query(&sql);
            for v in after.iter().flatten() {
                q = q.bind(v.clone());
            }
            let rows = q.fetch_all(pool).await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = pool.begin().await?;
            for r in &rows {
                let key_values: Vec<String> = (0..keys.len())
                    .map(|i| r.try_get::<String, _>(i))
                    .collect::<Result<_, _>>()?;
                let stored: String = r.try_get(keys.len())?;
                let value = if stored.starts_with("v1:") {
                    cipher.decrypt_bytes(aad, &stored).map_err(|_| {
                        StoreError::Config(format!(
                            "{table}.{column} 中有无法用这份密钥打开的数据（行 {}）",
                            key_values.join("/")
                        ))
                    })?
                } else {
                    stored.clone().into_bytes()
                };
                let sealed = cipher.seal(aad, &key_values.join("/"), &value);
                let mut update = format!("UPDATE {table} SET {column} = $1 WHERE ");
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        update.push_str(" AND ");
                    }
                    update.push_str(&format!("{k} = ${}", i + 2));
                }
                let mut q = sqlx::query(&update).bind(sealed);
                for v in &key_values {
                    q = q.bind(v.clone());
                }
                q.execute(&mut *tx).await?;
                resealed += 1;
                after = Some(key_values);
            }
            tx.commit().await?;
        }
    }
    let mut tx = pool.begin().await?;
    crate::settings::set(&mut tx, MARKER, "1").await?;
    tx.commit().await?;
    cipher.refuse_legacy();
    if resealed > 0 {
        tracing::info!(values = resealed, "sealed values bound to their rows");
    }
    Ok(())
}

impl crate::Store {
    /// Opens a sample of every sealed column (up to 20 values each) with this store's keys: after
    /// a restore, whether the keys imported are this database's. Returns how many opened.
    pub async fn open_sealed_sample(&self) -> Result<usize> {
        let mut opened = 0;
        for (table, column, aad, keys) in SEALED {
            let rows = sqlx::query(&format!(
                "SELECT {}, {column} FROM {table} WHERE {column} LIKE 'v2:%' LIMIT 20",
                keys.join(", ")
            ))
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                let key: Vec<String> = (0..keys.len())
                    .map(|i| r.try_get::<String, _>(i))
                    .collect::<Result<_, _>>()?;
                let stored: String = r.try_get(keys.len())?;
                self.cipher
                    .open(aad, &key.join("/"), &stored)
                    .map_err(|_| {
                        StoreError::Config(format!(
                            "{table}.{column} 中的加密数据无法用这份密钥打开"
                        ))
                    })?;
                opened += 1;
            }
        }
        Ok(opened)
    }
}
