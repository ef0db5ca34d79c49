//! The catalogue half of [`MemoryBackend`]: this institution's records in a map, a plain
//! substring "search" and a recorded review. Real search and signing are tested in the
//! node; these tests exercise the web layer's routes, roles, forms and errors.

use alliance_protocol::ReviewAttestation;
use alliance_protocol::{InstrumentRecord, ReviewVerdict, UserTier};
use alliance_web::backend::{
    CatalogueBackend, CatalogueFailure, CategoryOption, Download, Facets, ImportHistoryPage,
    ImportRecordView, ImportRow, ImportSummary, InstitutionOption, InstrumentDetail,
    InstrumentPage, InstrumentSummary, Overview, PriceFrom, ReviewState, SearchParams, SheetFormat,
};

use super::MemoryBackend;

fn detail(r: &InstrumentRecord) -> InstrumentDetail {
    InstrumentDetail {
        summary: InstrumentSummary {
            id: r.id(),
            institution_id: r.institution_id.to_string(),
            institution_name_zh: "大连理工大学".into(),
            institution_name_en: "Dalian University of Technology".into(),
            local_id: r.local_id.clone(),
            revision: r.revision,
            name_zh: r.name_zh.clone(),
            name_en: r.name_en.clone(),
            model: r.model.clone(),
            manufacturer: r.manufacturer.clone(),
            category: r.classification_code.clone(),
            category_name_zh: "质谱仪器".into(),
            category_name_en: "Mass spectrometers".into(),
            city: r.location.city.clone(),
            original_value_fen: r.original_value_fen,
            service_modes: r.service_modes.clone(),
            status: r.status,
            sharing_scope: r.sharing_scope,
            review_state: ReviewState::Unreviewed,
            price_from: r
                .cheapest(UserTier::AllianceMember)
                .map(|(fen, unit)| PriceFrom {
                    tier: UserTier::AllianceMember,
                    fen,
                    unit,
                }),
            next_free_day: None,
            thumbnail: r.photos.first().map(|p| p.thumb_hex()),
        },
        record: r.clone(),
        review: None,
        availability: Vec::new(),
        window: None,
    }
}

impl MemoryBackend {
    /// The records saved so far, by local id.
    pub(crate) fn records(&self) -> Vec<InstrumentRecord> {
        let mut records: Vec<InstrumentRecord> = self.lock().records.values().cloned().collect();
        records.sort_by(|a, b| a.local_id.cmp(&b.local_id));
        records
    }

    /// Reviews recorded so far: (id, verdict, comment).
    pub(crate) fn reviews(&self) -> Vec<(String, ReviewVerdict, String)> {
        self.lock().reviews.clone()
    }
}

impl CatalogueBackend for MemoryBackend {
    async fn search_instruments(
        &self,
        params: SearchParams,
    ) -> Result<InstrumentPage, CatalogueFailure> {
        let items: Vec<InstrumentSummary> = self
            .records()
            .iter()
            .filter(|r| r.name_zh.contains(&params.q) || r.name_en.contains(&params.q))
            .map(|r| {
                let mut summary = detail(r).summary;
                // The first day of the shown week with a free hour.
                summary.next_free_day = self
                    .availability(&summary.id)
                    .into_iter()
                    .find(|d| d.hours.contains(&alliance_protocol::HourState::Free))
                    .map(|d| d.date);
                summary
            })
            .collect();
        Ok(InstrumentPage {
            total: items.len(),
            page: params.page,
            per_page: params.per_page,
            items,
        })
    }

    async fn instrument(&self, id: &str) -> Option<InstrumentDetail> {
        let mut found = self.records().iter().find(|r| r.id() == id).map(detail)?;
        found.availability = self.availability(id);
        found.window = self.window();
        Some(found)
    }

