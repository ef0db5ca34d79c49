//! Receipts of this node's users, as their home keeps them: received from the owner
//! (verified against its node key), shown to the user, confirmed and rated. The signed
//! confirmation goes back to the owner through the booking outbox, written in the same
//! commit as the user's answer, so it survives a restart and is delivered once the owner
//! is reachable.

use alliance_protocol::{
    InstitutionId, PublicKey, SecretKey, UnixTime,
    receipt::{ReceiptConfirmation, ReceiptError, UsageReceipt, Verdict, receipt_hash},
};
use serde::{Deserialize, Serialize};

pub use super::received_by_user::ReceivedList;
use crate::{
    mail::outbox as messages,
    store::{Batch, Space, Store, StoreError},
};

/// Longest comment with a rating (the confirmation's own limit).
pub const MAX_COMMENT_BYTES: usize = 256;

/// The user's answer to a receipt: a rating (1–5) and comment, or a dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// 0 for a dispute.
    pub rating: u8,
    pub comment: String,
    pub confirmed_at: UnixTime,
    /// The reason the user disputes the receipt (then it counts for nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<String>,
}

/// A receipt as the user's home keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub receipt: UsageReceipt,
    /// The owner's signed receipt, hex.
    pub signed: String,
    pub received_at: UnixTime,
    /// Set once the user confirmed and rated it.
    pub answer: Option<Answer>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceivedError {
    #[error("the receipt does not verify: {0}")]
    Invalid(ReceiptError),
    #[error("the receipt is for a user of {0}, not of this node")]
    NotOurUser(InstitutionId),
    #[error("the receipt's user id names no user")]
    NoSuchUser,
    #[error("no receipt {0} for this user")]
    Unknown(String),
    #[error("receipt {0} is already confirmed")]
    AlreadyConfirmed(String),
    #[error("rating: 1 to 5 stars")]
    Rating,
    #[error("reason: say why, in at most {MAX_COMMENT_BYTES} bytes")]
    Reason,
    #[error("comment: at most {MAX_COMMENT_BYTES} bytes")]
    Comment,
    #[error("stored receipt is malformed: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn key(user_id: &str, owner: &InstitutionId, receipt_id: &str) -> Vec<u8> {
    format!("{user_id}\0{owner}\0{receipt_id}").into_bytes()
}

/// The home's receipts. Cheap to clone (clones share the lock).
#[derive(Debug, Clone)]
pub struct ReceivedReceipts {
    store: Store,
    key: SecretKey,
    own: InstitutionId,
    /// Held from reading a receipt's answer to committing the new one: two answers to
    /// one receipt never both pass the check.
    answering: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Where a user hears of a receipt waiting for them (none in tests that do not ask),
    /// while it can still be confirmed: this long after it was issued.
    notices: Option<(crate::notify::Notices, std::time::Duration)>,
}

impl ReceivedReceipts {
    pub fn new(store: Store, key: SecretKey, own: InstitutionId) -> Self {
        ReceivedReceipts {
            store,
            key,
            own,
            answering: std::sync::Arc::default(),
            notices: None,
        }
    }

    /// [`Self::new`], filing once the receipts kept before the users' index existed.
    pub fn open(store: Store, key: SecretKey, own: InstitutionId) -> Result<Self, StoreError> {
        super::received_by_user::index_once(&store)?;
        Ok(Self::new(store, key, own))
    }

    /// How many receipts `user_id`'s `list` holds of uses starting within `span`, and
    /// `limit` of them, latest use first, after skipping `offset` (from the index, not
    /// every receipt).
    pub fn page_of(
        &self,
        user_id: &str,
        list: (ReceivedList, crate::store::time_index::Span),
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<Received>), StoreError> {
        super::received_by_user::page(&self.store, user_id, list, offset, limit)
    }

