//! The board of needs and offers (R3, R19). A [`Need`] is a measurement a user wants
//! done, signed by the user's home; an [`Offer`] is an institution's answer to one,
//! signed by that institution. Both travel as catalogue entries (see [`crate::entry`]):
//! every member holds the whole board and checks every version alone.
//!
//! A need names no person. Whom to contact goes only to the institution whose offer the
//! user accepts, so members and the public see what is wanted, not who wants it.

use prost::Message;

use crate::{
    envelope::{Domain, SignedEnvelope},
    ids::InstitutionId,
    keys::SecretKey,
    proto,
    record::{RecordError, ServiceMode, UserTier, check_local_id, date, field, long, short},
    time::UnixTime,
};

impl Domain {
    /// A need, signed by the home institution of the user who posted it.
    pub const NEED: Domain = Domain("alliance/need/v1");
    /// An offer, signed by the institution that makes it.
    pub const OFFER: Domain = Domain("alliance/offer/v1");
    /// "Send me this attachment of a need", from a member's node to the need's home.
    pub const NEED_FILE_FETCH: Domain = Domain("alliance/need-file-fetch/v1");
}

/// Most classification codes a need names.
pub const MAX_NEED_CATEGORIES: usize = 5;
/// Most keywords a need names.
pub const MAX_NEED_KEYWORDS: usize = 10;
/// Longest keyword, in bytes.
pub const MAX_KEYWORD_BYTES: usize = 64;
/// Most files attached to a need.
pub const MAX_NEED_ATTACHMENTS: usize = 3;
/// Largest file attached to a need, in bytes.
pub const MAX_NEED_FILE_BYTES: usize = 2 * 1024 * 1024;
/// Most samples a need counts.
pub const MAX_SAMPLES: u32 = 10_000;
/// Longest turnaround an offer promises, in working days.
pub const MAX_TURNAROUND_DAYS: u32 = 365;
/// Needs of one home that any node holds (open or closed): a home past it must let old
/// ones go before posting more.
pub const MAX_NEEDS_PER_MEMBER: usize = 5_000;
/// Offers of one institution that any node holds.
pub const MAX_OFFERS_PER_MEMBER: usize = 20_000;

/// Where a need stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedState {
    /// Taking offers.
    Open,
    /// Taken back by the user.
    Withdrawn { at: UnixTime },
    /// The user accepted this offer (its institution and revision).
    Accepted {
        institution: InstitutionId,
        revision: u64,
        at: UnixTime,
    },
}

/// A measurement a user needs done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The home institution: the origin, which alone may revise it.
    pub home: InstitutionId,
    pub local_id: String,
    pub revision: u64,
    pub title: String,
    pub description: String,
    pub categories: Vec<String>,
    /// [`ServiceMode::StaffRun`], [`ServiceMode::SelfOperated`], or both.
    pub modes: Vec<ServiceMode>,
    pub keywords: Vec<String>,
    pub sample_kind: String,
    pub sample_count: u32,
    /// `YYYY-MM-DD`.
    pub deadline: String,
    pub budget_min_fen: i64,
    /// 0: not stated.
    pub budget_max_fen: i64,
    pub results_public: bool,
    /// Whose prices apply, as the home sees its user.
    pub tier: UserTier,
    pub posted_at: UnixTime,
    pub state: NeedState,
    /// The institution a service expert referred the need to (its managers are told at
    /// once; any member may still offer).
    pub referred_to: Option<InstitutionId>,
    /// Files the user attached, kept at the home.
    pub attachments: Vec<NeedAttachment>,
}

/// A file attached to a need: kept at the home, fetched through it by members, checked
/// against the SHA-256 signed in the need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedAttachment {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: [u8; 32],
}

/// "Send me attachment `index` of need `need_id`", from a member's node to the home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedFileFetch {
    pub need_home: InstitutionId,
    pub need_id: String,
    pub index: u32,
}

