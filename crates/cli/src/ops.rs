//! What the commands share: the clock, the key file, opening the database, the audit anchor,
//! scheduled backups, passphrases, private directories, the acting user.

use super::*;

pub(crate) struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

pub(crate) fn clock(args: &DbArgs) -> Result<Arc<dyn Clock>> {
    Ok(match &args.today {
        Some(d) => {
            let date = shouwang_domain::input::parse_date(d)
                .with_context(|| format!("--today “{d}” 不是有效日期"))?;
            Arc::new(FixedClock::on(date))
        }
        None => Arc::new(SystemClock),
    })
}

/// Where the keys are when `--key-file` is not given: apart from the data, so that a copy of the
/// data directory (a backup, a stolen disk) does not carry its own key — one file per database
/// under `$XDG_CONFIG_HOME/shouwang/keys/` (else `~/.config/shouwang/keys/`), named after the
/// database. A key file beside a SQLite database from an earlier version is still used, with a
/// warning to move it.
pub(crate) fn key_path(args: &DbArgs) -> PathBuf {
    if let Some(p) = &args.key_file {
        return p.clone();
    }
    let postgres = args.db.starts_with("postgres");
    let sqlite_path = args.db.strip_prefix("sqlite://").unwrap_or(&args.db);
    // The database's identity: the absolute file path, or the URL without its password.
    let identity = if postgres {
        redact(&args.db)
    } else {
        let p = std::path::Path::new(sqlite_path);
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .and_then(|d| d.canonicalize().ok())
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        dir.join(p.file_name().unwrap_or_default())
            .to_string_lossy()
            .into_owned()
    };
    use sha2::Digest;
    let tag = hex::encode(&sha2::Sha256::digest(identity.as_bytes())[..6]);
    let stem: String = if postgres {
        identity.rsplit('/').next().unwrap_or("postgres").to_owned()
    } else {
        std::path::Path::new(sqlite_path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "shouwang".to_owned())
    }
    .chars()
    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    .collect();
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    let file = config
        .join("shouwang")
        .join("keys")
        .join(format!("{stem}-{tag}.keys"));
    let legacy = PathBuf::from(format!("{sqlite_path}.keys"));
    if !postgres && !file.exists() && legacy.exists() {
        tracing::warn!(
            keys = %legacy.display(),
            "密钥文件与数据库放在一起：数据目录的副本会带着密钥。请移到别处并用 --key-file 指定"
        );
        return legacy;
    }
    file
}

pub(crate) async fn open(args: &DbArgs, create_keys: bool) -> Result<Store> {
    let path = key_path(args);
    let cipher = if create_keys {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        KeyFile::load_or_create(&path)
    } else {
        KeyFile::load(&path)
    }?;
    let store = Store::open(&args.db, cipher, clock(args)?)
        .await
        .with_context(|| format!("无法打开数据库 {}", redact(&args.db)))?;
    Ok(store)
}

/// The audit anchor's file: beside the key file (apart from the database, like the keys).
pub(crate) fn anchor_path(args: &DbArgs) -> PathBuf {
    key_path(args).with_extension("anchor")
}

/// Writes the audit log's head to the anchor file after a command that may have written; a log
/// found cut short or rewritten is not anchored over, and the warning says so.
pub(crate) async fn anchor(store: &Store, args: &DbArgs) {
    let path = anchor_path(args);
    match store.audit_log().write_audit_anchor(&path).await {
        Ok(a) => tracing::debug!(seq = a.seq, mac = %a.mac, "audit anchor"),
        Err(e) => tracing::error!(error = %e, anchor = %path.display(), "audit anchor not written"),
    }
}

