//! The log alarm: while the node holds evidence that the province's platform showed two
//! inconsistent histories of its usage record log, every page carries a warning banner,
//! whoever is looking.
//!
//! [`watch`] asks the backend once per page request and leaves a [`LogAlarm`] in the
//! request's extensions, where [`Ctx`](crate::pages) reads it for the page chrome. The JSON
//! API reports the same through `GET /api/v1/manage/receipts`.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

use crate::{AppState, backend::Backend};

/// Whether the page of this request shows the log alarm, and the other warnings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LogAlarm(pub bool, pub crate::backend::TrustWarnings);

/// Looks the alarm up for every page (not for the JSON API, which has no chrome).
pub(crate) async fn watch<B: Backend>(
    State(state): State<AppState<B>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/api/") {
        let raised = state.backend.log_alarm().await.is_some();
        let warnings = state.backend.trust_warnings().await;
        request.extensions_mut().insert(LogAlarm(raised, warnings));
    }
    next.run(request).await
}
