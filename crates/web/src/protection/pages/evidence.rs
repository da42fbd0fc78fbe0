//! Evidence uploaded from the case page.

use super::*;
use shouwang_domain::ids::CaseId;

pub async fn attachment_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<CaseId>,
    multipart: crate::extract::Multipart,
) -> PageResult {
    let (fields, upload) = crate::extract::upload_form_within(
        multipart,
        shouwang_domain::protection::MAX_EVIDENCE_BYTES,
    )
    .await?;
    user.check_csrf(fields.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let r = match upload.filter(|(_, b)| !b.is_empty()) {
        None => Err(ValidationErrors::single("file", "请选择要上传的照片或 PDF 文件").into()),
        Some((name, bytes)) => cases::attach(&state.app, &user.actor, &id, &name, &bytes)
            .await
            .map(|_| ()),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(shouwang_app::Error::Validation(v)) => {
            case_view(
                &state,
                &user,
                &id,
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, v.summary())),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