/// `--backup-every`: hours, or a number with its unit (s, m, h, d); at least a second, at most a
/// year.
pub(crate) fn parse_every(s: &str) -> std::result::Result<std::time::Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], s[i..].trim()),
        None => (s, "h"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("“{s}”应写作小时数，或带单位的数字：30m、6h、1d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("“{unit}”不是时间单位：请用 s、m、h 或 d")),
    };
    if !(1..=366 * 86_400).contains(&secs) {
        return Err("备份间隔应在 1 秒到一年之间".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// One scheduled backup into `dir`, named by its time, and the oldest beyond `keep` deleted.
pub(crate) async fn scheduled_backup(db: &str, dir: &std::path::Path, keep: usize) {
    let now = chrono::Utc::now();
    let out = dir.join(format!(
        "shouwang-{}.backup",
        now.format("%Y%m%d-%H%M%S%.3f")
    ));
    match shouwang_store::backup::create(db, &out, now).await {
        Ok(m) => tracing::info!(
            file = %out.display(),
            bytes = m.payload.bytes,
            sha256 = %m.payload.sha256,
            audit_seq = m.audit_seq,
            "scheduled backup"
        ),
        Err(e) => {
            tracing::error!(error = %e, "scheduled backup failed");
            return;
        }
    }
    let mut kept: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name().is_some_and(|n| {
                        let n = n.to_string_lossy();
                        n.starts_with("shouwang-") && n.ends_with(".backup")
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    kept.sort();
    let excess = kept.len().saturating_sub(keep);
    for old in &kept[..excess] {
        if let Err(e) = std::fs::remove_file(old) {
            tracing::warn!(error = %e, file = %old.display(), "old backup not deleted");
        }
    }
}

/// A passphrase from standard input (its last line end taken off).
pub(crate) fn read_passphrase(from_stdin: bool) -> Result<String> {
    if !from_stdin {
        bail!("请用 --passphrase-stdin 从标准输入给出口令（口令不写在命令行上）");
    }
    let mut text = String::new();
    std::io::Read::take(std::io::stdin(), 4096).read_to_string(&mut text)?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// A database restored with its keys: every sealed value must open with them (a sample of each
/// kind is read) and the audit log verify; then its head is anchored beside the key file, where
/// this database's later verifications will look.
pub(crate) async fn anchor_restored(db: &DbArgs) -> Result<()> {
    let store = open(db, false).await?;
    let opened = store.sealed().open_sealed_sample().await;
    let verdict = store.audit_log().verify_audit_log(None).await;
    match (opened, verdict) {
        (Err(e), _) => {
            store.close().await;
            bail!("密钥打不开恢复的数据：{e}（是这个数据库的密钥备份吗？）");
        }
        (_, Ok(shouwang_store::audit::AuditVerdict::Broken { why, .. })) => {
            store.close().await;
            bail!("恢复的审计日志校验失败：{why}");
        }
        (_, Err(e)) => {
            store.close().await;
            return Err(e.into());
        }
        (Ok(n), Ok(shouwang_store::audit::AuditVerdict::Intact { events, .. })) => {
            let path = anchor_path(db);
            if !path.exists() {
                anchor(&store, db).await;
            }
            store.close().await;
            println!("密钥与数据相符：{n} 项加密数据可以打开，审计日志 {events} 条校验通过");
        }
    }
    Ok(())
}

/// Creates the key directory readable by its owner only.
pub(crate) fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("无法创建密钥目录 {}", dir.display()))
}

/// Hides a password in a database URL for messages.
pub(crate) fn redact(db: &str) -> String {
    match (db.find("://"), db.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &db[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &db[..s + 3], &creds[..c], &db[at..]),
                None => db.to_owned(),
            }
        }
        _ => db.to_owned(),
    }
}

pub(crate) fn parse_region(code: &str) -> Result<RegionCode> {
    Ok(Divisions::shipped().parse_existing(code)?)
}

pub(crate) async fn acting_user(store: &Store, username: &str) -> Result<Actor> {
    store
        .users()
        .actor_by_username(username)
        .await?
        .with_context(|| format!("没有用户“{username}”（或该用户已停用）"))
}

pub(crate) async fn init(store: &Store, region: &RegionCode) -> Result<()> {
    let r = store.regions().init_region(region).await?;
    println!(
        "已初始化 {}（{}）：{} 个县级区划，{} 个乡级区划，{} 个村级区划",
        r.region_name, region, r.counties, r.towns, r.villages
    );
    Ok(())
}
