//! ID numbers at rest: AES-256-GCM with a random 96-bit nonce, and an HMAC-SHA-256 blind index for
//! exact lookup and duplicate detection (rust-stack: field-level encryption). Keys come from a key
//! file outside the database; ciphertexts carry a version so keys and algorithms can rotate (P9).

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::StoreError;

const VERSION: &str = "v1";
/// Sealed for a row: the associated data is [`seat`].
const ROW_VERSION: &str = "v2";

/// The associated data of a value sealed for a row: the column and the row's key.
fn seat(column: &str, row: &str) -> String {
    format!("shouwang seal v2\0{column}\0{row}")
}

fn damaged() -> StoreError {
    StoreError::Config("无法解密存储的数据（身份证号码或档案）：密钥不匹配或数据损坏".into())
}

pub struct IdCipher {
    aead: Aes256Gcm,
    /// HMAC already keyed (cloned per value, so the key schedule runs once).
    index_mac: Hmac<Sha256>,
    /// Whether values sealed before row binding (`v1`, bound to their column only) still open:
    /// until the store has sealed every one again for its row (`reseal`), then never — a `v1`
    /// value copied in from an old backup or another row is refused.
    legacy: std::sync::atomic::AtomicBool,
}

impl IdCipher {
    pub fn new(encryption_key: [u8; 32], index_key: [u8; 32]) -> IdCipher {
        IdCipher {
            aead: Aes256Gcm::new(&encryption_key.into()),
            index_mac: <Hmac<Sha256> as Mac>::new_from_slice(&index_key)
                .expect("HMAC takes any key length"),
            legacy: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Stops opening `v1` values (once every one was sealed again for its row).
    pub(crate) fn refuse_legacy(&self) {
        self.legacy
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn legacy_ok(&self) -> bool {
        self.legacy.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Seals a value for one row of one column (`v2`): the associated data is the column and the
    /// row's key, so a value copied to another row, or another column, does not open (issue 24:
    /// child B's sealed file copied over child A's was served as A's). Sealed columns are declared
    /// in `crate::sealed`, which calls this.
    pub(crate) fn seal(&self, column: &str, row: &str, plain: &[u8]) -> String {
        self.seal_with(ROW_VERSION, seat(column, row).as_bytes(), plain)
    }

    /// `<version>:<base64(nonce ‖ ciphertext)>` under a fresh random nonce.
    fn seal_with(&self, version: &str, aad: &[u8], plain: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
            .expect("AES-GCM encryption does not fail for short inputs");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{version}:{}", B64.encode(out))
    }

    /// Opens a value sealed for this row of this column; a `v1` value (column only) only while
    /// the store has not yet sealed every value for its row. What the bytes are, and the error a
    /// caller sees, is the sealed column's (`crate::sealed`).
    pub(crate) fn open(
        &self,
        column: &str,
        row: &str,
        stored: &str,
    ) -> Result<Vec<u8>, StoreError> {
        if let Some(body) = stored.strip_prefix("v2:") {
            return self.open_with(body, seat(column, row).as_bytes());
        }
        if stored.starts_with("v1:") && self.legacy_ok() {
            return self.decrypt_bytes(column, stored);
        }
        Err(damaged())
    }

    fn open_with(&self, body: &str, aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        let bytes = B64.decode(body).map_err(|_| damaged())?;
        if bytes.len() < 12 {
            return Err(damaged());
        }
        let (nonce, ct) = bytes.split_at(12);
        self.aead
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| damaged())
    }

    /// `v1:<base64(nonce ‖ ciphertext)>`; the AAD binds the value to its column.
    pub fn encrypt(&self, column: &str, plain: &str) -> String {
        self.encrypt_bytes(column, plain.as_bytes())
    }

    pub fn decrypt(&self, column: &str, stored: &str) -> Result<String, StoreError> {
        String::from_utf8(self.decrypt_bytes(column, stored)?).map_err(|_| damaged())
    }

    pub(crate) fn encrypt_bytes(&self, column: &str, plain: &[u8]) -> String {
        self.seal_with(VERSION, column.as_bytes(), plain)
    }

    pub(crate) fn decrypt_bytes(&self, column: &str, stored: &str) -> Result<Vec<u8>, StoreError> {
        let body = stored.strip_prefix("v1:").ok_or_else(damaged)?;
        self.open_with(body, column.as_bytes())
    }

    /// Keyed hash of a normalised ID number: equal numbers give equal hashes, and the hash says
    /// nothing without the key.
    /// The audit chain's MAC over an event's fields (each ended by a zero byte), keyed by a key
    /// derived from the index key: without the key file nobody can rewrite the chain to match.
    pub fn audit_mac(&self, parts: &[&str]) -> String {
        let mut mac = self.index_mac.clone();
        mac.update(b"shouwang audit chain v2\0");
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(&[0]);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    pub fn blind_index(&self, normalised: &str) -> String {
        let mut mac = self.index_mac.clone();
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The key file: two lines `encryption_key = <base64 32 bytes>` and `index_key = …`.
pub struct KeyFile;

impl KeyFile {
    /// Reads the keys; a missing or malformed file is a clear start-up error, and so is a file
    /// that other users of the machine may read or change (the keys open every child's file).
    pub fn load(path: &Path) -> Result<IdCipher, StoreError> {
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(StoreError::Config(format!(
                    "密钥文件 {} 的权限为 {:o}，其他用户可以读取或修改：请执行 chmod 600 {} 后再启动",
                    path.display(),
                    mode & 0o777,
                    path.display()
                )));
            }
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            StoreError::Config(format!(
                "无法读取密钥文件 {}：{e}（首次使用请先运行 shouwang init 或 shouwang demo）",
                path.display()
            ))
        })?;
        let get = |name: &str| -> Result<[u8; 32], StoreError> {
            let line = text
                .lines()
                .find_map(|l| l.trim().strip_prefix(name)?.trim().strip_prefix('='))
                .ok_or_else(|| {
                    StoreError::Config(format!("密钥文件 {} 缺少 {name}", path.display()))
                })?;
            let bytes = B64
                .decode(line.trim().trim_matches('"'))
                .map_err(|_| StoreError::Config(format!("密钥文件中的 {name} 不是 base64")))?;
            bytes
                .try_into()
                .map_err(|_| StoreError::Config(format!("密钥文件中的 {name} 应为32字节")))
        };
        Ok(IdCipher::new(get("encryption_key")?, get("index_key")?))
    }

    /// Loads the key file, creating it with fresh random keys (permissions 0600) if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<IdCipher, StoreError> {
        if !path.exists() {
            let mut a = [0u8; 32];
            let mut b = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut a);
            rand::thread_rng().fill_bytes(&mut b);
            let text = format!(
                "# 守望 Shouwang keys. Keep this file secret and backed up apart from the database.\n\
                 encryption_key = \"{}\"\nindex_key = \"{}\"\n",
                B64.encode(a),
                B64.encode(b)
            );
            write_private(path, &text).map_err(|e| {
                StoreError::Config(format!("无法创建密钥文件 {}：{e}", path.display()))
            })?;
        }
        Self::load(path)
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// The key file sealed with a passphrase, to keep offline apart from the data backups: a county
/// that loses its key file loses every ID number, history entry and report, and one that keeps it
/// beside the backups gives both to whoever takes them. Argon2id (memory-hard: 64 MiB and three
/// passes a guess) derives the key; AES-256-GCM seals the key file's text, its header (format and
/// parameters) bound as associated data.
pub struct SealedKeys;

const SEALED_FORMAT: &str = "shouwang-keys/1";
/// Argon2id parameters: memory in KiB, passes, lanes.
const KDF_M: u32 = 64 * 1024;
const KDF_T: u32 = 3;
const KDF_P: u32 = 1;
/// The shortest passphrase taken (it guards every child's ID number).
pub const MIN_PASSPHRASE_CHARS: usize = 12;

impl SealedKeys {
    fn derive(
        passphrase: &str,
        salt: &[u8],
        m: u32,
        t: u32,
        p: u32,
    ) -> Result<[u8; 32], StoreError> {
        // Bounds on what a file may ask of this machine (a crafted file must not take 100 GB).
        if !(8 * 1024..=1024 * 1024).contains(&m) || !(1..=16).contains(&t) || !(1..=8).contains(&p)
        {
            return Err(StoreError::Config(
                "密钥备份的参数超出范围：文件已损坏".into(),
            ));
        }
        let params = argon2::Params::new(m, t, p, Some(32))
            .map_err(|e| StoreError::Config(format!("密钥备份的参数不正确：{e}")))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = [0u8; 32];
        argon
            .hash_password_into(passphrase.as_bytes(), salt, &mut key)
            .map_err(|e| StoreError::Config(format!("无法由口令生成密钥：{e}")))?;
        Ok(key)
    }

    /// The key file at `path` (checked: it must load), sealed with `passphrase`.
    pub fn export(path: &Path, passphrase: &str) -> Result<String, StoreError> {
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(StoreError::Config(format!(
                "口令至少 {MIN_PASSPHRASE_CHARS} 个字符（它保护全县儿童的身份证号码）"
            )));
        }
        KeyFile::load(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| StoreError::Config(format!("无法读取密钥文件 {}：{e}", path.display())))?;
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut salt);
        rand::thread_rng().fill_bytes(&mut nonce);
        let key = Self::derive(passphrase, &salt, KDF_M, KDF_T, KDF_P)?;
        let header = format!("{SEALED_FORMAT}\0argon2id\0{KDF_M}\0{KDF_T}\0{KDF_P}");
        let sealed = Aes256Gcm::new(&key.into())
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: text.as_bytes(),
                    aad: header.as_bytes(),
                },
            )
            .expect("AES-GCM encryption does not fail for short inputs");
        Ok(format!(
            "# 守望 Shouwang 密钥备份：密钥文件用口令加密（Argon2id + AES-256-GCM）。\n\
             # 与数据库备份分开保存（例如离线U盘、保险柜），口令另行保管。\n\
             format = \"{SEALED_FORMAT}\"\nkdf = \"argon2id\"\nm = {KDF_M}\nt = {KDF_T}\np = {KDF_P}\n\
             salt = \"{}\"\nnonce = \"{}\"\nsealed = \"{}\"\n",
            B64.encode(salt),
            B64.encode(nonce),
            B64.encode(sealed)
        ))
    }

    /// Opens a sealed key backup and writes the key file at `path`, owner-only. Refuses a wrong
    /// passphrase, a damaged file, and a different key file already at `path` (never
    /// overwritten: it may open another database).
    pub fn import(sealed: &str, passphrase: &str, path: &Path) -> Result<(), StoreError> {
        if sealed.len() > 64 << 10 {
            return Err(StoreError::Config("这不是守望的密钥备份文件".into()));
        }
        let field = |name: &str| {
            sealed
                .lines()
                .find_map(|l| l.trim().strip_prefix(name)?.trim().strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_owned())
        };
        let bad = || StoreError::Config("这不是守望的密钥备份文件，或文件已损坏".into());
        if field("format").as_deref() != Some(SEALED_FORMAT)
            || field("kdf").as_deref() != Some("argon2id")
        {
            return Err(bad());
        }
        let num = |n: &str| field(n).and_then(|v| v.parse::<u32>().ok()).ok_or_else(bad);
        let (m, t, p) = (num("m")?, num("t")?, num("p")?);
        let b64 = |n: &str| field(n).and_then(|v| B64.decode(v).ok()).ok_or_else(bad);
        let (salt, nonce, body) = (b64("salt")?, b64("nonce")?, b64("sealed")?);
        if nonce.len() != 12 || salt.len() < 8 {
            return Err(bad());
        }
        let key = Self::derive(passphrase, &salt, m, t, p)?;
        let header = format!("{SEALED_FORMAT}\0argon2id\0{m}\0{t}\0{p}");
        let text = Aes256Gcm::new(&key.into())
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &body,
                    aad: header.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Config("口令不正确，或密钥备份文件已损坏".into()))?;
        let text = String::from_utf8(text).map_err(|_| bad())?;
        if path.exists() {
            let same = std::fs::read_to_string(path).is_ok_and(|t| t == text);
            if same {
                return Ok(());
            }
            return Err(StoreError::Config(format!(
                "{} 已有另一份密钥文件，不覆盖（它可能打开另一个数据库）；请先移走它",
                path.display()
            )));
        }
        write_private(path, &text)
            .map_err(|e| StoreError::Config(format!("无法写入密钥文件 {}：{e}", path.display())))?;
        // What was written must load.
        KeyFile::load(path).map(|_| ())
    }
}

