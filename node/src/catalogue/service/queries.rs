//! What pages and the API read: instruments as they may be shown here, search, and
//! the lists of records.

use super::*;

impl Catalogue {
    /// Everything known about an instrument, if it exists and is visible here.
    pub fn instrument(&self, id: &str) -> Option<InstrumentView> {
        let visible = {
            let view = self.view();
            let summary = view.records.get(id)?;
            let status = review_status(summary.original_value_fen, view.reviews.get(id));
            self.visible(summary, status)
        };
        visible.then(|| self.instrument_unfiltered(id)).flatten()
    }

    /// The SHA-256 of every photo and thumbnail the records held here name (of one
    /// institution's records when `of` is given). Read from memory: it cannot fail.
    pub fn photo_hashes(&self, of: Option<&InstitutionId>) -> std::collections::HashSet<[u8; 32]> {
        self.view()
            .records
            .values()
            .filter(|r| of.is_none_or(|i| &r.institution_id == i))
            .flat_map(|r| r.photo_hashes.iter().copied())
            .collect()
    }

    /// Whether a record of instrument `id` (`institution/local_id`) is held, visible or
    /// not; a lookup in memory.
    pub fn has_instrument(&self, id: &str) -> bool {
        self.view().records.contains_key(id)
    }

    /// When this node first held the record of instrument `id` (`institution/local id`):
    /// on the province, the date it was put on the network.
    pub fn first_seen(&self, id: &str) -> Option<alliance_protocol::UnixTime> {
        let (origin, local_id) = id.split_once('/')?;
        let origin: InstitutionId = origin.parse().ok()?;
        self.inner
            .replica
            .first_seen(&origin, local_id)
            .ok()
            .flatten()
    }

    /// Whether instrument `id` has a free hour on a day from `from` to `to` (inclusive,
    /// `YYYY-MM-DD`), by its owner's latest digest.
    pub fn free_between(&self, id: &str, from: &str, to: &str) -> bool {
        self.view()
            .digests
            .get(id)
            .is_some_and(|d| d.any_between(from, to))
    }

    /// When this node first held `slot` of `origin` (instruments, needs and offers).
    pub fn first_seen_slot(
        &self,
        origin: &InstitutionId,
        slot: &str,
    ) -> Option<alliance_protocol::UnixTime> {
        self.inner
            .replica
            .first_seen_slot(origin, slot)
            .ok()
            .flatten()
    }

    /// Everything known about an instrument, whoever may see it (for its owner's admin
    /// pages and the province's review).
    pub fn instrument_unfiltered(&self, id: &str) -> Option<InstrumentView> {
        let review = {
            let view = self.view();
            view.records.get(id)?;
            view.reviews.get(id).cloned()
        };
        let record = self.stored_record(id)?;
        let availability = self.stored_digest(&record);
        Some(self.view_of(record, review, availability))
    }

    /// An instrument's names in Chinese and English (empty if this node does not hold it),
    /// for the words of a notice.
    pub fn names_of(&self, id: &str) -> (String, String) {
        self.stored_record(id)
            .map(|r| (r.name_zh, r.name_en))
            .unwrap_or_default()
    }

    pub(super) fn view_of(
        &self,
        record: InstrumentRecord,
        review: Option<ReviewAttestation>,
        availability: Option<AvailabilityDigest>,
    ) -> InstrumentView {
        InstrumentView {
            status: review_status(record.original_value_fen, review.as_ref()),
            review,
            availability,
            record: Arc::new(record),
        }
    }

    /// The availability digest of a record, read from the replica.
    pub(super) fn stored_digest(&self, record: &InstrumentRecord) -> Option<AvailabilityDigest> {
        self.inner
            .replica
            .availability(&record.institution_id, &record.local_id)
            .unwrap_or_else(|e| {
                tracing::error!(id = record.id(), error = %e, "cannot read a digest");
                None
            })
    }

    /// The full record behind a summary, read from the replica.
    pub(super) fn stored_record(&self, id: &str) -> Option<InstrumentRecord> {
        let (origin, local_id) = id.split_once('/')?;
        let origin: InstitutionId = origin.parse().ok()?;
        match self.inner.replica.instrument(&origin, local_id) {
            Ok(record) => record.filter(|r| !r.deleted),
            Err(e) => {
                tracing::error!(id, error = %e, "cannot read an instrument record");
                None
            }
        }
    }

    pub(super) fn visible(&self, summary: &RecordSummary, status: ReviewStatus) -> bool {
        let own = &self.inner.own.institution_id;
        if summary.institution_id == *own {
            return true;
        }
        self.directory().is_current(&summary.institution_id)
            && !restricted(summary.sharing_scope, summary.original_value_fen, status)
    }

    /// Institutions that hold records here but are no longer members.
    pub(super) fn hidden_institutions(&self) -> Vec<InstitutionId> {
        let directory = self.directory();
        let own = &self.inner.own.institution_id;
        let mut hidden: Vec<InstitutionId> = self
            .view()
            .per_institution
            .iter()
            .filter(|(i, count)| **count > 0 && *i != own && !directory.is_current(i))
            .map(|(i, _)| i.clone())
            .collect();
        hidden.sort();
        hidden
    }

    /// Searches the catalogue.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, CatalogueError> {
        let mut query = request.query.clone();
        query.viewer = Some(self.inner.own.institution_id.clone());
        query.hidden = self.hidden_institutions();
        let free = request.free_between.clone();
        let keep = |id: &str| -> bool {
            let Some((from, to)) = &free else {
                return true;
            };
            self.view()
                .digests
                .get(id)
                .is_some_and(|d| d.any_between(from, to))
        };
        let (total, ids) = self.inner.index.search(
            &query,
            request.offset,
            request.limit.clamp(1, 100),
            free.is_some().then_some(&keep as &dyn Fn(&str) -> bool),
        )?;
        let items = ids.iter().filter_map(|id| self.instrument(id)).collect();
        Ok(SearchResults { total, items })
    }

    /// Every visible instrument, summarised, by id.
    pub fn records(&self) -> Vec<RecordSummary> {
        let view = self.view();
        let mut records: Vec<RecordSummary> = view
            .records
            .values()
            .filter(|s| {
                let status = review_status(s.original_value_fen, view.reviews.get(&s.id));
                self.visible(s, status)
            })
            .cloned()
            .collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        records
    }

    /// Every instrument of one institution held here, visible or not, with its review
    /// state, by local id (read from the replica).
    pub fn institution_views(&self, institution: &InstitutionId) -> Vec<InstrumentView> {
        let records = match self.inner.replica.instruments_of(institution) {
            Ok(records) => records,
            Err(e) => {
                tracing::error!(%institution, error = %e, "cannot read the institution's records");
                return Vec::new();
            }
        };
        let view = self.view();
        records
            .into_iter()
            .filter(|r| !r.deleted)
            .map(|record| {
                let id = record.id();
                let review = view.reviews.get(&id).cloned();
                let availability = self.stored_digest(&record);
                self.view_of(record, review, availability)
            })
            .collect()
    }

    /// The signed bytes of every instrument record of `institution` held here and not
    /// deleted, in the order of [`Self::institution_views`]: the evidence of the results.
    pub fn signed_records(&self, institution: &InstitutionId) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut signed = Vec::new();
        for record in self.inner.replica.instruments_of(institution)? {
            if record.deleted {
                continue;
            }
            if let Some(bytes) = self
                .inner
                .replica
                .signed_instrument(institution, &record.local_id)?
            {
                signed.push(bytes);
            }
        }
        Ok(signed)
    }
}
