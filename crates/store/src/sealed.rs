//! Sealed columns, declared once: which table and column, what the column holds, and the row key
//! each value is sealed for. A value is sealed with AES-256-GCM under the column's name and its
//! row's key as associated data (`IdCipher::seal`, issue 24), so a value copied to another row or
//! another column does not open.
//!
//! What a column holds decides how it is written and read, once for all its sites:
//! - [`Text`]: a string (a note, a name, a phone number);
//! - [`Json`]: a record's body or journal — a JSON value (a visit's body, a referral's log, a
//!   routing's events), parsed back into its type;
//! - [`Attachment`]: bytes as they came (a photo, a scan, an uploaded file);
//! - [`ChildDoc`]: a child's file, JSON compressed with LZ4.
//!
//! A value that does not open, or opens to something its type cannot read, is
//! [`StoreError::Damaged`] naming the column and the row: a fault of the system (wrong keys,
//! damaged data), logged and not shown to the person who asked.
//!
//! [`ALL`] lists every sealed column: the pass that sealed older values for their rows
//! (`reseal`) and the check of a restore's keys walk it.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use shouwang_domain::child::ChildFile;
use shouwang_domain::text::const_eq;

use crate::{IdCipher, Result, StoreError};

/// What a sealed column holds: how a value becomes bytes and back.
pub(crate) trait Holds {
    /// What a caller seals.
    type In: ?Sized;
    /// What opening gives back.
    type Out;
    fn encode(value: &Self::In) -> Vec<u8>;
    fn decode(bytes: Vec<u8>) -> std::result::Result<Self::Out, String>;
}

/// Text.
pub(crate) enum Text {}

impl Holds for Text {
    type In = str;
    type Out = String;
    fn encode(value: &str) -> Vec<u8> {
        value.as_bytes().to_vec()
    }
    fn decode(bytes: Vec<u8>) -> std::result::Result<String, String> {
        String::from_utf8(bytes).map_err(|e| e.to_string())
    }
}

/// A record's body: a JSON value of type `T`.
pub(crate) struct Json<T>(PhantomData<fn() -> T>);

impl<T: Serialize + DeserializeOwned> Holds for Json<T> {
    type In = T;
    type Out = T;
    fn encode(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).expect("a stored record serialises")
    }
    fn decode(bytes: Vec<u8>) -> std::result::Result<T, String> {
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }
}

/// A journal: a list of entries (a routing's events, a referral's log, a history entry's
/// changes), sealed whole as JSON and read back whole.
pub(crate) struct Journal<E>(PhantomData<fn() -> E>);

impl<E: Serialize + DeserializeOwned> Holds for Journal<E> {
    type In = [E];
    type Out = Vec<E>;
    fn encode(entries: &[E]) -> Vec<u8> {
        serde_json::to_vec(entries).expect("a stored journal serialises")
    }
    fn decode(bytes: Vec<u8>) -> std::result::Result<Vec<E>, String> {
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }
}

/// Bytes kept as they came: a photo, a scan, an uploaded file.
pub(crate) enum Attachment {}

impl Holds for Attachment {
    type In = [u8];
    type Out = Vec<u8>;
    fn encode(value: &[u8]) -> Vec<u8> {
        value.to_vec()
    }
    fn decode(bytes: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
        Ok(bytes)
    }
}

/// A child's file: JSON compressed with LZ4 (block, size prepended) behind a tag byte. A file's
/// JSON is about 1.3 kB, mostly field names and empty fields; compressed it is about half, which
/// a large import writes (and a county's database holds) once per child. LZ4 rather than
/// DEFLATE: a DEFLATE encoder sets up hundreds of kilobytes of state per file, which cost more
/// than the writes saved. Files without the tag are plain JSON (written before compression).
pub(crate) enum ChildDoc {}

const DOC_LZ4: u8 = 2;

impl Holds for ChildDoc {
    type In = ChildFile;
    type Out = ChildFile;
    fn encode(f: &ChildFile) -> Vec<u8> {
        let json = serde_json::to_vec(f).expect("a child's file serialises");
        let mut packed = Vec::with_capacity(json.len() / 2 + 16);
        packed.push(DOC_LZ4);
        packed.extend_from_slice(&lz4_flex::compress_prepend_size(&json));
        packed
    }
    fn decode(bytes: Vec<u8>) -> std::result::Result<ChildFile, String> {
        match bytes.split_first() {
            Some((&DOC_LZ4, packed)) => {
                // The size it declares was sealed with it (authenticated), not sent by anyone.
                let json =
                    lz4_flex::decompress_size_prepended(packed).map_err(|e| e.to_string())?;
                serde_json::from_slice(&json).map_err(|e| e.to_string())
            }
            _ => serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
        }
    }
}

