//! Publishing a period: its results frozen as a signed statement, kept with its figures
//! and evidence, and served as published ever after. Later evidence for the period
//! changes only the live figures, which the results page lists as corrections beside the
//! published ones. A period not published can still be stated provisionally, signed on
//! demand from what the province holds now, so that anyone can verify current figures.

use std::sync::Arc;

use alliance_protocol::{UnixTime, statement::ResultsStatement, transparency::TreeHead};
use chrono::NaiveDate;

use super::{
    evidence::EvidenceItem,
    publication::{PublicationError, Published, names_of},
    statement::{Stated, Statement, StoredStatement, compute_stated, judged_on, state},
};
use crate::{
    evaluation::{config::EvaluationConfig, metrics::Period},
    province::{evidence, publication::Publication},
    store::{Batch, Space, StoreError},
};

/// Provisional statements kept for their evidence to be read page by page.
const PROVISIONAL_KEPT: usize = 4;

fn evidence_prefix(label: &str) -> Vec<u8> {
    let mut key = label.as_bytes().to_vec();
    key.push(0);
    key
}

fn engine(e: impl std::fmt::Display) -> PublicationError {
    PublicationError::Store(StoreError::Engine(e.to_string()))
}

impl Publication {
    /// Publishes `period`, which must have ended: its results are computed from the log
    /// as it stands and the evidence held now, signed, and frozen.
    pub async fn publish(
        &self,
        period: &str,
        today: NaiveDate,
    ) -> Result<Arc<Published>, PublicationError> {
        let (parsed, label) = Period::parse(period, today)?;
        if UnixTime::now() < parsed.to {
            return Err(PublicationError::NotEnded(label));
        }
        let store = self.inner.authority.store().clone();
        // One publication at a time: two requests cannot both find the period open.
        let _one = self.inner.publishing.lock().await;
        if store
            .get(Space::PublishedStatements, label.as_bytes())?
            .is_some()
        {
            return Err(PublicationError::AlreadyPublished(label));
        }
        let stated = self.state_now(&label, parsed, today, true).await?;
        let mut batch = Batch::new();
        for (index, item) in stated.evidence.iter().enumerate() {
            let mut key = evidence_prefix(&label);
            key.extend_from_slice(&(index as u64).to_be_bytes());
            batch.put(Space::PublishedEvidence, key, item.clone());
        }
        batch.put_json(
            Space::PublishedStatements,
            label.as_bytes().to_vec(),
            &StoredStatement {
                signed: hex::encode(&stated.signed),
                figures: stated.figures.clone(),
            },
        )?;
        store.commit(batch).await?;
        tracing::info!(period = %label, log_size = stated.statement.log_size, "results published");
        self.frozen(&label)
            .await?
            .ok_or_else(|| engine("a published statement did not read back"))
    }

    /// The statement of `period`: the published one, or a provisional one from what the
    /// province holds now (cached like results).
    pub async fn statement(
        &self,
        period: &str,
        today: NaiveDate,
    ) -> Result<Arc<Stated>, PublicationError> {
        let (parsed, label) = Period::parse(period, today)?;
        if let Some(frozen) = self.frozen(&label).await?
            && let Some(stated) = &frozen.statement
        {
            return Ok(stated.clone());
        }
        // One statement computed at a time (as results are): requests for the same one
        // wait here and find it in the cache, so a flood costs one core at most.
        let _one = self.inner.publishing.lock().await;
        let size = self.inner.log.tree_head().await.size;
        let key = self.cache_key(&label, today, size, UnixTime::now().0);
        {
            let computed = self.inner.computed.lock().await;
            if let Some((_, hit)) = computed.provisional.iter().find(|(k, _)| *k == key) {
                return Ok(hit.clone());
            }
        }
        let stated = Arc::new(self.state_now(&label, parsed, today, false).await?);
        let mut computed = self.inner.computed.lock().await;
        computed.provisional.insert(0, (key, stated.clone()));
        computed.provisional.truncate(PROVISIONAL_KEPT);
        Ok(stated)
    }

    /// Up to `limit` evidence items from `from` of the statement of `period` whose
    /// evidence digest is `digest`: `None` if no statement held has it (a provisional
    /// one may have been superseded).
    pub async fn evidence_page(
        &self,
        period: &str,
        today: NaiveDate,
        digest: &[u8; 32],
        from: u64,
        limit: usize,
    ) -> Result<Option<(u64, Vec<Vec<u8>>)>, PublicationError> {
        let (_, label) = Period::parse(period, today)?;
        let mut held: Option<Arc<Stated>> = None;
        if let Some(frozen) = self.frozen(&label).await? {
            held = frozen.statement.clone();
        }
        if held
            .as_ref()
            .is_none_or(|s| &s.statement.evidence_digest != digest)
        {
            let computed = self.inner.computed.lock().await;
            held = computed
                .provisional
                .iter()
                .map(|(_, s)| s)
                .find(|s| s.statement.period == label && &s.statement.evidence_digest == digest)
                .cloned();
        }
        Ok(held.map(|stated| {
            let total = stated.evidence.len() as u64;
            let start = usize::try_from(from.min(total)).unwrap_or(usize::MAX);
            let items = stated
                .evidence
                .iter()
                .skip(start)
                .take(limit)
                .cloned()
                .collect();
            (total, items)
        }))
    }

