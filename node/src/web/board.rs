//! The board side of the web backend: needs and offers as pages and the API show them,
//! with who may see what (see [`alliance_web::backend::BoardBackend`]).

use alliance_protocol::{
    InstitutionId, Need, NeedState, Offer, order::OrderContact, record::ServiceMode,
};
use alliance_web::backend::{
    Account, AccountRole, ActionFailure, AttachmentView, BoardBackend, BoardQuery, NeedDetail,
    NeedForm, NeedPageView, NeedView, OfferForm, OfferView, ProposalView, ReportFile, ResponseView,
};

use super::{WebBackend, booking::invalid, may_manage};
use crate::board::{BoardError, NeedDraft, NeedFilter, OfferDraft, matching};

/// Needs a page lists at most.
const MAX_PAGE: usize = 100;
/// Instruments a need's page proposes.
const PROPOSALS: usize = 10;

fn mode_name(mode: ServiceMode) -> &'static str {
    match mode {
        ServiceMode::SelfOperated => "self_operated",
        _ => "staff_run",
    }
}

fn parse_mode(name: &str) -> Option<ServiceMode> {
    match name {
        "staff_run" => Some(ServiceMode::StaffRun),
        "self_operated" => Some(ServiceMode::SelfOperated),
        _ => None,
    }
}

pub(super) fn refusal(e: BoardError) -> ActionFailure {
    match e {
        BoardError::Invalid { field, message } => invalid(field, &message),
        BoardError::NoNeed(_) | BoardError::NoOffer(_) => ActionFailure::NotFound,
        BoardError::NotYours => ActionFailure::Forbidden,
        BoardError::Closed(_) => ActionFailure::Refused {
            code: "need_closed".into(),
            message: e.to_string(),
        },
        BoardError::OfferWithdrawn => ActionFailure::Refused {
            code: "offer_withdrawn".into(),
            message: e.to_string(),
        },
        BoardError::Full(message) => ActionFailure::Refused {
            code: "full".into(),
            message,
        },
        BoardError::Unreachable(_) => ActionFailure::Unreachable,
        BoardError::Tampered => ActionFailure::Refused {
            code: "file_tampered".into(),
            message: e.to_string(),
        },
        BoardError::Catalogue(e) => ActionFailure::Internal(e.to_string()),
        BoardError::Store(e) => ActionFailure::Internal(e.to_string()),
    }
}

/// The local id of this institution's need or event, from its alliance-wide id
/// (`institution/local_id`); not found if it is another's.
pub(super) fn own_local_id<'a>(
    need_id: &'a str,
    own: &InstitutionId,
) -> Result<&'a str, ActionFailure> {
    match need_id.split_once('/') {
        Some((home, local)) if home == own.as_str() => Ok(local),
        _ => Err(ActionFailure::NotFound),
    }
}

impl WebBackend {
    pub(super) fn institution_name(&self, id: &InstitutionId) -> String {
        if id == &self.certificate.institution_id {
            return self.certificate.name_zh.clone();
        }
        self.catalogue
            .key_directory()
            .institutions()
            .get(id)
            .map_or_else(|| id.to_string(), |c| c.name_zh.clone())
    }

    pub(super) fn need_view(&self, need: &Need, viewer: Option<&Account>) -> NeedView {
        let mine = viewer.is_some_and(|a| {
            need.home == self.certificate.institution_id
                && self.board.author(&need.local_id).ok().flatten().as_deref()
                    == Some(a.username.as_str())
        });
        let (state, accepted_institution) = match &need.state {
            NeedState::Open if need.deadline < crate::board::today() => ("expired", String::new()),
            NeedState::Open => ("open", String::new()),
            NeedState::Withdrawn { .. } => ("withdrawn", String::new()),
            NeedState::Accepted { institution, .. } => ("accepted", institution.to_string()),
        };
        let (home, home_name) = if viewer.is_some() {
            (need.home.to_string(), self.institution_name(&need.home))
        } else {
            (String::new(), String::new())
        };
        NeedView {
            need_id: need.id(),
            home,
            home_name,
            title: need.title.clone(),
            description: need.description.clone(),
            categories: need.categories.clone(),
            modes: need
                .modes
                .iter()
                .map(|m| mode_name(*m).to_owned())
                .collect(),
            keywords: need.keywords.clone(),
            sample_kind: need.sample_kind.clone(),
            sample_count: need.sample_count,
            deadline: need.deadline.clone(),
            budget_min_fen: need.budget_min_fen,
            budget_max_fen: need.budget_max_fen,
            results_public: need.results_public,
            posted_at: need.posted_at.0,
            state: state.to_owned(),
            accepted_institution,
            attachments: need
                .attachments
                .iter()
                .map(|a| AttachmentView {
                    name: a.name.clone(),
                    media_type: a.media_type.clone(),
                    size: a.size,
                    sha256: hex::encode(a.sha256),
                })
                .collect(),
            offers: self
                .board
                .view()
                .offers_for(&need.id())
                .iter()
                .filter(|o| !o.withdrawn)
                .count(),
            mine,
        }
    }

