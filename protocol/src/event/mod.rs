//! Supply–demand matching events (对接会, R17). An [`Event`] is announced by an
//! institution — a member or the province — and travels as a catalogue entry signed by
//! it, so every node lists it and checks it alone. An [`EventRegistration`] is mail from
//! a registrant's home to the organiser, signed by the home: it names the person and
//! their organisation, never their address.

use prost::Message;

use crate::{
    envelope::{Domain, SignedEnvelope},
    ids::InstitutionId,
    keys::{PublicKey, SecretKey},
    proto,
    record::{RecordError, check_local_id, field, long, short},
    time::UnixTime,
};

impl Domain {
    /// An event, signed by its organiser.
    pub const EVENT: Domain = Domain("alliance/event/v1");
    /// A registration for an event, from the registrant's home to the organiser.
    pub const EVENT_REGISTRATION: Domain = Domain("alliance/event-registration/v1");
}

/// Events of one organiser that any node holds.
pub const MAX_EVENTS_PER_MEMBER: usize = 500;
/// Longest an event lasts, in seconds.
pub const MAX_EVENT_SECONDS: i64 = 7 * 24 * 3_600;
/// Longest link, in bytes.
pub const MAX_LINK_BYTES: usize = 512;

/// An event, as announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The organiser: the origin.
    pub organiser: InstitutionId,
    pub local_id: String,
    pub revision: u64,
    pub title: String,
    pub description: String,
    /// A classification code.
    pub field: String,
    pub starts_at: UnixTime,
    pub ends_at: UnixTime,
    pub place: String,
    /// `https://…`, or empty.
    pub link: String,
    /// 0: no limit.
    pub capacity: u32,
    pub announced_at: UnixTime,
    /// Called off, with the reason.
    pub cancelled: Option<String>,
}

impl Event {
    /// The alliance-wide id, `organiser/local_id`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.organiser, self.local_id)
    }

    /// Signs with the organiser's node key; returns the encoded envelope.
    pub fn seal(&self, organiser: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(
            organiser,
            Domain::EVENT,
            proto::EventRecord::from(self).encode_to_vec(),
        )
        .encode()
    }

    /// Checks every field an event must satisfy whoever reads it.
    fn check(self) -> Result<Self, RecordError> {
        if self.title.trim().is_empty() {
            return Err(field("title", "required"));
        }
        if self.field.trim().is_empty() {
            return Err(field("field", "the event's field, a classification code"));
        }
        let length = self.ends_at.0 - self.starts_at.0;
        if !(1..=MAX_EVENT_SECONDS).contains(&length) {
            return Err(field("ends_at", "after it starts, within 7 days"));
        }
        if self.place.trim().is_empty() && self.link.is_empty() {
            return Err(field("place", "a place, a link, or both"));
        }
        if !self.link.is_empty()
            && (!self.link.starts_with("https://")
                || self.link.len() > MAX_LINK_BYTES
                || self.link.chars().any(char::is_whitespace))
        {
            return Err(field(
                "link",
                format!("an https:// link of at most {MAX_LINK_BYTES} bytes"),
            ));
        }
        Ok(self)
    }
}

impl From<&Event> for proto::EventRecord {
    fn from(e: &Event) -> Self {
        proto::EventRecord {
            institution_id: e.organiser.to_string(),
            local_id: e.local_id.clone(),
            revision: e.revision,
            title: e.title.clone(),
            description: e.description.clone(),
            field: e.field.clone(),
            starts_at: e.starts_at.0,
            ends_at: e.ends_at.0,
            place: e.place.clone(),
            link: e.link.clone(),
            capacity: e.capacity,
            announced_at: e.announced_at.0,
            cancelled: e.cancelled.is_some(),
            cancel_reason: e.cancelled.clone().unwrap_or_default(),
        }
    }
}

impl TryFrom<proto::EventRecord> for Event {
    type Error = RecordError;

    fn try_from(raw: proto::EventRecord) -> Result<Self, Self::Error> {
        Event {
            organiser: InstitutionId::try_from(raw.institution_id)?,
            local_id: check_local_id(raw.local_id)?,
            revision: raw.revision,
            title: short("title", raw.title)?,
            description: long("description", raw.description)?,
            field: short("field", raw.field)?,
            starts_at: UnixTime(raw.starts_at),
            ends_at: UnixTime(raw.ends_at),
            place: short("place", raw.place)?,
            link: raw.link,
            capacity: raw.capacity,
            announced_at: UnixTime(raw.announced_at),
            cancelled: raw
                .cancelled
                .then(|| long("cancel_reason", raw.cancel_reason))
                .transpose()?,
        }
        .check()
    }
}

/// Who registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrantKind {
    /// A firm or another outside user.
    Firm,
    /// Staff of a member institution.
    Member,
}

impl RegistrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrantKind::Firm => "firm",
            RegistrantKind::Member => "member",
        }
    }
}

/// A registration, from the registrant's home to the organiser.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventRegistration {
    pub organiser: InstitutionId,
    pub event_id: String,
    pub home: InstitutionId,
    /// The home's id for the person (opaque to the organiser).
    pub registrant_id: String,
    pub name: String,
    pub organization: String,
    pub kind: RegistrantKind,
    pub registered_at: UnixTime,
    pub withdrawn: bool,
}

impl EventRegistration {
    /// Signs with the home's node key.
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        let raw = proto::EventRegistration {
            organiser: self.organiser.to_string(),
            event_id: self.event_id.clone(),
            home_institution: self.home.to_string(),
            registrant_id: self.registrant_id.clone(),
            name: self.name.clone(),
            organization: self.organization.clone(),
            kind: match self.kind {
                RegistrantKind::Firm => proto::RegistrantKind::Firm,
                RegistrantKind::Member => proto::RegistrantKind::Member,
            } as i32,
            registered_at: self.registered_at.0,
            withdrawn: self.withdrawn,
        };
        SignedEnvelope::seal(home, Domain::EVENT_REGISTRATION, raw.encode_to_vec()).encode()
    }

    /// Opens a registration `home` signed, checking its fields.
    pub fn open(bytes: &[u8], home: &PublicKey) -> Result<EventRegistration, RecordError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let raw =
            proto::EventRegistration::decode(envelope.open_from(Domain::EVENT_REGISTRATION, home)?)
                .map_err(|e| RecordError::Malformed(e.to_string()))?;
        let kind = match proto::RegistrantKind::try_from(raw.kind) {
            Ok(proto::RegistrantKind::Firm) => RegistrantKind::Firm,
            Ok(proto::RegistrantKind::Member) => RegistrantKind::Member,
            _ => return Err(field("kind", "firm or member")),
        };
        if raw.name.trim().is_empty() {
            return Err(field("name", "required"));
        }
        if raw.registrant_id.is_empty() || raw.registrant_id.len() > 64 {
            return Err(field("registrant_id", "1 to 64 bytes"));
        }
        Ok(EventRegistration {
            organiser: InstitutionId::try_from(raw.organiser)?,
            event_id: check_local_id(raw.event_id)?,
            home: InstitutionId::try_from(raw.home_institution)?,
            registrant_id: raw.registrant_id,
            name: short("name", raw.name)?,
            organization: short("organization", raw.organization)?,
            kind,
            registered_at: UnixTime(raw.registered_at),
            withdrawn: raw.withdrawn,
        })
    }
}

#[cfg(test)]
mod tests;
