//! Users, passwords (Argon2id), sessions, API tokens and login throttling.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::Serialize;
use sqlx::Row;

use shouwang_domain::authz::{Actor, Role, SecondFactorPolicy};
use shouwang_domain::region::RegionCode;
use shouwang_domain::validation::ValidationErrors;

use crate::audit::{self, Who};
use crate::second_factor::SecondFactor;
use crate::{Result, Store, StoreError, random_token, token_hash};

/// Failed logins allowed per username within [`THROTTLE_MINUTES`] before further attempts are
/// refused without checking the password.
pub const MAX_FAILURES: i64 = 5;
pub const THROTTLE_MINUTES: i64 = 15;
/// Failed logins one client address may make, on any accounts, within [`THROTTLE_MINUTES`].
pub const MAX_ADDRESS_FAILURES: i64 = 30;
/// The longest an answer to a login on a much-guessed account is held back.
pub const MAX_DELAY_SECS: i64 = 5;
/// Failures on one account from anywhere within a day; past them the account's password is not
/// checked until the day's failures age out (NIST SP 800-63B's ceiling: an attacker with many
/// addresses gets 100 guesses a day, not ten a second).
pub const MAX_ACCOUNT_FAILURES_PER_DAY: i64 = 100;
/// Passwords checked at once by the server (argon2 takes memory and a core each).
pub const HASHES_AT_ONCE: usize = 2;
/// Longer usernames and passwords are refused before anything is looked up or hashed.
pub const MAX_USERNAME_CHARS: usize = 64;
pub const MAX_PASSWORD_BYTES: usize = 1024;
pub const SESSION_HOURS: i64 = 12;
/// A session unused this long ends (a phone left unlocked, a shared office PC).
pub const SESSION_IDLE_MINUTES: i64 = 60;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub region: RegionCode,
    /// For school and agency users: the agency's name under `region` (created if new).
    pub agency: Option<String>,
}

/// A live session: who, its CSRF token, and whether the user must first replace a password an
/// administrator chose.
pub struct Session {
    pub actor: Actor,
    pub csrf_token: String,
    pub must_change_password: bool,
    /// What the session still lacks before it may work.
    pub second_factor: SecondFactor,
    /// For a user with a second factor: whether the session passed it within
    /// [`crate::second_factor::FRESH_FACTOR_MINUTES`] (an administrator's change asks for it
    /// again past that). `None`: the user has no second factor to ask.
    pub factor_fresh: Option<bool>,
}

/// A signed-in session as its owner lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    pub id: String,
    pub created_at: String,
    pub last_seen: String,
    pub expires_at: String,
    /// The session this list was asked from.
    pub current: bool,
}

/// An API token as its owner lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenSummary {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub region_code: String,
    /// False once an administrator disabled the account.
    pub active: bool,
    /// Signs in with a second factor.
    pub second_factor: bool,
}

#[derive(Debug)]
pub enum LoginOutcome {
    Ok {
        actor: Actor,
        session_token: String,
        csrf_token: String,
        /// What the new session still lacks (a code, or setting one up).
        second_factor: SecondFactor,
    },
    BadCredentials,
    Throttled,
}

pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default params")
        .to_string()
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so timing does not reveal usernames.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password"))
}

impl Store {
    /// Adds a user on behalf of the system (CLI, demo).
    pub async fn add_user(&self, new: NewUser) -> Result<UserSummary> {
        self.create_user(None, new).await
    }

