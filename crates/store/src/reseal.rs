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

use crate::rooms::SealedRoom;
use crate::sealed::{ALL, Column};
use crate::{IdCipher, Result, StoreError};

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
    for Column {
        table,
        column,
        bound_to: aad,
        key: keys,
    } in ALL
    {
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
                let key_values: Vec<String> = keys
                    .iter()
                    .map(|k| r.try_get::<String, _>(*k))
                    .collect::<Result<_, _>>()?;
                let stored: String = r.try_get(*column)?;
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

impl SealedRoom<'_> {
    /// Opens a sample of every sealed column (up to 20 values each) with this store's keys: after
    /// a restore, whether the keys imported are this database's. Returns how many opened.
    pub async fn open_sealed_sample(&self) -> Result<usize> {
        let mut opened = 0;
        for Column {
            table,
            column,
            bound_to: aad,
            key: keys,
        } in ALL
        {
            let rows = sqlx::query(&format!(
                "SELECT {}, {column} FROM {table} WHERE {column} LIKE 'v2:%' LIMIT 20",
                keys.join(", ")
            ))
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                let key: Vec<String> = keys
                    .iter()
                    .map(|k| r.try_get::<String, _>(*k))
                    .collect::<Result<_, _>>()?;
                let stored: String = r.try_get(*column)?;
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
