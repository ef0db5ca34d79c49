//! The province's receipt log (R5, R14): every usage receipt a member submits is checked,
//! appended once to the transparency log, made durable, and answered with a signed tree
//! head and a proof of inclusion the member can verify.
//!
//! Checks, in order: the submission reads; the receipt is signed by the node of the
//! institution it names, which was a member when the use began and is still one or was
//! revoked only after the use ended; that institution owns the instrument; the user's
//! home was a member when the use began (a walk-in cannot name an invented home); the
//! effective time is within the wall time plus the configured allowance; the use ended
//! no longer ago than the configured window; a confirmation, if any, is signed by the
//! user's home institution's node, a member when it confirmed, and confirms these very
//! receipt bytes. A receipt id already in the log answers with its place if the bytes
//! are the same (a replay or a retry) and is refused otherwise: what is logged is never
//! replaced. A new receipt whose time of use overlaps one logged for the same
//! instrument is refused: an instrument is used by one session at a time.
//!
//! Entries are stored by index (`Space::LogEntries`), by receipt (`Space::LogIndex`) and
//! by instrument and time of use (`Space::LogUses`) in one fsynced batch before the tree
//! grows; the tree is rebuilt from the entries at start.

use std::sync::Arc;

use rayon::prelude::*;

use alliance_protocol::{
    InstitutionId, PublicKey, SecretKey, UnixTime,
    receipt::{ReceiptConfirmation, ReceiptError, ReceiptSubmission, UsageReceipt},
    transparency::{MerkleLog, TreeHead, entry_hash},
};

use crate::store::{Batch, Space, Store, StoreError, intervals};

/// Who was a member when: the province's record of the certificates it issued.
pub trait MemberHistory: Send + Sync {
    /// The institution whose node held `key` as a member at `at`, if any.
    fn institution_at(&self, key: &PublicKey, at: UnixTime) -> Option<InstitutionId>;
    /// Whether `institution` was a member at `at`.
    fn was_member(&self, institution: &InstitutionId, at: UnixTime) -> bool;
}

/// The time rules receipts are held to, from the province's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRules {
    /// Effective time a receipt may state beyond its wall time (`[receipts]
    /// effective_allowance`).
    pub effective_allowance_minutes: u32,
    /// Latest a receipt may be logged after its use ended (`[province]
    /// late_receipt_window`): evidence cannot arrive long after the figures it changes.
    pub late_window_seconds: i64,
}

/// Which institution owns which instrument: the province's copy of the catalogue.
pub trait InstrumentOwners: Send + Sync {
    fn owns(&self, institution: &InstitutionId, local_id: &str) -> bool;
}

/// Why a submission was not logged. The codes are stable; members show the message.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("unreadable submission: {0}")]
    Unreadable(ReceiptError),
    #[error("the receipt is not signed by a member's node")]
    NotAMember,
    #[error("{signer} signed a receipt of {named}")]
    NotTheOwner {
        signer: InstitutionId,
        named: InstitutionId,
    },
    #[error("{institution} was not a member for the whole use")]
    NotAMemberDuringUse { institution: InstitutionId },
    #[error("{institution} has no instrument {local_id}")]
    UnknownInstrument {
        institution: InstitutionId,
        local_id: String,
    },
    #[error("the confirmation is not signed by {home}, a member when it confirmed")]
    BadConfirmation { home: InstitutionId },
    #[error("the receipt or its confirmation does not verify: {0}")]
    Forged(ReceiptError),
    #[error("the receipt is not valid: {0}")]
    Invalid(ReceiptError),
    #[error("the user's home {home} was not a member when the use began")]
    UnknownHome { home: InstitutionId },
    #[error(
        "the receipt states more effective time than the session lasted, beyond the {allowance} minutes allowed"
    )]
    EffectiveExceedsUse { allowance: u32 },
    #[error("the use ended more than {days} days ago: too late to be logged")]
    TooLate { days: i64 },
    #[error("the use overlaps receipt {other} of the same instrument, already logged")]
    Overlapping { other: String },
    #[error("receipt {receipt_id} of {institution} is already logged with other contents")]
    Conflicting {
        institution: InstitutionId,
        receipt_id: String,
    },
}

