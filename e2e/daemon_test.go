package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

func TestDaemon(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keep", "")
	// A file present before the start.
	early := npy(t, e.incoming, 1300000000, 1)
	d := e.start()
	e.waitFor("the early file", func() bool { return e.count("archived", "source_path", early) == 1 }, d)

	// Renamed in.
	renamed := npy(t, e.incoming, 1300000008, 2)
	// A slow writer: several writes spread over less than settle.
	slow := filepath.Join(e.incoming, "slow.txt")
	f, err := os.Create(slow)
	if err != nil {
		t.Fatal(err)
	}
	x := synth.Coloured(4*256, 256, 20, 3)
	for i := 0; i < 4; i++ {
		for _, v := range x[i*256 : (i+1)*256] {
			fmt.Fprintf(f, "%.17g\n", v)
		}
		f.Sync()
		time.Sleep(150 * time.Millisecond)
	}
	f.Close()
	slowSide := filepath.Join(e.incoming, "slow.toml")
	os.WriteFile(slowSide, []byte("channel = \"K1:SLOW\"\nt0 = 1300000100.0\nsample_rate = 256.0\n"), 0o644)
	// A data file whose sidecar comes after it.
	late := filepath.Join(e.incoming, "late.bin")
	os.WriteFile(filepath.Join(e.incoming, ".late.bin.tmp"), float64Bytes(synth.Coloured(8*512, 512, 50, 4)), 0o644)
	os.Rename(filepath.Join(e.incoming, ".late.bin.tmp"), late)
	time.Sleep(100 * time.Millisecond)
	os.WriteFile(filepath.Join(e.incoming, "late.json"), []byte(`{"channel": "K1:LATE", "dtype": "float64", "t0": 1300000200, "sample_rate": 512}`), 0o644)

	for _, src := range []string{renamed, slow, late} {
		e.waitFor(src, func() bool { return e.count("archived", "source_path", src) == 1 }, d)
	}
	for _, r := range e.records() {
		if r["event"] == "archived" && r["source_path"] == slow && r["source_size"] != float64(fileSize(t, slow)) {
			t.Errorf("the slow file was archived at %v bytes, it has %d", r["source_size"], fileSize(t, slow))
		}
		if r["event"] == "archived" && r["source_path"] == late && r["sidecar_path"] != filepath.Join(e.incoming, "late.json") {
			t.Errorf("the late sidecar was not used: %v", r["sidecar_path"])
		}
	}

	// A bad file is quarantined with its reason; the next good one is archived.
	bad := filepath.Join(e.incoming, "bad.npy")
	os.WriteFile(bad, []byte("not numpy at all"), 0o644)
	next := npy(t, e.incoming, 1300000016, 5)
	e.waitFor("the bad file quarantined", func() bool { return e.count("quarantined", "source_path", bad) == 1 }, d)
	e.waitFor("the next file", func() bool { return e.count("archived", "source_path", next) == 1 }, d)
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("the bad file is still in the drop directory")
	}
	var reason map[string]any
	b, err := os.ReadFile(filepath.Join(e.quarantine, "bad.npy.reason.json"))
	if err != nil || json.Unmarshal(b, &reason) != nil || !strings.Contains(fmt.Sprint(reason["reason"]), "bad.npy") {
		t.Errorf("reason file: %v %s", err, b)
	}

	// The same content twice gives one archive.
	again := filepath.Join(e.incoming, "K-K1_COPY-1300000016-8.npy")
	copyFile(t, next, again)
	e.waitFor("the copy reported as duplicate", func() bool { return e.count("duplicate", "source_path", again) == 1 }, d)
	if n := len(e.archives()); n != 5 {
		t.Errorf("got %d archives, want 5", n)
	}

	// SIGHUP adds a watch directory.
	second := filepath.Join(e.dir, "second")
	os.MkdirAll(second, 0o755)
	e.writeConfig("keep", fmt.Sprintf("[[watch]]\ndir = %q\nsettle = \"400ms\"\n", second))
	d.cmd.Process.Signal(syscall.SIGHUP)
	e.waitFor("the reload", func() bool { return e.count("config_reloaded", "", "") == 1 }, d)
	if !d.sent("RELOADING=1") {
		t.Errorf("no RELOADING=1 among %q", d.notify.Messages())
	}
	there := npy(t, second, 1300000024, 6)
	e.waitFor("a file in the added directory", func() bool { return e.count("archived", "source_path", there) == 1 }, d)

	// An invalid configuration is logged and the old one kept.
	os.WriteFile(e.config, []byte("[archive]\ncompression = \"zip\"\n"), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	e.waitFor("the rejected reload logged", func() bool {
		return strings.Contains(d.stderr.String(), "reload: keeping the old configuration")
	}, d)
	still := npy(t, second, 1300000032, 8)
	e.waitFor("a file after the rejected reload", func() bool { return e.count("archived", "source_path", still) == 1 }, d)
	e.writeConfig("keep", fmt.Sprintf("[[watch]]\ndir = %q\nsettle = \"400ms\"\n", second))

	e.waitFor("a watchdog ping", func() bool { return d.sent("WATCHDOG=1") }, d)
	if code, body := e.get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	_, body := e.get("/metrics")
	for _, want := range []string{
		fmt.Sprintf("gwwatchd_files_archived_total{watch=%q} 5", e.incoming),
		fmt.Sprintf("gwwatchd_files_duplicate_total{watch=%q} 1", e.incoming),
		fmt.Sprintf("gwwatchd_files_rejected_total{watch=%q} 1", e.incoming),
		"gwwatchd_drop_to_archived_seconds_bucket",
		"gwwatchd_queue_depth 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	e.stop(d)
	e.auditVerify()
	if n := e.count("shutdown", "", ""); n != 1 {
		t.Errorf("got %d shutdown records, want 1", n)
	}
}

func TestKillDuringBurst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keep", "")
	d := e.start()
	const n = 50
	var srcs []string
	for i := range n {
		srcs = append(srcs, npyOf(t, e.incoming, 1300000000+64*i, 64, 4096, uint64(100+i)))
	}
	e.waitFor("some files archived", func() bool { return e.count("archived", "", "") >= 5 }, d)
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
	t.Logf("killed with %d of %d files archived", e.count("archived", "", ""), n)

	d = e.start()
	e.waitFor("every file archived", func() bool {
		for _, s := range srcs {
			if e.count("archived", "source_path", s) == 0 {
				return false
			}
		}
		return true
	}, d)
	e.stop(d)
	for _, s := range srcs {
		if c := e.count("archived", "source_path", s); c != 1 {
			t.Errorf("%s: %d archived records, want 1", filepath.Base(s), c)
		}
	}
	if got := len(e.archives()); got != n {
		t.Errorf("got %d archives, want %d", got, n)
	}
	e.auditVerify()
}

