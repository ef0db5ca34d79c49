//! The board half of [`MemoryBackend`]: needs in a list, offers per need, the node's own
//! checks (signing, matching, who may see what) left to the node's tests; this keeps
//! what the pages need to show and refuse.

use alliance_web::backend::{
    Account, ActionFailure, BoardBackend, BoardQuery, NeedDetail, NeedForm, NeedPageView, NeedView,
    OfferForm, OfferView, ReportFile, ResponseView,
};

use super::MemoryBackend;

#[derive(Debug, Default)]
pub(crate) struct Board {
    /// (username, need), oldest first.
    needs: Vec<(String, NeedView)>,
    /// (need id, offer).
    offers: Vec<(String, OfferView)>,
}

fn closed() -> ActionFailure {
    ActionFailure::Refused {
        code: "need_closed".into(),
        message: "the need takes no more offers".into(),
    }
}

impl MemoryBackend {
    fn need_of(&self, id: &str) -> Option<(String, NeedView)> {
        self.lock()
            .board
            .needs
            .iter()
            .find(|(_, n)| n.need_id == id)
            .cloned()
    }

    fn set_state(&self, id: &str, state: &str, institution: &str) {
        for (_, n) in &mut self.lock().board.needs {
            if n.need_id == id {
                n.state = state.into();
                n.accepted_institution = institution.into();
            }
        }
    }
}

impl BoardBackend for MemoryBackend {
    async fn needs(&self, viewer: Option<&Account>, query: &BoardQuery) -> NeedPageView {
        let inner = self.lock();
        let all: Vec<NeedView> = inner
            .board
            .needs
            .iter()
            .rev()
            .filter(|(_, n)| query.state == "all" || n.state == "open")
            .map(|(user, n)| NeedView {
                mine: viewer.is_some_and(|a| &a.username == user),
                // A visitor does not see who posted.
                home: if viewer.is_some() {
                    n.home.clone()
                } else {
                    String::new()
                },
                home_name: if viewer.is_some() {
                    n.home_name.clone()
                } else {
                    String::new()
                },
                ..n.clone()
            })
            .collect();
        let limit = if query.limit == 0 {
            20
        } else {
            query.limit.min(100)
        };
        NeedPageView {
            total: all.len(),
            offset: query.offset,
            items: all.into_iter().skip(query.offset).take(limit).collect(),
        }
    }

    async fn need(&self, viewer: Option<&Account>, need_id: &str) -> Option<NeedDetail> {
        let (user, need) = self.need_of(need_id)?;
        let mine = viewer.is_some_and(|a| a.username == user);
        let manager = viewer.is_some_and(|a| a.role.manages_instruments());
        let offers = self
            .lock()
            .board
            .offers
            .iter()
            .filter(|(id, _)| id == need_id && (mine || manager))
            .map(|(_, o)| o.clone())
            .collect();
        Some(NeedDetail {
            may_offer: manager && need.state == "open",
            need: NeedView { mine, ..need },
            offers,
            proposals: Vec::new(),
        })
    }

    async fn my_needs(&self, account: &Account) -> Vec<NeedView> {
        let inner = self.lock();
        inner
            .board
            .needs
            .iter()
            .rev()
            .filter(|(user, _)| user == &account.username)
            .map(|(_, n)| n.clone())
            .collect()
    }

    async fn post_need(
        &self,
        account: &Account,
        form: NeedForm,
    ) -> Result<NeedView, ActionFailure> {
        let mut inner = self.lock();
        let need = NeedView {
            need_id: format!("dlut/n_{}", inner.board.needs.len() + 1),
            home: "dlut".into(),
            home_name: "大连理工大学".into(),
            title: form.title,
            description: form.description,
            categories: form.categories,
            modes: form.modes,
            keywords: form.keywords,
            sample_kind: form.sample_kind,
            sample_count: form.sample_count,
            deadline: form.deadline,
            budget_min_fen: form.budget_min_fen,
            budget_max_fen: form.budget_max_fen,
            results_public: form.results_public,
            posted_at: super::STARTED_AT,
            state: "open".into(),
            accepted_institution: String::new(),
            offers: 0,
            mine: true,
            attachments: Vec::new(),
        };
        inner
            .board
            .needs
            .push((account.username.clone(), need.clone()));
        Ok(need)
    }

