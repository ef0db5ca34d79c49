//! The booking side of the web backend: users book through this node's [`Bookings`],
//! managers decide on this institution's bookings; their rules and trainings are in
//! `rules.rs`, calendar feeds in `feeds.rs`.

use alliance_protocol::booking::ManagerDecision;
mod feeds;
mod rules;

use alliance_protocol::{
    InstitutionId,
    booking::{BookingAnswer, BookingRules, Outcome, Training},
    quote::{Quantity, Quote},
};
use alliance_web::backend::{
    Account, AccountRole, ActionFailure, BookingBackend, BookingOutcome, ListPage, ManagedBooking,
    ManagedSection, MyBooking, NotificationView, QuoteLineView, QuoteView, StartSpan,
};

use super::WebBackend;
use crate::booking::{
    home::HomeBooking,
    ledger::Section,
    service::{BookError, BookingAsk, HomeUser},
    state::{Booking, BookingState},
};

fn ledger_section(section: ManagedSection) -> Section {
    match section {
        ManagedSection::Waiting => Section::Waiting,
        ManagedSection::Active => Section::Active,
        ManagedSection::Closed => Section::Closed,
    }
}

fn time_span(span: StartSpan) -> crate::store::time_index::Span {
    (
        span.from.map(alliance_protocol::UnixTime),
        span.to.map(alliance_protocol::UnixTime),
    )
}

pub(super) fn failure(e: BookError) -> ActionFailure {
    match e {
        BookError::Unreachable(_) => ActionFailure::Unreachable,
        BookError::Refused(refusal) => ActionFailure::Refused {
            code: refusal.code().to_owned(),
            message: refusal.reason().to_owned(),
        },
        BookError::UnknownInstrument(_) | BookError::NoBooking(_) => ActionFailure::NotFound,
        BookError::Invalid(message) => ActionFailure::Invalid {
            field: "booking".into(),
            message,
        },
        BookError::Ledger(crate::booking::ledger::LedgerError::InvalidTransition {
            from, ..
        }) => ActionFailure::Refused {
            code: "invalid_transition".into(),
            message: format!("the booking is {from:?}"),
        },
        BookError::Ledger(crate::booking::ledger::LedgerError::NotFound(_)) => {
            ActionFailure::NotFound
        }
        BookError::Ledger(crate::booking::ledger::LedgerError::IdReused(id)) => {
            ActionFailure::Refused {
                code: "id_reused".into(),
                message: format!("booking id {id} was already used for another request"),
            }
        }
        other => ActionFailure::Internal(other.to_string()),
    }
}

