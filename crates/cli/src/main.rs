//! `shouwang`: the one binary. serve | init | demo | import | export | user add.

use shouwang::{demo, export, import, reconcile};

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use shouwang_app::App;
use shouwang_app::import::CommitMode;
use shouwang_domain::authz::{Actor, Role};
use shouwang_domain::clock::{Clock, FixedClock};
use shouwang_domain::region::{Divisions, RegionCode};
use shouwang_exchange::forms::FormPrinter;
use shouwang_store::users::NewUser;
use shouwang_store::{KeyFile, Store};

#[derive(Parser)]
#[command(
    name = "shouwang",
    version,
    about = "守望 农村留守儿童关爱保护信息系统"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DbArgs {
    /// Database: a file path (SQLite) or postgres://user@host/db
    #[arg(long, env = "SHOUWANG_DB")]
    db: String,
    /// Key file (default: one per database under $XDG_CONFIG_HOME/shouwang/keys, else ~/.config/shouwang/keys — apart from the data)
    #[arg(long, env = "SHOUWANG_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Fix "today" (YYYY-MM-DD), for demonstrations and tests
    #[arg(long, env = "SHOUWANG_TODAY", hide = true)]
    today: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Create or migrate the database and load the org tree of a region
    Init {
        #[command(flatten)]
        db: DbArgs,
        /// County, prefecture or province code (e.g. 522730)
        #[arg(long)]
        region: String,
    },
    /// init plus synthetic children and one demo user per role
    Demo {
        #[command(flatten)]
        db: DbArgs,
        /// A division code, or several separated by commas (several provinces for a national
        /// benchmark: the children are shared out evenly; the demo users are of the first)
        #[arg(long, default_value = "522730")]
        region: String,
        #[arg(long, default_value_t = 2000)]
        children: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write sample student and household lists (三方比对) into this folder
        #[arg(long)]
        lists: Option<std::path::PathBuf>,
    },
    /// Run the web UI and API
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Secure cookie flag: auto = on unless bound to loopback (serve HTTPS through a proxy)
        #[arg(long, value_enum, default_value_t = CookieSecure::Auto)]
        cookie_secure: CookieSecure,
        /// Directory of the Noto Serif CJK fonts for PDF forms (Debian fonts-noto-cjk)
        #[arg(long, env = "SHOUWANG_FONT_DIR", default_value = shouwang_print::DEFAULT_FONT_DIR)]
        font_dir: PathBuf,
        /// Roles that must sign in with an authenticator app's code besides the password
        /// (comma-separated role codes, or none)
        #[arg(
            long,
            env = "SHOUWANG_SECOND_FACTOR_ROLES",
            default_value = "county,county_admin"
        )]
        second_factor_roles: String,
        #[command(flatten)]
        retention: RetentionArgs,
        /// How notifications leave the system: log (the server's log) or email (through a
        /// sendmail-compatible program to each user's address)
        #[arg(long, env = "SHOUWANG_NOTIFY", value_enum, default_value_t = NotifyChannel::Log)]
        notify: NotifyChannel,
        /// The sendmail-compatible program for --notify email
        #[arg(long, env = "SHOUWANG_SENDMAIL", default_value = "/usr/sbin/sendmail")]
        sendmail: String,
        /// The From address of notification e-mail
        #[arg(
            long,
            env = "SHOUWANG_MAIL_FROM",
            default_value = "shouwang@localhost.localdomain"
        )]
        mail_from: String,
        /// Minutes a mandatory report may stay unreceived before it goes up to the county
        #[arg(long, env = "SHOUWANG_ESCALATE_AFTER_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1440))]
        escalate_after_minutes: u32,
        /// Days after a quarter's end each level's quarterly report is due (定期通报)
        #[arg(
            long,
            env = "SHOUWANG_REPORT_DAYS",
            default_value = "town=10,county=15,above=20"
        )]
        report_days: String,
        /// Addresses of the reverse proxies in front of the server (comma-separated): only their
        /// X-Forwarded-For names the client; anyone else's is ignored
        #[arg(long, env = "SHOUWANG_TRUSTED_PROXY", value_delimiter = ',')]
        trusted_proxy: Vec<std::net::IpAddr>,
        /// Connections held at once (more wait in the kernel's queue)
        #[arg(long, env = "SHOUWANG_MAX_CONNECTIONS", default_value_t = shouwang_web::DEFAULT_MAX_CONNECTIONS as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        max_connections: u64,
        /// Connections one client address may hold at once (not counted for --trusted-proxy)
        #[arg(long, env = "SHOUWANG_MAX_PER_ADDRESS", default_value_t = shouwang_web::DEFAULT_MAX_PER_ADDRESS as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        max_per_address: u64,
        /// Seconds a connection has to send a request's headers
        #[arg(long, env = "SHOUWANG_HEADER_TIMEOUT_SECS", default_value_t = shouwang_web::DEFAULT_HEADER_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=300))]
        header_timeout_secs: u64,
        /// Write a backup (as `shouwang backup` does) into this directory on a schedule
        #[arg(long, env = "SHOUWANG_BACKUP_DIR")]
        backup_dir: Option<PathBuf>,
        /// Time between scheduled backups: hours, or a number with s, m, h or d (30m, 6h, 1d); the
        /// first one an interval after the start
        #[arg(long, env = "SHOUWANG_BACKUP_EVERY", default_value = "24h", value_parser = parse_every)]
        backup_every: std::time::Duration,
        /// Scheduled backups kept (older ones are deleted)
        #[arg(long, env = "SHOUWANG_BACKUP_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=1000))]
        backup_keep: u64,
    },
    /// Link two lists of people (三方比对): CSV or Excel with the columns
    /// record_id,name,sex,birth_date,id_number,county,town,village
    Reconcile {
        #[arg(long)]
        left: PathBuf,
        #[arg(long)]
        right: PathBuf,
        /// Links as CSV: left_id,right_id,score,decision (match | review)
        #[arg(long)]
        out: PathBuf,
        /// The pairs to review, with names and the reasons for their score
        #[arg(long)]
        review: Option<PathBuf>,
    },
    /// Import children from an Excel (.xlsx, .xls) or CSV roster; without --commit a dry run
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// The user the import is done as (their jurisdiction and rights apply)
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// The spreadsheet
        file: PathBuf,
        /// Write: all (nothing if any row has an error) or valid (skip rows in error)
        #[arg(long, value_enum)]
        commit: Option<CommitArg>,
        /// Write the rows in error, with the reasons, to this .xlsx file
        #[arg(long, value_name = "ERRORS.xlsx")]
        errors: Option<PathBuf>,
        /// Fix the column mapping: 列标题或列字母=字段 (e.g. 村别=village, D=-)
        #[arg(long = "map", value_name = "COLUMN=FIELD")]
        map: Vec<String>,
        /// Save this file's column mapping; later files with the same header use it
        #[arg(long)]
        save_mapping: bool,
    },
    /// Export official documents: roster|summary (.xlsx) for a region; form (登记表, .pdf or .xlsx by
    /// the --out name) for a child or a village; agreement (.pdf) for a child
    Export {
        /// roster (花名册), summary (汇总表), form (登记表), agreement (委托监护责任确认书)
        #[arg(value_enum)]
        what: ExportWhat,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// Region code (roster, summary); default: the user's jurisdiction
        #[arg(long)]
        region: Option<String>,
        /// Reference date YYYY-MM-DD (default: today)
        #[arg(long)]
        date: Option<String>,
        /// Child id (form, agreement)
        #[arg(long)]
        child: Option<String>,
        /// Output file; a form whose name ends in .xlsx is written as a workbook, else as PDF
        #[arg(long)]
        out: PathBuf,
        /// Roster filters: guardianship type, schooling, age band (0-5, 6-13, 14-16), key-target flag
        #[arg(long)]
        guardianship_type: Option<String>,
        #[arg(long)]
        schooling: Option<String>,
        #[arg(long)]
        age_band: Option<String>,
        #[arg(long)]
        flag: Option<String>,
        /// Directory of the Noto Serif CJK fonts for PDF forms (Debian fonts-noto-cjk)
        #[arg(long, env = "SHOUWANG_FONT_DIR", default_value = shouwang_print::DEFAULT_FONT_DIR)]
        font_dir: PathBuf,
    },
    /// Manage users
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// A consistent backup of the database while the server runs (`backup --db DB --out FILE`),
    /// with a manifest and a checksum; `backup verify FILE` checks one
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        #[command(subcommand)]
        check: Option<BackupCheck>,
        /// Database: a file path (SQLite) or postgres://user@host/db
        #[arg(long)]
        db: Option<String>,
        /// The backup file to write (it must not exist)
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Restore a backup into a new database (a SQLite path not yet used, or an empty PostgreSQL
    /// database); then `keys import` the key file kept apart
    Restore {
        /// The backup file
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// The key file, sealed with a passphrase to keep offline apart from the data backups
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Archive the files that left the roster and erase the personal fields of those whose
    /// period ended (the server also does this at start and every six hours)
    Retention {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        periods: RetentionArgs,
    },
}

/// How long files that left the roster are kept (个人信息保护法 Art. 19, 47).
#[derive(clap::Args, Clone, Copy)]
struct RetentionArgs {
    /// Days after leaving the roster (exit or 16th birthday) before a file is archived: out of
    /// every working list, readable by county staff with a stated reason
    #[arg(long, env = "SHOUWANG_ARCHIVE_AFTER_DAYS", default_value_t = 30)]
    archive_after_days: u32,
    /// Years after leaving the roster before a file's personal fields are erased (counts stay)
    #[arg(long, env = "SHOUWANG_ERASE_AFTER_YEARS", default_value_t = 3)]
    erase_after_years: u32,
}

impl RetentionArgs {
    fn policy(self) -> Result<shouwang_domain::retention::Retention> {
        shouwang_domain::retention::Retention::new(self.archive_after_days, self.erase_after_years)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

#[derive(Subcommand)]
enum BackupCheck {
    /// Check a backup file: its manifest, checksum and database (exit 1 if damaged or partial)
    Verify { file: PathBuf },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write the database's key file sealed with a passphrase read from standard input
    Export {
        #[command(flatten)]
        db: DbArgs,
        /// The sealed key backup to write (it must not exist)
        #[arg(long)]
        out: PathBuf,
        /// Read the passphrase from standard input (required: never on the command line)
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Write the key file of a database from a sealed key backup and its passphrase
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// The sealed key backup
        #[arg(long)]
        from: PathBuf,
        /// Read the passphrase from standard input (required)
        #[arg(long)]
        passphrase_stdin: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the audit log's keyed hash chain and compare its head with the anchor kept
    /// beside the key file; exit 1 naming the first broken event
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// Check the chain only, when no anchor was ever written (its tail cannot be checked)
        #[arg(long)]
        no_anchor: bool,
    },
    /// Re-chain, with the key, a log written before the keyed chain (version 1), after checking
    /// it; verification refuses version 1 events until then
    Upgrade {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        /// village, town, county, county_admin, school, police, agency, oversight, court,
        /// procuratorate, education
        #[arg(long)]
        role: String,
        /// Region code of the user's office (for school/agency users: the region the agency is under)
        #[arg(long)]
        org: String,
        /// Agency name (school and agency roles), created under --org if new
        #[arg(long)]
        agency: Option<String>,
        /// Display name
        #[arg(long)]
        name: Option<String>,
        /// Where the user's notifications are e-mailed (serve --notify email)
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum NotifyChannel {
    Log,
    Email,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportWhat {
    Roster,
    Summary,
    Form,
    Agreement,
}

#[derive(Clone, Copy, ValueEnum)]
enum CommitArg {
    All,
    Valid,
}

#[derive(Clone, Copy, ValueEnum)]
enum CookieSecure {
    Auto,
    Always,
    Never,
}

struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

fn clock(args: &DbArgs) -> Result<Arc<dyn Clock>> {
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
fn key_path(args: &DbArgs) -> PathBuf {
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

async fn open(args: &DbArgs, create_keys: bool) -> Result<Store> {
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
fn anchor_path(args: &DbArgs) -> PathBuf {
    key_path(args).with_extension("anchor")
}

/// Writes the audit log's head to the anchor file after a command that may have written; a log
/// found cut short or rewritten is not anchored over, and the warning says so.
async fn anchor(store: &Store, args: &DbArgs) {
    let path = anchor_path(args);
    match store.write_audit_anchor(&path).await {
        Ok(a) => tracing::debug!(seq = a.seq, mac = %a.mac, "audit anchor"),
        Err(e) => tracing::error!(error = %e, anchor = %path.display(), "audit anchor not written"),
    }
}

/// `--backup-every`: hours, or a number with its unit (s, m, h, d); at least a second, at most a
/// year.
fn parse_every(s: &str) -> std::result::Result<std::time::Duration, String> {
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
async fn scheduled_backup(db: &str, dir: &std::path::Path, keep: usize) {
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
fn read_passphrase(from_stdin: bool) -> Result<String> {
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
async fn anchor_restored(db: &DbArgs) -> Result<()> {
    let store = open(db, false).await?;
    let opened = store.open_sealed_sample().await;
    let verdict = store.verify_audit_log(None).await;
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
fn create_private_dir(dir: &std::path::Path) -> Result<()> {
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
fn redact(db: &str) -> String {
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

fn parse_region(code: &str) -> Result<RegionCode> {
    Ok(Divisions::shipped().parse_existing(code)?)
}

async fn acting_user(store: &Store, username: &str) -> Result<Actor> {
    store
        .actor_by_username(username)
        .await?
        .with_context(|| format!("没有用户“{username}”（或该用户已停用）"))
}

async fn init(store: &Store, region: &RegionCode) -> Result<()> {
    let r = store.init_region(region).await?;
    println!(
        "已初始化 {}（{}）：{} 个县级区划，{} 个乡级区划，{} 个村级区划",
        r.region_name, region, r.counties, r.towns, r.villages
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    shouwang_exchange::sheet::on_idle(shouwang::release_memory);
    // A person reads these messages: the error and its causes in one line, no backtrace.
    if let Err(e) = run().await {
        eprintln!("错误：{e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Init { db, region } => {
            let region = parse_region(&region)?;
            let store = open(&db, true).await?;
            init(&store, &region).await?;
            anchor(&store, &db).await;
            println!(
                "密钥文件：{}（请妥善保管并与数据库分开备份）",
                key_path(&db).display()
            );
        }
        Command::Demo {
            db,
            region,
            children,
            seed,
            lists,
        } => {
            let regions = region
                .split(',')
                .filter(|r| !r.trim().is_empty())
                .map(parse_region)
                .collect::<Result<Vec<_>>>()?;
            anyhow::ensure!(!regions.is_empty(), "请用 --region 指定至少一个区划代码");
            let store = open(&db, true).await?;
            for region in &regions {
                init(&store, region).await?;
            }
            demo::run_regions(&store, &regions, children, seed, lists.as_deref()).await?;
            anchor(&store, &db).await;
        }
        Command::Serve {
            db,
            bind,
            cookie_secure,
            font_dir,
            second_factor_roles,
            retention,
            escalate_after_minutes,
            report_days,
            notify,
            sendmail,
            mail_from,
            trusted_proxy,
            max_connections,
            max_per_address,
            header_timeout_secs,
            backup_dir,
            backup_every,
            backup_keep,
        } => {
            let channel: Arc<dyn shouwang_app::notify::Channel> = match notify {
                NotifyChannel::Log => Arc::new(shouwang_app::notify::LogChannel),
                NotifyChannel::Email => {
                    shouwang_domain::person::EmailAddress::parse(&mail_from)
                        .map_err(|e| anyhow::anyhow!("--mail-from: {e}"))?;
                    Arc::new(shouwang_app::notify::SendmailChannel {
                        program: sendmail,
                        from: mail_from,
                    })
                }
            };
            let retention = retention.policy()?;
            let policy = shouwang_domain::authz::SecondFactorPolicy::parse(&second_factor_roles)
                .map_err(|e| anyhow::anyhow!("--second-factor-roles: {e}"))?;
            // The fonts are loaded once, before anything else: without them no form prints.
            let printer: Arc<dyn shouwang_exchange::forms::FormPrinter> =
                Arc::new(export::printer(&font_dir)?);
            let store = open(&db, false).await?;
            let app = App::new(store.clone()).with_policies(shouwang_app::Policies {
                second_factor: policy,
                escalation: chrono::Duration::minutes(i64::from(escalate_after_minutes)),
                report_deadlines: shouwang_domain::quarterly::Deadlines::parse(&report_days)
                    .map_err(|e| anyhow::anyhow!("--report-days: {e}"))?,
            });
            // The outbox is sent every ten seconds.
            let sender = app.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
                loop {
                    every.tick().await;
                    if let Err(e) = shouwang_app::notify::dispatch(&sender, channel.clone()).await {
                        tracing::error!(error = %e, "notification dispatch failed");
                    }
                }
            });
            // Unreceived mandatory reports go up to the county when their delay passes, whether
            // or not anyone opens an inbox.
            let watcher = app.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    every.tick().await;
                    match shouwang_app::protection::escalate(&watcher).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::warn!(reports = n, "unreceived reports sent up to the county")
                        }
                        Err(e) => tracing::error!(error = %e, "escalation pass failed"),
                    }
                }
            });
            let secure = match cookie_secure {
                CookieSecure::Auto => None,
                CookieSecure::Always => Some(true),
                CookieSecure::Never => Some(false),
            };
            // The quarter-end pass and retention run at start and every six hours (each pass is
            // idempotent).
            let keeper = app.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(6 * 3600));
                loop {
                    every.tick().await;
                    // What the quarter's end decides is written down first (children who turned
                    // 16 leave the roster with the reason), then retention.
                    match shouwang_app::quarterly::apply_quarter_end(&keeper).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(exited = n, "quarter-end pass"),
                        Err(e) => tracing::error!(error = %e, "quarter-end pass failed"),
                    }
                    match shouwang_app::retention::run(&keeper, &retention).await {
                        Ok(r) if r.archived + r.erased > 0 => {
                            tracing::info!(
                                archived = r.archived,
                                erased = r.erased,
                                "retention pass"
                            )
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "retention pass failed"),
                    }
                }
            });
            // The audit log's head goes outside the database every ten seconds it has moved, and
            // into the server's log (a copy the operator keeps off this machine).
            let anchored = store.clone();
            let anchor_db = db.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
                let mut last = -1;
                loop {
                    every.tick().await;
                    let path = anchor_path(&anchor_db);
                    match anchored.write_audit_anchor(&path).await {
                        Ok(a) if a.seq != last => {
                            last = a.seq;
                            tracing::info!(seq = a.seq, hash = %a.hash, mac = %a.mac, "audit anchor");
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "audit anchor not written"),
                    }
                }
            });
            if let Some(dir) = backup_dir {
                create_private_dir(&dir)?;
                let url = db.db.clone();
                tokio::spawn(async move {
                    let period = backup_every;
                    let mut every =
                        tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                    loop {
                        every.tick().await;
                        scheduled_backup(&url, &dir, backup_keep as usize).await;
                    }
                });
            }
            println!("守望 Shouwang 已启动：http://{bind}/");
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("无法监听 {bind}"))?;
            shouwang_web::serve_with_options(
                app,
                listener,
                shouwang_web::ServeOptions {
                    secure_cookies: secure,
                    printer: Some(printer),
                    trusted_proxies: trusted_proxy,
                    max_connections: max_connections as usize,
                    max_per_address: max_per_address as usize,
                    header_timeout: std::time::Duration::from_secs(header_timeout_secs),
                },
            )
            .await?;
            anchor(&store, &db).await;
        }
        Command::Reconcile {
            left,
            right,
            out,
            review,
        } => reconcile::run(&left, &right, &out, review.as_deref())?,
        Command::Import {
            db,
            as_user,
            file,
            commit,
            errors,
            map,
            save_mapping,
        } => {
            let store = open(&db, false).await?;
            let actor = acting_user(&store, &as_user).await?;
            let code = import::run(
                &App::new(store.clone()),
                &actor,
                &file,
                commit.map(|c| match c {
                    CommitArg::All => CommitMode::All,
                    CommitArg::Valid => CommitMode::Valid,
                }),
                errors.as_deref(),
                &map,
                save_mapping,
            )
            .await?;
            anchor(&store, &db).await;
            store.close().await;
            std::process::exit(code);
        }
        Command::Export {
            what,
            db,
            as_user,
            region,
            date,
            child,
            out,
            guardianship_type,
            schooling,
            age_band,
            flag,
            font_dir,
        } => {
            let store = open(&db, false).await?;
            let actor = acting_user(&store, &as_user).await?;
            let on = match &date {
                Some(d) => shouwang_domain::input::parse_date(d)
                    .with_context(|| format!("--date “{d}” 不是有效日期（例：2026-07-31）"))?,
                None => store.today(),
            };
            let region = match &region {
                Some(r) => parse_region(r)?,
                None => actor.region.clone(),
            };
            let filter = export::filter(
                guardianship_type.as_deref(),
                schooling.as_deref(),
                age_band.as_deref(),
                flag.as_deref(),
            )?;
            let app = App::new(store.clone());
            let result = match what {
                ExportWhat::Roster => {
                    export::roster(&app, &actor, &region, on, &filter, &out).await
                }
                ExportWhat::Summary => export::summary(&app, &actor, &region, on, &out).await,
                ExportWhat::Form | ExportWhat::Agreement => {
                    // A 登记表 as .xlsx needs no fonts; PDFs do, and say so before any work.
                    let printer = if export::wants_xlsx(&out) {
                        None
                    } else {
                        Some(export::printer(&font_dir)?)
                    };
                    export::forms(
                        &app,
                        &actor,
                        printer.as_ref().map(|p| p as &dyn FormPrinter),
                        child.as_deref(),
                        child.is_none().then_some(&region),
                        on,
                        what == ExportWhat::Agreement,
                        &out,
                    )
                    .await
                }
            };
            anchor(&store, &db).await;
            store.close().await;
            result?;
        }
        Command::User {
            command:
                UserCommand::Add {
                    db,
                    username,
                    role,
                    org,
                    agency,
                    name,
                    email,
                    password_stdin,
                },
        } => {
            let email = email
                .as_deref()
                .map(shouwang_domain::person::EmailAddress::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            if !password_stdin {
                bail!("请用 --password-stdin 从标准输入提供密码（避免密码出现在命令历史中）");
            }
            let role = Role::parse(&role).with_context(|| {
                let all: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
                format!("未知角色“{role}”：可选 {}", all.join(", "))
            })?;
            let region = parse_region(&org)?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            let store = open(&db, false).await?;
            match store
                .add_user(NewUser {
                    display_name: name.unwrap_or_else(|| username.clone()),
                    username,
                    password,
                    role,
                    region,
                    agency,
                })
                .await
            {
                Ok(u) => {
                    store.set_user_email(&u.id, email.as_ref()).await?;
                    anchor(&store, &db).await;
                    println!(
                        "已创建用户 {}（{}，{}）",
                        u.username,
                        role.label(),
                        u.region_code
                    )
                }
                Err(shouwang_store::StoreError::Validation(v)) => bail!("{}", v.summary()),
                Err(e) => return Err(e.into()),
            }
        }
        Command::Retention { db, periods } => {
            let policy = periods.policy()?;
            let store = open(&db, false).await?;
            let run = shouwang_app::retention::run(&App::new(store.clone()), &policy).await;
            anchor(&store, &db).await;
            store.close().await;
            let run = run?;
            println!(
                "已归档 {} 份离开花名册超过 {} 天的档案；已删除 {} 份离开超过 {} 年的档案中的个人信息",
                run.archived, policy.archive_after_days, run.erased, policy.erase_after_years
            );
        }
        Command::Backup {
            check: Some(BackupCheck::Verify { file }),
            ..
        } => {
            let m = shouwang_store::backup::verify(&file).await?;
            println!(
                "备份完整：{}，{} 数据库，结构版本 {}，{} 张表共 {} 行，审计日志到第 {} 条；校验和 {}",
                m.created_at,
                m.backend,
                m.schema_version,
                m.tables.len(),
                m.tables.values().sum::<i64>(),
                m.audit_seq,
                m.payload.sha256
            );
        }
        Command::Backup {
            check: None,
            db,
            out,
        } => {
            let (Some(db), Some(out)) = (db, out) else {
                bail!("请用 --db 指定数据库、--out 指定备份文件");
            };
            let m = shouwang_store::backup::create(&db, &out, chrono::Utc::now()).await?;
            println!(
                "已备份到 {}：{} 张表共 {} 行，{} 字节，校验和 {}",
                out.display(),
                m.tables.len(),
                m.tables.values().sum::<i64>(),
                m.payload.bytes,
                m.payload.sha256
            );
        }
        Command::Restore { from, db } => {
            let m = shouwang_store::backup::restore(&from, &db.db).await?;
            // The anchor beside this database's key belonged to the database that was here (a
            // restore never writes over one): its log went with it. Kept aside, not deleted; the
            // restored log is anchored below or by `keys import`.
            let old_anchor = anchor_path(&db);
            if old_anchor.exists() {
                let aside = old_anchor.with_extension(format!(
                    "anchor.before-restore-{}",
                    chrono::Utc::now().format("%Y%m%d%H%M%S")
                ));
                std::fs::rename(&old_anchor, &aside)
                    .with_context(|| format!("无法移开旧的审计锚点 {}", old_anchor.display()))?;
                println!(
                    "原数据库的审计锚点已移到 {}（恢复后的日志另行锚定）",
                    aside.display()
                );
            }
            println!(
                "已从 {} 恢复到 {}：{} 张表共 {} 行（备份于 {}）",
                from.display(),
                redact(&db.db),
                m.tables.len(),
                m.tables.values().sum::<i64>(),
                m.created_at
            );
            if key_path(&db).exists() {
                anchor_restored(&db).await?;
            } else {
                println!(
                    "下一步：shouwang keys import --db {} --from <密钥备份> --passphrase-stdin",
                    redact(&db.db)
                );
            }
        }
        Command::Keys {
            command:
                KeysCommand::Export {
                    db,
                    out,
                    passphrase_stdin,
                },
        } => {
            let passphrase = read_passphrase(passphrase_stdin)?;
            let text = shouwang_store::SealedKeys::export(&key_path(&db), &passphrase)?;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&out)
                .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
                .with_context(|| format!("无法写入 {}（不覆盖已有文件）", out.display()))?;
            println!(
                "已把密钥文件用口令加密写入 {}：请与数据库备份分开保存，口令另行保管",
                out.display()
            );
        }
        Command::Keys {
            command:
                KeysCommand::Import {
                    db,
                    from,
                    passphrase_stdin,
                },
        } => {
            let passphrase = read_passphrase(passphrase_stdin)?;
            let sealed = std::fs::read_to_string(&from)
                .with_context(|| format!("无法读取 {}", from.display()))?;
            let path = key_path(&db);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir)?;
            }
            shouwang_store::SealedKeys::import(&sealed, &passphrase, &path)?;
            println!("已写入密钥文件 {}", path.display());
            // A database already restored is checked with the keys and anchored; before the
            // restore there is nothing to open (and opening would create the tables a restore
            // refuses to write over).
            if !shouwang_store::backup::is_empty(&db.db).await? {
                anchor_restored(&db).await?;
            }
        }
        Command::Audit {
            command: AuditCommand::Verify { db, no_anchor },
        } => {
            let store = open(&db, false).await?;
            let path = anchor_path(&db);
            let kept = store.read_audit_anchor(&path);
            let verdict = match &kept {
                Ok(Some(a)) => store.verify_audit_log(Some(a)).await,
                _ => store.verify_audit_log(None).await,
            };
            store.close().await;
            let kept = kept?;
            match verdict? {
                shouwang_store::audit::AuditVerdict::Broken { why, .. } => {
                    bail!("审计日志校验失败：{why}。请从备份核对")
                }
                shouwang_store::audit::AuditVerdict::Intact { events, .. } if kept.is_none() => {
                    if !no_anchor {
                        bail!(
                            "没有找到库外的审计锚点 {}：{events} 条记录的哈希链本身完整，但无法确认末尾没有被删除。\
                             锚点由 serve 等命令写在密钥文件旁；若确实从未写过，可加 --no-anchor 只校验哈希链",
                            path.display()
                        );
                    }
                    println!("审计日志的哈希链完整：{events} 条记录（未与库外锚点核对）");
                }
                shouwang_store::audit::AuditVerdict::Intact { events, anchored } => println!(
                    "审计日志完整：{events} 条记录的哈希链校验通过，与库外锚点（第 {} 条）相符",
                    anchored.unwrap_or(0)
                ),
            }
        }
        Command::Audit {
            command: AuditCommand::Upgrade { db },
        } => {
            let store = open(&db, false).await?;
            let upgraded = store.upgrade_audit_chain().await;
            if upgraded.is_ok() {
                anchor(&store, &db).await;
            }
            store.close().await;
            println!("已用密钥重新串联 {} 条旧版本记录", upgraded?);
        }
    }
    Ok(())
}
