//! The board as this node holds it, in memory: every need and every offer of the
//! alliance, newest version of each, rebuilt from the catalogue's replica at start and
//! kept up as entries arrive. Bounded by the replica's caps (needs and offers per
//! member).

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, RwLock, RwLockReadGuard},
};

use alliance_protocol::{InstitutionId, Need, NeedState, Offer, event::Event};

/// What a list of needs is filtered by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NeedFilter {
    /// Only needs still taking offers (open, and not past their deadline).
    pub open_only: bool,
    /// Only needs naming this category or one below it (a top-level code matches its
    /// subcategories).
    pub category: Option<String>,
    /// Words that must all appear in the title, description, sample kind or keywords
    /// (case is ignored).
    pub words: Vec<String>,
    /// Only needs posted at this home.
    pub home: Option<InstitutionId>,
}

impl NeedFilter {
    fn admits(&self, need: &Need, today: &str) -> bool {
        if self.open_only && (!need.is_open() || need.deadline.as_str() < today) {
            return false;
        }
        if let Some(home) = &self.home
            && &need.home != home
        {
            return false;
        }
        if let Some(category) = &self.category
            && !need
                .categories
                .iter()
                .any(|c| c.starts_with(category.as_str()) || category.starts_with(c.as_str()))
        {
            return false;
        }
        if self.words.is_empty() {
            return true;
        }
        let text = format!(
            "{} {} {} {}",
            need.title,
            need.description,
            need.sample_kind,
            need.keywords.join(" ")
        )
        .to_lowercase();
        self.words.iter().all(|w| text.contains(&w.to_lowercase()))
    }
}

/// One page of needs, newest first.
#[derive(Debug, Clone, Default)]
pub struct NeedPage {
    pub total: usize,
    pub items: Vec<Arc<Need>>,
}

#[derive(Debug, Default)]
struct Held {
    needs: HashMap<String, Arc<Need>>,
    /// Needs by (posted at, id), for pages newest first.
    by_time: BTreeMap<(i64, String), ()>,
    /// Offers per need id, by offering institution.
    offers: HashMap<String, BTreeMap<InstitutionId, Arc<Offer>>>,
    /// Matching events by id, newest version of each.
    events: HashMap<String, Arc<Event>>,
    /// The same by (start, id): listed soonest first without a sort.
    events_by_start: BTreeMap<(i64, String), Arc<Event>>,
    /// Counts the versions taken: what is derived from the board is fresh while it
    /// stays the same.
    generation: u64,
}

/// The board in memory. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct BoardView {
    held: Arc<RwLock<Held>>,
}

impl BoardView {
    fn read(&self) -> RwLockReadGuard<'_, Held> {
        // Updates are single inserts: a poisoned lock is still consistent.
        self.held
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes a need's newest version (older ones are never passed: the replica only
    /// hands on what is fresh).
    pub fn put_need(&self, need: &Need) {
        let mut held = self
            .held
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = need.id();
        if held
            .needs
            .get(&id)
            .is_some_and(|old| old.revision >= need.revision)
        {
            return;
        }
        held.generation += 1;
        held.by_time.insert((need.posted_at.0, id.clone()), ());
        if let Some(old) = held.needs.insert(id.clone(), Arc::new(need.clone()))
            && old.posted_at != need.posted_at
        {
            held.by_time.remove(&(old.posted_at.0, id));
        }
    }

    /// Takes an offer's newest version.
    pub fn put_offer(&self, offer: &Offer) {
        let mut held = self
            .held
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let per_need = held.offers.entry(offer.need()).or_default();
        if per_need
            .get(&offer.institution_id)
            .is_some_and(|old| old.revision >= offer.revision)
        {
            return;
        }
        per_need.insert(offer.institution_id.clone(), Arc::new(offer.clone()));
        held.generation += 1;
    }

