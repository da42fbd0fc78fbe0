//! The command line as clap reads it: the commands, their flags and their environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

use crate::ops::parse_every;

#[derive(Parser)]
#[command(
    name = "shouwang",
    version,
    about = "守望 农村留守儿童关爱保护信息系统"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(clap::Args, Clone)]
pub(crate) struct DbArgs {
    /// Database: a file path (SQLite) or postgres://user@host/db
    #[arg(long, env = "SHOUWANG_DB")]
    pub(crate) db: String,
    /// Key file (default: one per database under $XDG_CONFIG_HOME/shouwang/keys, else ~/.config/shouwang/keys — apart from the data)
    #[arg(long, env = "SHOUWANG_KEY_FILE")]
    pub(crate) key_file: Option<PathBuf>,
    /// Fix "today" (YYYY-MM-DD), for demonstrations and tests
    #[arg(long, env = "SHOUWANG_TODAY", hide = true)]
    pub(crate) today: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
        /// State a field once for the whole file: 字段=值 (e.g. 户籍性质=农业户口), by the field
        /// catalogue's label or key; every row that leaves it blank takes it (repeatable)
        #[arg(long = "fill", value_name = "FIELD=VALUE")]
        fill: Vec<String>,
    },
    /// Export official documents: roster|summary (.xlsx) for a region; form (登记表, .pdf or .xlsx by
    /// the --out name) for a child or a village; agreement (.pdf) for a child
    Export {
        /// roster (花名册), summary (汇总表), form (登记表), agreement (委托监护责任确认书),
        /// elder-roster (留守老人花名册), elder-form (留守老人基本情况登记表)
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
        /// Elder id (elder-form)
        #[arg(long)]
        elder: Option<String>,
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
pub(crate) struct RetentionArgs {
    /// Days after leaving the roster (exit or 16th birthday) before a file is archived: out of
    /// every working list, readable by county staff with a stated reason
    #[arg(long, env = "SHOUWANG_ARCHIVE_AFTER_DAYS", default_value_t = 30)]
    pub(crate) archive_after_days: u32,
    /// Years after leaving the roster before a file's personal fields are erased (counts stay)
    #[arg(long, env = "SHOUWANG_ERASE_AFTER_YEARS", default_value_t = 3)]
    pub(crate) erase_after_years: u32,
}

impl RetentionArgs {
    pub(crate) fn policy(self) -> Result<shouwang_domain::retention::Retention> {
        shouwang_domain::retention::Retention::new(self.archive_after_days, self.erase_after_years)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

#[derive(Subcommand)]
pub(crate) enum BackupCheck {
    /// Check a backup file: its manifest, checksum and database (exit 1 if damaged or partial)
    Verify { file: PathBuf },
}

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
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
pub(crate) enum AuditCommand {
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
pub(crate) enum UserCommand {
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
pub(crate) enum NotifyChannel {
    Log,
    Email,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportWhat {
    Roster,
    Summary,
    Form,
    Agreement,
    ElderRoster,
    ElderForm,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum CommitArg {
    All,
    Valid,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum CookieSecure {
    Auto,
    Always,
    Never,
}
