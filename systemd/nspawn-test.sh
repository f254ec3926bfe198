#!/usr/bin/env bash
# nspawn-test.sh — the service under a real systemd.
#
# Boots the host's own systemd as PID 1 of a container (systemd-nspawn)
# whose root is an overlay of the host's root with a tmpfs upper layer, so
# that nothing it does reaches the host. There, `make install` (with the
# binary `make build` made) and `systemctl enable --now gwwatchd`, then:
#   - the unit is active, and READY=1 came within $ready_max_ms;
#   - the live `systemd-analyze security` exposure is at most 1.0;
#   - a file dropped in /srv/gwwatchd/incoming is archived;
#   - `systemctl reload` with a changed processing parameter succeeds, and
#     a config_reloaded record and a later archive show the new value;
#   - `systemctl reload` with an invalid configuration fails, and the old
#     configuration stays in effect;
#   - a daemon that stops answering (SIGSTOP) is killed by the watchdog
#     and restarted;
#   - `systemctl stop` writes a shutdown record, and the audit log and
#     the archives verify.
#
# Where the container cannot run (not Linux, not root, no systemd-nspawn,
# no overlayfs, or a host that forbids the mounts or the boot) it prints
# a SKIP line saying why and exits 0, or fails with
# GWWATCHD_REQUIRE_SYSTEMD=1. Every wait is bounded; the container is
# always shut down and the overlay unmounted.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
go=${GO:-go}
machine=gwwatchd-test-$$
ready_max_ms=10000
max_exposure=1.0
started=$(date +%s)

skip() {
	if [ "${GWWATCHD_REQUIRE_SYSTEMD:-}" = 1 ]; then
		echo "nspawn-test.sh: cannot run: $*" >&2
		exit 1
	fi
	echo "SKIP: nspawn-test.sh: $*"
	exit 0
}
fail() {
	echo "nspawn-test.sh: FAIL: $*" >&2
	exit 1
}
ok() { echo "ok   $* ($(($(date +%s) - started)) s)"; }

[ "$(uname -s)" = Linux ] || skip "not Linux"
[ "$(id -u)" = 0 ] || skip "needs root (systemd-nspawn, mount)"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn not found (Debian package systemd-container: make deps)"
command -v nsenter >/dev/null || skip "nsenter not found"
[ -x /lib/systemd/systemd ] || skip "no /lib/systemd/systemd to boot"
[ -x "$python" ] || skip "$python not found"
command -v "$go" >/dev/null || fail "$go not found"
[ -x "$src/bin/gwwatchd" ] || fail "$src/bin/gwwatchd not built (make build)"

tmp=$(mktemp -d /tmp/gwwatchd-nspawn.XXXXXX)
root=$tmp/root
nspawn_pid=
leader=

