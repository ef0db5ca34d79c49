#!/usr/bin/env bash
# The soak (tests/tests/it/soak.rs, long form): a province and SOAK_MEMBERS members (30)
# in network namespaces for SOAK_MINUTES minutes (30), with bookings, receipts,
# catalogue edits and a partition every 5 minutes. Prints resident memory and open files
# per node at the start and the end, bookings and receipts per second, and checks that no
# slot was given twice and no receipt was lost. Needs root (namespaces, nftables).
#
# The binaries are copied aside first, so building the workspace meanwhile cannot swap
# them under the running soak. Output goes to stdout and to target/soak-<date>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace --tests --locked
test_binary=$(cargo test -p alliance-tests --test it --no-run --locked --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "it" and m.get("executable"):
        print(m["executable"])')
aside=$(mktemp -d)
trap 'rm -rf "$aside"' EXIT
mkdir -p "$aside/deps"
cp "$test_binary" "$aside/deps/it"
cp "$(dirname "$test_binary")/../alliance" "$aside/alliance"
out="target/soak-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "soak: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1048576)}') GiB, $(uname -r)" | tee "$out"
"$aside/deps/it" soak::soak_for_half_an_hour --exact --ignored --nocapture 2>&1 \
  | grep --line-buffered -A40 '^soak\|panicked\|test result' | tee -a "$out"
