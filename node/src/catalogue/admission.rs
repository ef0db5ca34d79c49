//! Whether an entry from a peer may enter the catalogue: who signed it, and may that
//! signer write it. Every entry — from gossip or from a sync page, relayed by anyone —
//! goes through [`admit`].

use std::collections::{BTreeMap, HashMap};

use alliance_protocol::{
    Entry, EntryBody, EnvelopeError, InstitutionId, MembershipCertificate, RecordError, Role,
    UnverifiedEntry,
    checkpoint::{Checkpoint, CheckpointError, UnverifiedCheckpoint},
};

/// The certified node keys of current members: who may sign what.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyDirectory {
    by_key: HashMap<[u8; 32], MembershipCertificate>,
    /// The same certificates by institution (asked per record, so kept ready).
    institutions: BTreeMap<InstitutionId, MembershipCertificate>,
}

impl KeyDirectory {
    /// A directory of these current certificates.
    pub fn new<'a>(certificates: impl IntoIterator<Item = &'a MembershipCertificate>) -> Self {
        let by_key: HashMap<[u8; 32], MembershipCertificate> = certificates
            .into_iter()
            .map(|c| (c.node_public_key.to_bytes(), c.clone()))
            .collect();
        let institutions = by_key
            .values()
            .map(|c| (c.institution_id.clone(), c.clone()))
            .collect();
        KeyDirectory {
            by_key,
            institutions,
        }
    }

    /// The current certificate of a key.
    pub fn by_key(&self, key: &[u8; 32]) -> Option<&MembershipCertificate> {
        self.by_key.get(key)
    }

    /// Whether `institution` is a current member.
    pub fn is_current(&self, institution: &InstitutionId) -> bool {
        self.institutions.contains_key(institution)
    }

    /// Current institutions and their certificate, by id.
    pub fn institutions(&self) -> &BTreeMap<InstitutionId, MembershipCertificate> {
        &self.institutions
    }
}

/// Why an entry was refused. Each kind is counted separately.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("entry too large: {0}")]
    Oversized(String),
    #[error("malformed entry: {0}")]
    Malformed(String),
    #[error("signed by a key that is not a current member's")]
    NotMember,
    #[error("bad signature: {0}")]
    BadSignature(String),
    #[error("{0}")]
    WrongOwner(String),
}

impl Rejection {
    /// A stable label for counters and logs.
    pub fn kind(&self) -> RejectionKind {
        match self {
            Rejection::Oversized(_) => RejectionKind::Oversized,
            Rejection::Malformed(_) => RejectionKind::Malformed,
            Rejection::NotMember => RejectionKind::NotMember,
            Rejection::BadSignature(_) => RejectionKind::BadSignature,
            Rejection::WrongOwner(_) => RejectionKind::WrongOwner,
        }
    }
}

/// The kinds of [`Rejection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectionKind {
    Oversized,
    Malformed,
    NotMember,
    BadSignature,
    WrongOwner,
}

fn from_record_error(e: RecordError) -> Rejection {
    let envelope = match &e {
        RecordError::Envelope(inner) => Some(inner),
        _ => None,
    };
    opening_refusal(
        envelope,
        matches!(e, RecordError::TooLarge(_)),
        e.to_string(),
    )
}

fn from_checkpoint_error(e: CheckpointError) -> Rejection {
    let envelope = match &e {
        CheckpointError::Envelope(inner) => Some(inner),
        _ => None,
    };
    opening_refusal(
        envelope,
        matches!(e, CheckpointError::TooLarge(_)),
        e.to_string(),
    )
}

/// Why signed bytes that would not open are refused: too large (the body's own limit,
/// `too_large`, or the envelope's), badly signed, or otherwise malformed.
fn opening_refusal(envelope: Option<&EnvelopeError>, too_large: bool, why: String) -> Rejection {
    match envelope {
        _ if too_large => Rejection::Oversized(why),
        Some(EnvelopeError::TooLarge(_)) => Rejection::Oversized(why),
        Some(EnvelopeError::Signature(_) | EnvelopeError::WrongSigner { .. }) => {
            Rejection::BadSignature(why)
        }
        _ => Rejection::Malformed(why),
    }
}

/// Checks an entry: size, a current member's key, its signature (before anything inside is
/// read), and that the signer's institution is the entry's origin — the owner of a record
/// or digest, the province for a review.
pub fn admit(bytes: &[u8], directory: &KeyDirectory) -> Result<Entry, Rejection> {
    let unverified = UnverifiedEntry::decode(bytes).map_err(from_record_error)?;
    let cert = directory
        .by_key(&unverified.signer_bytes())
        .ok_or(Rejection::NotMember)?;
    let entry = unverified
        .verify(&cert.node_public_key)
        .map_err(from_record_error)?;
    if entry.body.origin() != &cert.institution_id {
        return Err(Rejection::WrongOwner(format!(
            "{} signed an entry of {}",
            cert.institution_id,
            entry.body.origin()
        )));
    }
    if matches!(entry.body, EntryBody::Review(_)) && cert.role != Role::Aggregator {
        return Err(Rejection::WrongOwner(format!(
            "{} is not the province and may not sign reviews",
            cert.institution_id
        )));
    }
    Ok(entry)
}

/// Checks a checkpoint the same way: a current member's key, its signature, and that
/// the signer is the checkpoint's origin.
pub fn admit_checkpoint(bytes: &[u8], directory: &KeyDirectory) -> Result<Checkpoint, Rejection> {
    let unverified = UnverifiedCheckpoint::decode(bytes).map_err(from_checkpoint_error)?;
    let cert = directory
        .by_key(&unverified.signer_bytes())
        .ok_or(Rejection::NotMember)?;
    let checkpoint = unverified
        .verify(&cert.node_public_key)
        .map_err(from_checkpoint_error)?;
    if checkpoint.origin != cert.institution_id {
        return Err(Rejection::WrongOwner(format!(
            "{} signed a checkpoint of {}",
            cert.institution_id, checkpoint.origin
        )));
    }
    Ok(checkpoint)
}
