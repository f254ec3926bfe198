#!/usr/bin/env bash
# bench/smallfiles.sh BIN: many small files, where the fsyncs of each
# archive (the archive itself, its directory, its audit record) rather than
# the processing bound the rate. scripts/synth writes 10,000 distinct .npy
# files of 8 s at 64 Hz (4 KB each, every one its own noise and its own
# GPS time, so that none is a duplicate of another) with JSON sidecars; then
# the files are archived once by `BIN ingest`, all named in one invocation,
# and once by `BIN run`, whose catch-up scan finds them already in its watch
# directory. Each run has its own archive root, audit log and state
# directory. It prints the files archived per second of each.
set -euo pipefail
bin=$(realpath "${1:-bin/gwwatchd}")
n=${SMALLFILES_N:-10000}
cd "$(dirname "$0")/.."
out=$PWD/bench/out/smallfiles
rm -rf "$out"
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

go run ./scripts/synth -dir "$out/in" -n "$n" -duration 8 -fs 64 -channel K1:PEM-SMALL >/dev/null
sync

now() { date +%s.%N; }
archived() { grep -c '"event":"archived"' "$1" 2>/dev/null || true; }

# ingest: the audit log must hold one "archived" record per file.
mkdir -p "$out/ingest"
cat >"$out/ingest/config.toml" <<TOML
[daemon]
state_dir = "$out/ingest/state"
[archive]
root = "$out/ingest/archive"
[audit]
path = "$out/ingest/audit.log"
TOML
t0=$(now)
"$bin" ingest --config "$out/ingest/config.toml" "$out"/in/*.npy >"$out/ingest/out.txt" 2>"$out/ingest/err.txt"
t1=$(now)
got=$(archived "$out/ingest/audit.log")
if [ "$got" != "$n" ]; then
  echo "ingest archived $got files of $n:" >&2
  tail -n 20 "$out/ingest/out.txt" "$out/ingest/err.txt" >&2
  exit 1
fi
awk -v n="$n" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "small files: ingest %.0f files/s (target >= 1000)\n", n / (t1 - t0) }'

# run: from the start of the daemon to the last "archived" record.
mkdir -p "$out/run"
cat >"$out/run/config.toml" <<TOML
[daemon]
state_dir = "$out/run/state"
rescan = "0s"
[archive]
root = "$out/run/archive"
[audit]
path = "$out/run/audit.log"
[[watch]]
dir = "$out/in"
patterns = ["*.npy"]
settle = "100ms"
after = "keep"
TOML
t0=$(now)
"$bin" run --config "$out/run/config.toml" 2>"$out/run/err.txt" &
pid=$!
got=0
while [ "$got" -lt "$n" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the daemon ended with $got files of $n archived:" >&2
    tail -n 20 "$out/run/err.txt" >&2
    exit 1
  fi
  sleep 0.05
  got=$(archived "$out/run/audit.log")
  got=${got:-0}
done
t1=$(now)
kill -TERM "$pid"
wait "$pid" || { echo "the daemon did not stop cleanly:" >&2; tail -n 20 "$out/run/err.txt" >&2; exit 1; }
awk -v n="$n" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "small files: daemon %.0f files/s (target >= 1000)\n", n / (t1 - t0) }'