    /// Takes an event's newest version.
    pub fn put_event(&self, event: &Event) {
        let mut held = self
            .held
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = event.id();
        if held
            .events
            .get(&id)
            .is_some_and(|old| old.revision >= event.revision)
        {
            return;
        }
        let event = Arc::new(event.clone());
        if let Some(old) = held.events.insert(id.clone(), event.clone()) {
            held.events_by_start.remove(&(old.starts_at.0, id.clone()));
        }
        held.events_by_start.insert((event.starts_at.0, id), event);
        held.generation += 1;
    }

    /// An event by its alliance-wide id.
    pub fn event(&self, id: &str) -> Option<Arc<Event>> {
        self.read().events.get(id).cloned()
    }

    /// Every event held, soonest first.
    pub fn events(&self) -> Vec<Arc<Event>> {
        self.read().events_by_start.values().cloned().collect()
    }

    /// How many events `keep` keeps, and `limit` of them after `offset`, soonest first
    /// (only those are copied out).
    pub fn events_page(
        &self,
        keep: impl Fn(&Event) -> bool,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<Arc<Event>>) {
        let held = self.read();
        let mut total = 0;
        let mut page = Vec::new();
        for event in held.events_by_start.values().filter(|e| keep(e)) {
            if total >= offset && page.len() < limit {
                page.push(event.clone());
            }
            total += 1;
        }
        (total, page)
    }

    /// Changes with every version taken.
    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    /// A need by its alliance-wide id.
    pub fn need(&self, id: &str) -> Option<Arc<Need>> {
        self.read().needs.get(id).cloned()
    }

