//! What peers send: entries from gossip and sync pages taken into the view and the
//! index, the counters of what was refused, and the pages served to peers.

use super::*;

impl Catalogue {
    pub(super) fn extras(
        &self,
        record: &InstrumentRecord,
        review: Option<&ReviewAttestation>,
        directory: &KeyDirectory,
    ) -> IndexExtras {
        let classification = &self.inner.classification;
        let mut extras = IndexExtras::default();
        let status = review_status(record.original_value_fen, review);
        if restricted(record.sharing_scope, record.original_value_fen, status) {
            extras.visible_only_to = Some(record.institution_id.clone());
        }
        let mut text = Vec::new();
        if let Some(category) = classification.get(&record.classification_code) {
            extras.categories.push(category.code.clone());
            text.push(category.name_zh.clone());
            text.push(category.name_en.clone());
        }
        if let Some(top) = classification.top_of(&record.classification_code)
            && top.code != record.classification_code
        {
            extras.categories.push(top.code.clone());
            text.push(top.name_zh.clone());
            text.push(top.name_en.clone());
        }
        if let Some(cert) = directory.institutions().get(&record.institution_id) {
            text.push(cert.name_zh.clone());
            text.push(cert.name_en.clone());
        }
        extras.text = text.join(" ");
        extras
    }

    /// Puts fresh bodies into the view and the index, then commits the index.
    pub(super) fn absorb<'a>(
        &self,
        bodies: impl Iterator<Item = &'a EntryBody>,
    ) -> Result<(), CatalogueError> {
        let directory = self.directory();
        {
            let mut view = self
                .inner
                .view
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for body in bodies {
                match body {
                    EntryBody::Instrument(record) => {
                        let id = record.id();
                        let extras = self.extras(record, view.reviews.get(&id), &directory);
                        if view.records.contains_key(&id) || record.deleted {
                            self.inner.index.upsert(record, &extras)?;
                        } else {
                            self.inner.index.insert(record, &extras)?;
                        }
                        let previous = if record.deleted {
                            view.records.remove(&id)
                        } else {
                            view.records.insert(id, RecordSummary::of(record))
                        };
                        let count = view
                            .per_institution
                            .entry(record.institution_id.clone())
                            .or_default();
                        match (previous.is_some(), record.deleted) {
                            (false, false) => *count += 1,
                            (true, true) => *count = count.saturating_sub(1),
                            _ => {}
                        }
                    }
                    EntryBody::Review(review) => {
                        let id = review.instrument_id();
                        let newer = view
                            .reviews
                            .get(&id)
                            .is_none_or(|old| old.revision < review.revision);
                        if newer {
                            view.reviews.insert(id.clone(), review.clone());
                            // Approval can change who may find the record.
                            if view.records.contains_key(&id)
                                && let Some(record) = self.stored_record(&id)
                            {
                                let extras = self.extras(&record, Some(review), &directory);
                                self.inner.index.upsert(&record, &extras)?;
                            }
                        }
                    }
                    EntryBody::Availability(digest) => {
                        if let Some(free) = FreeDays::of(digest) {
                            view.digests.insert(digest.instrument_id(), free);
                        }
                    }
                    EntryBody::Need(need) => self.inner.board.put_need(need),
                    EntryBody::Offer(offer) => self.inner.board.put_offer(offer),
                    EntryBody::Event(event) => self.inner.board.put_event(event),
                }
            }
        }
        self.content_changed();
        Ok(())
    }

    /// Stores what is news among entries already admitted (see
    /// [`crate::catalogue::admission::admit`]); returns how many were.
    pub async fn receive(&self, entries: Vec<Entry>) -> Result<usize, CatalogueError> {
        if entries.is_empty() {
            return Ok(0);
        }
        let directory = self.directory();
        let outcomes = self
            .inner
            .replica
            .apply(entries.clone(), |origin| capped(&directory, origin))
            .await?;
        let fresh: Vec<&EntryBody> = entries
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| matches!(o, Applied::Fresh { .. }))
            .map(|(e, _)| &e.body)
            .collect();
        let full = outcomes.iter().filter(|o| **o == Applied::Full).count();
        self.inner.counters.accepted(fresh.len() as u64);
        self.inner
            .counters
            .stale((outcomes.len() - fresh.len() - full) as u64);
        self.inner.counters.full(full as u64);
        // Nothing new changes nothing a page or a cached search shows.
        if !fresh.is_empty() {
            self.absorb(fresh.iter().copied())?;
            self.tell_board(fresh.iter().copied());
        }
        Ok(fresh.len())
    }

    /// Counts a sync page received and the bytes of its entries.
    pub fn count_sync_page(&self, bytes: usize) {
        self.inner.counters.sync_page(bytes as u64);
    }

    /// Counts an entry refused by admission.
    pub fn count_rejection(&self, kind: RejectionKind) {
        self.inner.counters.rejected(kind);
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// Counts a valid entry refused on gossip because its origin was past its quota.
    pub fn count_over_quota(&self) {
        self.inner.counters.over_quota();
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// Counts an entry that was not news (seen before it reached [`Catalogue::receive`]).
    pub fn count_stale(&self) {
        self.inner.counters.stale(1);
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// Whether an entry would be news here.
    pub fn is_fresh(&self, body: &EntryBody) -> bool {
        self.inner.replica.is_fresh(body).is_ok()
    }

    /// The version vector to send in a sync request.
    pub fn sync_request(&self, after: Option<OriginRevision>, limit: u32) -> SyncRequest {
        SyncRequest {
            have: self
                .inner
                .replica
                .watermarks()
                .into_iter()
                .map(|(origin, revision)| OriginRevision { origin, revision })
                .collect(),
            after,
            limit,
        }
    }

    /// Serves one page of a peer's sync request, with this institution's checkpoint
    /// signed anew if it moved.
    pub fn page(&self, request: &SyncRequest) -> Result<SyncResponse, CatalogueError> {
        self.own_checkpoint();
        Ok(self.inner.replica.page(request)?)
    }

    /// Takes the checkpoints of a stored sync page (verified by
    /// [`crate::catalogue::admission::admit_checkpoint`]): watermarks rise where what this
    /// node holds matches its origin's word.
    pub async fn take_checkpoints(
        &self,
        checkpoints: &[(Checkpoint, Vec<u8>)],
    ) -> Result<(), CatalogueError> {
        let mut raised = false;
        for (checkpoint, bytes) in checkpoints {
            let outcome = self
                .inner
                .replica
                .take_checkpoint(checkpoint, bytes)
                .await?;
            tracing::trace!(origin = %checkpoint.origin, revision = checkpoint.revision, ?outcome, "checkpoint taken");
            raised |= outcome == CheckpointOutcome::Raised;
        }
        if raised {
            // Sync state, not content: waiters see it, caches of answers stay.
            self.inner.generation.send_modify(|g| *g += 1);
        }
        Ok(())
    }

    /// A sync with a peer completed: this institution's revision is now confirmed, and
    /// its own checkpoint is signed and taken.
    pub fn mark_synced(&self) {
        self.inner.confirmed.send_replace(true);
        let catalogue = self.clone();
        tokio::spawn(async move {
            if let Err(e) = catalogue.checkpoint_own().await {
                tracing::error!(error = %e, "cannot keep this institution's checkpoint");
            }
        });
    }
}
