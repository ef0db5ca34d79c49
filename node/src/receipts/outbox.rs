//! The receipt outbox: every receipt submission this node makes is stored durably first
//! and kept until the province answers with a tree head and an inclusion proof that
//! verify for those exact bytes; only then, in one write, does it leave the outbox and
//! its proof stay. Failed attempts back off exponentially, up to an hour.

use std::time::Duration;

use alliance_protocol::{
    PublicKey, UnixTime,
    transparency::{LogError, TreeHead, verify_inclusion},
};
use serde::{Deserialize, Serialize};

use crate::store::{Batch, Space, Store, StoreError};

/// First wait after a failed attempt; doubled each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(3_600);

/// A submission waiting for its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The encoded `ReceiptSubmission`, hex.
    pub submission: String,
    pub queued_at: UnixTime,
    pub attempts: u32,
    pub next_attempt: UnixTime,
    /// Why the last attempt failed (no answer, or the province's refusal).
    #[serde(default)]
    pub last_error: Option<String>,
}

/// A verified proof that the province logged a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proven {
    pub index: u64,
    pub head: TreeHead,
    /// The signed tree head and the proof, hex: anyone can check them again.
    pub signed_head: String,
    pub proof: String,
    /// The submission proven (hex), kept to submit it again if the province's log is
    /// ever reset below its place (a province restored from a backup). Empty in proofs
    /// kept before it was.
    #[serde(default)]
    pub submission: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("the province's answer does not prove the receipt was logged: {0}")]
    NotProven(LogError),
    #[error("no receipt {0} waiting")]
    Unknown(String),
    #[error("stored outbox entry is malformed: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outbox. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ReceiptOutbox {
    store: Store,
    province: PublicKey,
}

/// A submission due: its outbox key and bytes.
pub type Due = (Vec<u8>, Vec<u8>);

/// The outbox key of a receipt.
pub fn key(owner: &str, receipt_id: &str) -> Vec<u8> {
    format!("{owner}\0{receipt_id}").into_bytes()
}

fn backoff(attempts: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1u32 << attempts.min(20))
        .min(MAX_BACKOFF)
}

/// `wait` and up to a fifth more, at random: members that failed together (the province
/// was down) do not all come back in the same second.
fn jittered(wait: Duration) -> Duration {
    let extra = rand::random_range(0..=wait.as_millis() as u64 / 5);
    wait + Duration::from_millis(extra)
}

/// Refusals no retry can change: the receipt itself is wrong for the log. (Others —
/// `unknown_instrument`, `not_a_member`, `not_the_owner` — may pass once the province's
/// catalogue or roster catches up.)
pub const PERMANENT_REFUSALS: [&str; 10] = [
    "unreadable",
    "forged",
    "invalid",
    "bad_confirmation",
    "not_a_member_during_use",
    "unknown_home",
    "effective_exceeds_use",
    "too_late",
    "overlapping",
    "conflicting",
];

/// Where a receipt refused for good is kept among the dead letters.
fn dead_key(key: &[u8]) -> Vec<u8> {
    [b"receipt/".as_slice(), key].concat()
}

impl ReceiptOutbox {
    /// The outbox in `store`, checking proofs against heads signed by `province`.
    pub fn new(store: Store, province: PublicKey) -> Self {
        ReceiptOutbox { store, province }
    }

    /// Stores a submission (durably) to be sent; a second enqueue of the same key keeps
    /// the first.
    pub async fn enqueue(
        &self,
        key: &[u8],
        submission: &[u8],
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        self.enqueue_in(&mut batch, key, submission, now)?;
        self.store.commit(batch).await
    }

    /// [`ReceiptOutbox::enqueue`] as part of a caller's batch, so that the submission is
    /// queued in the same write as what made it.
    pub fn enqueue_in(
        &self,
        batch: &mut Batch,
        key: &[u8],
        submission: &[u8],
        now: UnixTime,
    ) -> Result<(), StoreError> {
        if self.store.get(Space::ReceiptOutbox, key)?.is_some()
            || self.store.get(Space::ReceiptProofs, key)?.is_some()
        {
            return Ok(());
        }
        batch.put_json(
            Space::ReceiptOutbox,
            key.to_vec(),
            &Pending {
                submission: hex::encode(submission),
                queued_at: now,
                attempts: 0,
                next_attempt: now,
                last_error: None,
            },
        )?;
        Ok(())
    }

