//! Supply–demand matching events (对接会, R17). The province or a member announces an
//! event — date, place or link, field — signed and spread like a catalogue entry;
//! firms and members' staff register at their own home, which asks the organiser at
//! once (signed mail: name and organisation, never an address); the organiser keeps the
//! list and holds to the capacity. The event's page lists, beside it, the needs of its
//! field and the offers made for them (see the web layer).
//!
//! - `inbound.rs`: registrations arriving at the organiser.

mod inbound;

use std::sync::Arc;

use alliance_protocol::{
    Entry, EntryBody, InstitutionId, MembershipCertificate, RecordError, SecretKey, UnixTime,
    UnverifiedEntry,
    event::{Event, EventRegistration, RegistrantKind},
};
use serde::{Deserialize, Serialize};

use crate::{
    catalogue::{Catalogue, CatalogueError},
    net::{NetClient, NetError},
    store::{Batch, Space, Store, StoreError},
};

/// Most registrations an event takes, whatever its capacity says (0: "no limit").
pub const MAX_REGISTRATIONS: usize = 10_000;
/// Most registrations of one home for one event.
pub const MAX_REGISTRATIONS_PER_HOME: usize = 200;

/// An event as an organiser's administrator typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    pub title: String,
    pub description: String,
    pub field: String,
    pub starts_at: UnixTime,
    pub ends_at: UnixTime,
    pub place: String,
    pub link: String,
    pub capacity: u32,
}

/// Who registers: the home's user id, their name and organisation, firm or member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrant {
    pub user_id: String,
    pub name: String,
    pub organization: String,
    pub kind: RegistrantKind,
}

/// A registration as the organiser keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub registration: EventRegistration,
    /// When the organiser took it (its own clock).
    pub received_at: UnixTime,
}

/// Why an event operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no event {0}")]
    NotFound(String),
    #[error("the event is {0}")]
    Closed(&'static str),
    #[error("the event is full")]
    Full,
    #[error("{0}")]
    TooMany(String),
    #[error("the organiser's node could not be reached: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> EventError {
    EventError::Invalid {
        field,
        message: message.into(),
    }
}

fn registration_key(event: &str, home: &InstitutionId, registrant: &str) -> Vec<u8> {
    format!("r\0{event}\0{home}\0{registrant}").into_bytes()
}

fn mine_key(event_id: &str, username: &str) -> Vec<u8> {
    format!("m\0{event_id}\0{username}").into_bytes()
}

