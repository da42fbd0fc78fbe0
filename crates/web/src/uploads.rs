//! Receiving uploaded files. Whether a user may send one now is decided before the body is read
//! (their unfinished jobs and the uploads they are sending), the body goes to a private temporary
//! file as it arrives, counted against the route's limit, and only then is it read into memory —
//! at most [`crate::state::HELD_AT_ONCE`] uploads at a time in the whole server. A burst of 50 uploads of 6 MB
//! by one user used to be read whole (RSS 264 → 787 MB) before the five-jobs limit answered 409.

use std::collections::HashMap;
use std::io::Write;

use axum::RequestExt;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::header;
use http_body_util::BodyExt;
use tokio::sync::OwnedSemaphorePermit;

use shouwang_domain::authz::Actor;

use crate::error::AppError;
use crate::state::{AppState, SendingTurn};

/// What a user may send at once when the upload is read at once rather than kept as a job.
const AT_ONCE_EACH: i64 = 1;

/// What an upload may start.
#[derive(Clone, Copy)]
pub enum Admit {
    /// A job of this kind (an import, a comparison): the user's unfinished jobs and the uploads
    /// they are sending together stay within the jobs limit.
    Job(&'static shouwang_app::jobs::Kind),
    /// Work done while the request waits (an attendance sheet, a list's columns): one at a time
    /// per user.
    One,
}

/// An upload received: its file name and bytes, with the turns that let it be held.
pub struct Upload {
    pub name: String,
    pub bytes: Bytes,
    _sending: SendingTurn,
    _held: OwnedSemaphorePermit,
}

async fn admit(state: &AppState, actor: &Actor, admit: Admit) -> Result<SendingTurn, AppError> {
    let room = match admit {
        Admit::Job(kind) => {
            shouwang_app::jobs::room_for(&state.app, &state.jobs, actor, kind).await?
        }
        Admit::One => AT_ONCE_EACH,
    };
    state
        .uploads
        .begin(&actor.user_id, room)
        .ok_or_else(|| match admit {
            Admit::Job(_) => shouwang_app::jobs::too_many_jobs().into(),
            Admit::One => AppError::from(shouwang_app::Error::Conflict {
                field: Some("file".into()),
                message: "您有一个文件正在上传或处理，请等它完成后再上传".into(),
            }),
        })
}

fn too_large(max: usize) -> AppError {
    AppError::BadRequest {
        code: "payload_too_large",
        field: Some("file".into()),
        message: format!("文件过大（上限 {} MB）", max.div_ceil(1 << 20)),
    }
}

/// A form's text field: at most this long.
const MAX_TEXT_FIELD: usize = 64 << 10;

fn interrupted() -> AppError {
    AppError::BadRequest {
        code: "upload",
        field: Some("file".into()),
        message: "上传中断，请重新上传".into(),
    }
}

fn internal(e: std::io::Error) -> AppError {
    AppError::Internal(e.to_string())
}

/// A file being written as it arrives.
struct Spool {
    file: tempfile::NamedTempFile,
    len: usize,
    max: usize,
}

impl Spool {
    fn new(max: usize) -> Result<Self, AppError> {
        Ok(Spool {
            file: tempfile::NamedTempFile::new().map_err(internal)?,
            len: 0,
            max,
        })
    }

    fn write(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        self.len += chunk.len();
        if self.len > self.max {
            return Err(too_large(self.max));
        }
        self.file.write_all(chunk).map_err(internal)
    }

    /// Waits for room to hold the file in memory, then reads it.
    async fn hold(
        self,
        state: &AppState,
        name: String,
        sending: SendingTurn,
    ) -> Result<Upload, AppError> {
        let held = state
            .uploads
            .held()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let bytes = std::fs::read(self.file.path()).map_err(internal)?;
        Ok(Upload {
            name,
            bytes: bytes.into(),
            _sending: sending,
            _held: held,
        })
    }
}

/// The body of `req` as an uploaded file of at most `max` bytes: the user admitted first, a
/// declared length past the limit refused before anything is read, the body spooled to disk.
pub async fn receive_body(
    state: &AppState,
    actor: &Actor,
    req: Request,
    max: usize,
    admit_as: Admit,
    name: String,
) -> Result<Upload, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large(max));
    }
    let sending = admit(state, actor, admit_as).await?;
    let mut spool = Spool::new(max)?;
    let mut body = req.into_limited_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if crate::extract::is_length_limit(&e) {
                too_large(max)
            } else {
                interrupted()
            }
        })?;
        if let Ok(data) = frame.into_data() {
            spool.write(&data)?;
        }
    }
    spool.hold(state, name, sending).await
}

/// A multipart upload form: its text fields by name and its `file` field received like
/// [`receive_body`].
pub async fn receive_form(
    state: &AppState,
    actor: &Actor,
    crate::extract::Multipart(mut multipart): crate::extract::Multipart,
    max: usize,
    admit_as: Admit,
) -> Result<(HashMap<String, String>, Option<Upload>), AppError> {
    let sending = admit(state, actor, admit_as).await?;
    let mut fields = HashMap::new();
    let mut spooled: Option<(String, Spool)> = None;
    let broken = |_| AppError::BadRequest {
        code: "upload",
        field: Some("file".into()),
        message: format!("文件过大或上传中断（上限 {} MB）", max >> 20),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        match field.name().map(str::to_owned) {
            Some(name) if name == "file" && spooled.is_none() => {
                let file_name = field.file_name().unwrap_or("upload").to_owned();
                let mut spool = Spool::new(max)?;
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    spool.write(&chunk)?;
                }
                spooled = Some((file_name, spool));
            }
            Some(name) if fields.len() < 64 => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_TEXT_FIELD {
                        return Err(AppError::BadRequest {
                            code: "payload_too_large",
                            field: Some(name),
                            message: "表单内容过长".into(),
                        });
                    }
                }
                fields.insert(name, String::from_utf8_lossy(&text).into_owned());
            }
            _ => {}
        }
    }
    let upload = match spooled {
        Some((name, spool)) => Some(spool.hold(state, name, sending).await?),
        None => None,
    };
    Ok((fields, upload))
}
