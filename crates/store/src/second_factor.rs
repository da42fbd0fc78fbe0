//! The second factor: a TOTP code (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps — what every
//! authenticator app reads from a QR code) or a one-time recovery code.
//!
//! - The secret is sealed like personal data (a copy of the database carries no usable secret
//!   without the key file); a secret being set up is kept apart until a code confirms it.
//! - A code is accepted once: the step it belongs to must be later than the last one used.
//! - Six-digit attempts are counted per user over [`CODE_WINDOW_MINUTES`], whatever the session
//!   or the address, each reserved before it is checked (a parallel burst is counted like a slow
//!   one): someone who has the password cannot get fresh guesses by signing in again.
//! - Recovery codes are tried within the session's own budget ([`MAX_RECOVERY_ATTEMPTS`]): the
//!   owner's way back in is never spent by an attacker's guesses.
//! - Passing it gives the session a new token (the one seen before the second factor is useless).

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use totp_rs::{Algorithm, TOTP};

use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::Actor;
use shouwang_domain::validation::ValidationErrors;

use crate::rooms::{SecondFactorRoom, SecondFactorTxRoom};
use crate::sealed::{self, Attachment, Sealed};
use crate::{Result, StoreError, Subject, random_token, token_hash};

/// A second factor's secret, sealed for its user (both columns bound to the name `totp`).
pub(crate) const TOTP_SECRET: Sealed<Attachment> = sealed::listed("users", "totp_secret");
pub(crate) const TOTP_PENDING: Sealed<Attachment> = sealed::listed("users", "totp_pending");

/// Seconds per TOTP step, and how many steps before or after now a code may belong to (a phone
/// whose clock is half a minute off still works).
pub const STEP_SECS: u64 = 30;
const SKEW_STEPS: u64 = 1;
const DIGITS: usize = 6;
/// Wrong codes a user may enter within [`CODE_WINDOW_MINUTES`]; then codes are refused unchecked.
pub const MAX_CODE_FAILURES: i64 = 5;
pub const CODE_WINDOW_MINUTES: i64 = 15;
/// Recovery codes one signed-in-but-unverified session may try; then it must sign in again
/// (which the password throttle counts). Kept per session, not per user, so an attacker who has
/// the password cannot use up the owner's way back in.
pub const MAX_RECOVERY_ATTEMPTS: i64 = 10;
/// How long a passed second factor counts for an administrator's change (accounts, settings):
/// past it the code is asked again, so a session left open, or a cookie taken, does not make
/// accounts.
pub const FRESH_FACTOR_MINUTES: i64 = 15;
/// Recovery codes issued at set-up, each 80 random bits.
pub const RECOVERY_CODES: usize = 10;
/// The name an authenticator app shows beside the code.
const ISSUER: &str = "守望";

/// What a session still lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    /// Nothing: the session may work.
    None,
    /// The code of the user's authenticator app (or a recovery code).
    Code,
    /// Setting up an authenticator app, which the user's role requires.
    Enrol,
}

impl SecondFactor {
    pub(crate) fn stored(self) -> &'static str {
        match self {
            SecondFactor::None => "",
            SecondFactor::Code => "code",
            SecondFactor::Enrol => "enrol",
        }
    }
    pub(crate) fn from_stored(s: &str) -> Self {
        match s {
            "code" => SecondFactor::Code,
            "enrol" => SecondFactor::Enrol,
            _ => SecondFactor::None,
        }
    }
}

/// A secret being set up: shown once, as text and as the `otpauth://` address a QR code carries.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Enrolment {
    /// Base32, for typing into an app by hand.
    pub secret: String,
    /// `otpauth://totp/…`, for the QR code.
    pub otpauth_uri: String,
}

/// A user's second factor as they see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactorStatus {
    pub enabled: bool,
    /// The user's role must have one (they cannot turn it off).
    pub required: bool,
    pub recovery_codes_left: i64,
}

/// How a code entered at sign-in went.
#[derive(Debug)]
pub enum CodeOutcome {
    /// The session is complete, under a new token.
    Passed {
        session_token: String,
        csrf_token: String,
    },
    Wrong,
    /// Too many wrong codes lately: not checked.
    Throttled,
}

fn totp(secret: Vec<u8>, username: &str) -> Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        SKEW_STEPS as u8,
        STEP_SECS,
        secret,
        Some(ISSUER.to_owned()),
        username.to_owned(),
    )
    .map_err(|e| StoreError::Config(format!("TOTP: {e}")))
}

