package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const hostileDir = "../testdata/hostile"

type hostileEntry struct {
	File    string `json:"file"`
	What    string `json:"what"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

// TestHostileInput drops the hostile-input corpus into a running daemon,
// with what only a live directory can hold beside it: a FIFO, a device
// node, links to the daemon's signing key (one swapped in after its file
// was renamed in), 250-character names and a name with a newline. The
// daemon must stay up, archive or quarantine every file with a one-line
// reason that never quotes content, leave every source's bytes as they
// were, and stay within 300 MB.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(hostileDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Marker string         `json:"marker"`
		Files  []hostileEntry `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "keep", "")
	d := e.start()
	key, err := os.ReadFile(filepath.Join(e.dir, "state", "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(key))
	if len(secret) > 24 {
		secret = secret[len(secret)-24:] // a part of the key that no reason may hold
	}

	// Stage every file outside, then rename sidecars in first and data
	// files after them, as a careful writer does.
	stage := t.TempDir()
	want := map[string]hostileEntry{} // path in incoming -> what must become of it
	sums := map[string]string{}       // path in incoming -> sha256 of its bytes
	var sidecars, data []string
	entries, _ := os.ReadDir(hostileDir)
	byName := map[string]hostileEntry{}
	for _, f := range m.Files {
		byName[f.File] = f
	}
	for _, ent := range entries {
		name := ent.Name()
		if name == "manifest.json" || name == "make_corpus.py" || ent.IsDir() {
			continue // stuck/ has a test of its own
		}
		plainCopy(t, filepath.Join(hostileDir, name), filepath.Join(stage, name))
		if f, ok := byName[name]; ok {
			data = append(data, name)
			want[filepath.Join(e.incoming, name)] = f
		} else {
			sidecars = append(sidecars, name)
		}
	}
	// Names no repository holds.
	good := filepath.Join(hostileDir, "H1-GOOD-1000000000-16.npy")
	long := strings.Repeat("L", 250)
	plainCopy(t, good, filepath.Join(stage, long+".npy"))
	os.WriteFile(filepath.Join(stage, long+".json"), []byte(`{"channel": "H1:LONG", "t0": 1000001000, "sample_rate": 1024}`), 0o644)
	sidecars, data = append(sidecars, long+".json"), append(data, long+".npy")
	want[filepath.Join(e.incoming, long+".npy")] = hostileEntry{Outcome: "archived"}
	longBad := strings.Repeat("B", 250) + ".npy"
	os.WriteFile(filepath.Join(stage, longBad), []byte("not numpy at all"), 0o644)
	data = append(data, longBad)
	want[filepath.Join(e.incoming, longBad)] = hostileEntry{Outcome: "rejected", Reason: "not a NumPy file"}
	nl := "H1-NEWLINE\n{\"level\":\"info\",\"msg\":\"FORGED\"}-1000002000-16.npy"
	plainCopy(t, good, filepath.Join(stage, nl))
	os.WriteFile(filepath.Join(stage, strings.TrimSuffix(nl, ".npy")+".json"), []byte(`{"channel": "H1:NEWLINE", "t0": 1000002000, "sample_rate": 1024}`), 0o644)
	sidecars, data = append(sidecars, strings.TrimSuffix(nl, ".npy")+".json"), append(data, nl)
	want[filepath.Join(e.incoming, nl)] = hostileEntry{Outcome: "archived"}

	for _, name := range append(sidecars, data...) {
		p := filepath.Join(e.incoming, name)
		sums[p] = sha(t, filepath.Join(stage, name))
		if err := os.Rename(filepath.Join(stage, name), p); err != nil {
			t.Fatal(err)
		}
	}
	// What is never read: a FIFO, a device node, links to the key, and a
	// regular file renamed in and then swapped for a link to the key.
	keyPath := filepath.Join(e.dir, "state", "audit.key")
	never := []string{filepath.Join(e.incoming, "K-K1_FIFO-1000000000-16.npy"), filepath.Join(e.incoming, "key.txt"), filepath.Join(e.incoming, "swapped.txt")}
	if err := syscall.Mkfifo(never[0], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(filepath.Join(e.incoming, "null.bin"), syscall.S_IFCHR|0o644, 0x0103); err == nil {
		never = append(never, filepath.Join(e.incoming, "null.bin"))
	}
	os.Symlink(keyPath, never[1])
	os.WriteFile(filepath.Join(stage, "swapped.txt"), []byte("1\n2\n3\n"), 0o644)
	os.Rename(filepath.Join(stage, "swapped.txt"), never[2])
	os.Symlink(keyPath, filepath.Join(stage, "link"))
	os.Rename(filepath.Join(stage, "link"), never[2])

	// Every file archived or quarantined.
	done := func() int {
		n := 0
		for _, r := range e.records() {
			if p, _ := r["source_path"].(string); want[p].Outcome != "" && (r["event"] == "archived" || r["event"] == "quarantined") {
				n++
			}
		}
		return n
	}
	e.waitFor("every hostile file handled", func() bool { return done() == len(want) }, d)
	time.Sleep(3 * time.Second) // two rescans: nothing that is never read may be read late
	if err := d.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the daemon died: %v\n%s", err, d.stderr.String())
	}
	peak := vmHWM(t, d.cmd.Process.Pid)

	got := map[string]record{}
	for _, r := range e.records() {
		p, _ := r["source_path"].(string)
		if r["event"] == "archived" || r["event"] == "quarantined" {
			if _, dup := got[p]; dup {
				t.Errorf("%q: handled twice", p)
			}
			got[p] = r
		}
		line, _ := json.Marshal(r)
		if strings.Contains(string(line), m.Marker) || strings.Contains(string(line), secret) {
			t.Errorf("an audit record quotes file content: %s", line)
		}
	}
	for p, w := range want {
		r := got[p]
		switch {
		case w.Outcome == "archived" && r["event"] != "archived":
			t.Errorf("%q: got %v, want it archived", p, r)
		case w.Outcome == "rejected" && r["event"] != "quarantined":
			t.Errorf("%q: got %v, want it quarantined", p, r)
		case w.Outcome == "rejected":
			reason, _ := r["reason"].(string)
			if !strings.Contains(reason, w.Reason) || strings.ContainsAny(reason, "\n\r") {
				t.Errorf("%q: reason %q, want one line containing %q", p, reason, w.Reason)
			}
			q, _ := r["quarantine_path"].(string)
			rf, _ := r["reason_file"].(string)
			if q == "" || sha(t, q) != sums[p] {
				t.Errorf("%q: quarantined at %q, not with its bytes unaltered", p, q)
			}
			if _, err := os.Stat(rf); err != nil {
				t.Errorf("%q: no reason file: %v", p, err)
			}
		}
		if w.Outcome == "archived" && sha(t, p) != sums[p] {
			t.Errorf("%q: the source was altered", p)
		}
	}
	for _, p := range never {
		if _, ok := got[p]; ok {
			t.Errorf("%s was read", p)
		}
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s is gone: %v", p, err)
		}
	}
	stderr := d.stderr.String()
	for _, what := range []string{"a FIFO", "a symbolic link"} {
		if !strings.Contains(stderr, "ignored: "+what) {
			t.Errorf("the daemon did not say it ignored %s", what)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Errorf("a log line that is not one JSON object: %q", sc.Text())
		}
	}
	if strings.Contains(stderr, m.Marker) || strings.Contains(stderr, secret) {
		t.Errorf("the daemon's log quotes file content")
	}
	quarantined, _ := filepath.Glob(filepath.Join(e.quarantine, "*.reason.json"))
	for _, q := range quarantined {
		if b, _ := os.ReadFile(q); strings.Contains(string(b), m.Marker) || strings.Contains(string(b), secret) {
			t.Errorf("%s quotes file content", q)
		}
	}
	t.Logf("%d files handled, %d never read, peak RSS %d MB", len(want), len(never), peak>>20)
	if peak > 300<<20 {
		t.Errorf("peak RSS %d MB, more than 300 MB", peak>>20)
	}
	e.stop(d)
	e.auditVerify()
}

