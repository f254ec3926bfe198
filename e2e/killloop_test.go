package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/sdnotify/sdnotifytest"
)

// killLoopSeedEnv, when set, replays the kill schedule of a failed run: the
// files, their order, when they are dropped and when each kill comes are
// all drawn from this seed (the timing of the machine is not).
const killLoopSeedEnv = "GWWATCHD_KILLLOOP_SEED"

// TestKillLoop kills gwwatchd run and gwwatchd ingest with SIGKILL at
// random moments, over and over, while they archive files into one
// archive root and one audit log, and then checks that nothing was lost,
// half written, archived twice or removed without a record.
func TestKillLoop(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(killLoopSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", killLoopSeedEnv, s, err)
		}
		seed = v
	}
	t.Logf("seed %d; to replay: %s=%d go test -count=1 -run KillLoop -v ./e2e", seed, killLoopSeedEnv, seed)
	k := newKillLoop(t, seed)
	t.Run("daemon", func(t *testing.T) {
		k.runDaemon(t)
		k.check(t, "daemon", k.filesOf("keep", "move", "delete"))
	})
	t.Run("ingest", func(t *testing.T) {
		k.runIngest(t)
		k.check(t, "ingest", k.filesOf("ingest"))
	})
	t.Logf("seed %d: %d kills in all", seed, k.kills)
}

// srcFile is one source file of the loop: what was dropped, and where.
type srcFile struct {
	policy  string // "keep", "move", "delete" (the watch's after), or "ingest"
	dir     string // the directory it is dropped in
	name    string
	data    []byte
	sidecar []byte // nil: none
	sha     string // of data
	sideSHA string // of sidecar; "" without one
}

func (f *srcFile) path() string { return filepath.Join(f.dir, f.name) }

func (f *srcFile) sidecarPath() string {
	return strings.TrimSuffix(f.path(), ".npy") + ".json"
}

type killLoop struct {
	t     *testing.T
	e     *env
	seed  uint64
	dirs  map[string]string // policy -> watch directory ("ingest": where ingest reads)
	stage string            // outside every watch: where some files are written before the rename
	files []*srcFile
	kills int
	seen  map[string]bool // violations already reported, so that a later part does not repeat them
	// afterKill holds what audit verify said right after each kill, by
	// part: a kill may leave the log and its checkpoints only as a crash
	// does, never as tampering would.
	afterKill map[string][]string
}

func newKillLoop(t *testing.T, seed uint64) *killLoop {
	e := newEnv(t, "keep", "")
	k := &killLoop{t: t, e: e, seed: seed, seen: map[string]bool{}, afterKill: map[string][]string{},
		dirs: map[string]string{
			"keep":   e.incoming,
			"move":   filepath.Join(e.dir, "incoming-move"),
			"delete": filepath.Join(e.dir, "incoming-delete"),
			"ingest": filepath.Join(e.dir, "batch"),
		},
		stage: filepath.Join(e.dir, "stage"),
	}
	for _, d := range append(slices.Collect(maps.Values(k.dirs)), k.stage) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	k.writeConfig()
	k.plan(rand.New(rand.NewPCG(seed, 0)))
	return k
}

// writeConfig writes one configuration with a watch of each policy.
// Checkpoints come every few records so that kills meet them too. The
// kills here are the test's, not any file's doing: the same file may well
// be in flight at three kills in a row, which must not get it quarantined
// as one that kills the daemon.
func (k *killLoop) writeConfig() {
	e := k.e
	text := fmt.Sprintf(`[daemon]
max_deaths = 0
workers = 2
state_dir = %q
rescan = "2s"
shutdown_timeout = "20s"
[archive]
root = %q
[audit]
path = %q
checkpoint_every = 4
checkpoint_interval = "1s"
[processing.asd]
fftlength = 1.0
[processing.spectrogram]
enabled = false
`, filepath.Join(e.dir, "state"), e.archive, filepath.Join(e.dir, "audit.log"))
	for _, p := range []string{"keep", "move", "delete"} {
		text += fmt.Sprintf("[[watch]]\ndir = %q\nsettle = \"400ms\"\nafter = %q\nquarantine_dir = %q\n", k.dirs[p], p, e.quarantine)
		if p == "move" {
			text += fmt.Sprintf("done_dir = %q\n", e.done)
		}
	}
	if err := os.WriteFile(e.config, []byte(text), 0o644); err != nil {
		k.t.Fatal(err)
	}
	if out, err := exec.Command(bin, "config", "check", e.config).CombinedOutput(); err != nil {
		k.t.Fatalf("config check: %v\n%s", err, out)
	}
}

