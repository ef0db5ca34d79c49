//! Instrument photos: served by their hash (so a browser keeps them for good), added and
//! removed by the institution's admin on the record's edit page.

use alliance_protocol::InstrumentRecord;
use axum::{
    Form,
    extract::{Multipart, Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use super::{Ctx, ErrorKind, Refusal, encode_component, own::CsrfForm};
use crate::{
    AppState,
    backend::{AccountRole, Backend, CatalogueFailure},
};

/// A photo as pages show it.
pub(crate) struct PhotoView {
    pub src: String,
    pub thumb_src: String,
    pub alt: String,
    /// The thumbnail's size (320 pixels on its long side).
    pub thumb_width: u32,
    pub thumb_height: u32,
    /// Where its admin removes it.
    pub remove_action: String,
}

/// One side of a thumbnail of a photo whose sides are `side` and `other`.
fn thumb_side(side: u32, other: u32) -> u32 {
    let long = side.max(other).max(1);
    let thumb = alliance_protocol::record::THUMB_SIDE;
    if long <= thumb {
        return side;
    }
    (u64::from(side) * u64::from(thumb) / u64::from(long)).max(1) as u32
}

/// Where the photo or thumbnail `sha256` (hex) of instrument `id` is served.
pub(crate) fn src(id: &str, sha256: &str) -> String {
    format!("/photos/{}/{sha256}", encode_component(id))
}

/// The photos of `record`, named after the instrument (`name`) for their alt text.
pub(crate) fn views(ctx: &Ctx, record: &InstrumentRecord, name: &str) -> Vec<PhotoView> {
    let id = record.id();
    record
        .photos
        .iter()
        .enumerate()
        .map(|(i, p)| PhotoView {
            src: src(&id, &p.hex()),
            thumb_src: src(&id, &p.thumb_hex()),
            alt: ctx
                .t
                .cat
                .photo_of
                .replace("{name}", name)
                .replace("{n}", &(i + 1).to_string()),
            thumb_width: thumb_side(p.width, p.height),
            thumb_height: thumb_side(p.height, p.width),
            remove_action: format!(
                "/admin/instruments/{}/photos/{}/delete",
                encode_component(&record.local_id),
                p.hex()
            ),
        })
        .collect()
}

/// `GET /photos/{institution}/{local_id}/{sha256}`: a JPEG the instrument's signed
/// record names, whoever may see the instrument.
pub(super) async fn serve<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((institution, local_id, sha256)): Path<(String, String, String)>,
) -> Result<Response, Refusal> {
    let id = format!("{institution}/{local_id}");
    match state.backend.instrument_photo(&id, &sha256).await {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                // Named by its hash: the same address is always the same bytes.
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response()),
        Err(CatalogueFailure::NotFound) => Err(ctx.refuse(ErrorKind::NotFound)),
        Err(CatalogueFailure::Unavailable(message)) => Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "60")],
            message,
        )
            .into_response()),
        Err(e) => {
            tracing::error!(error = %e, "serving a photo failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}

/// `POST /admin/instruments/{local_id}/photos` (multipart: `csrf`, `file`).
pub(super) async fn add<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path(local_id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    let upload = super::toolkit::Upload::read(&mut multipart)
        .await
        .ok_or_else(|| ctx.refuse(ErrorKind::BadRequest))?;
    ctx.check_csrf(session, upload.value("csrf"))?;
    let (_, bytes) = upload.file.unwrap_or_default();
    let failure = match state.backend.add_instrument_photo(&local_id, bytes).await {
        Ok(()) => return Ok(after(&local_id, "photo_added")),
        Err(failure) => failure,
    };
    let message = match failure {
        CatalogueFailure::Invalid { message, .. } => message,
        CatalogueFailure::NotFound => return Err(ctx.refuse(ErrorKind::NotFound)),
        other => {
            tracing::error!(error = %other, "adding a photo failed");
            return Err(ctx.refuse(ErrorKind::Internal));
        }
    };
    let messages = super::own::Messages {
        notice: None,
        photo_error: Some(message),
    };
    super::own::edit_page(&state, &ctx, &session.csrf_token, &local_id, messages).await
}

/// `POST /admin/instruments/{local_id}/photos/{sha256}/delete`.
pub(super) async fn remove<B: Backend>(
    State(state): State<AppState<B>>,
    ctx: Ctx,
    Path((local_id, sha256)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Refusal> {
    let session = ctx.with_role(AccountRole::InstitutionAdmin)?;
    ctx.check_csrf(session, &form.csrf)?;
    match state
        .backend
        .remove_instrument_photo(&local_id, &sha256)
        .await
    {
        Ok(()) => Ok(after(&local_id, "photo_removed")),
        Err(CatalogueFailure::NotFound) => Err(ctx.refuse(ErrorKind::NotFound)),
        Err(e) => {
            tracing::error!(error = %e, "removing a photo failed");
            Err(ctx.refuse(ErrorKind::Internal))
        }
    }
}

fn after(local_id: &str, notice: &str) -> Response {
    Redirect::to(&format!(
        "/admin/instruments/{}/edit?notice={notice}#photos",
        encode_component(local_id)
    ))
    .into_response()
}