impl Refusal {
    /// A stable code for the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unreadable(_) => "unreadable",
            Refusal::NotAMember => "not_a_member",
            Refusal::NotTheOwner { .. } => "not_the_owner",
            Refusal::NotAMemberDuringUse { .. } => "not_a_member_during_use",
            Refusal::UnknownInstrument { .. } => "unknown_instrument",
            Refusal::BadConfirmation { .. } => "bad_confirmation",
            Refusal::Forged(_) => "forged",
            Refusal::Invalid(_) => "invalid",
            Refusal::UnknownHome { .. } => "unknown_home",
            Refusal::EffectiveExceedsUse { .. } => "effective_exceeds_use",
            Refusal::TooLate { .. } => "too_late",
            Refusal::Overlapping { .. } => "overlapping",
            Refusal::Conflicting { .. } => "conflicting",
        }
    }
}

/// A logged submission: where it is, and the proof of it against a signed tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Included {
    pub index: u64,
    /// The tree head the proof is against, signed by the province.
    pub head: Vec<u8>,
    pub proof: Vec<u8>,
    /// Whether it was already in the log (a replay or a retry).
    pub already: bool,
}

struct Inner {
    store: Store,
    key: SecretKey,
    rules: LogRules,
    tree: tokio::sync::Mutex<MerkleLog>,
}

/// The receipt log. Cheap to clone.
#[derive(Clone)]
pub struct ReceiptLog {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ReceiptLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptLog").finish_non_exhaustive()
    }
}

fn index_key(owner: &InstitutionId, receipt_id: &str) -> Vec<u8> {
    format!("{owner}\0{receipt_id}").into_bytes()
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Engine(format!("receipt log holds a malformed {what}"))
}

impl ReceiptLog {
    /// Opens the log in `store`, rebuilding the tree from its entries; tree heads are
    /// signed with `key` (the province's); new receipts are held to `rules`.
    pub fn open(store: Store, key: SecretKey, rules: LogRules) -> Result<ReceiptLog, StoreError> {
        let mut tree = MerkleLog::new();
        // A log written before uses were indexed by time gets its index once.
        let index_uses = store.get(Space::Meta, USES_INDEXED)?.is_none();
        let mut batch = Batch::new();
        for (index, entry) in store.scan_prefix(Space::LogEntries, b"")? {
            let index = <[u8; 8]>::try_from(index.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| corrupt("index"))?;
            if index != tree.len() {
                return Err(corrupt("sequence of entries"));
            }
            if index_uses && let Some(receipt) = logged_receipt(&entry) {
                intervals::put(
                    &mut batch,
                    Space::LogUses,
                    &receipt.instrument_id(),
                    &receipt.receipt_id,
                    (receipt.start.0, receipt.end.0),
                );
            }
            tree.push(&entry);
        }
        if index_uses {
            batch.put(Space::Meta, USES_INDEXED.to_vec(), Vec::new());
            store.commit_blocking(batch)?;
        }
        Ok(ReceiptLog {
            inner: Arc::new(Inner {
                store,
                key,
                rules,
                tree: tokio::sync::Mutex::new(tree),
            }),
        })
    }

    /// The log's current tree head, signed.
    pub async fn head(&self) -> Vec<u8> {
        let tree = self.inner.tree.lock().await;
        tree.head(UnixTime::now()).seal(&self.inner.key)
    }