/// Writes `text` to `path` owner-only, replacing what was there at once (a temporary file beside
/// it, then a rename): a reader sees the old text or the new, never half.
pub(crate) fn replace_private(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    write_private(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_column_binding() {
        let c = IdCipher::new([1; 32], [2; 32]);
        let e = c.encrypt("children.id_number", "11010519491231002X");
        assert!(!e.contains("1101051949"));
        assert_eq!(
            c.decrypt("children.id_number", &e).unwrap(),
            "11010519491231002X"
        );
        assert!(c.decrypt("users.other", &e).is_err());
        let other = IdCipher::new([3; 32], [2; 32]);
        assert!(other.decrypt("children.id_number", &e).is_err());
        assert_ne!(e, c.encrypt("children.id_number", "11010519491231002X"));
    }

    #[test]
    fn blind_index_is_stable_and_keyed() {
        let c = IdCipher::new([1; 32], [2; 32]);
        assert_eq!(c.blind_index("x"), c.blind_index("x"));
        assert_ne!(
            c.blind_index("x"),
            IdCipher::new([1; 32], [9; 32]).blind_index("x")
        );
    }

    #[test]
    fn key_file_is_created_once_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.keys");
        let a = KeyFile::load_or_create(&p).unwrap();
        let b = KeyFile::load_or_create(&p).unwrap();
        assert_eq!(a.blind_index("1"), b.blind_index("1"));
        std::fs::write(dir.path().join("bad"), "encryption_key = abc\n").unwrap();
        set_mode(&dir.path().join("bad"), 0o600);
        assert!(KeyFile::load(&dir.path().join("bad")).is_err());
    }

    #[cfg(unix)]
    fn set_mode(p: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.keys");
        KeyFile::load_or_create(&p).unwrap();
        set_mode(&p, 0o644);
        let e = KeyFile::load(&p).err().expect("refused").to_string();
        assert!(e.contains("chmod 600") && e.contains("644"), "{e}");
        set_mode(&p, 0o600);
        assert!(KeyFile::load(&p).is_ok());
    }
}