// plan makes every source file: 1 to 4 s at 512 Hz, each from its own
// seed, about half with a sidecar, and a few groups with identical bytes
// whose metadata differs (sidecar channel, GPS time in the name), each of
// which must get its own archive.
func (k *killLoop) plan(rng *rand.Rand) {
	scratch := k.t.TempDir()
	npyBytes := func(seconds int, seed uint64) []byte {
		p := filepath.Join(scratch, "x.npy")
		if err := synth.WriteNPY(p, synth.Coloured(seconds*512, 512, 50, seed)); err != nil {
			k.t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			k.t.Fatal(err)
		}
		return b
	}
	side := func(channel string) []byte {
		return []byte(fmt.Sprintf(`{"channel": %q, "unit": "ct"}`, channel))
	}
	add := func(policy, name string, data, sidecar []byte) {
		f := &srcFile{policy: policy, dir: k.dirs[policy], name: name, data: data, sidecar: sidecar, sha: sha256Hex(data)}
		if sidecar != nil {
			f.sideSHA = sha256Hex(sidecar)
		}
		k.files = append(k.files, f)
	}
	base := rng.Uint64N(1 << 40)
	n := uint64(0)
	next := func() uint64 { n++; return base + n }
	desc := map[string]string{"keep": "K1_KEEP", "move": "K1_MOVE", "delete": "K1_DEL", "ingest": "K1_INGEST"}
	for wi, p := range []string{"keep", "move", "delete", "ingest"} {
		count := 22
		if p == "ingest" {
			count = 48
		}
		for i := range count {
			dur := 1 + rng.IntN(4)
			name := fmt.Sprintf("K-%s-%d-%d.npy", desc[p], 1300000000+10000*wi+10*i, dur)
			var sc []byte
			if rng.IntN(2) == 0 {
				sc = side("K1:PEM-X")
			}
			add(p, name, npyBytes(dur, next()), sc)
		}
	}
	// One name and one content in two watches and in ingest, each with its
	// own sidecar: one archive path from the layout, so _2 and _3.
	same := npyBytes(2, next())
	add("keep", "K-K1_SAME-1300100000-2.npy", same, side("K1:PEM-X"))
	add("move", "K-K1_SAME-1300100000-2.npy", same, side("K1:PEM-Y"))
	add("ingest", "K-K1_SAME-1300100000-2.npy", same, side("K1:PEM-Z"))
	// The same bytes at two GPS times, without sidecars.
	gps := npyBytes(2, next())
	add("delete", "K-K1_GPS-1300200000-2.npy", gps, nil)
	add("delete", "K-K1_GPS-1300200010-2.npy", gps, nil)
	// The same bytes as two channels.
	ch := npyBytes(3, next())
	add("move", "K-K1_CHA-1300300000-3.npy", ch, side("K1:PEM-X"))
	add("move", "K-K1_CHB-1300300000-3.npy", ch, side("K1:PEM-Y"))
	add("ingest", "K-K1_CHC-1300300000-3.npy", ch, side("K1:PEM-Z"))
}

func (k *killLoop) filesOf(policies ...string) []*srcFile {
	var out []*srcFile
	for _, f := range k.files {
		if slices.Contains(policies, f.policy) {
			out = append(out, f)
		}
	}
	return out
}

// drop writes f as writers should: the sidecar first, then the data file
// under a dot-temp name (in its directory or in the staging directory
// outside every watch), renamed to its name.
func (k *killLoop) drop(f *srcFile, outside bool) error {
	if f.sidecar != nil {
		tmp := filepath.Join(f.dir, "."+filepath.Base(f.sidecarPath())+".tmp")
		if err := os.WriteFile(tmp, f.sidecar, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, f.sidecarPath()); err != nil {
			return err
		}
	}
	dir := f.dir
	if outside {
		dir = k.stage
	}
	tmp := filepath.Join(dir, "."+f.name+".tmp")
	if err := os.WriteFile(tmp, f.data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f.path())
}

// proc is one gwwatchd process of the loop.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	notify *sdnotifytest.Socket
	exited chan error
}

