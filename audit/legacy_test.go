package audit

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The log under testdata/legacy was written before checkpoints were
// recorded in the log itself: its checkpoints are only in the state
// files. It has two segments, a repaired torn tail, eight records and
// checkpoints at 3, 6 and 8. Logs like it must still open, replay and
// verify.

// copyLegacy copies testdata/legacy to a temporary directory and returns
// the Options of the log there and its published verifier key.
func copyLegacy(t *testing.T) (Options, string) {
	t.Helper()
	opts, pub := copyTestLog(t, "legacy")
	tm := time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)
	opts.Host, opts.MaxSize = "golden-host", 3000
	opts.Now = func() time.Time { tm = tm.Add(time.Second); return tm }
	return opts, pub
}

// copyTestLog copies testdata/name, laid out as log/, state/, keys/ and
// pubkey, to a temporary directory and returns the Options of the log
// there and its published verifier key.
func copyTestLog(t *testing.T, name string) (Options, string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", name)
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(dir, "pubkey"))
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Path:     filepath.Join(dir, "log", "audit.log"),
		StateDir: filepath.Join(dir, "state"),
		KeyFile:  filepath.Join(dir, "keys", "audit.key"),
	}, strings.TrimSpace(string(pub))
}

func TestLegacyLogVerifies(t *testing.T) {
	t.Parallel()
	opts, pub := copyLegacy(t)
	for _, vo := range []VerifyOptions{
		{Path: opts.Path, StateDir: opts.StateDir, KeyFile: opts.KeyFile},
		{Path: opts.Path, StateDir: opts.StateDir, PublicKey: pub},
	} {
		rep, err := Verify(vo)
		if err != nil {
			t.Fatal(err)
		}
		requireOK(t, rep)
		if rep.Records != 8 || rep.Checkpoints != 3 || len(rep.Segments) != 2 || rep.Events[eventRepaired] != 1 {
			t.Errorf("Verify: got %d records, %d checkpoints, %d segments, events %v; want 8, 3, 2 and one repaired",
				rep.Records, rep.Checkpoints, len(rep.Segments), rep.Events)
		}
		if cp := lastCheckpoint(t, opts); rep.Root != base64.StdEncoding.EncodeToString(cp.Root[:]) {
			t.Errorf("Verify: got root %s, want the last checkpoint's", rep.Root)
		}
	}

	// An edit is still caught by the checkpoints in the state files.
	lines := readLinesOf(t, opts.Path+".1")
	lines[1] = bytes.Replace(lines[1], []byte("/data/raw/K1"), []byte("/data/raw/K2"), 1)
	writeLines(t, opts.Path+".1", lines)
	rechain(t, opts.Path+".1", 1, func(int, map[string]any) {})
	if rep := mustVerify(t, opts); rep.OK() {
		t.Errorf("Verify of an edited legacy log: got OK, want a problem")
	}
}

func TestLegacyLogReplays(t *testing.T) {
	t.Parallel()
	opts, _ := copyLegacy(t)
	ix, err := Replay(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Records != 8 || ix.LastSeq != 8 || ix.Len() != 5 {
		t.Errorf("Replay: got %d records, last seq %d, %d archives; want 8, 8, 5", ix.Records, ix.LastSeq, ix.Len())
	}
	want := archivedRecord(4)[fieldArchivePath].(string)
	if a, ok := ix.ByArchivePath(want); !ok || a.Seq != 8 {
		t.Errorf("ByArchivePath(%s): got %+v, %v, want seq 8", want, a, ok)
	}
	// Every record reads back as its record type.
	for _, rec := range recordsOf(t, opts.Path) {
		if e, err := rec.Decode(); err != nil || e.EventName() != rec.Event {
			t.Errorf("record %d: Decode: got %T, %v", rec.Seq, e, err)
		}
	}
}

func TestLegacyLogOpensAndGoesOn(t *testing.T) {
	t.Parallel()
	testGoesOn(t, func(t *testing.T) (Options, string, []byte) { opts, pub := copyLegacy(t); return opts, pub, nil }, 8)
}

// testGoesOn checks that the log copyLog copies, of n records, opens with
// its saved state and without, takes a record after them without changing
// them, and verifies with its published key and the outside checkpoint
// copyLog gives, if any.
func testGoesOn(t *testing.T, copyLog func(*testing.T) (Options, string, []byte), n int64) {
	for _, dropState := range []bool{false, true} {
		t.Run(map[bool]string{false: "saved state", true: "from scratch"}[dropState], func(t *testing.T) {
			opts, pub, since := copyLog(t)
			before := logBytes(t, opts.Path)
			if dropState {
				os.Remove(filepath.Join(opts.StateDir, stateFile))
			}
			l := mustOpen(t, opts)
			rec := mustAppend(t, l, eventStartup, map[string]any{fieldPID: 200})
			mustClose(t, l)
			if rec.Seq != uint64(n+1) {
				t.Errorf("first record after reopening: got seq %d, want %d", rec.Seq, n+1)
			}
			if !bytes.HasPrefix(logBytes(t, opts.Path), before) {
				t.Errorf("the records before changed")
			}
			rep, err := Verify(VerifyOptions{Path: opts.Path, StateDir: opts.StateDir, PublicKey: pub, Since: since})
			if err != nil {
				t.Fatal(err)
			}
			requireOK(t, rep)
			if rep.Records != n+2 || rep.Unsigned != 0 {
				t.Errorf("Verify: got %d records, %d unsigned; want %d, 0", rep.Records, rep.Unsigned, n+2)
			}
		})
	}
}

// TestLegacyLogPython: the chain of the legacy log checks with Python.
func TestLegacyLogPython(t *testing.T) {
	t.Parallel()
	py := python(t)
	opts, _ := copyLegacy(t)
	out, err := runVerifyChain(t, py, []string{opts.Path + ".1", opts.Path})
	if err != nil || out != "OK 8 records" {
		t.Errorf("verify_chain.py: got %q, %v, want OK 8 records", out, err)
	}
}

// logBytes returns the segments of the log at path, concatenated.
func logBytes(t *testing.T, path string) []byte {
	t.Helper()
	segs, err := Segments(path)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, seg := range segs {
		s, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, s...)
	}
	return b
}
