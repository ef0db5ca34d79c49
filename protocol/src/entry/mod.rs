//! Catalogue entries: everything the catalogue replicates — instrument records, province
//! reviews, availability digests, the board's needs and offers, and matching events. Each is signed by its **origin** (the institution
//! that alone may write it) and carries the origin's revision, so every node can take an
//! entry from any peer and check it alone, and anti-entropy can ask "what do you hold
//! above revision r of origin o?".
//!
//! Decoding is two steps, because who may sign depends on the roster, which this crate
//! does not hold: [`UnverifiedEntry::decode`] reads the envelope, the caller finds whose
//! certified key [`UnverifiedEntry::signer_bytes`] is, and [`UnverifiedEntry::verify`]
//! checks the signature with it before the payload is decoded.

use prost::Message;

use crate::{
    availability::AvailabilityDigest,
    board::{Need, Offer},
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::InstitutionId,
    keys::PublicKey,
    limits::MAX_GOSSIP_BYTES,
    proto,
    record::{InstrumentRecord, RecordError, field},
    review::ReviewAttestation,
};

/// The content of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryBody {
    Instrument(Box<InstrumentRecord>),
    Review(ReviewAttestation),
    Availability(AvailabilityDigest),
    Need(Box<Need>),
    Offer(Box<Offer>),
    Event(Box<crate::event::Event>),
}

/// A decoded entry whose signature has not been checked yet.
#[derive(Debug, Clone)]
pub struct UnverifiedEntry {
    envelope: SignedEnvelope,
    domain: Domain,
}

/// A verified entry and the exact bytes that carry it (what is stored and forwarded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub body: EntryBody,
    pub bytes: Vec<u8>,
}

impl EntryBody {
    /// The institution that alone may write this entry.
    pub fn origin(&self) -> &InstitutionId {
        match self {
            EntryBody::Instrument(r) => &r.institution_id,
            EntryBody::Review(r) => &r.province_id,
            EntryBody::Availability(d) => &d.institution_id,
            EntryBody::Need(n) => &n.home,
            EntryBody::Offer(o) => &o.institution_id,
            EntryBody::Event(e) => &e.organiser,
        }
    }

    /// The origin's revision counter when the entry was made.
    pub fn revision(&self) -> u64 {
        match self {
            EntryBody::Instrument(r) => r.revision,
            EntryBody::Review(r) => r.revision,
            EntryBody::Availability(d) => d.revision,
            EntryBody::Need(n) => n.revision,
            EntryBody::Offer(o) => o.revision,
            EntryBody::Event(e) => e.revision,
        }
    }

    /// What the entry is about within its origin: a newer entry with the same slot
    /// replaces an older one.
    pub fn slot(&self) -> String {
        match self {
            EntryBody::Instrument(r) => format!("i/{}", r.local_id),
            EntryBody::Availability(d) => format!("a/{}", d.local_id),
            EntryBody::Review(r) => format!("r/{}/{}", r.institution_id, r.local_id),
            EntryBody::Need(n) => format!("n/{}", n.local_id),
            EntryBody::Offer(o) => format!("o/{}/{}", o.need_home, o.need_id),
            EntryBody::Event(e) => format!("e/{}", e.local_id),
        }
    }

    /// What the entry is about across the alliance: the instrument, as
    /// `institution/local_id`, or for the board the need, as `home/local_id`.
    pub fn subject(&self) -> String {
        match self {
            EntryBody::Instrument(r) => r.id(),
            EntryBody::Review(r) => r.instrument_id(),
            EntryBody::Availability(d) => d.instrument_id(),
            EntryBody::Need(n) => n.id(),
            EntryBody::Offer(o) => o.need(),
            EntryBody::Event(e) => e.id(),
        }
    }
}

impl UnverifiedEntry {
    /// Parses the envelope of an encoded entry, checking its size and that its domain is
    /// one of the catalogue's. Nothing inside is read before [`Self::verify`].
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        if bytes.len() > MAX_GOSSIP_BYTES {
            return Err(RecordError::TooLarge(bytes.len()));
        }
        let envelope = SignedEnvelope::decode(bytes)?;
        let domain = [
            Domain::INSTRUMENT,
            Domain::REVIEW,
            Domain::AVAILABILITY,
            Domain::NEED,
            Domain::OFFER,
            Domain::EVENT,
        ]
        .into_iter()
        .find(|d| d.0 == envelope.domain())
        .ok_or_else(|| {
            RecordError::Envelope(EnvelopeError::WrongDomain {
                expected: "a catalogue entry".into(),
                found: envelope.domain().to_owned(),
            })
        })?;
        Ok(UnverifiedEntry { envelope, domain })
    }

    /// The key that claims to have signed the entry, as 32 compressed bytes: look up whose
    /// certified key it is, then [`Self::verify`] with that key.
    pub fn signer_bytes(&self) -> [u8; 32] {
        self.envelope.signer_bytes()
    }

    /// Decodes an entry this node verified before it stored it, without checking the
    /// signature again (a restart re-reads every stored entry).
    pub fn decode_stored(bytes: &[u8]) -> Result<EntryBody, RecordError> {
        let unverified = UnverifiedEntry::decode(bytes)?;
        unverified.body(unverified.envelope.payload_unverified())
    }

    fn body(&self, payload: &[u8]) -> Result<EntryBody, RecordError> {
        let malformed = |e: prost::DecodeError| RecordError::Malformed(e.to_string());
        let body = if self.domain == Domain::INSTRUMENT {
            EntryBody::Instrument(Box::new(
                proto::InstrumentRecord::decode(payload)
                    .map_err(malformed)?
                    .try_into()?,
            ))
        } else if self.domain == Domain::REVIEW {
            EntryBody::Review(
                proto::ReviewAttestation::decode(payload)
                    .map_err(malformed)?
                    .try_into()?,
            )
        } else if self.domain == Domain::NEED {
            EntryBody::Need(Box::new(
                proto::NeedRecord::decode(payload)
                    .map_err(malformed)?
                    .try_into()?,
            ))
        } else if self.domain == Domain::EVENT {
            EntryBody::Event(Box::new(
                proto::EventRecord::decode(payload)
                    .map_err(malformed)?
                    .try_into()?,
            ))
        } else if self.domain == Domain::OFFER {
            EntryBody::Offer(Box::new(
                proto::OfferRecord::decode(payload)
                    .map_err(malformed)?
                    .try_into()?,
            ))
        } else {
            EntryBody::Availability(
                proto::AvailabilityDigest::decode(payload)
                    .map_err(malformed)?
                    .try_into()?,
            )
        };
        if body.revision() == 0 {
            return Err(field("revision", "revisions start at 1"));
        }
        Ok(body)
    }

    /// Checks that `signer` signed the entry, then decodes and checks its fields. The caller
    /// still checks that `signer` is certified for the entry's [`EntryBody::origin`].
    pub fn verify(self, signer: &PublicKey) -> Result<Entry, RecordError> {
        let payload = self.envelope.open_from(self.domain, signer)?;
        let body = self.body(payload)?;
        Ok(Entry {
            bytes: self.envelope.encode(),
            body,
        })
    }
}

#[cfg(test)]
mod tests;
