//! The catalogue side of the web backend: maps the catalogue's views to the web layer's
//! types and the web layer's requests to catalogue calls.

use crate::catalogue::import::history::ImportRecord;
use crate::photos::PhotoError;
use std::collections::BTreeMap;

use alliance_protocol::{InstitutionId, InstrumentRecord, ReviewVerdict, UserTier};
use alliance_web::backend::{
    AvailabilityDay, CatalogueBackend, CatalogueFailure, CategoryOption, Download, Facets,
    ImportHistoryPage, ImportRecordView, ImportSummary, InstitutionOption, InstrumentDetail,
    InstrumentPage, InstrumentSummary, Overview, PriceFrom, ReviewState, SearchParams, SheetFormat,
    Tally,
};
use alliance_web::validate::MAX_RESULT_WINDOW;
use chrono::{Duration, NaiveDate};

use super::WebBackend;
use crate::catalogue::{
    CatalogueError, InstrumentView, RecordSummary, ReviewStatus, SearchRequest, search::IndexQuery,
};

impl From<CatalogueError> for CatalogueFailure {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::Invalid { field, message } => CatalogueFailure::Invalid {
                field: field.to_owned(),
                message,
            },
            CatalogueError::NotFound(_) => CatalogueFailure::NotFound,
            other => CatalogueFailure::Internal(other.to_string()),
        }
    }
}

impl From<PhotoError> for CatalogueFailure {
    fn from(e: PhotoError) -> Self {
        match e {
            PhotoError::Invalid(message) => CatalogueFailure::Invalid {
                field: "photo".into(),
                message,
            },
            PhotoError::Full => CatalogueFailure::Invalid {
                field: "photo".into(),
                message: e.to_string(),
            },
            PhotoError::NoInstrument | PhotoError::NoPhoto => CatalogueFailure::NotFound,
            PhotoError::Unreachable => CatalogueFailure::Unavailable(e.to_string()),
            PhotoError::Catalogue(e) => e.into(),
            PhotoError::Store(e) => CatalogueFailure::Internal(e.to_string()),
        }
    }
}

fn review_state(status: ReviewStatus) -> ReviewState {
    match status {
        ReviewStatus::Unreviewed => ReviewState::Unreviewed,
        ReviewStatus::AwaitingApproval => ReviewState::AwaitingApproval,
        ReviewStatus::Approved => ReviewState::Approved,
        ReviewStatus::NeedsCorrection => ReviewState::NeedsCorrection,
    }
}

/// The digest's days, dated.
fn days(view: &InstrumentView) -> Vec<AvailabilityDay> {
    let Some(digest) = &view.availability else {
        return Vec::new();
    };
    let Ok(first) = NaiveDate::parse_from_str(&digest.first_day, "%Y-%m-%d") else {
        return Vec::new();
    };
    digest
        .hours
        .chunks(24)
        .enumerate()
        .map(|(i, hours)| AvailabilityDay {
            date: (first + Duration::days(i as i64))
                .format("%Y-%m-%d")
                .to_string(),
            hours: hours.to_vec(),
            holiday: i < 64 && digest.holiday_days & (1 << i) != 0,
        })
        .collect()
}

impl WebBackend {
    fn institution_names(&self) -> BTreeMap<InstitutionId, (String, String, String)> {
        let mut names: BTreeMap<InstitutionId, (String, String, String)> = self
            .catalogue
            .key_directory()
            .institutions()
            .iter()
            .map(|(id, c)| {
                (
                    id.clone(),
                    (c.name_zh.clone(), c.name_en.clone(), c.region.clone()),
                )
            })
            .collect();
        names.insert(
            self.certificate.institution_id.clone(),
            (
                self.certificate.name_zh.clone(),
                self.certificate.name_en.clone(),
                self.certificate.region.clone(),
            ),
        );
        names
    }

