//! What is told to whom when a need or an offer is stored here (from a peer or from
//! this node):
//! - a need open and new here that this institution's instruments could do, or that a
//!   service expert referred to this institution: its managers;
//! - an offer for a need of this home: the person who posted it, once per institution;
//! - a need that accepted this institution's offer: its managers.
//!
//! Each is queued once (by event id). The entry is stored before it is told of, so a
//! crash in between loses the notice, never the need or the offer, which the pages list.

use alliance_protocol::{EntryBody, Need, NeedState, Offer};
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio_util::sync::CancellationToken;

use super::{Board, matching, today};
use crate::{
    notify::{Facts, Notice, NoticeKind, Recipients},
    store::{Batch, StoreError},
};

/// Instruments a need's notice to managers names at most.
const NAMED: usize = 3;

pub(super) async fn run(board: Board, mut news: Receiver<EntryBody>, cancel: CancellationToken) {
    loop {
        let body = tokio::select! {
            () = cancel.cancelled() => return,
            body = news.recv() => body,
        };
        let outcome = match body {
            Ok(EntryBody::Need(need)) => board.need_arrived(&need).await,
            Ok(EntryBody::Offer(offer)) => board.offer_arrived(&offer).await,
            Ok(_) => Ok(()),
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "the board's listener fell behind; some notices are not sent"
                );
                Ok(())
            }
            Err(RecvError::Closed) => return,
        };
        if let Err(e) = outcome {
            tracing::error!(error = %e, "cannot queue a notice of the board");
        }
    }
}

impl Board {
    async fn queue(&self, notice: Notice) -> Result<(), StoreError> {
        let notices = &self.inner.notices;
        let mut batch = Batch::new();
        if notices.put_once(&mut batch, &notice)? {
            notices.commit(batch).await?;
        }
        Ok(())
    }

    fn need_facts(&self, need: &Need) -> Facts {
        Facts {
            need_id: need.id(),
            need_title: need.title.clone(),
            need_deadline: need.deadline.clone(),
            ..Facts::default()
        }
    }

    async fn need_arrived(&self, need: &Need) -> Result<(), StoreError> {
        let own = &self.inner.own;
        match &need.state {
            NeedState::Open
                if need.deadline >= today() && need.referred_to.as_ref() == Some(own) =>
            {
                self.queue(Notice::new(
                    format!("need-referred/{}", need.id()),
                    NoticeKind::NeedReferred,
                    Recipients::Managers,
                    self.need_facts(need),
                ))
                .await
            }
            NeedState::Open if need.deadline >= today() => {
                let proposals =
                    matching::propose(&self.inner.catalogue, need, Some(own), &today(), NAMED);
                let Some(first) = proposals.first() else {
                    return Ok(());
                };
                let record = &first.instrument.record;
                let mut facts = self.need_facts(need);
                facts.instrument_id = record.id();
                facts.instrument_name = proposals
                    .iter()
                    .map(|p| p.instrument.record.name_zh.as_str())
                    .collect::<Vec<_>>()
                    .join("、");
                facts.instrument_name_en = proposals
                    .iter()
                    .map(|p| p.instrument.record.name_en.as_str())
                    .filter(|n| !n.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.queue(Notice::new(
                    format!("need-matched/{}", need.id()),
                    NoticeKind::NeedMatched,
                    Recipients::Managers,
                    facts,
                ))
                .await
            }
            NeedState::Accepted { institution, .. } if institution == own => {
                let mut facts = self.need_facts(need);
                if let Some(offer) = self.view().offer(&need.id(), own) {
                    facts.instrument_id = offer.instrument_id();
                    let (zh, en) = self.inner.catalogue.names_of(&facts.instrument_id);
                    facts.instrument_name = zh;
                    facts.instrument_name_en = en;
                }
                self.queue(Notice::new(
                    format!("offer-accepted/{}", need.id()),
                    NoticeKind::OfferAccepted,
                    Recipients::Managers,
                    facts,
                ))
                .await
            }
            _ => Ok(()),
        }
    }

    async fn offer_arrived(&self, offer: &Offer) -> Result<(), StoreError> {
        if offer.need_home != self.inner.own || offer.withdrawn {
            return Ok(());
        }
        let Some(need) = self.view().need(&offer.need()) else {
            return Ok(());
        };
        let Some(author) = self.author(&need.local_id)? else {
            return Ok(());
        };
        let mut facts = self.need_facts(&need);
        facts.instrument_id = offer.instrument_id();
        let (zh, en) = self.inner.catalogue.names_of(&facts.instrument_id);
        facts.instrument_name = zh;
        facts.instrument_name_en = en;
        if let Some(cert) = self
            .inner
            .catalogue
            .key_directory()
            .institutions()
            .get(&offer.institution_id)
        {
            facts.institution_name = cert.name_zh.clone();
            facts.institution_name_en = cert.name_en.clone();
        } else {
            facts.institution_name = offer.institution_id.to_string();
        }
        self.queue(Notice::new(
            format!("offer/{}/{}", offer.need(), offer.institution_id),
            NoticeKind::OfferReceived,
            Recipients::User(author),
            facts,
        ))
        .await
    }
}
