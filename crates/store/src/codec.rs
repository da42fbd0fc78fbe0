//! How a child's file is kept: JSON, compressed with LZ4, encrypted with AES-256-GCM bound to its
//! column.

use shouwang_domain::child::ChildFile;

use crate::{IdCipher, Result, StoreError};

const DOC_AAD: &str = "children.doc";

/// Tag of a stored file compressed with LZ4 (block, size prepended). A file's JSON is about
/// 1.3 kB, mostly field names and empty fields; compressed it is about half, which a large import
/// writes (and a county's database holds) once per child. LZ4 rather than DEFLATE: a DEFLATE
/// encoder sets up hundreds of kilobytes of state per file, which cost more than the writes saved.
/// Files without the tag are plain JSON.
const DOC_LZ4: u8 = 2;

/// The whole file, encrypted; the AAD binds it to its column and its child.
pub(crate) fn encrypt_doc(cipher: &IdCipher, child_id: &str, f: &ChildFile) -> String {
    let json = serde_json::to_vec(f).expect("serialisable");
    let mut packed = Vec::with_capacity(json.len() / 2 + 16);
    packed.push(DOC_LZ4);
    packed.extend_from_slice(&lz4_flex::compress_prepend_size(&json));
    cipher.seal(DOC_AAD, child_id, &packed)
}

/// A stored, encrypted file.
pub(crate) fn decrypt_doc(cipher: &IdCipher, child_id: &str, doc: &str) -> Result<ChildFile> {
    let doc = cipher.open(DOC_AAD, child_id, doc)?;
    let unreadable =
        |e: serde_json::Error| StoreError::Config(format!("stored child file unreadable: {e}"));
    match doc.split_first() {
        Some((&DOC_LZ4, packed)) => {
            let json = lz4_flex::decompress_size_prepended(packed)
                .map_err(|e| StoreError::Config(format!("stored child file unreadable: {e}")))?;
            serde_json::from_slice(&json).map_err(unreadable)
        }
        // Files written before compression: plain JSON.
        _ => serde_json::from_slice(&doc).map_err(unreadable),
    }
}