    /// Submissions due at `now`, oldest first: (key, submission bytes).
    pub fn due(&self, now: UnixTime) -> Result<Vec<Due>, OutboxError> {
        let mut due = Vec::new();
        for (key, pending) in self
            .store
            .scan_prefix_json::<Pending>(Space::ReceiptOutbox, b"")?
        {
            if pending.next_attempt <= now {
                let bytes = hex::decode(&pending.submission)
                    .map_err(|e| OutboxError::Corrupt(e.to_string()))?;
                due.push((pending.queued_at, key, bytes));
            }
        }
        due.sort_by_key(|(queued_at, _, _)| *queued_at);
        Ok(due.into_iter().map(|(_, k, b)| (k, b)).collect())
    }

    /// Receipts still waiting for a proof.
    pub fn waiting(&self) -> Result<usize, StoreError> {
        self.store.count_prefix(Space::ReceiptOutbox, b"")
    }

    /// Receipts whose inclusion this node verified.
    pub fn proven(&self) -> Result<usize, StoreError> {
        self.store.count_prefix(Space::ReceiptProofs, b"")
    }

    /// The proof held for a receipt, if any.
    pub fn proof(&self, key: &[u8]) -> Result<Option<Proven>, StoreError> {
        self.store.get_json(Space::ReceiptProofs, key)
    }

    /// The province's answer for a submission: kept, and the receipt released, only if
    /// the signed head and inclusion proof verify for the submission's exact bytes.
    pub async fn included(
        &self,
        key: &[u8],
        index: u64,
        signed_head: &[u8],
        proof: &[u8],
    ) -> Result<Proven, OutboxError> {
        let pending: Pending = self
            .store
            .get_json(Space::ReceiptOutbox, key)?
            .ok_or_else(|| OutboxError::Unknown(String::from_utf8_lossy(key).into_owned()))?;
        let submission =
            hex::decode(&pending.submission).map_err(|e| OutboxError::Corrupt(e.to_string()))?;
        let head = TreeHead::open(signed_head, &self.province).map_err(OutboxError::NotProven)?;
        verify_inclusion(&head, &submission, index, proof).map_err(OutboxError::NotProven)?;
        let proven = Proven {
            index,
            head,
            signed_head: hex::encode(signed_head),
            proof: hex::encode(proof),
            submission: pending.submission,
        };
        let mut batch = Batch::new();
        batch.put_json(Space::ReceiptProofs, key.to_vec(), &proven)?;
        batch.delete(Space::ReceiptOutbox, key.to_vec());
        self.store.commit(batch).await?;
        Ok(proven)
    }

    /// The province showed, in a head signed at `shown_at`, a log that contradicts the
    /// one it had proven these submissions in (restored from a backup, say): every
    /// submission proven under a head signed until then goes back into the outbox to
    /// be submitted again. Where it diverged is unknown — other members' resubmissions
    /// may have grown the new log past the old size — so all of them go; the province
    /// gives those it still holds their place back. Heads are signed to the second, so
    /// one signed in the same second as `shown_at` may be of either log: it goes too.
    /// (Proofs from the log as it is now, signed later, stay.) Returns how many went.
    pub async fn resubmit_proven_until(
        &self,
        shown_at: UnixTime,
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        let mut batch = Batch::new();
        let mut count = 0;
        for (key, proven) in self
            .store
            .scan_prefix_json::<Proven>(Space::ReceiptProofs, b"")?
        {
            if proven.head.timestamp > shown_at || proven.submission.is_empty() {
                continue;
            }
            let pending = Pending {
                submission: proven.submission,
                queued_at: now,
                attempts: 0,
                next_attempt: now,
                last_error: Some(format!(
                    "the province showed a log that contradicts the one that held this receipt at place {}: submitted again",
                    proven.index
                )),
            };
            batch.put_json(Space::ReceiptOutbox, key.clone(), &pending)?;
            batch.delete(Space::ReceiptProofs, key);
            count += 1;
        }
        if count > 0 {
            self.store.commit(batch).await?;
        }
        Ok(count)
    }

