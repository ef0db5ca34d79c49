//! `/` once signed in: the work page (工作台). Each role lands on what it has to do —
//! users on their coming bookings, receipts to confirm, needs and orders; managers on the
//! booking requests waiting for them; institution administrators on their catalogue's
//! review state and registrations to approve; the province on its review queue; service
//! experts on the requests waiting — each with its count and a link to the full list.
//! Visitors who are not signed in see the node's status there, as before.

use alliance_protocol::booking::BookingState;
use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::Utc;

use super::{Ctx, Layout};
use crate::{
    AppState,
    backend::{
        Account, AccountRole, AccountState, Backend, HelpQuery, ListPage, ManagedSection,
        MyReceiptList, ReviewState, StartSpan,
    },
    i18n::Strings,
    render::Page,
    time,
};

/// Bookings listed before "all bookings".
const UPCOMING_SHOWN: usize = 5;
/// Requests to decide listed before "decide".
const TO_APPROVE_SHOWN: usize = 10;
/// A user's bookings read for the coming ones, soonest start first.
const COMING_READ: usize = 200;

/// One line of a list on the work page.
struct Line {
    title: String,
    when: String,
    href: String,
}

/// A count with its link.
struct Tally {
    label: &'static str,
    count: usize,
    href: &'static str,
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    layout: Layout,
    t: &'static Strings,
    /// Shown to people who book and order (everyone signed in).
    upcoming: Vec<Line>,
    upcoming_total: usize,
    tallies: Vec<Tally>,
    /// Managers: the requests waiting for a decision.
    manages: bool,
    to_approve: Vec<Line>,
    to_approve_total: usize,
}

/// Whether an order (by its state's API name) still has steps to come.
fn in_progress(state: &str) -> bool {
    !matches!(state, "closed" | "refused" | "cancelled")
}

fn pick<'a>(ctx: &Ctx, zh: &'a str, en: &'a str) -> &'a str {
    match ctx.lang {
        crate::i18n::Lang::En if !en.is_empty() => en,
        _ => zh,
    }
}

/// What the account itself has to do: its coming bookings, and counts of the rest.
async fn own_work<B: Backend>(
    backend: &B,
    ctx: &Ctx,
    account: &Account,
) -> (Vec<Line>, usize, Vec<Tally>) {
    let w = ctx.t.work;
    let now = Utc::now().timestamp();
    // Only a booking that started less than the longest booking ago can still be coming
    // or running; a user's coming bookings are few (the owners' quotas see to that).
    let since = StartSpan {
        from: Some(now.saturating_sub(alliance_protocol::booking::MAX_BOOKING_SECONDS)),
        to: None,
    };
    let mut coming: Vec<_> = backend
        .my_soonest_bookings(account, since, COMING_READ)
        .await
        .into_iter()
        .filter(|b| {
            b.end > now
                && matches!(
                    b.status,
                    BookingState::Requested | BookingState::Held | BookingState::Confirmed
                )
        })
        .collect();
    coming.sort_by_key(|b| b.start);
    let upcoming = coming
        .iter()
        .take(UPCOMING_SHOWN)
        .map(|b| Line {
            title: pick(ctx, &b.instrument_name_zh, &b.instrument_name_en).to_owned(),
            when: time::format_span(b.start, b.end, ctx.lang),
            href: "/bookings".into(),
        })
        .collect();
    let to_confirm = backend
        .my_receipts_page(
            account,
            MyReceiptList::ToConfirm,
            StartSpan::default(),
            0,
            0,
        )
        .await
        .total;
    let needs = backend.my_needs(account).await;
    let open: Vec<_> = needs.iter().filter(|n| n.state == "open").collect();
    let offers: usize = open.iter().map(|n| n.offers).sum();
    let orders = backend
        .my_orders(account)
        .await
        .iter()
        .filter(|o| in_progress(&o.state))
        .count();
    let tallies = vec![
        Tally {
            label: w.to_confirm,
            count: to_confirm,
            href: "/receipts",
        },
        Tally {
            label: w.open_needs,
            count: open.len(),
            href: "/needs#mine-title",
        },
        Tally {
            label: w.offers_received,
            count: offers,
            href: "/needs#mine-title",
        },
        Tally {
            label: w.orders_open,
            count: orders,
            href: "/orders",
        },
    ];
    (upcoming, coming.len(), tallies)
}

