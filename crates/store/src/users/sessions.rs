//! Signing in (the password and its throttling), sessions and API tokens: their rows and hashes.
//! Which roles owe a second factor is the caller's policy, passed in.

use super::*;
use shouwang_domain::audit::AuditAction;

use crate::rooms::{SessionsRoom, SessionsTxRoom};

impl SessionsRoom<'_> {
    /// Counts a login attempt before its password is checked, in one transaction that serialises
    /// writers (so parallel guesses are all counted): reads the failures already counted
    /// ([`Attempts`]), asks `refuse` (the rule, [`shouwang_domain::signin::refusal`]) whether to
    /// refuse it unchecked, and either counts the refusal or reserves the attempt as a failure
    /// (cleared again by [`Store::open_session`]).
    ///
    /// A refusal writes no failure row; refusals are counted in one row per address or account
    /// and audited when the count reaches 1, 2, 4, 8… (the account's administrator sees the flood
    /// and its size in a handful of events). Failures and refusals older than a day are deleted
    /// (issue 24: a flood from one address was ~0.8 GB an hour).
    pub async fn reserve_login_attempt(
        &self,
        username: &str,
        address: &str,
        refuse: impl FnOnce(&Attempts) -> Option<Refusal>,
    ) -> Result<Reservation> {
        let since = (self.clock.now() - chrono::Duration::minutes(THROTTLE_MINUTES))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let day_ago = (self.clock.now() - chrono::Duration::hours(24))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
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
             COALESCE(SUM(CASE WHEN username = $1 AND address = $2 AND at >= $3 THEN 1 ELSE 0 END), 0) AS mine, \
             COALESCE(SUM(CASE WHEN address = $2 AND at >= $3 THEN 1 ELSE 0 END), 0) AS from_address, \
             COALESCE(SUM(CASE WHEN username = $1 AND at >= $3 THEN 1 ELSE 0 END), 0) AS on_account, \
             COALESCE(SUM(CASE WHEN username = $1 THEN 1 ELSE 0 END), 0) AS on_account_today \
             FROM login_failures WHERE (username = $1 AND at >= $4) OR (address = $2 AND at >= $3)",
        )
        .bind(username)
        .bind(address)
        .bind(&since)
        .bind(&day_ago)
        .fetch_one(&mut *tx)
        .await?;
        let before = Attempts {
            mine: counts.try_get("mine")?,
            from_address: counts.try_get("from_address")?,
            on_account: counts.try_get("on_account")?,
            on_account_today: counts.try_get("on_account_today")?,
        };
        if let Some(refusal) = refuse(&before) {
            let (key_user, key_address) = match refusal {
                Refusal::Address => ("", address),
                Refusal::AccountDay => (username, "*"),
                Refusal::AccountAddress => (username, address),
            };
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
                    AuditAction::LoginThrottled,
                    "session",
                    None,
                    account.as_ref().map(|(_, region)| region.as_str()),
                    serde_json::json!({
                        "address": address,
                        "reason": refusal.code(),
                        "refused": refused,
                        "since": first_at,
                    }),
                )
                .await?;
            }
            tx.commit().await?;
            return Ok(Reservation::Refused);
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
        Ok(Reservation::Counted(before))
    }

    /// The active account of this name, with its password hash, if any.
    pub async fn login_candidate(&self, username: &str) -> Result<Option<LoginCandidate>> {
        let row = sqlx::query(
            "SELECT id, username, role, region_code, agency_id, password_hash, totp_secret FROM users WHERE username = $1 AND active = 1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(LoginCandidate {
            actor: self.users().actor_from_row(&row).await?,
            password_hash: row.try_get("password_hash")?,
            has_second_factor: row.try_get::<Option<String>, _>("totp_secret")?.is_some(),
        }))
    }

    /// Audits a wrong password (the attempt reserved before it stays as the failure). A failed
    /// attempt on an existing account is the account's: its area's administrator sees it.
    pub async fn record_login_failure(
        &self,
        username: &str,
        account: Option<&Actor>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        audit::record(
            &mut tx,
            &self.cipher,
            &self.now_text(),
            Who {
                user_id: account.map(|a| a.user_id.as_str()),
                username,
            },
            AuditAction::LoginFailed,
            "session",
            None,
            account.map(|a| a.region.as_str()),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a session for a user whose password was right, owing `second_factor`; clears this
    /// address's failures on the account (others' stay counted) and expired sessions. Returns the
    /// session's token and its CSRF token.
    pub async fn open_session(
        &self,
        actor: &Actor,
        address: &str,
        second_factor: SecondFactor,
    ) -> Result<(String, String)> {
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
        sqlx::query("DELETE FROM login_failures WHERE username = $1 AND address = $2")
            .bind(&actor.username)
            .bind(address)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &self.cipher,
            &self.now_text(),
            actor.into(),
            AuditAction::Login,
            "session",
            None,
            Some(actor.region.as_str()),
            serde_json::json!({"second_factor": second_factor}),
        )
        .await?;
        tx.commit().await?;
        Ok((token, csrf))
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
        if !self.users().check_password(actor, current).await? {
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
            AuditAction::PasswordChange,
            "user",
            Some(&actor.user_id),
            Some(actor.region.as_str()),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
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
            actor: self.users().actor_from_row(&r).await?,
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
                AuditAction::Logout,
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
            AuditAction::TokenIssue,
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
        let actor = self.users().actor_from_row(&r).await?;
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
                    id: r.try_get("token_hash")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
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
                let id: String = r.try_get("id_hash")?;
                Ok(SessionSummary {
                    current: current.as_deref() == Some(id.as_str()),
                    id,
                    created_at: r.try_get("created_at")?,
                    last_seen: r.try_get("last_seen")?,
                    expires_at: r.try_get("expires_at")?,
                })
            })
            .collect()
    }
}

impl SessionsTxRoom<'_> {
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
}