    async fn withdraw_need(
        &self,
        account: &Account,
        need_id: &str,
    ) -> Result<NeedView, ActionFailure> {
        let (user, need) = self.need_of(need_id).ok_or(ActionFailure::NotFound)?;
        if user != account.username {
            return Err(ActionFailure::Forbidden);
        }
        if need.state != "open" {
            return Err(closed());
        }
        self.set_state(need_id, "withdrawn", "");
        self.need_of(need_id)
            .map(|(_, n)| n)
            .ok_or(ActionFailure::NotFound)
    }

    async fn accept_offer(
        &self,
        account: &Account,
        need_id: &str,
        institution: &str,
    ) -> Result<NeedView, ActionFailure> {
        let (user, need) = self.need_of(need_id).ok_or(ActionFailure::NotFound)?;
        if user != account.username {
            return Err(ActionFailure::Forbidden);
        }
        if need.state != "open" {
            return Err(closed());
        }
        let mut inner = self.lock();
        let offer = inner
            .board
            .offers
            .iter_mut()
            .find(|(id, o)| id == need_id && o.institution_id == institution)
            .ok_or(ActionFailure::NotFound)?;
        offer.1.accepted = true;
        drop(inner);
        self.set_state(need_id, "accepted", institution);
        self.need_of(need_id)
            .map(|(_, n)| n)
            .ok_or(ActionFailure::NotFound)
    }

    async fn make_offer(
        &self,
        account: &Account,
        need_id: &str,
        form: OfferForm,
    ) -> Result<OfferView, ActionFailure> {
        if !account.role.manages_instruments() {
            return Err(ActionFailure::Forbidden);
        }
        let (_, need) = self.need_of(need_id).ok_or(ActionFailure::NotFound)?;
        if need.state != "open" {
            return Err(closed());
        }
        let offer = OfferView {
            institution_id: "neu".into(),
            institution_name: "东北大学".into(),
            instrument_id: format!("neu/{}", form.instrument_local_id),
            instrument_name: form.instrument_local_id.clone(),
            mode: form.mode,
            service_item: form.service_item,
            price_fen: form.quoted_price_fen.unwrap_or(10_000),
            quoted: form.quoted_price_fen.is_some(),
            price_reason: form.price_reason,
            earliest_date: form.earliest_date,
            turnaround_days: form.turnaround_days,
            conditions: form.conditions,
            offered_at: super::STARTED_AT,
            withdrawn: false,
            late: false,
            accepted: false,
        };
        self.lock()
            .board
            .offers
            .push((need_id.to_owned(), offer.clone()));
        Ok(offer)
    }

    async fn attach_to_need(
        &self,
        _account: &Account,
        _need_id: &str,
        _file: ReportFile,
    ) -> Result<NeedView, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn need_attachment(
        &self,
        _account: &Account,
        _need_id: &str,
        _index: usize,
    ) -> Result<ReportFile, ActionFailure> {
        Err(ActionFailure::NotFound)
    }

    async fn withdraw_offer(
        &self,
        account: &Account,
        need_id: &str,
    ) -> Result<OfferView, ActionFailure> {
        if !account.role.manages_instruments() {
            return Err(ActionFailure::Forbidden);
        }
        let mut inner = self.lock();
        let offer = inner
            .board
            .offers
            .iter_mut()
            .find(|(id, _)| id == need_id)
            .ok_or(ActionFailure::NotFound)?;
        offer.1.withdrawn = true;
        Ok(offer.1.clone())
    }

    async fn response_stats(&self) -> Vec<ResponseView> {
        let inner = self.lock();
        let offers = inner.board.offers.iter().filter(|(_, o)| !o.withdrawn);
        let made = offers.clone().count() as u32;
        if made == 0 {
            return Vec::new();
        }
        let accepted = offers.filter(|(_, o)| o.accepted).count() as u32;
        vec![ResponseView {
            institution_id: "neu".into(),
            institution_name: "东北大学".into(),
            offers: made,
            accepted,
            acceptance_rate: Some(f64::from(accepted) / f64::from(made)),
            median_hours_to_offer: None,
        }]
    }
}
