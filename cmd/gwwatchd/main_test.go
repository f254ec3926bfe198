package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/pipeline"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := NewMain(&out, &errOut).Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// tempConfig writes a configuration that keeps the audit log and state in
// dir, and returns its path.
func tempConfig(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "gwwatchd.toml")
	text := "[daemon]\nstate_dir = " + strconv.Quote(filepath.Join(dir, "state")) +
		"\n[archive]\nroot = " + strconv.Quote(filepath.Join(dir, "archive")) +
		"\n[audit]\npath = " + strconv.Quote(filepath.Join(dir, "audit", "audit.log")) + "\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ingestNPY writes x to src as .npy, archives it with gwwatchd ingest
// --config cfg and flags, and returns the archive's path.
func ingestNPY(t *testing.T, cfg, src string, x []float64, flags ...string) string {
	t.Helper()
	if err := synth.WriteNPY(src, x); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"ingest", "--config", cfg}, flags...), src)
	code, stdout, stderr := runMain(t, args...)
	if code != exitOK {
		t.Fatalf("ingest: exit %d\n%s%s", code, stdout, stderr)
	}
	return strings.TrimPrefix(strings.TrimSpace(stdout), src+" -> ")
}

func TestIngestInspectVerify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	// 16 s: a spectrogram row as gwpy makes it takes a stride (8 s) and
	// an overlap of data.
	good := filepath.Join(dir, "K-K1_TEST-1300000000-16.npy")
	if err := synth.WriteNPY(good, synth.Coloured(16*512, 512, 50, 1)); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "empty.npy")
	if err := os.WriteFile(bad, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "archive")
	code, stdout, _ := runMain(t, "ingest", "--config", cfg, "--out", out, good, bad, "--channel", "K1:TEST", "--unit", "strain")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != exitProblems || len(lines) != 2 {
		t.Fatalf("got exit %d and %q, want 1 and two lines", code, stdout)
	}
	if !strings.HasPrefix(lines[0], good+" -> ") {
		t.Errorf("first line %q, want %s -> ARCHIVE", lines[0], good)
	}
	if !strings.HasPrefix(lines[1], bad+": ") {
		t.Errorf("second line %q, want %s: reason", lines[1], bad)
	}
	archivePath := strings.TrimPrefix(lines[0], good+" -> ")

	code, stdout, _ = runMain(t, "ingest", "--config", cfg, "--out", out, "--channel", "K1:TEST", "--unit", "strain", good)
	if code != exitOK || !strings.HasSuffix(strings.TrimSpace(stdout), archivePath+" (already archived)") {
		t.Errorf("second ingest: exit %d, %q", code, stdout)
	}

	code, stdout, _ = runMain(t, "inspect", archivePath)
	for _, want := range []string{"/raw/K1:TEST", "parent_dataset   /raw/K1:TEST", "ASD via Welch/median", "strain / Hz(1/2)", `"nfft":2048`} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("inspect: exit %d, output lacks %q", code, want)
		}
	}
	code, stdout, _ = runMain(t, "inspect", "--json", archivePath)
	var s struct {
		Datasets []struct {
			Path   string
			Parent string `json:"parent_dataset"`
			ViewOf string `json:"view_of"`
		}
	}
	views := 0
	err := json.Unmarshal([]byte(stdout), &s)
	for _, d := range s.Datasets {
		if d.ViewOf != "" {
			views++
		}
	}
	// The raw series, the ASD, its frequencies and the spectrogram, and
	// the views gwpy reads of three of them.
	if err != nil || code != exitOK || len(s.Datasets) != 7 || views != 3 {
		t.Errorf("inspect --json: exit %d, %v, %d datasets of which %d views, want 7 and 3", code, err, len(s.Datasets), views)
	}

	code, stdout, _ = runMain(t, "verify", archivePath)
	if code != exitOK || !strings.Contains(stdout, ": OK") {
		t.Errorf("verify: exit %d, %q", code, stdout)
	}
	code, stdout, _ = runMain(t, "verify", archivePath, good)
	if code != exitError || !strings.Contains(stdout, good+": ") {
		t.Errorf("verify of a non-archive: exit %d, %q; want 2 naming it", code, stdout)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runMain(t, "config", "check")
	if code != exitOK || !strings.Contains(stdout, "[processing.asd]") || !strings.Contains(stdout, "overlap = 2.0") {
		t.Errorf("config check of the default: exit %d\n%s", code, stdout)
	}
	code, _, _ = runMain(t, "config", "check", "../../config.toml.example")
	if code != exitOK {
		t.Errorf("config.toml.example: exit %d", code)
	}
	p := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(p, []byte("[archive]\nroot = \"x\"\nlayuot = \"y\"\n"), 0o644)
	code, _, stderr := runMain(t, "config", "check", p)
	if code != exitError || !strings.Contains(stderr, p+":3: archive.layuot: unknown key") {
		t.Errorf("bad config: exit %d, %q", code, stderr)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"frobnicate"}, {"ingest"}, {"ingest", "--bogus", "x"}, {"verify"}} {
		if code, _, _ := runMain(t, args...); code != exitError {
			t.Errorf("%v: exit %d, want %d", args, code, exitError)
		}
	}
	code, stdout, _ := runMain(t, "version")
	if code != exitOK || !strings.Contains(stdout, "libhdf5  1.") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}

func TestAuditCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	src := filepath.Join(dir, "K-K1_TEST-1300000000-8.npy")
	arch := ingestNPY(t, cfg, src, synth.Coloured(8*512, 512, 50, 2), "--channel", "K1:TEST")

	// startup, the first checkpoint, archived, shutdown, the checkpoint of
	// the end; no trusted key or outside checkpoint given.
	code, stdout, _ := runMain(t, "audit", "verify", "--config", cfg, "--archives")
	if code != exitOK || !strings.Contains(stdout, "5 records") || !strings.HasSuffix(stdout, "\nOK as far as checked: no problems, 0 warnings, 2 not checked (above)\n") {
		t.Errorf("audit verify: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runMain(t, "inspect", "--config", cfg, arch)
	if code != exitOK || !strings.Contains(stdout, "audit    record 3 in ") {
		t.Errorf("inspect does not show the audit record: exit %d\n%s", code, stdout)
	}

	sum, _ := pipeline.FileSHA256(src)
	for _, target := range []string{arch, src, sum[:10]} {
		code, stdout, _ = runMain(t, "trace", "--config", cfg, target)
		if code != exitOK || !strings.Contains(stdout, "audit record 3") || !strings.Contains(stdout, "sha256 "+sum) {
			t.Errorf("trace %s: exit %d\n%s", target, code, stdout)
		}
	}
	if code, _, _ = runMain(t, "trace", "--config", cfg, "abcdef0123"); code != exitProblems {
		t.Errorf("trace of an unknown prefix: exit %d, want %d", code, exitProblems)
	}

	code, proof, _ := runMain(t, "audit", "prove", "--config", cfg, arch)
	if code != exitOK {
		t.Fatalf("audit prove: exit %d", code)
	}
	proofFile := filepath.Join(dir, "proof")
	os.WriteFile(proofFile, []byte(proof), 0o644)
	code, pub, _ := runMain(t, "audit", "pubkey", "--config", cfg)
	if code != exitOK {
		t.Fatalf("audit pubkey: exit %d", code)
	}
	code, stdout, _ = runMain(t, "audit", "check-proof", "--pubkey", strings.TrimSpace(pub), proofFile)
	if code != exitOK || !strings.Contains(stdout, "OK: record 3") {
		t.Errorf("check-proof: exit %d\n%s", code, stdout)
	}
	other := tempConfig(t, t.TempDir())
	runMain(t, "ingest", "--config", other, "--channel", "K1:TEST", src)
	_, otherPub, _ := runMain(t, "audit", "pubkey", "--config", other)
	if code, _, _ = runMain(t, "audit", "check-proof", "--pubkey", strings.TrimSpace(otherPub), proofFile); code != exitProblems {
		t.Errorf("check-proof with another key: exit %d, want %d", code, exitProblems)
	}

	// An archive changed on disk, and one the log does not know.
	f, _ := os.OpenFile(arch, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("x"))
	f.Close()
	stray := filepath.Join(dir, "archive", "stray.h5")
	os.WriteFile(stray, []byte("x"), 0o644)
	code, stdout, _ = runMain(t, "audit", "verify", "--config", cfg, "--archives")
	if code != exitProblems || !strings.Contains(stdout, arch+": sha256 is") || !strings.Contains(stdout, stray+": an archive the log does not name") {
		t.Errorf("audit verify --archives after tampering: exit %d\n%s", code, stdout)
	}
}

// TestConcurrentIngests runs several ingest commands at once on one audit
// log, as separate one-shot processes would: one valid chain results.
func TestConcurrentIngests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	const n = 4
	codes := make(chan int, n)
	for i := range n {
		src := filepath.Join(dir, "K-K1_TEST-"+strconv.Itoa(1300000000+8*i)+"-8.npy")
		if err := synth.WriteNPY(src, synth.Coloured(8*512, 512, 50, uint64(i))); err != nil {
			t.Fatal(err)
		}
		go func() {
			code, _, _ := runMain(t, "ingest", "--config", cfg, "--channel", "K1:TEST", src)
			codes <- code
		}()
	}
	for range n {
		if code := <-codes; code != exitOK {
			t.Errorf("an ingest exited %d", code)
		}
	}
	code, stdout, _ := runMain(t, "audit", "verify", "--config", cfg, "--archives")
	if code != exitOK || strings.Contains(stdout, "WARNING") {
		t.Errorf("audit verify: exit %d\n%s", code, stdout)
	}
	// Besides the checkpoints, whose number depends on the order the
	// ingests closed in: startup, archived and shutdown of each.
	var recs int
	if err := audit.Scan(filepath.Join(dir, "audit", "audit.log"), func(r audit.Record, _ []byte) error {
		if r.Event != "checkpoint" {
			recs++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if recs != 3*n {
		t.Errorf("got %d records besides checkpoints, want %d", recs, 3*n)
	}
}

// TestIngestDeduplicatesFromLog checks that ingest into the configured
// archive root, like the daemon, finds content the audit log already
// holds, whatever the file is called; the same bytes at another time are
// other content; --out writes elsewhere regardless.
func TestIngestDeduplicatesFromLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	a := filepath.Join(dir, "a.npy")
	if err := synth.WriteNPY(a, synth.Coloured(8*512, 512, 50, 1)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.npy")
	os.WriteFile(copyPath, b, 0o644)
	meta := []string{"--channel", "K1:TEST", "--sample-rate", "512"}
	code, stdout, stderr := runMain(t, append([]string{"ingest", "--config", cfg, "--t0", "1300000000"}, append(meta, a)...)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	first := strings.TrimPrefix(strings.TrimSpace(stdout), a+" -> ")
	// The same bytes and metadata under another name: already archived.
	code, stdout, _ = runMain(t, append([]string{"ingest", "--config", cfg, "--t0", "1300000000"}, append(meta, copyPath)...)...)
	if want := copyPath + " -> " + first + " (already archived)"; code != exitOK || strings.TrimSpace(stdout) != want {
		t.Errorf("copy: exit %d, %q; want %q", code, stdout, want)
	}
	// The same bytes at another time are another series: an archive of
	// their own.
	code, stdout, _ = runMain(t, append([]string{"ingest", "--config", cfg, "--t0", "1300000100"}, append(meta, copyPath)...)...)
	if code != exitOK || strings.Contains(stdout, "already archived") || !strings.Contains(stdout, "-1300000100-") {
		t.Errorf("copy at another time: exit %d, %q; want an archive of its own", code, stdout)
	}
	// --out: a separate archive.
	code, stdout, _ = runMain(t, append([]string{"ingest", "--config", cfg, "--out", filepath.Join(dir, "elsewhere"), "--t0", "1300000100"}, append(meta, copyPath)...)...)
	if code != exitOK || strings.Contains(stdout, "already archived") || !strings.Contains(stdout, filepath.Join(dir, "elsewhere")) {
		t.Errorf("--out: exit %d, %q", code, stdout)
	}
}

// A file name with a newline in it must not forge lines of ingest's
// output: every name reads as one token on its own line.
func TestIngestOutputQuotesNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	good := filepath.Join(dir, "K-K1_TEST-1300000000-8\nforged -> x.npy")
	if err := synth.WriteNPY(good, synth.Coloured(8*512, 512, 50, 1)); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad\nK-K1_FORGED-1300000000-8.npy: fine.npy")
	if err := os.WriteFile(bad, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runMain(t, "ingest", "--config", cfg, "--channel", "K1:TEST", "--t0", "1300000000", "--sample-rate", "512", good, bad)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != exitProblems || len(lines) != 2 {
		t.Fatalf("got exit %d and %d lines %q, want 1 and two lines", code, len(lines), stdout)
	}
	if want := strconv.Quote(good) + " -> "; !strings.HasPrefix(lines[0], want) {
		t.Errorf("first line %q, want it to start %q", lines[0], want)
	}
	if want := strconv.Quote(bad) + ": "; !strings.HasPrefix(lines[1], want) {
		t.Errorf("second line %q, want it to start %q", lines[1], want)
	}
}

// audit verify --archives reports what does not belong below the archive
// root and the done and quarantine directories: a symbolic link (gwwatchd
// makes none and follows none) and a temp archive a crash left.
func TestVerifyArchivesReportsLinksAndStaleTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	text, _ := os.ReadFile(cfg)
	quar := filepath.Join(dir, "quarantine")
	os.MkdirAll(quar, 0o755)
	text = append(text, []byte("[[watch]]\ndir = "+strconv.Quote(filepath.Join(dir, "in"))+"\nquarantine_dir = "+strconv.Quote(quar)+"\n")...)
	os.WriteFile(cfg, text, 0o644)
	os.MkdirAll(filepath.Join(dir, "in"), 0o755)
	src := filepath.Join(dir, "K-K1_TEST-1300000000-8.npy")
	synth.WriteNPY(src, synth.Coloured(8*512, 512, 50, 2))
	if code, stdout, stderr := runMain(t, "ingest", "--config", cfg, "--channel", "K1:TEST", src); code != exitOK {
		t.Fatalf("ingest: exit %d %s %s", code, stdout, stderr)
	}
	root := filepath.Join(dir, "archive")
	os.Symlink("/etc", filepath.Join(root, "K", "elsewhere"))
	os.Symlink("/tmp", filepath.Join(quar, "out"))
	stale := filepath.Join(root, "K", ".gwwatchd-0123456789abcdef.h5.tmp")
	os.WriteFile(stale, []byte("half an archive"), 0o644)
	copied := filepath.Join(quar, ".gwwatchd-move-0123456789abcdef.tmp")
	os.WriteFile(copied, []byte("half a copy"), 0o644)
	code, stdout, _ := runMain(t, "audit", "verify", "--config", cfg, "--archives")
	if code == exitOK {
		t.Errorf("audit verify --archives: exit 0 with links and a stale temp present\n%s", stdout)
	}
	for _, want := range []string{
		filepath.Join(root, "K", "elsewhere") + ": a symbolic link in the archive root",
		filepath.Join(quar, "out") + ": a symbolic link in a done or quarantine directory",
		stale + ": a temp archive a crash left",
		copied + ": a partial copy a crash left",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("audit verify --archives does not say %q:\n%s", want, stdout)
		}
	}
	// The next ingest removes the stale temp, and only it.
	runMain(t, "ingest", "--config", cfg, "--channel", "K1:TEST", src)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temp archive is still there after an ingest: %v", err)
	}
}

// config check --quiet, as systemctl reload runs it, says nothing of a
// valid file and fails on an invalid one.
func TestConfigCheckQuiet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := tempConfig(t, dir)
	if code, stdout, stderr := runMain(t, "config", "check", "--quiet", good); code != exitOK || stdout != "" || stderr != "" {
		t.Errorf("valid file: exit %d, stdout %q, stderr %q; want 0 and nothing", code, stdout, stderr)
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[processing.spectrogram]\nstride = 0.5\n"), 0o644)
	if code, _, stderr := runMain(t, "config", "check", "--quiet", bad); code == exitOK || stderr == "" {
		t.Errorf("invalid file: exit %d, stderr %q; want a failure with its reason", code, stderr)
	}
}