func (k *killLoop) startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), "GWWATCHD_LOG_LEVEL=info")
	if args[0] == "run" {
		var sockPath string
		p.notify, sockPath = sdnotifytest.Start(t)
		p.cmd.Env = append(p.cmd.Env, "NOTIFY_SOCKET="+sockPath)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

func (p *proc) ready() bool {
	for _, m := range p.notify.Messages() {
		if slices.Contains(strings.Split(m, "\n"), "READY=1") {
			return true
		}
	}
	return false
}

// waitReady waits for READY=1; false if the daemon exited first (its
// error is then in err) or a minute passed.
func (p *proc) waitReady() (ok bool, err error) {
	deadline := time.Now().Add(time.Minute)
	for !p.ready() {
		select {
		case err := <-p.exited:
			p.exited <- err
			return false, err
		default:
		}
		if time.Now().After(deadline) {
			return false, errors.New("no READY=1 within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true, nil
}

// kill9 sends SIGKILL unless the process already ended; killed says
// whether the signal ended it, and err is how it ended otherwise.
func (p *proc) kill9() (killed bool, err error) {
	select {
	case err := <-p.exited:
		return false, err
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	err = <-p.exited
	if diedOf(err, syscall.SIGKILL) {
		return true, nil
	}
	return false, err
}

// diedOf reports whether err, from exec.Cmd.Wait, says that sig ended the
// process.
func diedOf(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws, ok := ee.Sys().(syscall.WaitStatus)
		return ok && ws.Signaled() && ws.Signal() == sig
	}
	return false
}

// trigger is when a kill comes: a random delay after the start
// ("uniform", "startup"), or a short random delay after the log has grown
// by some records since the start ("records"), which lands the kill amid
// the work on a file: the archive link, its record, the move or deletion
// of the source and its sidecar, a checkpoint. With term, SIGTERM comes
// first and SIGKILL a moment later, amid the shutdown and its checkpoint.
type trigger struct {
	mode    string
	delay   time.Duration
	records int
	term    time.Duration // > 0: SIGTERM, then SIGKILL this much later
}

func (tr trigger) String() string {
	s := fmt.Sprintf("%s %v", tr.mode, tr.delay)
	if tr.mode == "records" {
		s = fmt.Sprintf("%d records + %v", tr.records, tr.delay)
	}
	if tr.term > 0 {
		s += fmt.Sprintf(", SIGTERM then SIGKILL after %v", tr.term)
	}
	return s
}

func pickTrigger(rng *rand.Rand, uniform, startup, afterRecords time.Duration, maxRecords int) trigger {
	var tr trigger
	switch rng.IntN(4) {
	case 0:
		tr = trigger{mode: "uniform", delay: time.Duration(rng.Int64N(int64(uniform)))}
	case 1:
		tr = trigger{mode: "startup", delay: time.Duration(rng.Int64N(int64(startup)))}
	default:
		tr = trigger{mode: "records", records: 1 + rng.IntN(maxRecords), delay: time.Duration(rng.Int64N(int64(afterRecords)))}
	}
	if rng.IntN(5) == 0 {
		tr.term = 1 + time.Duration(rng.Int64N(int64(30*time.Millisecond)))
	}
	return tr
}

// kill waits for the trigger, counted from base records in the log, and
// kills p; see kill9 for what it returns.
func (k *killLoop) kill(p *proc, tr trigger, base int) (killed bool, err error) {
	k.await(p, tr, base)
	if tr.term > 0 {
		p.cmd.Process.Signal(syscall.SIGTERM)
		time.Sleep(tr.term)
	}
	return p.kill9()
}

// records reads the audit log like env.records, but returns an error for
// a line that does not parse.
func (k *killLoop) records() ([]record, error) {
	b, err := os.ReadFile(filepath.Join(k.e.dir, "audit.log"))
	if err != nil {
		return nil, err
	}
	return parseRecords(b)
}

func (k *killLoop) auditLines() int {
	b, _ := os.ReadFile(filepath.Join(k.e.dir, "audit.log"))
	return bytes.Count(b, []byte("\n"))
}

// await waits for the trigger, counted from base records in the log; it
// gives up after ten seconds or when p ends.
func (k *killLoop) await(p *proc, tr trigger, base int) {
	if tr.mode == "records" {
		deadline := time.Now().Add(10 * time.Second)
		for k.auditLines() < base+tr.records && time.Now().Before(deadline) {
			select {
			case err := <-p.exited:
				p.exited <- err
				return
			default:
			}
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(tr.delay)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// runDaemon drops the watches' files over rounds; in each the daemon is
// started (sometimes killed before it is ready), files are dropped while
// it is down and while it runs, and it is killed. A last run, stopped with
// SIGTERM, handles what is left.
func (k *killLoop) runDaemon(t *testing.T) {
	rng := rand.New(rand.NewPCG(k.seed, 1))
	files := k.filesOf("keep", "move", "delete")
	rng.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	const wantKills = 30
	pending := files
	kills := 0
	start := time.Now()
	for round := 1; kills < wantKills && round <= 3*wantKills; round++ {
		// Everything random about the round is drawn before it starts.
		n := (len(pending) + wantKills - kills - 1) / (wantKills - kills)
		n = min(len(pending), max(0, n-1+rng.IntN(3)))
		chunk := pending[:n]
		pending = pending[n:]
		down := rng.IntN(len(chunk) + 1)
		outside := make([]bool, len(chunk))
		gaps := make([]time.Duration, len(chunk))
		for i := range chunk {
			outside[i] = rng.IntN(2) == 0
			gaps[i] = time.Duration(rng.Int64N(int64(60 * time.Millisecond)))
		}
		waitReady := rng.IntN(4) != 0
		tr := pickTrigger(rng, 800*time.Millisecond, 150*time.Millisecond, 15*time.Millisecond, 10)

		for i, f := range chunk[:down] {
			if err := k.drop(f, outside[i]); err != nil {
				t.Fatal(err)
			}
		}
		base := k.auditLines()
		p := k.startProc(t, "run", "--config", k.e.config)
		if waitReady {
			if ok, err := p.waitReady(); !ok {
				t.Fatalf("round %d: the daemon did not get ready after %d kills: %v\n%s", round, kills, err, tail(p.stderr.String(), 4000))
			}
			base = k.auditLines()
		}
		dropped := make(chan error, 1)
		go func() {
			for i, f := range chunk[down:] {
				time.Sleep(gaps[down+i])
				if err := k.drop(f, outside[down+i]); err != nil {
					dropped <- err
					return
				}
			}
			dropped <- nil
		}()
		killed, err := k.kill(p, tr, base)
		if derr := <-dropped; derr != nil {
			t.Fatal(derr)
		}
		if !killed {
			if tr.term > 0 && (err == nil || diedOf(err, syscall.SIGTERM)) {
				// SIGTERM came first: a clean stop, or, before the
				// daemon set its handlers, the default action.
				t.Logf("round %d (trigger %v): the daemon ended on SIGTERM before the SIGKILL: %v", round, tr, err)
				continue
			}
			t.Fatalf("round %d (trigger %v): the daemon ended before the kill: %v\n%s", round, tr, err, tail(p.stderr.String(), 4000))
		}
		kills++
		k.kills++
		k.verifyAfterKill("daemon", fmt.Sprintf("daemon kill %d (round %d, trigger %v)", kills, round, tr))
		t.Logf("daemon kill %d (round %d): %d files dropped while down, %d while up, ready-wait %v, trigger %v; %d records in the log",
			kills, round, down, len(chunk)-down, waitReady, tr, k.auditLines())
	}
	if kills < wantKills {
		t.Errorf("only %d kills of the daemon, want %d", kills, wantKills)
	}
	for _, f := range pending {
		if err := k.drop(f, false); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d daemon kills in %v", kills, time.Since(start).Round(time.Millisecond))

	// The last run: until every file is archived and every data file of a
	// move or delete watch has left it, then until the log is still.
	p := k.startProc(t, "run", "--config", k.e.config)
	if ok, err := p.waitReady(); !ok {
		t.Fatalf("the final daemon did not get ready: %v\n%s", err, tail(p.stderr.String(), 4000))
	}
	handled := func() bool {
		archived := map[string]bool{}
		recs, _ := k.records()
		for _, r := range recs {
			if r["event"] == "archived" {
				archived[str(r, "source_path")+" "+str(r, "source_sha256")] = true
			}
		}
		for _, f := range files {
			if !archived[f.path()+" "+f.sha] || f.policy != "keep" && exists(f.path()) {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(90 * time.Second)
	for !handled() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !handled() {
		t.Logf("the final run did not handle every file within 90 s; the checks say which")
	}
	last, still := k.auditLines(), time.Now()
	for time.Since(still) < 3*time.Second && time.Now().Before(deadline.Add(20*time.Second)) {
		time.Sleep(100 * time.Millisecond)
		if n := k.auditLines(); n != last {
			last, still = n, time.Now()
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("the final gwwatchd run exited with %v after SIGTERM\n%s", err, tail(p.stderr.String(), 4000))
		}
	case <-time.After(time.Minute):
		t.Errorf("the final gwwatchd run did not stop within a minute of SIGTERM")
		p.kill9()
	}
}

// runIngest runs gwwatchd ingest on batches of files, each batch killed
// once or twice, and then once on every file to the end.
func (k *killLoop) runIngest(t *testing.T) {
	rng := rand.New(rand.NewPCG(k.seed, 2))
	files := k.filesOf("ingest")
	for _, f := range files {
		if err := k.drop(f, rng.IntN(2) == 0); err != nil {
			t.Fatal(err)
		}
	}
	rng.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	var batches [][]*srcFile
	for len(files) > 0 {
		n := min(len(files), 2+rng.IntN(4))
		batches = append(batches, files[:n])
		files = files[n:]
	}
	// Each batch is run until it has been killed once or twice (a run
	// that ends first is run again), at most four times; then the next.
	// Once every batch had its turn, more rounds on them until there were
	// enough kills.
	const wantKills = 20
	kills, tries := 0, 0
	start := time.Now()
	for bi := 0; bi < len(batches) || kills < wantKills && bi < 3*len(batches); bi++ {
		b := batches[bi%len(batches)]
		goal := 1 + rng.IntN(2)
		for got, attempt := 0, 0; got < goal && attempt < 4; attempt++ {
			tr := pickTrigger(rng, 60*time.Millisecond, 25*time.Millisecond, 4*time.Millisecond, len(b)+1)
			args := []string{"ingest", "--config", k.e.config}
			for _, f := range b {
				args = append(args, f.path())
			}
			tries++
			base := k.auditLines()
			p := k.startProc(t, args...)
			killed, err := k.kill(p, tr, base)
			if !killed {
				// Done before the kill: it must have succeeded, unless
				// SIGTERM interrupted it.
				t.Logf("ingest run %d (batch %d, %d files, trigger %v) ended before the kill: %v", tries, bi%len(batches)+1, len(b), tr, err)
				if err != nil && tr.term == 0 {
					t.Errorf("ingest run %d: %v\n%s%s", tries, err, p.stdout.String(), tail(p.stderr.String(), 4000))
				}
				continue
			}
			got++
			kills++
			k.kills++
			k.verifyAfterKill("ingest", fmt.Sprintf("ingest kill %d (run %d, trigger %v)", kills, tries, tr))
			t.Logf("ingest kill %d (run %d, batch %d): %d files, trigger %v; %d lines printed, %d records in the log",
				kills, tries, bi%len(batches)+1, len(b), tr, strings.Count(p.stdout.String(), "\n"), k.auditLines())
		}
	}
	if kills < wantKills {
		t.Errorf("only %d kills of ingest in %d runs, want %d", kills, tries, wantKills)
	}
	t.Logf("%d ingest kills in %v", kills, time.Since(start).Round(time.Millisecond))

	// The last run, on every file, to the end.
	all := k.filesOf("ingest")
	args := []string{"ingest", "--config", k.e.config}
	for _, f := range all {
		args = append(args, f.path())
	}
	p := k.startProc(t, args...)
	var err error
	select {
	case err = <-p.exited:
	case <-time.After(2 * time.Minute):
		p.kill9()
		err = errors.New("did not finish within two minutes")
	}
	if err != nil {
		t.Errorf("the final gwwatchd ingest: %v\n%s%s", err, p.stdout.String(), tail(p.stderr.String(), 4000))
	}
	lines := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(p.stdout.String()), "\n") {
		src, _, ok := strings.Cut(l, " -> ")
		if !ok {
			t.Errorf("the final gwwatchd ingest printed %q, want SOURCE -> ARCHIVE", l)
			continue
		}
		lines[src] = append(lines[src], l)
	}
	for _, f := range all {
		if n := len(lines[f.path()]); n != 1 {
			t.Errorf("the final gwwatchd ingest printed %d lines for %s, want 1: %q", n, f.path(), lines[f.path()])
		}
	}
}

// violations collects what the checks found, by rule.
type violations struct {
	rules map[string][]string
}

func (v *violations) add(rule, format string, args ...any) {
	if v.rules == nil {
		v.rules = map[string][]string{}
	}
	v.rules[rule] = append(v.rules[rule], rule+": "+fmt.Sprintf(format, args...))
}

// The rules, in the order the summary gives them.
var killLoopRules = []string{"lost", "partial", "duplicate", "orphan", "temp", "unrecorded", "split", "policy", "rejected", "audit"}

// check checks files and the archive root, the other directories and the
// log as a whole. A violation a previous part reported is counted but not
// repeated.
func (k *killLoop) check(t *testing.T, part string, files []*srcFile) {
	e := k.e
	var v violations
	recs, rerr := k.records()
	if rerr != nil {
		v.add("audit", "%v", rerr)
	}
	bySrc := map[string][]record{}   // archived records by source path
	byKey := map[string][]record{}   // archived records by content key
	byArc := map[string][]record{}   // archived records by archive path
	removed := map[string][]record{} // source_moved and source_deleted by source path
	for _, r := range recs {
		switch r["event"] {
		case "archived":
			bySrc[str(r, "source_path")] = append(bySrc[str(r, "source_path")], r)
			byKey[str(r, "content_key")] = append(byKey[str(r, "content_key")], r)
			byArc[str(r, "archive_path")] = append(byArc[str(r, "archive_path")], r)
		case "source_moved", "source_deleted":
			removed[str(r, "source_path")] = append(removed[str(r, "source_path")], r)
		case "rejected", "quarantined":
			v.add("rejected", "seq %v: %s %s: %s", r["seq"], r["event"], str(r, "source_path"), str(r, "reason"))
		}
	}
	// Files in done_dir by content.
	inDone := map[string][]string{}
	filepath.WalkDir(e.done, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, err := os.ReadFile(p); err == nil {
				inDone[sha256Hex(b)] = append(inDone[sha256Hex(b)], p)
			}
		}
		return nil
	})

	for _, f := range files {
		k.checkArchived(&v, f, bySrc[f.path()])
		k.checkPlace(&v, f, removed, inDone)
	}

	// No content archived twice, no archive named twice.
	for key, rs := range byKey {
		if len(rs) > 1 && key != "" {
			v.add("duplicate", "content_key %s has %d archived records: %s", short(key), len(rs), describe(rs))
		}
	}
	for p, rs := range byArc {
		if len(rs) > 1 {
			v.add("duplicate", "archive %s is named by %d archived records: %s", p, len(rs), describe(rs))
		}
	}

	// Every archive on disk is named by the log, and opens and verifies.
	var h5s []string
	filepath.WalkDir(e.archive, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".h5") && !strings.HasPrefix(d.Name(), ".") {
			h5s = append(h5s, p)
			if len(byArc[p]) == 0 {
				v.add("orphan", "%s is under the archive root but no archived record names it", p)
			}
		}
		return nil
	})
	if len(h5s) > 0 {
		out, err := exec.Command(bin, append([]string{"verify"}, h5s...)...).CombinedOutput()
		bad := 0
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if !strings.Contains(l, ": OK (") {
				v.add("partial", "gwwatchd verify: %s", l)
				bad++
			}
		}
		if err != nil && bad == 0 {
			v.add("partial", "gwwatchd verify of %d archives: %v\n%s", len(h5s), err, out)
		}
	}

	// No temp file anywhere gwwatchd writes.
	for _, dir := range []string{e.archive, e.done, e.quarantine, filepath.Join(e.dir, "state"), k.dirs["keep"], k.dirs["move"], k.dirs["delete"], k.dirs["ingest"]} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && isTempName(d.Name()) {
				v.add("temp", "%s left behind", p)
			}
			return nil
		})
	}
	// Nothing was bad input.
	filepath.WalkDir(e.quarantine, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			v.add("rejected", "%s is in the quarantine directory", p)
		}
		return nil
	})

	// The log and the archives agree, and no checkpoint is reported: now,
	// and right after each kill.
	checkpoint, repaired := 0, 0
	problems, out, err := k.auditProblems(true)
	for _, l := range problems {
		what := auditKind(l)
		checkpoint += b2i(what == "checkpoint problem")
		repaired += b2i(what == "repaired")
		v.add("audit", "audit verify --archives after the final run: %s: %s", what, l)
	}
	if len(problems) > 0 {
		t.Logf("audit verify --archives (%v):\n%s", err, out)
	}
	for _, l := range k.afterKill[part] {
		what := auditKind(l)
		checkpoint += b2i(what == "checkpoint problem")
		repaired += b2i(what == "repaired")
		v.add("audit", "audit verify right after %s [%s]", l, what)
	}
	nRepaired := 0
	for _, r := range recs {
		if r["event"] == "repaired" {
			nRepaired++
		}
	}

	// Report: every new violation on its own line, then the counts.
	var counts []string
	fresh, old := 0, 0
	for _, rule := range killLoopRules {
		counts = append(counts, fmt.Sprintf("%d %s", len(v.rules[rule]), rule))
		for _, s := range v.rules[rule] {
			if k.seen[s] {
				old++
				continue
			}
			k.seen[s] = true
			fresh++
			t.Error(s)
		}
	}
	summary := fmt.Sprintf("kill loop, %s part (seed %d, %d kills so far, %d files): %s; audit verify (final and after each kill): %d checkpoint and %d repaired messages; %d repaired records in the log",
		part, k.seed, k.kills, len(files), strings.Join(counts, ", "), checkpoint, repaired, nRepaired)
	if old > 0 {
		summary += fmt.Sprintf(" (%d of these reported by an earlier part)", old)
	}
	if fresh > 0 {
		t.Errorf("%s\nreplay with %s=%d", summary, killLoopSeedEnv, k.seed)
	} else {
		t.Log(summary)
	}
}