    async fn facets(&self) -> Facets {
        Facets {
            categories: vec![CategoryOption {
                code: "0102".into(),
                name_zh: "质谱仪器".into(),
                name_en: "Mass spectrometers".into(),
                level: 2,
            }],
            institutions: vec![InstitutionOption {
                id: "dlut".into(),
                name_zh: "大连理工大学".into(),
                name_en: "Dalian University of Technology".into(),
                region: "辽宁省大连市".into(),
            }],
            cities: vec!["大连市".into()],
        }
    }

    async fn overview(&self) -> Overview {
        let records = self.records();
        Overview {
            instruments: records.len(),
            value_fen: records.iter().map(|r| r.original_value_fen).sum(),
            by_institution: Vec::new(),
            by_category: Vec::new(),
            by_city: Vec::new(),
        }
    }

    async fn own_instruments(&self) -> Vec<InstrumentDetail> {
        self.records().iter().map(detail).collect()
    }

    async fn own_instrument(&self, local_id: &str) -> Option<InstrumentDetail> {
        self.lock().records.get(local_id).map(detail)
    }

    async fn save_instrument(
        &self,
        mut record: InstrumentRecord,
    ) -> Result<InstrumentRecord, CatalogueFailure> {
        if record.classification_code != "0102" {
            return Err(CatalogueFailure::Invalid {
                field: "classification_code".into(),
                message: "unknown category".into(),
            });
        }
        let mut inner = self.lock();
        inner.issued += 1;
        record.revision = inner.issued;
        // As the node does: forms do not carry photos, saving keeps them.
        record.photos = inner
            .records
            .get(&record.local_id)
            .map(|held| held.photos.clone())
            .unwrap_or_default();
        inner
            .records
            .insert(record.local_id.clone(), record.clone());
        Ok(record)
    }

    /// Keeps the upload as it is (resizing is the node's, tested there) under its hash,
    /// and a thumbnail under another.
    async fn add_instrument_photo(
        &self,
        local_id: &str,
        bytes: Vec<u8>,
    ) -> Result<(), CatalogueFailure> {
        use sha2::Digest;
        let invalid = |message: &str| CatalogueFailure::Invalid {
            field: "photo".into(),
            message: message.into(),
        };
        if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && !bytes.starts_with(b"\x89PNG") {
            return Err(invalid("a photo is a JPEG or PNG file"));
        }
        let mut inner = self.lock();
        let record = inner
            .records
            .get(local_id)
            .cloned()
            .ok_or(CatalogueFailure::NotFound)?;
        if record.photos.len() >= alliance_protocol::record::MAX_PHOTOS {
            return Err(invalid("an instrument has at most 4 photos"));
        }
        let sha256: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        let thumb_sha256: [u8; 32] = sha2::Sha256::digest(sha256).into();
        let photo = alliance_protocol::InstrumentPhoto {
            sha256,
            size: bytes.len() as u32,
            width: 4,
            height: 3,
            thumb_sha256,
            thumb_size: bytes.len() as u32,
        };
        inner.photos.insert(photo.hex(), bytes.clone());
        inner.photos.insert(photo.thumb_hex(), bytes);
        let mut record = record;
        record.photos.push(photo);
        inner.records.insert(local_id.to_owned(), record);
        Ok(())
    }

    async fn remove_instrument_photo(
        &self,
        local_id: &str,
        sha256: &str,
    ) -> Result<(), CatalogueFailure> {
        let mut inner = self.lock();
        let record = inner
            .records
            .get_mut(local_id)
            .ok_or(CatalogueFailure::NotFound)?;
        let before = record.photos.len();
        record.photos.retain(|p| p.hex() != sha256);
        if record.photos.len() == before {
            return Err(CatalogueFailure::NotFound);
        }
        Ok(())
    }

    async fn instrument_photo(&self, id: &str, sha256: &str) -> Result<Vec<u8>, CatalogueFailure> {
        let inner = self.lock();
        let (_, local_id) = id.split_once('/').ok_or(CatalogueFailure::NotFound)?;
        let named = inner.records.get(local_id).is_some_and(|r| {
            r.photos
                .iter()
                .any(|p| p.hex() == sha256 || p.thumb_hex() == sha256)
        });
        match inner.photos.get(sha256) {
            Some(bytes) if named => Ok(bytes.clone()),
            _ => Err(CatalogueFailure::NotFound),
        }
    }