/// The events service. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    own: MembershipCertificate,
    key: SecretKey,
    catalogue: Catalogue,
    store: Store,
    net: NetClient,
    /// Held across the organiser's count-and-keep of a registration, so two at once
    /// cannot both take the last place.
    registering: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    pub fn new(
        (own, key): (MembershipCertificate, SecretKey),
        catalogue: Catalogue,
        store: Store,
        net: NetClient,
    ) -> Events {
        Events {
            inner: Arc::new(Inner {
                own,
                key,
                catalogue,
                store,
                net,
                registering: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn own(&self) -> &InstitutionId {
        &self.inner.own.institution_id
    }

    /// An event by its alliance-wide id.
    pub fn event(&self, id: &str) -> Option<Arc<Event>> {
        self.inner.catalogue.board().event(id)
    }

    /// Every event held, soonest first.
    pub fn all(&self) -> Vec<Arc<Event>> {
        self.inner.catalogue.board().events()
    }

    /// A page of the events `keep` keeps, soonest first, and how many it keeps.
    pub fn page(
        &self,
        keep: impl Fn(&Event) -> bool,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<Arc<Event>>) {
        self.inner
            .catalogue
            .board()
            .events_page(keep, offset, limit)
    }

    /// Announces an event of this institution.
    pub async fn announce(&self, draft: EventDraft) -> Result<Event, EventError> {
        if self
            .inner
            .catalogue
            .classification()
            .get(draft.field.trim())
            .is_none()
        {
            return Err(invalid(
                "field",
                format!("unknown category {:?}", draft.field),
            ));
        }
        if draft.starts_at <= UnixTime::now() {
            return Err(invalid("starts_at", "in the future"));
        }
        let mut id = [0u8; 6];
        rand::fill(&mut id);
        let event = Event {
            organiser: self.own().clone(),
            local_id: format!("ev_{}", hex::encode(id)),
            revision: 0,
            title: draft.title.trim().to_owned(),
            description: draft.description.trim().to_owned(),
            field: draft.field.trim().to_owned(),
            starts_at: draft.starts_at,
            ends_at: draft.ends_at,
            place: draft.place.trim().to_owned(),
            link: draft.link.trim().to_owned(),
            capacity: draft.capacity,
            announced_at: UnixTime::now(),
            cancelled: None,
        };
        self.sign(event).await
    }

    /// Calls off an event of this institution, with the reason.
    pub async fn cancel(&self, local_id: &str, reason: &str) -> Result<Event, EventError> {
        let id = format!("{}/{local_id}", self.own());
        let mut event = (*self.event(&id).ok_or(EventError::NotFound(id))?).clone();
        if event.cancelled.is_some() {
            return Err(EventError::Closed("cancelled"));
        }
        if reason.trim().is_empty() {
            return Err(invalid("reason", "calling an event off gives the reason"));
        }
        event.cancelled = Some(reason.trim().to_owned());
        self.sign(event).await
    }

    async fn sign(&self, mut event: Event) -> Result<Event, EventError> {
        let key = self.inner.catalogue.signing_key();
        event.revision = event.revision.max(1);
        match UnverifiedEntry::decode(&event.seal(&key)).and_then(|e| e.verify(&key.public())) {
            Ok(_) => {}
            Err(RecordError::Field { field, message }) => return Err(invalid(field, message)),
            Err(e) => return Err(invalid("event", e.to_string())),
        }
        let entry = self
            .inner
            .catalogue
            .save_board_entry(|revision| {
                event.revision = revision;
                Entry {
                    bytes: event.seal(&key),
                    body: EntryBody::Event(Box::new(event.clone())),
                }
            })
            .await?
            .ok_or_else(|| {
                EventError::TooMany(format!(
                    "an institution holds at most {} events",
                    alliance_protocol::event::MAX_EVENTS_PER_MEMBER
                ))
            })?;
        match entry.body {
            EntryBody::Event(event) => Ok(*event),
            _ => Err(invalid("event", "signed as another kind")),
        }
    }

    /// Registers `who` (a person of this home) for event `event_id`, or takes the
    /// registration back: asked of the organiser at once, kept here once it said yes.
    pub async fn register(
        &self,
        who: Registrant,
        event_id: &str,
        withdrawn: bool,
    ) -> Result<(), EventError> {
        let event = self
            .event(event_id)
            .ok_or_else(|| EventError::NotFound(event_id.to_owned()))?;
        if let Some(why) = closed(&event) {
            return Err(EventError::Closed(why));
        }
        let registration = EventRegistration {
            organiser: event.organiser.clone(),
            event_id: event.local_id.clone(),
            home: self.own().clone(),
            registrant_id: who.user_id.clone(),
            name: who.name,
            organization: who.organization,
            kind: who.kind,
            registered_at: UnixTime::now(),
            withdrawn,
        };
        if &event.organiser == self.own() {
            self.received(registration).await?;
        } else {
            match self
                .inner
                .net
                .send_mail(&event.organiser, registration.seal(&self.inner.key))
                .await
            {
                Ok(_) => {}
                Err(NetError::Refused(refusal))
                    if refusal.reason() == EventError::Full.to_string() =>
                {
                    return Err(EventError::Full);
                }
                Err(NetError::Refused(refusal)) => {
                    return Err(invalid("event", refusal.reason().to_owned()));
                }
                Err(e) => return Err(EventError::Unreachable(e.to_string())),
            }
        }
        let mut batch = Batch::new();
        let key = mine_key(event_id, &who.user_id);
        if withdrawn {
            batch.delete(Space::Events, key);
        } else {
            batch.put(Space::Events, key, Vec::new());
        }
        self.inner.store.commit(batch).await?;
        Ok(())
    }

    /// Whether `username` of this home registered for `event_id`.
    pub fn is_registered(&self, event_id: &str, username: &str) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .store
            .get(Space::Events, &mine_key(event_id, username))?
            .is_some())
    }

    /// The registrations for an event of this institution, in the order taken (at most
    /// [`MAX_REGISTRATIONS`]).
    pub fn registrations(&self, local_id: &str) -> Result<Vec<Kept>, StoreError> {
        let mut kept: Vec<Kept> = self
            .inner
            .store
            .scan_prefix(Space::Events, format!("r\0{local_id}\0").as_bytes())?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice::<Kept>(&v).ok())
            .collect();
        kept.sort_by_key(|k| k.received_at);
        Ok(kept)
    }

    /// A registration at the organiser: for its own event, still open, within the
    /// capacity; a repeat changes nothing, a withdrawal frees the place.
    async fn received(&self, registration: EventRegistration) -> Result<(), EventError> {
        if &registration.organiser != self.own() {
            return Err(invalid("organiser", "another institution's event"));
        }
        let id = format!("{}/{}", self.own(), registration.event_id);
        let event = self.event(&id).ok_or(EventError::NotFound(id))?;
        if let Some(why) = closed(&event) {
            return Err(EventError::Closed(why));
        }
        let _registering = self.inner.registering.lock().await;
        let key = registration_key(
            &registration.event_id,
            &registration.home,
            &registration.registrant_id,
        );
        let mut batch = Batch::new();
        if registration.withdrawn {
            // Taken back: nothing is kept, the place is free.
            batch.delete(Space::Events, key);
            self.inner.store.commit(batch).await?;
            return Ok(());
        }
        if self.inner.store.get(Space::Events, &key)?.is_some() {
            return Ok(());
        }
        // Counted by their keys alone: no registration is read to take another.
        let store = &self.inner.store;
        let taken =
            store.count_prefix(Space::Events, format!("r\0{}\0", event.local_id).as_bytes())?;
        let limit = match event.capacity {
            0 => MAX_REGISTRATIONS,
            capacity => (capacity as usize).min(MAX_REGISTRATIONS),
        };
        if taken >= limit {
            return Err(EventError::Full);
        }
        // A home vouches for its own people; no one home takes more than its share.
        let from_home = store.count_prefix(
            Space::Events,
            format!("r\0{}\0{}\0", event.local_id, registration.home).as_bytes(),
        )?;
        if from_home >= MAX_REGISTRATIONS_PER_HOME {
            return Err(EventError::TooMany(format!(
                "at most {MAX_REGISTRATIONS_PER_HOME} people of one institution per event"
            )));
        }
        let kept = Kept {
            registration,
            received_at: UnixTime::now(),
        };
        let json = serde_json::to_vec(&kept)
            .map_err(|e| StoreError::Engine(format!("a registration cannot be written: {e}")))?;
        batch.put(Space::Events, key, json);
        self.inner.store.commit(batch).await?;
        Ok(())
    }
}

/// Why an event takes no registration, if it does not.
fn closed(event: &Event) -> Option<&'static str> {
    if event.cancelled.is_some() {
        Some("cancelled")
    } else if event.ends_at <= UnixTime::now() {
        Some("over")
    } else {
        None
    }
}
