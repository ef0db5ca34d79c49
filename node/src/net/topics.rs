//! Gossip topics. A topic name carries its version: a new message format gets a new topic.

use libp2p::gossipsub::IdentTopic;

/// Signed rosters from the province.
pub fn roster() -> IdentTopic {
    IdentTopic::new("alliance/roster/v1")
}

/// Node announcements.
pub fn announce() -> IdentTopic {
    IdentTopic::new("alliance/announce/v1")
}

/// Catalogue entries (records, reviews, availability), each published by its origin.
pub fn catalogue() -> IdentTopic {
    IdentTopic::new("alliance/catalogue/v1")
}

/// Signed tree heads of the province's receipt log, published by the province.
pub fn tree_heads() -> IdentTopic {
    IdentTopic::new("alliance/tree-head/v1")
}