# teardown: power the container off (killed if it takes too long), then
# unmount the overlay and its tmpfs.
teardown() {
	rc=$?
	trap - EXIT INT TERM
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		if [ -n "$leader" ]; then
			if [ "$rc" -ne 0 ]; then
				echo "--- journal of gwwatchd.service (last 40 lines)" >&2
				timeout 10 nsenter -t "$leader" -a journalctl -u gwwatchd.service --no-pager -n 40 >&2 || true
			fi
			timeout 10 nsenter -t "$leader" -a systemctl poweroff --no-block >/dev/null 2>&1 || true
		fi
		for _ in $(seq 100); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$nspawn_pid" 2>/dev/null; then
			# Killing the container's PID 1 kills everything in it.
			[ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null
			kill -KILL "$nspawn_pid" 2>/dev/null || true
		fi
		wait "$nspawn_pid" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] && [ -s "$tmp/console.log" ]; then
		echo "--- container console (last 40 lines)" >&2
		tail -n 40 "$tmp/console.log" >&2
	fi
	mountpoint -q "$root" && { umount "$root" || umount -l "$root"; }
	mountpoint -q "$tmp" && { umount "$tmp" || umount -l "$tmp"; }
	rm -rf "$tmp"
	rm -rf "/run/systemd/nspawn/propagate/$machine"
	exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! out=$(mount -t tmpfs -o mode=0700 gwwatchd-nspawn "$tmp" 2>&1); then
	skip "cannot mount a tmpfs ($out)"
fi
mkdir "$tmp/upper" "$tmp/work" "$root" "$tmp/drop"
if ! out=$(mount -t overlay gwwatchd-nspawn -o "lowerdir=/,upperdir=$tmp/upper,workdir=$tmp/work" "$root" 2>&1); then
	grep -qw overlay /proc/filesystems || skip "no overlayfs in this kernel ($out)"
	skip "cannot mount an overlay of / ($out)"
fi

# The container starts clean: none of the host's gwwatchd state, and none
# of the units the host's administrator enabled (they have nothing to do
# with the test and slow the boot).
rm -rf "$root/etc/gwwatchd" "$root/srv/gwwatchd" "$root/var/lib/gwwatchd" "$root/var/log/gwwatchd" \
	"$root"/etc/systemd/system/gwwatchd.service* "$root"/etc/systemd/system/*.wants/gwwatchd.service
masked=0
for unit in console-getty.service getty.target; do
	ln -sfn /dev/null "$root/etc/systemd/system/$unit"
	masked=$((masked + 1))
done
for link in "$root"/etc/systemd/system/*.wants/*; do
	[ -L "$link" ] || continue
	unit=$(basename "$link")
	ln -sfn /dev/null "$root/etc/systemd/system/$unit"
	masked=$((masked + 1))
done

# Three seed-like files to drop, made on the host.
(cd "$src" && timeout 300 "$go" run ./scripts/synth -dir "$tmp/drop" -n 3 -duration 16 -fs 4096 -gps 1300000000) >/dev/null ||
	fail "scripts/synth failed"

systemd-nspawn --quiet --register=no --keep-unit --link-journal=no --private-network \
	--machine="$machine" --console=read-only \
	--bind-ro="$src:/opt/gwwatchd-src" --bind-ro="$tmp/drop:/opt/gwwatchd-drop" \
	--directory="$root" --boot systemd.show_status=no \
	>"$tmp/console.log" 2>&1 </dev/null &
nspawn_pid=$!

# The container's PID 1 is the child of systemd-nspawn that runs systemd.
for _ in $(seq 150); do
	kill -0 "$nspawn_pid" 2>/dev/null || break
	for c in $(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null); do
		if [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] &&
			[ "$(readlink "/proc/$c/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]; then
			leader=$c
		fi
	done
	[ -n "$leader" ] && break
	sleep 0.2
done
if [ -z "$leader" ]; then
	if ! kill -0 "$nspawn_pid" 2>/dev/null; then
		wait "$nspawn_pid" && nrc=0 || nrc=$?
		nspawn_pid=
		skip "systemd-nspawn could not boot a container here (exit $nrc): $(tail -n 5 "$tmp/console.log" | tr '\n' ' ')"
	fi
	fail "no systemd in the container after 30 s"
fi

# inside CMD...: CMD inside the container, with a clean environment, bounded
# by $limit seconds (default 60).
inside() {
	timeout "${limit:-60}" nsenter -t "$leader" -a \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}

state=
for _ in $(seq 120); do
	state=$(limit=5 inside systemctl is-system-running 2>/dev/null) || true
	case $state in running | degraded) break ;; esac
	kill -0 "$nspawn_pid" 2>/dev/null || fail "the container stopped while booting"
	sleep 0.5
done
case $state in
running) ;;
degraded) echo "note: container degraded: $(inside systemctl list-units --failed --plain --no-legend | tr '\n' ' ')" ;;
*) fail "container not booted after 60 s (state: ${state:-none})" ;;
esac
ok "container booted: systemd $(inside systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p') as PID 1, $masked host units masked"

# The audit log, read from the host through the overlay.
log=$root/var/log/gwwatchd/audit.log
# audit EXPR: evaluates the Python expression EXPR over recs, the audit
# log's records in order, and prints the result.
audit() {
	"$python" - "$log" "$1" <<'EOF'
import json, sys
recs = []
try:
    with open(sys.argv[1]) as f:
        recs = [json.loads(l) for l in f if l.strip()]
except FileNotFoundError:
    pass
def ev(name):
    return [r for r in recs if r.get("event") == name]
print(eval(sys.argv[2]))
EOF
}
# wait_for SECONDS WHAT EXPR: waits until audit EXPR prints True.
wait_for() {
	local deadline=$(($(date +%s) + $1))
	until [ "$(audit "$3" 2>/dev/null)" = True ]; do
		[ "$(date +%s)" -lt "$deadline" ] || fail "$2: not after $1 s"
		sleep 0.2
	done
}
# drop STEM: drops the sidecar, then the data renamed in.
drop() {
	inside sh -ec "cp /opt/gwwatchd-drop/$1.json /srv/gwwatchd/incoming/
		cp /opt/gwwatchd-drop/$1.npy /srv/gwwatchd/incoming/.$1.npy.tmp
		mv /srv/gwwatchd/incoming/.$1.npy.tmp /srv/gwwatchd/incoming/$1.npy"
}
prop() { inside systemctl show -p "$1" --value gwwatchd.service; }
conf=/etc/gwwatchd/config.toml

# Install as the README says.
out=$(limit=120 inside make -s -C /opt/gwwatchd-src -o build install 2>&1) || {
	printf '%s\n' "$out" >&2
	fail "make install"
}
[ -x "$root/usr/local/bin/gwwatchd" ] || fail "make install did not install /usr/local/bin/gwwatchd"
inside id gwwatchd >/dev/null || fail "make install created no gwwatchd user"
[ -d "$root/srv/gwwatchd/incoming" ] || fail "make install created no /srv/gwwatchd/incoming"
ok "make install"

out=$(limit=120 inside systemctl enable --now gwwatchd.service 2>&1) || {
	printf '%s\n' "$out" >&2
	inside journalctl -u gwwatchd --no-pager -n 30 >&2 || true
	fail "systemctl enable --now gwwatchd"
}
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] || fail "gwwatchd is $(prop ActiveState)/$(prop SubState) after start"
[ "$(inside systemctl is-enabled gwwatchd.service)" = enabled ] || fail "gwwatchd.service not enabled"
t0=$(prop ExecMainStartTimestampMonotonic)
t1=$(prop ActiveEnterTimestampMonotonic)
ready_ms=$(((t1 - t0) / 1000))
[ "$t0" -gt 0 ] && [ "$ready_ms" -ge 0 ] && [ "$ready_ms" -le "$ready_max_ms" ] ||
	fail "READY=1 after $ready_ms ms, want at most $ready_max_ms"
pid1=$(prop MainPID)
wait_for 10 "startup record" "len(ev('startup')) == 1 and ev('startup')[0]['pid'] == $pid1"
ok "started: active, READY=1 after $ready_ms ms"

sec=$(inside systemd-analyze security --no-pager gwwatchd.service 2>&1) || true
level=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for gwwatchd.service: *\([0-9.]*\).*/\1/p')
[ -n "$level" ] || {
	printf '%s\n' "$sec" >&2
	fail "no exposure level from systemd-analyze security"
}
awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l <= m) }' || {
	printf '%s\n' "$sec" | grep '✗' >&2 || true
	fail "live exposure $level, want at most $max_exposure"
}
ok "live systemd-analyze security: exposure $level (at most $max_exposure)"

