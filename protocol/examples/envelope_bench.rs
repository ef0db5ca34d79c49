//! Signed-envelope cost against raw ed25519, in the same run.
//!
//! `cargo run --release -p alliance-protocol --example envelope_bench -- [iterations] [payload bytes]`

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::{hint::black_box, time::Instant};

use alliance_protocol::{SecretKey, SignedEnvelope, envelope::Domain};
use ed25519_dalek::{Signer, SigningKey, Verifier};

const DOMAIN: Domain = Domain("alliance/bench/v1");

fn per_second(iterations: u32, f: impl FnMut()) -> f64 {
    let mut f = f;
    // Warm up caches and the CPU's clock.
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    f64::from(iterations) / start.elapsed().as_secs_f64()
}

/// Median of per-round rates: the rounds interleave every operation, so a change in the
/// machine's speed during the run affects all of them alike.
fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: u32 = args.next().map_or(20_000, |a| a.parse().unwrap());
    let size: usize = args.next().map_or(256, |a| a.parse().unwrap());
    let rounds = 7;
    let key = SecretKey::generate();
    let public = key.public();
    let dalek = SigningKey::from_bytes(&key.seed());
    let dalek_public = dalek.verifying_key();
    let payload = vec![0x5a; size];
    let signature = dalek.sign(&payload);
    let bytes = SignedEnvelope::seal(&key, DOMAIN, payload.clone()).encode();

    let mut results: [Vec<f64>; 6] = Default::default();
    for _ in 0..rounds {
        results[0].push(per_second(iterations, || {
            black_box(dalek.sign(black_box(&payload)));
        }));
        results[1].push(per_second(iterations, || {
            black_box(SignedEnvelope::seal(&key, DOMAIN, black_box(payload.clone())).encode());
        }));
        // The envelope verifies strictly (rejects weak keys and malleable signatures), so
        // the baseline is the same ed25519-dalek call; the lax `verify` is for reference.
        results[2].push(per_second(iterations, || {
            dalek_public
                .verify_strict(black_box(&payload), &signature)
                .unwrap();
        }));
        results[3].push(per_second(iterations, || {
            dalek_public
                .verify(black_box(&payload), &signature)
                .unwrap();
        }));
        results[4].push(per_second(iterations, || {
            let env = SignedEnvelope::decode(black_box(&bytes)).unwrap();
            black_box(env.open_from(DOMAIN, &public).unwrap());
        }));
        results[5].push(per_second(iterations, || {
            let env = SignedEnvelope::decode(black_box(&bytes)).unwrap();
            black_box(env.open(DOMAIN).unwrap());
        }));
    }
    let [sign, seal, strict, lax, open_from, open] = results.map(median);
    let extra = |raw: f64, env: f64| (raw / env - 1.0) * 100.0;
    println!("payload {size} bytes, {iterations} operations a round, median of {rounds} rounds");
    println!("raw ed25519-dalek sign              {sign:>8.0} /s");
    println!(
        "envelope seal + encode              {seal:>8.0} /s  {:+.1} % time per op",
        extra(sign, seal)
    );
    println!("raw ed25519-dalek verify_strict     {strict:>8.0} /s");
    println!("raw ed25519-dalek verify (lax)      {lax:>8.0} /s  (reference)");
    println!(
        "envelope decode + open_from         {open_from:>8.0} /s  {:+.1} % time per op (signer key held)",
        extra(strict, open_from)
    );
    println!(
        "envelope decode + open              {open:>8.0} /s  {:+.1} % time per op (signer key decompressed)",
        extra(strict, open)
    );
}
