//! Usage receipts (R5, R14): the owner's signed account of a use of one of its
//! instruments, the home's countersigned confirmation and rating by the user, and the
//! submission of both to the province's log.
//!
//! The confirmation names the SHA-256 of the owner's signed envelope, so it vouches for
//! those exact bytes: an altered receipt no longer matches its confirmation, and a
//! confirmation cannot be moved to another receipt.

use prost::Message;
use sha2::{Digest, Sha256};

use crate::{
    booking::{
        MAX_BOOKING_SECONDS, MAX_SAMPLES, booking_id, institution, is_valid_booking_id,
        tier_from_proto, tier_to_proto,
    },
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::InstitutionId,
    keys::{PublicKey, SecretKey},
    proto,
    record::{
        FeeComponents, RecordError, UserTier, check_local_id, fee_from_proto, fee_to_proto, field,
        short,
    },
    time::UnixTime,
};

impl Domain {
    /// A usage receipt, signed by the instrument owner's node.
    pub const RECEIPT: Domain = Domain("alliance/receipt/v1");
    /// A user's confirmation and rating of a receipt, signed by the user's home node.
    pub const RECEIPT_CONFIRMATION: Domain = Domain("alliance/receipt-confirmation/v1");
}

/// Longest submission: a receipt and a confirmation, each well under 4 KiB.
pub const MAX_SUBMISSION_BYTES: usize = 16 * 1024;

/// Why a receipt, confirmation or submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Invalid(#[from] RecordError),
    #[error("the confirmation is not of this receipt: {0}")]
    Mismatch(&'static str),
    #[error("submission is {0} bytes, more than the {MAX_SUBMISSION_BYTES} allowed")]
    TooLarge(usize),
}

fn malformed(e: prost::DecodeError) -> ReceiptError {
    ReceiptError::Invalid(RecordError::Malformed(e.to_string()))
}

/// What the owner says a use of its instrument was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UsageReceipt {
    pub receipt_id: String,
    pub institution_id: InstitutionId,
    pub local_id: String,
    /// Empty for walk-in and internal use.
    pub booking_id: String,
    pub user_id: String,
    pub user_name: String,
    pub home_institution: InstitutionId,
    pub tier: UserTier,
    pub start: UnixTime,
    pub end: UnixTime,
    pub preparation_minutes: u32,
    pub test_minutes: u32,
    pub post_processing_minutes: u32,
    pub samples: u32,
    pub fees: FeeComponents,
    pub issued_at: UnixTime,
    /// SHA-256 of the report of an entrusted test (送样检测), `None` for other uses.
    pub report_sha256: Option<[u8; 32]>,
}

impl UsageReceipt {
    /// Whether `report` is the report this receipt vouches for (false when it names
    /// none).
    pub fn report_matches(&self, report: &[u8]) -> bool {
        use sha2::Digest;
        self.report_sha256
            .is_some_and(|hash| hash == <[u8; 32]>::from(sha2::Sha256::digest(report)))
    }

    /// Effective machine time (有效机时), in minutes.
    pub fn effective_minutes(&self) -> u64 {
        u64::from(self.preparation_minutes)
            + u64::from(self.test_minutes)
            + u64::from(self.post_processing_minutes)
    }

    /// Whether the user came from outside the owning institution (external service).
    pub fn is_external(&self) -> bool {
        self.tier != UserTier::OwnInstitution
    }

    /// Whether the effective time stated exceeds the session's wall time by more than
    /// `allowance_minutes` (preparation before the start or data handling after the
    /// end, as the alliance allows).
    pub fn exceeds_wall_time(&self, allowance_minutes: u32) -> bool {
        let wall_minutes = (self.end.0 - self.start.0).max(0) as u64 / 60;
        self.effective_minutes() > wall_minutes + u64::from(allowance_minutes)
    }

    /// The instrument's alliance-wide id.
    pub fn instrument_id(&self) -> String {
        format!("{}/{}", self.institution_id, self.local_id)
    }

    /// Signs with the owner's key; returns the encoded envelope.
    pub fn seal(&self, owner: &SecretKey) -> Vec<u8> {
        SignedEnvelope::seal(owner, Domain::RECEIPT, self.to_proto().encode_to_vec()).encode()
    }

    fn to_proto(&self) -> proto::UsageReceipt {
        proto::UsageReceipt {
            receipt_id: self.receipt_id.clone(),
            institution_id: self.institution_id.to_string(),
            local_id: self.local_id.clone(),
            booking_id: self.booking_id.clone(),
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            home_institution: self.home_institution.to_string(),
            tier: tier_to_proto(self.tier) as i32,
            start: self.start.0,
            end: self.end.0,
            preparation_minutes: self.preparation_minutes,
            test_minutes: self.test_minutes,
            post_processing_minutes: self.post_processing_minutes,
            samples: self.samples,
            fees: fee_to_proto(&self.fees),
            issued_at: self.issued_at.0,
            report_sha256: self.report_sha256.map(Vec::from).unwrap_or_default(),
        }
    }

