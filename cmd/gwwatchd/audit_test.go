package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/internal/canonjson"
	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// ingestN archives a new synthetic file into the log of cfg.
func ingestN(t *testing.T, dir, cfg string, i int) {
	t.Helper()
	src := filepath.Join(dir, "K-K1_TEST-"+strconv.Itoa(1300000000+8*i)+"-8.npy")
	if err := synth.WriteNPY(src, synth.Coloured(8*512, 512, 50, uint64(i))); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runMain(t, "ingest", "--config", cfg, "--channel", "K1:TEST", src); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s%s", code, stdout, stderr)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestAuditCheckpointSince: the note audit checkpoint prints, kept
// elsewhere, lets audit verify --since catch the log and its checkpoint
// files rolled back together, and a log rewritten from there.
func TestAuditCheckpointSince(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	logPath := filepath.Join(dir, "audit", "audit.log")
	state := filepath.Join(dir, "state")
	ingestN(t, dir, cfg, 0) // records 1-5, checkpoints at 2 and 5
	ingestN(t, dir, cfg, 1) // 6-9, the checkpoint of 8 at 9
	code, note, stderr := runMain(t, "audit", "checkpoint", "--config", cfg)
	if code != exitOK || !strings.HasPrefix(note, "gwwatchd-audit/") || !strings.Contains(note, "\n8\n") {
		t.Fatalf("audit checkpoint: exit %d, %q, %s; want the note of the checkpoint of 8 records", code, note, stderr)
	}
	since := filepath.Join(t.TempDir(), "anchor")
	os.WriteFile(since, []byte(note), 0o644)
	_, pub, _ := runMain(t, "audit", "pubkey", "--config", cfg)
	pubFile := filepath.Join(t.TempDir(), "audit.pub")
	os.WriteFile(pubFile, []byte(pub), 0o644)

	code, stdout, _ := runMain(t, "audit", "verify", "--config", cfg, "--pubkey", pubFile, "--since", since)
	if code != exitOK || lastLine(stdout) != "OK" || strings.Contains(stdout, "UNCHECKED") {
		t.Errorf("audit verify --pubkey --since: exit %d\n%s", code, stdout)
	}

	// The log back to its first 5 records, the state files with it.
	b, _ := os.ReadFile(logPath)
	lines := bytes.SplitAfter(b, []byte("\n"))
	os.WriteFile(logPath, bytes.Join(lines[:5], nil), 0o640)
	entries := bytes.SplitAfter(mustRead(t, filepath.Join(state, "checkpoints")), []byte("\n"))
	os.WriteFile(filepath.Join(state, "checkpoints"), bytes.Join(entries[:2], nil), 0o640)
	var e struct{ Note string }
	json.Unmarshal(entries[1], &e)
	os.WriteFile(filepath.Join(state, "checkpoint"), []byte(e.Note), 0o644)
	os.Remove(filepath.Join(state, "tree-state"))

	code, stdout, _ = runMain(t, "audit", "verify", "--config", cfg, "--pubkey", pubFile)
	if code != exitOK || !strings.Contains(stdout, "UNCHECKED: no outside checkpoint") {
		t.Errorf("audit verify of the rolled-back log without --since: exit %d\n%s; want 0 saying it was not checked", code, stdout)
	}
	code, stdout, _ = runMain(t, "audit", "verify", "--config", cfg, "--pubkey", pubFile, "--since", since)
	if code != exitProblems || !strings.Contains(stdout, "since: covers 8 records but the log has 5: it was cut back\n") {
		t.Errorf("audit verify --since of the rolled-back log: exit %d\n%s", code, stdout)
	}

	// Rewritten from there, as long as before and more.
	ingestN(t, dir, cfg, 2)
	code, stdout, _ = runMain(t, "audit", "verify", "--config", cfg, "--pubkey", pubFile, "--since", since)
	if code != exitProblems || !strings.Contains(stdout, "since: root ") || !strings.Contains(stdout, "is not the root") {
		t.Errorf("audit verify --since of the rewritten log: exit %d\n%s", code, stdout)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// appendRecord appends a record with a valid hash and chain to the log,
// as someone who can write it but not read the key would.
func appendRecord(t *testing.T, logPath string) {
	t.Helper()
	var last audit.Record
	if err := audit.Scan(logPath, func(r audit.Record, _ []byte) error { last = r; return nil }); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"seq": last.Seq + 1, "time": "2024-03-01T13:00:00.000000000Z", "event": "archived",
		"host": last.Host, "prev": last.Hash, "archive_path": "/archive/forged.h5"}
	body, err := canonjson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	m["hash"] = hex.EncodeToString(sum[:])
	line, _ := canonjson.Marshal(m)
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(append(line, '\n'))
	f.Close()
}

// TestAuditVerifySaysWhatIsUnsigned: a record appended after the last
// checkpoint is a warning, not a bare OK, and so is the checkpoint that
// signs it afterwards; what was not checked is said too.
func TestAuditVerifySaysWhatIsUnsigned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	logPath := filepath.Join(dir, "audit", "audit.log")
	ingestN(t, dir, cfg, 0)
	appendRecord(t, logPath)
	code, stdout, _ := runMain(t, "audit", "verify", "--config", cfg)
	key := filepath.Join(dir, "state", "audit.key")
	want := []string{
		"WARNING: audit.log:6: 1 record after the latest checkpoint (seq 6 to 6) is not signed: the next checkpoint signs it, saying so if no writer that has the log open wrote it",
		"UNCHECKED: no trusted key: the signatures were checked with the key derived from " + key +
			", which anyone who can write that file can replace; give the key published when the log started (--pubkey)",
		"UNCHECKED: no outside checkpoint: a log cut back, or rewritten, together with its checkpoints would pass; " +
			"give a signed checkpoint kept off the host (--since FILE, saved from gwwatchd audit checkpoint)",
		"OK as far as checked: no problems, 1 warning, 2 not checked (above)",
	}
	if code != exitOK || !strings.HasSuffix(stdout, strings.Join(want, "\n")+"\n") {
		t.Errorf("audit verify: exit %d\n%s\nwant it to end with\n%s", code, stdout, strings.Join(want, "\n"))
	}

	ingestN(t, dir, cfg, 1)
	code, stdout, _ = runMain(t, "audit", "verify", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, "WARNING: audit.log:7: checkpoint signs 1 record from seq 6 on that its writer did not write") {
		t.Errorf("audit verify after the next ingest: exit %d\n%s", code, stdout)
	}
}

// TestAuditCheckpointHelp: the new command explains itself, on stdout.
func TestAuditCheckpointHelp(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runMain(t, "audit", "checkpoint", "--help")
	for _, want := range []string{"Usage: gwwatchd audit checkpoint [--config F]", "prints its\nsigned note", "-config", "Example", "| ssh"} {
		if code != exitOK || stderr != "" || !strings.Contains(stdout, want) {
			t.Errorf("audit checkpoint --help: exit %d, %q%q, want 0 and …%s… on stdout", code, stdout, stderr, want)
		}
	}
	code, stdout, stderr = runMain(t, "audit", "verify", "--help")
	if code != exitOK || stderr != "" || !strings.Contains(stdout, "--since FILE") || !strings.Contains(stdout, "-since") {
		t.Errorf("audit verify --help: exit %d, %q%q", code, stdout, stderr)
	}
	cfg := tempConfig(t, t.TempDir())
	if code, _, stderr = runMain(t, "audit", "checkpoint", "--config", cfg); code != exitError || !strings.Contains(stderr, "no audit log at") {
		t.Errorf("audit checkpoint without a log: exit %d, %q", code, stderr)
	}
}

// TestIngestRefusesLostKeyOrLog: with the key or the log gone, gwwatchd
// says how to proceed instead of starting over.
func TestIngestRefusesLostKeyOrLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	ingestN(t, dir, cfg, 0)
	key := filepath.Join(dir, "state", "audit.key")
	saved := mustRead(t, key)
	os.Remove(key)
	src := filepath.Join(dir, "K-K1_TEST-1300000008-8.npy")
	synth.WriteNPY(src, synth.Coloured(8*512, 512, 50, 1))
	code, _, stderr := runMain(t, "ingest", "--config", cfg, "--channel", "K1:TEST", src)
	if code != exitError || !strings.Contains(stderr, "restore the key file") {
		t.Errorf("ingest without the key: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(key); err == nil {
		t.Errorf("ingest created a new key")
	}
	os.WriteFile(key, saved, 0o600)

	os.Remove(filepath.Join(dir, "audit", "audit.log"))
	code, _, stderr = runMain(t, "ingest", "--config", cfg, "--channel", "K1:TEST", src)
	if code != exitError || !strings.Contains(stderr, "has no records, but") || !strings.Contains(stderr, "restore the log") {
		t.Errorf("ingest without the log: exit %d, %q", code, stderr)
	}
}
