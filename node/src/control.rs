//! The local control API that `alliance province …` and `alliance user add` use while the
//! node runs. It is authenticated by a random token the node writes to its data dir
//! (mode 0600) at every start: whoever can read the node's files may control it, nobody
//! else — the same trust boundary as the key files.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use alliance_protocol::armor;
use alliance_web::backend::{AccountError, NewAccount};
use axum::{
    Json, Router,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::post,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::{
    accounts::Accounts,
    net::NetClient,
    province::{IssueRequest, ProvinceAuthority, ProvinceError},
};

const TOKEN_FILE: &str = "control.token";

/// Where the control token lives.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

/// Writes a fresh control token (mode 0600), replacing the last one.
pub fn write_token(data_dir: &Path) -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = hex::encode(bytes);
    crate::keyfile::write_private(&token_path(data_dir), &token)?;
    Ok(token)
}

/// Reads the control token of a node's data dir.
pub fn read_token(data_dir: &Path) -> std::io::Result<String> {
    fs::read_to_string(token_path(data_dir)).map(|t| t.trim().to_owned())
}

/// What the control routes need.
#[derive(Debug, Clone)]
pub struct ControlState {
    pub token: String,
    pub accounts: Accounts,
    pub province: Option<Arc<ProvinceAuthority>>,
    pub net: NetClient,
}

/// Answer to an issued certificate.
#[derive(Debug, Serialize, Deserialize)]
pub struct IssuedResponse {
    pub serial: u64,
    /// The armored certificate, to hand to the member.
    pub certificate: String,
    pub roster_version: u64,
}

/// A revocation request.
#[derive(Debug, Serialize, Deserialize)]
pub struct RevokeRequest {
    pub serial: u64,
}

/// Answer to a revocation.
#[derive(Debug, Serialize, Deserialize)]
pub struct RevokedResponse {
    pub roster_version: u64,
}

#[derive(Debug)]
struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<ProvinceError> for ControlError {
    fn from(e: ProvinceError) -> Self {
        let status = match e {
            ProvinceError::UnknownSerial(_) => StatusCode::NOT_FOUND,
            ProvinceError::AlreadyRevoked(_) | ProvinceError::Validity(_) => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ControlError(status, e.to_string())
    }
}

/// The `/control/v1` routes.
pub fn router(state: ControlState) -> Router {
    Router::new()
        .route("/control/v1/certificates", post(issue))
        .route("/control/v1/revocations", post(revoke))
        .route("/control/v1/accounts", post(add_account))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state)
}

async fn require_token(
    State(state): State<ControlState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if bool::from(presented.as_bytes().ct_eq(state.token.as_bytes())) {
        next.run(request).await
    } else {
        ControlError(StatusCode::UNAUTHORIZED, "control token required".into()).into_response()
    }
}

fn authority(state: &ControlState) -> Result<&ProvinceAuthority, ControlError> {
    state.province.as_deref().ok_or_else(|| {
        ControlError(
            StatusCode::NOT_FOUND,
            "this node is not the province's node".into(),
        )
    })
}

/// Publishes a new roster on the network; an error if the network keeps an older one
/// (it holds one at least as new, so members would ignore this one).
async fn publish(state: &ControlState, roster: Vec<u8>, version: u64) -> Result<(), ControlError> {
    match state.net.offer_roster(roster).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ControlError(
            StatusCode::CONFLICT,
            format!(
                "roster version {version} was signed, but the network holds version {} already: members would ignore it",
                state.net.state().roster_version
            ),
        )),
        Err(e) => {
            tracing::error!(error = %e, "cannot publish the new roster");
            Err(ControlError(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot publish the new roster: {e}"),
            ))
        }
    }
}

/// The province issues and revokes only while no member has announced a roster newer
/// than the one it holds: after a restore from a backup, members hand back the rosters
/// issued since, the network installs the newest, and the authority catches up from it
/// (see `province::catch_up`) before it allocates a serial. (With no member connected
/// nothing can be learned, and nothing issued would reach anyone before one connects:
/// after a restore, wait until members are connected — `alliance status` lists them.)
fn not_behind_members(state: &ControlState) -> Result<(), ControlError> {
    let mesh = state.net.state();
    let newest_seen = mesh
        .seen
        .values()
        .map(|s| s.roster_version)
        .max()
        .unwrap_or(0);
    if mesh.roster_version < newest_seen {
        return Err(ControlError(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "a member announced roster version {newest_seen}, newer than the {} this node holds, which is still arriving (restored from a backup?): try again in a moment",
                mesh.roster_version
            ),
        ));
    }
    Ok(())
}

async fn issue(
    State(state): State<ControlState>,
    Json(request): Json<IssueRequest>,
) -> Result<Json<IssuedResponse>, ControlError> {
    let authority = authority(&state)?;
    not_behind_members(&state)?;
    let (cert, roster) = authority.issue(request).await?;
    let roster_version = roster.roster().version;
    publish(&state, roster.encode(), roster_version).await?;
    Ok(Json(IssuedResponse {
        serial: cert.certificate().serial,
        certificate: armor::encode(armor::CERTIFICATE_LABEL, &cert.encode()),
        roster_version,
    }))
}

async fn revoke(
    State(state): State<ControlState>,
    Json(request): Json<RevokeRequest>,
) -> Result<Json<RevokedResponse>, ControlError> {
    let authority = authority(&state)?;
    not_behind_members(&state)?;
    let roster = authority.revoke(request.serial).await?;
    let roster_version = roster.roster().version;
    publish(&state, roster.encode(), roster_version).await?;
    Ok(Json(RevokedResponse { roster_version }))
}

async fn add_account(
    State(state): State<ControlState>,
    Json(account): Json<NewAccount>,
) -> Result<impl IntoResponse, ControlError> {
    match state.accounts.create(account).await {
        Ok(account) => Ok((StatusCode::CREATED, Json(account))),
        Err(e @ AccountError::Internal(_)) => Err(ControlError(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        )),
        Err(e) => Err(ControlError(StatusCode::BAD_REQUEST, e.to_string())),
    }
}