func TestAfterMoveAndDelete(t *testing.T) {
	t.Parallel()
	for _, after := range []string{"move", "delete"} {
		t.Run(after, func(t *testing.T) {
			e := newEnv(t, after, "")
			d := e.start()
			src := npy(t, e.incoming, 1300000000, 7)
			side := strings.TrimSuffix(src, ".npy") + ".json"
			event := map[string]string{"move": "source_moved", "delete": "source_deleted"}[after]
			e.waitFor("the source handled", func() bool { return e.count(event, "source_path", src) == 1 }, d)
			e.stop(d)
			for _, f := range []string{src, side} {
				if _, err := os.Stat(f); !os.IsNotExist(err) {
					t.Errorf("%s is still in the drop directory", f)
				}
			}
			if after == "move" {
				for _, f := range []string{src, side} {
					if _, err := os.Stat(filepath.Join(e.done, filepath.Base(f))); err != nil {
						t.Errorf("not in done_dir: %v", err)
					}
				}
			}
			e.auditVerify()
		})
	}
}

func float64Bytes(x []float64) []byte {
	var b strings.Builder
	for _, v := range x {
		u := math.Float64bits(v)
		for i := 0; i < 8; i++ {
			b.WriteByte(byte(u >> (8 * i)))
		}
	}
	return []byte(b.String())
}

func fileSize(t *testing.T, p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(to), "."+filepath.Base(to)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(strings.TrimSuffix(to, ".npy")+".json", []byte(`{"channel": "K1:TEST", "unit": "ct"}`), 0o644)
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

func TestSecondSignalAborts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keep", "")
	e.writeConfig("keep", "")
	d := e.start()
	// Large files, made first and then renamed in together, so that the
	// first signal has work to drain; the second must not wait for it.
	staging := t.TempDir()
	var names []string
	for i := range 8 {
		names = append(names, npyOf(t, staging, 1300000000+256*i, 256, 16384, uint64(i)))
	}
	for _, f := range names {
		os.Rename(strings.TrimSuffix(f, ".npy")+".json", filepath.Join(e.incoming, strings.TrimSuffix(filepath.Base(f), ".npy")+".json"))
		os.Rename(f, filepath.Join(e.incoming, filepath.Base(f)))
	}
	e.waitFor("the first file archived", func() bool { return e.count("archived", "", "") >= 1 }, d)
	d.cmd.Process.Signal(syscall.SIGTERM)
	// Signals that arrive before the first was read merge into one: send
	// the second only once the daemon says it is stopping.
	e.waitFor("the daemon to say it is stopping", func() bool { return strings.Contains(d.stderr.String(), "stopping: finishing files in flight") }, d)
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("got %v, want exit status 2 after the second signal\n%s", err, d.stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("a second SIGTERM did not end the daemon")
	}
}

