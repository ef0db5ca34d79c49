//! The needs pages: a visitor reads the board without seeing who posted; a signed-in
//! person posts a need, an institution's manager offers, and the person compares the
//! offers and accepts one; a closed need takes no offer; forms without the session's
//! token change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{MemoryBackend, app, form, get, page_login, session_csrf};
use alliance_web::backend::{AccountRole, AccountState};
use axum::http::StatusCode;

#[tokio::test]
async fn a_need_is_posted_offered_for_compared_and_accepted() {
    let backend =
        MemoryBackend::seeded().with("mgr", AccountRole::InstrumentManager, AccountState::Active);
    let app = app(&backend);
    let li = page_login(&app, "li").await;
    let csrf = session_csrf(&app, &li).await;
    let fields = [
        ("title", "涂层表面元素价态分析"),
        ("modes", "staff_run"),
        ("keywords", "XPS 价态"),
        ("sample_count", "3"),
        ("deadline", "2099-01-01"),
        ("budget_max", "2000"),
    ];
    // Without the session's token nothing is posted.
    let forged = form(&app, "/needs", &li, &fields).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let mut with_token = vec![("csrf", csrf.as_str())];
    with_token.extend_from_slice(&fields);
    let posted = form(&app, "/needs", &li, &with_token).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert_eq!(posted.location(), Some("/needs?notice=posted"));

    // A visitor sees the need and its budget, not who posted it.
    let public = get(&app, "/needs", "").await;
    assert!(
        public.body.contains("涂层表面元素价态分析"),
        "{}",
        public.body
    );
    assert!(public.body.contains("¥0.00 – ¥2000.00"), "{}", public.body);
    assert!(
        !public.body.contains("<dt>发布单位</dt>"),
        "{}",
        public.body
    );
    let signed_in = get(&app, "/needs", &li).await;
    assert!(
        signed_in.body.contains("<dt>发布单位</dt>"),
        "{}",
        signed_in.body
    );
    let mine = get(&app, "/needs", &li).await;
    assert!(mine.body.contains("id=\"my-needs\""), "{}", mine.body);

    // The manager offers; the person sees it side by side with a button to accept it.
    let mgr = page_login(&app, "mgr").await;
    let mgr_csrf = session_csrf(&app, &mgr).await;
    let detail = get(&app, "/needs/dlut/n_1", &mgr).await;
    assert!(detail.body.contains("id=\"offer-form\""), "{}", detail.body);
    let offered = form(
        &app,
        "/needs/dlut/n_1/offer",
        &mgr,
        &[
            ("csrf", mgr_csrf.as_str()),
            ("instrument_local_id", "XPS-1"),
            ("mode", "staff_run"),
            ("quoted_price", "1800"),
            ("price_reason", "含制样"),
            ("earliest_date", "2098-12-01"),
            ("turnaround_days", "5"),
        ],
    )
    .await;
    assert_eq!(offered.status, StatusCode::SEE_OTHER, "{}", offered.body);
    let compare = get(&app, "/needs/dlut/n_1", &li).await;
    assert!(compare.body.contains("id=\"offers\""), "{}", compare.body);
    assert!(compare.body.contains("¥1800.00"), "{}", compare.body);
    assert!(compare.body.contains("value=\"neu\""), "{}", compare.body);
    let accepted = form(
        &app,
        "/needs/dlut/n_1/accept",
        &li,
        &[("csrf", csrf.as_str()), ("institution", "neu")],
    )
    .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    let after = get(&app, "/needs/dlut/n_1?notice=accepted", &li).await;
    assert!(after.body.contains("已接受报价"), "{}", after.body);
    // The board shows how institutions answer.
    let board = get(&app, "/needs?state=all", "").await;
    assert!(board.body.contains("id=\"responses\""), "{}", board.body);
    assert!(board.body.contains("100%"), "{}", board.body);

    // Closed: a second offer is refused with the reason, nothing changes.
    let late = form(
        &app,
        "/needs/dlut/n_1/offer",
        &mgr,
        &[
            ("csrf", mgr_csrf.as_str()),
            ("instrument_local_id", "XPS-1"),
            ("mode", "staff_run"),
            ("earliest_date", "2098-12-01"),
            ("turnaround_days", "5"),
        ],
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    // A researcher may not offer.
    let researcher = form(
        &app,
        "/needs/dlut/n_1/offer",
        &li,
        &[("csrf", csrf.as_str()), ("instrument_local_id", "XPS-1")],
    )
    .await;
    assert_eq!(researcher.status, StatusCode::FORBIDDEN);
}
