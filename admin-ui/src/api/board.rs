//! The board through the API (R3, R19): needs, offers, accepting one. Anyone may read the
//! board (a visitor sees no one's institution); posting and accepting take a session,
//! offering an instrument manager's.

use axum::{Json, extract::State, http::StatusCode};

use super::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, error::ErrorBody};
use crate::{
    AppState,
    auth::Visitor,
    backend::{
        AcceptForm, Backend, BoardQuery, NeedDetail, NeedForm, NeedPageView, NeedView, OfferForm,
        OfferView, ReportFile, ResponseView,
    },
};

fn need_id(home: &str, local_id: &str) -> String {
    format!("{home}/{local_id}")
}

/// `GET /api/v1/needs`: a page of the board, newest first (public).
#[utoipa::path(
    get,
    path = "/api/v1/needs",
    tag = "board",
    params(BoardQuery),
    responses((status = 200, description = "A page of needs; `home` is empty for a visitor not signed in.", body = NeedPageView))
)]
pub(super) async fn list<B: Backend>(
    State(state): State<AppState<B>>,
    visitor: Visitor,
    ApiQuery(query): ApiQuery<BoardQuery>,
) -> Json<NeedPageView> {
    let viewer = visitor.session.as_ref().map(|s| &s.account);
    Json(state.backend.needs(viewer, &query).await)
}

/// `GET /api/v1/needs/mine`: the needs the signed-in person posted.
#[utoipa::path(
    get,
    path = "/api/v1/needs/mine",
    tag = "board",
    security(("session" = [])),
    responses((status = 200, description = "The person's needs, newest first.", body = Vec<NeedView>))
)]
pub(super) async fn mine<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Json<Vec<NeedView>> {
    Json(state.backend.my_needs(&session.account).await)
}

/// `POST /api/v1/needs`: posts a need, signed by this node and sent to every member.
#[utoipa::path(
    post,
    path = "/api/v1/needs",
    tag = "board",
    security(("session" = [], "csrf" = [])),
    request_body = NeedForm,
    responses(
        (status = 201, description = "The need, on the board.", body = NeedView),
        (status = 400, description = "`invalid`: the fields with problems.", body = ErrorBody),
        (status = 409, description = "`full` (too many open needs) or `price_category_missing`.", body = ErrorBody),
    )
)]
pub(super) async fn post<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiJson(form): ApiJson<NeedForm>,
) -> Result<(StatusCode, Json<NeedView>), ApiError> {
    let need = state.backend.post_need(&session.account, form).await?;
    Ok((StatusCode::CREATED, Json(need)))
}

/// `GET /api/v1/needs/{home}/{local_id}`: one need, with the offers the viewer may see
/// and the instruments proposed for it.
#[utoipa::path(
    get,
    path = "/api/v1/needs/{home}/{local_id}",
    tag = "board",
    params(
        ("home" = String, Path, description = "The home institution of the need."),
        ("local_id" = String, Path, description = "The need's id at its home."),
    ),
    responses(
        (status = 200, description = "The need.", body = NeedDetail),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(super) async fn detail<B: Backend>(
    State(state): State<AppState<B>>,
    visitor: Visitor,
    ApiPath((home, local_id)): ApiPath<(String, String)>,
) -> Result<Json<NeedDetail>, ApiError> {
    let viewer = visitor.session.as_ref().map(|s| &s.account);
    state
        .backend
        .need(viewer, &need_id(&home, &local_id))
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// `POST /api/v1/needs/{home}/{local_id}/withdraw`: the person who posted it takes it back.
#[utoipa::path(
    post,
    path = "/api/v1/needs/{home}/{local_id}/withdraw",
    tag = "board",
    security(("session" = [], "csrf" = [])),
    params(("home" = String, Path), ("local_id" = String, Path)),
    responses(
        (status = 200, description = "The need, withdrawn.", body = NeedView),
        (status = 403, description = "`forbidden`: not the person's need.", body = ErrorBody),
        (status = 409, description = "`need_closed`: already withdrawn or accepted.", body = ErrorBody),
    )
)]
pub(super) async fn withdraw<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, local_id)): ApiPath<(String, String)>,
) -> Result<Json<NeedView>, ApiError> {
    Ok(Json(
        state
            .backend
            .withdraw_need(&session.account, &need_id(&home, &local_id))
            .await?,
    ))
}

/// `POST /api/v1/needs/{home}/{local_id}/accept`: the person who posted it accepts one
/// institution's offer; the need takes no other.
#[utoipa::path(
    post,
    path = "/api/v1/needs/{home}/{local_id}/accept",
    tag = "board",
    security(("session" = [], "csrf" = [])),
    params(("home" = String, Path), ("local_id" = String, Path)),
    request_body = AcceptForm,
    responses(
        (status = 200, description = "The need, accepted.", body = NeedView),
        (status = 403, description = "`forbidden`: not the person's need.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such need or offer.", body = ErrorBody),
        (status = 409, description = "`need_closed` or `offer_withdrawn`.", body = ErrorBody),
    )
)]
pub(super) async fn accept<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, local_id)): ApiPath<(String, String)>,
    ApiJson(form): ApiJson<AcceptForm>,
) -> Result<Json<NeedView>, ApiError> {
    Ok(Json(
        state
            .backend
            .accept_offer(
                &session.account,
                &need_id(&home, &local_id),
                &form.institution,
            )
            .await?,
    ))
}

