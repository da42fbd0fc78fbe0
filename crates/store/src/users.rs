//! Users, passwords (Argon2id), sessions, API tokens and login throttling.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::Serialize;
use sqlx::Row;

use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Actor, Role, SecondFactorPolicy};
use shouwang_domain::region::RegionCode;
use shouwang_domain::validation::ValidationErrors;

use crate::audit::{self, Who};
use crate::rooms::{UsersRoom, UsersTxRoom};
use crate::second_factor::SecondFactor;
use crate::{Result, StoreError, random_token, token_hash};

mod sessions;

use shouwang_domain::signin::{Attempts, MAX_PASSWORD_BYTES, Refusal, THROTTLE_MINUTES};
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

/// What counting a login attempt came to.
#[derive(Debug)]
pub enum Reservation {
    /// Refused unchecked (the refusal counted, and audited at 1, 2, 4, 8…).
    Refused,
    /// Counted as a failure until the password proves right; the failures before it.
    Counted(Attempts),
}

/// An active account a password is checked against.
#[derive(Debug)]
pub struct LoginCandidate {
    pub actor: Actor,
    pub password_hash: String,
    pub has_second_factor: bool,
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

/// Whether `password` matches an Argon2 hash (CPU-bound: call it on a blocking thread).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so timing does not reveal usernames.
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password"))
}

impl UsersRoom<'_> {
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
        if self.regions().region(&new.region).await?.is_none() {
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
                Some(
                    self.regions()
                        .ensure_agency(&new.region, name.trim(), kind)
                        .await?,
                )
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
            AuditAction::UserAdd,
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
impl UsersTxRoom<'_> {
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