// checkArchived checks that f's content is named by exactly one archived
// record, with its sidecar, whose archive is on disk as logged.
func (k *killLoop) checkArchived(v *violations, f *srcFile, recs []record) {
	var mine []record
	for _, r := range recs {
		if str(r, "source_sha256") == f.sha {
			mine = append(mine, r)
		} else {
			v.add("lost", "%s: archived record seq %v has source_sha256 %s, the file dropped has %s", f.path(), r["seq"], short(str(r, "source_sha256")), short(f.sha))
		}
	}
	switch {
	case len(mine) == 0:
		v.add("lost", "%s (%s): no archived record", f.path(), f.policy)
		return
	case len(mine) > 1:
		v.add("duplicate", "%s (%s): %d archived records: %s", f.path(), f.policy, len(mine), describe(mine))
	}
	for _, r := range mine {
		arc := str(r, "archive_path")
		b, err := os.ReadFile(arc)
		switch {
		case err != nil:
			v.add("lost", "%s: archived record seq %v names %s: %v", f.path(), r["seq"], arc, err)
		case sha256Hex(b) != str(r, "archive_sha256"):
			v.add("lost", "%s: archived record seq %v says %s has sha256 %s, it has %s", f.path(), r["seq"], arc, short(str(r, "archive_sha256")), short(sha256Hex(b)))
		}
		if got := str(r, "sidecar_sha256"); got != f.sideSHA {
			v.add("lost", "%s: archived record seq %v has sidecar_sha256 %q, the sidecar dropped has %q", f.path(), r["seq"], short(got), short(f.sideSHA))
		}
	}
}