    /// Tells each user of a receipt waiting for them through `notices`, if it arrives
    /// within `grace` of being issued (after, it can no longer be confirmed: a receipt of
    /// long ago, as the demo's history, is kept without a word).
    pub fn with_notices(
        mut self,
        notices: crate::notify::Notices,
        grace: std::time::Duration,
    ) -> Self {
        self.notices = Some((notices, grace));
        self
    }

    /// Wakes the notices' delivery after a batch from [`Self::receive_in`] is committed.
    pub fn wake_notices(&self) {
        if let Some((notices, _)) = &self.notices {
            notices.wake();
        }
    }

    /// The lock answers are given under (see [`Self::answer_in`]).
    pub(crate) async fn answering(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.answering.lock().await
    }

    /// This node's institution.
    pub(crate) fn own(&self) -> &InstitutionId {
        &self.own
    }

    /// Whether this node is the home of the receipt's user.
    pub fn is_home_of(&self, receipt: &UsageReceipt) -> bool {
        receipt.home_institution == self.own
    }

    /// A receipt signed by `owner_key` (the node key of the owner it names) for one of
    /// this node's users: verified, then kept. Receiving it again changes nothing.
    pub async fn receive(
        &self,
        signed: &[u8],
        owner_key: &PublicKey,
        now: UnixTime,
    ) -> Result<UsageReceipt, ReceivedError> {
        let receipt = UsageReceipt::open(signed, owner_key).map_err(ReceivedError::Invalid)?;
        let mut batch = Batch::new();
        self.receive_in(&mut batch, &receipt, signed, now)?;
        self.store.commit(batch).await?;
        self.wake_notices();
        Ok(receipt)
    }

    /// Keeps a receipt (already verified, or issued by this very node) as part of a
    /// caller's batch.
    pub fn receive_in(
        &self,
        batch: &mut Batch,
        receipt: &UsageReceipt,
        signed: &[u8],
        now: UnixTime,
    ) -> Result<(), ReceivedError> {
        if receipt.home_institution != self.own {
            return Err(ReceivedError::NotOurUser(receipt.home_institution.clone()));
        }
        // The user's id is a key's part, ended by a 0 byte: one holding it names nobody.
        if receipt.user_id.contains('\0') {
            return Err(ReceivedError::NoSuchUser);
        }
        let k = key(
            &receipt.user_id,
            &receipt.institution_id,
            &receipt.receipt_id,
        );
        if self.store.get(Space::ReceivedReceipts, &k)?.is_some() {
            return Ok(());
        }
        let received = Received {
            receipt: receipt.clone(),
            signed: hex::encode(signed),
            received_at: now,
            answer: None,
        };
        super::received_by_user::file(batch, &k, &received);
        batch.put_json(Space::ReceivedReceipts, k, &received)?;
        let answerable_until = |grace: &std::time::Duration| {
            receipt
                .issued_at
                .0
                .saturating_add(i64::try_from(grace.as_secs()).unwrap_or(i64::MAX))
        };
        if let Some((notices, grace)) = &self.notices
            && now.0 < answerable_until(grace)
        {
            let notice = crate::notify::Notice::new(
                format!("receipt/{}/{}", receipt.institution_id, receipt.receipt_id),
                crate::notify::NoticeKind::ReceiptToConfirm,
                crate::notify::Recipients::User(receipt.user_id.clone()),
                crate::notify::Facts {
                    instrument_id: receipt.instrument_id(),
                    start: Some(receipt.start),
                    end: Some(receipt.end),
                    ..Default::default()
                },
            );
            notices.put(batch, &notice)?;
        }
        Ok(())
    }