// TestTransientFailureRetried checks that a failure that is not the
// file's fault (here the archive root cannot be created) leaves the source
// alone and is retried until it succeeds, while the daemon keeps running.
func TestTransientFailureRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "delete", "")
	if err := os.WriteFile(e.archive, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := e.start()
	// Written in place, so that the work ahead fails too.
	name := "K-K1_TEST-1300000000-8.npy"
	stage := t.TempDir()
	if err := synth.WriteNPY(filepath.Join(stage, name), synth.Coloured(8*512, 512, 50, 1)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(stage, name))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(e.incoming, "K-K1_TEST-1300000000-8.json"), []byte(`{"channel": "K1:TEST"}`), 0o644)
	src := filepath.Join(e.incoming, name)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitFor("a retry", func() bool { return strings.Contains(d.stderr.String(), "will retry") }, d)
	if got, err := os.ReadFile(src); err != nil || string(got) != string(data) {
		t.Fatalf("the source changed or went while its archive could not be written: %v", err)
	}
	if n := e.count("archived", "", "") + e.count("rejected", "", "") + e.count("quarantined", "", ""); n != 0 {
		t.Fatalf("%d archived, rejected or quarantined records before the archive root exists", n)
	}
	os.Remove(e.archive)
	e.waitFor("the archive after the retry", func() bool { return e.count("archived", "source_path", src) == 1 }, d)
	e.waitFor("the source deleted", func() bool { return !exists(src) }, d)
	e.stop(d)
	if n := len(e.archives()); n != 1 {
		t.Errorf("%d archives, want 1", n)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestDaemonFrames drops real frame and HDF5 files: each is archived with
// all its channels, and an archive dropped as input is quarantined as
// already an archive. It skips without ../shared.
func TestDaemonFrames(t *testing.T) {
	t.Parallel()
	shared := "../../shared/testdata/gwf"
	names := []string{"HLV-HW100916-968654552-1.gwf", "libframe-test.gwf", "HLV-HW100916-968654552-1.hdf"}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(shared, n)); err != nil {
			t.Skipf("%s not present: %v", n, err)
		}
	}
	e := newEnv(t, "keep", `channels = ["H1:*", "V1:*", "Adc*", "fast*"]`+"\n")
	d := e.start()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(shared, n))
		if err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(e.incoming, "."+n+".tmp")
		os.WriteFile(tmp, b, 0o644)
		if err := os.Rename(tmp, filepath.Join(e.incoming, n)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{names[0]: 2, names[1]: 7, names[2]: 2} // datasets selected by channels
	for n, k := range want {
		src := filepath.Join(e.incoming, n)
		e.waitFor(n, func() bool { return e.count("archived", "source_path", src) == 1 }, d)
		for _, r := range e.records() {
			if r["event"] == "archived" && r["source_path"] == src {
				if ds, _ := r["datasets"].([]any); len(ds) != k {
					t.Errorf("%s: datasets %v, want %d", n, r["datasets"], k)
				}
			}
		}
	}
	// One of our own archives, dropped in as if it were data.
	arch := e.archives()[0]
	b, err := os.ReadFile(arch)
	if err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(e.incoming, "again.h5")
	os.WriteFile(filepath.Join(e.incoming, ".again.tmp"), b, 0o644)
	os.Rename(filepath.Join(e.incoming, ".again.tmp"), again)
	e.waitFor("the archive quarantined", func() bool { return e.count("quarantined", "source_path", again) == 1 }, d)
	reason, err := os.ReadFile(filepath.Join(e.quarantine, "again.h5.reason.json"))
	if err != nil || !strings.Contains(string(reason), "already a gwwatchd archive") {
		t.Errorf("reason %s (%v), want already a gwwatchd archive", reason, err)
	}
	e.stop(d)
}

