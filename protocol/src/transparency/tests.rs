#![allow(clippy::unwrap_used, clippy::expect_used)]

use sha2::{Digest, Sha256};

use super::*;

fn entry(n: u64) -> Vec<u8> {
    format!("receipt {n}").into_bytes()
}

fn log_of(size: u64) -> MerkleLog {
    let mut log = MerkleLog::new();
    for n in 0..size {
        assert_eq!(log.push(&entry(n)), n);
    }
    log
}

#[test]
fn roots_follow_rfc_6962_hashing_of_entry_hashes() {
    let leaf = |n: u64| -> [u8; 32] {
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(Sha256::digest(entry(n)));
        h.finalize().into()
    };
    let node = |l: &[u8], r: &[u8]| -> [u8; 32] {
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(l);
        h.update(r);
        h.finalize().into()
    };
    let empty: [u8; 32] = Sha256::digest(b"").into();
    assert_eq!(MerkleLog::new().root(), empty);
    assert_eq!(log_of(1).root(), leaf(0));
    assert_eq!(log_of(2).root(), node(&leaf(0), &leaf(1)));
    // Three entries: the left subtree is the largest power of two below the size.
    assert_eq!(log_of(3).root(), node(&node(&leaf(0), &leaf(1)), &leaf(2)));
}

#[test]
fn every_entry_is_proven_included_and_nothing_else() {
    for size in 1..=33 {
        let log = log_of(size);
        let head = log.head(UnixTime(1));
        for index in 0..size {
            let proof = log.prove_inclusion(index).unwrap();
            verify_inclusion(&head, &entry(index), index, &proof).unwrap();
            assert!(verify_inclusion(&head, &entry(size + 7), index, &proof).is_err());
            if size > 1 {
                let other = (index + 1) % size;
                assert!(verify_inclusion(&head, &entry(index), other, &proof).is_err());
            }
        }
        assert!(log.prove_inclusion(size).is_none());
        assert!(matches!(
            verify_inclusion(&head, &entry(0), size, &[]),
            Err(LogError::IndexOutOfRange { .. })
        ));
    }
}

#[test]
fn every_older_log_is_proven_a_prefix_of_every_newer_one() {
    let mut log = MerkleLog::new();
    let mut heads = vec![log.head(UnixTime(0))];
    for n in 0..33 {
        log.push(&entry(n));
        let new = log.head(UnixTime(0));
        for old in &heads {
            let proof = log.prove_consistency(old.size).unwrap();
            verify_consistency(old, &new, &proof).unwrap();
        }
        heads.push(new);
    }
    assert!(log.prove_consistency(log.len() + 1).is_none());
    // A newer head is never a prefix of an older one.
    assert!(verify_consistency(&heads[9], &heads[5], &[]).is_err());
}

#[test]
fn any_two_past_heads_are_proven_consistent_from_the_log_as_it_is_now() {
    let log = log_of(21);
    let heads: Vec<_> = (0..=21).map(|n| log_of(n).head(UnixTime(0))).collect();
    for second in &heads {
        for first in &heads[..=usize::try_from(second.size).unwrap()] {
            let proof = log
                .prove_consistency_between(first.size, second.size)
                .unwrap();
            verify_consistency(first, second, &proof).unwrap();
        }
    }
    assert!(log.prove_consistency_between(5, 4).is_none());
    assert!(log.prove_consistency_between(5, 22).is_none());
    // A proof between two sizes does not prove another pair.
    let proof = log.prove_consistency_between(6, 13).unwrap();
    assert!(verify_consistency(&heads[6], &heads[14], &proof).is_err());
}

#[test]
fn a_rewritten_history_is_detected() {
    let honest = log_of(10);
    let seen = log_of(5).head(UnixTime(0));
    // The same log, but entry 3 replaced and more appended after.
    let mut forged = MerkleLog::new();
    for n in 0..12 {
        forged.push(&entry(if n == 3 { 99 } else { n }));
    }
    let forged_head = forged.head(UnixTime(0));
    let proof = forged.prove_consistency(5).unwrap();
    assert!(matches!(
        verify_consistency(&seen, &forged_head, &proof),
        Err(LogError::Inconsistent { old: 5, new: 12 })
    ));
    // Nor does the honest log's proof vouch for the forged head.
    let honest_proof = honest.prove_consistency(5).unwrap();
    assert!(verify_consistency(&seen, &forged_head, &honest_proof).is_err());
    // Two different logs of the same size are inconsistent.
    let same_size = log_of(12).head(UnixTime(0));
    assert!(verify_consistency(&same_size, &forged_head, &[]).is_err());
}