impl NeedFileFetch {
    /// Signs with the asking node's key.
    pub fn seal(&self, asker: &SecretKey) -> Vec<u8> {
        let raw = proto::NeedFileFetch {
            need_institution: self.need_home.to_string(),
            need_id: self.need_id.clone(),
            index: self.index,
        };
        SignedEnvelope::seal(asker, Domain::NEED_FILE_FETCH, raw.encode_to_vec()).encode()
    }

    /// Opens a fetch `asker` signed.
    pub fn open(bytes: &[u8], asker: &crate::keys::PublicKey) -> Result<Self, RecordError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let raw = proto::NeedFileFetch::decode(envelope.open_from(Domain::NEED_FILE_FETCH, asker)?)
            .map_err(|e| RecordError::Malformed(e.to_string()))?;
        Ok(NeedFileFetch {
            need_home: InstitutionId::try_from(raw.need_institution)?,
            need_id: check_local_id(raw.need_id)?,
            index: raw.index,
        })
    }
}

impl Need {
    /// The alliance-wide id, `home/local_id`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.home, self.local_id)
    }

    /// Whether it still takes offers.
    pub fn is_open(&self) -> bool {
        self.state == NeedState::Open
    }

    /// The tier whose prices `institution` charges the user: a user of the home is the
    /// home's own, and another member's user at any other member.
    pub fn tier_at(&self, institution: &InstitutionId) -> UserTier {
        match self.tier {
            UserTier::OwnInstitution if institution != &self.home => UserTier::AllianceMember,
            UserTier::AllianceMember if institution == &self.home => UserTier::OwnInstitution,
            tier => tier,
        }
    }

    /// Signs with the home's node key; returns the encoded envelope.
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(
            home,
            Domain::NEED,
            proto::NeedRecord::from(self).encode_to_vec(),
        )
        .encode()
    }

    /// Checks every field a need must satisfy whoever reads it.
    fn check(self) -> Result<Self, RecordError> {
        if self.title.trim().is_empty() {
            return Err(field("title", "required"));
        }
        if self.categories.len() > MAX_NEED_CATEGORIES {
            return Err(field(
                "categories",
                format!("at most {MAX_NEED_CATEGORIES}"),
            ));
        }
        if self.keywords.len() > MAX_NEED_KEYWORDS {
            return Err(field("keywords", format!("at most {MAX_NEED_KEYWORDS}")));
        }
        if self
            .keywords
            .iter()
            .any(|k| k.trim().is_empty() || k.len() > MAX_KEYWORD_BYTES)
        {
            return Err(field(
                "keywords",
                format!("each 1 to {MAX_KEYWORD_BYTES} bytes"),
            ));
        }
        if self.modes.is_empty()
            || self.modes.len() > 2
            || self
                .modes
                .iter()
                .any(|m| !matches!(m, ServiceMode::StaffRun | ServiceMode::SelfOperated))
            || (self.modes.len() == 2 && self.modes[0] == self.modes[1])
        {
            return Err(field(
                "modes",
                "staff-run testing, self-operated use, or both",
            ));
        }
        if self.attachments.len() > MAX_NEED_ATTACHMENTS {
            return Err(field(
                "attachments",
                format!("at most {MAX_NEED_ATTACHMENTS} files"),
            ));
        }
        if self.attachments.iter().any(|a| {
            a.name.trim().is_empty()
                || a.name.len() > 200
                || a.media_type.is_empty()
                || a.size == 0
                || a.size > MAX_NEED_FILE_BYTES as u64
        }) {
            return Err(field(
                "attachments",
                format!("each named, typed, 1 to {MAX_NEED_FILE_BYTES} bytes"),
            ));
        }
        if !(1..=MAX_SAMPLES).contains(&self.sample_count) {
            return Err(field("sample_count", format!("1 to {MAX_SAMPLES} samples")));
        }
        if self.budget_min_fen < 0
            || self.budget_max_fen < 0
            || (self.budget_max_fen > 0 && self.budget_min_fen > self.budget_max_fen)
        {
            return Err(field(
                "budget_max_fen",
                "not negative, and not below the least budget",
            ));
        }
        Ok(self)
    }
}