func sha(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// vmHWM is the peak resident set size of a process, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// plainCopy copies a file to a staging directory, under any name.
func plainCopy(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStuckFileEndsInQuarantine drops a file that makes libhdf5 loop for
// ever beside a good one. The daemon ends itself once the file has been
// processed for longer than process_timeout, the restart (systemd's
// Restart=on-failure, done by hand here) counts a death against it, and
// after max_deaths deaths it is quarantined while the good file is
// archived: no worker is held for good, and no crash loop.
func TestStuckFileEndsInQuarantine(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keep", "")
	text, _ := os.ReadFile(e.config)
	text = []byte(strings.Replace(string(text), "[daemon]\n", "[daemon]\nprocess_timeout = \"2s\"\nmax_deaths = 2\n", 1))
	os.WriteFile(e.config, text, 0o644)
	stuck := filepath.Join(e.incoming, "K-K1_STUCK-1000000000-4.h5")
	plainCopy(t, filepath.Join(hostileDir, "stuck", "h5_attr_loop.h5"), filepath.Join(e.dir, "stuck.h5"))
	os.Rename(filepath.Join(e.dir, "stuck.h5"), stuck)
	for i := 1; i <= 2; i++ {
		d := e.start()
		select {
		case err := <-d.exited:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("start %d: exited with %v, want exit status 3\n%s", i, err, d.stderr.String())
			}
			if !strings.Contains(d.stderr.String(), "longer than daemon.process_timeout") {
				t.Errorf("start %d: the daemon did not say why it ended\n%s", i, d.stderr.String())
			}
		case <-time.After(time.Minute):
			t.Fatalf("start %d: the daemon did not end itself\n%s", i, d.stderr.String())
		}
	}
	d := e.start()
	good := npy(t, e.incoming, 1300000000, 1)
	e.waitFor("the stuck file quarantined", func() bool { return e.count("quarantined", "source_path", stuck) == 1 }, d)
	e.waitFor("the good file archived", func() bool { return e.count("archived", "source_path", good) == 1 }, d)
	for _, r := range e.records() {
		if r["event"] == "quarantined" && r["source_path"] == stuck {
			if reason, _ := r["reason"].(string); !strings.Contains(reason, "the daemon stopped 2 times while processing it") {
				t.Errorf("reason %q", reason)
			}
		}
	}
	e.stop(d)
	e.auditVerify()
}
