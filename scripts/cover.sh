#!/bin/bash
# cover.sh prints the statement coverage of every package: by the tests in
# process, and by those together with the gwwatchd processes that the e2e
# (and systemd) tests run, so that what only the real binary exercises
# (the daemon's run loop, signals, restarts) counts too.
#
# The binary is built with -cover and run through GWWATCHD_BIN; each of its
# processes that exits (os.Exit or a return from main) writes its counters
# to GOCOVERDIR. One killed with SIGKILL, as the kill loop does, writes
# nothing. The test binaries write theirs to -test.gocoverdir. go test sets
# GOCOVERDIR in each test binary's environment to a directory of its own,
# which the processes a test starts inherit, so GWWATCHD_BIN is a wrapper
# that sets it back to ours and execs the binary (same pid, same argv[0]).
#
# Usage: scripts/cover.sh [go test flags, e.g. -run or -short]
set -uo pipefail

GO=${GO:-go}
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gwwatchd-cover.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/unit" "$tmp/bin"

"$GO" build -cover -coverpkg=./... -o "$tmp/gwwatchd.cover" ./cmd/gwwatchd || exit 1
printf '#!/bin/bash\nexport GOCOVERDIR=%q\nexec -a "$0" %q "$@"\n' "$tmp/bin" "$tmp/gwwatchd.cover" >"$tmp/gwwatchd"
chmod +x "$tmp/gwwatchd"
GWWATCHD_BIN="$tmp/gwwatchd" \
	"$GO" test -count=1 -cover -coverpkg=./... "$@" ./... -args -test.gocoverdir="$tmp/unit" >"$tmp/test.out" 2>&1
status=$?
if [ "$status" != 0 ]; then
	cat "$tmp/test.out"
	echo "cover.sh: go test failed (exit $status); the figures below lack what the failing tests did"
fi

# percent prints "PACKAGE PERCENT" for the coverage data in the given
# directories.
percent() {
	"$GO" tool covdata percent -i="$1" | awk '$2 == "coverage:" { sub(/%/, "", $3); print $1, $3 }'
}
percent "$tmp/unit" >"$tmp/unit.pct" || exit 1
percent "$tmp/unit,$tmp/bin" >"$tmp/all.pct" || exit 1
"$GO" tool covdata textfmt -i="$tmp/unit,$tmp/bin" -o "$tmp/all.out" || exit 1
module=$("$GO" list -m)
awk -v module="$module/" '
	NR == FNR { unit[$1] = $2; next }
	FNR == 1 { printf "%-28s %10s %10s\n", "package", "in-process", "with e2e" }
	{ p = $1; sub("^" module, "", p); printf "%-28s %9.1f%% %9.1f%%\n", p, unit[$1], $2 }
' "$tmp/unit.pct" "$tmp/all.pct"
"$GO" tool cover -func="$tmp/all.out" | awk '$1 == "total:" { printf "%-28s %21s\n", "total (with e2e)", $3 }'
exit "$status"