# fftlength STEM: the ASD fftlength of STEM's archived record.
fftlength() {
	audit "[r['params']['asd']['fftlength'] for r in ev('archived') if r['source_path'].endswith('/$1.npy')]"
}
f1=K-K1_LSC_DARM_OUT_DQ-1300000000-16
f2=K-K1_LSC_DARM_OUT_DQ-1300000016-16
f3=K-K1_LSC_DARM_OUT_DQ-1300000032-16
drop "$f1"
wait_for 30 "$f1 archived" "any(r['source_path'].endswith('/$f1.npy') for r in ev('archived'))"
[ -f "$root/srv/gwwatchd/archive/K/13000/$f1.h5" ] || fail "no archive $f1.h5"
[ "$(fftlength "$f1")" = "[4.0]" ] || fail "$f1 archived with ASD fftlength $(fftlength "$f1"), want [4.0]"
ok "dropped file archived (ASD fftlength 4.0)"

# A changed processing parameter, applied by systemctl reload.
printf '\n[processing.asd]\nfftlength = 2.0\n' >>"$root$conf"
out=$(inside systemctl reload gwwatchd.service 2>&1) || {
	printf '%s\n' "$out" >&2
	fail "systemctl reload of a valid configuration failed"
}
wait_for 10 "config_reloaded record" "len(ev('config_reloaded')) == 1"
[ "$(prop MainPID)" = "$pid1" ] || fail "reload restarted the daemon"
drop "$f2"
wait_for 30 "$f2 archived" "any(r['source_path'].endswith('/$f2.npy') for r in ev('archived'))"
[ "$(fftlength "$f2")" = "[2.0]" ] || fail "$f2 archived with ASD fftlength $(fftlength "$f2") after reload, want [2.0]"
ok "systemctl reload: config_reloaded, next archive with ASD fftlength 2.0"

