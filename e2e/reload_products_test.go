package e2e

import (
	"crypto/sha256"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestReloadProducts: after a SIGHUP whose configuration adds products
// (testdata/config/reprocess.toml: an ASD of another fftlength and a
// band-pass with its ASD), the daemon makes them for the files that come
// next, while the archives it made before stay as they were, byte for
// byte: a reload is no reprocess.
func TestReloadProducts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keep", "")
	d := e.start()
	var old []string
	for i := range 2 {
		src := npy(t, e.incoming, 1300000000+8*i, uint64(10+i))
		e.waitFor(src, func() bool { return e.count("archived", "source_path", src) == 1 }, d)
		old = append(old, archivedAs(t, e, src))
	}
	sums := fileSums(t, old)
	before := e.docs(old)

	chain, err := os.ReadFile("../testdata/config/reprocess.toml")
	if err != nil {
		t.Fatal(err)
	}
	e.writeConfig("keep", string(chain))
	d.cmd.Process.Signal(syscall.SIGHUP)
	e.waitFor("the reload", func() bool { return e.count("config_reloaded", "", "") == 1 }, d)

	var made []string
	for i := range 2 {
		src := npy(t, e.incoming, 1300000100+8*i, uint64(20+i))
		e.waitFor(src, func() bool { return e.count("archived", "source_path", src) == 1 }, d)
		made = append(made, archivedAs(t, e, src))
	}
	e.stop(d)

	for p, doc := range e.docs(made) {
		for _, ds := range []string{"bp", "bp_asd_values", "bp_asd_frequencies"} {
			if doc.dataset("/processed/K1:TEST/"+ds) == nil {
				t.Errorf("%s: no %s after the reload", p, ds)
			}
		}
		if got := asdParams(t, doc); !strings.Contains(got, `"fftlength":2,`) {
			t.Errorf("%s: asd_values params %s, want fftlength 2", p, got)
		}
	}
	for p, doc := range before {
		if got := asdParams(t, doc); strings.Contains(got, `"fftlength":2,`) {
			t.Errorf("%s: made before the reload, yet asd_values params %s", p, got)
		}
		if doc.dataset("/processed/K1:TEST/bp") != nil {
			t.Errorf("%s: made before the reload, yet it holds bp", p)
		}
	}
	e.keptAll(before)
	for p, sum := range fileSums(t, old) {
		if sum != sums[p] {
			t.Errorf("%s: changed by the reload", p)
		}
	}
	if n := e.count("reprocessed", "", ""); n != 0 {
		t.Errorf("%d reprocessed records, want none", n)
	}
	verifyAll(t, append(old, made...))
	e.auditVerify()
}

// archivedAs returns the archive the audit log says src was archived as.
func archivedAs(t *testing.T, e *env, src string) string {
	t.Helper()
	for _, r := range e.records() {
		if r["event"] == "archived" && r["source_path"] == src {
			return str(r, "archive_path")
		}
	}
	t.Fatalf("no archived record of %s", src)
	return ""
}

// fileSums returns the sha256 of each file.
func fileSums(t *testing.T, paths []string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = sha256.Sum256(b)
	}
	return out
}

// asdParams returns the params_json of the archive's ASD of K1:TEST.
func asdParams(t *testing.T, doc *inspected) string {
	t.Helper()
	ds := doc.dataset("/processed/K1:TEST/asd_values")
	if ds == nil {
		t.Fatal("no /processed/K1:TEST/asd_values")
	}
	s, _ := ds.Attributes["params_json"].(string)
	return s
}