/// An institution's answer to a need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The offering institution: the origin.
    pub institution_id: InstitutionId,
    pub revision: u64,
    pub need_home: InstitutionId,
    pub need_id: String,
    pub instrument_local_id: String,
    pub mode: ServiceMode,
    pub service_item: String,
    pub price_fen: i64,
    /// A quoted price (with `price_reason`) rather than the fee schedule's.
    pub quoted: bool,
    pub price_reason: String,
    /// `YYYY-MM-DD`.
    pub earliest_date: String,
    pub turnaround_days: u32,
    pub conditions: String,
    pub offered_at: UnixTime,
    pub withdrawn: bool,
}

impl Offer {
    /// The alliance-wide id of the need it answers.
    pub fn need(&self) -> String {
        format!("{}/{}", self.need_home, self.need_id)
    }

    /// The offering institution's instrument, `institution/local_id`.
    pub fn instrument_id(&self) -> String {
        format!("{}/{}", self.institution_id, self.instrument_local_id)
    }

    /// Signs with the offering institution's node key; returns the encoded envelope.
    pub fn seal(&self, institution: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(
            institution,
            Domain::OFFER,
            proto::OfferRecord::from(self).encode_to_vec(),
        )
        .encode()
    }

    fn check(self) -> Result<Self, RecordError> {
        if !matches!(self.mode, ServiceMode::StaffRun | ServiceMode::SelfOperated) {
            return Err(field("mode", "staff-run testing or self-operated use"));
        }
        if self.service_item.trim().is_empty() {
            return Err(field("service_item", "required"));
        }
        if self.price_fen < 0 {
            return Err(field("price_fen", "not negative"));
        }
        if self.quoted && self.price_reason.trim().is_empty() {
            return Err(field("price_reason", "a quoted price needs its reason"));
        }
        if !(1..=MAX_TURNAROUND_DAYS).contains(&self.turnaround_days) {
            return Err(field(
                "turnaround_days",
                format!("1 to {MAX_TURNAROUND_DAYS} working days"),
            ));
        }
        Ok(self)
    }
}

fn mode_of(value: i32) -> Result<ServiceMode, RecordError> {
    ServiceMode::try_from(value).map_err(|_| field("mode", "unknown service mode"))
}

impl From<&Need> for proto::NeedRecord {
    fn from(n: &Need) -> Self {
        let (state, accepted_institution, accepted_revision, closed_at) = match &n.state {
            NeedState::Open => (proto::NeedState::Open, String::new(), 0, 0),
            NeedState::Withdrawn { at } => (proto::NeedState::Withdrawn, String::new(), 0, at.0),
            NeedState::Accepted {
                institution,
                revision,
                at,
            } => (
                proto::NeedState::Accepted,
                institution.to_string(),
                *revision,
                at.0,
            ),
        };
        proto::NeedRecord {
            institution_id: n.home.to_string(),
            local_id: n.local_id.clone(),
            revision: n.revision,
            title: n.title.clone(),
            description: n.description.clone(),
            categories: n.categories.clone(),
            modes: n.modes.iter().map(|m| *m as i32).collect(),
            keywords: n.keywords.clone(),
            sample_kind: n.sample_kind.clone(),
            sample_count: n.sample_count,
            deadline: n.deadline.clone(),
            budget_min_fen: n.budget_min_fen,
            budget_max_fen: n.budget_max_fen,
            results_public: n.results_public,
            tier: n.tier.as_str().to_owned(),
            posted_at: n.posted_at.0,
            state: state as i32,
            accepted_institution,
            accepted_revision,
            closed_at,
            referred_to: n
                .referred_to
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            attachments: n
                .attachments
                .iter()
                .map(|a| proto::NeedAttachment {
                    name: a.name.clone(),
                    media_type: a.media_type.clone(),
                    size: a.size,
                    sha256: a.sha256.to_vec(),
                })
                .collect(),
        }
    }
}

impl TryFrom<proto::NeedRecord> for Need {
    type Error = RecordError;

