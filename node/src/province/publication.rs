//! [`Publication`]: what the province publishes, computed on demand from its log, its
//! catalogue and `configs/evaluation.toml`. The log's uses are read once and kept in
//! memory (about 300 bytes each); each request reads only the entries added since.

use std::sync::Arc;

use alliance_protocol::{
    InstitutionId, InstrumentRecord, publication::Publication as PublicationRecord,
    transparency::TreeHead,
};
use chrono::NaiveDate;
use tokio::sync::Mutex;

use super::{
    ProvinceAuthority,
    evidence::{EvidenceItem, networked_date},
    receipt_log::ReceiptLog,
    results::{LoggedUse, OtherFacts, Results, ResultsInput, compute, read_log},
    statement::Stated,
};
use crate::{
    catalogue::Catalogue,
    compliance::reporting::{Standing, standing},
    evaluation::{
        answers::answer_figures, config::EvaluationConfig, metrics::Period, period::BadPeriod,
    },
    monitoring::board::MonitorBoard,
    receipts::{
        publications::Publications,
        statistics::{BookingFigures, ServiceStats},
    },
    store::StoreError,
};

/// Facts about an instrument (monitoring uptime, booking responses) over a period, from
/// whoever holds them.
pub type OtherFactsSource = Arc<dyn Fn(&str, &Period) -> OtherFacts + Send + Sync>;

/// The publications registered with a publication date in a period.
pub type PublicationsSource = Arc<dyn Fn(&Period) -> Vec<PublicationRecord> + Send + Sync>;

/// The signed evidence of a period's results that members sent the province: their
/// statistics and publications (see [`super::evidence`]).
pub type EvidenceSource =
    Arc<dyn Fn(&Period) -> Result<Vec<EvidenceItem>, StoreError> + Send + Sync>;

/// Facts the province holds besides receipts: from the monitoring board, an instrument's
/// uptime over the part of the period it has been monitored so far (none for one never
/// monitored): the seconds it was up over the seconds from its first sighting, or the
/// period's start, until now or the period's end; the publications registered that
/// and its booking figures as its owner reported them.
pub fn province_facts(board: MonitorBoard, statistics: ServiceStats) -> OtherFactsSource {
    Arc::new(move |id: &str, period: &Period| {
        let uptime = (|| {
            let first_seen = board.first_seen(id).ok()??;
            let from = first_seen.max(period.from);
            let to = alliance_protocol::UnixTime::now().min(period.to);
            let span = to.0 - from.0;
            if span <= 0 {
                return None;
            }
            let day = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0)
                    .map(|t| t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive())
            };
            let online = board
                .online_seconds(id, day(from.0)?, day(to.0 - 1)?)
                .ok()?;
            Some((online as f64 / span as f64).min(1.0))
        })();
        let bookings = statistics.of_instrument(id, period).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read booking statistics");
            BookingFigures::default()
        });
        OtherFacts {
            uptime,
            response_hours_sum: bookings.response_seconds as f64 / 3_600.0,
            responses: bookings.responses,
            requests: bookings.requests,
            rejections: bookings.rejections,
            ..OtherFacts::default()
        }
    })
}

/// The publications members registered, as the province holds them.
pub fn province_publications(publications: Publications) -> PublicationsSource {
    Arc::new(move |period: &Period| {
        publications.in_period(period).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read publications");
            Vec::new()
        })
    })
}

/// What members signed that the results count: each one's latest booking statistics and
/// the publications registered with a date in the period.
pub fn members_evidence(receipts: crate::receipts::Receipts) -> EvidenceSource {
    Arc::new(move |period: &Period| {
        let mut items: Vec<EvidenceItem> = receipts
            .statistics()
            .signed_reports()?
            .into_iter()
            .map(|signed| EvidenceItem::Statistics {
                signed: hex::encode(signed),
            })
            .collect();
        items.extend(
            receipts
                .publications()
                .signed_in_period(period)?
                .into_iter()
                .map(|signed| EvidenceItem::Publication {
                    signed: hex::encode(signed),
                }),
        );
        Ok(items)
    })
}

#[derive(Debug, thiserror::Error)]
pub enum PublicationError {
    #[error(transparent)]
    Period(#[from] BadPeriod),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0} is already published")]
    AlreadyPublished(String),
    #[error("{0} has not ended yet")]
    NotEnded(String),
    /// The province's own evidence does not check: a defect or a damaged store.
    #[error("the evidence does not check: {0}")]
    Evidence(String),
}

/// How long figures from monitoring, publications and booking statistics may be reused.
/// Receipts and the catalogue are always current: a new log entry or record starts a new
/// computation.
pub const FACTS_REFRESH_SECS: i64 = 60;
/// Results kept, most recent first (periods asked for are few: this year, its quarters,
/// last year).
const CACHED_RESULTS: usize = 16;

/// What a computation of results depends on: the same key, the same figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CacheKey {
    label: String,
    today: NaiveDate,
    log_size: u64,
    /// The catalogue's change counter.
    catalogue: u64,
    /// Time in steps of [`FACTS_REFRESH_SECS`].
    facts_epoch: i64,
}