    /// The province refused a submission for good (one of [`PERMANENT_REFUSALS`]): it
    /// leaves the outbox for the dead letters, with the refusal, in one commit, and is
    /// never sent again; the institution's administrators see it there.
    pub async fn dead(
        &self,
        key: &[u8],
        province: &alliance_protocol::InstitutionId,
        code: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let Some(pending) = self.store.get_json::<Pending>(Space::ReceiptOutbox, key)? else {
            return Ok(());
        };
        let letter = crate::mail::dead_letters::DeadLetter {
            to: province.clone(),
            kind: "receipt submission".into(),
            code: code.to_owned(),
            reason: reason.chars().take(300).collect(),
            at: now,
            message: pending.submission,
        };
        let mut batch = Batch::new();
        batch.delete(Space::ReceiptOutbox, key.to_vec());
        crate::mail::dead_letters::keep(&self.store, &mut batch, dead_key(key), &letter)?;
        self.store.commit(batch).await
    }

    /// A submission still waiting, if it is.
    pub fn pending(&self, key: &[u8]) -> Result<Option<Pending>, StoreError> {
        self.store.get_json(Space::ReceiptOutbox, key)
    }

    /// An attempt failed (no answer, a refusal, a proof that does not verify): kept, and
    /// tried again later, each time waiting twice as long. A refusal may pass (the
    /// province had not yet seen the instrument in the catalogue), so nothing is dropped.
    pub async fn failed(&self, key: &[u8], reason: &str, now: UnixTime) -> Result<(), OutboxError> {
        let Some(mut pending) = self.store.get_json::<Pending>(Space::ReceiptOutbox, key)? else {
            return Ok(());
        };
        let wait = jittered(backoff(pending.attempts));
        pending.attempts = pending.attempts.saturating_add(1);
        pending.last_error = Some(reason.chars().take(300).collect());
        pending.next_attempt =
            UnixTime(now.0 + i64::try_from(wait.as_secs()).unwrap_or(i64::MAX / 2));
        let mut batch = Batch::new();
        batch.put_json(Space::ReceiptOutbox, key.to_vec(), &pending)?;
        self.store.commit(batch).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alliance_protocol::{SecretKey, transparency::MerkleLog};

    use super::*;

    #[tokio::test]
    async fn a_receipt_stays_until_a_proof_of_its_bytes_verifies_and_survives_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let province = SecretKey::generate();
        let now = UnixTime(1_800_000_000);
        let k = key("dlut", "r1");
        {
            let outbox = ReceiptOutbox::new(Store::open(dir.path()).unwrap(), province.public());
            outbox.enqueue(&k, b"submission r1", now).await.unwrap();
            outbox.enqueue(&k, b"something else", now).await.unwrap();
        }
        // After a restart it is still there, with the first bytes.
        let outbox = ReceiptOutbox::new(Store::open(dir.path()).unwrap(), province.public());
        assert_eq!(
            outbox.due(now).unwrap(),
            [(k.clone(), b"submission r1".to_vec())]
        );

        let mut log = MerkleLog::new();
        log.push(b"another receipt");
        let index = log.push(b"submission r1");
        let head = log.head(now).seal(&province);
        // A proof of other bytes, or a head signed by someone else, proves nothing.
        let wrong = log.prove_inclusion(0).unwrap();
        assert!(outbox.included(&k, 0, &head, &wrong).await.is_err());
        let right = log.prove_inclusion(index).unwrap();
        let forged = log.head(now).seal(&SecretKey::generate());
        assert!(outbox.included(&k, index, &forged, &right).await.is_err());
        assert_eq!(outbox.waiting().unwrap(), 1);

        let proven = outbox.included(&k, index, &head, &right).await.unwrap();
        assert_eq!(proven.index, 1);
        assert_eq!(outbox.waiting().unwrap(), 0);
        assert_eq!(outbox.proof(&k).unwrap().unwrap(), proven);
        // Once proven, enqueueing it again does not send it again.
        outbox.enqueue(&k, b"submission r1", now).await.unwrap();
        assert_eq!(outbox.waiting().unwrap(), 0);
    }

