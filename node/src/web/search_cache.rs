//! Answers to searches by free time, kept while the catalogue has not changed. Such a
//! search reads every matching record's availability (the index cannot filter on it), so
//! a client repeating one must not make the node do that work again each time.

use std::sync::{Arc, Mutex};

use alliance_web::backend::{InstrumentPage, SearchParams};

/// Answers kept; the oldest is dropped first.
const ENTRIES: usize = 64;

/// Recent answers, each with the catalogue generation it was computed at.
#[derive(Debug, Default)]
pub(super) struct SearchCache {
    entries: Mutex<Vec<(SearchParams, u64, Arc<InstrumentPage>)>>,
}

impl SearchCache {
    /// The answer computed for `params` at catalogue `generation`, if kept.
    pub(super) fn get(
        &self,
        params: &SearchParams,
        generation: u64,
    ) -> Option<Arc<InstrumentPage>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(p, g, _)| *g == generation && p == params)
            .map(|(_, _, page)| page.clone())
    }

    /// Keeps an answer; answers of older generations go first.
    pub(super) fn put(&self, params: SearchParams, generation: u64, page: Arc<InstrumentPage>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(_, g, _)| *g == generation);
        if entries.len() >= ENTRIES {
            entries.remove(0);
        }
        entries.push((params, generation, page));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn page(total: usize) -> Arc<InstrumentPage> {
        Arc::new(InstrumentPage {
            total,
            page: 1,
            per_page: 20,
            items: Vec::new(),
        })
    }

    #[test]
    fn an_answer_is_reused_only_for_the_same_search_and_catalogue() {
        let cache = SearchCache::default();
        let params = SearchParams {
            free_between: Some(("2026-12-07".into(), "2026-12-08".into())),
            ..SearchParams::default()
        };
        cache.put(params.clone(), 5, page(3));
        assert_eq!(cache.get(&params, 5).unwrap().total, 3);
        assert!(cache.get(&params, 6).is_none(), "the catalogue changed");
        let other = SearchParams {
            q: "质谱".into(),
            ..params.clone()
        };
        assert!(cache.get(&other, 5).is_none());
        for i in 0..(ENTRIES + 10) {
            let p = SearchParams {
                page: i + 2,
                ..params.clone()
            };
            cache.put(p, 5, page(i));
        }
        assert_eq!(cache.entries.lock().unwrap().len(), ENTRIES, "bounded");
    }
}
