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

fn damaged() -> StoreError {
    StoreError::Config("无法解密存储的数据（身份证号码或档案）：密钥不匹配或数据损坏".into())
}

pub struct IdCipher {
    aead: Aes256Gcm,
    /// HMAC already keyed (cloned per value, so the key schedule runs once).
    index_mac: Hmac<Sha256>,
}

impl IdCipher {
    pub fn new(encryption_key: [u8; 32], index_key: [u8; 32]) -> IdCipher {
        IdCipher {
            aead: Aes256Gcm::new(&encryption_key.into()),
            index_mac: <Hmac<Sha256> as Mac>::new_from_slice(&index_key)
                .expect("HMAC takes any key length"),
        }
    }

    /// `v1:<base64(nonce ‖ ciphertext)>`; the AAD binds the value to its column.
    pub fn encrypt(&self, column: &str, plain: &str) -> String {
        self.encrypt_bytes(column, plain.as_bytes())
    }

    pub fn decrypt(&self, column: &str, stored: &str) -> Result<String, StoreError> {
        String::from_utf8(self.decrypt_bytes(column, stored)?).map_err(|_| damaged())
    }

    pub(crate) fn encrypt_bytes(&self, column: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: column.as_bytes(),
                },
            )
            .expect("AES-GCM encryption does not fail for short inputs");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{VERSION}:{}", B64.encode(out))
    }

    pub(crate) fn decrypt_bytes(&self, column: &str, stored: &str) -> Result<Vec<u8>, StoreError> {
        let body = stored.strip_prefix("v1:").ok_or_else(damaged)?;
        let bytes = B64.decode(body).map_err(|_| damaged())?;
        if bytes.len() < 12 {
            return Err(damaged());
        }
        let (nonce, ct) = bytes.split_at(12);
        self.aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: column.as_bytes(),
                },
            )
            .map_err(|_| damaged())
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
