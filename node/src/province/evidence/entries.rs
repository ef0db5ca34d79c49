//! A log entry checked as a verifier checks it: the owner's receipt signed by a key
//! certified for the owner, and the home's answer by a key certified for the home, about
//! that very receipt.

use alliance_protocol::{
    PublicKey,
    envelope::SignedEnvelope,
    receipt::{ReceiptConfirmation, ReceiptSubmission, UsageReceipt, Verdict, receipt_hash},
};

use super::Inputs;
use crate::{evaluation::metrics::Countersign, province::results::LoggedUse};

fn signer_of(bytes: &[u8]) -> Result<[u8; 32], String> {
    Ok(SignedEnvelope::decode(bytes)
        .map_err(|e| e.to_string())?
        .signer_bytes())
}

/// Reads entry `index` of the log, checking every signature against `inputs`' keys.
pub fn verify_entry(index: u64, bytes: &[u8], inputs: &Inputs) -> Result<LoggedUse, String> {
    let submission = ReceiptSubmission::decode(bytes).map_err(|e| e.to_string())?;
    let owner_key = signer_of(&submission.receipt)?;
    let receipt = UsageReceipt::open(
        &submission.receipt,
        &PublicKey::from_bytes(&owner_key).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("receipt: {e}"))?;
    inputs.certified(&owner_key, &receipt.institution_id)?;
    let Some(confirmation) = submission.confirmation.as_deref() else {
        return Ok(LoggedUse {
            index,
            receipt,
            countersign: Countersign::Missing,
            dispute: None,
        });
    };
    let home_key = signer_of(confirmation)?;
    let answer = ReceiptConfirmation::open(
        confirmation,
        &PublicKey::from_bytes(&home_key).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("confirmation: {e}"))?;
    inputs.certified(&home_key, &receipt.home_institution)?;
    if answer.receipt_hash != receipt_hash(&submission.receipt)
        || answer.receipt_id != receipt.receipt_id
        || answer.institution_id != receipt.institution_id
        || answer.user_id != receipt.user_id
    {
        return Err("the confirmation answers another receipt".into());
    }
    let (countersign, dispute) = match answer.verdict {
        Verdict::Confirmed { rating, .. } => (Countersign::Confirmed { rating }, None),
        Verdict::Disputed { reason } => (Countersign::Disputed, Some(reason)),
    };
    Ok(LoggedUse {
        index,
        receipt,
        countersign,
        dispute,
    })
}
