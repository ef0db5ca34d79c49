//! This institution's own entries: records checked, signed and gossiped, their
//! availability digests, deletions, and (at the province) reviews of members' records.

use super::*;
use crate::catalogue::digest::DigestDays;
use crate::store::Space;

impl Catalogue {
    /// Checks a record of this institution before it is signed.
    pub fn check_record(&self, record: &InstrumentRecord) -> Result<(), CatalogueError> {
        if record.institution_id != self.inner.own.institution_id {
            return Err(invalid(
                "institution_id",
                "a node only writes its own institution's records",
            ));
        }
        if !record.deleted {
            if record.name_zh.trim().is_empty() {
                return Err(invalid("name_zh", "required"));
            }
            if self
                .inner
                .classification
                .get(&record.classification_code)
                .is_none()
            {
                return Err(invalid(
                    "classification_code",
                    format!("unknown category {:?}", record.classification_code),
                ));
            }
        }
        Ok(())
    }

    pub(super) async fn wait_confirmed(&self) {
        let mut confirmed = self.inner.confirmed.subscribe();
        let waited =
            tokio::time::timeout(self.inner.revision_wait, confirmed.wait_for(|c| *c)).await;
        if waited.is_err() {
            tracing::warn!(
                "no peer confirmed this institution's revision in time; continuing past the clock"
            );
            self.jump_revisions();
            self.inner.confirmed.send_replace(true);
        }
    }

    /// Lifts the revision counter to the clock in microseconds. A node restored from a
    /// backup without a peer to hand back its newer entries would otherwise reissue
    /// revisions it already used for other content; no edit rate comes near one
    /// revision per microsecond, so the clock is past every revision issued before.
    pub(super) fn jump_revisions(&self) {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        self.inner
            .revision_floor
            .fetch_max(micros, std::sync::atomic::Ordering::SeqCst);
    }

