#!/usr/bin/env bash
# bench/smallfiles.sh BIN: many small files, where what each file costs
# whatever its size (libhdf5's making of its archive, the fsyncs of the
# archive, its directory and its audit record) bounds the rate rather
# than its samples. scripts/synth writes 10,000 distinct .npy files of 8 s
# at 64 Hz (4 KB each, every one its own noise and its own GPS time, so
# that none is a duplicate of another) with JSON sidecars; then the files
# are archived once by `BIN ingest`, all named in one invocation, and once
# by `BIN run`, whose catch-up scan finds them already in its watch
# directory. Each run has its own archive root, audit log and state
# directory. It prints the files archived per second of each, and the CPU
# time of the ingest per file with the rate the machine's cores could
# reach at it. Beside them, as the peer that has no disk to wait for, the
# same ingest writes into a tmpfs, where an fsync costs nothing.
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
archived() { local c; c=$(grep -c '"event":"archived"' "$1" 2>/dev/null) || true; echo "${c:-0}"; }

# ingest DIR: archives the files by one `BIN ingest` into DIR, and sets
# sec and cpu to its seconds and its CPU seconds (user and system); the
# audit log must hold one "archived" record per file.
ingest() {
  mkdir -p "$1"
  cat >"$1/config.toml" <<TOML
[daemon]
state_dir = "$1/state"
[archive]
root = "$1/archive"
[audit]
path = "$1/audit.log"
TOML
  local t0 t1 got rc=0
  t0=$(now)
  /usr/bin/time -f "%U %S" -o "$1/cpu.txt" "$bin" ingest --config "$1/config.toml" "$out"/in/*.npy >"$1/out.txt" 2>"$1/err.txt" || rc=$?
  t1=$(now)
  got=$(archived "$1/audit.log")
  if [ "$rc" != 0 ] || [ "$got" != "$n" ]; then
    echo "ingest exited with $rc, and archived $got files of $n:" >&2
    tail -n 20 "$1/out.txt" "$1/err.txt" >&2
    exit 1
  fi
  read -r user sys <"$1/cpu.txt"
  sec=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN { print t1 - t0 }')
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
}

ingest "$out/ingest"
awk -v n="$n" -v sec="$sec" -v cpu="$cpu" -v cores="$(nproc)" 'BEGIN {
  printf "small files: ingest %.0f files/s (target >= 1000); %.2f ms of CPU per file, at most %.0f files/s on %d cores\n",
    n / sec, cpu / n * 1e3, cores * n / cpu, cores }'

# The same into a tmpfs, if there is one with room for the archives
# (about 32 kB each) and their audit log.
shm=/dev/shm
if [ "$(stat -f -c %T "$shm" 2>/dev/null)" = tmpfs ] && [ "$(df -k --output=avail "$shm" | tail -1)" -gt $((n * 64)) ]; then
  mem=$(mktemp -d "$shm/gwwatchd-bench.XXXXXX")
  trap 'rm -rf "$out" "$mem"' EXIT
  ingest "$mem"
  rm -rf "$mem"
  awk -v n="$n" -v sec="$sec" -v cpu="$cpu" 'BEGIN {
    printf "small files: ingest into tmpfs, no disk: %.0f files/s; %.2f ms of CPU per file\n", n / sec, cpu / n * 1e3 }'
else
  echo "small files: ingest into tmpfs skipped: $shm is no tmpfs with $((n * 64 / 1024)) MB free"
fi

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
done
t1=$(now)
kill -TERM "$pid"
wait "$pid" || { echo "the daemon did not stop cleanly:" >&2; tail -n 20 "$out/run/err.txt" >&2; exit 1; }
awk -v n="$n" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "small files: daemon %.0f files/s (target >= 1000)\n", n / (t1 - t0) }'