// checkPlace checks where f and its sidecar are now against the policy of
// its watch, and that every removal is recorded.
func (k *killLoop) checkPlace(v *violations, f *srcFile, removed map[string][]record, inDone map[string][]string) {
	here := sameContent(f.path(), f.data)
	sideHere := f.sidecar != nil && sameContent(f.sidecarPath(), f.sidecar)
	switch f.policy {
	case "keep", "ingest":
		if !here {
			v.add("lost", "%s (%s): no longer at its path with the content dropped", f.path(), f.policy)
		}
		if f.sidecar != nil && !sideHere {
			v.add("lost", "%s (%s): no longer at its path with the content dropped", f.sidecarPath(), f.policy)
		}
		for _, r := range removed[f.path()] {
			v.add("policy", "%s (%s): seq %v %s", f.path(), f.policy, r["seq"], r["event"])
		}
	case "move":
		dataAt := k.checkMoved(v, f, f.path(), f.data, here, removed, inDone)
		if f.sidecar == nil {
			break
		}
		sideAt := k.checkMoved(v, f, f.sidecarPath(), f.sidecar, sideHere, removed, inDone)
		switch {
		case here && sideAt != "":
			v.add("split", "%s is still in the watch directory, its sidecar was moved to %s", f.path(), sideAt)
		case dataAt != "" && sideHere:
			v.add("split", "%s was moved to %s, its sidecar is still at %s", f.path(), dataAt, f.sidecarPath())
		case dataAt != "" && sideAt != "" && sideAt != strings.TrimSuffix(dataAt, ".npy")+".json":
			v.add("split", "%s was moved to %s, its sidecar to %s, not beside it", f.path(), dataAt, sideAt)
		}
	case "delete":
		k.checkDeleted(v, f, f.path(), here, removed)
		if f.sidecar == nil {
			break
		}
		k.checkDeleted(v, f, f.sidecarPath(), sideHere, removed)
		switch {
		case here && !sideHere:
			v.add("split", "%s is still in the watch directory, its sidecar %s was deleted", f.path(), f.sidecarPath())
		case !here && sideHere:
			v.add("split", "%s was deleted, its sidecar is still at %s", f.path(), f.sidecarPath())
		}
	}
}

