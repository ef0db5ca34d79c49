//! Full-text search over the replicated catalogue, with tantivy.
//!
//! The index lives in memory and is rebuilt from the store at start: the catalogue is
//! small (10^5 records nationally) and the store is the only thing that must survive a
//! crash. Only ids are stored in the index; the records themselves are held by the
//! catalogue's view.
//!
//! Text matching: every term of the query must occur (in any field); a term found in a
//! name ranks higher than one found in the description. Filters are exact terms and a
//! range on the original value.

mod synonyms;
mod tokenizer;

use std::{ops::Bound, sync::Mutex};

use alliance_protocol::{InstitutionId, InstrumentRecord, ServiceMode, UserTier};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
    collector::{Count, TopDocs},
    query::{AllQuery, BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery},
    schema::{
        Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
    },
};

pub use synonyms::{Synonyms, SynonymsError};
pub use tokenizer::{CjkTokenizer, query_terms};

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(String);

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError(e.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    institution: Field,
    category: Field,
    city: Field,
    mode: Field,
    tier: Field,
    /// `retired` for instruments taken out of service for good (报废), else absent.
    status: Field,
    visible: Field,
    value: Field,
    names: Field,
    all: Field,
}

/// Everything a search can ask.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexQuery {
    /// Free text; empty matches everything.
    pub text: String,
    /// A category code; a top-level code also matches its subcategories.
    pub category: Option<String>,
    pub institution: Option<InstitutionId>,
    pub city: Option<String>,
    /// Original value bounds, in fen, inclusive.
    pub min_value_fen: Option<i64>,
    pub max_value_fen: Option<i64>,
    pub mode: Option<ServiceMode>,
    /// Only instruments whose sharing scope admits this tier.
    pub tier: Option<UserTier>,
    /// The institution of the node answering: its own internal instruments are visible.
    pub viewer: Option<InstitutionId>,
    /// Institutions whose records must not appear (no longer members).
    pub hidden: Vec<InstitutionId>,
    /// Also instruments retired for good (hidden unless asked for).
    pub include_retired: bool,
}

/// What the index knows of a record beyond its fields.
#[derive(Debug, Clone, Default)]
pub struct IndexExtras {
    /// The category code and its top-level code.
    pub categories: Vec<String>,
    /// Words to find the record by that are not in it: category and institution names.
    pub text: String,
    /// Only this institution's users may find it (internal, or waiting for approval).
    pub visible_only_to: Option<InstitutionId>,
}

/// The search index.
pub struct SearchIndex {
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    fields: Fields,
    /// Changes were made since the last commit.
    dirty: std::sync::atomic::AtomicBool,
    /// Short names people search by, and the full ones records are named by.
    synonyms: Synonyms,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

/// Memory for the index writer (tantivy's minimum per thread is 15 MB).
const WRITER_HEAP: usize = 32 * 1024 * 1024;

fn mode_term(mode: ServiceMode) -> &'static str {
    match mode {
        ServiceMode::SelfOperated => "self_operated",
        ServiceMode::StaffRun => "staff_run",
        ServiceMode::Unspecified => "unspecified",
    }
}

impl SearchIndex {
    /// An empty index in memory.
    pub fn new() -> Result<SearchIndex, SearchError> {
        SearchIndex::create(None)
    }

    /// An empty index in `dir` (emptied first): the index is rebuilt from the store at
    /// every start, so nothing in `dir` is kept. On disk, a large catalogue's segments
    /// live in the page cache instead of the heap, and merging them does not copy them
    /// around in memory.
    pub fn in_dir(dir: &std::path::Path) -> Result<SearchIndex, SearchError> {
        SearchIndex::create(Some(dir))
    }

