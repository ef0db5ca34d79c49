//! Instrument records (R1, R2, R7–R9, R11): what an institution publishes about each of
//! its instruments. Generated protobuf stays private; [`InstrumentRecord`] is built from
//! it with `TryFrom`, checking every size, date and enum.

use prost::Message;

use crate::{
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::{IdError, InstitutionId},
    keys::{PublicKey, SecretKey},
    limits::MAX_GOSSIP_BYTES,
    proto,
};

impl Domain {
    /// An instrument record, signed by the owning institution's node key.
    pub const INSTRUMENT: Domain = Domain("alliance/instrument/v1");
}

/// Longest short text field (names, model, contact fields).
pub const MAX_SHORT_TEXT: usize = 256;
/// Longest long text field (specifications, functions, accessories, hours).
pub const MAX_LONG_TEXT: usize = 8 * 1024;
/// Most fee items per instrument.
pub const MAX_FEE_ITEMS: usize = 32;

pub use proto::{FeeUnit, InstrumentStatus, ServiceMode, SharingScope};

mod photo;
pub use photo::{
    InstrumentPhoto, MAX_PHOTO_BYTES, MAX_PHOTO_SIDE, MAX_PHOTOS, MAX_THUMB_BYTES, PhotoFetch,
    THUMB_SIDE,
};

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record is {0} bytes, more than the {MAX_GOSSIP_BYTES} allowed")]
    TooLarge(usize),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("record is not valid protobuf: {0}")]
    Malformed(String),
    #[error("record: {0}")]
    InstitutionId(#[from] IdError),
    #[error("record field {field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
}

pub(crate) fn field(field: &'static str, message: impl Into<String>) -> RecordError {
    RecordError::Field {
        field,
        message: message.into(),
    }
}

/// A price split into its three components, in fen (0.01 RMB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeComponents {
    pub materials_fen: i64,
    pub operating_fen: i64,
    pub labour_fen: i64,
}

impl FeeComponents {
    /// The price to pay.
    pub fn total_fen(&self) -> i64 {
        self.materials_fen + self.operating_fen + self.labour_fen
    }
}

/// A priced service, by user tier.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeeItem {
    pub item_zh: String,
    pub item_en: String,
    pub unit: FeeUnit,
    pub own_institution: FeeComponents,
    pub alliance_member: FeeComponents,
    pub outside_academic: FeeComponents,
    pub enterprise: FeeComponents,
}

/// Who is asking, for prices and sharing scope (R11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserTier {
    /// A user of the institution that owns the instrument.
    OwnInstitution,
    /// A user of another alliance member.
    AllianceMember,
    /// A university or research institute outside the alliance, or an individual.
    OutsideAcademic,
    /// A firm.
    Enterprise,
}

impl UserTier {
    /// Every tier, cheapest first.
    pub const ALL: [UserTier; 4] = [
        UserTier::OwnInstitution,
        UserTier::AllianceMember,
        UserTier::OutsideAcademic,
        UserTier::Enterprise,
    ];

    /// The snake_case name used in APIs and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            UserTier::OwnInstitution => "own_institution",
            UserTier::AllianceMember => "alliance_member",
            UserTier::OutsideAcademic => "outside_academic",
            UserTier::Enterprise => "enterprise",
        }
    }

    /// Parses [`UserTier::as_str`].
    pub fn parse(s: &str) -> Option<UserTier> {
        UserTier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl FeeItem {
    /// The price of this item for `tier`.
    pub fn price(&self, tier: UserTier) -> &FeeComponents {
        match tier {
            UserTier::OwnInstitution => &self.own_institution,
            UserTier::AllianceMember => &self.alliance_member,
            UserTier::OutsideAcademic => &self.outside_academic,
            UserTier::Enterprise => &self.enterprise,
        }
    }
}

impl SharingScope {
    /// Whether users of `tier` may use an instrument shared this way.
    pub fn admits(self, tier: UserTier) -> bool {
        match self {
            SharingScope::OpenToSociety => true,
            SharingScope::AllianceOnly => {
                matches!(tier, UserTier::OwnInstitution | UserTier::AllianceMember)
            }
            SharingScope::Internal => tier == UserTier::OwnInstitution,
            SharingScope::Unspecified => false,
        }
    }
}

/// Where the instrument stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub city: String,
    pub campus: String,
    pub building: String,
    pub room: String,
}