    fn revision_floor(&self) -> u64 {
        self.inner
            .revision_floor
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// This institution's checkpoint, signed anew when what it holds of its own moved:
    /// `None` until its revision is confirmed (before that it may lack its own entries).
    pub(super) fn own_checkpoint(&self) -> Option<(Checkpoint, Vec<u8>)> {
        if !*self.inner.confirmed.borrow() {
            return None;
        }
        let origin = &self.inner.own.institution_id;
        let replica = &self.inner.replica;
        let current = replica.current_checkpoint(origin);
        if current.revision == 0 {
            return None;
        }
        if let Some((held, bytes)) = replica.checkpoint(origin)
            && held == current
        {
            return Some((held, bytes));
        }
        let bytes = current.seal(&self.inner.key);
        replica.keep_own_checkpoint(current.clone(), bytes.clone());
        Some((current, bytes))
    }

    /// Signs this institution's checkpoint if it moved and takes it, which raises its
    /// own watermark over revisions the clock skipped.
    pub async fn checkpoint_own(&self) -> Result<(), CatalogueError> {
        if let Some((checkpoint, bytes)) = self.own_checkpoint() {
            self.inner
                .replica
                .take_checkpoint(&checkpoint, &bytes)
                .await?;
        }
        Ok(())
    }

    /// Signs and stores a new version of one of this institution's records (its revision
    /// is set here), and queues it for gossip. Returns the record as stored. The photos
    /// of the version held are kept whatever `record` says: forms and spreadsheets do
    /// not carry them, [`crate::photos::Photos`] changes them (`update_photos`).
    pub async fn save_record(
        &self,
        mut record: InstrumentRecord,
    ) -> Result<InstrumentRecord, CatalogueError> {
        let _writing = self.inner.own_writes.lock().await;
        record.photos = match record.deleted {
            true => Vec::new(),
            false => self
                .stored_record(&record.id())
                .map(|held| held.photos)
                .unwrap_or_default(),
        };
        self.save_held_record(record).await
    }

    /// Changes the photos of one of this institution's instruments as `change` says, on
    /// the version held when no other change of its records runs, and signs the result.
    /// [`CatalogueError::NotFound`] if the instrument is not held (or was deleted).
    pub(crate) async fn update_photos<E: From<CatalogueError>>(
        &self,
        local_id: &str,
        change: impl FnOnce(&mut Vec<alliance_protocol::InstrumentPhoto>) -> Result<(), E>,
    ) -> Result<InstrumentRecord, E> {
        let _writing = self.inner.own_writes.lock().await;
        let id = format!("{}/{local_id}", self.inner.own.institution_id);
        let mut record = self
            .view()
            .records
            .contains_key(&id)
            .then(|| self.stored_record(&id))
            .flatten()
            .ok_or(CatalogueError::NotFound(id))?;
        change(&mut record.photos)?;
        Ok(self.save_held_record(record).await?)
    }

    /// Signs and stores `record` as given; the caller holds `own_writes`.
    async fn save_held_record(
        &self,
        mut record: InstrumentRecord,
    ) -> Result<InstrumentRecord, CatalogueError> {
        self.check_record(&record)?;
        let held = self.view().records.contains_key(&record.id());
        if held && let Some(current) = self.stored_record(&record.id()) {
            let mut same = record.clone();
            same.revision = current.revision;
            if same == current {
                // Nothing changed: no new revision (re-importing a file is a no-op).
                return Ok(same);
            }
        }
        self.wait_confirmed().await;
        let key = self.inner.key.clone();
        let origin = self.inner.own.institution_id.clone();
        let entry = self
            .inner
            .replica
            .apply_own(
                &origin,
                capped(&self.directory(), &origin),
                self.revision_floor(),
                |revision| {
                    record.revision = revision;
                    let bytes = record.seal(&key);
                    Entry {
                        body: EntryBody::Instrument(Box::new(record.clone())),
                        bytes,
                    }
                },
            )
            .await?
            .ok_or_else(full)?;
        self.absorb(std::iter::once(&entry.body))?;
        self.gossip(entry.bytes);
        if !record.deleted {
            let monday = crate::catalogue::digest::this_monday(chrono::Utc::now());
            let days = self.digest_days(&record, monday);
            self.publish_digest(&record, monday, days).await?;
        }
        Ok(record)
    }

    /// Signs, stores and gossips one of this institution's needs or offers, made by
    /// `make` with the next revision. `None` when the institution already holds as many
    /// of that kind as a member may (see [`crate::catalogue::replica::SlotClass`]).
    pub async fn save_board_entry(
        &self,
        make: impl FnOnce(u64) -> Entry,
    ) -> Result<Option<Entry>, CatalogueError> {
        self.wait_confirmed().await;
        let origin = self.inner.own.institution_id.clone();
        let Some(entry) = self
            .inner
            .replica
            .apply_own(
                &origin,
                capped(&self.directory(), &origin),
                self.revision_floor(),
                make,
            )
            .await?
        else {
            return Ok(None);
        };
        self.absorb(std::iter::once(&entry.body))?;
        self.tell_board(std::iter::once(&entry.body));
        self.gossip(entry.bytes.clone());
        Ok(Some(entry))
    }

    /// Signs and publishes the availability digest of one of this institution's records,
    /// saying `days` from `monday`.
    pub(super) async fn publish_digest(
        &self,
        record: &InstrumentRecord,
        monday: chrono::NaiveDate,
        days: DigestDays,
    ) -> Result<(), CatalogueError> {
        let key = self.inner.key.clone();
        let origin = self.inner.own.institution_id.clone();
        let mut digest = AvailabilityDigest {
            institution_id: origin.clone(),
            local_id: record.local_id.clone(),
            revision: 0,
            first_day: monday.format("%Y-%m-%d").to_string(),
            hours: days.hours,
            window: days.window,
            holiday_days: days.holiday_days,
        };
        let entry = self
            .inner
            .replica
            .apply_own(
                &origin,
                capped(&self.directory(), &origin),
                self.revision_floor(),
                |revision| {
                    digest.revision = revision;
                    Entry {
                        bytes: digest.seal(&key),
                        body: EntryBody::Availability(digest.clone()),
                    }
                },
            )
            .await?
            .ok_or_else(full)?;
        self.absorb(std::iter::once(&entry.body))?;
        self.gossip(entry.bytes);
        Ok(())
    }

    /// What a digest of `record` from `monday` says, under the owner's calendar.
    pub(super) fn digest_days(
        &self,
        record: &InstrumentRecord,
        monday: chrono::NaiveDate,
    ) -> DigestDays {
        let calendar = self
            .inner
            .busy
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|source| source.calendar(&record.local_id))
            .unwrap_or_default();
        crate::catalogue::digest::digest_days(record, monday, &calendar)
    }

