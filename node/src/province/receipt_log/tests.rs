#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use alliance_protocol::{
    receipt::{ReceiptConfirmation, UsageReceipt, receipt_hash},
    transparency::{TreeHead, verify_consistency, verify_inclusion},
};

use super::*;

const DAY: i64 = 86_400;
/// 2026-12-01 00:00 UTC.
const T0: i64 = 1_796_083_200;
/// When the tests submit: a month later.
const NOW: UnixTime = UnixTime(T0 + 30 * DAY);
/// The rules of the default config: 30 minutes' allowance, 45 days to be logged.
const RULES: LogRules = LogRules {
    effective_allowance_minutes: 30,
    late_window_seconds: 45 * DAY,
};

/// Certificates as the province issued them: (node key, institution, from, until).
struct Eras(Vec<(PublicKey, InstitutionId, i64, i64)>);

impl MemberHistory for Eras {
    fn institution_at(&self, key: &PublicKey, at: UnixTime) -> Option<InstitutionId> {
        self.0
            .iter()
            .find(|(k, _, from, until)| k == key && *from <= at.0 && at.0 < *until)
            .map(|(_, institution, _, _)| institution.clone())
    }

    fn was_member(&self, institution: &InstitutionId, at: UnixTime) -> bool {
        self.0
            .iter()
            .any(|(_, i, from, until)| i == institution && *from <= at.0 && at.0 < *until)
    }
}

struct Owners(HashSet<(String, String)>);

impl InstrumentOwners for Owners {
    fn owns(&self, institution: &InstitutionId, local_id: &str) -> bool {
        self.0
            .contains(&(institution.to_string(), local_id.to_owned()))
    }
}

struct World {
    dlut: SecretKey,
    neu: SecretKey,
    /// A node whose membership was revoked at T0 + 10 days.
    revoked: SecretKey,
    eras: Eras,
    owners: Owners,
}

fn id(s: &str) -> InstitutionId {
    s.parse().unwrap()
}

fn world() -> World {
    let (dlut, neu, revoked) = (
        SecretKey::generate(),
        SecretKey::generate(),
        SecretKey::generate(),
    );
    let eras = Eras(vec![
        (dlut.public(), id("dlut"), T0 - 365 * DAY, T0 + 365 * DAY),
        (neu.public(), id("neu"), T0 - 365 * DAY, T0 + 365 * DAY),
        (revoked.public(), id("imr"), T0 - 365 * DAY, T0 + 10 * DAY),
    ]);
    let owners = Owners(
        [("dlut", "XPS-1"), ("imr", "TEM-2")]
            .iter()
            .map(|(i, l)| ((*i).to_owned(), (*l).to_owned()))
            .collect(),
    );
    World {
        dlut,
        neu,
        revoked,
        eras,
        owners,
    }
}

/// Receipt `r<n>`: two hours on `day`, starting `n` × 3 hours into it, so that no two
/// receipts of different numbers overlap.
fn receipt(n: u32, owner: &str, local_id: &str, day: i64) -> UsageReceipt {
    let start = T0 + day * DAY + i64::from(n) * 3 * 3_600;
    UsageReceipt {
        receipt_id: format!("r{n}"),
        institution_id: id(owner),
        local_id: local_id.into(),
        booking_id: String::new(),
        start: UnixTime(start),
        end: UnixTime(start + 7_200),
        issued_at: UnixTime(start + 8_000),
        ..alliance_protocol::fixtures::receipt()
    }
}

/// A receipt of dlut's, confirmed by neu with a rating.
fn confirmed(w: &World, n: u32) -> Vec<u8> {
    let r = receipt(n, "dlut", "XPS-1", 1);
    let sealed = r.seal(&w.dlut);
    let confirmation = ReceiptConfirmation {
        receipt_hash: receipt_hash(&sealed),
        receipt_id: r.receipt_id.clone(),
        institution_id: r.institution_id.clone(),
        user_id: r.user_id.clone(),
        verdict: alliance_protocol::receipt::Verdict::Confirmed {
            rating: 4,
            comment: String::new(),
        },
        confirmed_at: UnixTime(T0 + 2 * DAY),
    };
    ReceiptSubmission {
        receipt: sealed,
        confirmation: Some(confirmation.seal(&w.neu)),
    }
    .encode()
}