/// Uses read from the log so far, and results computed from them.
#[derive(Default)]
pub(super) struct Computed {
    /// Shared with a computation in progress, so reading more entries never waits on it.
    pub(super) uses: Arc<Vec<LoggedUse>>,
    /// The index of the next log entry to read (an entry that no longer reads is
    /// skipped, so this and `uses.len()` can differ).
    next: u64,
    /// Newest first.
    results: Vec<(CacheKey, Arc<Published>)>,
    /// Provisional statements, newest first.
    pub(super) provisional: Vec<(CacheKey, Arc<Stated>)>,
    /// Published periods read back, by period.
    pub(super) frozen: std::collections::BTreeMap<String, Arc<Published>>,
}

pub(super) struct Inner {
    pub(super) log: ReceiptLog,
    pub(super) catalogue: Catalogue,
    pub(super) config: EvaluationConfig,
    /// Signs statements, and its certificates are their evidence.
    pub(super) authority: Arc<ProvinceAuthority>,
    /// One computation at a time: requests for results wait here, and find those a
    /// request before them computed. A flood therefore costs one core at most.
    pub(super) computed: Mutex<Computed>,
    other: std::sync::RwLock<OtherFactsSource>,
    publications: std::sync::RwLock<PublicationsSource>,
    evidence: std::sync::RwLock<EvidenceSource>,
    /// One publication or provisional statement computed at a time.
    pub(super) publishing: Mutex<()>,
}

/// The province's publication. Cheap to clone.
#[derive(Clone)]
pub struct Publication {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Publication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publication").finish_non_exhaustive()
    }
}

/// The results of a named period, with the tree head of the log they were computed from.
#[derive(Debug, Clone)]
pub struct Published {
    pub label: String,
    pub results: Results,
    pub head: TreeHead,
    pub config: EvaluationConfig,
    /// When these figures were computed (unix seconds); results served from the cache
    /// keep it, so it also tells one computation from another.
    pub computed_at: i64,
    /// The signed statement, if the period is published: these figures are then frozen.
    pub statement: Option<Arc<Stated>>,
}

impl Publication {
    pub fn new(
        log: ReceiptLog,
        catalogue: Catalogue,
        config: EvaluationConfig,
        authority: Arc<ProvinceAuthority>,
    ) -> Self {
        let none: OtherFactsSource = Arc::new(|_: &str, _: &Period| OtherFacts::default());
        let no_publications: PublicationsSource = Arc::new(|_: &Period| Vec::new());
        let no_evidence: EvidenceSource = Arc::new(|_: &Period| Ok(Vec::new()));
        Publication {
            inner: Arc::new(Inner {
                log,
                catalogue,
                config,
                authority,
                computed: Mutex::new(Computed::default()),
                other: std::sync::RwLock::new(none),
                publications: std::sync::RwLock::new(no_publications),
                evidence: std::sync::RwLock::new(no_evidence),
                publishing: Mutex::new(()),
            }),
        }
    }

    /// Where facts other than receipts come from: per instrument, publications, and the
    /// members' signed statistics and publications for statements.
    pub fn set_other_facts(
        &self,
        source: OtherFactsSource,
        publications: PublicationsSource,
        evidence: EvidenceSource,
    ) {
        if let Ok(mut other) = self.inner.other.write() {
            *other = source;
        }
        if let Ok(mut held) = self.inner.publications.write() {
            *held = publications;
        }
        if let Ok(mut held) = self.inner.evidence.write() {
            *held = evidence;
        }
    }