    /// The days a digest of `record` from `monday` would say, unless `held` (its digest
    /// now) already says them: `None` then.
    fn digest_due(
        &self,
        held: Option<&AvailabilityDigest>,
        record: &InstrumentRecord,
        monday: chrono::NaiveDate,
    ) -> Option<DigestDays> {
        let days = self.digest_days(record, monday);
        let first_day = monday.format("%Y-%m-%d").to_string();
        let current = held.is_some_and(|d| {
            d.first_day == first_day
                && d.hours == days.hours
                && d.holiday_days == days.holiday_days
                && d.window == days.window
        });
        (!current).then_some(days)
    }

    /// Takes busy spans (bookings, blackouts) for this institution's digests from `source`.
    pub fn set_busy_source(&self, source: Arc<dyn BusySource>) {
        *self
            .inner
            .busy
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(source);
    }

    /// Republishes one of this institution's digests if its hours changed (a booking
    /// took or freed a slot, a blackout was set), so every node's calendar shows it.
    pub async fn republish_digest(&self, local_id: &str) -> Result<bool, CatalogueError> {
        let id = format!("{}/{local_id}", self.inner.own.institution_id);
        let Some(view) = self.instrument_unfiltered(&id) else {
            return Ok(false);
        };
        let monday = crate::catalogue::digest::this_monday(chrono::Utc::now());
        let Some(days) = self.digest_due(view.availability.as_ref(), &view.record, monday) else {
            return Ok(false);
        };
        self.publish_digest(&view.record, monday, days).await?;
        Ok(true)
    }