pub(super) fn invalid(field: &str, message: &str) -> ActionFailure {
    ActionFailure::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn quote_view(quote: &Quote) -> QuoteView {
    QuoteView {
        tier: quote.tier,
        lines: quote
            .lines
            .iter()
            .map(|l| {
                let (unit, quantity) = match l.quantity {
                    Quantity::Minutes(n) => ("hour", n),
                    Quantity::Samples(n) => ("sample", n),
                    Quantity::Sessions(n) => ("session", n),
                };
                QuoteLineView {
                    item_zh: l.item_zh.clone(),
                    item_en: l.item_en.clone(),
                    unit: unit.into(),
                    quantity,
                    amount: l.amount,
                }
            })
            .collect(),
        total: quote.total,
    }
}

impl WebBackend {
    pub(super) fn names_of(
        &self,
        instrument_id: &str,
        owner: &InstitutionId,
    ) -> (String, String, String, String) {
        let (name_zh, name_en) = self
            .catalogue
            .instrument_unfiltered(instrument_id)
            .map(|v| (v.record.name_zh.clone(), v.record.name_en.clone()))
            .unwrap_or_else(|| (instrument_id.to_owned(), instrument_id.to_owned()));
        let (inst_zh, inst_en) = if owner == &self.certificate.institution_id {
            (
                self.certificate.name_zh.clone(),
                self.certificate.name_en.clone(),
            )
        } else {
            self.catalogue
                .key_directory()
                .institutions()
                .get(owner)
                .map(|c| (c.name_zh.clone(), c.name_en.clone()))
                .unwrap_or_else(|| (owner.to_string(), owner.to_string()))
        };
        (name_zh, name_en, inst_zh, inst_en)
    }

    fn mine(&self, b: &HomeBooking) -> MyBooking {
        let (name_zh, name_en, inst_zh, inst_en) = self.names_of(&b.instrument_id(), &b.owner);
        MyBooking {
            booking_id: b.booking_id.clone(),
            instrument_id: b.instrument_id(),
            instrument_name_zh: name_zh,
            instrument_name_en: name_en,
            institution_name_zh: inst_zh,
            institution_name_en: inst_en,
            start: b.start.0,
            end: b.end.0,
            mode: b.mode,
            samples: b.samples,
            status: b.state,
            hold_until: b.hold_until.map(|t| t.0),
            quote_fen: b.quote_fen,
            note: b.note.clone(),
        }
    }

    pub(super) fn managed(&self, b: &Booking) -> ManagedBooking {
        let id = format!("{}/{}", self.certificate.institution_id, b.local_id);
        let (name_zh, name_en, _, _) = self.names_of(&id, &self.certificate.institution_id);
        let (home_zh, home_en) = self
            .catalogue
            .key_directory()
            .institutions()
            .get(&b.home)
            .map(|c| (c.name_zh.clone(), c.name_en.clone()))
            .unwrap_or_else(|| (b.home.to_string(), b.home.to_string()));
        ManagedBooking {
            home: b.home.to_string(),
            home_name_zh: home_zh,
            home_name_en: home_en,
            booking_id: b.booking_id.clone(),
            local_id: b.local_id.clone(),
            instrument_name_zh: name_zh,
            instrument_name_en: name_en,
            user_id: b.user_id.clone(),
            user_name: b.user_name.clone(),
            tier: b.tier,
            start: b.start.0,
            end: b.end.0,
            mode: b.mode,
            samples: b.samples,
            purpose: b.purpose.clone(),
            status: b.state,
            hold_until: b.hold_until.map(|t| t.0),
            history: b
                .history
                .iter()
                .map(|e| (e.at.0, e.by.clone(), e.to, e.note.clone()))
                .collect(),
        }
    }

    fn outcome(&self, answer: &BookingAnswer, booking: MyBooking) -> BookingOutcome {
        let (alternatives, code) = match &answer.outcome {
            Outcome::Conflict { nearest_free } => (
                nearest_free.iter().map(|s| (s.start.0, s.end.0)).collect(),
                Some("conflict".to_owned()),
            ),
            Outcome::Rejected { code, .. } => (Vec::new(), Some(code.clone())),
            _ => (Vec::new(), None),
        };
        BookingOutcome {
            booking,
            quote: Some(quote_view(&answer.quote)),
            alternatives,
            code,
        }
    }
}

impl BookingBackend for WebBackend {
    async fn book(
        &self,
        account: &Account,
        ask: BookingAsk,
        booking_id: String,
    ) -> Result<BookingOutcome, ActionFailure> {
        // What the user pays is what the approving administrator set, never a guess.
        let tier = account.price_tier().ok_or_else(|| ActionFailure::Refused {
            code: "price_category_missing".into(),
            message: "an administrator has not yet set this account's price category; \
                      ask your institution's administrator"
                .into(),
        })?;
        let user = HomeUser {
            user_id: account.username.clone(),
            display_name: account.display_name.clone(),
            tier,
        };
        let answer = self
            .bookings
            .book(&user, &ask, booking_id.clone())
            .await
            .map_err(failure)?;
        let booking = self
            .bookings
            .home()
            .get(&booking_id)
            .map_err(|e| ActionFailure::Internal(e.to_string()))?
            .ok_or(ActionFailure::NotFound)?;
        Ok(self.outcome(&answer, self.mine(&booking)))
    }

    async fn my_bookings(&self, account: &Account) -> Vec<MyBooking> {
        self.bookings
            .home()
            .page_of(&account.username, (None, None), 0, usize::MAX)
            .unwrap_or_default()
            .iter()
            .map(|b| self.mine(b))
            .collect()
    }

    async fn my_bookings_page(
        &self,
        account: &Account,
        span: StartSpan,
        offset: usize,
        limit: usize,
    ) -> ListPage<MyBooking> {
        let home = self.bookings.home();
        let span = time_span(span);
        let read = home.count_of(&account.username, span).and_then(|total| {
            let items = home.page_of(&account.username, span, offset, limit)?;
            Ok(ListPage {
                total,
                items: items.iter().map(|b| self.mine(b)).collect(),
            })
        });
        read.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the user's bookings could not be read");
            ListPage::of(Vec::new(), 0, 0)
        })
    }

    async fn my_booking(&self, account: &Account, booking_id: &str) -> Option<MyBooking> {
        let booking = self.bookings.home().get(booking_id).ok().flatten()?;
        (booking.user_id == account.username && !booking.refused_at_once())
            .then(|| self.mine(&booking))
    }

    async fn cancel_booking(
        &self,
        account: &Account,
        booking_id: &str,
        reason: &str,
    ) -> Result<MyBooking, ActionFailure> {
        let booking = self
            .bookings
            .cancel(&account.username, booking_id, reason)
            .await
            .map_err(failure)?;
        Ok(self.mine(&booking))
    }

    async fn notifications(&self, account: &Account) -> Vec<NotificationView> {
        self.notifications_page(account, 0, usize::MAX).await.items
    }

    async fn notifications_page(
        &self,
        account: &Account,
        offset: usize,
        limit: usize,
    ) -> ListPage<NotificationView> {
        match self
            .bookings
            .home()
            .notifications_page(&account.username, offset, limit)
        {
            Ok((total, page)) => ListPage {
                total,
                items: page
                    .into_iter()
                    .map(|n| NotificationView {
                        at: n.at.0,
                        booking_id: n.booking_id,
                        instrument_id: n.instrument_id,
                        status: n.state,
                        note: n.note,
                    })
                    .collect(),
            },
            Err(e) => {
                tracing::error!(error = %e, "the user's notifications could not be read");
                ListPage::of(Vec::new(), 0, 0)
            }
        }
    }

    async fn managed_bookings(&self) -> Vec<ManagedBooking> {
        let mut all: Vec<ManagedBooking> = self
            .bookings
            .ledger()
            .all()
            .unwrap_or_default()
            .iter()
            .filter(|b| !b.refused_at_once())
            .map(|b| self.managed(b))
            .collect();
        all.sort_by_key(|b| (b.status != BookingState::Held, -b.start));
        all
    }

    async fn managed_page(
        &self,
        section: ManagedSection,
        span: StartSpan,
        offset: usize,
        limit: usize,
    ) -> ListPage<ManagedBooking> {
        let ledger = self.bookings.ledger();
        let (section, span) = (ledger_section(section), time_span(span));
        let read = ledger.section_count(section, span).and_then(|total| {
            let items = ledger.section_page(section, span, offset, limit)?;
            Ok(ListPage {
                total,
                items: items.iter().map(|b| self.managed(b)).collect(),
            })
        });
        read.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the managed bookings could not be read");
            ListPage::of(Vec::new(), 0, 0)
        })
    }

    async fn managed_booking(&self, home: &str, booking_id: &str) -> Option<ManagedBooking> {
        let home: InstitutionId = home.parse().ok()?;
        let booking = self
            .bookings
            .ledger()
            .booking(&home, booking_id)
            .ok()
            .flatten()?;
        (!booking.refused_at_once()).then(|| self.managed(&booking))
    }

    async fn decide_booking(
        &self,
        account: &Account,
        home: &str,
        booking_id: &str,
        choice: ManagerDecision,
        note: &str,
    ) -> Result<ManagedBooking, ActionFailure> {
        if !matches!(
            account.role,
            AccountRole::InstrumentManager | AccountRole::InstitutionAdmin
        ) {
            return Err(ActionFailure::Forbidden);
        }
        if choice == ManagerDecision::Reject && note.trim().is_empty() {
            return Err(invalid("note", "say why the request is rejected"));
        }
        let home: InstitutionId = home.parse().map_err(|_| ActionFailure::NotFound)?;
        if choice == ManagerDecision::Complete {
            // A completed use always has its receipt.
            return self
                .complete_as_booked(account, &home, booking_id, note)
                .await;
        }
        let booking = self
            .bookings
            .decide(&home, booking_id, choice, &account.username, note)
            .await
            .map_err(failure)?;
        Ok(self.managed(&booking))
    }

    async fn feed_token(&self, account: &Account) -> String {
        self.feed_token_of(account).await
    }

    async fn user_feed(&self, token: &str) -> Option<String> {
        self.user_feed_of(token).await
    }

    async fn instrument_feed(&self, local_id: &str) -> Option<String> {
        self.instrument_feed_of(local_id).await
    }

    async fn booking_rules(&self, local_id: &str) -> Option<BookingRules> {
        self.rules_of_instrument(local_id)
    }

    async fn set_booking_rules(
        &self,
        local_id: &str,
        rules: BookingRules,
    ) -> Result<BookingRules, ActionFailure> {
        self.set_rules_of_instrument(local_id, rules).await
    }

    async fn trainings(&self) -> Vec<Training> {
        self.all_trainings()
    }

    async fn is_trained(&self, account: &Account, instrument_id: &str) -> bool {
        self.knows_trained(account, instrument_id)
    }

    async fn record_training(
        &self,
        account: &Account,
        training: Training,
    ) -> Result<Training, ActionFailure> {
        self.record_training_of(account, training).await
    }
}
