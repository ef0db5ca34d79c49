//! The events side of the web backend (R17).

use alliance_protocol::{
    InstitutionId, UnixTime,
    event::{Event, RegistrantKind},
};
use alliance_web::backend::{
    Account, AccountRole, ActionFailure, EventBackend, EventDetail, EventOfferView, EventPageView,
    EventQuery, EventView, NewEvent, RegistrationView,
};

use super::{WebBackend, board::own_local_id, booking::invalid};
use crate::{
    board::NeedFilter,
    events::{EventDraft, EventError, Registrant},
};

/// Most needs an event's page lists.
const NEEDS_LISTED: usize = 100;
/// Most registrations an event's page lists (the count says how many in all).
const MAX_LISTED: usize = 1_000;

fn failure(e: EventError) -> ActionFailure {
    match e {
        EventError::Invalid { field, message } => invalid(field, &message),
        EventError::NotFound(_) => ActionFailure::NotFound,
        EventError::Closed(_) => ActionFailure::Refused {
            code: "event_closed".into(),
            message: e.to_string(),
        },
        EventError::Full => ActionFailure::Refused {
            code: "event_full".into(),
            message: e.to_string(),
        },
        EventError::TooMany(message) => ActionFailure::Refused {
            code: "full".into(),
            message,
        },
        EventError::Unreachable(_) => ActionFailure::Unreachable,
        EventError::Catalogue(e) => ActionFailure::Internal(e.to_string()),
        EventError::Store(e) => ActionFailure::Internal(e.to_string()),
    }
}

impl WebBackend {
    fn event_view(&self, event: &Event, viewer: Option<&Account>) -> EventView {
        let own = &self.certificate.institution_id;
        EventView {
            event_id: event.id(),
            organiser: event.organiser.to_string(),
            organiser_name: self.institution_name(&event.organiser),
            title: event.title.clone(),
            description: event.description.clone(),
            field: event.field.clone(),
            field_name: self
                .catalogue
                .classification()
                .get(&event.field)
                .map(|c| c.name_zh.clone())
                .unwrap_or_default(),
            starts_at: event.starts_at.0,
            ends_at: event.ends_at.0,
            place: event.place.clone(),
            link: event.link.clone(),
            capacity: event.capacity,
            cancelled: event.cancelled.clone().unwrap_or_default(),
            registered: viewer.is_some_and(|a| {
                self.events
                    .is_registered(&event.id(), &a.username)
                    .unwrap_or(false)
            }),
            organised_here: viewer.is_some_and(|a| a.role.is_admin()) && &event.organiser == own,
        }
    }

    fn may_organise(account: &Account) -> Result<(), ActionFailure> {
        if account.role.is_admin() {
            Ok(())
        } else {
            Err(ActionFailure::Forbidden)
        }
    }
}

impl EventBackend for WebBackend {
    async fn events(&self, viewer: Option<&Account>, query: &EventQuery) -> EventPageView {
        let now = UnixTime::now();
        let (total, events) = self.events.page(
            |e| query.all || e.ends_at > now,
            query.offset,
            query.limit(),
        );
        EventPageView {
            total,
            offset: query.offset,
            items: events.iter().map(|e| self.event_view(e, viewer)).collect(),
        }
    }

    async fn event(
        &self,
        viewer: Option<&Account>,
        event_id: &str,
    ) -> Result<EventDetail, ActionFailure> {
        let event = self.events.event(event_id).ok_or(ActionFailure::NotFound)?;
        let filter = NeedFilter {
            open_only: true,
            category: Some(event.field.clone()),
            ..NeedFilter::default()
        };
        let hidden = |home: &InstitutionId| !self.catalogue.key_directory().is_current(home);
        let needs = self
            .board
            .view()
            .needs(&filter, &hidden, 0, NEEDS_LISTED)
            .items;
        // Which institutions offered (never at what price) is for people signed in at a
        // member's node, as on the need's own page; a visitor sees how many.
        let mut offers = Vec::new();
        for need in needs.iter().filter(|_| viewer.is_some()) {
            for offer in self.board.view().offers_for(&need.id()) {
                if offer.withdrawn
                    || !self.board.view().in_time(&offer)
                    || hidden(&offer.institution_id)
                {
                    continue;
                }
                let (name, _) = self.catalogue.names_of(&offer.instrument_id());
                offers.push(EventOfferView {
                    need_id: need.id(),
                    institution_id: offer.institution_id.to_string(),
                    institution_name: self.institution_name(&offer.institution_id),
                    instrument_id: offer.instrument_id(),
                    instrument_name: name,
                });
            }
        }
        let view = self.event_view(&event, viewer);
        let organised_here = event.organiser == self.certificate.institution_id;
        let kept = if organised_here {
            self.events
                .registrations(&event.local_id)
                .map_err(|e| ActionFailure::Internal(e.to_string()))?
        } else {
            Vec::new()
        };
        let registrations = if view.organised_here {
            kept.iter()
                .take(MAX_LISTED)
                .map(|k| RegistrationView {
                    name: k.registration.name.clone(),
                    organization: k.registration.organization.clone(),
                    kind: k.registration.kind.as_str().to_owned(),
                    home_name: self.institution_name(&k.registration.home),
                    registered_at: k.received_at.0,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(EventDetail {
            needs: needs.iter().map(|n| self.need_view(n, viewer)).collect(),
            offers,
            registration_count: organised_here.then_some(kept.len()),
            registrations,
            event: view,
        })
    }

    async fn announce_event(
        &self,
        account: &Account,
        event: NewEvent,
    ) -> Result<EventView, ActionFailure> {
        Self::may_organise(account)?;
        let announced = self
            .events
            .announce(EventDraft {
                title: event.title,
                description: event.description,
                field: event.field,
                starts_at: UnixTime(event.starts_at),
                ends_at: UnixTime(event.ends_at),
                place: event.place,
                link: event.link,
                capacity: event.capacity,
            })
            .await
            .map_err(failure)?;
        tracing::info!(event = announced.id(), by = %account.username, "event announced");
        Ok(self.event_view(&announced, Some(account)))
    }

    async fn cancel_event(
        &self,
        account: &Account,
        event_id: &str,
        reason: &str,
    ) -> Result<EventView, ActionFailure> {
        Self::may_organise(account)?;
        let local = own_local_id(event_id, &self.certificate.institution_id)?;
        let event = self.events.cancel(local, reason).await.map_err(failure)?;
        Ok(self.event_view(&event, Some(account)))
    }

    async fn register_for_event(
        &self,
        account: &Account,
        event_id: &str,
        withdraw: bool,
    ) -> Result<EventView, ActionFailure> {
        let who = Registrant {
            user_id: account.username.clone(),
            name: if account.display_name.is_empty() {
                account.username.clone()
            } else {
                account.display_name.clone()
            },
            organization: account.organization.clone(),
            kind: if account.role == AccountRole::ExternalUser {
                RegistrantKind::Firm
            } else {
                RegistrantKind::Member
            },
        };
        self.events
            .register(who, event_id, withdraw)
            .await
            .map_err(failure)?;
        let event = self.events.event(event_id).ok_or(ActionFailure::NotFound)?;
        Ok(self.event_view(&event, Some(account)))
    }
}
