#!/usr/bin/env bash
# The demo: a seed-like synthetic file archived with the embedded default
# configuration (everything under ./var), then inspected and verified.
set -euo pipefail
bin=${1:-bin/gwwatchd}
mkdir -p var/demo
src=$(go run ./scripts/synth -dir var/demo -n 1 -duration 64 -fs 4096 -gps 1300000000)
echo "== source: $src (64 s at 4096 Hz, K1:LSC-DARM_OUT_DQ, sidecar ${src%.npy}.json)"
echo
echo "== gwwatchd ingest $src"
out=$("$bin" ingest "$src")
echo "$out"
archive=${out##* -> }
archive=${archive% (already archived)}
echo
echo "== gwwatchd inspect $archive"
"$bin" inspect "$archive"
echo
echo "== gwwatchd verify $archive"
"$bin" verify "$archive"
echo
echo "== gwwatchd audit verify --archives"
"$bin" audit verify --archives
echo
echo "== gwwatchd trace $archive"
"$bin" trace "$archive"