    fn try_from(raw: proto::NeedRecord) -> Result<Self, Self::Error> {
        let state = match proto::NeedState::try_from(raw.state) {
            Ok(proto::NeedState::Open) => NeedState::Open,
            Ok(proto::NeedState::Withdrawn) => NeedState::Withdrawn {
                at: UnixTime(raw.closed_at),
            },
            Ok(proto::NeedState::Accepted) => NeedState::Accepted {
                institution: InstitutionId::try_from(raw.accepted_institution)?,
                revision: raw.accepted_revision,
                at: UnixTime(raw.closed_at),
            },
            _ => return Err(field("state", "open, withdrawn or accepted")),
        };
        let categories = raw
            .categories
            .into_iter()
            .map(|c| short("categories", c))
            .collect::<Result<_, _>>()?;
        let modes = raw
            .modes
            .into_iter()
            .map(mode_of)
            .collect::<Result<_, _>>()?;
        Need {
            home: InstitutionId::try_from(raw.institution_id)?,
            local_id: check_local_id(raw.local_id)?,
            revision: raw.revision,
            title: short("title", raw.title)?,
            description: long("description", raw.description)?,
            categories,
            modes,
            keywords: raw.keywords,
            sample_kind: short("sample_kind", raw.sample_kind)?,
            sample_count: raw.sample_count,
            deadline: date("deadline", raw.deadline)?,
            budget_min_fen: raw.budget_min_fen,
            budget_max_fen: raw.budget_max_fen,
            results_public: raw.results_public,
            tier: UserTier::parse(&raw.tier).ok_or_else(|| field("tier", "unknown tier"))?,
            posted_at: UnixTime(raw.posted_at),
            state,
            referred_to: if raw.referred_to.is_empty() {
                None
            } else {
                Some(InstitutionId::try_from(raw.referred_to)?)
            },
            attachments: raw
                .attachments
                .into_iter()
                .map(|a| {
                    Ok(NeedAttachment {
                        sha256: a
                            .sha256
                            .try_into()
                            .map_err(|_| field("attachments", "a SHA-256 of 32 bytes"))?,
                        name: short("attachments", a.name)?,
                        media_type: short("attachments", a.media_type)?,
                        size: a.size,
                    })
                })
                .collect::<Result<_, RecordError>>()?,
        }
        .check()
    }
}

impl From<&Offer> for proto::OfferRecord {
    fn from(o: &Offer) -> Self {
        proto::OfferRecord {
            institution_id: o.institution_id.to_string(),
            revision: o.revision,
            need_institution: o.need_home.to_string(),
            need_id: o.need_id.clone(),
            instrument_local_id: o.instrument_local_id.clone(),
            mode: o.mode as i32,
            service_item: o.service_item.clone(),
            price_fen: o.price_fen,
            quoted: o.quoted,
            price_reason: o.price_reason.clone(),
            earliest_date: o.earliest_date.clone(),
            turnaround_days: o.turnaround_days,
            conditions: o.conditions.clone(),
            offered_at: o.offered_at.0,
            withdrawn: o.withdrawn,
        }
    }
}

impl TryFrom<proto::OfferRecord> for Offer {
    type Error = RecordError;

    fn try_from(raw: proto::OfferRecord) -> Result<Self, Self::Error> {
        Offer {
            institution_id: InstitutionId::try_from(raw.institution_id)?,
            revision: raw.revision,
            need_home: InstitutionId::try_from(raw.need_institution)?,
            need_id: check_local_id(raw.need_id)?,
            instrument_local_id: check_local_id(raw.instrument_local_id)?,
            mode: mode_of(raw.mode)?,
            service_item: short("service_item", raw.service_item)?,
            price_fen: raw.price_fen,
            quoted: raw.quoted,
            price_reason: long("price_reason", raw.price_reason)?,
            earliest_date: date("earliest_date", raw.earliest_date)?,
            turnaround_days: raw.turnaround_days,
            conditions: long("conditions", raw.conditions)?,
            offered_at: UnixTime(raw.offered_at),
            withdrawn: raw.withdrawn,
        }
        .check()
    }
}

#[cfg(test)]
mod tests;