fn single(r: &UsageReceipt, key: &SecretKey) -> Vec<u8> {
    ReceiptSubmission {
        receipt: r.seal(key),
        confirmation: None,
    }
    .encode()
}

fn open_log(dir: &std::path::Path, province: &SecretKey) -> ReceiptLog {
    ReceiptLog::open(Store::open(dir).unwrap(), province.clone(), RULES).unwrap()
}

#[tokio::test]
async fn accepted_receipts_come_back_with_a_proof_the_member_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let province = SecretKey::generate();
    let w = world();
    let log = open_log(dir.path(), &province);
    let submissions: Vec<Vec<u8>> = (0..5).map(|n| confirmed(&w, n)).collect();
    let answers = log
        .submit(&submissions, &w.eras, &w.owners, NOW)
        .await
        .unwrap();
    for (n, (answer, bytes)) in answers.iter().zip(&submissions).enumerate() {
        let included = answer.as_ref().unwrap();
        assert_eq!(included.index, n as u64);
        assert!(!included.already);
        let head = TreeHead::open(&included.head, &province.public()).unwrap();
        assert_eq!(head.size, 5);
        verify_inclusion(&head, bytes, included.index, &included.proof).unwrap();
    }
}

#[tokio::test]
async fn a_replay_gets_its_place_and_is_not_logged_twice_but_other_contents_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let province = SecretKey::generate();
    let w = world();
    let log = open_log(dir.path(), &province);
    let first = confirmed(&w, 1);
    log.submit(std::slice::from_ref(&first), &w.eras, &w.owners, NOW)
        .await
        .unwrap();
    // The same bytes twice in one call and again later.
    let again = log
        .submit(&[first.clone(), first.clone()], &w.eras, &w.owners, NOW)
        .await
        .unwrap();
    for answer in again {
        let included = answer.unwrap();
        assert_eq!(included.index, 0);
        assert!(included.already);
    }
    assert_eq!(log.len().await, 1);
    // Long past the late window (a member resubmitting after a restore): still its place.
    let much_later = UnixTime(NOW.0 + 400 * DAY);
    let replayed = log
        .submit(std::slice::from_ref(&first), &w.eras, &w.owners, much_later)
        .await
        .unwrap();
    let replayed = replayed[0].as_ref().unwrap();
    assert_eq!((replayed.index, replayed.already), (0, true));
    // Submitted twice at once, by two connections: logged once.
    let second = confirmed(&w, 2);
    let (a, b) = tokio::join!(
        log.submit(std::slice::from_ref(&second), &w.eras, &w.owners, NOW),
        log.submit(std::slice::from_ref(&second), &w.eras, &w.owners, NOW),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let (a, b) = (a[0].as_ref().unwrap(), b[0].as_ref().unwrap());
    assert_eq!((a.index, b.index), (1, 1));
    assert!(a.already != b.already, "exactly one of the two appended it");
    assert_eq!(log.len().await, 2);
    // The same receipt id with other contents (here: single-signed) is refused.
    let other = single(&receipt(1, "dlut", "XPS-1", 1), &w.dlut);
    let answer = log.submit(&[other], &w.eras, &w.owners, NOW).await.unwrap();
    assert_eq!(answer[0].as_ref().unwrap_err().code(), "conflicting");
    assert_eq!(log.len().await, 2);
}

