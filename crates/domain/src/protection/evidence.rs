//! Evidence: the kinds a case takes, their limits and their names.

use super::*;

code_enum! {
    /// What evidence a case takes: photos as phones save them, and PDFs (a medical record, a
    /// written statement).
    pub enum EvidenceKind {
        Jpeg = ("image/jpeg", "照片（JPEG）"),
        Png = ("image/png", "图片（PNG）"),
        Webp = ("image/webp", "图片（WebP）"),
        Pdf = ("application/pdf", "PDF 文件"),
    }
}

/// The largest evidence file, and how many a case holds.
pub const MAX_EVIDENCE_BYTES: usize = 10 << 20;
pub const MAX_EVIDENCE_PER_CASE: i64 = 30;

impl EvidenceKind {
    /// What the bytes are, from their first bytes (the name and the declared type are not trusted).
    pub fn sniff(bytes: &[u8]) -> Result<EvidenceKind, String> {
        if bytes.is_empty() {
            return Err("文件是空的".into());
        }
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(format!(
                "文件超过 {} MB，请压缩后上传",
                MAX_EVIDENCE_BYTES >> 20
            ));
        }
        Ok(if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            EvidenceKind::Jpeg
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            EvidenceKind::Png
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            EvidenceKind::Webp
        } else if bytes.starts_with(b"%PDF-") {
            EvidenceKind::Pdf
        } else {
            return Err(
                "只能上传照片（JPEG、PNG、WebP）或 PDF 文件；苹果手机的 HEIC 照片请在相机设置中选择“兼容性最佳”或截图后上传"
                    .into(),
            );
        })
    }
}

/// A file's name as kept: the last path component, without control characters, at most 100
/// characters.
pub fn evidence_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).take(100).collect();
    if clean.trim().is_empty() {
        "附件".into()
    } else {
        clean.trim().to_owned()
    }
}