// checkMoved checks one file of a move watch (the data file or its
// sidecar) and returns where in done_dir it is, or "".
func (k *killLoop) checkMoved(v *violations, f *srcFile, path string, content []byte, here bool, removed map[string][]record, inDone map[string][]string) string {
	sidecar := path != f.path()
	var moved []record
	for _, r := range removed[path] {
		if r["event"] == "source_moved" {
			moved = append(moved, r)
		} else {
			v.add("policy", "%s (move): seq %v %s", path, r["seq"], r["event"])
		}
	}
	if here {
		if !sidecar { // a sidecar left behind is a split, reported with its data file
			v.add("policy", "%s (move): still in the watch directory after the final run", path)
		}
		for _, r := range moved {
			v.add("unrecorded", "%s (move): seq %v says it was moved to %s, but it is still here", path, r["seq"], str(r, "moved_to"))
		}
		return ""
	}
	// Where it went: its record's moved_to, else a file in done_dir with
	// its content and name.
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var found []string
	for _, p := range inDone[sha256Hex(content)] {
		if strings.HasPrefix(filepath.Base(p), stem) && filepath.Ext(p) == filepath.Ext(path) {
			found = append(found, p)
		}
	}
	if len(moved) == 0 {
		if len(found) == 0 {
			v.add("lost", "%s (move): gone from the watch directory, not in done_dir, and no source_moved record", path)
			return ""
		}
		v.add("unrecorded", "%s (move): gone from the watch directory, in done_dir as %s, but no source_moved record", path, found[0])
		return found[0]
	}
	if len(moved) > 1 {
		v.add("duplicate", "%s (move): %d source_moved records: %s", path, len(moved), describe(moved))
	}
	to := str(moved[len(moved)-1], "moved_to")
	if !sameContent(to, content) {
		v.add("lost", "%s (move): seq %v says it was moved to %s, which does not hold its content", path, moved[len(moved)-1]["seq"], to)
		return ""
	}
	return to
}