/// Who answers for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Contact {
    pub person_in_charge: String,
    pub contact_name: String,
    pub phone: String,
    pub email: String,
}

/// One version of an instrument's record, or its tombstone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstrumentRecord {
    pub institution_id: InstitutionId,
    pub local_id: String,
    pub revision: u64,
    pub deleted: bool,
    pub name_zh: String,
    pub name_en: String,
    pub model: String,
    pub specification: String,
    pub original_value_fen: i64,
    pub country_of_origin: String,
    pub manufacturer: String,
    pub manufacture_date: String,
    pub purchase_date: String,
    pub acceptance_date: String,
    pub networked_date: String,
    pub asset_number: String,
    pub classification_code: String,
    pub location: Location,
    pub main_specifications: String,
    pub main_functions: String,
    pub accessories: String,
    pub contact: Contact,
    pub fees: Vec<FeeItem>,
    pub opening_hours: String,
    pub service_modes: Vec<ServiceMode>,
    pub required_training: String,
    pub certification: String,
    pub status: InstrumentStatus,
    pub sharing_scope: SharingScope,
    /// Photos, in the owner's order (their bytes are fetched by hash).
    pub photos: Vec<InstrumentPhoto>,
}

/// Whether `date` is empty or a real calendar date written `YYYY-MM-DD`.
pub fn is_valid_date(date: &str) -> bool {
    if date.is_empty() {
        return true;
    }
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2200).contains(&y) && (1..=days).contains(&d)
}

impl InstrumentRecord {
    /// A record with only the required fields set: in service, open to society.
    pub fn new(institution_id: InstitutionId, local_id: String, name_zh: String) -> Self {
        InstrumentRecord {
            institution_id,
            local_id,
            revision: 0,
            deleted: false,
            name_zh,
            name_en: String::new(),
            model: String::new(),
            specification: String::new(),
            original_value_fen: 0,
            country_of_origin: String::new(),
            manufacturer: String::new(),
            manufacture_date: String::new(),
            purchase_date: String::new(),
            acceptance_date: String::new(),
            networked_date: String::new(),
            asset_number: String::new(),
            classification_code: String::new(),
            location: Location::default(),
            main_specifications: String::new(),
            main_functions: String::new(),
            accessories: String::new(),
            contact: Contact::default(),
            fees: Vec::new(),
            opening_hours: String::new(),
            service_modes: Vec::new(),
            required_training: String::new(),
            certification: String::new(),
            status: InstrumentStatus::InService,
            sharing_scope: SharingScope::OpenToSociety,
            photos: Vec::new(),
        }
    }

    /// The tombstone that deletes this instrument at `revision`.
    pub fn tombstone(&self, revision: u64) -> Self {
        let mut dead = InstrumentRecord::new(
            self.institution_id.clone(),
            self.local_id.clone(),
            String::new(),
        );
        dead.revision = revision;
        dead.deleted = true;
        dead
    }

    /// The instrument's alliance-wide id, `institution/local_id`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.institution_id, self.local_id)
    }

    /// Its cheapest service for `tier`: the total price in fen and its unit; `None`
    /// without fees.
    pub fn cheapest(&self, tier: UserTier) -> Option<(i64, FeeUnit)> {
        self.fees
            .iter()
            .map(|f| (f.price(tier).total_fen(), f.unit))
            .min_by_key(|(fen, _)| *fen)
    }

    /// Signs the record with the owner's node key; returns the encoded envelope.
    pub fn seal(&self, owner: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(
            owner,
            Domain::INSTRUMENT,
            proto::InstrumentRecord::from(self).encode_to_vec(),
        )
        .encode()
    }

    /// Verifies that `owner` signed the record and decodes it. The caller checks that
    /// `owner` is the certified key of the institution the record names.
    pub fn open(bytes: &[u8], owner: &PublicKey) -> Result<InstrumentRecord, RecordError> {
        if bytes.len() > MAX_GOSSIP_BYTES {
            return Err(RecordError::TooLarge(bytes.len()));
        }
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = envelope.open_from(Domain::INSTRUMENT, owner)?;
        let raw = proto::InstrumentRecord::decode(payload)
            .map_err(|e| RecordError::Malformed(e.to_string()))?;
        InstrumentRecord::try_from(raw)
    }
}

pub(crate) fn fee_to_proto(c: &FeeComponents) -> Option<proto::FeeComponents> {
    Some(proto::FeeComponents {
        materials_fen: c.materials_fen,
        operating_fen: c.operating_fen,
        labour_fen: c.labour_fen,
    })
}