    fn offer_view(&self, offer: &Offer, need: &Need) -> OfferView {
        let instrument_id = offer.instrument_id();
        let (instrument_name, _) = self.catalogue.names_of(&instrument_id);
        let accepted = matches!(&need.state, NeedState::Accepted { institution, revision, .. }
            if *institution == offer.institution_id && *revision == offer.revision);
        OfferView {
            institution_name: self.institution_name(&offer.institution_id),
            institution_id: offer.institution_id.to_string(),
            instrument_name: if instrument_name.is_empty() {
                instrument_id.clone()
            } else {
                instrument_name
            },
            instrument_id,
            mode: mode_name(offer.mode).to_owned(),
            service_item: offer.service_item.clone(),
            price_fen: offer.price_fen,
            quoted: offer.quoted,
            price_reason: offer.price_reason.clone(),
            earliest_date: offer.earliest_date.clone(),
            turnaround_days: offer.turnaround_days,
            conditions: offer.conditions.clone(),
            offered_at: offer.offered_at.0,
            withdrawn: offer.withdrawn,
            late: !self.board.view().in_time(offer),
            accepted,
        }
    }

    /// For a staff-run offer, the entrusted-testing order placed with the offering
    /// institution, with whom to contact: before the need is marked accepted, and under
    /// the need's id, so a retry after a crash places the same order again.
    async fn place_order(
        &self,
        account: &Account,
        need_id: &str,
        institution: &InstitutionId,
    ) -> Result<(), ActionFailure> {
        let need = self
            .board
            .view()
            .need(need_id)
            .ok_or(ActionFailure::NotFound)?;
        // Only the person who posted the need orders for it (the acceptance checks the
        // same, after).
        let author = self
            .board
            .author(&need.local_id)
            .map_err(|e| ActionFailure::Internal(e.to_string()))?;
        if need.home != self.certificate.institution_id
            || author.as_deref() != Some(account.username.as_str())
        {
            return Err(ActionFailure::Forbidden);
        }
        let Some(offer) = self.board.view().offer(need_id, institution) else {
            return Err(ActionFailure::NotFound);
        };
        if offer.mode != ServiceMode::StaffRun || !need.is_open() || offer.withdrawn {
            // Self-operated use is booked by the user; a closed need or a withdrawn
            // offer is refused by the acceptance itself.
            return Ok(());
        }
        let contact = OrderContact {
            user_id: account.username.clone(),
            name: account.display_name.clone(),
            organization: account.organization.clone(),
            email: account.email.clone(),
            phone: account.phone.clone(),
        };
        self.orders
            .place_for(&need, &offer, contact)
            .await
            .map_err(super::orders::failure)?;
        Ok(())
    }

    fn current(&self, id: &InstitutionId) -> bool {
        id == &self.certificate.institution_id || self.catalogue.key_directory().is_current(id)
    }
}

