//! Entrusted testing (送样检测 / 委托测试) between two nodes: the [`OrderPlaced`] a
//! user's home sends the institution whose offer the user accepted (with whom to contact
//! and the sample manifest), the owner's [`OrderUpdate`]s as the samples arrive, the
//! testing runs and the report is issued, and the home's [`ReportFetch`] of the report.
//! Each is mail, signed by its sender.

use prost::Message;

use crate::{
    envelope::{Domain, SignedEnvelope},
    ids::InstitutionId,
    keys::{PublicKey, SecretKey},
    proto,
    record::{RecordError, UserTier, check_local_id, field, long, short},
    time::UnixTime,
};

impl Domain {
    /// An order, from the user's home to the owner.
    pub const ORDER: Domain = Domain("alliance/order/v1");
    /// An order's new state, from the owner to the home.
    pub const ORDER_UPDATE: Domain = Domain("alliance/order-update/v1");
    /// "Send me the report of this order", from the home to the owner.
    pub const REPORT_FETCH: Domain = Domain("alliance/report-fetch/v1");
    /// The user takes an order back, from the home to the owner.
    pub const ORDER_CANCEL: Domain = Domain("alliance/order-cancel/v1");
}

/// Most lines of a sample manifest.
pub const MAX_SAMPLE_LINES: usize = 50;
/// Most photos of the samples at intake.
pub const MAX_INTAKE_PHOTOS: usize = 3;
/// Largest report, in bytes: it travels in one answer between nodes.
pub const MAX_REPORT_BYTES: usize = 6 * 1024 * 1024;

/// One line of the sample manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SampleLine {
    pub label: String,
    pub count: u32,
    pub note: String,
}

/// Whom the owner deals with.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderContact {
    pub user_id: String,
    pub name: String,
    pub organization: String,
    pub email: String,
    pub phone: String,
}

/// An order placed by the user's home with the owner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderPlaced {
    pub order_id: String,
    pub home: InstitutionId,
    pub owner: InstitutionId,
    pub offer_revision: u64,
    pub instrument_local_id: String,
    pub service_item: String,
    pub price_fen: i64,
    pub samples: Vec<SampleLine>,
    pub contact: OrderContact,
    pub tier: UserTier,
    pub placed_at: UnixTime,
    pub title: String,
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Ordered,
    SamplesReceived,
    Testing,
    ReportIssued,
    Closed,
    Refused,
    Cancelled,
}

impl OrderState {
    /// Whether the owner may move an order from this state to `next`: forward one step
    /// at a time; refused before testing ends; cancelled only before the samples arrive.
    pub fn may_become(self, next: OrderState) -> bool {
        use OrderState::*;
        matches!(
            (self, next),
            (Ordered, SamplesReceived)
                | (SamplesReceived, Testing)
                | (Testing, ReportIssued)
                | (ReportIssued, Closed)
                | (Ordered | SamplesReceived | Testing, Refused)
                | (Ordered, Cancelled)
        )
    }

    /// Whether nothing more happens to the order.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderState::Closed | OrderState::Refused | OrderState::Cancelled
        )
    }

    /// The snake_case name used in APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Ordered => "ordered",
            OrderState::SamplesReceived => "samples_received",
            OrderState::Testing => "testing",
            OrderState::ReportIssued => "report_issued",
            OrderState::Closed => "closed",
            OrderState::Refused => "refused",
            OrderState::Cancelled => "cancelled",
        }
    }

    fn to_proto(self) -> proto::OrderState {
        match self {
            OrderState::Ordered => proto::OrderState::Ordered,
            OrderState::SamplesReceived => proto::OrderState::SamplesReceived,
            OrderState::Testing => proto::OrderState::Testing,
            OrderState::ReportIssued => proto::OrderState::ReportIssued,
            OrderState::Closed => proto::OrderState::Closed,
            OrderState::Refused => proto::OrderState::Refused,
            OrderState::Cancelled => proto::OrderState::Cancelled,
        }
    }

    fn from_proto(value: i32) -> Result<OrderState, RecordError> {
        Ok(match proto::OrderState::try_from(value) {
            Ok(proto::OrderState::Ordered) => OrderState::Ordered,
            Ok(proto::OrderState::SamplesReceived) => OrderState::SamplesReceived,
            Ok(proto::OrderState::Testing) => OrderState::Testing,
            Ok(proto::OrderState::ReportIssued) => OrderState::ReportIssued,
            Ok(proto::OrderState::Closed) => OrderState::Closed,
            Ok(proto::OrderState::Refused) => OrderState::Refused,
            Ok(proto::OrderState::Cancelled) => OrderState::Cancelled,
            _ => return Err(field("state", "unknown order state")),
        })
    }
}