/// One sealed column with what it holds: a [`Column`] of [`ALL`], typed. Declared in its room:
/// `const VISIT_BODY: Sealed<Json<VisitRecord>> = sealed::listed("visits", "body");`
pub(crate) struct Sealed<H: Holds + ?Sized> {
    at: &'static Column,
    holds: PhantomData<fn() -> Box<H>>,
}

/// A sealed column without its type: where it is, the name its values are bound to (the
/// associated data's name, `table.column` as first written) and the columns of its row's key
/// (joined with `/` into the key a value is sealed for).
pub(crate) struct Column {
    pub table: &'static str,
    pub column: &'static str,
    pub bound_to: &'static str,
    pub key: &'static [&'static str],
}

/// The column `table.column` of [`ALL`], typed by what it holds; a column not on the list does
/// not compile.
pub(crate) const fn listed<H: Holds + ?Sized>(table: &str, column: &str) -> Sealed<H> {
    let mut i = 0;
    while i < ALL.len() {
        if const_eq(ALL[i].table, table) && const_eq(ALL[i].column, column) {
            return Sealed {
                at: &ALL[i],
                holds: PhantomData,
            };
        }
        i += 1;
    }
    panic!("a sealed column must be listed in sealed::ALL");
}

impl<H: Holds + ?Sized> Sealed<H> {
    /// The name its values are bound to.
    pub fn bound_to(&self) -> &'static str {
        self.at.bound_to
    }

    /// `value` sealed for the row keyed `row`.
    pub fn seal(&self, cipher: &IdCipher, row: &str, value: &H::In) -> String {
        cipher.seal(self.at.bound_to, row, &H::encode(value))
    }

    /// The value stored for the row keyed `row`.
    pub fn open(&self, cipher: &IdCipher, row: &str, stored: &str) -> Result<H::Out> {
        let bytes = cipher
            .open(self.at.bound_to, row, stored)
            .map_err(|_| self.damaged(row, "密钥不匹配或数据已损坏".into()))?;
        H::decode(bytes).map_err(|why| self.damaged(row, why))
    }

    /// A value that may be absent.
    pub fn open_opt(
        &self,
        cipher: &IdCipher,
        row: &str,
        stored: Option<&str>,
    ) -> Result<Option<H::Out>> {
        stored.map(|s| self.open(cipher, row, s)).transpose()
    }

    /// The stored value, or — for a column once written in the clear (history, discovery
    /// reports), and only until the store has sealed every value for its row — the plain value.
    pub fn open_or_plain(&self, cipher: &IdCipher, row: &str, stored: &str) -> Result<H::Out> {
        if stored.starts_with("v1:") || stored.starts_with("v2:") || !cipher.legacy_ok() {
            self.open(cipher, row, stored)
        } else {
            H::decode(stored.as_bytes().to_vec()).map_err(|why| self.damaged(row, why))
        }
    }

    fn damaged(&self, row: &str, why: String) -> StoreError {
        StoreError::Damaged {
            column: format!("{}.{}", self.at.table, self.at.column),
            row: row.to_owned(),
            why,
        }
    }
}