    /// Republishes the digests of this institution's records that are missing, start on
    /// another week than `now`'s, or no longer match their record. Returns how many.
    pub async fn refresh_digests(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, CatalogueError> {
        self.wait_confirmed().await;
        let monday = crate::catalogue::digest::this_monday(now);
        let own = self.inner.own.institution_id.clone();
        let stale: Vec<(Arc<InstrumentRecord>, DigestDays)> = self
            .institution_views(&own)
            .into_iter()
            .filter_map(|v| {
                let days = self.digest_due(v.availability.as_ref(), &v.record, monday)?;
                Some((v.record, days))
            })
            .collect();
        let count = stale.len();
        for (record, days) in stale {
            self.publish_digest(&record, monday, days).await?;
        }
        Ok(count)
    }

    /// Signs and publishes the province's review of the current version of an instrument
    /// (province node only: peers refuse reviews from anyone else).
    pub async fn review(
        &self,
        instrument_id: &str,
        verdict: alliance_protocol::ReviewVerdict,
        comment: String,
        reviewer: String,
    ) -> Result<ReviewAttestation, CatalogueError> {
        if self.inner.own.role != alliance_protocol::Role::Aggregator {
            return Err(invalid("verdict", "only the province reviews records"));
        }
        if verdict == alliance_protocol::ReviewVerdict::NeedsCorrection && comment.trim().is_empty()
        {
            return Err(invalid("comment", "say what needs correcting"));
        }
        if comment.len() > alliance_protocol::record::MAX_LONG_TEXT {
            return Err(invalid("comment", "too long"));
        }
        let found = self
            .instrument_unfiltered(instrument_id)
            .ok_or_else(|| CatalogueError::NotFound(instrument_id.to_owned()))?;
        let key = self.inner.key.clone();
        let origin = self.inner.own.institution_id.clone();
        let mut review = ReviewAttestation {
            province_id: origin.clone(),
            revision: 0,
            institution_id: found.record.institution_id.clone(),
            local_id: found.record.local_id.clone(),
            record_revision: found.record.revision,
            verdict,
            comment,
            reviewer,
            reviewed_at: alliance_protocol::UnixTime::now(),
        };
        let entry = self
            .inner
            .replica
            .apply_own(
                &origin,
                capped(&self.directory(), &origin),
                self.revision_floor(),
                |revision| {
                    review.revision = revision;
                    Entry {
                        bytes: review.seal(&key),
                        body: EntryBody::Review(review.clone()),
                    }
                },
            )
            .await?
            .ok_or_else(full)?;
        self.absorb(std::iter::once(&entry.body))?;
        self.gossip(entry.bytes);
        if verdict == alliance_protocol::ReviewVerdict::Approved {
            // Kept after the verdict: a crash between loses only the next diff's base.
            self.keep_approved(&found.record).await?;
        }
        Ok(review)
    }

    /// Keeps `record` as the province approved it.
    async fn keep_approved(&self, record: &InstrumentRecord) -> Result<(), CatalogueError> {
        let mut batch = crate::store::Batch::new();
        batch.put_json(Space::ApprovedRecords, record.id().into_bytes(), record)?;
        self.inner.replica.store().commit(batch).await?;
        Ok(())
    }

    /// The record as the province last approved it (JSON), if it kept it.
    pub fn approved_record(&self, instrument_id: &str) -> Option<serde_json::Value> {
        self.inner
            .replica
            .store()
            .get_json(Space::ApprovedRecords, instrument_id.as_bytes())
            .unwrap_or_else(|e| {
                tracing::error!(instrument_id, error = %e, "cannot read an approved record");
                None
            })
    }

    /// Records the province has not reviewed in their current version, voluntary ones
    /// first, then by id.
    pub fn review_queue(&self) -> Vec<InstrumentView> {
        let directory = self.directory();
        let pending: Vec<String> = {
            let view = self.view();
            view.records
                .values()
                .filter(|s| {
                    view.reviews
                        .get(&s.id)
                        .is_none_or(|r| r.record_revision < s.revision)
                        && directory.is_current(&s.institution_id)
                })
                .map(|s| s.id.clone())
                .collect()
        };
        let mut queue: Vec<InstrumentView> = pending
            .iter()
            .filter_map(|id| self.instrument_unfiltered(id))
            .collect();
        queue.sort_by_key(|v| {
            (
                v.record.original_value_fen >= VOLUNTARY_BELOW_FEN,
                v.record.id(),
            )
        });
        queue
    }

    /// Deletes one of this institution's records with a signed tombstone.
    pub async fn delete_record(&self, local_id: &str) -> Result<(), CatalogueError> {
        let id = format!("{}/{local_id}", self.inner.own.institution_id);
        let held = self.view().records.contains_key(&id);
        let record = held
            .then(|| self.stored_record(&id))
            .flatten()
            .ok_or(CatalogueError::NotFound(id))?;
        self.save_record(record.tombstone(0)).await?;
        Ok(())
    }

    pub(super) fn gossip(&self, bytes: Vec<u8>) {
        if self.inner.outgoing.try_send(bytes).is_err() {
            // Anti-entropy delivers it anyway; gossip only makes it faster.
            tracing::debug!("gossip queue full; the entry will spread by sync");
        }
    }
}