    /// Checks what [`UsageReceipt::open`] checks, without a signature, so an owner
    /// refuses to issue what the province would refuse.
    pub fn validate(&self) -> Result<(), ReceiptError> {
        read_receipt(&self.to_proto().encode_to_vec()).map(drop)
    }

    /// Reads a receipt signed by `owner`.
    pub fn open(bytes: &[u8], owner: &PublicKey) -> Result<UsageReceipt, ReceiptError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        read_receipt(envelope.open_from(Domain::RECEIPT, owner)?)
    }

    /// The key a receipt claims to be signed with, read before anything is checked, to
    /// find whose it is.
    pub fn claimed_signer(bytes: &[u8]) -> Result<PublicKey, ReceiptError> {
        Ok(SignedEnvelope::decode(bytes)?.signer()?)
    }
}

/// Longest stretch of use, and of effective time, one receipt may state.
const MAX_USE_MINUTES: u32 = (MAX_BOOKING_SECONDS / 60) as u32;

/// Latest a receipt may be issued after the use ended: a week, for the manager to record
/// it. (None may be issued before the use began.)
pub const MAX_ISSUE_DELAY_SECONDS: i64 = 7 * 86_400;

fn read_receipt(payload: &[u8]) -> Result<UsageReceipt, ReceiptError> {
    let raw = proto::UsageReceipt::decode(payload).map_err(malformed)?;
    if !is_valid_booking_id(&raw.receipt_id) {
        return Err(field("receipt_id", "1 to 64 of A-Z a-z 0-9 - _").into());
    }
    if !raw.booking_id.is_empty() {
        booking_id(raw.booking_id.clone())?;
    }
    if raw.user_id.is_empty() {
        return Err(field("user_id", "required").into());
    }
    if raw.start < 0 || raw.end <= raw.start || raw.end - raw.start > MAX_BOOKING_SECONDS {
        return Err(field("end", "must end after it starts, within 31 days").into());
    }
    let minutes = [
        raw.preparation_minutes,
        raw.test_minutes,
        raw.post_processing_minutes,
    ];
    if minutes.iter().map(|m| u64::from(*m)).sum::<u64>() > u64::from(MAX_USE_MINUTES) {
        return Err(field("test_minutes", "effective time of at most 31 days").into());
    }
    if raw.samples > MAX_SAMPLES {
        return Err(field("samples", format!("at most {MAX_SAMPLES}")).into());
    }
    if raw.issued_at < raw.start || raw.issued_at > raw.end + MAX_ISSUE_DELAY_SECONDS {
        return Err(field(
            "issued_at",
            "issued after the use began and within 7 days of its end",
        )
        .into());
    }
    Ok(UsageReceipt {
        receipt_id: raw.receipt_id,
        institution_id: institution("institution_id", &raw.institution_id)?,
        local_id: check_local_id(raw.local_id)?,
        booking_id: raw.booking_id,
        user_id: short("user_id", raw.user_id)?,
        user_name: short("user_name", raw.user_name)?,
        home_institution: institution("home_institution", &raw.home_institution)?,
        tier: tier_from_proto(raw.tier)?,
        start: UnixTime(raw.start),
        end: UnixTime(raw.end),
        preparation_minutes: raw.preparation_minutes,
        test_minutes: raw.test_minutes,
        post_processing_minutes: raw.post_processing_minutes,
        samples: raw.samples,
        fees: fee_from_proto(raw.fees)?,
        issued_at: UnixTime(raw.issued_at),
        report_sha256: match raw.report_sha256.len() {
            0 => None,
            _ => Some(
                <[u8; 32]>::try_from(raw.report_sha256.as_slice())
                    .map_err(|_| field("report_sha256", "32 bytes, or none"))?,
            ),
        },
    })
}

/// SHA-256 of a signed receipt envelope: what a confirmation vouches for.
pub fn receipt_hash(signed_receipt: &[u8]) -> [u8; 32] {
    Sha256::digest(signed_receipt).into()
}

/// What the user's home says of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    /// The use was as stated: the user's rating (1 to 5) and comment.
    Confirmed { rating: u8, comment: String },
    /// It was not: the home's reason, which the province shows beside the figures.
    Disputed { reason: String },
}

impl Verdict {
    /// The rating of a confirmation.
    pub fn rating(&self) -> Option<u8> {
        match self {
            Verdict::Confirmed { rating, .. } => Some(*rating),
            Verdict::Disputed { .. } => None,
        }
    }
}

/// The user's home's countersignature of a receipt: its confirmation and the user's
/// rating, or its dispute. Only a confirmed receipt counts toward figures and money.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptConfirmation {
    pub receipt_hash: [u8; 32],
    pub receipt_id: String,
    pub institution_id: InstitutionId,
    pub user_id: String,
    pub verdict: Verdict,
    pub confirmed_at: UnixTime,
}

