//! `/guide`: everything an outside user (a firm, an individual, another organisation) needs
//! on one page — registering, finding and booking an instrument, fees by user category,
//! approval, cancelling, whom to contact.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};

use super::{Ctx, Layout, instruments::pick, labels};
use crate::{AppState, backend::Backend, i18n::Strings, render::Page};

/// A user category and who belongs to it.
struct Tier {
    name: &'static str,
    who: &'static str,
}

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage {
    layout: Layout,
    t: &'static Strings,
    tiers: Vec<Tier>,
    institution: String,
    signed_in: bool,
}

/// `GET /guide` (public).
pub(super) async fn page<B: Backend>(State(state): State<AppState<B>>, ctx: Ctx) -> Response {
    let node = state.backend.status().await;
    let (c, g) = (ctx.t.cat, ctx.t.guide);
    let tiers = vec![
        Tier {
            name: labels::tier(c, alliance_protocol::UserTier::OwnInstitution),
            who: g.tier_own,
        },
        Tier {
            name: labels::tier(c, alliance_protocol::UserTier::AllianceMember),
            who: g.tier_member,
        },
        Tier {
            name: labels::tier(c, alliance_protocol::UserTier::OutsideAcademic),
            who: g.tier_academic,
        },
        Tier {
            name: labels::tier(c, alliance_protocol::UserTier::Enterprise),
            who: g.tier_enterprise,
        },
    ];
    let page = GuidePage {
        layout: ctx.layout("guide"),
        t: ctx.t,
        tiers,
        institution: pick(ctx.lang, &node.name_zh, &node.name_en),
        signed_in: ctx.session.is_some(),
    };
    Page::ok(page).into_response()
}