    /// The entry at `index`.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner
            .store
            .get(Space::LogEntries, &index.to_be_bytes())
    }

    /// The proof that the log now extends its first `old_size` entries, with the signed
    /// tree head it is against; `None` if the log has fewer.
    pub async fn consistency(&self, old_size: u64) -> Option<(Vec<u8>, Vec<u8>)> {
        let tree = self.inner.tree.lock().await;
        let proof = tree.prove_consistency(old_size)?;
        Some((tree.head(UnixTime::now()).seal(&self.inner.key), proof))
    }

    /// The proof that the log of `second` entries extends that of `first`; `None`
    /// unless `first <= second <= len`.
    pub async fn consistency_between(&self, first: u64, second: u64) -> Option<Vec<u8>> {
        let tree = self.inner.tree.lock().await;
        tree.prove_consistency_between(first, second)
    }

    /// Checks and logs submissions, in order, as of `now`; one answer each. The accepted
    /// ones are durable (one fsync for all of them) before any answer is given.
    pub async fn submit(
        &self,
        submissions: &[Vec<u8>],
        members: &dyn MemberHistory,
        owners: &dyn InstrumentOwners,
        now: UnixTime,
    ) -> Result<Vec<Result<Included, Refusal>>, StoreError> {
        // Signatures and membership are checked before the log is locked, on every core
        // (rayon's pool): verification is most of the work of ingesting a batch.
        let rules = self.inner.rules;
        let checked: Vec<Result<Checked, Refusal>> = submissions
            .par_iter()
            .map(|bytes| check(bytes, members, owners, &rules, now))
            .collect();
        let mut tree = self.inner.tree.lock().await;
        let store = &self.inner.store;
        let mut batch = Batch::new();
        let mut placed: Vec<Result<(u64, bool), Refusal>> = Vec::with_capacity(checked.len());
        // Receipts of this call, by index key, for duplicates within one call.
        let mut this_call: std::collections::HashMap<Vec<u8>, (u64, [u8; 32])> =
            std::collections::HashMap::new();
        // Times of use of this call, per instrument, for overlaps within one call.
        let mut uses_of_call: std::collections::HashMap<String, Vec<(String, i64, i64)>> =
            std::collections::HashMap::new();
        let mut appended = Vec::new();
        for (bytes, checked) in submissions.iter().zip(checked) {
            let Checked {
                owner,
                receipt_id,
                instrument,
                span,
                late,
            } = match checked {
                Ok(checked) => checked,
                Err(refusal) => {
                    placed.push(Err(refusal));
                    continue;
                }
            };
            let key = index_key(&owner, &receipt_id);
            let hash = entry_hash(bytes);
            let known = match this_call.get(&key) {
                Some(found) => Some(*found),
                None => store
                    .get(Space::LogIndex, &key)?
                    .map(|value| read_index(&value))
                    .transpose()?,
            };
            match known {
                Some((index, logged)) if logged == hash => placed.push(Ok((index, true))),
                Some(_) => placed.push(Err(Refusal::Conflicting {
                    institution: owner,
                    receipt_id,
                })),
                None if late => placed.push(Err(Refusal::TooLate {
                    days: rules.late_window_seconds / 86_400,
                })),
                None => {
                    let in_call = uses_of_call.get(&instrument).and_then(|uses| {
                        uses.iter()
                            .find(|(_, start, end)| *start < span.1 && span.0 < *end)
                            .map(|(id, _, _)| id.clone())
                    });
                    let other = match in_call {
                        Some(other) => Some(other),
                        None => intervals::overlapping(store, Space::LogUses, &instrument, span)?
                            .map(|u| u.receipt_id),
                    };
                    if let Some(other) = other {
                        placed.push(Err(Refusal::Overlapping { other }));
                        continue;
                    }
                    intervals::put(&mut batch, Space::LogUses, &instrument, &receipt_id, span);
                    uses_of_call.entry(instrument).or_default().push((
                        receipt_id.clone(),
                        span.0,
                        span.1,
                    ));
                    let index = tree.len() + appended.len() as u64;
                    batch.put(
                        Space::LogEntries,
                        index.to_be_bytes().to_vec(),
                        bytes.clone(),
                    );
                    let mut value = index.to_be_bytes().to_vec();
                    value.extend_from_slice(&hash);
                    batch.put(Space::LogIndex, key.clone(), value);
                    this_call.insert(key, (index, hash));
                    appended.push(hash);
                    placed.push(Ok((index, false)));
                }
            }
        }
        store.commit(batch).await?;
        for hash in appended {
            tree.push_hash(hash);
        }
        let head = tree.head(UnixTime::now()).seal(&self.inner.key);
        Ok(placed
            .into_iter()
            .map(|placed| {
                let (index, already) = placed?;
                Ok(Included {
                    index,
                    head: head.clone(),
                    proof: tree.prove_inclusion(index).unwrap_or_default(),
                    already,
                })
            })
            .collect())
    }

    /// Entries in the log.
    pub async fn len(&self) -> u64 {
        self.inner.tree.lock().await.len()
    }

    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// The province's public key, against which members check tree heads.
    pub fn public_key(&self) -> PublicKey {
        self.inner.key.public()
    }

    /// The current tree head, unsigned (for the province's own pages).
    pub async fn tree_head(&self) -> TreeHead {
        self.inner.tree.lock().await.head(UnixTime::now())
    }
}