    #[tokio::test]
    async fn receipts_proven_in_a_contradicted_log_go_back_into_the_outbox_once() {
        let dir = tempfile::tempdir().unwrap();
        let province = SecretKey::generate();
        let now = UnixTime(1_800_000_000);
        let outbox = ReceiptOutbox::new(Store::open(dir.path()).unwrap(), province.public());
        let mut log = MerkleLog::new();
        let keys: Vec<Vec<u8>> = (0..3).map(|n| key("dlut", &format!("r{n}"))).collect();
        for (n, k) in keys.iter().enumerate() {
            let bytes = format!("submission r{n}").into_bytes();
            outbox.enqueue(k, &bytes, now).await.unwrap();
            log.push(&bytes);
        }
        let head = log.head(now).seal(&province);
        for (n, k) in keys.iter().enumerate() {
            let proof = log.prove_inclusion(n as u64).unwrap();
            outbox.included(k, n as u64, &head, &proof).await.unwrap();
        }
        assert_eq!(
            (outbox.waiting().unwrap(), outbox.proven().unwrap()),
            (0, 3)
        );
        // A head signed before the proofs says nothing of them.
        let earlier = UnixTime(now.0 - 1);
        assert_eq!(outbox.resubmit_proven_until(earlier, now).await.unwrap(), 0);
        // A contradicting head signed later, of whatever size: all three go again, with
        // their exact bytes (the province gives back the places it still holds).
        let shown_at = UnixTime(now.0 + 60);
        assert_eq!(
            outbox.resubmit_proven_until(shown_at, now).await.unwrap(),
            3
        );
        assert_eq!(
            (outbox.waiting().unwrap(), outbox.proven().unwrap()),
            (3, 0)
        );
        let due = outbox.due(now).unwrap();
        let expected: Vec<(Vec<u8>, Vec<u8>)> = keys
            .iter()
            .enumerate()
            .map(|(n, k)| (k.clone(), format!("submission r{n}").into_bytes()))
            .collect();
        assert_eq!(due, expected);
        // Proven again in the log as it is now: seeing the same contradiction again
        // sends nothing twice.
        let mut now_log = MerkleLog::new();
        for n in 0..keys.len() {
            now_log.push(format!("submission r{n}").as_bytes());
        }
        let later = now_log.head(UnixTime(shown_at.0 + 5)).seal(&province);
        for (n, k) in keys.iter().enumerate() {
            let proof = now_log.prove_inclusion(n as u64).unwrap();
            outbox.included(k, n as u64, &later, &proof).await.unwrap();
        }
        assert_eq!(
            outbox.resubmit_proven_until(shown_at, now).await.unwrap(),
            0
        );
    }

    #[tokio::test]
    async fn a_receipt_refused_for_good_becomes_a_dead_letter_and_is_never_sent_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let outbox = ReceiptOutbox::new(store.clone(), SecretKey::generate().public());
        let now = UnixTime(1_800_000_000);
        let k = key("dlut", "r3");
        outbox.enqueue(&k, b"r3", now).await.unwrap();
        let province = "lnsti".parse().unwrap();
        outbox
            .dead(&k, &province, "overlapping", "overlaps r2", now)
            .await
            .unwrap();
        assert_eq!(outbox.waiting().unwrap(), 0);
        assert!(outbox.due(UnixTime(now.0 + 86_400)).unwrap().is_empty());
        let letters = crate::mail::dead_letters::list(&store, 0, 10).unwrap();
        assert_eq!(letters.len(), 1);
        assert_eq!(
            (letters[0].code.as_str(), letters[0].reason.as_str()),
            ("overlapping", "overlaps r2")
        );
        assert_eq!(letters[0].message, hex::encode(b"r3"));
    }

    #[tokio::test]
    async fn failed_attempts_back_off_exponentially_up_to_an_hour() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = ReceiptOutbox::new(
            Store::open(dir.path()).unwrap(),
            SecretKey::generate().public(),
        );
        let now = UnixTime(1_800_000_000);
        let k = key("dlut", "r2");
        outbox.enqueue(&k, b"r2", now).await.unwrap();
        let mut t = now;
        for wait in [5, 10, 20, 40] {
            outbox.failed(&k, "no answer", t).await.unwrap();
            // Never before the wait, and at most a fifth later (jitter).
            assert!(outbox.due(UnixTime(t.0 + wait - 1)).unwrap().is_empty());
            assert_eq!(
                outbox.due(UnixTime(t.0 + wait + wait / 5)).unwrap().len(),
                1
            );
            t = outbox.pending(&k).unwrap().unwrap().next_attempt;
        }
        assert_eq!(backoff(30), MAX_BACKOFF);
        let pending = outbox.pending(&k).unwrap().unwrap();
        assert_eq!(
            (pending.attempts, pending.last_error.as_deref()),
            (4, Some("no answer"))
        );
    }
}
