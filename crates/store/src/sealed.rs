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
use shouwang_domain::guardianship::{Agreement, CarerCheck, ContactRecord};
use shouwang_domain::history::FieldChange;
use shouwang_domain::protection::{Assessment, PlacementRecord};
use shouwang_domain::visits::VisitRecord;

use crate::attendance::StepRecord;
use crate::protection::{InterventionDetail, ReferralEntry, ReportBody};
use crate::quarterly::RosterLine;
use crate::reconcile::ItemDoc;
use crate::routings::EventRecord;

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

/// One sealed column: where it is, what it holds, the columns of its row's key (joined with `/`
/// into the key a value is sealed for) and the name its values are bound to.
pub(crate) struct Sealed<H: Holds + ?Sized> {
    pub table: &'static str,
    pub column: &'static str,
    /// The associated data's name of the column (`table.column`, kept as first written).
    pub bound_to: &'static str,
    pub key: &'static [&'static str],
    holds: PhantomData<fn() -> Box<H>>,
}

/// A sealed column without its type: what the passes over every column need.
pub(crate) struct Column {
    pub table: &'static str,
    pub column: &'static str,
    pub bound_to: &'static str,
    pub key: &'static [&'static str],
}

impl<H: Holds + ?Sized> Sealed<H> {
    const fn at(
        table: &'static str,
        column: &'static str,
        bound_to: &'static str,
        key: &'static [&'static str],
    ) -> Self {
        Sealed {
            table,
            column,
            bound_to,
            key,
            holds: PhantomData,
        }
    }

    const fn untyped(&self) -> Column {
        Column {
            table: self.table,
            column: self.column,
            bound_to: self.bound_to,
            key: self.key,
        }
    }

    /// `value` sealed for the row keyed `row`.
    pub fn seal(&self, cipher: &IdCipher, row: &str, value: &H::In) -> String {
        cipher.seal(self.bound_to, row, &H::encode(value))
    }

    /// The value stored for the row keyed `row`.
    pub fn open(&self, cipher: &IdCipher, row: &str, stored: &str) -> Result<H::Out> {
        let bytes = cipher
            .open(self.bound_to, row, stored)
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
            column: format!("{}.{}", self.table, self.column),
            row: row.to_owned(),
            why,
        }
    }
}