    async fn delete_instrument(&self, local_id: &str) -> Result<(), CatalogueFailure> {
        self.lock()
            .records
            .remove(local_id)
            .map(|_| ())
            .ok_or(CatalogueFailure::NotFound)
    }

    async fn import_history(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<ImportHistoryPage, CatalogueFailure> {
        let inner = self.lock();
        Ok(ImportHistoryPage {
            total: inner.import_history.len(),
            offset,
            items: inner
                .import_history
                .iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect(),
        })
    }

    async fn import_instruments(
        &self,
        by: &str,
        file_name: &str,
        bytes: Vec<u8>,
        dry_run: bool,
    ) -> Result<ImportSummary, CatalogueFailure> {
        if !file_name.ends_with(".csv") {
            return Err(CatalogueFailure::BadFile("not a spreadsheet".into()));
        }
        let rows = String::from_utf8_lossy(&bytes)
            .lines()
            .enumerate()
            .map(|(i, line)| ImportRow {
                row: i + 1,
                local_id: line.to_owned(),
                name_zh: line.to_owned(),
                errors: Vec::new(),
                change: "new".into(),
            })
            .collect::<Vec<_>>();
        let good = rows.len();
        if !dry_run {
            let mut inner = self.lock();
            inner.imports += 1;
            inner.import_history.insert(
                0,
                ImportRecordView {
                    at: 1_922_403_600,
                    by: by.to_owned(),
                    file_name: file_name.to_owned(),
                    good,
                    bad: 0,
                    imported: good,
                },
            );
        }
        Ok(ImportSummary {
            dry_run,
            rows,
            good,
            bad: 0,
            imported: if dry_run { 0 } else { good },
        })
    }

    async fn export_instruments(&self, _format: SheetFormat) -> Result<Download, CatalogueFailure> {
        Ok(Download {
            file_name: "dlut-instruments.csv".into(),
            content_type: "text/csv; charset=utf-8",
            bytes: b"local_id\n".to_vec(),
        })
    }

    async fn import_template(&self, _format: SheetFormat) -> Result<Download, CatalogueFailure> {
        self.export_instruments(SheetFormat::Csv).await
    }

    async fn review_queue(&self) -> Vec<InstrumentDetail> {
        // Each with the province's latest review of it, as a node gives it.
        let reviews = self.reviews();
        let mut queue = self.own_instruments().await;
        for d in &mut queue {
            let latest = reviews.iter().rev().find(|(id, _, _)| *id == d.summary.id);
            d.review = latest.map(|(_, verdict, comment)| ReviewAttestation {
                province_id: "province".parse().unwrap(),
                revision: 1,
                institution_id: d.summary.institution_id.parse().unwrap(),
                local_id: d.summary.local_id.clone(),
                record_revision: d.summary.revision,
                verdict: *verdict,
                comment: comment.clone(),
                reviewer: "province".into(),
                reviewed_at: alliance_protocol::UnixTime(0),
            });
        }
        queue
    }

    async fn review_instrument(
        &self,
        id: &str,
        verdict: ReviewVerdict,
        comment: String,
        _reviewer: String,
    ) -> Result<(), CatalogueFailure> {
        if verdict == ReviewVerdict::NeedsCorrection && comment.is_empty() {
            return Err(CatalogueFailure::Invalid {
                field: "comment".into(),
                message: "say what needs correcting".into(),
            });
        }
        if verdict == ReviewVerdict::Approved
            && let Some(record) = self.records().into_iter().find(|r| r.id() == id)
        {
            let json = serde_json::to_value(&record).unwrap_or_default();
            self.lock().approved.insert(id.to_owned(), json);
        }
        self.lock().reviews.push((id.to_owned(), verdict, comment));
        Ok(())
    }

    async fn approved_record(&self, id: &str) -> Option<serde_json::Value> {
        self.lock().approved.get(id).cloned()
    }
}
