//! `shouwang`: the one binary. serve | init | demo | import | export | user add.

use shouwang::{demo, export, import, reconcile};

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

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
enum AuditCommand {
    /// Recompute the audit log's keyed hash chain; exit 1 naming the first broken event
    Verify {
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
            let store = open(&db, false)
                .await?
                .with_second_factor(policy)
                .with_escalation_delay(chrono::Duration::minutes(i64::from(escalate_after_minutes)))
                .with_report_deadlines(
                    shouwang_domain::quarterly::Deadlines::parse(&report_days)
                        .map_err(|e| anyhow::anyhow!("--report-days: {e}"))?,
                );
            // The outbox is sent every ten seconds.
            let sender = store.clone();
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
            let watcher = store.clone();
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
            let keeper = store.clone();
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
            println!("守望 Shouwang 已启动：http://{bind}/");
            shouwang_web::serve(store, bind, secure, Some(printer)).await?;
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
                &store,
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
            let result = match what {
                ExportWhat::Roster => {
                    export::roster(&store, &actor, &region, on, &filter, &out).await
                }
                ExportWhat::Summary => export::summary(&store, &actor, &region, on, &out).await,
                ExportWhat::Form | ExportWhat::Agreement => {
                    // A 登记表 as .xlsx needs no fonts; PDFs do, and say so before any work.
                    let printer = if export::wants_xlsx(&out) {
                        None
                    } else {
                        Some(export::printer(&font_dir)?)
                    };
                    export::forms(
                        &store,
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
            let run = shouwang_app::retention::run(&store, &policy).await;
            store.close().await;
            let run = run?;
            println!(
                "已归档 {} 份离开花名册超过 {} 天的档案；已删除 {} 份离开超过 {} 年的档案中的个人信息",
                run.archived, policy.archive_after_days, run.erased, policy.erase_after_years
            );
        }
        Command::Audit {
            command: AuditCommand::Verify { db },
        } => {
            let store = open(&db, false).await?;
            let broken = store.verify_audit_chain().await;
            let events = store.audit_event_count().await;
            store.close().await;
            match broken? {
                None => println!("审计日志完整：{} 条记录的哈希链校验通过", events?),
                Some(seq) => bail!(
                    "审计日志第 {seq} 条记录起哈希链断开：该记录或其前一条被修改、删除或插入过，请从备份核对"
                ),
            }
        }
    }
    Ok(())
}
