// Package e2e runs the real gwwatchd binary as a daemon against temporary
// directories: what an operator would see.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/internal/instance"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/sdnotify/sdnotifytest"
)

// bin is the gwwatchd binary the tests run.
var bin string

// TestMain builds bin, unless GWWATCHD_BIN names a binary to run instead
// (by an absolute path, as make unit and make cover give it). With -short
// it builds nothing: every test runs the binary, and newEnv skips them all.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	if bin = os.Getenv("GWWATCHD_BIN"); bin != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "gwwatchd-e2e")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "gwwatchd")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/gwwatchd").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one daemon's directories and configuration.
type env struct {
	t                              testing.TB
	dir, incoming, archive, config string
	quarantine, done               string
	metrics                        string // address of the metrics endpoint
}

// newEnv makes the directories and configuration of a daemon. It skips t
// with -short.
func newEnv(t testing.TB, after string, extra string) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the gwwatchd binary: not with -short")
	}
	dir := t.TempDir()
	e := &env{t: t, dir: dir, incoming: filepath.Join(dir, "incoming"), archive: filepath.Join(dir, "archive"),
		quarantine: filepath.Join(dir, "quarantine"), done: filepath.Join(dir, "done"), config: filepath.Join(dir, "gwwatchd.toml")}
	e.metrics = freeAddr(t)
	for _, d := range []string{e.incoming} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.writeConfig(after, extra)
	return e
}

func (e *env) writeConfig(after, extra string) {
	e.t.Helper()
	text := fmt.Sprintf(`[daemon]
metrics = %q
workers = 2
state_dir = %q
rescan = "2s"
shutdown_timeout = "20s"
[archive]
root = %q
[audit]
path = %q
[processing.spectrogram]
enabled = false
[[watch]]
dir = %q
settle = "400ms"
after = %q
done_dir = %q
quarantine_dir = %q
%s`, e.metrics, filepath.Join(e.dir, "state"), e.archive, filepath.Join(e.dir, "audit.log"), e.incoming, after, e.done, e.quarantine, extra)
	if err := os.WriteFile(e.config, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// daemon is a running gwwatchd run.
type daemon struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	notify *sdnotifytest.Socket
	exited chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (e *env) start() *daemon {
	e.t.Helper()
	sock, sockPath := sdnotifytest.Start(e.t)
	d := &daemon{stderr: &syncBuffer{}, notify: sock, exited: make(chan error, 1)}
	d.cmd = exec.Command(bin, "run", "--config", e.config)
	// A watchdog of one second: the daemon pings at half of it while its
	// watcher and queue are moving.
	d.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sockPath, "GWWATCHD_LOG_LEVEL=info", "WATCHDOG_USEC=1000000")
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	e.t.Cleanup(func() { d.cmd.Process.Kill() })
	e.waitFor("READY=1", func() bool { return d.sent("READY=1") }, d)
	return d
}

func (d *daemon) sent(msg string) bool {
	for _, m := range d.notify.Messages() {
		for _, line := range strings.Split(m, "\n") {
			if line == msg {
				return true
			}
		}
	}
	return false
}

// waitFor polls cond for up to a minute: the machine may be busy, so only
// a generous bound, never a timing, is asserted.
func (e *env) waitFor(what string, cond func() bool, d *daemon) {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			log := ""
			if d != nil {
				log = d.stderr.String()
			}
			e.t.Fatalf("timed out waiting for %s\n%s", what, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit.
func (e *env) stop(d *daemon) {
	e.t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		if err != nil {
			e.t.Fatalf("gwwatchd run exited with %v\n%s", err, d.stderr.String())
		}
	case <-time.After(time.Minute):
		e.t.Fatalf("gwwatchd run did not stop\n%s", d.stderr.String())
	}
	if !d.sent("STOPPING=1") {
		e.t.Errorf("no STOPPING=1 among %q", d.notify.Messages())
	}
}

type record map[string]any

// records reads the audit log.
func (e *env) records() []record {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "audit.log"))
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := parseRecords(b)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// parseRecords parses the lines of an audit log. A last line without its
// newline is one the daemon is still writing (or one a kill cut short,
// which the next start repairs): it is passed over. Any other line that
// does not parse is an error.
func parseRecords(b []byte) ([]record, error) {
	var out []record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			if !bytes.HasSuffix(b, []byte("\n")) && bytes.HasSuffix(b, sc.Bytes()) {
				break
			}
			return out, fmt.Errorf("audit.log line %d does not parse: %v: %q", n, err, sc.Text())
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

func (e *env) count(event, key, value string) int {
	n := 0
	for _, r := range e.records() {
		if r["event"] == event && (key == "" || r[key] == value) {
			n++
		}
	}
	return n
}

// archives lists the archives under the archive root; temp files fail the
// test.
func (e *env) archives() []string {
	e.t.Helper()
	var out []string
	filepath.WalkDir(e.archive, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != instance.LockName {
			if strings.HasSuffix(p, ".tmp") {
				e.t.Errorf("temp file left: %s", p)
			}
			out = append(out, p)
		}
		return nil
	})
	return out
}

func (e *env) auditVerify() {
	e.t.Helper()
	out, err := exec.Command(bin, "audit", "verify", "--archives", "--config", e.config).CombinedOutput()
	if err != nil {
		e.t.Errorf("audit verify: %v\n%s", err, out)
	}
}

// npy drops an 8 s series at 512 Hz as a T010150-named .npy with a
// sidecar, written to a temp name and renamed in.
func npy(t *testing.T, dir string, gps int, seed uint64) string {
	t.Helper()
	return npyOf(t, dir, gps, 8, 512, seed)
}

func npyOf(t *testing.T, dir string, gps, seconds, rate int, seed uint64) string {
	t.Helper()
	name := fmt.Sprintf("K-K1_TEST-%d-%d.npy", gps, seconds)
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := synth.WriteNPY(tmp, synth.Coloured(seconds*rate, float64(rate), 50, seed)); err != nil {
		t.Fatal(err)
	}
	side := strings.TrimSuffix(filepath.Join(dir, name), ".npy") + ".json"
	if err := os.WriteFile(side, []byte(`{"channel": "K1:TEST", "unit": "ct"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, name)
	if err := os.Rename(tmp, dest); err != nil {
		t.Fatal(err)
	}
	return dest
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get fetches a URL of the daemon's metrics endpoint.
func (e *env) get(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get("http://" + e.metrics + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric reports whether the daemon's /metrics holds line.
func (e *env) metric(line string) bool {
	e.t.Helper()
	_, body := e.get("/metrics")
	return slices.Contains(strings.Split(body, "\n"), line)
}