func (k *killLoop) checkDeleted(v *violations, f *srcFile, path string, here bool, removed map[string][]record) {
	var deleted []record
	for _, r := range removed[path] {
		if r["event"] == "source_deleted" {
			deleted = append(deleted, r)
		} else {
			v.add("policy", "%s (delete): seq %v %s", path, r["seq"], r["event"])
		}
	}
	switch {
	case here:
		if path == f.path() { // a sidecar left behind is a split, reported with its data file
			v.add("policy", "%s (delete): still in the watch directory after the final run", path)
		}
		for _, r := range deleted {
			v.add("unrecorded", "%s (delete): seq %v says it was deleted, but it is still here", path, r["seq"])
		}
	case len(deleted) == 0:
		v.add("unrecorded", "%s (delete): gone from the watch directory without a source_deleted record", path)
	case len(deleted) > 1:
		v.add("duplicate", "%s (delete): %d source_deleted records: %s", path, len(deleted), describe(deleted))
	}
}

// summaryLine is audit verify's first line: what it read.
var summaryLine = regexp.MustCompile(`: \d+ records? in \d+ segments?, `)

// auditProblems runs gwwatchd audit verify (with --archives if archives)
// and returns its problem lines, without the summary, and its error.
// Warnings are not problems: after kill -9 they rightly say that a writer
// died before it could sign its last records (which a later checkpoint
// signs, saying so); nor is what verify says it could not check without a
// trusted key or an outside checkpoint, which this test does not give.
func (k *killLoop) auditProblems(archives bool) (problems []string, out []byte, err error) {
	args := []string{"audit", "verify", "--config", k.e.config}
	if archives {
		args = append(args, "--archives")
	}
	out, err = exec.Command(bin, args...).CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "OK" || strings.HasPrefix(l, "FAILED: ") || summaryLine.MatchString(l) ||
			strings.HasPrefix(l, "WARNING: ") || strings.HasPrefix(l, "UNCHECKED: ") || strings.HasPrefix(l, "OK as far as checked: no problems") {
			continue
		}
		problems = append(problems, l)
	}
	if err != nil && len(problems) == 0 {
		problems = append(problems, fmt.Sprintf("%v: %s", err, out))
	}
	return problems, out, err
}