/// Every sealed column: table, column, the name its values are bound to, the columns of the row's
/// key. A typed column ([`Sealed`], declared in its room with [`listed`]) must be here: the
/// resealing pass and a restore's key check walk this list, and `listed` refuses at compile time
/// a column that is not on it.
pub(crate) const ALL: &[Column] = &[
    Column {
        table: "elders",
        column: "doc",
        bound_to: "elders.doc",
        key: &["id"],
    },
    Column {
        table: "quarterly_reports",
        column: "elders",
        bound_to: "quarterly_reports.elders",
        key: &["id"],
    },
    Column {
        table: "elder_history",
        column: "changes",
        bound_to: "elder_history.changes",
        key: &["id"],
    },
    Column {
        table: "child_docs",
        column: "doc",
        bound_to: "children.doc",
        key: &["child_id"],
    },
    Column {
        table: "child_history",
        column: "changes",
        bound_to: "child_history.changes",
        key: &["id"],
    },
    Column {
        table: "protection_reports",
        column: "body",
        bound_to: "protection_reports.body",
        key: &["id"],
    },
    Column {
        table: "case_events",
        column: "detail",
        bound_to: "case_events.detail",
        key: &["id"],
    },
    Column {
        table: "case_attachments",
        column: "data",
        bound_to: "case_attachments.data",
        key: &["id"],
    },
    Column {
        table: "case_attachments",
        column: "name",
        bound_to: "case_attachments.name",
        key: &["id"],
    },
    Column {
        table: "case_assessments",
        column: "body",
        bound_to: "case_assessments.body",
        key: &["id"],
    },
    Column {
        table: "case_referrals",
        column: "note",
        bound_to: "case_referrals.note",
        key: &["id"],
    },
    Column {
        table: "case_referrals",
        column: "log",
        bound_to: "case_referrals.log",
        key: &["id"],
    },
    Column {
        table: "case_placements",
        column: "body",
        bound_to: "case_placements.body",
        key: &["id"],
    },
    Column {
        table: "case_interventions",
        column: "body",
        bound_to: "case_interventions.body",
        key: &["id"],
    },
    Column {
        table: "quarterly_reports",
        column: "roster",
        bound_to: "quarterly_reports.roster",
        key: &["id"],
    },
    Column {
        table: "reconcile_items",
        column: "doc",
        bound_to: "reconcile_items.doc",
        key: &["id"],
    },
    Column {
        table: "routings",
        column: "note",
        bound_to: "routings.note",
        key: &["id"],
    },
    Column {
        table: "routings",
        column: "events",
        bound_to: "routings.events",
        key: &["id"],
    },
    Column {
        table: "routings",
        column: "hukou_number",
        bound_to: "routings.hukou_number",
        key: &["id"],
    },
    Column {
        table: "visits",
        column: "body",
        bound_to: "visits.body",
        key: &["id"],
    },
    Column {
        table: "parent_contacts",
        column: "body",
        bound_to: "parent_contacts.body",
        key: &["id"],
    },
    Column {
        table: "carer_checks",
        column: "body",
        bound_to: "carer_checks.body",
        key: &["id"],
    },
    Column {
        table: "visit_photos",
        column: "data",
        bound_to: "visit_photos.data",
        key: &["id"],
    },
    Column {
        table: "absences",
        column: "note",
        bound_to: "absences.note",
        key: &["child_id", "day"],
    },
    Column {
        table: "return_tasks",
        column: "steps",
        bound_to: "return_tasks.steps",
        key: &["id"],
    },
    Column {
        table: "agreements",
        column: "body",
        bound_to: "agreements.body",
        key: &["id"],
    },
    Column {
        table: "agreements",
        column: "scan",
        bound_to: "agreements.scan",
        key: &["id"],
    },
    Column {
        table: "quarterly_reports",
        column: "signed_scan",
        bound_to: "quarterly_reports.signed_scan",
        key: &["id"],
    },
    Column {
        table: "job_files",
        column: "content",
        bound_to: "job_files.content",
        key: &["job_id"],
    },
    Column {
        table: "discovery_reports",
        column: "child_name",
        bound_to: "discovery_reports.child_name",
        key: &["id"],
    },
    Column {
        table: "discovery_reports",
        column: "situation",
        bound_to: "discovery_reports.situation",
        key: &["id"],
    },
    Column {
        table: "discovery_reports",
        column: "reporter_phone",
        bound_to: "discovery_reports.reporter_phone",
        key: &["id"],
    },
    Column {
        table: "users",
        column: "totp_secret",
        bound_to: "totp",
        key: &["id"],
    },
    Column {
        table: "users",
        column: "totp_pending",
        bound_to: "totp",
        key: &["id"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> IdCipher {
        IdCipher::new([7; 32], [9; 32])
    }

    const NOTE: Sealed<Text> = listed("routings", "note");
    const HUKOU: Sealed<Text> = listed("routings", "hukou_number");
    const CHANGES: Sealed<Journal<shouwang_domain::history::FieldChange>> =
        listed("child_history", "changes");

    #[test]
    fn a_value_opens_only_for_its_row_and_its_column() {
        let c = cipher();
        let sealed = NOTE.seal(&c, "r1", "家访时孩子不在家");
        assert_eq!(NOTE.open(&c, "r1", &sealed).unwrap(), "家访时孩子不在家");
        for (col, row) in [(&NOTE, "r2"), (&HUKOU, "r1")] {
            match col.open(&c, row, &sealed) {
                Err(StoreError::Damaged { column, row: r, .. }) => {
                    assert_eq!(column, format!("{}.{}", col.at.table, col.at.column));
                    assert_eq!(r, row);
                }
                other => panic!("opened elsewhere: {other:?}"),
            }
        }
    }

    #[test]
    fn a_journal_that_opens_but_does_not_parse_is_damaged_not_empty() {
        let c = cipher();
        // Sealed for the right row and column, but not a list of changes.
        let stored = c.seal(CHANGES.bound_to(), "h1", b"{\"not\":\"a list\"}");
        assert!(matches!(
            CHANGES.open(&c, "h1", &stored),
            Err(StoreError::Damaged { .. })
        ));
        let ok = CHANGES.seal(&c, "h1", &[]);
        assert_eq!(CHANGES.open(&c, "h1", &ok).unwrap().len(), 0);
    }

    #[test]
    fn every_column_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ALL {
            assert!(
                seen.insert((c.table, c.column)),
                "{}.{} twice",
                c.table,
                c.column
            );
            assert!(!c.key.is_empty());
        }
        assert_eq!(ALL.len(), 34);
    }
}