pub(crate) fn fee_from_proto(
    c: Option<proto::FeeComponents>,
) -> Result<FeeComponents, RecordError> {
    let c = c.unwrap_or_default();
    let parts = [c.materials_fen, c.operating_fen, c.labour_fen];
    // Cap each part at 10 million RMB so sums can never overflow.
    if parts.iter().any(|p| !(0..=1_000_000_000).contains(p)) {
        return Err(field(
            "fees",
            "each fee component must be 0 to 10,000,000 RMB",
        ));
    }
    Ok(FeeComponents {
        materials_fen: c.materials_fen,
        operating_fen: c.operating_fen,
        labour_fen: c.labour_fen,
    })
}

impl From<&InstrumentRecord> for proto::InstrumentRecord {
    fn from(r: &InstrumentRecord) -> Self {
        proto::InstrumentRecord {
            institution_id: r.institution_id.to_string(),
            local_id: r.local_id.clone(),
            revision: r.revision,
            deleted: r.deleted,
            name_zh: r.name_zh.clone(),
            name_en: r.name_en.clone(),
            model: r.model.clone(),
            specification: r.specification.clone(),
            original_value_fen: r.original_value_fen,
            country_of_origin: r.country_of_origin.clone(),
            manufacturer: r.manufacturer.clone(),
            manufacture_date: r.manufacture_date.clone(),
            purchase_date: r.purchase_date.clone(),
            acceptance_date: r.acceptance_date.clone(),
            networked_date: r.networked_date.clone(),
            asset_number: r.asset_number.clone(),
            classification_code: r.classification_code.clone(),
            location: Some(proto::Location {
                city: r.location.city.clone(),
                campus: r.location.campus.clone(),
                building: r.location.building.clone(),
                room: r.location.room.clone(),
            }),
            main_specifications: r.main_specifications.clone(),
            main_functions: r.main_functions.clone(),
            accessories: r.accessories.clone(),
            contact: Some(proto::Contact {
                person_in_charge: r.contact.person_in_charge.clone(),
                contact_name: r.contact.contact_name.clone(),
                phone: r.contact.phone.clone(),
                email: r.contact.email.clone(),
            }),
            fees: r
                .fees
                .iter()
                .map(|f| proto::FeeItem {
                    item_zh: f.item_zh.clone(),
                    item_en: f.item_en.clone(),
                    unit: f.unit as i32,
                    own_institution: fee_to_proto(&f.own_institution),
                    alliance_member: fee_to_proto(&f.alliance_member),
                    outside_academic: fee_to_proto(&f.outside_academic),
                    enterprise: fee_to_proto(&f.enterprise),
                })
                .collect(),
            opening_hours: r.opening_hours.clone(),
            service_modes: r.service_modes.iter().map(|m| *m as i32).collect(),
            required_training: r.required_training.clone(),
            certification: r.certification.clone(),
            status: r.status as i32,
            sharing_scope: r.sharing_scope as i32,
            photos: r.photos.iter().map(photo::photo_to_proto).collect(),
        }
    }
}

pub(crate) fn short(name: &'static str, value: String) -> Result<String, RecordError> {
    if value.len() > MAX_SHORT_TEXT {
        return Err(field(name, format!("at most {MAX_SHORT_TEXT} bytes")));
    }
    Ok(value)
}

pub(crate) fn long(name: &'static str, value: String) -> Result<String, RecordError> {
    if value.len() > MAX_LONG_TEXT {
        return Err(field(name, format!("at most {MAX_LONG_TEXT} bytes")));
    }
    Ok(value)
}

pub(crate) fn date(name: &'static str, value: String) -> Result<String, RecordError> {
    if !is_valid_date(&value) {
        return Err(field(name, "a date written YYYY-MM-DD"));
    }
    Ok(value)
}