/// The step a code belongs to, if it is the code of a step within the skew of `unix_secs`.
fn matching_step(totp: &TOTP, code: &str, unix_secs: u64) -> Option<u64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix_secs / STEP_SECS;
    // Every candidate is compared (constant time each), so timing does not tell which matched.
    let mut found = None;
    for step in now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS {
        let expected = totp.generate(step * STEP_SECS);
        let same = expected.len() == code.len()
            && expected
                .bytes()
                .zip(code.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            found = Some(step);
        }
    }
    found
}

/// A code as typed: spaces and dashes dropped, letters upper-cased (recovery codes are base32).
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .take(64)
        .collect()
}

fn recovery_hash(user_id: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{user_id}:{code}").as_bytes()))
}

fn new_recovery_code() -> String {
    let mut b = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut b);
    let s = base32_encode(&b);
    format!("{}-{}-{}-{}", &s[0..4], &s[4..8], &s[8..12], &s[12..16])
}

fn base32_encode(bytes: &[u8]) -> String {
    // Through a TOTP value the crate already encodes with (RFC 4648, no padding).
    totp_rs::Secret::Raw(bytes.to_vec())
        .to_encoded()
        .to_string()
}

impl SecondFactorRoom<'_> {
    fn unix_now(&self) -> u64 {
        self.clock.now().timestamp().max(0) as u64
    }

    /// Whether a user has a second factor and the recovery codes left (`required` is the policy's
    /// answer, which the caller passes).
    pub async fn second_factor_status(
        &self,
        actor: &Actor,
        required: bool,
    ) -> Result<FactorStatus> {
        // Counts, so that both databases answer a BIGINT.
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM users WHERE id = $1 AND totp_secret IS NOT NULL) AS enabled, \
             (SELECT COUNT(*) FROM second_factor_recovery WHERE user_id = $1 AND used_at IS NULL) \
             AS codes_left",
        )
        .bind(&actor.user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(FactorStatus {
            enabled: row.try_get::<i64, _>("enabled")? == 1,
            required,
            recovery_codes_left: row.try_get("codes_left")?,
        })
    }

    /// Starts setting up an authenticator app: a new secret, kept apart until a code confirms it.
    /// A user who has one already turns it off first (a stolen session must not swap it).
    pub async fn begin_enrolment(&self, actor: &Actor) -> Result<Enrolment> {
        if self.second_factor_status(actor, false).await?.enabled {
            return Err(StoreError::Conflict {
                field: None,
                message: "两步验证已开启；如需更换手机，请先关闭再重新设置".into(),
            });
        }
        let mut secret = vec![0u8; 20];
        rand::thread_rng().fill_bytes(&mut secret);
        let t = totp(secret.clone(), &actor.username)?;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2")
            .bind(TOTP_PENDING.seal(&self.cipher, &actor.user_id, &secret))
            .bind(&actor.user_id)
            .execute(tx.conn())
            .await?;
        tx.audit(
            actor,
            AuditAction::SecondFactorSetup,
            user_subject(actor),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(Enrolment {
            secret: t.get_secret_base32(),
            otpauth_uri: t.get_url(),
        })
    }

    /// The secret being set up, if any (shown again after a wrong code, so the user need not
    /// scan a new one).
    pub async fn pending_enrolment(&self, actor: &Actor) -> Result<Option<Enrolment>> {
        let pending: Option<String> =
            sqlx::query_scalar("SELECT totp_pending FROM users WHERE id = $1")
                .bind(&actor.user_id)
                .fetch_one(&self.pool)
                .await?;
        let Some(pending) = pending else {
            return Ok(None);
        };
        let t = totp(
            TOTP_PENDING.open(&self.cipher, &actor.user_id, &pending)?,
            &actor.username,
        )?;
        Ok(Some(Enrolment {
            secret: t.get_secret_base32(),
            otpauth_uri: t.get_url(),
        }))
    }

    /// Confirms the secret being set up with a code from the app: the second factor is on, the
    /// session (if it was waiting for this) may work, and the recovery codes are returned — the
    /// only time they are shown.
    pub async fn confirm_enrolment(
        &self,
        actor: &Actor,
        session_token: Option<&str>,
        code: &str,
    ) -> Result<Vec<String>> {
        let Some(attempt) = self.reserve_code_attempt(&actor.user_id).await? else {
            return Err(throttled_error());
        };
        let pending: Option<String> =
            sqlx::query_scalar("SELECT totp_pending FROM users WHERE id = $1")
                .bind(&actor.user_id)
                .fetch_one(&self.pool)
                .await?;
        let Some(pending) = pending else {
            return Err(ValidationErrors::single("code", "请先开始设置两步验证").into());
        };
        let secret = TOTP_PENDING.open(&self.cipher, &actor.user_id, &pending)?;
        let t = totp(secret, &actor.username)?;
        let Some(step) = matching_step(&t, &normalise(code), self.unix_now()) else {
            self.audit_code_failure(actor, "totp").await?;
            return Err(ValidationErrors::single(
                "code",
                "验证码不正确：请输入验证器应用当前显示的6位数字（并确认手机时间准确）",
            )
            .into());
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let mut tx = self.begin().await?;
        self.release_code_attempt(&mut tx, &attempt).await?;
        sqlx::query(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 WHERE id = $2",
        )
        .bind(step as i64)
        .bind(&actor.user_id)
        .execute(tx.conn())
        .await?;
        sqlx::query("DELETE FROM second_factor_recovery WHERE user_id = $1")
            .bind(&actor.user_id)
            .execute(tx.conn())
            .await?;
        for c in &codes {
            sqlx::query("INSERT INTO second_factor_recovery (user_id, code_hash) VALUES ($1, $2)")
                .bind(&actor.user_id)
                .bind(recovery_hash(&actor.user_id, &normalise(c)))
                .execute(tx.conn())
                .await?;
        }
        if let Some(token) = session_token {
            sqlx::query(
                "UPDATE sessions SET second_factor = '', factor_at = $3 WHERE id_hash = $1 AND user_id = $2",
            )
            .bind(token_hash(token))
            .bind(&actor.user_id)
            .bind(tx.now().to_owned())
            .execute(tx.conn())
            .await?;
        }
        tx.audit(
            actor,
            AuditAction::SecondFactorOn,
            user_subject(actor),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Checks the code of a session waiting for it (a TOTP code, or a recovery code which is then
    /// used up). Passed, the session gets a new token and CSRF token.
    pub async fn pass_second_factor(&self, session_token: &str, code: &str) -> Result<CodeOutcome> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role, u.region_code, u.agency_id, u.totp_secret, u.totp_last_step \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.second_factor = 'code' AND s.expires_at > $2 AND u.active = 1",
        )
        .bind(token_hash(session_token))
        .bind(self.now_text())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound);
        };
        let actor = self.users().actor_from_row(&row).await?;
        let code = normalise(code);
        // A recovery code (16 characters, 80 bits: no guessing reaches one) is tried within this
        // session's own budget, so an attacker's guesses never lock the owner out of theirs; a
        // six-digit code within the user's, reserved before it is checked, so a parallel burst
        // is counted like a slow one (issue 24: 200 at once were all checked).
        let recovery = code.len() == 16;
        let attempt = if recovery {
            let reserved = sqlx::query(
                "UPDATE sessions SET recovery_attempts = recovery_attempts + 1 \
                 WHERE id_hash = $1 AND recovery_attempts < $2",
            )
            .bind(token_hash(session_token))
            .bind(MAX_RECOVERY_ATTEMPTS)
            .execute(&self.pool)
            .await?;
            if reserved.rows_affected() != 1 {
                return Ok(CodeOutcome::Throttled);
            }
            None
        } else {
            match self.reserve_code_attempt(&actor.user_id).await? {
                Some(id) => Some(id),
                None => return Ok(CodeOutcome::Throttled),
            }
        };
        let sealed: Option<String> = row.try_get("totp_secret")?;
        let last_step: i64 = row.try_get("totp_last_step")?;
        let secret = TOTP_SECRET.open(
            &self.cipher,
            &actor.user_id,
            sealed.as_deref().unwrap_or_default(),
        )?;
        let t = totp(secret, &actor.username)?;
        let mut tx = self.begin().await?;
        let passed = match (recovery, matching_step(&t, &code, self.unix_now())) {
            // A code already used (seen over a shoulder, replayed, sent twice at once) is refused:
            // the step moves forward only once.
            (false, Some(step)) if step as i64 > last_step => {
                let moved = sqlx::query(
                    "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
                )
                .bind(step as i64)
                .bind(&actor.user_id)
                .execute(tx.conn())
                .await?;
                (moved.rows_affected() == 1).then_some("totp")
            }
            (true, _) => {
                let used = sqlx::query(
                    "UPDATE second_factor_recovery SET used_at = $1 \
                     WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(tx.now().to_owned())
                .bind(&actor.user_id)
                .bind(recovery_hash(&actor.user_id, &code))
                .execute(tx.conn())
                .await?;
                (used.rows_affected() == 1).then_some("recovery_code")
            }
            _ => None,
        };
        let Some(how) = passed else {
            drop(tx);
            self.audit_code_failure(&actor, if recovery { "recovery_code" } else { "totp" })
                .await?;
            return Ok(CodeOutcome::Wrong);
        };
        if let Some(attempt) = &attempt {
            self.release_code_attempt(&mut tx, attempt).await?;
        }
        let (token, csrf) = (random_token(), random_token());
        sqlx::query(
            "UPDATE sessions SET id_hash = $1, csrf_token = $2, second_factor = '', last_seen = $3, factor_at = $3 WHERE id_hash = $4",
        )
        .bind(token_hash(&token))
        .bind(&csrf)
        .bind(tx.now().to_owned())
        .bind(token_hash(session_token))
        .execute(tx.conn())
        .await?;
        tx.audit(
            &actor,
            AuditAction::SecondFactorPassed,
            user_subject(&actor),
            serde_json::json!({"with": how}),
        )
        .await?;
        tx.commit().await?;
        Ok(CodeOutcome::Passed {
            session_token: token,
            csrf_token: csrf,
        })
    }

    /// Turns one's own second factor off, with the password (whether the role may is the
    /// caller's decision).
    pub async fn turn_off_second_factor(&self, actor: &Actor, password: &str) -> Result<()> {
        if !self.users().check_password(actor, password).await? {
            return Err(ValidationErrors::single("current_password", "当前密码不正确").into());
        }
        let mut tx = self.begin().await?;
        tx.second_factor()
            .clear_second_factor(&actor.user_id)
            .await?;
        tx.audit(
            actor,
            AuditAction::SecondFactorOff,
            user_subject(actor),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await
    }

    /// Reserves one six-digit attempt of the user's budget ([`MAX_CODE_FAILURES`] in
    /// [`CODE_WINDOW_MINUTES`]) before the code is checked: counted and written in one
    /// transaction that holds the write lock (as a password attempt is), so parallel attempts
    /// queue and the sixth finds the budget spent. `None`: spent. A right code gives its
    /// reservation back ([`Self::release_code_attempt`]).
    async fn reserve_code_attempt(&self, user_id: &str) -> Result<Option<String>> {
        let since = (self.clock.now() - chrono::Duration::minutes(CODE_WINDOW_MINUTES))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut tx = self.begin().await?;
        let used: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM second_factor_failures WHERE user_id = $1 AND at >= $2",
        )
        .bind(user_id)
        .bind(&since)
        .fetch_one(tx.conn())
        .await?;
        if used >= MAX_CODE_FAILURES {
            return Ok(None);
        }
        let id = crate::new_id();
        sqlx::query("INSERT INTO second_factor_failures (id, user_id, at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(user_id)
            .bind(tx.now().to_owned())
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn release_code_attempt(&self, tx: &mut crate::tx::Tx, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM second_factor_failures WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        Ok(())
    }

    /// A wrong code (its attempt already counted): audited where the user's administrator sees it.
    async fn audit_code_failure(&self, actor: &Actor, with: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.audit(
            actor,
            AuditAction::SecondFactorFailed,
            user_subject(actor),
            serde_json::json!({"with": with}),
        )
        .await?;
        tx.commit().await
    }
}

impl SecondFactorTxRoom<'_> {
    /// Removes a user's second factor and recovery codes (turned off by them, or reset by their
    /// administrator after a lost phone).
    pub async fn clear_second_factor(&mut self, user_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE id = $1",
        )
        .bind(user_id)
        .execute(self.conn())
        .await?;
        sqlx::query("DELETE FROM second_factor_recovery WHERE user_id = $1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

fn user_subject(actor: &Actor) -> Subject<'_> {
    Subject {
        entity: "user",
        id: Some(&actor.user_id),
        region: Some(actor.region.as_str()),
    }
}

fn throttled_error() -> StoreError {
    ValidationErrors::single(
        "code",
        format!("验证码错误次数过多，请{CODE_WINDOW_MINUTES}分钟后再试"),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_own_step_and_its_neighbours_only() {
        let t = totp(vec![1; 20], "county").unwrap();
        let at = 1_790_000_000;
        let code = t.generate(at);
        let step = at / STEP_SECS;
        assert_eq!(matching_step(&t, &code, at), Some(step));
        assert_eq!(matching_step(&t, &code, at + STEP_SECS), Some(step));
        assert_eq!(matching_step(&t, &code, at - STEP_SECS), Some(step));
        assert_eq!(matching_step(&t, &code, at + 2 * STEP_SECS), None);
        assert_eq!(matching_step(&t, "12345", at), None);
        assert_eq!(matching_step(&t, &format!("{code}0"), at), None);
    }

    #[test]
    fn rfc6238_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); its last 6 here.
        let t = TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            1,
            STEP_SECS,
            b"12345678901234567890".to_vec(),
            None,
            String::new(),
        );
        assert_eq!(t.generate(59), "287082");
    }

    #[test]
    fn recovery_codes_are_80_bits_typed_loosely() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 19);
        assert_eq!(normalise(&c.to_lowercase().replace('-', " ")).len(), 16);
        assert_eq!(normalise(&c.to_lowercase()), normalise(&c));
    }
}