    /// The offers made for a need (withdrawn ones included), by institution.
    pub fn offers_for(&self, need_id: &str) -> Vec<Arc<Offer>> {
        self.read()
            .offers
            .get(need_id)
            .map(|o| o.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One institution's offer for a need.
    pub fn offer(&self, need_id: &str, institution: &InstitutionId) -> Option<Arc<Offer>> {
        self.read()
            .offers
            .get(need_id)
            .and_then(|o| o.get(institution).cloned())
    }

    /// A page of the needs `filter` admits, newest first; `hidden` homes (no longer
    /// members) left out.
    pub fn needs(
        &self,
        filter: &NeedFilter,
        hidden: &dyn Fn(&InstitutionId) -> bool,
        offset: usize,
        limit: usize,
    ) -> NeedPage {
        let today = super::today();
        let held = self.read();
        let mut page = NeedPage::default();
        for ((_, id), ()) in held.by_time.iter().rev() {
            let Some(need) = held.needs.get(id) else {
                continue;
            };
            if hidden(&need.home) || !filter.admits(need, &today) {
                continue;
            }
            if page.total >= offset && page.items.len() < limit {
                page.items.push(need.clone());
            }
            page.total += 1;
        }
        page
    }

    /// Every need held.
    pub fn all_needs(&self) -> Vec<Arc<Need>> {
        self.read().needs.values().cloned().collect()
    }

    /// Every offer `institution` made (withdrawn ones included), newest first.
    pub fn offers_by(&self, institution: &InstitutionId) -> Vec<Arc<Offer>> {
        let held = self.read();
        let mut offers: Vec<Arc<Offer>> = held
            .offers
            .values()
            .filter_map(|o| o.get(institution).cloned())
            .collect();
        offers.sort_by_key(|o| std::cmp::Reverse(o.offered_at));
        offers
    }

    /// Whether `offer` was made while its need still took offers, as far as this node
    /// knows: an offer signed after the need closed is shown as late, never accepted.
    pub fn in_time(&self, offer: &Offer) -> bool {
        match self.need(&offer.need()).map(|n| n.state.clone()) {
            Some(NeedState::Withdrawn { at } | NeedState::Accepted { at, .. }) => {
                offer.offered_at <= at
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use alliance_protocol::{UnixTime, fixtures};

    use super::*;

    #[test]
    fn pages_are_newest_first_and_filters_hold() {
        let view = BoardView::default();
        for n in 0..5 {
            view.put_need(&Need {
                local_id: format!("n_{n}"),
                posted_at: UnixTime(1_000 + n),
                keywords: vec![if n % 2 == 0 { "XRD" } else { "NMR" }.into()],
                ..fixtures::need()
            });
        }
        let all = view.needs(&NeedFilter::default(), &|_| false, 0, 2);
        assert_eq!(all.total, 5);
        let ids: Vec<&str> = all.items.iter().map(|n| n.local_id.as_str()).collect();
        assert_eq!(ids, ["n_4", "n_3"]);
        // Case is ignored; every fixture's title says XRD, two of them name NMR.
        let nmr = NeedFilter {
            words: vec!["nmr".into()],
            ..NeedFilter::default()
        };
        assert_eq!(view.needs(&nmr, &|_| false, 0, 10).total, 2);
        let hidden = view.needs(&NeedFilter::default(), &|h| h.as_str() == "dlut", 0, 10);
        assert_eq!(hidden.total, 0);
        // A newer version replaces, an older one does not.
        let mut closed = Need {
            local_id: "n_4".into(),
            posted_at: UnixTime(1_004),
            revision: 10,
            ..fixtures::need()
        };
        closed.state = NeedState::Withdrawn {
            at: UnixTime(2_000),
        };
        view.put_need(&closed);
        view.put_need(&Need {
            local_id: "n_4".into(),
            posted_at: UnixTime(1_004),
            revision: 9,
            ..fixtures::need()
        });
        let open = NeedFilter {
            open_only: true,
            ..NeedFilter::default()
        };
        assert_eq!(view.needs(&open, &|_| false, 0, 10).total, 4);
        // Past its deadline, a need takes no offer: it is not listed as open.
        let generation = view.generation();
        view.put_need(&Need {
            local_id: "n_old".into(),
            deadline: "2020-01-01".into(),
            ..fixtures::need()
        });
        assert_eq!(view.generation(), generation + 1);
        assert_eq!(view.needs(&open, &|_| false, 0, 10).total, 4);
        assert_eq!(
            view.needs(&NeedFilter::default(), &|_| false, 0, 10).total,
            6
        );
    }

    #[test]
    fn an_offer_signed_after_its_need_closed_is_late() {
        let view = BoardView::default();
        let mut need = fixtures::need();
        need.state = NeedState::Withdrawn {
            at: UnixTime(2_000),
        };
        view.put_need(&need);
        let late = Offer {
            offered_at: UnixTime(2_001),
            ..fixtures::offer()
        };
        assert!(!view.in_time(&late));
        let early = Offer {
            offered_at: UnixTime(1_999),
            ..fixtures::offer()
        };
        assert!(view.in_time(&early));
        view.put_offer(&early);
        assert_eq!(view.offers_for("dlut/n_0001").len(), 1);
    }

    #[test]
    fn events_page_soonest_first_and_a_moved_event_moves() {
        let view = BoardView::default();
        for (n, start) in [(0, 300), (1, 100), (2, 200)] {
            view.put_event(&alliance_protocol::event::Event {
                local_id: format!("e{n}"),
                revision: 1,
                starts_at: UnixTime(start),
                ..fixtures::event()
            });
        }
        let ids = |events: Vec<Arc<alliance_protocol::event::Event>>| {
            events
                .iter()
                .map(|e| e.local_id.clone())
                .collect::<Vec<_>>()
        };
        let (total, page) = view.events_page(|_| true, 1, 5);
        assert_eq!((total, ids(page)), (3, vec!["e2".into(), "e0".into()]));
        // A new version that starts earliest lists first, once.
        view.put_event(&alliance_protocol::event::Event {
            local_id: "e0".into(),
            revision: 2,
            starts_at: UnixTime(50),
            ..fixtures::event()
        });
        assert_eq!(ids(view.events()), ["e0", "e1", "e2"]);
        let (total, page) = view.events_page(|e| e.starts_at.0 > 60, 0, 1);
        assert_eq!((total, ids(page)), (2, vec!["e1".into()]));
    }
}