/// Whether `local_id` has the form of an institution's instrument id.
pub fn is_valid_local_id(local_id: &str) -> bool {
    (1..=64).contains(&local_id.len())
        && local_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub(crate) fn check_local_id(local_id: String) -> Result<String, RecordError> {
    if !is_valid_local_id(&local_id) {
        return Err(field(
            "local_id",
            "1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(local_id)
}

pub(crate) fn known<T>(
    name: &'static str,
    value: Result<T, prost::UnknownEnumValue>,
    unspecified: T,
) -> Result<T, RecordError>
where
    T: PartialEq,
{
    match value {
        Ok(v) if v != unspecified => Ok(v),
        _ => Err(field(name, "missing or unknown value")),
    }
}

impl TryFrom<proto::InstrumentRecord> for InstrumentRecord {
    type Error = RecordError;

    fn try_from(raw: proto::InstrumentRecord) -> Result<Self, Self::Error> {
        let local_id = check_local_id(raw.local_id)?;
        if raw.fees.len() > MAX_FEE_ITEMS {
            return Err(field("fees", format!("at most {MAX_FEE_ITEMS} items")));
        }
        if !(0..=100_000_000_000_000).contains(&raw.original_value_fen) {
            return Err(field("original_value_fen", "0 to 1,000,000,000,000 RMB"));
        }
        let deleted = raw.deleted;
        // A tombstone carries no content, so its enums may be unspecified.
        let status = if deleted {
            InstrumentStatus::try_from(raw.status).unwrap_or(InstrumentStatus::Unspecified)
        } else {
            known(
                "status",
                InstrumentStatus::try_from(raw.status),
                InstrumentStatus::Unspecified,
            )?
        };
        let sharing_scope = if deleted {
            SharingScope::try_from(raw.sharing_scope).unwrap_or(SharingScope::Unspecified)
        } else {
            known(
                "sharing_scope",
                SharingScope::try_from(raw.sharing_scope),
                SharingScope::Unspecified,
            )?
        };
        if !deleted && raw.name_zh.trim().is_empty() {
            return Err(field("name_zh", "required"));
        }
        let service_modes = raw
            .service_modes
            .into_iter()
            .map(|m| {
                known(
                    "service_modes",
                    ServiceMode::try_from(m),
                    ServiceMode::Unspecified,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fees = raw
            .fees
            .into_iter()
            .map(|f| {
                Ok(FeeItem {
                    item_zh: short("fees", f.item_zh)?,
                    item_en: short("fees", f.item_en)?,
                    unit: known("fees", FeeUnit::try_from(f.unit), FeeUnit::Unspecified)?,
                    own_institution: fee_from_proto(f.own_institution)?,
                    alliance_member: fee_from_proto(f.alliance_member)?,
                    outside_academic: fee_from_proto(f.outside_academic)?,
                    enterprise: fee_from_proto(f.enterprise)?,
                })
            })
            .collect::<Result<Vec<_>, RecordError>>()?;
        let location = raw.location.unwrap_or_default();
        let contact = raw.contact.unwrap_or_default();
        Ok(InstrumentRecord {
            institution_id: InstitutionId::try_from(raw.institution_id)?,
            local_id,
            revision: raw.revision,
            deleted,
            name_zh: short("name_zh", raw.name_zh)?,
            name_en: short("name_en", raw.name_en)?,
            model: short("model", raw.model)?,
            specification: short("specification", raw.specification)?,
            original_value_fen: raw.original_value_fen,
            country_of_origin: short("country_of_origin", raw.country_of_origin)?,
            manufacturer: short("manufacturer", raw.manufacturer)?,
            manufacture_date: date("manufacture_date", raw.manufacture_date)?,
            purchase_date: date("purchase_date", raw.purchase_date)?,
            acceptance_date: date("acceptance_date", raw.acceptance_date)?,
            networked_date: date("networked_date", raw.networked_date)?,
            asset_number: short("asset_number", raw.asset_number)?,
            classification_code: short("classification_code", raw.classification_code)?,
            location: Location {
                city: short("location", location.city)?,
                campus: short("location", location.campus)?,
                building: short("location", location.building)?,
                room: short("location", location.room)?,
            },
            main_specifications: long("main_specifications", raw.main_specifications)?,
            main_functions: long("main_functions", raw.main_functions)?,
            accessories: long("accessories", raw.accessories)?,
            contact: Contact {
                person_in_charge: short("contact", contact.person_in_charge)?,
                contact_name: short("contact", contact.contact_name)?,
                phone: short("contact", contact.phone)?,
                email: short("contact", contact.email)?,
            },
            fees,
            opening_hours: long("opening_hours", raw.opening_hours)?,
            service_modes,
            required_training: long("required_training", raw.required_training)?,
            certification: long("certification", raw.certification)?,
            status,
            sharing_scope,
            photos: photo::photos_from_proto(raw.photos)?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