#[test]
fn malformed_proofs_are_refused_without_panicking() {
    let log = log_of(9);
    let head = log.head(UnixTime(0));
    let proof = log.prove_inclusion(4).unwrap();
    for bad in [
        proof[..proof.len() - 1].to_vec(),
        proof[..32].to_vec(),
        [proof.clone(), vec![0; 32]].concat(),
        vec![0; 32 * 200],
        Vec::new(),
    ] {
        assert!(verify_inclusion(&head, &entry(4), 4, &bad).is_err());
    }
    let old = log_of(4).head(UnixTime(0));
    for bad in [vec![7; 31], vec![0; 32 * 200], Vec::new()] {
        assert!(verify_consistency(&old, &head, &bad).is_err());
    }
}

#[test]
fn tree_heads_are_signed_by_the_province_only() {
    let province = SecretKey::generate();
    let head = log_of(6).head(UnixTime(1_800_000_000));
    let sealed = head.seal(&province);
    assert_eq!(TreeHead::open(&sealed, &province.public()).unwrap(), head);
    assert!(TreeHead::open(&sealed, &SecretKey::generate().public()).is_err());
    // A tree head is not any other signed message, nor the other way round.
    let other = SignedEnvelope::seal(&province, Domain::ROSTER, vec![]).encode();
    assert!(TreeHead::open(&other, &province.public()).is_err());
    let short_root = SignedEnvelope::seal(
        &province,
        Domain::TREE_HEAD,
        proto::TreeHead {
            size: 1,
            root: vec![1; 31],
            timestamp: 0,
        }
        .encode_to_vec(),
    )
    .encode();
    assert!(matches!(
        TreeHead::open(&short_root, &province.public()),
        Err(LogError::BadRoot(31))
    ));
    let json = serde_json::to_string(&head).unwrap();
    assert_eq!(serde_json::from_str::<TreeHead>(&json).unwrap(), head);
}

#[test]
fn tree_heads_too_large_for_a_log_are_refused_without_panicking() {
    // Found by fuzzing (fuzz/corpus/messages/crash-log-proofs-size-overflow): the Merkle
    // arithmetic of an inclusion proof overflowed for a head of more than 2⁶³ entries.
    let log = log_of(9);
    let proof = log.prove_inclusion(4).unwrap();
    for size in [MAX_LOG_SIZE + 1, u64::MAX] {
        let head = TreeHead {
            size,
            ..log.head(UnixTime(0))
        };
        assert!(matches!(
            verify_inclusion(&head, &entry(4), 4, &proof),
            Err(LogError::TooLarge(s)) if s == size
        ));
        let old = log_of(4).head(UnixTime(0));
        assert!(matches!(
            verify_consistency(&old, &head, &proof),
            Err(LogError::TooLarge(_))
        ));
        let province = SecretKey::generate();
        assert!(matches!(
            TreeHead::open(&head.seal(&province), &province.public()),
            Err(LogError::TooLarge(_))
        ));
    }
    let largest = TreeHead {
        size: MAX_LOG_SIZE,
        ..log.head(UnixTime(0))
    };
    assert!(matches!(
        verify_inclusion(&largest, &entry(4), MAX_LOG_SIZE - 1, &proof),
        Err(LogError::MalformedProof | LogError::NotIncluded)
    ));
}

/// The same tree in the `ct-merkle` crate, which verifies the proofs.
fn reference_of(size: u64) -> ct_merkle::mem_backed_tree::MemoryBackedTree<Sha256, [u8; 32]> {
    let mut tree = ct_merkle::mem_backed_tree::MemoryBackedTree::new();
    for n in 0..size {
        tree.push(entry_hash(&entry(n)));
    }
    tree
}

#[test]
fn roots_and_proofs_from_stored_subtrees_are_those_of_the_reference_tree() {
    for size in 0..=70u64 {
        let log = log_of(size);
        let reference = reference_of(size);
        let reference_root: [u8; 32] = (*reference.root().as_bytes()).into();
        assert_eq!(log.root(), reference_root, "root of {size}");
        for index in 0..size {
            assert_eq!(
                log.prove_inclusion(index).unwrap(),
                reference
                    .prove_inclusion(index as usize)
                    .as_bytes()
                    .to_vec(),
                "inclusion of {index} in {size}"
            );
        }
        for old in 1..size {
            assert_eq!(
                log.prove_consistency(old).unwrap(),
                reference
                    .prove_consistency((size - old) as usize)
                    .as_bytes()
                    .to_vec(),
                "consistency of {old} with {size}"
            );
        }
    }
}

#[test]
fn consistency_between_any_two_earlier_sizes_verifies_against_their_heads() {
    let log = log_of(100);
    for second in 1..=100u64 {
        let newer = log_of(second).head(UnixTime(2));
        for first in 0..=second {
            let older = log_of(first).head(UnixTime(1));
            let proof = log.prove_consistency_between(first, second).unwrap();
            verify_consistency(&older, &newer, &proof)
                .unwrap_or_else(|e| panic!("{first} → {second}: {e}"));
        }
    }
    assert!(log.prove_consistency_between(5, 101).is_none());
    assert!(log.prove_consistency_between(6, 5).is_none());
}
