//! `shouwang`: the one binary. serve | init | demo | import | export | user add.

mod args;
mod ops;

use shouwang::{demo, export, import, reconcile};

use args::*;
use ops::*;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Parser;

use shouwang_app::App;
use shouwang_app::import::CommitMode;
use shouwang_domain::authz::{Actor, Role};
use shouwang_domain::clock::{Clock, FixedClock};
use shouwang_domain::region::{Divisions, RegionCode};
use shouwang_exchange::forms::FormPrinter;
use shouwang_store::users::NewUser;
use shouwang_store::{KeyFile, Store};

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
            shouwang::demo_work::open(&store).await?;
            shouwang::demo_elders::add(&store, &regions, children, seed).await?;
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
                    match anchored.audit_log().write_audit_anchor(&path).await {
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
            fill,
        } => {
            let store = open(&db, false).await?;
            let actor = acting_user(&store, &as_user).await?;
            let code = import::run(
                &App::new(store.clone()),
                &actor,
                &file,
                import::Options {
                    commit: commit.map(|c| match c {
                        CommitArg::All => CommitMode::All,
                        CommitArg::Valid => CommitMode::Valid,
                    }),
                    errors: errors.as_deref(),
                    map: &map,
                    fill: &fill,
                    save_mapping,
                },
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
            elder,
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
                ExportWhat::ElderRoster => export::elder_roster(&app, &actor, &region, &out).await,
                ExportWhat::ElderForm => match &elder {
                    Some(id) => {
                        let printer = export::printer(&font_dir)?;
                        export::elder_form(&app, &actor, &printer, id, &out).await
                    }
                    None => Err(anyhow::anyhow!("请用 --elder <老人编号> 指定留守老人")),
                },
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
                .users()
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
                    store.users().set_user_email(&u.id, email.as_ref()).await?;
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
            let kept = store.audit_log().read_audit_anchor(&path);
            let verdict = match &kept {
                Ok(Some(a)) => store.audit_log().verify_audit_log(Some(a)).await,
                _ => store.audit_log().verify_audit_log(None).await,
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
            let upgraded = store.audit_log().upgrade_audit_chain().await;
            if upgraded.is_ok() {
                anchor(&store, &db).await;
            }
            store.close().await;
            println!("已用密钥重新串联 {} 条旧版本记录", upgraded?);
        }
    }
    Ok(())
}