    /// The published results of `label`, if it is published: read back once from the
    /// store, checked, and kept.
    pub(super) async fn frozen(
        &self,
        label: &str,
    ) -> Result<Option<Arc<Published>>, PublicationError> {
        let mut computed = self.inner.computed.lock().await;
        if let Some(hit) = computed.frozen.get(label) {
            return Ok(Some(hit.clone()));
        }
        let store = self.inner.authority.store().clone();
        let Some(stored) =
            store.get_json::<StoredStatement>(Space::PublishedStatements, label.as_bytes())?
        else {
            return Ok(None);
        };
        let signed = hex::decode(&stored.signed).map_err(engine)?;
        let root = self.inner.authority.root_public_key();
        let statement = ResultsStatement::open(&signed, &root).map_err(engine)?;
        let uses = self.read_up_to(&mut computed, statement.log_size).await?;
        let prefix = evidence_prefix(label);
        let published = tokio::task::spawn_blocking(move || {
            let evidence: Vec<Vec<u8>> = store
                .scan_prefix(Space::PublishedEvidence, &prefix)?
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            let config = EvaluationConfig::from_json(statement.evaluation.clone())
                .map_err(|e| PublicationError::Evidence(e.to_string()))?;
            let period = Period {
                from: statement.from,
                to: statement.to,
            };
            let judged = judged_on(&statement)
                .ok_or_else(|| PublicationError::Evidence("judged_on is not a date".into()))?;
            let inputs = evidence::open(&evidence, &root, &period)
                .map_err(|e| PublicationError::Evidence(e.to_string()))?;
            let results =
                compute_stated(&config, period, judged, &uses, &inputs, statement.log_size);
            Ok::<_, PublicationError>(Published {
                label: statement.period.clone(),
                head: TreeHead {
                    size: statement.log_size,
                    root: statement.log_root,
                    timestamp: statement.issued_at,
                },
                computed_at: statement.issued_at.0,
                results,
                config,
                statement: Some(Arc::new(Stated {
                    signed,
                    statement,
                    figures: stored.figures,
                    evidence: Arc::new(evidence),
                })),
            })
        })
        .await
        .map_err(engine)??;
        let published = Arc::new(published);
        computed.frozen.insert(label.to_owned(), published.clone());
        Ok(Some(published))
    }

    /// States `period` from the log as it stands and the evidence held now.
    async fn state_now(
        &self,
        label: &str,
        period: Period,
        judged_on: NaiveDate,
        published: bool,
    ) -> Result<Stated, PublicationError> {
        let head = self.inner.log.tree_head().await;
        let uses = {
            let mut computed = self.inner.computed.lock().await;
            self.read_up_to(&mut computed, head.size).await?
        };
        let this = self.clone();
        let label = label.to_owned();
        tokio::task::spawn_blocking(move || {
            let evidence = this.gather(&period)?;
            let key = this.inner.authority.root_key();
            let (stated, _) = state(
                key,
                Statement {
                    label,
                    period,
                    judged_on,
                    published,
                    head,
                    uses: &uses,
                    evidence,
                    config: &this.inner.config,
                    issued_at: UnixTime::now(),
                },
            )
            .map_err(|e| PublicationError::Evidence(e.to_string()))?;
            Ok(stated)
        })
        .await
        .map_err(engine)?
    }

    /// Everything the results of `period` are computed from besides the log, as
    /// evidence: certificates, the catalogue's records with their first sightings,
    /// uptime, names, offers on needs, and what members signed (statistics,
    /// publications).
    fn gather(&self, period: &Period) -> Result<Vec<Vec<u8>>, PublicationError> {
        let mut items = Vec::new();
        for issued in self.inner.authority.issued().map_err(engine)? {
            items.push(EvidenceItem::Certificate {
                signed: issued.signed,
            });
        }
        let catalogue = &self.inner.catalogue;
        let other = self.other_facts();
        for (institution, name_zh) in names_of(catalogue) {
            for signed in catalogue.signed_records(&institution)? {
                let Ok(alliance_protocol::entry::EntryBody::Instrument(record)) =
                    alliance_protocol::entry::UnverifiedEntry::decode_stored(&signed)
                else {
                    continue;
                };
                let id = record.id();
                items.push(EvidenceItem::Record {
                    signed: hex::encode(&signed),
                });
                if let Some(at) = catalogue.first_seen(&id) {
                    items.push(EvidenceItem::FirstSeen {
                        instrument: id.clone(),
                        at: at.0,
                    });
                }
                if let Some(uptime) = other(&id, period).uptime {
                    items.push(EvidenceItem::Uptime {
                        instrument: id,
                        uptime,
                    });
                }
            }
            items.push(EvidenceItem::Name {
                institution,
                name_zh,
            });
        }
        items.extend(
            crate::board::stats::answers(catalogue.board(), catalogue)
                .into_iter()
                .filter(|answer| answer.counts_in(period))
                .map(EvidenceItem::Answer),
        );
        items.extend((self.evidence_source())(period)?);
        Ok(items.iter().map(EvidenceItem::to_bytes).collect())
    }
}