    fn create(dir: Option<&std::path::Path>) -> Result<SearchIndex, SearchError> {
        let mut schema = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer::INDEX_ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            id: schema.add_text_field("id", STRING | STORED),
            institution: schema.add_text_field("institution", STRING),
            category: schema.add_text_field("category", STRING),
            city: schema.add_text_field("city", STRING),
            mode: schema.add_text_field("mode", STRING),
            tier: schema.add_text_field("tier", STRING),
            status: schema.add_text_field("status", STRING),
            visible: schema.add_text_field("visible", STRING),
            value: schema.add_i64_field("value", tantivy::schema::INDEXED | tantivy::schema::FAST),
            names: schema.add_text_field("names", text.clone()),
            all: schema.add_text_field("all", text),
        };
        let index = match dir {
            None => Index::create_in_ram(schema.build()),
            Some(dir) => {
                let io = |e: std::io::Error| SearchError(format!("{}: {e}", dir.display()));
                if dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(io)?;
                }
                std::fs::create_dir_all(dir).map_err(io)?;
                Index::create_in_dir(dir, schema.build())?
            }
        };
        index.tokenizers().register(
            tokenizer::INDEX_ANALYZER,
            tokenizer::analyzer(CjkTokenizer::index()),
        );
        let writer = index.writer_with_num_threads(1, WRITER_HEAP)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            writer: Mutex::new(writer),
            reader,
            fields,
            dirty: std::sync::atomic::AtomicBool::new(false),
            synonyms: Synonyms::builtin(),
        })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        // The writer holds no invariant a panic elsewhere could break.
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds or replaces a record (visible after [`SearchIndex::commit`]).
    pub fn upsert(
        &self,
        record: &InstrumentRecord,
        extras: &IndexExtras,
    ) -> Result<(), SearchError> {
        self.put(record, extras, true)
    }

    /// Adds a record the index does not hold yet: with no delete to apply, a bulk load
    /// stays linear.
    pub fn insert(
        &self,
        record: &InstrumentRecord,
        extras: &IndexExtras,
    ) -> Result<(), SearchError> {
        self.put(record, extras, false)
    }

    fn put(
        &self,
        record: &InstrumentRecord,
        extras: &IndexExtras,
        replace: bool,
    ) -> Result<(), SearchError> {
        let f = self.fields;
        let id = record.id();
        let writer = self.writer();
        self.dirty.store(true, std::sync::atomic::Ordering::Release);
        if replace {
            writer.delete_term(Term::from_field_text(f.id, &id));
        }
        if record.deleted {
            return Ok(());
        }
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &id);
        doc.add_text(f.institution, record.institution_id.as_str());
        for category in &extras.categories {
            doc.add_text(f.category, category);
        }
        doc.add_text(f.city, &record.location.city);
        for mode in &record.service_modes {
            doc.add_text(f.mode, mode_term(*mode));
        }
        for tier in UserTier::ALL {
            if record.sharing_scope.admits(tier) {
                doc.add_text(f.tier, tier.as_str());
            }
        }
        let visible = match &extras.visible_only_to {
            Some(institution) => format!("only:{institution}"),
            None => "all".to_owned(),
        };
        doc.add_text(f.visible, &visible);
        if record.status == alliance_protocol::InstrumentStatus::Retired {
            doc.add_text(f.status, "retired");
        }
        doc.add_i64(f.value, record.original_value_fen);
        doc.add_text(f.names, &record.name_zh);
        doc.add_text(f.names, &record.name_en);
        doc.add_text(f.names, &record.model);
        let description = [
            &record.name_zh,
            &record.name_en,
            &record.model,
            &record.manufacturer,
            &record.specification,
            &record.main_specifications,
            &record.main_functions,
            &record.accessories,
            &record.location.city,
            &record.location.campus,
            &record.location.building,
            &record.local_id,
            &extras.text,
        ];
        for part in description {
            doc.add_text(f.all, part);
        }
        writer.add_document(doc)?;
        Ok(())
    }

    /// Makes every change since the last commit searchable. Searches call it, so a burst
    /// of changes (a sync of thousands of records) costs one commit, paid by the next
    /// search, instead of one per change.
    pub fn commit(&self) -> Result<(), SearchError> {
        use std::sync::atomic::Ordering;
        let mut writer = self.writer();
        if self.dirty.swap(false, Ordering::AcqRel) {
            if let Err(e) = writer.commit() {
                self.dirty.store(true, Ordering::Release);
                return Err(e.into());
            }
            self.reader.reload()?;
        }
        Ok(())
    }

    fn term(&self, field: Field, text: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::Basic,
        ))
    }

    /// A term of the query: found in any field, ranked higher in a name.
    fn text_term(&self, term: &str) -> Box<dyn Query> {
        let f = self.fields;
        let in_names: Box<dyn Query> = Box::new(BoostQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(f.names, term),
                IndexRecordOption::WithFreqs,
            )),
            3.0,
        ));
        let anywhere: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(f.all, term),
            IndexRecordOption::WithFreqs,
        ));
        Box::new(BooleanQuery::new(vec![
            (Occur::Should, in_names),
            (Occur::Should, anywhere),
        ]))
    }

    /// Every term of `text` must match.
    fn all_terms(&self, text: &str) -> Vec<(Occur, Box<dyn Query>)> {
        query_terms(text)
            .iter()
            .map(|term| (Occur::Must, self.text_term(term)))
            .collect()
    }

    fn build(&self, q: &IndexQuery) -> Box<dyn Query> {
        let f = self.fields;
        // Phrases with synonyms match any of them; the rest of the text as written.
        let (rest, phrases) = self.synonyms.expand(&q.text);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = self.all_terms(&rest);
        for alternatives in phrases {
            let any: Vec<(Occur, Box<dyn Query>)> = alternatives
                .iter()
                .map(|alternative| self.all_terms(alternative))
                .filter(|terms| !terms.is_empty())
                .map(|terms| {
                    (
                        Occur::Should,
                        Box::new(BooleanQuery::new(terms)) as Box<dyn Query>,
                    )
                })
                .collect();
            if !any.is_empty() {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
        }
        if clauses.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        let mut filter = |field: Field, value: Option<&str>| {
            if let Some(value) = value {
                clauses.push((Occur::Must, self.term(field, value)));
            }
        };
        filter(f.category, q.category.as_deref());
        filter(
            f.institution,
            q.institution.as_ref().map(InstitutionId::as_str),
        );
        filter(f.city, q.city.as_deref());
        filter(f.mode, q.mode.map(mode_term));
        filter(f.tier, q.tier.map(UserTier::as_str));
        if !q.include_retired {
            clauses.push((Occur::MustNot, self.term(f.status, "retired")));
        }
        let mut visible = vec![(Occur::Should, self.term(f.visible, "all"))];
        if let Some(viewer) = &q.viewer {
            visible.push((
                Occur::Should,
                self.term(f.visible, &format!("only:{viewer}")),
            ));
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(visible))));
        for hidden in &q.hidden {
            clauses.push((Occur::MustNot, self.term(f.institution, hidden.as_str())));
        }
        if q.min_value_fen.is_some() || q.max_value_fen.is_some() {
            let bound = |v: Option<i64>| match v {
                Some(v) => Bound::Included(Term::from_field_i64(f.value, v)),
                None => Bound::Unbounded,
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    bound(q.min_value_fen),
                    bound(q.max_value_fen),
                )),
            ));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// The ids of matching records, best first, from `offset`, at most `limit`, and how
    /// many match in all. `keep`, if given, is a further filter applied to every match
    /// (before counting).
    pub fn search(
        &self,
        q: &IndexQuery,
        offset: usize,
        limit: usize,
        keep: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<(usize, Vec<String>), SearchError> {
        self.commit()?;
        let searcher = self.reader.searcher();
        let query = self.build(q);
        let ids = |hits: Vec<(f32, tantivy::DocAddress)>| -> Result<Vec<String>, SearchError> {
            hits.into_iter()
                .map(|(_, address)| {
                    let doc: TantivyDocument = searcher.doc(address)?;
                    Ok(doc
                        .get_first(self.fields.id)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned())
                })
                .collect()
        };
        let limit = limit.max(1);
        match keep {
            // Past the last document there is nothing to rank: count only. The collector
            // below holds `offset + limit` hits, so an offset from a query string (a page
            // number) must not size it.
            None if offset >= usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX) => {
                Ok((searcher.search(&query, &Count)?, Vec::new()))
            }
            None => {
                let (total, hits) = searcher.search(
                    &query,
                    &(
                        Count,
                        TopDocs::with_limit(limit)
                            .and_offset(offset)
                            .order_by_score(),
                    ),
                )?;
                Ok((total, ids(hits)?))
            }
            Some(keep) => {
                let total = searcher.search(&query, &Count)?;
                let hits =
                    searcher.search(&query, &TopDocs::with_limit(total.max(1)).order_by_score())?;
                let kept: Vec<String> = ids(hits)?.into_iter().filter(|id| keep(id)).collect();
                let total = kept.len();
                Ok((total, kept.into_iter().skip(offset).take(limit).collect()))
            }
        }
    }

    /// Documents in the index (for tests and status).
    pub fn len(&self) -> u64 {
        if let Err(e) = self.commit() {
            tracing::warn!(error = %e, "search index commit failed");
        }
        self.reader.searcher().num_docs()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