/// The report of an order, as its update describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportRef {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: [u8; 32],
    /// The usage receipt that names the same SHA-256.
    pub receipt_id: String,
}

/// The owner's word on an order's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    pub order_id: String,
    pub home: InstitutionId,
    pub owner: InstitutionId,
    pub version: u32,
    pub state: OrderState,
    pub note: String,
    pub at: UnixTime,
    pub report: Option<ReportRef>,
    /// Photos of the samples at intake (name, type, size, SHA-256).
    pub photos: Vec<crate::board::NeedAttachment>,
}

/// The home asks for an order's report, or one of its intake photos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFetch {
    pub order_id: String,
    pub home: InstitutionId,
    /// 0: the report; n: intake photo n (from 1).
    pub photo: u32,
}

/// The user takes an order back (before the samples arrive), with a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCancel {
    pub order_id: String,
    pub home: InstitutionId,
    pub reason: String,
}

impl OrderCancel {
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        let raw = proto::OrderCancel {
            order_id: self.order_id.clone(),
            home_institution: self.home.to_string(),
            reason: self.reason.clone(),
        };
        SignedEnvelope::seal(home, Domain::ORDER_CANCEL, raw.encode_to_vec()).encode()
    }

    pub fn open(bytes: &[u8], home: &PublicKey) -> Result<OrderCancel, RecordError> {
        let raw = proto::OrderCancel::decode(opened(bytes, Domain::ORDER_CANCEL, home)?.as_slice())
            .map_err(malformed)?;
        if raw.reason.trim().is_empty() {
            return Err(field("reason", "a cancellation gives its reason"));
        }
        Ok(OrderCancel {
            order_id: check_local_id(raw.order_id)?,
            home: InstitutionId::try_from(raw.home_institution)?,
            reason: long("reason", raw.reason)?,
        })
    }
}

fn malformed(e: prost::DecodeError) -> RecordError {
    RecordError::Malformed(e.to_string())
}

fn opened(bytes: &[u8], domain: Domain, signer: &PublicKey) -> Result<Vec<u8>, RecordError> {
    let envelope = SignedEnvelope::decode(bytes)?;
    Ok(envelope.open_from(domain, signer)?.to_vec())
}

impl OrderPlaced {
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        let raw = proto::OrderPlaced {
            order_id: self.order_id.clone(),
            home_institution: self.home.to_string(),
            institution_id: self.owner.to_string(),
            offer_revision: self.offer_revision,
            instrument_local_id: self.instrument_local_id.clone(),
            service_item: self.service_item.clone(),
            price_fen: self.price_fen,
            samples: self
                .samples
                .iter()
                .map(|s| proto::SampleLine {
                    label: s.label.clone(),
                    count: s.count,
                    note: s.note.clone(),
                })
                .collect(),
            contact: Some(proto::OrderContact {
                user_id: self.contact.user_id.clone(),
                name: self.contact.name.clone(),
                organization: self.contact.organization.clone(),
                email: self.contact.email.clone(),
                phone: self.contact.phone.clone(),
            }),
            tier: self.tier.as_str().to_owned(),
            placed_at: self.placed_at.0,
            title: self.title.clone(),
        };
        SignedEnvelope::seal(home, Domain::ORDER, raw.encode_to_vec()).encode()
    }

    /// Reads an order signed by `home`'s key, checking every field.
    pub fn open(bytes: &[u8], home: &PublicKey) -> Result<OrderPlaced, RecordError> {
        let raw = proto::OrderPlaced::decode(opened(bytes, Domain::ORDER, home)?.as_slice())
            .map_err(malformed)?;
        if raw.samples.is_empty() || raw.samples.len() > MAX_SAMPLE_LINES {
            return Err(field("samples", format!("1 to {MAX_SAMPLE_LINES} lines")));
        }
        if raw.price_fen < 0 {
            return Err(field("price_fen", "not negative"));
        }
        let samples = raw
            .samples
            .into_iter()
            .map(|s| {
                if s.count == 0 || s.count > crate::board::MAX_SAMPLES {
                    return Err(field("samples", "each line counts 1 to 10,000 samples"));
                }
                Ok(SampleLine {
                    label: short("samples", s.label)?,
                    count: s.count,
                    note: short("samples", s.note)?,
                })
            })
            .collect::<Result<_, _>>()?;
        let contact = raw.contact.unwrap_or_default();
        Ok(OrderPlaced {
            order_id: check_local_id(raw.order_id)?,
            home: InstitutionId::try_from(raw.home_institution)?,
            owner: InstitutionId::try_from(raw.institution_id)?,
            offer_revision: raw.offer_revision,
            instrument_local_id: check_local_id(raw.instrument_local_id)?,
            service_item: short("service_item", raw.service_item)?,
            price_fen: raw.price_fen,
            samples,
            contact: OrderContact {
                user_id: short("contact", contact.user_id)?,
                name: short("contact", contact.name)?,
                organization: short("contact", contact.organization)?,
                email: short("contact", contact.email)?,
                phone: short("contact", contact.phone)?,
            },
            tier: UserTier::parse(&raw.tier).ok_or_else(|| field("tier", "unknown tier"))?,
            placed_at: UnixTime(raw.placed_at),
            title: short("title", raw.title)?,
        })
    }

    /// Samples in all.
    pub fn sample_count(&self) -> u32 {
        self.samples
            .iter()
            .map(|s| s.count)
            .fold(0u32, u32::saturating_add)
    }
}

