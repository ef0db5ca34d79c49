use super::*;
use crate::{
    Entry, EntryBody, UnverifiedEntry,
    fixtures::{need, offer},
    keys::SecretKey,
};

/// A change that makes a valid value invalid.
type Spoil<T> = Box<dyn Fn(&mut T)>;

fn open(bytes: &[u8], key: &SecretKey) -> Result<Entry, RecordError> {
    UnverifiedEntry::decode(bytes)?.verify(&key.public())
}

#[test]
fn a_need_and_an_offer_round_trip_as_catalogue_entries_with_their_slots() {
    let home = SecretKey::generate();
    let mut accepted = need();
    accepted.state = NeedState::Accepted {
        institution: "neu".parse().unwrap(),
        revision: 9,
        at: UnixTime(1_796_100_000),
    };
    let entry = open(&accepted.seal(&home), &home).unwrap();
    assert_eq!(entry.body, EntryBody::Need(Box::new(accepted.clone())));
    assert_eq!(entry.body.slot(), "n/n_0001");
    assert_eq!(entry.body.subject(), "dlut/n_0001");
    assert_eq!(entry.body.origin().as_str(), "dlut");

    let neu = SecretKey::generate();
    let entry = open(&offer().seal(&neu), &neu).unwrap();
    assert_eq!(entry.body, EntryBody::Offer(Box::new(offer())));
    // One offer per institution and need: a revision replaces the one before.
    assert_eq!(entry.body.slot(), "o/dlut/n_0001");
    assert_eq!(entry.body.origin().as_str(), "neu");
    assert_eq!(entry.body.revision(), 9);
}

#[test]
fn a_need_with_a_bad_field_is_refused_by_whoever_reads_it() {
    let home = SecretKey::generate();
    let cases: Vec<(&str, Spoil<Need>)> = vec![
        ("title", Box::new(|n| n.title = " ".into())),
        ("sample_count", Box::new(|n| n.sample_count = 0)),
        (
            "sample_count",
            Box::new(|n| n.sample_count = MAX_SAMPLES + 1),
        ),
        ("modes", Box::new(|n| n.modes.clear())),
        (
            "modes",
            Box::new(|n| n.modes = vec![ServiceMode::StaffRun, ServiceMode::StaffRun]),
        ),
        ("keywords", Box::new(|n| n.keywords = vec!["x".repeat(65)])),
        (
            "keywords",
            Box::new(|n| n.keywords = (0..11).map(|i| i.to_string()).collect()),
        ),
        (
            "categories",
            Box::new(|n| n.categories = (0..6).map(|i| i.to_string()).collect()),
        ),
        ("deadline", Box::new(|n| n.deadline = "next week".into())),
        ("budget_max_fen", Box::new(|n| n.budget_min_fen = 400_000)),
        ("budget_max_fen", Box::new(|n| n.budget_max_fen = -1)),
    ];
    for (name, spoil) in cases {
        let mut bad = need();
        spoil(&mut bad);
        match open(&bad.seal(&home), &home) {
            Err(RecordError::Field { field, .. }) => assert_eq!(field, name),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn an_offer_with_a_bad_field_is_refused() {
    let neu = SecretKey::generate();
    let cases: Vec<(&str, Spoil<Offer>)> = vec![
        ("service_item", Box::new(|o| o.service_item.clear())),
        ("price_fen", Box::new(|o| o.price_fen = -5)),
        ("price_reason", Box::new(|o| o.quoted = true)),
        ("turnaround_days", Box::new(|o| o.turnaround_days = 0)),
        ("mode", Box::new(|o| o.mode = ServiceMode::Unspecified)),
        (
            "earliest_date",
            Box::new(|o| o.earliest_date = "soon".into()),
        ),
    ];
    for (name, spoil) in cases {
        let mut bad = offer();
        spoil(&mut bad);
        match open(&bad.seal(&neu), &neu) {
            Err(RecordError::Field { field, .. }) => assert_eq!(field, name),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn prices_follow_the_user_as_each_institution_sees_them() {
    let dlut: InstitutionId = "dlut".parse().unwrap();
    let neu: InstitutionId = "neu".parse().unwrap();
    let mut n = need();
    n.tier = UserTier::OwnInstitution;
    assert_eq!(n.tier_at(&dlut), UserTier::OwnInstitution);
    assert_eq!(n.tier_at(&neu), UserTier::AllianceMember);
    n.tier = UserTier::Enterprise;
    assert_eq!(n.tier_at(&neu), UserTier::Enterprise);
}