# An invalid configuration (a spectrogram stride below its fftlength):
# the reload fails, and the running configuration stays.
cp "$root$conf" "$tmp/good.toml"
printf '\n[processing.spectrogram]\nstride = 0.5\n' >>"$root$conf"
sed -i 's/^fftlength = 2.0$/fftlength = 1.0/' "$root$conf"
out=$(inside systemctl reload gwwatchd.service 2>&1) && rrc=0 || rrc=$?
[ "$rrc" -ne 0 ] || fail "systemctl reload of an invalid configuration exited 0"
echo "     systemctl reload: exit $rrc: ${out%%$'\n'*}"
journal=$(inside journalctl -u gwwatchd.service --no-pager -o cat)
grep -q 'processing.spectrogram.stride: must be at least fftlength' <<<"$journal" ||
	fail "the journal does not say why the configuration is invalid"
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] || fail "gwwatchd is $(prop ActiveState)/$(prop SubState) after a failed reload"
[ "$(prop MainPID)" = "$pid1" ] || fail "a failed reload restarted the daemon"
drop "$f3"
wait_for 30 "$f3 archived" "any(r['source_path'].endswith('/$f3.npy') for r in ev('archived'))"
[ "$(fftlength "$f3")" = "[2.0]" ] || fail "$f3 archived with ASD fftlength $(fftlength "$f3") after a failed reload, want [2.0]"
[ "$(audit "len(ev('config_reloaded'))")" = 1 ] || fail "a failed reload wrote a config_reloaded record"
cp "$tmp/good.toml" "$root$conf"
ok "systemctl reload of an invalid configuration: exit non-zero, old configuration kept"

# The watchdog: a stopped daemon sends no WATCHDOG=1; systemd must kill
# it within WatchdogSec= and restart it RestartSec= later.
wd_us=$(prop WatchdogUSec)
inside kill -STOP "$pid1"
stopped=$(date +%s)
deadline=$((stopped + 75))
until [ "$(prop NRestarts)" -ge 1 ] && [ "$(prop ActiveState)/$(prop SubState)" = active/running ]; do
	[ "$(date +%s)" -lt "$deadline" ] || fail "no watchdog restart 75 s after SIGSTOP (NRestarts $(prop NRestarts), $(prop ActiveState)/$(prop SubState))"
	sleep 0.5
done
took=$(($(date +%s) - stopped))
pid2=$(prop MainPID)
[ "$pid2" != "$pid1" ] || fail "the same daemon after a watchdog restart"
journal=$(inside journalctl -u gwwatchd.service --no-pager -o cat)
grep -q "Failed with result 'watchdog'" <<<"$journal" ||
	fail "the restart was not the watchdog's"
wait_for 10 "startup record of the restarted daemon" "ev('startup')[-1]['pid'] == $pid2"
ok "watchdog ($wd_us): SIGSTOPped daemon killed and restarted after $took s, NRestarts $(prop NRestarts)"

out=$(limit=120 inside systemctl stop gwwatchd.service 2>&1) || {
	printf '%s\n' "$out" >&2
	fail "systemctl stop"
}
[ "$(prop ActiveState)" = inactive ] || fail "gwwatchd is $(prop ActiveState) after stop"
wait_for 5 "shutdown record" "[r['event'] for r in recs if r['event'] in ('startup', 'shutdown')][-1] == 'shutdown' and ev('shutdown')[-1]['pid'] == $pid2"
out=$(limit=120 inside gwwatchd audit verify --archives --config "$conf" 2>&1) || {
	printf '%s\n' "$out" >&2
	fail "gwwatchd audit verify --archives"
}
ok "systemctl stop: shutdown record; audit verify --archives passes"
echo "PASS: nspawn-test.sh ($(($(date +%s) - started)) s)"