/// What the account's role has to do besides.
async fn role_work<B: Backend>(backend: &B, ctx: &Ctx, account: &Account) -> Vec<Tally> {
    let w = ctx.t.work;
    let mut tallies = Vec::new();
    if account.role.manages_instruments()
        && let Ok(orders) = backend.managed_orders(account).await
    {
        tallies.push(Tally {
            label: w.orders_to_act,
            count: orders
                .iter()
                .filter(|o| in_progress(&o.order.state))
                .count(),
            href: "/manage/orders",
        });
    }
    match account.role {
        AccountRole::InstitutionAdmin => {
            let own = backend.own_instruments().await;
            tallies.push(Tally {
                label: w.own_instruments,
                count: own.len(),
                href: "/admin/instruments",
            });
            tallies.push(Tally {
                label: w.awaiting_review,
                count: own
                    .iter()
                    .filter(|d| {
                        matches!(
                            d.summary.review_state,
                            ReviewState::Unreviewed | ReviewState::AwaitingApproval
                        )
                    })
                    .count(),
                href: "/admin/instruments",
            });
        }
        AccountRole::ProvinceAdmin => tallies.push(Tally {
            label: w.review_queue,
            count: backend.review_queue().await.len(),
            href: "/province/reviews",
        }),
        AccountRole::ServiceExpert => {
            let queue = backend
                .help_queue(
                    account,
                    &HelpQuery {
                        offset: 0,
                        limit: 100,
                    },
                )
                .await;
            tallies.push(Tally {
                label: w.help_open,
                count: queue
                    .map(|q| q.items.iter().filter(|r| r.state == "open").count())
                    .unwrap_or_default(),
                href: "/help",
            });
        }
        _ => {}
    }
    if account.role.is_admin()
        && let Ok(accounts) = backend.accounts().await
    {
        tallies.push(Tally {
            label: w.accounts_pending,
            count: accounts
                .iter()
                .filter(|a| a.state == AccountState::Pending)
                .count(),
            href: "/admin/accounts",
        });
    }
    tallies
}

/// `GET /`: the work page once signed in; the node's status for visitors.
pub(super) async fn page<B: Backend>(State(state): State<AppState<B>>, ctx: Ctx) -> Response {
    let Some(session) = ctx.session.as_ref() else {
        return super::status::page(State(state), ctx).await;
    };
    let account = &session.account;
    let backend = &state.backend;
    let (upcoming, upcoming_total, mut tallies) = own_work(backend, &ctx, account).await;
    tallies.extend(role_work(backend, &ctx, account).await);
    let manages = crate::auth::decides_bookings(account.role);
    let waiting = if manages {
        backend
            .managed_page(
                ManagedSection::Waiting,
                StartSpan::default(),
                0,
                TO_APPROVE_SHOWN,
            )
            .await
    } else {
        ListPage::of(Vec::new(), 0, 0)
    };
    let to_approve = waiting
        .items
        .iter()
        .map(|b| Line {
            title: format!(
                "{} · {}",
                pick(&ctx, &b.instrument_name_zh, &b.instrument_name_en),
                b.user_name
            ),
            when: time::format_span(b.start, b.end, ctx.lang),
            href: "/manage/bookings".into(),
        })
        .collect();
    Page::ok(WorkPage {
        layout: ctx.layout("work"),
        t: ctx.t,
        upcoming,
        upcoming_total,
        tallies,
        manages,
        to_approve,
        to_approve_total: waiting.total,
    })
    .into_response()
}