macro_rules! sealed {
    ($($(#[$doc:meta])* $name:ident: $holds:ty = $table:literal . $column:literal as $bound:literal by [$($key:literal),+];)+) => {
        $($(#[$doc])* pub(crate) const $name: Sealed<$holds> = Sealed::at($table, $column, $bound, &[$($key),+]);)+
        /// Every sealed column, in the order the passes walk them.
        pub(crate) const ALL: &[Column] = &[$($name.untyped()),+];
    };
}

sealed! {
    CHILD_DOC: ChildDoc = "child_docs"."doc" as "children.doc" by ["child_id"];
    /// A history entry's changes (names, phones, health and parents' details are in them).
    CHILD_HISTORY: Journal<FieldChange> = "child_history"."changes" as "child_history.changes" by ["id"];
    /// A 强制报告's body.
    REPORT_BODY: Json<ReportBody> = "protection_reports"."body" as "protection_reports.body" by ["id"];
    CASE_EVENT_DETAIL: Text = "case_events"."detail" as "case_events.detail" by ["id"];
    CASE_ATTACHMENT: Attachment = "case_attachments"."data" as "case_attachments.data" by ["id"];
    CASE_ATTACHMENT_NAME: Text = "case_attachments"."name" as "case_attachments.name" by ["id"];
    CASE_ASSESSMENT: Json<Assessment> = "case_assessments"."body" as "case_assessments.body" by ["id"];
    REFERRAL_NOTE: Text = "case_referrals"."note" as "case_referrals.note" by ["id"];
    REFERRAL_LOG: Journal<ReferralEntry> = "case_referrals"."log" as "case_referrals.log" by ["id"];
    CASE_PLACEMENT: Json<PlacementRecord> = "case_placements"."body" as "case_placements.body" by ["id"];
    CASE_INTERVENTION: Json<InterventionDetail> = "case_interventions"."body" as "case_interventions.body" by ["id"];
    QUARTERLY_ROSTER: Journal<RosterLine> = "quarterly_reports"."roster" as "quarterly_reports.roster" by ["id"];
    RECONCILE_ITEM: Json<ItemDoc> = "reconcile_items"."doc" as "reconcile_items.doc" by ["id"];
    ROUTING_NOTE: Text = "routings"."note" as "routings.note" by ["id"];
    ROUTING_EVENTS: Journal<EventRecord> = "routings"."events" as "routings.events" by ["id"];
    ROUTING_HUKOU: Text = "routings"."hukou_number" as "routings.hukou_number" by ["id"];
    VISIT_BODY: Json<VisitRecord> = "visits"."body" as "visits.body" by ["id"];
    PARENT_CONTACT: Json<ContactRecord> = "parent_contacts"."body" as "parent_contacts.body" by ["id"];
    CARER_CHECK: Json<CarerCheck> = "carer_checks"."body" as "carer_checks.body" by ["id"];
    VISIT_PHOTO: Attachment = "visit_photos"."data" as "visit_photos.data" by ["id"];
    /// An absence's note, sealed for `child_id/day`.
    ABSENCE_NOTE: Text = "absences"."note" as "absences.note" by ["child_id", "day"];
    RETURN_STEPS: Journal<StepRecord> = "return_tasks"."steps" as "return_tasks.steps" by ["id"];
    AGREEMENT_BODY: Json<Agreement> = "agreements"."body" as "agreements.body" by ["id"];
    AGREEMENT_SCAN: Attachment = "agreements"."scan" as "agreements.scan" by ["id"];
    JOB_FILE: Attachment = "job_files"."content" as "job_files.content" by ["job_id"];
    DISCOVERY_CHILD_NAME: Text = "discovery_reports"."child_name" as "discovery_reports.child_name" by ["id"];
    DISCOVERY_SITUATION: Text = "discovery_reports"."situation" as "discovery_reports.situation" by ["id"];
    DISCOVERY_PHONE: Text = "discovery_reports"."reporter_phone" as "discovery_reports.reporter_phone" by ["id"];
    /// A second factor's secret, sealed for its user (both columns bound to the name `totp`).
    TOTP_SECRET: Attachment = "users"."totp_secret" as "totp" by ["id"];
    TOTP_PENDING: Attachment = "users"."totp_pending" as "totp" by ["id"];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> IdCipher {
        IdCipher::new([7; 32], [9; 32])
    }

    #[test]
    fn a_value_opens_only_for_its_row_and_its_column() {
        let c = cipher();
        let sealed = ROUTING_NOTE.seal(&c, "r1", "家访时孩子不在家");
        assert_eq!(
            ROUTING_NOTE.open(&c, "r1", &sealed).unwrap(),
            "家访时孩子不在家"
        );
        for (col, row) in [(&ROUTING_NOTE, "r2"), (&ROUTING_HUKOU, "r1")] {
            match col.open(&c, row, &sealed) {
                Err(StoreError::Damaged { column, row: r, .. }) => {
                    assert_eq!(column, format!("{}.{}", col.table, col.column));
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
        let stored = c.seal(CHILD_HISTORY.bound_to, "h1", b"{\"not\":\"a list\"}");
        assert!(matches!(
            CHILD_HISTORY.open(&c, "h1", &stored),
            Err(StoreError::Damaged { .. })
        ));
        let ok = CHILD_HISTORY.seal(&c, "h1", &[]);
        assert_eq!(CHILD_HISTORY.open(&c, "h1", &ok).unwrap().len(), 0);
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
        assert_eq!(ALL.len(), 30);
    }
}