#[tokio::test]
async fn forged_foreign_altered_and_revoked_receipts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let province = SecretKey::generate();
    let w = world();
    let log = open_log(dir.path(), &province);
    let stranger = SecretKey::generate();
    let mut altered = single(&receipt(2, "dlut", "XPS-1", 1), &w.dlut);
    let at = altered.len() / 2;
    altered[at] ^= 1;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // Signed by a node that never was a member.
        (
            single(&receipt(1, "dlut", "XPS-1", 1), &stranger),
            "not_a_member",
        ),
        // neu's node signing a receipt of dlut's instrument.
        (
            single(&receipt(3, "dlut", "XPS-1", 1), &w.neu),
            "not_the_owner",
        ),
        // An instrument dlut does not have.
        (
            single(&receipt(4, "dlut", "NMR-9", 1), &w.dlut),
            "unknown_instrument",
        ),
        // Use after imr's revocation; use before it is fine (below).
        (
            single(&receipt(5, "imr", "TEM-2", 20), &w.revoked),
            "not_a_member",
        ),
        // Garbage.
        (vec![0xff; 40], "unreadable"),
    ];
    for (bytes, code) in &cases {
        let answer = log
            .submit(std::slice::from_ref(bytes), &w.eras, &w.owners, NOW)
            .await
            .unwrap();
        assert_eq!(answer[0].as_ref().unwrap_err().code(), *code);
    }
    let answer = log
        .submit(&[altered], &w.eras, &w.owners, NOW)
        .await
        .unwrap();
    assert!(answer[0].is_err());
    // A confirmation signed by a node other than the user's home.
    let r = receipt(6, "dlut", "XPS-1", 1);
    let sealed = r.seal(&w.dlut);
    let by_owner = ReceiptConfirmation {
        receipt_hash: receipt_hash(&sealed),
        receipt_id: r.receipt_id.clone(),
        institution_id: r.institution_id.clone(),
        user_id: r.user_id.clone(),
        verdict: alliance_protocol::receipt::Verdict::Confirmed {
            rating: 5,
            comment: String::new(),
        },
        confirmed_at: UnixTime(T0 + 2 * DAY),
    }
    .seal(&w.dlut);
    let self_rated = ReceiptSubmission {
        receipt: sealed,
        confirmation: Some(by_owner),
    }
    .encode();
    let answer = log
        .submit(&[self_rated], &w.eras, &w.owners, NOW)
        .await
        .unwrap();
    assert_eq!(answer[0].as_ref().unwrap_err().code(), "bad_confirmation");
    assert_eq!(log.len().await, 0);
    // imr's receipt for use before its revocation is logged.
    let before = single(&receipt(7, "imr", "TEM-2", 2), &w.revoked);
    let answer = log
        .submit(&[before], &w.eras, &w.owners, NOW)
        .await
        .unwrap();
    assert!(answer[0].is_ok());
}

#[tokio::test]
async fn the_log_survives_a_restart_and_only_grows() {
    let dir = tempfile::tempdir().unwrap();
    let province = SecretKey::generate();
    let w = world();
    let seen = {
        let log = open_log(dir.path(), &province);
        let submissions: Vec<Vec<u8>> = (0..7).map(|n| confirmed(&w, n)).collect();
        log.submit(&submissions, &w.eras, &w.owners, NOW)
            .await
            .unwrap();
        TreeHead::open(&log.head().await, &province.public()).unwrap()
    };
    let log = open_log(dir.path(), &province);
    assert_eq!(log.len().await, 7);
    let again = TreeHead::open(&log.head().await, &province.public()).unwrap();
    assert_eq!((again.size, again.root), (seen.size, seen.root));
    assert_eq!(log.entry(3).unwrap().unwrap(), confirmed(&w, 3));
    let more: Vec<Vec<u8>> = (7..12).map(|n| confirmed(&w, n)).collect();
    log.submit(&more, &w.eras, &w.owners, NOW).await.unwrap();
    let (head, proof) = log.consistency(seen.size).await.unwrap();
    let head = TreeHead::open(&head, &province.public()).unwrap();
    assert_eq!(head.size, 12);
    verify_consistency(&seen, &head, &proof).unwrap();
    assert!(log.consistency(13).await.is_none());
}