    pub(super) fn other_facts(&self) -> OtherFactsSource {
        self.inner
            .other
            .read()
            .map(|o| o.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub(super) fn evidence_source(&self) -> EvidenceSource {
        self.inner
            .evidence
            .read()
            .map(|o| o.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The receipt log the results are computed from.
    pub fn log(&self) -> &ReceiptLog {
        &self.inner.log
    }

    /// The evaluation config in force.
    pub fn config(&self) -> &EvaluationConfig {
        &self.inner.config
    }

    /// Every record in the catalogue, all institutions.
    pub fn records(&self) -> Vec<InstrumentRecord> {
        records_of(&self.inner.catalogue)
    }

    /// Institution names (Chinese) by id.
    pub fn names(&self) -> std::collections::BTreeMap<InstitutionId, String> {
        names_of(&self.inner.catalogue)
    }

    /// The results of `period` (`2026`, `2026-Q3`, empty: `today`'s year): as published
    /// if it is, else [`Self::live_results`].
    pub async fn results(
        &self,
        period: &str,
        today: NaiveDate,
    ) -> Result<Arc<Published>, PublicationError> {
        let (_, label) = Period::parse(period, today)?;
        match self.frozen(&label).await? {
            Some(frozen) => Ok(frozen),
            None => self.live_results(&label, today).await,
        }
    }

    /// The results of `period` from everything the province holds now: computed on the
    /// blocking pool, or the same figures computed earlier for the same log size,
    /// catalogue and facts (see [`FACTS_REFRESH_SECS`]).
    pub async fn live_results(
        &self,
        period: &str,
        today: NaiveDate,
    ) -> Result<Arc<Published>, PublicationError> {
        let (period, label) = Period::parse(period, today)?;
        let head = self.inner.log.tree_head().await;
        let now = alliance_protocol::UnixTime::now().0;
        let key = self.cache_key(&label, today, head.size, now);
        let mut computed = self.inner.computed.lock().await;
        if let Some((_, hit)) = computed.results.iter().find(|(k, _)| *k == key) {
            return Ok(hit.clone());
        }
        let uses = self.read_up_to(&mut computed, head.size).await?;
        let catalogue = self.inner.catalogue.clone();
        let config = self.inner.config.clone();
        let other = self.other_facts();
        let publications = self
            .inner
            .publications
            .read()
            .map(|o| o.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        let published = tokio::task::spawn_blocking(move || {
            let records = records_of(&catalogue);
            let names = names_of(&catalogue);
            let publications = publications(&period);
            let answered = answer_figures(
                &crate::board::stats::answers(catalogue.board(), &catalogue),
                &period,
            );
            let facts = |id: &str| other(id, &period).with_answers(answered.get(id));
            let mut results = compute(&ResultsInput {
                config: &config,
                period,
                today,
                // Up to the head read above (another request may have read further since).
                uses: &uses[..uses.partition_point(|u| u.index < head.size)],
                records: &records,
                names: &names,
                publications: &publications,
                other: &facts,
            });
            results.log_size = head.size;
            Published {
                label,
                results,
                head,
                config,
                computed_at: now,
                statement: None,
            }
        })
        .await
        .map_err(|e| StoreError::Engine(e.to_string()))?;
        let published = Arc::new(published);
        computed.results.insert(0, (key, published.clone()));
        computed.results.truncate(CACHED_RESULTS);
        Ok(published)
    }

    /// The uses of the log's entries below `size`, reading those not read yet.
    pub(super) async fn read_up_to(
        &self,
        computed: &mut Computed,
        size: u64,
    ) -> Result<Arc<Vec<LoggedUse>>, StoreError> {
        let next = computed.next;
        if next < size {
            let log = self.inner.log.clone();
            let fresh = tokio::task::spawn_blocking(move || read_log(&log, next, size))
                .await
                .map_err(|e| StoreError::Engine(e.to_string()))??;
            Arc::make_mut(&mut computed.uses).extend(fresh);
            computed.next = size;
        }
        Ok(computed.uses.clone())
    }

    /// The key of a computation of `label` on `today` over a log of `log_size`.
    pub(super) fn cache_key(
        &self,
        label: &str,
        today: NaiveDate,
        log_size: u64,
        now: i64,
    ) -> CacheKey {
        CacheKey {
            label: label.to_owned(),
            today,
            log_size,
            catalogue: self.inner.catalogue.content_generation(),
            facts_epoch: now.div_euclid(FACTS_REFRESH_SECS),
        }
    }

    /// Instruments needing attention under the reporting rule on `today`.
    pub fn compliance(&self, today: NaiveDate) -> Vec<(InstrumentRecord, Standing)> {
        let mut rows: Vec<(InstrumentRecord, Standing)> = self
            .records()
            .into_iter()
            .map(|record| {
                let standing = standing(&record, today);
                (record, standing)
            })
            .filter(|(_, standing)| standing.needs_attention())
            .collect();
        rows.sort_by(|a, b| {
            (&a.0.institution_id, &a.0.local_id).cmp(&(&b.0.institution_id, &b.0.local_id))
        });
        rows
    }
}

/// Every instrument record the province holds, of every institution, with its networked
/// date the province's own first sighting of the record (Asia/Shanghai): a member's typed
/// date is its word, and the reporting rule needs the province's.
fn records_of(catalogue: &Catalogue) -> Vec<InstrumentRecord> {
    let directory = catalogue.key_directory();
    directory
        .institutions()
        .keys()
        .flat_map(|id| catalogue.institution_views(id))
        .map(|view| {
            let mut record = (*view.record).clone();
            record.networked_date = catalogue
                .first_seen(&record.id())
                .map(networked_date)
                .unwrap_or_default();
            record
        })
        .collect()
}

/// Institution names (Chinese) by id.
pub(super) fn names_of(catalogue: &Catalogue) -> std::collections::BTreeMap<InstitutionId, String> {
    catalogue
        .key_directory()
        .institutions()
        .iter()
        .map(|(id, cert)| (id.clone(), cert.name_zh.clone()))
        .collect()
}