    /// Adds a user, checked (username, password, role and org); `by` is the administrator who
    /// adds them, if any (audited). Whether `by` may is `shouwang_app::users`'.
    pub async fn create_user(&self, by: Option<&Actor>, new: NewUser) -> Result<UserSummary> {
        let mut errors = ValidationErrors::default();
        let username = new.username.trim().to_owned();
        if username.len() < 2
            || username.len() > 40
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            errors.add("username", "用户名应为2—40位字母、数字、下划线、连字符或点");
        }
        if new.password.chars().count() < 10 {
            errors.add("password", "密码至少10位");
        }
        if let Some(level) = new.role.required_level()
            && new.region.level() != level
        {
            errors.add(
                "org",
                format!(
                    "{}应属于{}区划（{}位代码）",
                    new.role.label(),
                    level.label(),
                    level.code_len()
                ),
            );
        }
        if new.role.is_agency_role()
            && new
                .agency
                .as_deref()
                .map(str::trim)
                .unwrap_or("")
                .is_empty()
        {
            errors.add(
                "agency",
                format!("{}用户需指定所属机构名称", new.role.label()),
            );
        }
        // A department says in its name which it is (县残联, 县卫健局…): referrals are routed by it.
        if new.role == shouwang_domain::authz::Role::Department
            && let Some(name) = new.agency.as_deref().filter(|n| !n.trim().is_empty())
            && shouwang_domain::routing::Unit::from_agency_name(name).is_none()
        {
            errors.add(
                "agency",
                "职能部门的名称应写明是人社、卫健（卫计）、乡村振兴（扶贫）或残联，例如“龙里县残联”",
            );
        }
        if self.region(&new.region).await?.is_none() {
            errors.add("org", format!("区划“{}”尚未初始化或不存在", new.region));
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let agency_id = match (&new.agency, new.role.is_agency_role()) {
            (Some(name), true) => {
                let kind = match shouwang_domain::routing::Unit::from_agency_name(name) {
                    Some(unit) if new.role == shouwang_domain::authz::Role::Department => {
                        unit.code()
                    }
                    _ => new.role.code(),
                };
                Some(self.ensure_agency(&new.region, name.trim(), kind).await?)
            }
            _ => None,
        };
        let password = new.password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| StoreError::Config(format!("hashing task failed: {e}")))?;
        let id = crate::new_id();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(&username)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict {
                field: Some("username".into()),
                message: format!("用户名“{username}”已存在"),
            });
        }
        sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, role, region_code, agency_id, active, created_at, must_change_password) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)",
        )
        .bind(&id)
        .bind(&username)
        .bind(&new.display_name)
        .bind(&hash)
        .bind(new.role.code())
        .bind(new.region.as_str())
        .bind(agency_id.clone())
        .bind(self.now_text())
        // Chosen by an administrator: the user sets their own at first sign-in.
        .bind(i64::from(by.is_some()))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            &self.cipher,
            &self.now_text(),
            match by {
                Some(admin) => admin.into(),
                None => Who {
                    user_id: None,
                    username: "system",
                },
            },
            "user_add",
            "user",
            Some(&id),
            Some(new.region.as_str()),
            serde_json::json!({"username": username, "role": new.role.code()}),
        )
        .await?;
        tx.commit().await?;
        Ok(UserSummary {
            id,
            username,
            display_name: new.display_name,
            role: new.role.code().to_owned(),
            region_code: new.region.as_str().to_owned(),
            active: true,
            second_factor: false,
        })
    }

    pub(crate) async fn actor_from_row(&self, row: &sqlx::any::AnyRow) -> Result<Actor> {
        let role: String = row.try_get("role")?;
        let region: String = row.try_get("region_code")?;
        Ok(Actor {
            user_id: row.try_get("id")?,
            username: row.try_get("username")?,
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Config(format!("bad role {role}")))?,
            region: RegionCode::parse(&region).map_err(|e| StoreError::Config(e.to_string()))?,
            agency_id: row.try_get("agency_id")?,
        })
    }

    /// Checks a password from a client address; on success opens a session.
    ///
    /// Throttling (the attempt is reserved before the password is checked, in one transaction that
    /// serialises writers, so parallel guesses are all counted):
    /// - [`MAX_FAILURES`] failures for one account from one address within [`THROTTLE_MINUTES`]
    ///   stop that address for that account; the owner at another address is not locked out;
    /// - [`MAX_ADDRESS_FAILURES`] failures from one address, whatever the accounts, stop the address
    ///   (password spraying);
    /// - failures on an account from everywhere slow its answers down (up to
    ///   [`MAX_DELAY_SECS`] s), and past [`MAX_ACCOUNT_FAILURES_PER_DAY`] in a day stop its
    ///   password being checked until they age out;
    /// - a refusal writes no failure row; refusals are counted per address or account, and
    ///   audited at counts 1, 2, 4, 8…; failures and refusals older than a day are deleted;
    /// - at most [`HASHES_AT_ONCE`] passwords are checked at a time (each costs memory and a core).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: &str,
        policy: &SecondFactorPolicy,
    ) -> Result<LoginOutcome> {
        if username.chars().count() > MAX_USERNAME_CHARS || password.len() > MAX_PASSWORD_BYTES {
            return Ok(LoginOutcome::BadCredentials);
        }
        let since = (self.clock.now() - chrono::Duration::minutes(THROTTLE_MINUTES))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let day_ago = (self.clock.now() - chrono::Duration::hours(24))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let (mine, on_account) = {
            let mut tx = self.pool.begin().await?;
            audit::lock_head(&mut tx).await?;
            // What no limit looks at any more goes: the failures and refusals of a flood are kept
            // a day, not for ever (issue 24: ~0.8 GB an hour from one address).
            sqlx::query("DELETE FROM login_failures WHERE at < $1")
                .bind(&day_ago)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM login_refusals WHERE last_at < $1")
                .bind(&day_ago)
                .execute(&mut *tx)
                .await?;
            // This account from this address, this address on any account, this account from
            // anywhere (in the window, and in the day) — in one pass over the attempts.
            let counts = sqlx::query(
                "SELECT \
                 COALESCE(SUM(CASE WHEN username = $1 AND address = $2 AND at >= $3 THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN address = $2 AND at >= $3 THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN username = $1 AND at >= $3 THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN username = $1 THEN 1 ELSE 0 END), 0) \
                 FROM login_failures WHERE (username = $1 AND at >= $4) OR (address = $2 AND at >= $3)",
            )
            .bind(username)
            .bind(address)
            .bind(&since)
            .bind(&day_ago)
            .fetch_one(&mut *tx)
            .await?;
            let (mine, from_address, on_account, on_account_today): (i64, i64, i64, i64) = (
                counts.try_get(0)?,
                counts.try_get(1)?,
                counts.try_get(2)?,
                counts.try_get(3)?,
            );
            // Refused unchecked: counted in one row per address or account (not a row and an
            // audit event each), audited when the count reaches 1, 2, 4, 8… so the account's
            // administrator sees the flood and its size in a handful of events.
            let refused_as = if from_address >= MAX_ADDRESS_FAILURES {
                Some(("", address, "address"))
            } else if on_account_today >= MAX_ACCOUNT_FAILURES_PER_DAY {
                Some((username, "*", "account_day"))
            } else if mine >= MAX_FAILURES {
                Some((username, address, "account_address"))
            } else {
                None
            };
            if let Some((key_user, key_address, reason)) = refused_as {
                let now = self.now_text();
                let (refused, first_at): (i64, String) = sqlx::query_as(
                    "INSERT INTO login_refusals (username, address, first_at, last_at, refused) \
                     VALUES ($1, $2, $3, $3, 1) \
                     ON CONFLICT (username, address) DO UPDATE SET \
                     refused = CASE WHEN login_refusals.last_at < $4 THEN 1 ELSE login_refusals.refused + 1 END, \
                     first_at = CASE WHEN login_refusals.last_at < $4 THEN excluded.first_at ELSE login_refusals.first_at END, \
                     last_at = excluded.last_at \
                     RETURNING refused, first_at",
                )
                .bind(key_user)
                .bind(key_address)
                .bind(&now)
                .bind(&since)
                .fetch_one(&mut *tx)
                .await?;
                if (refused as u64).is_power_of_two() {
                    let account: Option<(String, String)> =
                        sqlx::query_as("SELECT id, region_code FROM users WHERE username = $1")
                            .bind(username)
                            .fetch_optional(&mut *tx)
                            .await?;
                    audit::record(
                        &mut tx,
                        &self.cipher,
                        &now,
                        Who {
                            user_id: account.as_ref().map(|(id, _)| id.as_str()),
                            username,
                        },
                        "login_throttled",
                        "session",
                        None,
                        account.as_ref().map(|(_, region)| region.as_str()),
                        serde_json::json!({
                            "address": address,
                            "reason": reason,
                            "refused": refused,
                            "since": first_at,
                        }),
                    )
                    .await?;
                }
                tx.commit().await?;
                return Ok(LoginOutcome::Throttled);
            }
            sqlx::query(
                "INSERT INTO login_failures (id, username, at, address) VALUES ($1, $2, $3, $4)",
            )
            .bind(crate::new_id())
            .bind(username)
            .bind(self.now_text())
            .bind(address)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            // The attempt just reserved counts from here on.
            (mine + 1, on_account + 1)
        };
        // Many failures on this account from elsewhere: answer slower, but answer.
        let delay = (on_account - mine - MAX_FAILURES).clamp(0, MAX_DELAY_SECS);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(delay as u64)).await;
        }
        let row = sqlx::query(
            "SELECT id, username, role, region_code, agency_id, password_hash, totp_secret FROM users WHERE username = $1 AND active = 1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        let hash = row
            .as_ref()
            .map(|r| r.get::<String, _>("password_hash"))
            .unwrap_or_else(|| dummy_hash().to_owned());
        let pw = password.to_owned();
        let ok = {
            static HASHING: tokio::sync::Semaphore =
                tokio::sync::Semaphore::const_new(HASHES_AT_ONCE);
            let _turn = HASHING
                .acquire()
                .await
                .map_err(|e| StoreError::Config(e.to_string()))?;
            tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
                .await
                .unwrap_or(false)
        };
        // A failed attempt on an existing account is the account's: its area's admin sees it.
        let known: Option<(String, String)> = row
            .as_ref()
            .map(|r| (r.get::<String, _>("id"), r.get::<String, _>("region_code")));
        let Some(row) = row.filter(|_| ok) else {
            // The attempt reserved above stays as the failure.
            let mut tx = self.pool.begin().await?;
            audit::lock_head(&mut tx).await?;
            audit::record(
                &mut tx,
                &self.cipher,
                &self.now_text(),
                Who {
                    user_id: known.as_ref().map(|(id, _)| id.as_str()),
                    username,
                },
                "login_failed",
                "session",
                None,
                known.as_ref().map(|(_, region)| region.as_str()),
                serde_json::json!({}),
            )
            .await?;
            tx.commit().await?;
            return Ok(LoginOutcome::BadCredentials);
        };
        let actor = self.actor_from_row(&row).await?;
        // The password is right; a second factor may still be owed before the session works.
        let second_factor = if row.try_get::<Option<String>, _>("totp_secret")?.is_some() {
            SecondFactor::Code
        } else if policy.requires(actor.role) {
            SecondFactor::Enrol
        } else {
            SecondFactor::None
        };
        let token = random_token();
        let csrf = random_token();
        let expires = (self.clock.now() + chrono::Duration::hours(SESSION_HOURS))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, last_seen, second_factor) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(token_hash(&token))
            .bind(&actor.user_id)
            .bind(&csrf)
            .bind(self.now_text())
            .bind(&expires)
            .bind(self.now_text())
            .bind(second_factor.stored())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(self.now_text())
            .execute(&mut *tx)
            .await?;
        // Success clears this address's attempts on the account (others' stay counted).
        sqlx::query("DELETE FROM login_failures WHERE username = $1 AND address = $2")
            .bind(username)
            .bind(address)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &self.cipher,
            &self.now_text(),
            (&actor).into(),
            "login",
            "session",
            None,
            Some(actor.region.as_str()),
            serde_json::json!({"second_factor": second_factor}),
        )
        .await?;
        tx.commit().await?;
        Ok(LoginOutcome::Ok {
            actor,
            session_token: token,
            csrf_token: csrf,
            second_factor,
        })
    }

    /// Changes a user's password after checking the current one; every other session and every
    /// API token of theirs ends (whoever knew the old password is out), the current session stays.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let mut errors = ValidationErrors::default();
        if new.chars().count() < 10 {
            errors.add("new_password", "新密码至少10位");
        }
        if new.len() > MAX_PASSWORD_BYTES {
            errors.add("new_password", "新密码过长");
        }
        if new == current {
            errors.add("new_password", "新密码不能与当前密码相同");
        }
        let new_owned = new.to_owned();
        if !self.check_password(actor, current).await? {
            errors.add("current_password", "当前密码不正确");
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let hash = tokio::task::spawn_blocking(move || hash_password(&new_owned))
            .await
            .map_err(|e| StoreError::Config(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2")
            .bind(&hash)
            .bind(&actor.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(&actor.user_id)
            .bind(keep_session.map(token_hash).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
            .bind(&actor.user_id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &self.cipher,
            &self.now_text(),
            actor.into(),
            "password_change",
            "user",
            Some(&actor.user_id),
            Some(actor.region.as_str()),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `password` is the user's (for changes that ask for it again).
    pub(crate) async fn check_password(&self, actor: &Actor, password: &str) -> Result<bool> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(false);
        }
        let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(&actor.user_id)
            .fetch_one(&self.pool)
            .await?;
        let password = password.to_owned();
        Ok(
            tokio::task::spawn_blocking(move || verify_password(&password, &stored))
                .await
                .unwrap_or(false),
        )
    }

    /// The user and CSRF token of a live session: before its absolute end and used within
    /// [`SESSION_IDLE_MINUTES`]. Use is recorded at most once a minute (a write per request would
    /// queue every request behind the database's write lock).
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let now = self.clock.now();
        let idle_since = (now - chrono::Duration::minutes(SESSION_IDLE_MINUTES))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role, u.region_code, u.agency_id, u.must_change_password, s.csrf_token, s.last_seen, s.second_factor, \
             s.factor_at, CASE WHEN u.totp_secret IS NULL THEN 0 ELSE 1 END AS enrolled FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen > $3 AND u.active = 1",
        )
        .bind(token_hash(token))
        .bind(self.now_text())
        .bind(&idle_since)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let last_seen: String = r.try_get("last_seen")?;
        let a_minute_ago = (now - chrono::Duration::minutes(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if last_seen < a_minute_ago {
            sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
                .bind(self.now_text())
                .bind(token_hash(token))
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Session {
            actor: self.actor_from_row(&r).await?,
            csrf_token: r.try_get("csrf_token")?,
            must_change_password: r.try_get::<i64, _>("must_change_password")? == 1,
            second_factor: SecondFactor::from_stored(&r.try_get::<String, _>("second_factor")?),
            factor_fresh: (r.try_get::<i64, _>("enrolled")? == 1).then(|| {
                let fresh_since = (now
                    - chrono::Duration::minutes(crate::second_factor::FRESH_FACTOR_MINUTES))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                r.try_get::<String, _>("factor_at")
                    .is_ok_and(|at| !at.is_empty() && at >= fresh_since)
            }),
        }))
    }

    /// Asks a session for its second factor again (before an administrator's change, when the
    /// last time is not fresh): until the code is given, the session opens nothing else.
    pub async fn ask_second_factor_again(&self, token: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET second_factor = 'code' WHERE id_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let actor = self.session(token).await?;
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(token_hash(token))
            .execute(&mut *tx)
            .await?;
        if let Some(Session { actor, .. }) = &actor {
            audit::record(
                &mut tx,
                &self.cipher,
                &self.now_text(),
                actor.into(),
                "logout",
                "session",
                None,
                Some(actor.region.as_str()),
                serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Issues an API token for a user (shown once; only its hash is stored).
    pub async fn issue_token(&self, actor: &Actor, name: &str, days: i64) -> Result<String> {
        let token = format!("sw_{}", random_token());
        let expires = (self.clock.now() + chrono::Duration::days(days.clamp(1, 365)))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash(&token))
            .bind(&actor.user_id)
            .bind(name)
            .bind(self.now_text())
            .bind(expires)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &self.cipher,
            &self.now_text(),
            actor.into(),
            "token_issue",
            "user",
            Some(&actor.user_id),
            Some(actor.region.as_str()),
            serde_json::json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    pub async fn token_actor(
        &self,
        token: &str,
        policy: &SecondFactorPolicy,
    ) -> Result<Option<Actor>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role, u.region_code, u.agency_id, u.totp_secret FROM api_tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.active = 1",
        )
        .bind(token_hash(token))
        .bind(self.now_text())
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let actor = self.actor_from_row(&r).await?;
        // A token of a user whose role must sign in with a second factor, and who has none (it was
        // issued before the policy said so): not accepted until they set one up.
        if policy.requires(actor.role) && r.try_get::<Option<String>, _>("totp_secret")?.is_none() {
            return Ok(None);
        }
        Ok(Some(actor))
    }

    /// A user's API tokens that have not expired (their hashes are their ids: the tokens
    /// themselves were shown once and are not kept).
    pub async fn tokens_of(&self, user_id: &str) -> Result<Vec<TokenSummary>> {
        let rows = sqlx::query(
            "SELECT token_hash, name, created_at, expires_at FROM api_tokens \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at",
        )
        .bind(user_id)
        .bind(self.now_text())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenSummary {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                    expires_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// A user's live sessions, `current` marking the one whose token is given.
    pub async fn sessions_of(
        &self,
        user_id: &str,
        current: Option<&str>,
    ) -> Result<Vec<SessionSummary>> {
        let current = current.map(token_hash);
        let rows = sqlx::query(
            "SELECT id_hash, created_at, last_seen, expires_at FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at",
        )
        .bind(user_id)
        .bind(self.now_text())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                Ok(SessionSummary {
                    current: current.as_deref() == Some(id.as_str()),
                    id,
                    created_at: r.try_get(1)?,
                    last_seen: r.try_get(2)?,
                    expires_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Sets (or clears) the address a user's notifications are e-mailed to.
    pub async fn set_user_email(
        &self,
        user_id: &str,
        email: Option<&shouwang_domain::person::EmailAddress>,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
            .bind(email.map(|e| e.as_str().to_owned()))
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the user is active and inside `region` (an administrator's jurisdiction).
    pub async fn user_region(&self, user_id: &str) -> Result<Option<RegionCode>> {
        let region: Option<String> =
            sqlx::query_scalar("SELECT region_code FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        region
            .map(|r| RegionCode::parse(&r).map_err(|e| StoreError::Config(e.to_string())))
            .transpose()
    }

    /// The name a user goes by (for forms that name the person who acted).
    pub async fn display_name(&self, user_id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn actor_by_username(&self, username: &str) -> Result<Option<Actor>> {
        let row = sqlx::query("SELECT id, username, role, region_code, agency_id FROM users WHERE username = $1 AND active = 1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(self.actor_from_row(&r).await?)),
        }
    }

    /// Users whose org lies inside `region`.
    pub async fn users_within(&self, region: &RegionCode) -> Result<Vec<UserSummary>> {
        let rows = sqlx::query(
            "SELECT id, username, display_name, role, region_code, active, \
             CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS second_factor \
             FROM users WHERE region_code >= $1 AND region_code < $2 ORDER BY region_code, username",
        )
        .bind(region.as_str())
        .bind(format!("{region}:"))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| UserSummary {
                id: r.get(0),
                username: r.get(1),
                display_name: r.get(2),
                role: r.get(3),
                region_code: r.get(4),
                active: r.get::<i64, _>(5) == 1,
                second_factor: r.get::<i64, _>(6) == 1,
            })
            .collect())
    }
}

/// The account writes of the users capability, inside a use case's transaction.
impl crate::tx::Tx {
    /// Revokes one of a user's API tokens; false if the user has no such token.
    pub async fn revoke_token(&mut self, user_id: &str, token_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND token_hash = $2")
            .bind(user_id)
            .bind(token_id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends one of a user's sessions; false if the user has no such session.
    pub async fn end_session(&mut self, user_id: &str, session_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash = $2")
            .bind(user_id)
            .bind(session_id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Disables a user: they cannot sign in, and every session and token of theirs ends now.
    pub async fn disable_user(&mut self, user_id: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE users SET active = 0 WHERE id = $1 AND active = 1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        self.end_all_sessions(user_id).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends every session and API token of a user.
    pub async fn end_all_sessions(&mut self, user_id: &str) -> Result<()> {
        for sql in [
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM api_tokens WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(self.conn()).await?;
        }
        Ok(())
    }
}
