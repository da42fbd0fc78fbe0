//! The notification outbox's storage: entries written in the transaction of the event they tell
//! about, picked up by the dispatcher (`shouwang_app::notify`), marked sent or retried later.
//! A notification says that something waits in the system, never who the child or the reporter is.

use serde::Serialize;
use sqlx::Row;

use shouwang_domain::authz::Role;
use shouwang_domain::ids::CaseId;
use shouwang_domain::region::RegionCode;

use crate::Result;
use crate::rooms::{NotificationsRoom, NotificationsTxRoom};

/// Attempts before a notification is given up (each failure waits longer).
pub const MAX_ATTEMPTS: i64 = 5;

/// One entry waiting to be sent.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outgoing {
    pub id: String,
    pub kind: String,
    pub case_id: Option<String>,
    pub username: String,
    pub email: Option<String>,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// A notification as a case's reader may list it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sent {
    pub kind: String,
    pub username: String,
    /// pending, sent or failed
    pub status: String,
    pub channel: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl NotificationsTxRoom<'_> {
    /// Queues a notification for every active user of these roles sitting exactly at `org`.
    pub async fn notify_org(
        &mut self,
        org: &RegionCode,
        roles: &[Role],
        kind: &str,
        case_id: Option<&str>,
        subject: &str,
        body: &str,
    ) -> Result<usize> {
        let codes: Vec<String> = roles.iter().map(|r| format!("'{}'", r.code())).collect();
        let users: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM users WHERE region_code = $1 AND active = 1 AND role IN ({})",
            codes.join(", ")
        ))
        .bind(org.as_str())
        .fetch_all(self.conn())
        .await?;
        for user in &users {
            self.notify_user(user, kind, case_id, subject, body).await?;
        }
        Ok(users.len())
    }

    /// Queues a notification for every active user of an agency (a provider, a school).
    pub async fn notify_agency(
        &mut self,
        agency_id: &str,
        kind: &str,
        case_id: Option<&str>,
        subject: &str,
        body: &str,
    ) -> Result<usize> {
        let users: Vec<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE agency_id = $1 AND active = 1")
                .bind(agency_id)
                .fetch_all(self.conn())
                .await?;
        for user in &users {
            self.notify_user(user, kind, case_id, subject, body).await?;
        }
        Ok(users.len())
    }

    /// Queues a notification for one user.
    pub async fn notify_user(
        &mut self,
        user_id: &str,
        kind: &str,
        case_id: Option<&str>,
        subject: &str,
        body: &str,
    ) -> Result<()> {
        let now = self.now().to_owned();
        sqlx::query(
            "INSERT INTO notifications (id, created_at, case_id, kind, recipient_user_id, subject, body, status, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $2)",
        )
        .bind(crate::new_id())
        .bind(&now)
        .bind(case_id)
        .bind(kind)
        .bind(user_id)
        .bind(subject)
        .bind(body)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl NotificationsRoom<'_> {
    /// Notifications due now, oldest first.
    pub async fn due_notifications(&self, limit: i64) -> Result<Vec<Outgoing>> {
        let rows = sqlx::query(
            "SELECT n.id, n.kind, n.case_id, u.username, u.email, n.subject, n.body, n.attempts \
             FROM notifications n JOIN users u ON u.id = n.recipient_user_id \
             WHERE n.status = 'pending' AND n.next_attempt_at <= $1 ORDER BY n.created_at, n.id LIMIT $2",
        )
        .bind(self.now_text())
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Outgoing {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    case_id: r.try_get("case_id")?,
                    username: r.try_get("username")?,
                    email: r.try_get("email")?,
                    subject: r.try_get("subject")?,
                    body: r.try_get("body")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Records how sending went: sent, or retried later (a minute, then doubling), or given up
    /// after [`MAX_ATTEMPTS`].
    pub async fn notification_result(
        &self,
        id: &str,
        channel: &str,
        outcome: std::result::Result<(), String>,
        attempts_before: i64,
    ) -> Result<()> {
        let now = self.clock.now();
        let text = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE notifications SET status = 'sent', sent_at = $1, channel = $2, attempts = attempts + 1 WHERE id = $3",
                )
                .bind(text(now))
                .bind(channel)
                .bind(id)
                .execute(&self.pool)
                .await?;
            }
            Err(e) => {
                let attempts = attempts_before + 1;
                let status = if attempts >= MAX_ATTEMPTS {
                    "failed"
                } else {
                    "pending"
                };
                let wait = chrono::Duration::minutes(1 << attempts.min(10));
                sqlx::query(
                    "UPDATE notifications SET status = $1, attempts = $2, next_attempt_at = $3, channel = $4, last_error = $5 WHERE id = $6",
                )
                .bind(status)
                .bind(attempts)
                .bind(text(now + wait))
                .bind(channel)
                .bind(e.chars().take(500).collect::<String>())
                .bind(id)
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(())
    }

    /// The notifications of a case (who was told, and whether it went out).
    pub async fn case_notifications(&self, case_id: &CaseId) -> Result<Vec<Sent>> {
        let case_id = case_id.as_str();
        let rows = sqlx::query(
            "SELECT n.kind, u.username, n.status, n.channel, n.created_at, n.sent_at FROM notifications n \
             JOIN users u ON u.id = n.recipient_user_id WHERE n.case_id = $1 ORDER BY n.created_at, n.id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Sent {
                    kind: r.try_get("kind")?,
                    username: r.try_get("username")?,
                    status: r.try_get("status")?,
                    channel: r.try_get("channel")?,
                    created_at: r.try_get("created_at")?,
                    sent_at: r.try_get("sent_at")?,
                })
            })
            .collect()
    }
}