fn read_index(value: &[u8]) -> Result<(u64, [u8; 32]), StoreError> {
    let index = value
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| corrupt("receipt index"))?;
    let hash = value
        .get(8..)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| corrupt("receipt hash"))?;
    Ok((index, hash))
}

/// Meta key set once the log's uses are indexed by time.
const USES_INDEXED: &[u8] = b"log_uses_indexed";

/// The receipt of a stored entry (checked when it was logged).
fn logged_receipt(entry: &[u8]) -> Option<UsageReceipt> {
    let submission = ReceiptSubmission::decode(entry).ok()?;
    let signer = UsageReceipt::claimed_signer(&submission.receipt).ok()?;
    UsageReceipt::open(&submission.receipt, &signer).ok()
}

/// A submission that passed every check but those against the log itself.
struct Checked {
    owner: InstitutionId,
    receipt_id: String,
    instrument: String,
    /// The time of use, `[start, end)`.
    span: (i64, i64),
    /// Past [`LogRules::late_window_seconds`] after its use: refused unless the log
    /// already holds it (a replay, say after a restore, still gets its place back).
    late: bool,
}

/// Everything but duplicates and overlaps.
fn check(
    bytes: &[u8],
    members: &dyn MemberHistory,
    owners: &dyn InstrumentOwners,
    rules: &LogRules,
    now: UnixTime,
) -> Result<Checked, Refusal> {
    let submission = ReceiptSubmission::decode(bytes).map_err(Refusal::Unreadable)?;
    let signer = UsageReceipt::claimed_signer(&submission.receipt).map_err(Refusal::Unreadable)?;
    let receipt = UsageReceipt::open(&submission.receipt, &signer).map_err(|e| match e {
        ReceiptError::Invalid(_) => Refusal::Invalid(e),
        e => Refusal::Forged(e),
    })?;
    let Some(signer_institution) = members.institution_at(&signer, receipt.start) else {
        return Err(Refusal::NotAMember);
    };
    if signer_institution != receipt.institution_id {
        return Err(Refusal::NotTheOwner {
            signer: signer_institution,
            named: receipt.institution_id,
        });
    }
    // A member for the whole use: at its end too (a revocation during the use counts).
    if members.institution_at(&signer, receipt.end).as_ref() != Some(&receipt.institution_id) {
        return Err(Refusal::NotAMemberDuringUse {
            institution: receipt.institution_id,
        });
    }
    if !owners.owns(&receipt.institution_id, &receipt.local_id) {
        return Err(Refusal::UnknownInstrument {
            institution: receipt.institution_id,
            local_id: receipt.local_id,
        });
    }
    if !members.was_member(&receipt.home_institution, receipt.start) {
        return Err(Refusal::UnknownHome {
            home: receipt.home_institution,
        });
    }
    if receipt.exceeds_wall_time(rules.effective_allowance_minutes) {
        return Err(Refusal::EffectiveExceedsUse {
            allowance: rules.effective_allowance_minutes,
        });
    }
    if let Some(confirmation) = &submission.confirmation {
        let home_key =
            ReceiptConfirmation::claimed_signer(confirmation).map_err(Refusal::Unreadable)?;
        let confirmed =
            ReceiptConfirmation::open(confirmation, &home_key).map_err(Refusal::Forged)?;
        let home = &receipt.home_institution;
        if members
            .institution_at(&home_key, confirmed.confirmed_at)
            .as_ref()
            != Some(home)
        {
            return Err(Refusal::BadConfirmation { home: home.clone() });
        }
        confirmed
            .check_confirms(&submission.receipt, &receipt)
            .map_err(Refusal::Forged)?;
    }
    Ok(Checked {
        instrument: receipt.instrument_id(),
        span: (receipt.start.0, receipt.end.0),
        late: now.0 > receipt.end.0.saturating_add(rules.late_window_seconds),
        owner: receipt.institution_id,
        receipt_id: receipt.receipt_id,
    })
}

#[cfg(test)]
mod tests;
