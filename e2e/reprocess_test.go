package e2e

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// withChain writes a configuration that is e's with more products, and
// returns its path.
func (e *env) withChain(name, chain string) string {
	e.t.Helper()
	text, err := os.ReadFile(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, append(append(text, '\n'), chain...), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// reprocess runs gwwatchd reprocess and returns its lines, failing the
// test unless it exits 0.
func (e *env) reprocess(args ...string) []string {
	e.t.Helper()
	out, err := exec.Command(bin, append([]string{"reprocess"}, args...)...).Output()
	if err != nil {
		e.t.Fatalf("reprocess %v: %v\n%s", args, err, out)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// inspected is an archive as gwwatchd inspect --json shows it: the
// harness reads archives through the binary, as an operator would.
type inspected struct {
	Datasets []inspectedDataset `json:"datasets"`
}

// inspectedDataset is a dataset of an inspected archive: its attributes,
// data_sha256 among them, stand for its values, which verifyAll checks
// against them.
type inspectedDataset struct {
	Path           string         `json:"path"`
	DType          string         `json:"dtype"`
	Shape          []int          `json:"shape"`
	Attributes     map[string]any `json:"attributes"`
	ViewOf         string         `json:"view_of"`
	ProductName    string         `json:"product_name"`
	ProductVersion int            `json:"product_version"`
}

// dataset returns the dataset at path, or nil.
func (a *inspected) dataset(path string) *inspectedDataset {
	for i := range a.Datasets {
		if a.Datasets[i].Path == path {
			return &a.Datasets[i]
		}
	}
	return nil
}

// inspect runs gwwatchd inspect --json on the archive at p.
func (e *env) inspect(p string) *inspected {
	e.t.Helper()
	out, err := exec.Command(bin, "inspect", "--json", "--config", e.config, p).Output()
	if err != nil {
		e.t.Fatalf("inspect %s: %v\n%s", p, err, out)
	}
	var a inspected
	if err := json.Unmarshal(out, &a); err != nil {
		e.t.Fatalf("inspect %s: %v", p, err)
	}
	return &a
}

// docs inspects every archive.
func (e *env) docs(paths []string) map[string]*inspected {
	e.t.Helper()
	out := map[string]*inspected{}
	for _, p := range paths {
		out[p] = e.inspect(p)
	}
	return out
}

// keptAll checks that every dataset of each archive in before is in the
// archive now, of the same type, shape and attributes (its data_sha256
// too, which verifyAll checks the values against).
func (e *env) keptAll(before map[string]*inspected) {
	e.t.Helper()
	for p, was := range before {
		now := e.inspect(p)
		for _, d := range was.Datasets {
			if _, ok := d.Attributes["data_sha256"]; !ok && d.ViewOf == "" {
				e.t.Errorf("%s: %s has no data_sha256 to compare", p, d.Path)
			}
			got := now.dataset(d.Path)
			if got == nil || !reflect.DeepEqual(*got, d) {
				e.t.Errorf("%s: %s is not as it was", p, d.Path)
			}
		}
	}
}

// verifyAll runs gwwatchd verify on the archives.
func verifyAll(t *testing.T, paths []string) {
	t.Helper()
	if out, err := exec.Command(bin, append([]string{"verify"}, paths...)...).CombinedOutput(); err != nil {
		t.Errorf("verify: %v\n%s", err, out)
	}
}

// TestReprocess: 20 archives get a new ASD fftlength and a band-pass →
// ASD chain with every dataset they held kept bit for bit; a reprocess
// killed with SIGKILL in the middle leaves every archive whole, old or
// new, and a second run finishes the work.
func TestReprocess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keep", "")
	var srcs []string
	for i := range 20 {
		srcs = append(srcs, npyOf(t, e.incoming, 1300000000+64*i, 64, 4096, uint64(i)))
	}
	if out, err := exec.Command(bin, append([]string{"ingest", "--config", e.config}, srcs...)...).CombinedOutput(); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	paths := e.archives()
	if len(paths) != 20 {
		t.Fatalf("%d archives, want 20", len(paths))
	}
	before := e.docs(paths)

	chain, err := os.ReadFile("../testdata/config/reprocess.toml")
	if err != nil {
		t.Fatal(err)
	}
	first := e.withChain("first.toml", string(chain))
	lines := e.reprocess("--config", first, "--all")
	if len(lines) != 20 {
		t.Fatalf("reprocess printed %d lines, want 20:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, ": added 3 products (asd@2, bp, bp_asd)") {
			t.Errorf("line %q", l)
		}
	}
	e.keptAll(before)
	verifyAll(t, paths)
	e.auditVerify()
	if n := e.count("reprocessed", "", ""); n != 20 {
		t.Errorf("%d reprocessed records, want 20", n)
	}
	for _, l := range e.reprocess("--config", first, "--all") {
		if !strings.HasSuffix(l, ": nothing to add") {
			t.Errorf("second run: %q", l)
		}
	}
	if n := e.count("reprocessed", "", ""); n != 20 {
		t.Errorf("%d reprocessed records after the second run, want 20", n)
	}

	// Another band-pass of the same name, killed in the middle.
	before = e.docs(paths)
	second := e.withChain("second.toml", `
[[processing.product]]
name = "bp"
kind = "bandpass"
order = 4
low = 40.0
high = 400.0

[[processing.product]]
name = "bp_asd"
kind = "asd"
input = "bp"
fftlength = 1.0
`)
	cmd := exec.Command(bin, "reprocess", "--config", second, "--all")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), ": added ") {
				break
			}
		}
		cmd.Process.Kill()
		close(killed)
	}()
	select {
	case <-killed:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("reprocess printed no added line within a minute")
	}
	cmd.Wait()
	// Whole archives, old or new, each still holding what it held.
	e.keptAll(before)
	verifyAll(t, paths)
	lines = e.reprocess("--config", second, "--all")
	added := 0
	for _, l := range lines {
		switch {
		case strings.HasSuffix(l, ": added 2 products (bp@2, bp_asd@2)"):
			added++
		case strings.HasSuffix(l, ": nothing to add"):
		default:
			t.Errorf("rerun: %q", l)
		}
	}
	t.Logf("the rerun added to %d archives of 20", added)
	e.keptAll(before)
	verifyAll(t, paths)
	e.auditVerify()
	for _, p := range paths {
		versions := map[string]bool{}
		for _, d := range e.inspect(p).Datasets {
			if d.ProductName != "" {
				versions[d.ProductName+"@"+string(rune('0'+d.ProductVersion))] = true
			}
		}
		for _, want := range []string{"asd@1", "asd@2", "bp@1", "bp@2", "bp_asd@1", "bp_asd@2"} {
			if !versions[want] {
				t.Errorf("%s: no %s among %v", p, want, versions)
			}
		}
	}
	// No temp file is left: the rerun removed what the kill left.
	filepath.WalkDir(e.archive, func(p string, d fs.DirEntry, err error) error {
		if err == nil && isTempName(d.Name()) {
			t.Errorf("temp file left: %s", p)
		}
		return nil
	})
	if n, want := e.count("reprocessed", "", ""), 40; n < want {
		t.Errorf("%d reprocessed records, want at least %d", n, want)
	}
}
