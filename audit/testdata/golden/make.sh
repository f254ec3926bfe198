#!/usr/bin/env bash
# Writes a small audit log with a real gwwatchd binary, covering the
# events it records: one-shot ingests (archived with a sidecar and a
# quick-look, skipped products, a duplicate, an adopted archive, a
# rejection), a daemon run (moves and deletes, a quarantine, a reload, an
# audit log that stops taking records and resumes, a move that fails and
# is abandoned, a quarantine whose move fails and one that cannot be
# planned), a daemon killed between a removal's plan and its moves
# (the next start finishes it, signing the dead writer's records as
# unattested), one killed again and left so (a pending removal), and a
# torn last line repaired. Segments rotate at 16 KiB.
#
# Usage: make.sh GWWATCHD SYNTH   (work directory /tmp/g, removed first)
set -euo pipefail
bin=$1 synth=$2
g=/tmp/g
[ -d "$g" ] && chattr -R -i "$g"
rm -rf "$g"
mkdir -p "$g"/in-move "$g"/in-del "$g"/src "$g"/done "$g"/quarantine "$g"/locked
log=$g/log/audit.log
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null || true; chattr -i "$log" "$g"/done "$g"/quarantine "$g"/locked 2>/dev/null || true' EXIT

cat >"$g"/a.toml <<TOML
[daemon]
workers = 1
state_dir = "$g/state"
rescan = "1s"
shutdown_timeout = "20s"
[archive]
root = "$g/archive"
quicklook = true
[audit]
path = "$log"
max_size = 16384
[processing.asd]
fftlength = 2.0
[processing.spectrogram]
stride = 4.0
fftlength = 1.0
[[watch]]
dir = "$g/in-move"
settle = "300ms"
after = "move"
done_dir = "$g/done"
quarantine_dir = "$g/quarantine"
[[watch]]
dir = "$g/in-del"
settle = "300ms"
after = "delete"
quarantine_dir = "$g/locked/quarantine"
TOML
# Another log over the same archive root: what it archives, the first
# log does not know.
sed -e "s|$g/state|$g/state-b|" -e "s|$log|$g/log-b/audit.log|" "$g"/a.toml >"$g"/b.toml

count() { # records of the event in every segment
  local n=0 seg
  for seg in "$log" "$log".[0-9]*; do
    [ -f "$seg" ] && n=$(( n + $(grep -c "\"event\":\"$1\"" "$seg" || true) ))
  done
  echo $n
}
declare -A seen
mark() { for e in "$@"; do seen[$e]=$(count "$e"); done; }
waitfor() { # event [more], after mark: wait for that many more records
  local want=$(( ${seen[$1]:-0} + ${2:-1} ))
  for _ in $(seq 600); do
    [ "$(count "$1")" -ge "$want" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $want $1 records" >&2
  exit 1
}
file() { "$synth" -dir "$1" -n 1 -duration "${3:-8}" -fs 256 -gps "$2"; }

# One-shot ingests.
good=$(file "$g"/src 1300000000)
printf 'not an npy file\n' >"$g"/src/bad.npy
"$bin" ingest --config "$g"/a.toml "$good" "${good%.npy}.json" "$g"/src/bad.npy || true
"$bin" ingest --config "$g"/a.toml "$good"
short=$(file "$g"/src 1300000100 1)
"$bin" ingest --config "$g"/a.toml "$short"
other=$(file "$g"/src 1300000200)
"$bin" ingest --config "$g"/b.toml "$other"
"$bin" ingest --config "$g"/a.toml "$other"

# The daemon.
mark startup
"$bin" run --config "$g"/a.toml 2>"$g"/run1.log &
pid=$!
waitfor startup
mark source_moved
file "$g"/in-move 1300001000 >/dev/null
waitfor source_moved 2
mark source_deleted
file "$g"/in-del 1300002000 >/dev/null
waitfor source_deleted 2
mark quarantined
printf 'not an npy file either\n' >"$g"/in-move/bad.npy
waitfor quarantined
mark config_reloaded
kill -HUP $pid
waitfor config_reloaded
chattr +i "$log"
mark audit_resumed source_moved
file "$g"/in-move 1300003000 >/dev/null
sleep 3
chattr -i "$log"
waitfor audit_resumed
waitfor source_moved 2
chattr +i "$g"/done
mark removal_abandoned
file "$g"/in-move 1300004000 >/dev/null
waitfor removal_abandoned 2
chattr -i "$g"/done
# A quarantine whose move fails, and one that cannot be planned.
chattr +i "$g"/quarantine
mark quarantined removal_abandoned
printf 'still not an npy file\n' >"$g"/in-move/bad2.npy
waitfor quarantined
waitfor removal_abandoned
chattr -i "$g"/quarantine
chattr +i "$g"/locked
mark quarantined
printf 'no npy file here\n' >"$g"/in-del/bad3.npy
waitfor quarantined
chattr -i "$g"/locked
kill -TERM $pid
wait $pid

# Killed at its first move: the plan is in the log, the files are not moved.
mark startup
strace -f -qq -o /dev/null -e trace=renameat2 -e inject=renameat2:error=EIO:signal=KILL \
  "$bin" run --config "$g"/a.toml 2>"$g"/run2.log &
pid=$!
waitfor startup
file "$g"/in-move 1300005000 >/dev/null
wait $pid || true
# The next start signs the dead writer's records and finishes the plan.
mark startup source_moved
"$bin" run --config "$g"/a.toml 2>"$g"/run3.log &
pid=$!
waitfor startup
waitfor source_moved 2
kill -TERM $pid
wait $pid

# Killed at the second move: the data file moved, its sidecar not, and no
# start finishes it.
mark startup
strace -f -qq -o /dev/null -e trace=renameat2 -e inject=renameat2:error=EIO:signal=KILL:when=2 \
  "$bin" run --config "$g"/a.toml 2>"$g"/run4.log &
pid=$!
waitfor startup
file "$g"/in-move 1300006000 >/dev/null
wait $pid || true

# A torn last line, repaired by the next writer, which also signs the
# dead writer's records.
printf '{"event":"archived","seq":' >>"$log"
"$bin" audit checkpoint --config "$g"/a.toml >"$g"/checkpoint.note
"$bin" audit pubkey --config "$g"/a.toml >"$g"/pubkey
"$bin" audit verify --config "$g"/a.toml --archives || true