// TestDaemonBadFrames drops a truncated and a bit-flipped copy of a good
// frame file: each is quarantined with a one-line reason naming it, and
// the good file beside them is archived.
func TestDaemonBadFrames(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile("../testdata/gwf/selfmade-v8-le.gwf")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "keep", "")
	d := e.start()
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x10
	files := map[string][]byte{"truncated.gwf": good[:len(good)*2/3], "flipped.gwf": flipped, "good.gwf": good}
	for name, b := range files {
		tmp := filepath.Join(e.incoming, "."+name+".tmp")
		os.WriteFile(tmp, b, 0o644)
		if err := os.Rename(tmp, filepath.Join(e.incoming, name)); err != nil {
			t.Fatal(err)
		}
	}
	good2 := filepath.Join(e.incoming, "good.gwf")
	e.waitFor("the good frame file", func() bool { return e.count("archived", "source_path", good2) == 1 }, d)
	for name, want := range map[string]string{"truncated.gwf": "truncated", "flipped.gwf": "checksum"} {
		src := filepath.Join(e.incoming, name)
		e.waitFor(name+" quarantined", func() bool { return e.count("quarantined", "source_path", src) == 1 }, d)
		b, err := os.ReadFile(filepath.Join(e.quarantine, name+".reason.json"))
		if err != nil {
			t.Fatal(err)
		}
		var note struct{ Reason string }
		json.Unmarshal(b, &note)
		if !strings.HasPrefix(note.Reason, src+": gwf: ") || !strings.Contains(note.Reason, want) || strings.Contains(note.Reason, "\n") {
			t.Errorf("%s: reason %q, want one line naming the file and %q", name, note.Reason, want)
		}
		q, err := os.ReadFile(filepath.Join(e.quarantine, name))
		if err != nil || string(q) != string(files[name]) {
			t.Errorf("%s: quarantined copy differs from what was dropped (%v)", name, err)
		}
	}
	e.stop(d)
}

// TestSecondInstanceRefused checks that a second daemon on the same
// configuration exits at once, naming the pid of the first, and leaves the
// first one's work alone.
func TestSecondInstanceRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keep", "")
	d := e.start()
	out, err := exec.Command(bin, "run", "--config", e.config).CombinedOutput()
	if err == nil {
		t.Fatalf("a second gwwatchd run on the same configuration started:\n%s", out)
	}
	if want := fmt.Sprintf("in use by another gwwatchd (pid %d)", d.cmd.Process.Pid); !strings.Contains(string(out), want) {
		t.Errorf("second instance said %q, want it to contain %q", out, want)
	}
	npy(t, e.incoming, 1300000000, 1)
	e.waitFor("the file archived", func() bool { return e.count("archived", "", "") == 1 }, d)
	e.stop(d)
	if n := e.count("startup", "", ""); n != 1 {
		t.Errorf("got %d startup records, want 1: the second instance must not touch the log", n)
	}
}

// TestAuditLogDown checks that a daemon whose audit log stops taking
// records (made immutable here) takes no new file, says so on /healthz and
// in a metric, reopens the log once it can, adopts the archive whose record
// failed, and stops cleanly.
func TestAuditLogDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keep", "")
	logPath := filepath.Join(e.dir, "audit.log")
	d := e.start()
	first := npy(t, e.incoming, 1300000000, 1)
	e.waitFor("the first file", func() bool { return e.count("archived", "source_path", first) == 1 }, d)
	if out, err := exec.Command("chattr", "+i", logPath).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v %s: this file system cannot make the log immutable", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", logPath).Run() })

	second := npy(t, e.incoming, 1300000008, 2)
	e.waitFor("/healthz to say the log is down", func() bool {
		code, body := e.get("/healthz")
		return code != 200 && strings.Contains(body, "audit log")
	}, d)
	// The daemon sets the metric just after the state /healthz reads.
	e.waitFor("gwwatchd_audit_up 0", func() bool { return e.metric("gwwatchd_audit_up 0") }, d)
	// Nothing new is taken while the log is down.
	third := npy(t, e.incoming, 1300000016, 3)
	time.Sleep(3 * time.Second)
	for _, a := range e.archives() {
		if strings.Contains(a, "1300000016") {
			t.Errorf("%s was archived while the log took no records", a)
		}
	}

	if out, err := exec.Command("chattr", "-i", logPath).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v %s", err, out)
	}
	for _, src := range []string{second, third} {
		e.waitFor(src, func() bool { return e.count("archived", "source_path", src) == 1 }, d)
	}
	e.waitFor("/healthz to recover", func() bool { code, _ := e.get("/healthz"); return code == 200 }, d)
	e.waitFor("gwwatchd_audit_up 1", func() bool { return e.metric("gwwatchd_audit_up 1") }, d)
	if n := e.count("audit_resumed", "", ""); n != 1 {
		t.Errorf("got %d audit_resumed records, want 1", n)
	}
	for _, r := range e.records() {
		if r["event"] == "archived" && r["source_path"] == second && r["adopted"] != true {
			t.Errorf("the archive whose record failed was archived again instead of adopted: %v", r)
		}
	}
	// Counted once the daemon has stopped: adopting an archive, it writes
	// the record before it removes the temp file of the copy it made.
	e.stop(d)
	if n := len(e.archives()); n != 3 {
		t.Errorf("got %d archives, want 3", n)
	}
	e.auditVerify()
}