/// `POST /api/v1/needs/{home}/{local_id}/offer`: this institution's offer (an instrument
/// manager's); a second one revises it.
#[utoipa::path(
    post,
    path = "/api/v1/needs/{home}/{local_id}/offer",
    tag = "board",
    security(("session" = [], "csrf" = [])),
    params(("home" = String, Path), ("local_id" = String, Path)),
    request_body = OfferForm,
    responses(
        (status = 201, description = "The offer, signed and sent to every member.", body = OfferView),
        (status = 400, description = "`invalid`: the fields with problems.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an instrument manager.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such need.", body = ErrorBody),
        (status = 409, description = "`need_closed`: withdrawn, accepted or past its deadline.", body = ErrorBody),
    )
)]
pub(super) async fn offer<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, local_id)): ApiPath<(String, String)>,
    ApiJson(form): ApiJson<OfferForm>,
) -> Result<(StatusCode, Json<OfferView>), ApiError> {
    if !session.account.role.manages_instruments() {
        return Err(ApiError::Forbidden);
    }
    let offer = state
        .backend
        .make_offer(&session.account, &need_id(&home, &local_id), form)
        .await?;
    Ok((StatusCode::CREATED, Json(offer)))
}

/// `POST /api/v1/needs/{home}/{local_id}/offer/withdraw`: takes back this institution's
/// offer while the need is open.
#[utoipa::path(
    post,
    path = "/api/v1/needs/{home}/{local_id}/offer/withdraw",
    tag = "board",
    security(("session" = [], "csrf" = [])),
    params(("home" = String, Path), ("local_id" = String, Path)),
    responses(
        (status = 200, description = "The offer, withdrawn.", body = OfferView),
        (status = 403, description = "`forbidden`: not an instrument manager.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such need or offer.", body = ErrorBody),
        (status = 409, description = "`need_closed`.", body = ErrorBody),
    )
)]
pub(super) async fn withdraw_offer<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, local_id)): ApiPath<(String, String)>,
) -> Result<Json<OfferView>, ApiError> {
    if !session.account.role.manages_instruments() {
        return Err(ApiError::Forbidden);
    }
    Ok(Json(
        state
            .backend
            .withdraw_offer(&session.account, &need_id(&home, &local_id))
            .await?,
    ))
}

/// `GET /api/v1/needs/stats`: how each institution answers needs — offers made and
/// accepted, and the median hours from a need to its offer (public).
#[utoipa::path(
    get,
    path = "/api/v1/needs/stats",
    tag = "board",
    responses((status = 200, description = "Per institution, by id.", body = Vec<ResponseView>))
)]
pub(super) async fn stats<B: Backend>(State(state): State<AppState<B>>) -> Json<Vec<ResponseView>> {
    Json(state.backend.response_stats().await)
}

/// Query of an attachment upload.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AttachmentQuery {
    /// The file's name.
    file_name: String,
}

/// `POST /api/v1/needs/{home}/{local_id}/attachments?file_name=` with the file as the
/// body: the person who posted the open need attaches a sample photo or a method.
#[utoipa::path(
    post,
    path = "/api/v1/needs/{home}/{local_id}/attachments",
    tag = "board",
    security(("session" = [], "csrf" = [])),
    params(("home" = String, Path), ("local_id" = String, Path), AttachmentQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A JPEG or PNG photo, a PDF or UTF-8 text, at most 2 MiB."),
    responses(
        (status = 200, description = "The need, signed again naming the file's SHA-256.", body = NeedView),
        (status = 400, description = "`invalid`: empty, too large, or of a refused type.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the person who posted it.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`full` (3 files already) or `need_closed`.", body = ErrorBody),
    )
)]
pub(super) async fn attach<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, local_id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<AttachmentQuery>,
    body: axum::body::Bytes,
) -> Result<Json<NeedView>, ApiError> {
    let file = ReportFile {
        name: query.file_name,
        media_type: String::new(),
        bytes: body.to_vec(),
    };
    Ok(Json(
        state
            .backend
            .attach_to_need(&session.account, &need_id(&home, &local_id), file)
            .await?,
    ))
}

/// `GET /api/v1/needs/{home}/{local_id}/attachments/{index}`: an attached file, for
/// people signed in at a member's node (fetched through the need's home, checked
/// against the SHA-256 signed in the need).
#[utoipa::path(
    get,
    path = "/api/v1/needs/{home}/{local_id}/attachments/{index}",
    tag = "board",
    security(("session" = [])),
    params(("home" = String, Path), ("local_id" = String, Path), ("index" = usize, Path)),
    responses(
        (status = 200, description = "The file.", content_type = "application/octet-stream"),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`file_tampered`: the home sent other bytes than it signed.", body = ErrorBody),
        (status = 503, description = "`unreachable`: the need's home could not be reached.", body = ErrorBody),
    )
)]
pub(super) async fn attachment<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
    ApiPath((home, local_id, index)): ApiPath<(String, String, usize)>,
) -> Result<axum::response::Response, ApiError> {
    let file = state
        .backend
        .need_attachment(&session.account, &need_id(&home, &local_id), index)
        .await?;
    Ok(crate::downloads::uploaded(file))
}
