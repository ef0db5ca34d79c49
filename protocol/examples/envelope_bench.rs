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

fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: u32 = args.next().map_or(20_000, |a| a.parse().unwrap());
    let size: usize = args.next().map_or(256, |a| a.parse().unwrap());
    let key = SecretKey::generate();
    let public = key.public();
    let dalek = SigningKey::from_bytes(&key.seed());
    let dalek_public = dalek.verifying_key();
    let payload = vec![0x5a; size];

    let raw_sign = per_second(iterations, || {
        black_box(dalek.sign(black_box(&payload)));
    });
    let env_seal = per_second(iterations, || {
        black_box(SignedEnvelope::seal(&key, DOMAIN, black_box(payload.clone())).encode());
    });
    let signature = dalek.sign(&payload);
    // The envelope verifies strictly (rejects weak keys and malleable signatures), so the
    // baseline is the same ed25519-dalek call; the lax `verify` is shown for reference.
    let raw_verify = per_second(iterations, || {
        dalek_public
            .verify_strict(black_box(&payload), &signature)
            .unwrap();
    });
    let raw_verify_lax = per_second(iterations, || {
        dalek_public
            .verify(black_box(&payload), &signature)
            .unwrap();
    });
    let bytes = SignedEnvelope::seal(&key, DOMAIN, payload.clone()).encode();
    let env_open = per_second(iterations, || {
        let env = SignedEnvelope::decode(black_box(&bytes)).unwrap();
        black_box(env.open_from(DOMAIN, &public).unwrap());
    });
    let env_open_unknown = per_second(iterations, || {
        let env = SignedEnvelope::decode(black_box(&bytes)).unwrap();
        black_box(env.open(DOMAIN).unwrap());
    });

    println!("payload {size} bytes, {iterations} iterations");
    println!("raw ed25519 sign        {raw_sign:>10.0} /s");
    println!(
        "envelope seal + encode  {env_seal:>10.0} /s  ({:+.1} % time per op)",
        (raw_sign / env_seal - 1.0) * 100.0
    );
    println!("raw ed25519 verify      {raw_verify_lax:>10.0} /s  (lax, reference)");
    println!("raw ed25519 verify_strict {raw_verify:>8.0} /s");
    println!(
        "envelope decode + open_from (known signer) {env_open:>10.0} /s  ({:+.1} % time per op)",
        (raw_verify / env_open - 1.0) * 100.0
    );
    println!(
        "envelope decode + open (key decompressed)  {env_open_unknown:>10.0} /s  ({:+.1} % time per op)",
        (raw_verify / env_open_unknown - 1.0) * 100.0
    );
}
