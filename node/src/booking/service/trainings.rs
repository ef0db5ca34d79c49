//! Training certifications (R20). A manager records one at the owner's node, which checks
//! it on every self-operated request; the owner also tells the user's home (signed mail,
//! in the same commit), so the home offers self-operated use only to users it knows are
//! trained. The home's copy is a courtesy for its pages: the owner's check is the rule.

use alliance_protocol::{InstitutionId, MembershipCertificate, UnixTime, booking::Training};

use super::{BookError, Bookings};
use crate::{
    mail::{Refusal, outbox},
    store::{Batch, Space, StoreError},
};

/// Marks, in the node's meta space, that trainings recorded before homes were told of
/// them have been told.
const PAST_TRAININGS_TOLD: &[u8] = b"trainings_told_to_homes";

fn training_key(local_id: &str, home: &InstitutionId, user_id: &str) -> Vec<u8> {
    format!("{local_id}\0{home}\0{user_id}").into_bytes()
}

fn home_key(user_id: &str, owner: &InstitutionId, local_id: &str) -> Vec<u8> {
    format!("{user_id}\0{owner}\0{local_id}").into_bytes()
}

impl Bookings {
    /// Adds to `batch` what tells the trained user's home: its own copy when the user is
    /// this institution's, else a signed notice in the outbox. `true` if mail was queued.
    fn tell_home(&self, batch: &mut Batch, training: &Training) -> Result<bool, StoreError> {
        let own = &self.inner.own.institution_id;
        if training.home == *own {
            let key = home_key(&training.user_id, own, &training.local_id);
            batch.put_json(Space::HomeTrainings, key, training)?;
            return Ok(false);
        }
        let thread = format!("training:{}:{}", training.local_id, training.user_id);
        let sequence = u64::try_from(training.trained_at.0).unwrap_or_default();
        outbox::enqueue(
            batch,
            outbox::key(&training.home, &thread, sequence),
            training.seal(&self.inner.key),
        );
        Ok(true)
    }

    /// Records that a user was trained on one of this institution's instruments, and tells
    /// the user's home.
    pub async fn record_training(&self, training: &Training) -> Result<(), BookError> {
        if training.valid_until <= training.trained_at {
            return Err(BookError::Invalid(
                "valid_until: must be after the training".into(),
            ));
        }
        let mut batch = Batch::new();
        batch.put_json(
            Space::Trainings,
            training_key(&training.local_id, &training.home, &training.user_id),
            training,
        )?;
        let mailed = self.tell_home(&mut batch, training)?;
        self.inner.store.commit(batch).await?;
        if mailed {
            self.inner.mail.poke();
        }
        Ok(())
    }

    /// Tells homes of the trainings recorded before homes were told of them (once).
    pub async fn tell_homes_of_past_trainings(&self) -> Result<usize, StoreError> {
        if self
            .inner
            .store
            .get(Space::Meta, PAST_TRAININGS_TOLD)?
            .is_some()
        {
            return Ok(0);
        }
        let trainings = self.trainings()?;
        let mut batch = Batch::new();
        for training in &trainings {
            self.tell_home(&mut batch, training)?;
        }
        batch.put(Space::Meta, PAST_TRAININGS_TOLD.to_vec(), Vec::new());
        self.inner.store.commit(batch).await?;
        self.inner.mail.poke();
        Ok(trainings.len())
    }

    /// Every training certification recorded here, by instrument and user.
    pub fn trainings(&self) -> Result<Vec<Training>, StoreError> {
        Ok(self
            .inner
            .store
            .scan_prefix_json::<Training>(Space::Trainings, b"")?
            .into_iter()
            .map(|(_, t)| t)
            .collect())
    }

    /// Whether a user holds a training certification for the instrument valid at `at`
    /// (the owner's check).
    pub fn is_trained(
        &self,
        local_id: &str,
        home: &InstitutionId,
        user_id: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let training: Option<Training> = self
            .inner
            .store
            .get_json(Space::Trainings, &training_key(local_id, home, user_id))?;
        Ok(training.is_some_and(|t| t.trained_at <= at && at <= t.valid_until))
    }

    /// An owner's notice of one of this node's users' training: kept (the later training
    /// wins), answered empty.
    pub(super) async fn home_training(
        &self,
        from: &MembershipCertificate,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let training = Training::open(bytes, &from.node_public_key)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if training.home != self.inner.own.institution_id {
            return Err(Refusal::NotYourUser(format!(
                "a training of a user of {}",
                training.home
            )));
        }
        let store = &self.inner.store;
        // Kept only for people who have an account here: another member cannot fill this
        // node's store with trainings of made-up users.
        let known = store
            .get(Space::Accounts, training.user_id.as_bytes())
            .map_err(|e| Refusal::Internal(e.to_string()))?
            .is_some();
        if !known {
            return Err(Refusal::NotYourUser(format!(
                "{} has no account here",
                training.user_id
            )));
        }
        let key = home_key(&training.user_id, &from.institution_id, &training.local_id);
        let held: Option<Training> = store
            .get_json(Space::HomeTrainings, &key)
            .map_err(|e| Refusal::Internal(e.to_string()))?;
        if held.is_none_or(|h| h.trained_at <= training.trained_at) {
            let mut batch = Batch::new();
            batch
                .put_json(Space::HomeTrainings, key, &training)
                .map_err(|e| Refusal::Internal(e.to_string()))?;
            store
                .commit(batch)
                .await
                .map_err(|e| Refusal::Internal(e.to_string()))?;
        }
        Ok(Vec::new())
    }

    /// Whether this home knows its user `user_id` to be trained on `owner`'s `local_id`
    /// at `at` (what its pages offer; the owner decides).
    pub fn home_knows_trained(
        &self,
        user_id: &str,
        owner: &InstitutionId,
        local_id: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let training: Option<Training> = self
            .inner
            .store
            .get_json(Space::HomeTrainings, &home_key(user_id, owner, local_id))?;
        Ok(training.is_some_and(|t| t.trained_at <= at && at <= t.valid_until))
    }
}