impl OrderUpdate {
    pub fn seal(&self, owner: &SecretKey) -> Vec<u8> {
        let report = self.report.as_ref();
        let raw = proto::OrderUpdate {
            order_id: self.order_id.clone(),
            home_institution: self.home.to_string(),
            institution_id: self.owner.to_string(),
            version: self.version,
            state: self.state.to_proto() as i32,
            note: self.note.clone(),
            at: self.at.0,
            report_name: report.map(|r| r.name.clone()).unwrap_or_default(),
            report_media_type: report.map(|r| r.media_type.clone()).unwrap_or_default(),
            report_size: report.map_or(0, |r| r.size),
            report_sha256: report.map(|r| r.sha256.to_vec()).unwrap_or_default(),
            receipt_id: report.map(|r| r.receipt_id.clone()).unwrap_or_default(),
            photos: self
                .photos
                .iter()
                .map(|p| proto::IntakePhoto {
                    name: p.name.clone(),
                    media_type: p.media_type.clone(),
                    size: p.size,
                    sha256: p.sha256.to_vec(),
                })
                .collect(),
        };
        SignedEnvelope::seal(owner, Domain::ORDER_UPDATE, raw.encode_to_vec()).encode()
    }

    /// Reads an update signed by `owner`'s key, checking every field.
    pub fn open(bytes: &[u8], owner: &PublicKey) -> Result<OrderUpdate, RecordError> {
        let raw =
            proto::OrderUpdate::decode(opened(bytes, Domain::ORDER_UPDATE, owner)?.as_slice())
                .map_err(malformed)?;
        let state = OrderState::from_proto(raw.state)?;
        let report = if raw.report_sha256.is_empty() {
            None
        } else {
            Some(ReportRef {
                name: short("report_name", raw.report_name)?,
                media_type: short("report_media_type", raw.report_media_type)?,
                size: raw.report_size,
                sha256: <[u8; 32]>::try_from(raw.report_sha256.as_slice())
                    .map_err(|_| field("report_sha256", "32 bytes"))?,
                receipt_id: short("receipt_id", raw.receipt_id)?,
            })
        };
        if matches!(state, OrderState::ReportIssued) && report.is_none() {
            return Err(field("report_sha256", "an issued report names its SHA-256"));
        }
        if raw.photos.len() > MAX_INTAKE_PHOTOS {
            return Err(field("photos", format!("at most {MAX_INTAKE_PHOTOS}")));
        }
        let photos = raw
            .photos
            .into_iter()
            .map(|p| {
                Ok(crate::board::NeedAttachment {
                    sha256: <[u8; 32]>::try_from(p.sha256.as_slice())
                        .map_err(|_| field("photos", "a SHA-256 of 32 bytes"))?,
                    name: short("photos", p.name)?,
                    media_type: short("photos", p.media_type)?,
                    size: p.size,
                })
            })
            .collect::<Result<_, RecordError>>()?;
        Ok(OrderUpdate {
            order_id: check_local_id(raw.order_id)?,
            home: InstitutionId::try_from(raw.home_institution)?,
            owner: InstitutionId::try_from(raw.institution_id)?,
            version: raw.version,
            state,
            note: long("note", raw.note)?,
            at: UnixTime(raw.at),
            report,
            photos,
        })
    }
}

impl ReportFetch {
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        let raw = proto::ReportFetch {
            order_id: self.order_id.clone(),
            home_institution: self.home.to_string(),
            photo: self.photo,
        };
        SignedEnvelope::seal(home, Domain::REPORT_FETCH, raw.encode_to_vec()).encode()
    }

    pub fn open(bytes: &[u8], home: &PublicKey) -> Result<ReportFetch, RecordError> {
        let raw = proto::ReportFetch::decode(opened(bytes, Domain::REPORT_FETCH, home)?.as_slice())
            .map_err(malformed)?;
        Ok(ReportFetch {
            order_id: check_local_id(raw.order_id)?,
            home: InstitutionId::try_from(raw.home_institution)?,
            photo: raw.photo,
        })
    }
}

#[cfg(test)]
mod tests;