    fn summary(
        &self,
        view: &InstrumentView,
        names: &BTreeMap<InstitutionId, (String, String, String)>,
    ) -> InstrumentSummary {
        let r = &view.record;
        let classification = self.catalogue.classification();
        let category = classification.get(&r.classification_code);
        let (inst_zh, inst_en) = names
            .get(&r.institution_id)
            .map(|(zh, en, _)| (zh.clone(), en.clone()))
            .unwrap_or_default();
        InstrumentSummary {
            id: r.id(),
            institution_id: r.institution_id.to_string(),
            institution_name_zh: inst_zh,
            institution_name_en: inst_en,
            local_id: r.local_id.clone(),
            revision: r.revision,
            name_zh: r.name_zh.clone(),
            name_en: r.name_en.clone(),
            model: r.model.clone(),
            manufacturer: r.manufacturer.clone(),
            category: r.classification_code.clone(),
            category_name_zh: category.map(|c| c.name_zh.clone()).unwrap_or_default(),
            category_name_en: category.map(|c| c.name_en.clone()).unwrap_or_default(),
            city: r.location.city.clone(),
            original_value_fen: r.original_value_fen,
            service_modes: r.service_modes.clone(),
            status: r.status,
            sharing_scope: r.sharing_scope,
            review_state: review_state(view.status),
            price_from: r
                .cheapest(UserTier::AllianceMember)
                .map(|(fen, unit)| PriceFrom {
                    tier: UserTier::AllianceMember,
                    fen,
                    unit,
                }),
            next_free_day: view.availability.as_ref().and_then(|d| {
                crate::catalogue::availability::next_free_day(d, alliance_protocol::UnixTime::now())
            }),
            thumbnail: r.photos.first().map(|p| p.thumb_hex()),
        }
    }

    fn detail(
        &self,
        view: &InstrumentView,
        names: &BTreeMap<InstitutionId, (String, String, String)>,
    ) -> InstrumentDetail {
        InstrumentDetail {
            summary: self.summary(view, names),
            record: (*view.record).clone(),
            review: view.review.clone(),
            availability: days(view),
            window: view.availability.as_ref().and_then(|d| d.window),
        }
    }

    fn own_id(&self, local_id: &str) -> String {
        format!("{}/{local_id}", self.certificate.institution_id)
    }
}

impl CatalogueBackend for WebBackend {
    async fn search_instruments(
        &self,
        params: SearchParams,
    ) -> Result<InstrumentPage, CatalogueFailure> {
        let institution = match &params.institution {
            Some(id) => {
                Some(
                    id.parse::<InstitutionId>()
                        .map_err(|e| CatalogueFailure::Invalid {
                            field: "institution".into(),
                            message: e.to_string(),
                        })?,
                )
            }
            None => None,
        };
        let per_page = params.per_page.clamp(1, 100);
        let page = params.page.max(1);
        // The web layer refuses these already; an offset sized by a caller must never
        // reach the index, which allocates for `offset + limit` hits.
        if page.saturating_mul(per_page) > MAX_RESULT_WINDOW {
            return Err(CatalogueFailure::Invalid {
                field: "page".into(),
                message: format!("page × per_page may be at most {MAX_RESULT_WINDOW}"),
            });
        }
        let generation = self.catalogue.content_generation();
        let by_free_time = params.free_between.is_some();
        if by_free_time && let Some(hit) = self.search_cache.get(&params, generation) {
            return Ok((*hit).clone());
        }
        let cache_key = by_free_time.then(|| params.clone());
        let request = SearchRequest {
            query: IndexQuery {
                text: params.q,
                category: params.category,
                institution,
                city: params.city,
                min_value_fen: params.min_value_fen,
                max_value_fen: params.max_value_fen,
                mode: params.mode,
                tier: params.tier,
                include_retired: params.include_retired,
                ..IndexQuery::default()
            },
            free_between: params.free_between,
            offset: (page - 1).saturating_mul(per_page),
            limit: per_page,
        };
        // Searching is CPU work (and reads every match's availability for free time):
        // keep it off the async workers.
        let catalogue = self.catalogue.clone();
        let results = tokio::task::spawn_blocking(move || catalogue.search(&request))
            .await
            .map_err(|e| CatalogueFailure::Internal(e.to_string()))??;
        let names = self.institution_names();
        let answer = InstrumentPage {
            total: results.total,
            page,
            per_page,
            items: results
                .items
                .iter()
                .map(|v| self.summary(v, &names))
                .collect(),
        };
        if let Some(params) = cache_key {
            self.search_cache
                .put(params, generation, std::sync::Arc::new(answer.clone()));
        }
        Ok(answer)
    }

