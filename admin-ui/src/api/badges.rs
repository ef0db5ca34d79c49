//! The counts of work waiting that the menu shows as badges beside its items: receipts to
//! confirm, booking requests to decide, records to review, registrations to approve. The
//! page's script asks once per page; without it the work page (`/`) shows the same counts.

use axum::{Json, extract::State};
use serde::Serialize;

use super::{ApiError, ApiUser};
use crate::{
    AppState,
    auth::decides_bookings,
    backend::{AccountRole, AccountState, Backend, ManagedSection, MyReceiptList, StartSpan},
};

/// Work waiting for the signed-in account, by the menu item that leads to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub(crate) struct Badges {
    /// `/receipts`: usage receipts waiting for the user's confirmation.
    pub receipts: usize,
    /// `/manage/bookings`: requests held for a manager's decision.
    pub manage_bookings: usize,
    /// `/province/reviews`: records waiting for the province's review.
    pub reviews: usize,
    /// `/admin/accounts`: registrations waiting for approval.
    pub accounts: usize,
}

/// `GET /api/v1/me/badges`.
#[utoipa::path(
    get,
    path = "/api/v1/me/badges",
    tag = "session",
    security(("session" = [])),
    responses(
        (status = 200, description = "Work waiting for the signed-in account, by menu item (0 where the role has none).", body = Badges),
    )
)]
pub(super) async fn badges<B: Backend>(
    State(state): State<AppState<B>>,
    ApiUser(session): ApiUser,
) -> Result<Json<Badges>, ApiError> {
    let account = &session.account;
    let backend = &state.backend;
    let mut badges = Badges {
        receipts: backend
            .my_receipts_page(
                account,
                MyReceiptList::ToConfirm,
                StartSpan::default(),
                0,
                0,
            )
            .await
            .total,
        ..Badges::default()
    };
    if decides_bookings(account.role) {
        badges.manage_bookings = backend
            .managed_page(ManagedSection::Waiting, StartSpan::default(), 0, 0)
            .await
            .total;
    }
    if account.role == AccountRole::ProvinceAdmin {
        badges.reviews = backend.review_queue().await.len();
    }
    if account.role.is_admin()
        && let Ok(accounts) = backend.accounts().await
    {
        badges.accounts = accounts
            .iter()
            .filter(|a| a.state == AccountState::Pending)
            .count();
    }
    Ok(Json(badges))
}
