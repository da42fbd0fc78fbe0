//! Sending the notification outbox: a [`Channel`] per way of reaching people (the log, e-mail
//! through the system's `sendmail`; SMS and WeChat adapters implement the same trait), and the
//! dispatcher the server runs every few seconds. An entry is written in the transaction of its event
//! (`store::notify`), so nothing is told that did not happen and nothing that happened is lost.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use crate::{App, Error, Result};
use base64::Engine;
use shouwang_store::notify::Outgoing;

/// A way of reaching a person outside the system.
pub trait Channel: Send + Sync {
    /// Stored with each entry sent (`log`, `email`…).
    fn name(&self) -> &'static str;
    /// Delivers one notification, or says why not (it is retried later).
    fn send(&self, n: &Outgoing) -> std::result::Result<(), String>;
}

/// Writes each notification to the server's log (the default: nothing leaves the machine).
pub struct LogChannel;

impl Channel for LogChannel {
    fn name(&self) -> &'static str {
        "log"
    }
    fn send(&self, n: &Outgoing) -> std::result::Result<(), String> {
        tracing::info!(to = %n.username, kind = %n.kind, subject = %n.subject, "notification");
        Ok(())
    }
}

/// Sends e-mail through a sendmail-compatible program (`/usr/sbin/sendmail` of Postfix, msmtp…)
/// to the recipient's address on file.
pub struct SendmailChannel {
    pub program: String,
    pub from: String,
}

/// An address fit for a header: the same rule as the one an address is stored under
/// (`person::EmailAddress`: one mailbox, nothing a header could be split on), applied again here
/// because the outbox reads what the database holds.
fn safe_address(a: &str) -> Option<String> {
    shouwang_domain::person::EmailAddress::parse(a)
        .ok()
        .map(|e| e.as_str().to_owned())
}

fn encoded_word(text: &str) -> String {
    format!(
        "=?UTF-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

/// The message sendmail reads (`-t`: recipients from the headers).
pub fn email_message(from: &str, to: &str, subject: &str, body: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        encoded_word(subject),
        lines.join("\r\n")
    )
}

impl Channel for SendmailChannel {
    fn name(&self) -> &'static str {
        "email"
    }
    fn send(&self, n: &Outgoing) -> std::result::Result<(), String> {
        let to = n
            .email
            .as_deref()
            .and_then(safe_address)
            .ok_or_else(|| format!("用户 {} 没有有效的电子邮箱", n.username))?;
        let from = safe_address(&self.from).ok_or("发件地址无效")?;
        let (to, from) = (to.as_str(), from.as_str());
        let mut child = Command::new(&self.program)
            .args(["-t", "-i"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("无法运行 {}：{e}", self.program))?;
        child
            .stdin
            .take()
            .ok_or("no stdin")?
            .write_all(email_message(from, to, &n.subject, &n.body).as_bytes())
            .map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} 退出码 {:?}：{}",
                self.program,
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ))
        }
    }
}

/// What one dispatch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dispatched {
    pub sent: usize,
    pub failed: usize,
}

/// Sends what is due through `channel` (on a blocking thread: a channel may run a program or wait
/// on the network).
pub async fn dispatch(app: &App, channel: Arc<dyn Channel>) -> Result<Dispatched> {
    let due = app.store.notifications().due_notifications(100).await?;
    let mut done = Dispatched::default();
    for n in due {
        let ch = channel.clone();
        let (outcome, n) = tokio::task::spawn_blocking(move || (ch.send(&n), n))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        if outcome.is_ok() {
            done.sent += 1;
        } else {
            done.failed += 1;
        }
        app.store
            .notifications()
            .notification_result(&n.id, channel.name(), outcome, n.attempts)
            .await?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_cannot_add_headers_or_recipients() {
        assert_eq!(
            safe_address(" duty@police.example ").as_deref(),
            Some("duty@police.example")
        );
        for bad in [
            "a@b\r\nBcc: x@y",
            "a@b, c@d",
            "a@b;c@d",
            "<a@b>",
            "no-at",
            "@x",
            "a@@b",
        ] {
            assert_eq!(safe_address(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_chinese_subject_and_body_are_encoded() {
        let m = email_message(
            "shouwang@county.example",
            "duty@police.example",
            "新的强制报告",
            "请立即登录处理",
        );
        assert!(m.contains(&format!("Subject: {}", encoded_word("新的强制报告"))));
        assert!(m.is_ascii());
        assert!(m.contains("Content-Transfer-Encoding: base64"));
    }
}