    async fn instrument(&self, id: &str) -> Option<InstrumentDetail> {
        let view = self.catalogue.instrument(id)?;
        Some(self.detail(&view, &self.institution_names()))
    }

    async fn facets(&self) -> Facets {
        let mut categories = Vec::new();
        for top in self.catalogue.classification().top_level() {
            categories.push(CategoryOption {
                code: top.code.clone(),
                name_zh: top.name_zh.clone(),
                name_en: top.name_en.clone(),
                level: 1,
            });
            for sub in &top.sub {
                categories.push(CategoryOption {
                    code: sub.code.clone(),
                    name_zh: sub.name_zh.clone(),
                    name_en: sub.name_en.clone(),
                    level: 2,
                });
            }
        }
        let institutions = self
            .institution_names()
            .into_iter()
            .map(|(id, (name_zh, name_en, region))| InstitutionOption {
                id: id.to_string(),
                name_zh,
                name_en,
                region,
            })
            .collect();
        let mut cities: Vec<String> = self
            .catalogue
            .records()
            .iter()
            .map(|r| r.city.clone())
            .filter(|c| !c.is_empty())
            .collect();
        cities.sort();
        cities.dedup();
        Facets {
            categories,
            institutions,
            cities,
        }
    }

    async fn overview(&self) -> Overview {
        let records = self.catalogue.records();
        let names = self.institution_names();
        let classification = self.catalogue.classification();
        let mut by_institution: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_city: BTreeMap<String, Tally> = BTreeMap::new();
        let add = |map: &mut BTreeMap<String, Tally>,
                   key: &str,
                   zh: &str,
                   en: &str,
                   r: &RecordSummary| {
            let tally = map.entry(key.to_owned()).or_insert_with(|| Tally {
                key: key.to_owned(),
                name_zh: zh.to_owned(),
                name_en: en.to_owned(),
                instruments: 0,
                value_fen: 0,
            });
            tally.instruments += 1;
            tally.value_fen = tally.value_fen.saturating_add(r.original_value_fen);
        };
        for r in &records {
            let (zh, en) = names
                .get(&r.institution_id)
                .map(|(zh, en, _)| (zh.as_str(), en.as_str()))
                .unwrap_or_default();
            add(&mut by_institution, r.institution_id.as_str(), zh, en, r);
            let (code, zh, en) = classification
                .top_of(&r.classification_code)
                .map(|c| (c.code.as_str(), c.name_zh.as_str(), c.name_en.as_str()))
                .unwrap_or(("", "", ""));
            add(&mut by_category, code, zh, en, r);
            add(&mut by_city, &r.city, &r.city, &r.city, r);
        }
        let sorted = |map: BTreeMap<String, Tally>| {
            let mut list: Vec<Tally> = map.into_values().collect();
            list.sort_by(|a, b| b.instruments.cmp(&a.instruments).then(a.key.cmp(&b.key)));
            list
        };
        Overview {
            instruments: records.len(),
            value_fen: records
                .iter()
                .fold(0i64, |sum, r| sum.saturating_add(r.original_value_fen)),
            by_institution: sorted(by_institution),
            by_category: sorted(by_category),
            by_city: sorted(by_city),
        }
    }

    async fn own_instruments(&self) -> Vec<InstrumentDetail> {
        let names = self.institution_names();
        let own = &self.certificate.institution_id;
        self.catalogue
            .institution_views(own)
            .iter()
            .map(|v| self.detail(v, &names))
            .collect()
    }