impl BoardBackend for WebBackend {
    async fn needs(&self, viewer: Option<&Account>, query: &BoardQuery) -> NeedPageView {
        let filter = NeedFilter {
            open_only: query.state != "all",
            category: (!query.category.trim().is_empty()).then(|| query.category.trim().to_owned()),
            words: query.q.split_whitespace().map(str::to_owned).collect(),
            home: None,
        };
        let limit = if query.limit == 0 {
            20
        } else {
            query.limit.min(MAX_PAGE)
        };
        let page =
            self.board
                .view()
                .needs(&filter, &|home| !self.current(home), query.offset, limit);
        NeedPageView {
            total: page.total,
            offset: query.offset,
            items: page
                .items
                .iter()
                .map(|n| self.need_view(n, viewer))
                .collect(),
        }
    }

    async fn need(&self, viewer: Option<&Account>, need_id: &str) -> Option<NeedDetail> {
        let need = self.board.view().need(need_id)?;
        if !self.current(&need.home) {
            return None;
        }
        let view = self.need_view(&need, viewer);
        let own = &self.certificate.institution_id;
        let manager = viewer.is_some_and(|a| a.role.manages_instruments());
        let offers = self
            .board
            .view()
            .offers_for(need_id)
            .iter()
            .filter(|o| view.mine || (manager && &o.institution_id == own))
            .map(|o| self.offer_view(o, &need))
            .collect();
        let today = crate::board::today();
        let proposals = if viewer.is_some() && need.is_open() {
            matching::propose(&self.catalogue, &need, None, &today, PROPOSALS)
                .into_iter()
                .map(|p| ProposalView {
                    instrument_id: p.instrument.record.id(),
                    name: p.instrument.record.name_zh.clone(),
                    institution_name: self.institution_name(&p.instrument.record.institution_id),
                    reasons: p
                        .reasons
                        .iter()
                        .map(|r| match r {
                            matching::Reason::Category(c) => c.clone(),
                            matching::Reason::Keyword(k) => k.clone(),
                        })
                        .collect(),
                    free_before_deadline: p.free_before_deadline,
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(NeedDetail {
            may_offer: manager && need.is_open() && need.deadline >= today,
            need: view,
            offers,
            proposals,
        })
    }

    async fn my_needs(&self, account: &Account) -> Vec<NeedView> {
        self.board
            .needs_of(&account.username)
            .unwrap_or_default()
            .iter()
            .map(|n| self.need_view(n, Some(account)))
            .collect()
    }

    async fn post_need(
        &self,
        account: &Account,
        form: NeedForm,
    ) -> Result<NeedView, ActionFailure> {
        let tier = price_tier(account)?;
        let draft = draft_of(&form, None)?;
        let need = self
            .board
            .post(&account.username, tier, draft)
            .await
            .map_err(refusal)?;
        tracing::info!(user = %account.username, need = need.id(), "need posted");
        Ok(self.need_view(&need, Some(account)))
    }

    async fn withdraw_need(
        &self,
        account: &Account,
        need_id: &str,
    ) -> Result<NeedView, ActionFailure> {
        let local = own_local_id(need_id, &self.certificate.institution_id)?;
        let need = self
            .board
            .withdraw(&account.username, local)
            .await
            .map_err(refusal)?;
        Ok(self.need_view(&need, Some(account)))
    }

    async fn accept_offer(
        &self,
        account: &Account,
        need_id: &str,
        institution: &str,
    ) -> Result<NeedView, ActionFailure> {
        let local = own_local_id(need_id, &self.certificate.institution_id)?;
        let institution: InstitutionId =
            institution.parse().map_err(|_| ActionFailure::NotFound)?;
        self.place_order(account, need_id, &institution).await?;
        let (need, _offer) = self
            .board
            .accept(&account.username, local, &institution)
            .await
            .map_err(refusal)?;
        tracing::info!(user = %account.username, need = need.id(), %institution, "offer accepted");
        if let Err(e) = self.orders.reopen_if_refused(local).await {
            tracing::warn!(error = %e, need = need.id(), "a refused order's need stays accepted for now");
        }
        let need = self
            .board
            .view()
            .need(&need.id())
            .map_or(need, |n| (*n).clone());
        Ok(self.need_view(&need, Some(account)))
    }

    async fn make_offer(
        &self,
        account: &Account,
        need_id: &str,
        form: OfferForm,
    ) -> Result<OfferView, ActionFailure> {
        may_manage(account)?;
        if account.role == AccountRole::ProvinceAdmin {
            return Err(ActionFailure::Forbidden);
        }
        let quoted = form
            .quoted_price_fen
            .map(|price| (price, form.price_reason.trim().to_owned()));
        let draft = OfferDraft {
            need_id: need_id.to_owned(),
            instrument_local_id: form.instrument_local_id.trim().to_owned(),
            mode: parse_mode(&form.mode),
            service_item: form.service_item.trim().to_owned(),
            quoted,
            earliest_date: form.earliest_date.trim().to_owned(),
            turnaround_days: form.turnaround_days,
            conditions: form.conditions.trim().to_owned(),
        };
        let offer = self.board.offer(draft).await.map_err(refusal)?;
        tracing::info!(by = %account.username, need = need_id, "offer made");
        let need = self
            .board
            .view()
            .need(need_id)
            .ok_or(ActionFailure::NotFound)?;
        Ok(self.offer_view(&offer, &need))
    }

    async fn withdraw_offer(
        &self,
        account: &Account,
        need_id: &str,
    ) -> Result<OfferView, ActionFailure> {
        may_manage(account)?;
        let offer = self.board.withdraw_offer(need_id).await.map_err(refusal)?;
        let need = self
            .board
            .view()
            .need(need_id)
            .ok_or(ActionFailure::NotFound)?;
        Ok(self.offer_view(&offer, &need))
    }

    async fn attach_to_need(
        &self,
        account: &Account,
        need_id: &str,
        file: ReportFile,
    ) -> Result<NeedView, ActionFailure> {
        let local = own_local_id(need_id, &self.certificate.institution_id)?;
        let need = self
            .board
            .attach(&account.username, local, &file.name, file.bytes)
            .await
            .map_err(refusal)?;
        Ok(self.need_view(&need, Some(account)))
    }

    async fn need_attachment(
        &self,
        _account: &Account,
        need_id: &str,
        index: usize,
    ) -> Result<ReportFile, ActionFailure> {
        let (name, media_type, bytes) = self
            .board
            .attachment(need_id, index)
            .await
            .map_err(refusal)?;
        Ok(ReportFile {
            name,
            media_type,
            bytes,
        })
    }

    async fn response_stats(&self) -> Vec<ResponseView> {
        self.board
            .response_stats()
            .iter()
            .map(|(id, stats)| ResponseView {
                institution_name: self.institution_name(id),
                institution_id: id.to_string(),
                offers: stats.offers,
                accepted: stats.accepted,
                acceptance_rate: stats.acceptance_rate(),
                median_hours_to_offer: stats.median_hours,
            })
            .collect()
    }
}

/// What `account`'s needs are priced at; refused while an administrator has not set an
/// outside user's category.
pub(crate) fn price_tier(account: &Account) -> Result<alliance_protocol::UserTier, ActionFailure> {
    account.price_tier().ok_or_else(|| ActionFailure::Refused {
        code: "price_category_missing".into(),
        message: "an administrator has not yet set this account's price category; \
                  ask your institution's administrator"
            .into(),
    })
}

/// The need `form` describes, referred to `referred_to` if a service expert names one.
pub(crate) fn draft_of(
    form: &NeedForm,
    referred_to: Option<InstitutionId>,
) -> Result<NeedDraft, ActionFailure> {
    let mut modes = Vec::new();
    for name in &form.modes {
        let mode =
            parse_mode(name).ok_or_else(|| invalid("modes", "staff_run or self_operated"))?;
        if !modes.contains(&mode) {
            modes.push(mode);
        }
    }
    let trimmed = |items: &[String]| -> Vec<String> {
        items
            .iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect()
    };
    Ok(NeedDraft {
        title: form.title.trim().to_owned(),
        description: form.description.trim().to_owned(),
        categories: trimmed(&form.categories),
        modes,
        keywords: trimmed(&form.keywords),
        sample_kind: form.sample_kind.trim().to_owned(),
        sample_count: form.sample_count,
        deadline: form.deadline.trim().to_owned(),
        budget_min_fen: form.budget_min_fen,
        budget_max_fen: form.budget_max_fen,
        results_public: form.results_public,
        referred_to,
    })
}