#[tokio::test]
async fn inflated_late_overlapping_and_homeless_receipts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let province = SecretKey::generate();
    let w = world();
    let log = open_log(dir.path(), &province);
    let code = |answer: &[Result<Included, Refusal>]| {
        answer[0]
            .as_ref()
            .map(|_| "logged")
            .unwrap_or_else(|r| r.code())
    };
    // 44,640 minutes stated for a 30-minute session.
    let thirty = receipt(1, "dlut", "XPS-1", 1);
    let inflated = UsageReceipt {
        end: UnixTime(thirty.start.0 + 1_800),
        preparation_minutes: 0,
        test_minutes: 44_640,
        post_processing_minutes: 0,
        ..thirty
    };
    // The first 30 minutes of the allowance pass, a minute more does not.
    let within = UsageReceipt {
        test_minutes: 130,
        ..receipt(2, "dlut", "XPS-1", 1)
    };
    let beyond = UsageReceipt {
        test_minutes: 131,
        ..receipt(3, "dlut", "XPS-1", 1)
    };
    // A walk-in naming a home that never was a member.
    let homeless = UsageReceipt {
        home_institution: id("nowhere"),
        ..receipt(4, "dlut", "XPS-1", 1)
    };
    // A use that ended 46 days before the log sees it.
    let late = receipt(5, "dlut", "XPS-1", -17);
    for (r, expected) in [
        (&inflated, "effective_exceeds_use"),
        (&within, "logged"),
        (&beyond, "effective_exceeds_use"),
        (&homeless, "unknown_home"),
        (&late, "too_late"),
    ] {
        let answer = log
            .submit(&[single(r, &w.dlut)], &w.eras, &w.owners, NOW)
            .await
            .unwrap();
        assert_eq!(code(&answer), expected, "{}", r.receipt_id);
    }
    // Overlapping r2 (logged above): refused with the one it overlaps named, in a later
    // call and within one call alike; the adjacent slot is free.
    let overlapping = UsageReceipt {
        receipt_id: "r2-again".into(),
        start: UnixTime(within.start.0 + 3_600),
        end: UnixTime(within.end.0 + 3_600),
        issued_at: UnixTime(within.end.0 + 4_000),
        ..within.clone()
    };
    let answer = log
        .submit(&[single(&overlapping, &w.dlut)], &w.eras, &w.owners, NOW)
        .await
        .unwrap();
    assert_eq!(code(&answer), "overlapping");
    assert!(answer[0].as_ref().unwrap_err().to_string().contains("r2"));
    let adjacent = UsageReceipt {
        receipt_id: "r2-next".into(),
        start: within.end,
        end: UnixTime(within.end.0 + 3_600),
        issued_at: UnixTime(within.end.0 + 3_700),
        test_minutes: 40,
        ..within.clone()
    };
    let twin = UsageReceipt {
        receipt_id: "r2-twin".into(),
        ..adjacent.clone()
    };
    let answer = log
        .submit(
            &[single(&adjacent, &w.dlut), single(&twin, &w.dlut)],
            &w.eras,
            &w.owners,
            NOW,
        )
        .await
        .unwrap();
    assert!(answer[0].is_ok());
    assert_eq!(answer[1].as_ref().unwrap_err().code(), "overlapping");
    assert_eq!(log.len().await, 2);
    // The index of uses survives a restart.
    drop(log);
    let log = open_log(dir.path(), &province);
    let answer = log
        .submit(&[single(&overlapping, &w.dlut)], &w.eras, &w.owners, NOW)
        .await
        .unwrap();
    assert_eq!(code(&answer), "overlapping");
}

#[tokio::test]
async fn a_log_written_before_uses_were_indexed_gets_its_index_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let province = SecretKey::generate();
    let w = world();
    let first = receipt(1, "dlut", "XPS-1", 1);
    {
        let log = open_log(dir.path(), &province);
        log.submit(&[single(&first, &w.dlut)], &w.eras, &w.owners, NOW)
            .await
            .unwrap();
    }
    // As an older version left it: the entry, but no index of uses and no mark.
    {
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::new();
        for (key, _) in store.scan_prefix(Space::LogUses, b"").unwrap() {
            batch.delete(Space::LogUses, key);
        }
        batch.delete(Space::Meta, USES_INDEXED.to_vec());
        store.commit(batch).await.unwrap();
    }
    let log = open_log(dir.path(), &province);
    let again = UsageReceipt {
        receipt_id: "r1-again".into(),
        ..first
    };
    let answer = log
        .submit(&[single(&again, &w.dlut)], &w.eras, &w.owners, NOW)
        .await
        .unwrap();
    assert_eq!(answer[0].as_ref().unwrap_err().code(), "overlapping");
}
