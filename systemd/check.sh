#!/usr/bin/env bash
# check.sh [BINARY] — check the files of this directory before they are
# installed:
#   - gwwatchd.service passes systemd-analyze verify, with no warnings, and
#     systemd-analyze security rates its exposure at most 2.0;
#   - its reload runs `gwwatchd config check` on the file ExecStart= names
#     before it sends SIGHUP, so that an invalid file fails the reload;
#   - every ReadWritePaths= directory is created by gwwatchd.tmpfiles, and
#     every /srv path in config.toml is writable;
#   - as root: gwwatchd.sysusers and gwwatchd.tmpfiles apply to a scratch
#     root;
#   - when BINARY is a gwwatchd build: it accepts config.toml.
#
# The unit is checked as a copy whose ExecStart= and ExecReload= name
# BINARY (default /bin/true): verify fails when the executable does not
# exist, and the real one is only there once installed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-/bin/true}
max_exposure=20 # exposure level x 10, as --threshold takes it

if ! command -v systemd-analyze >/dev/null; then
	echo "check.sh: systemd-analyze not found" >&2
	exit 2
fi
case $bin in
/*) ;;
*/*) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin") ;;
*) bin=$(type -P "$bin" || echo "$bin") ;;
esac
if [ ! -x "$bin" ]; then
	echo "check.sh: $bin is not an executable file" >&2
	exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unit=$tmp/gwwatchd.service
sed "s|^\(Exec[A-Za-z]*\)=/usr/local/bin/gwwatchd |\1=$bin |" "$here/gwwatchd.service" >"$unit"
if ! grep -q "^ExecStart=$bin " "$unit"; then
	echo "check.sh: no ExecStart=/usr/local/bin/gwwatchd line to rewrite" >&2
	exit 1
fi

# The reload: config check of the running configuration, then SIGHUP.
conf=$(sed -n 's|^ExecStart=/usr/local/bin/gwwatchd run --config \([^ ]*\)$|\1|p' "$here/gwwatchd.service")
if [ -z "$conf" ]; then
	echo "check.sh: ExecStart= is not /usr/local/bin/gwwatchd run --config FILE" >&2
	exit 1
fi
reload=$(grep '^ExecReload=' "$here/gwwatchd.service" || true)
want="ExecReload=/usr/local/bin/gwwatchd config check --quiet $conf
ExecReload=/bin/kill -HUP \$MAINPID"
if [ "$reload" != "$want" ]; then
	printf 'check.sh: the reload of gwwatchd.service is\n%s\nwant\n%s\n' "${reload:-(none)}" "$want" >&2
	exit 1
fi
echo "reload: ok"

# verify prints warnings without failing on some of them: any output at
# all fails the check.
out=$(systemd-analyze verify --man=no "$unit" 2>&1) || {
	printf '%s\n' "$out" >&2
	echo "check.sh: systemd-analyze verify failed" >&2
	exit 1
}
if [ -n "$out" ]; then
	printf '%s\n' "$out" >&2
	echo "check.sh: systemd-analyze verify warned" >&2
	exit 1
fi
echo "verify: ok"

sec=$(systemd-analyze security --no-pager --offline=true --threshold="$max_exposure" "$unit" 2>&1) && rc=0 || rc=$?
level=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for [^:]*: *\([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
	printf '%s\n' "$sec" >&2
	echo "check.sh: no exposure level in the output of systemd-analyze security" >&2
	exit 1
fi
if [ "$rc" -ne 0 ]; then
	printf '%s\n' "$sec" | grep '✗' >&2 || true
	echo "check.sh: exposure $level, want at most $((max_exposure / 10)).$((max_exposure % 10))" >&2
	exit 1
fi
echo "security: exposure $level (at most $((max_exposure / 10)).$((max_exposure % 10)))"

rw=$(sed -n 's/^ReadWritePaths=//p' "$here/gwwatchd.service")
for dir in $rw; do
	dir=${dir#-}
	if ! grep -Eq "^d[[:space:]]+$dir[[:space:]]" "$here/gwwatchd.tmpfiles"; then
		echo "check.sh: ReadWritePaths= names $dir, which gwwatchd.tmpfiles does not create" >&2
		exit 1
	fi
done
for path in $(grep -o '"/srv/[^"]*"' "$here/config.toml" | tr -d '"'); do
	ok=
	for dir in $rw; do
		dir=${dir#-}
		case $path/ in "$dir"/*) ok=1 ;; esac
	done
	if [ -z "$ok" ]; then
		echo "check.sh: config.toml names $path, which is not below any ReadWritePaths= of gwwatchd.service" >&2
		exit 1
	fi
done
echo "paths: ok"

if [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	mkdir "$tmp/root" "$tmp/root/etc"
	out=$(systemd-sysusers --root="$tmp/root" - <"$here/gwwatchd.sysusers" 2>&1) || {
		printf '%s\n' "$out" >&2
		echo "check.sh: systemd-sysusers failed" >&2
		exit 1
	}
	out=$(systemd-tmpfiles --root="$tmp/root" --create - <"$here/gwwatchd.tmpfiles" 2>&1) || {
		printf '%s\n' "$out" >&2
		echo "check.sh: systemd-tmpfiles failed" >&2
		exit 1
	}
	echo "sysusers, tmpfiles: ok"
fi

if [ "$(basename "$bin")" = gwwatchd ]; then
	"$bin" config check "$here/config.toml" >/dev/null
	echo "config: ok"
fi