impl ReceiptConfirmation {
    /// Signs with the home node's key; returns the encoded envelope.
    pub fn seal(&self, home: &SecretKey) -> Vec<u8> {
        let (rating, comment, dispute) = match &self.verdict {
            Verdict::Confirmed { rating, comment } => (u32::from(*rating), comment.clone(), ""),
            Verdict::Disputed { reason } => (0, String::new(), reason.as_str()),
        };
        let raw = proto::ReceiptConfirmation {
            receipt_hash: self.receipt_hash.to_vec(),
            receipt_id: self.receipt_id.clone(),
            institution_id: self.institution_id.to_string(),
            user_id: self.user_id.clone(),
            rating,
            comment,
            confirmed_at: self.confirmed_at.0,
            dispute: dispute.to_owned(),
        };
        SignedEnvelope::seal(home, Domain::RECEIPT_CONFIRMATION, raw.encode_to_vec()).encode()
    }

    /// The key a confirmation claims to be signed with, read before anything is checked.
    pub fn claimed_signer(bytes: &[u8]) -> Result<PublicKey, ReceiptError> {
        Ok(SignedEnvelope::decode(bytes)?.signer()?)
    }

    /// Reads a confirmation signed by `home`.
    pub fn open(bytes: &[u8], home: &PublicKey) -> Result<ReceiptConfirmation, ReceiptError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = envelope.open_from(Domain::RECEIPT_CONFIRMATION, home)?;
        let raw = proto::ReceiptConfirmation::decode(payload).map_err(malformed)?;
        let receipt_hash = <[u8; 32]>::try_from(raw.receipt_hash.as_slice())
            .map_err(|_| field("receipt_hash", "32 bytes"))?;
        let verdict = if raw.dispute.is_empty() {
            let rating = u8::try_from(raw.rating)
                .ok()
                .filter(|r| (1..=5).contains(r))
                .ok_or_else(|| field("rating", "1 to 5"))?;
            Verdict::Confirmed {
                rating,
                comment: short("comment", raw.comment)?,
            }
        } else {
            if raw.rating != 0 || !raw.comment.is_empty() {
                return Err(field("dispute", "a dispute carries no rating or comment").into());
            }
            Verdict::Disputed {
                reason: short("dispute", raw.dispute)?,
            }
        };
        Ok(ReceiptConfirmation {
            receipt_hash,
            receipt_id: raw.receipt_id,
            institution_id: institution("institution_id", &raw.institution_id)?,
            user_id: raw.user_id,
            verdict,
            confirmed_at: UnixTime(raw.confirmed_at),
        })
    }

    /// Checks that this confirms `receipt`, whose signed envelope is `signed_receipt`.
    pub fn check_confirms(
        &self,
        signed_receipt: &[u8],
        receipt: &UsageReceipt,
    ) -> Result<(), ReceiptError> {
        if self.receipt_hash != receipt_hash(signed_receipt) {
            return Err(ReceiptError::Mismatch("receipt hash"));
        }
        if self.receipt_id != receipt.receipt_id || self.institution_id != receipt.institution_id {
            return Err(ReceiptError::Mismatch("receipt id"));
        }
        if self.user_id != receipt.user_id {
            return Err(ReceiptError::Mismatch("user"));
        }
        Ok(())
    }
}

/// What a member submits to the province, and what the province's log holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptSubmission {
    /// The owner's signed receipt.
    pub receipt: Vec<u8>,
    /// The home's signed confirmation; `None` when the grace period passed without one.
    pub confirmation: Option<Vec<u8>>,
}

impl ReceiptSubmission {
    pub fn encode(&self) -> Vec<u8> {
        proto::ReceiptSubmission {
            receipt: self.receipt.clone(),
            confirmation: self.confirmation.clone().unwrap_or_default(),
        }
        .encode_to_vec()
    }

    pub fn decode(bytes: &[u8]) -> Result<ReceiptSubmission, ReceiptError> {
        if bytes.len() > MAX_SUBMISSION_BYTES {
            return Err(ReceiptError::TooLarge(bytes.len()));
        }
        let raw = proto::ReceiptSubmission::decode(bytes).map_err(malformed)?;
        Ok(ReceiptSubmission {
            receipt: raw.receipt,
            confirmation: (!raw.confirmation.is_empty()).then_some(raw.confirmation),
        })
    }

    /// Opens and cross-checks both parts: the receipt signed by `owner`, the
    /// confirmation (if any) signed by `home` and of this very receipt.
    pub fn open(
        &self,
        owner: &PublicKey,
        home: &PublicKey,
    ) -> Result<(UsageReceipt, Option<ReceiptConfirmation>), ReceiptError> {
        let receipt = UsageReceipt::open(&self.receipt, owner)?;
        let confirmation = match &self.confirmation {
            Some(bytes) => {
                let confirmation = ReceiptConfirmation::open(bytes, home)?;
                confirmation.check_confirms(&self.receipt, &receipt)?;
                Some(confirmation)
            }
            None => None,
        };
        Ok((receipt, confirmation))
    }
}

mod session;
pub use session::{SessionFacts, WalkIn};

#[cfg(test)]
mod tests;