// verifyAfterKill runs audit verify on what a kill left (without
// --archives: an archive linked but not yet recorded is adopted by the
// next run) and keeps its problems for the part's check.
func (k *killLoop) verifyAfterKill(part, which string) {
	if !exists(filepath.Join(k.e.dir, "audit.log")) {
		return // killed before the log was created: nothing to verify
	}
	problems, _, _ := k.auditProblems(false)
	for _, l := range problems {
		k.afterKill[part] = append(k.afterKill[part], which+": "+l)
	}
}

// auditKind says what an audit verify problem line is about.
func auditKind(l string) string {
	switch {
	case strings.Contains(strings.ToLower(l), "repaired"):
		return "repaired"
	case strings.Contains(l, "checkpoint"):
		return "checkpoint problem"
	}
	return "problem"
}

// isTempName reports a temp file of gwwatchd (.gwwatchd-*.h5.tmp, the
// .NAME.tmpNNN of an atomic write) or of a writer.
func isTempName(name string) bool {
	if strings.HasPrefix(name, ".gwwatchd-") || strings.HasPrefix(name, ".#") ||
		strings.HasSuffix(name, ".part") || strings.HasSuffix(name, "~") {
		return true
	}
	if i := strings.LastIndex(name, ".tmp"); i >= 0 {
		rest := name[i+len(".tmp"):]
		return strings.Trim(rest, "0123456789") == ""
	}
	return false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sameContent(path string, content []byte) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Equal(b, content)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func str(r record, key string) string {
	s, _ := r[key].(string)
	return s
}

// describe names records by seq, event, source and archive.
func describe(rs []record) string {
	var parts []string
	for _, r := range rs {
		s := fmt.Sprintf("seq %v %s %s", r["seq"], r["event"], str(r, "source_path"))
		if a := str(r, "archive_path"); a != "" {
			s += " -> " + a
		}
		if r["adopted"] == true {
			s += " (adopted)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