    async fn own_instrument(&self, local_id: &str) -> Option<InstrumentDetail> {
        let view = self
            .catalogue
            .instrument_unfiltered(&self.own_id(local_id))?;
        Some(self.detail(&view, &self.institution_names()))
    }

    async fn save_instrument(
        &self,
        record: InstrumentRecord,
    ) -> Result<InstrumentRecord, CatalogueFailure> {
        Ok(self.catalogue.save_record(record).await?)
    }

    async fn add_instrument_photo(
        &self,
        local_id: &str,
        bytes: Vec<u8>,
    ) -> Result<(), CatalogueFailure> {
        self.photos.add(local_id, bytes).await?;
        Ok(())
    }

    async fn remove_instrument_photo(
        &self,
        local_id: &str,
        sha256: &str,
    ) -> Result<(), CatalogueFailure> {
        self.photos.remove(local_id, sha256).await?;
        Ok(())
    }

    async fn instrument_photo(&self, id: &str, sha256: &str) -> Result<Vec<u8>, CatalogueFailure> {
        let sha = hex::decode(sha256)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(CatalogueFailure::NotFound)?;
        let view = self
            .catalogue
            .instrument(id)
            .ok_or(CatalogueFailure::NotFound)?;
        Ok(self.photos.bytes(&view.record, &sha).await?)
    }

    async fn delete_instrument(&self, local_id: &str) -> Result<(), CatalogueFailure> {
        self.catalogue.delete_record(local_id).await?;
        // Its photos' bytes go with it (a failure leaves them for the next sweep).
        if let Err(e) = self.photos.forget_unnamed_own().await {
            tracing::warn!(error = %e, "the photos of a deleted instrument stay for now");
        }
        Ok(())
    }

    async fn import_instruments(
        &self,
        by: &str,
        file_name: &str,
        bytes: Vec<u8>,
        dry_run: bool,
    ) -> Result<ImportSummary, CatalogueFailure> {
        let summary = super::import::import(self, file_name, bytes, dry_run).await?;
        if !dry_run {
            // After the records: a crash in between loses the line, never a record.
            let record = ImportRecord {
                at: alliance_protocol::UnixTime::now(),
                by: by.to_owned(),
                file_name: file_name.to_owned(),
                good: summary.good,
                bad: summary.bad,
                imported: summary.imported,
            };
            self.import_history
                .record(&record)
                .await
                .map_err(|e| CatalogueFailure::Internal(e.to_string()))?;
        }
        Ok(summary)
    }

    async fn import_history(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<ImportHistoryPage, CatalogueFailure> {
        let (total, records) = self
            .import_history
            .page(offset, limit)
            .map_err(|e| CatalogueFailure::Internal(e.to_string()))?;
        Ok(ImportHistoryPage {
            total,
            offset,
            items: records
                .into_iter()
                .map(|r| ImportRecordView {
                    at: r.at.0,
                    by: r.by,
                    file_name: r.file_name,
                    good: r.good,
                    bad: r.bad,
                    imported: r.imported,
                })
                .collect(),
        })
    }

    async fn export_instruments(&self, format: SheetFormat) -> Result<Download, CatalogueFailure> {
        super::import::export(self, format)
    }

    async fn import_template(&self, format: SheetFormat) -> Result<Download, CatalogueFailure> {
        super::import::template(format)
    }

    async fn review_queue(&self) -> Vec<InstrumentDetail> {
        let names = self.institution_names();
        self.catalogue
            .review_queue()
            .iter()
            .map(|v| self.detail(v, &names))
            .collect()
    }

    async fn approved_record(&self, id: &str) -> Option<serde_json::Value> {
        self.catalogue.approved_record(id)
    }

    async fn review_instrument(
        &self,
        id: &str,
        verdict: ReviewVerdict,
        comment: String,
        reviewer: String,
    ) -> Result<(), CatalogueFailure> {
        self.catalogue
            .review(id, verdict, comment, reviewer)
            .await?;
        Ok(())
    }
}