    /// A user's receipts, newest use first.
    pub fn of_user(&self, user_id: &str) -> Result<Vec<Received>, StoreError> {
        let mut all: Vec<Received> = self
            .store
            .scan_prefix_json::<Received>(
                Space::ReceivedReceipts,
                format!("{user_id}\0").as_bytes(),
            )?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.receipt.start));
        Ok(all)
    }

    /// The user confirms a receipt and rates the service, or disputes it. Returns the
    /// signed answer; unless the owner is this node, it is queued to the owner in the
    /// same commit. Either answer is final.
    pub async fn confirm(
        &self,
        user_id: &str,
        owner: &InstitutionId,
        receipt_id: &str,
        verdict: Verdict,
        now: UnixTime,
    ) -> Result<Vec<u8>, ReceivedError> {
        let _answering = self.answering().await;
        let mut batch = Batch::new();
        let confirmation = self.answer_in(&mut batch, user_id, owner, receipt_id, verdict, now)?;
        self.store.commit(batch).await?;
        Ok(confirmation)
    }

    /// [`Self::confirm`], written into `batch` for the caller to commit while it holds
    /// [`Self::answering`] (with whatever else must land in the same commit).
    pub(crate) fn answer_in(
        &self,
        batch: &mut Batch,
        user_id: &str,
        owner: &InstitutionId,
        receipt_id: &str,
        verdict: Verdict,
        now: UnixTime,
    ) -> Result<Vec<u8>, ReceivedError> {
        let verdict = match verdict {
            Verdict::Confirmed { rating, comment } => {
                if !(1..=5).contains(&rating) {
                    return Err(ReceivedError::Rating);
                }
                let comment = comment.trim();
                if comment.len() > MAX_COMMENT_BYTES {
                    return Err(ReceivedError::Comment);
                }
                Verdict::Confirmed {
                    rating,
                    comment: comment.to_owned(),
                }
            }
            Verdict::Disputed { reason } => {
                let reason = reason.trim();
                if reason.is_empty() || reason.len() > MAX_COMMENT_BYTES {
                    return Err(ReceivedError::Reason);
                }
                Verdict::Disputed {
                    reason: reason.to_owned(),
                }
            }
        };
        let k = key(user_id, owner, receipt_id);
        let mut received: Received = self
            .store
            .get_json(Space::ReceivedReceipts, &k)?
            .ok_or_else(|| ReceivedError::Unknown(receipt_id.to_owned()))?;
        if received.answer.is_some() {
            return Err(ReceivedError::AlreadyConfirmed(receipt_id.to_owned()));
        }
        let signed =
            hex::decode(&received.signed).map_err(|e| ReceivedError::Corrupt(e.to_string()))?;
        let confirmation = ReceiptConfirmation {
            receipt_hash: receipt_hash(&signed),
            receipt_id: receipt_id.to_owned(),
            institution_id: owner.clone(),
            user_id: user_id.to_owned(),
            verdict: verdict.clone(),
            confirmed_at: now,
        }
        .seal(&self.key);
        received.answer = Some(match verdict {
            Verdict::Confirmed { rating, comment } => Answer {
                rating,
                comment,
                confirmed_at: now,
                dispute: None,
            },
            Verdict::Disputed { reason } => Answer {
                rating: 0,
                comment: String::new(),
                confirmed_at: now,
                dispute: Some(reason),
            },
        });
        super::received_by_user::file(batch, &k, &received);
        batch.put_json(Space::ReceivedReceipts, k, &received)?;
        if owner != &self.own {
            messages::enqueue(
                batch,
                messages::key(owner, &format!("receipt:{receipt_id}"), 1),
                confirmation.clone(),
            );
        }
        Ok(confirmation)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alliance_protocol::FeeComponents;

    use super::*;

    fn receipt(home: &str) -> UsageReceipt {
        UsageReceipt {
            user_id: "wang".into(),
            home_institution: home.parse().unwrap(),
            fees: FeeComponents {
                materials_fen: 1_000,
                operating_fen: 20_000,
                labour_fen: 5_000,
            },
            ..alliance_protocol::fixtures::receipt()
        }
    }

    fn rate(rating: u8, comment: &str) -> Verdict {
        Verdict::Confirmed {
            rating,
            comment: comment.into(),
        }
    }

    #[tokio::test]
    async fn each_users_receipts_page_latest_first_and_move_to_answered() {
        let dir = tempfile::tempdir().unwrap();
        let owner = SecretKey::generate();
        let dlut: InstitutionId = "dlut".parse().unwrap();
        let now = UnixTime(1_796_200_000);
        let ids = |page: (usize, Vec<Received>)| -> (usize, Vec<String>) {
            let ids = page.1.into_iter().map(|r| r.receipt.receipt_id).collect();
            (page.0, ids)
        };
        {
            let received = ReceivedReceipts::open(
                Store::open(dir.path()).unwrap(),
                SecretKey::generate(),
                "neu".parse().unwrap(),
            )
            .unwrap();
            for (id, user, day) in [
                ("r-1", "wang", 1),
                ("r-2", "wang", 2),
                ("r-3", "wang", 3),
                ("x-1", "li", 2),
            ] {
                let mut r = receipt("neu");
                r.receipt_id = id.into();
                r.user_id = user.into();
                // Used hours before it was issued, a later one each day number.
                r.start = UnixTime(r.issued_at.0 - (10 - day) * 3_600);
                r.end = UnixTime(r.start.0 + 1_800);
                received
                    .receive(&r.seal(&owner), &owner.public(), now)
                    .await
                    .unwrap();
            }
            // A user id holding the keys' separator names nobody: refused, nothing kept.
            let mut odd = receipt("neu");
            odd.user_id = "wang\0li".into();
            assert!(matches!(
                received
                    .receive(&odd.seal(&owner), &owner.public(), now)
                    .await,
                Err(ReceivedError::NoSuchUser)
            ));
            received
                .confirm("wang", &dlut, "r-2", rate(5, ""), now)
                .await
                .unwrap();
            let page = |list, offset, limit| {
                ids(received
                    .page_of("wang", (list, (None, None)), offset, limit)
                    .unwrap())
            };
            assert_eq!(
                page(ReceivedList::All, 0, 10),
                (3, vec!["r-3".into(), "r-2".into(), "r-1".into()])
            );
            assert_eq!(
                page(ReceivedList::Waiting, 0, 10),
                (2, vec!["r-3".into(), "r-1".into()])
            );
            assert_eq!(page(ReceivedList::Answered, 0, 10), (1, vec!["r-2".into()]));
            assert_eq!(page(ReceivedList::Waiting, 1, 10), (2, vec!["r-1".into()]));
            assert_eq!(page(ReceivedList::Waiting, 0, 0).0, 2, "a count alone");
            // Of uses starting within a span.
            let r3 = received
                .page_of("wang", (ReceivedList::All, (None, None)), 0, 1)
                .unwrap();
            let r3_start = r3.1[0].receipt.start;
            let from_r3 = (Some(r3_start), None);
            let (total, found) = received
                .page_of("wang", (ReceivedList::Waiting, from_r3), 0, 10)
                .unwrap();
            assert_eq!((total, found[0].receipt.receipt_id.as_str()), (1, "r-3"));
            assert_eq!(
                ids(received
                    .page_of("li", (ReceivedList::All, (None, None)), 0, 10)
                    .unwrap())
                .0,
                1
            );
        }
        // Receipts kept before the index existed are filed when the node starts.
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::new();
        for key in store.keys_with_prefix(Space::ReceivedByUser, b"").unwrap() {
            batch.delete(Space::ReceivedByUser, key);
        }
        batch.delete(Space::Meta, b"received_by_user_indexed".to_vec());
        store.commit(batch).await.unwrap();
        let received =
            ReceivedReceipts::open(store, SecretKey::generate(), "neu".parse().unwrap()).unwrap();
        let waiting = received
            .page_of("wang", (ReceivedList::Waiting, (None, None)), 0, 10)
            .unwrap();
        assert_eq!(ids(waiting), (2, vec!["r-3".into(), "r-1".into()]));
    }

    #[tokio::test]
    async fn a_user_disputes_a_receipt_with_a_reason_and_the_dispute_is_final() {
        let dir = tempfile::tempdir().unwrap();
        let (owner, home) = (SecretKey::generate(), SecretKey::generate());
        let dlut: InstitutionId = "dlut".parse().unwrap();
        let now = UnixTime(1_796_200_000);
        let received = ReceivedReceipts::new(
            Store::open(dir.path()).unwrap(),
            home.clone(),
            "neu".parse().unwrap(),
        );
        let signed = receipt("neu").seal(&owner);
        received
            .receive(&signed, &owner.public(), now)
            .await
            .unwrap();
        let blank = Verdict::Disputed {
            reason: "  ".into(),
        };
        assert!(matches!(
            received.confirm("wang", &dlut, "r-1", blank, now).await,
            Err(ReceivedError::Reason)
        ));
        let dispute = Verdict::Disputed {
            reason: "当天未使用该仪器".into(),
        };
        let sealed = received
            .confirm("wang", &dlut, "r-1", dispute.clone(), now)
            .await
            .unwrap();
        let read = ReceiptConfirmation::open(&sealed, &home.public()).unwrap();
        assert_eq!(read.verdict, dispute);
        let kept = received.of_user("wang").unwrap().remove(0).answer.unwrap();
        assert_eq!(kept.dispute.as_deref(), Some("当天未使用该仪器"));
        // Disputed is answered: it cannot be confirmed (and rated) afterwards.
        assert!(matches!(
            received
                .confirm("wang", &dlut, "r-1", rate(5, ""), now)
                .await,
            Err(ReceivedError::AlreadyConfirmed(_))
        ));
    }

    #[tokio::test]
    async fn a_users_confirmation_is_of_the_owners_bytes_and_waits_in_the_outbox_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let owner = SecretKey::generate();
        let home = SecretKey::generate();
        let dlut: InstitutionId = "dlut".parse().unwrap();
        let now = UnixTime(1_796_200_000);
        let signed = receipt("neu").seal(&owner);
        {
            let received = ReceivedReceipts::new(
                Store::open(dir.path()).unwrap(),
                home.clone(),
                "neu".parse().unwrap(),
            );
            // Signed by someone else than the owner: refused, nothing kept.
            let forged = receipt("neu").seal(&SecretKey::generate());
            assert!(matches!(
                received.receive(&forged, &owner.public(), now).await,
                Err(ReceivedError::Invalid(_))
            ));
            // For another home's user: refused.
            let other = receipt("imr").seal(&owner);
            assert!(matches!(
                received.receive(&other, &owner.public(), now).await,
                Err(ReceivedError::NotOurUser(_))
            ));
            received
                .receive(&signed, &owner.public(), now)
                .await
                .unwrap();
            assert!(matches!(
                received
                    .confirm("wang", &dlut, "r-1", rate(6, ""), now)
                    .await,
                Err(ReceivedError::Rating)
            ));
            assert!(matches!(
                received
                    .confirm("wang", &dlut, "r-1", rate(4, &"长".repeat(100)), now)
                    .await,
                Err(ReceivedError::Comment)
            ));
            assert!(matches!(
                received.confirm("li", &dlut, "r-1", rate(4, ""), now).await,
                Err(ReceivedError::Unknown(_))
            ));
        }
        let store = Store::open(dir.path()).unwrap();
        let received = ReceivedReceipts::new(store.clone(), home.clone(), "neu".parse().unwrap());
        assert_eq!(received.of_user("wang").unwrap().len(), 1);
        let confirmation = received
            .confirm("wang", &dlut, "r-1", rate(4, " 很好 "), now)
            .await
            .unwrap();
        // The owner can check it confirms its very bytes.
        let read = ReceiptConfirmation::open(&confirmation, &home.public()).unwrap();
        read.check_confirms(&signed, &receipt("neu")).unwrap();
        assert_eq!(read.verdict, rate(4, "很好"));
        assert!(matches!(
            received
                .confirm("wang", &dlut, "r-1", rate(5, ""), now)
                .await,
            Err(ReceivedError::AlreadyConfirmed(_))
        ));
        // Queued for the owner.
        let queued = messages::pending(&store).unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].to, dlut);
        assert_eq!(queued[0].message, confirmation);
    }
}
