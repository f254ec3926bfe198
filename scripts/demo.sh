#!/usr/bin/env bash
# The demo, with the embedded default configuration (everything under
# ./var): a seed-like synthetic file archived by `gwwatchd ingest`,
# inspected, verified, plotted and traced; then the daemon on ./var/incoming with
# three more files dropped in, and a clean stop.
set -euo pipefail
bin=${1:-bin/gwwatchd}
mkdir -p var/demo
src=$(go run ./scripts/synth -dir var/demo -n 1 -duration 64 -fs 4096 -gps 1300000000)
echo "== source: $src (64 s at 4096 Hz, K1:LSC-DARM_OUT_DQ, sidecar ${src%.npy}.json)"
echo
echo "== gwwatchd ingest $src"
out=$("$bin" ingest "$src" 2>/dev/null)
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
echo "== gwwatchd plot -o var/demo/asd.png $archive"
"$bin" plot -o var/demo/asd.png "$archive"
"$bin" plot --spectrogram -o var/demo/spectrogram.png "$archive"
echo
echo "== gwwatchd trace $archive"
"$bin" trace "$archive"

echo
echo "== gwwatchd run (the daemon, watching ./var/incoming; its log in var/demo/daemon.log)"
"$bin" run 2>var/demo/daemon.log &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until grep -q '"msg":"ready"' var/demo/daemon.log; do
  kill -0 $pid 2>/dev/null || { cat var/demo/daemon.log; exit 1; }
  sleep 0.2
done
# The dropped files follow on from the archived ones, without a gap: 64 s
# each from 1300000000 (the one ingested first), as many as are archived.
gps=$(( 1300000000 + 64 * $(ls var/archive/K/13000/*.h5 | wc -l) ))
dropped=$(go run ./scripts/synth -dir var/incoming -n 3 -duration 64 -fs 4096 -gps "$gps")
echo "dropped:"
echo "$dropped" | sed 's/^/  /'
for f in $dropped; do
  until "$bin" trace "$f" >/dev/null 2>&1; do
    kill -0 $pid 2>/dev/null || { cat var/demo/daemon.log; exit 1; }
    sleep 0.2
  done
done
echo "archived (from the daemon's log):"
grep '"msg":"archived"' var/demo/daemon.log | tail -3 | sed 's/^/  /'
kill -TERM $pid
wait $pid
trap - EXIT
echo "daemon stopped cleanly"
echo
echo "== gwwatchd audit verify --archives"
"$bin" audit verify --archives
