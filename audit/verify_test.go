package audit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
)

// tamperLog writes a closed log of 20 archived records with a checkpoint
// record after every 5 of them: seq 1-5, the checkpoint of 5 at 6, 7-11,
// the checkpoint of 11 at 12, 13-17, 18 (17), 19-23 and 24 (23).
func tamperLog(t *testing.T) Options {
	t.Helper()
	opts := testOptions(t)
	opts.CheckpointEvery = 5
	opts.CheckpointInterval = -1
	l := mustOpen(t, opts)
	for i := range 20 {
		mustAppend(t, l, eventArchived, archivedRecord(i))
	}
	mustClose(t, l)
	rep := mustVerify(t, opts)
	requireOK(t, rep)
	if rep.Records != 24 || rep.Checkpoints != 4 || rep.LogCheckpoints != 4 {
		t.Fatalf("Verify: got %d records, %d checkpoints in the file, %d in the log, want 24, 4 and 4", rep.Records, rep.Checkpoints, rep.LogCheckpoints)
	}
	return opts
}

// copyLog copies the directory of a log made by testOptions, keys and
// state included, to a fresh temporary directory with the same modes, and
// returns its Options: one log written once serves many tampering cases.
func copyLog(t *testing.T, opts Options) Options {
	t.Helper()
	src := filepath.Dir(filepath.Dir(opts.Path))
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	moved := func(p string) string { return filepath.Join(dst, strings.TrimPrefix(p, src)) }
	opts.Path, opts.StateDir, opts.KeyFile = moved(opts.Path), moved(opts.StateDir), moved(opts.KeyFile)
	return opts
}

// rechain rewrites the log from record index from on, calling edit on each
// decoded record and recomputing every hash and prev after it: an edit by
// someone who knows the format but not the signing key.
func rechain(t *testing.T, path string, from int, edit func(i int, m map[string]any)) {
	t.Helper()
	lines := readLinesOf(t, path)
	prev := zeroHash
	for i, line := range lines {
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if i >= from {
			edit(i, m)
			m[keyPrev] = prev
			delete(m, keyHash)
			body, err := canonjson.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(body)
			m[keyHash] = hex.EncodeToString(sum[:])
			full, _ := canonjson.Marshal(m)
			lines[i] = append(full, '\n')
		}
		prev = m[keyHash].(string)
	}
	writeLines(t, path, lines)
}

func checkpointEntries(t *testing.T, stateDir string) [][]byte {
	t.Helper()
	lines := readLinesOf(t, filepath.Join(stateDir, checkpointsFile))
	return lines[:len(lines)-1]
}

func entryNote(t *testing.T, line []byte) []byte {
	t.Helper()
	var e checkpointEntry
	if err := json.Unmarshal(line, &e); err != nil {
		t.Fatal(err)
	}
	return []byte(e.Note)
}

// signedEntry returns a checkpoints line for a checkpoint signed by skey.
func signedEntry(t *testing.T, skey string, cp treeHead) ([]byte, []byte) {
	t.Helper()
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: cp.text()}, s)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(checkpointEntry{Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Time: cp.Time.Format(TimeLayout), Note: string(msg)})
	return append(b, '\n'), msg
}

func lastCheckpoint(t *testing.T, opts Options) treeHead {
	t.Helper()
	msg, err := os.ReadFile(filepath.Join(opts.StateDir, latestFile))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := noteText(msg)
	cp, err := parseCheckpoint(text)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestVerifyCatchesTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tamper    func(t *testing.T, opts Options)
		firstBad  string
		firstWhat string
	}{
		{"field edited", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			lines[4] = bytes.Replace(lines[4], []byte("/data/raw/K1"), []byte("/data/raw/K2"), 1)
			writeLines(t, o.Path, lines)
		}, "audit.log:5", "does not match"},
		{"number edited", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			lines[10] = bytes.Replace(lines[10], []byte(`"source_size":8388617`), []byte(`"source_size":8388618`), 1)
			writeLines(t, o.Path, lines)
		}, "audit.log:11", "does not match"},
		{"line inserted", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			lines = append(lines[:7], append([][]byte{lines[6]}, lines[7:]...)...)
			writeLines(t, o.Path, lines)
		}, "audit.log:8", "seq 7, want 8"},
		{"line deleted", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			lines = append(lines[:7], lines[8:]...)
			writeLines(t, o.Path, lines)
		}, "audit.log:8", "seq 9, want 8"},
		{"lines reordered", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			lines[3], lines[4] = lines[4], lines[3]
			writeLines(t, o.Path, lines)
		}, "audit.log:4", "seq 5, want 4"},
		{"first line deleted", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			writeLines(t, o.Path, lines[1:])
		}, "audit.log:1", "seq 2, want 1"},
		{"whitespace added", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			lines[2] = bytes.Replace(lines[2], []byte(`,"seq":`), []byte(`, "seq": `), 1)
			writeLines(t, o.Path, lines)
		}, "audit.log:3", "not in canonical form"},
		{"tail truncated after a checkpoint", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			writeLines(t, o.Path, lines[:17])
		}, "checkpoints:4", "covers 23 records but the log has 17"},
		{"edited and rechained", func(t *testing.T, o Options) {
			rechain(t, o.Path, 2, func(i int, m map[string]any) {
				if i == 2 {
					m[fieldArchivePath] = "/archive/elsewhere.h5"
				}
			})
		}, "audit.log:6", "is not the root"},
		{"tail rewritten after the last checkpoint but one", func(t *testing.T, o Options) {
			rechain(t, o.Path, 18, func(_ int, m map[string]any) {
				if m[keyEvent] != eventCheckpoint {
					m[fieldReason] = "x"
				}
			})
		}, "audit.log:24", "is not the root"},
		{"checkpoint record forged", func(t *testing.T, o Options) {
			rechain(t, o.Path, 11, func(i int, m map[string]any) {
				if i == 11 {
					n := m[fieldNote].(string)
					i := strings.LastIndex(n, " ") + 10
					m[fieldNote] = n[:i] + string(n[i]^1) + n[i+1:]
				}
			})
		}, "audit.log:12", "verify checkpoint"},
		{"checkpoint record removed", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			writeLines(t, o.Path, append(lines[:11], lines[12:]...))
			dropCheckpointRecords(t, o.Path)
			rechain(t, o.Path, 0, func(int, map[string]any) {})
		}, "checkpoints:2", "is not the root"},
		{"checkpoint record of another log", func(t *testing.T, o Options) {
			other := tamperLog(t)
			theirs := readLinesOf(t, other.Path)[11]
			lines := readLinesOf(t, o.Path)
			lines[11] = theirs
			writeLines(t, o.Path, lines)
			rechain(t, o.Path, 11, func(int, map[string]any) {})
		}, "audit.log:12", "unknown key"},
		{"checkpoint signature forged", func(t *testing.T, o Options) {
			entries := checkpointEntries(t, o.StateDir)
			msg := entryNote(t, entries[3])
			i := bytes.LastIndex(msg, []byte(" ")) + 10
			forged := bytes.Clone(msg)
			forged[i] ^= 'A' ^ 'B'
			if forged[i] == msg[i] {
				forged[i] = 'C'
			}
			var e checkpointEntry
			json.Unmarshal(entries[3], &e)
			e.Note = string(forged)
			b, _ := json.Marshal(e)
			entries[3] = append(b, '\n')
			writeLines(t, filepath.Join(o.StateDir, checkpointsFile), entries)
			os.WriteFile(filepath.Join(o.StateDir, latestFile), forged, 0o644)
		}, "checkpoints:4", "checkpoint"},
		{"checkpoint signed by another key", func(t *testing.T, o Options) {
			skey, _, err := note.GenerateKey(rand.Reader, "gwwatchd-test-host")
			if err != nil {
				t.Fatal(err)
			}
			cp := lastCheckpoint(t, o)
			cp.Size, cp.Time = 20, cp.Time.Add(time.Second)
			line, msg := signedEntry(t, skey, cp)
			appendBytes(t, filepath.Join(o.StateDir, checkpointsFile), string(line))
			os.WriteFile(filepath.Join(o.StateDir, latestFile), msg, 0o644)
		}, "checkpoints:5", "unknown key"},
		{"older checkpoint appended", func(t *testing.T, o Options) {
			entries := checkpointEntries(t, o.StateDir)
			appendBytes(t, filepath.Join(o.StateDir, checkpointsFile), string(entries[1]))
			os.WriteFile(filepath.Join(o.StateDir, latestFile), entryNote(t, entries[1]), 0o644)
		}, "checkpoints:5", "rolled back: size 11 after 23"},
		{"checkpoint file replaced with an older one", func(t *testing.T, o Options) {
			entries := checkpointEntries(t, o.StateDir)
			os.WriteFile(filepath.Join(o.StateDir, latestFile), entryNote(t, entries[2]), 0o644)
		}, "checkpoint", "is not the last entry"},
		{"checkpoint entry disagrees with its note", func(t *testing.T, o Options) {
			entries := checkpointEntries(t, o.StateDir)
			entries[0] = bytes.Replace(entries[0], []byte(`"size":5`), []byte(`"size":50`), 1)
			writeLines(t, filepath.Join(o.StateDir, checkpointsFile), entries)
		}, "checkpoints:1", "disagrees"},
		{"checkpoints removed", func(t *testing.T, o Options) {
			os.WriteFile(filepath.Join(o.StateDir, checkpointsFile), nil, 0o640)
		}, "checkpoint", "has no entry"},
	}
	base := tamperLog(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := copyLog(t, base)
			tt.tamper(t, opts)
			rep := mustVerify(t, opts)
			if rep.OK() {
				t.Fatalf("Verify: got OK, want a problem")
			}
			if rep.FirstBad != tt.firstBad || !strings.Contains(rep.Issues[0].What, tt.firstWhat) {
				t.Errorf("Verify: got first problem %s, want %s: …%s…; all: %v", rep.Issues[0], tt.firstBad, tt.firstWhat, rep.Issues)
			}
			if rep.Problems != len(rep.Issues) {
				t.Errorf("Verify: got %d problems and %d issues, want them equal", rep.Problems, len(rep.Issues))
			}
		})
	}
}

// TestVerifyPublicKey: an auditor passes the published key rather than
// trusting the key file beside the log, so a swapped key file is caught.
func TestVerifyPublicKey(t *testing.T) {
	t.Parallel()
	opts := tamperLog(t)
	vkey, err := PublicKey(opts.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	// Someone edits the log, drops the checkpoints, replaces the key with
	// one of their own and has it sign everything.
	dropCheckpointRecords(t, opts.Path)
	rechain(t, opts.Path, 0, func(i int, m map[string]any) {
		if i == 0 {
			m[fieldArchivePath] = "/archive/elsewhere.h5"
		}
	})
	os.Remove(opts.KeyFile)
	removeStateCopies(t, opts)
	if _, err := createKey(opts.KeyFile, keyName(opts.Host)); err != nil {
		t.Fatal(err)
	}
	l := mustOpen(t, opts)
	mustClose(t, l)
	requireOK(t, mustVerify(t, opts)) // consistent with the new key…

	rep, err := Verify(VerifyOptions{Path: opts.Path, StateDir: opts.StateDir, PublicKey: vkey})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !strings.Contains(rep.Issues[0].What, "unknown key") {
		t.Errorf("Verify with the published key: got %v, want an unknown-key problem", rep.Issues)
	}
}

func TestVerifyReport(t *testing.T) {
	t.Parallel()
	opts := tamperLog(t)
	rep := mustVerify(t, opts)
	if rep.LastSeq != 24 || rep.Events[eventArchived] != 20 || rep.Events[eventCheckpoint] != 4 || len(rep.Segments) != 1 {
		t.Errorf("Report: got last seq %d, events %v, segments %v", rep.LastSeq, rep.Events, rep.Segments)
	}
	if rep.Signed != 24 || rep.Unsigned != 0 || len(rep.Warnings) != 0 {
		t.Errorf("Report: got %d records signed, %d unsigned, warnings %v; want 24, 0, none", rep.Signed, rep.Unsigned, rep.Warnings)
	}
	var fr frontier
	for _, r := range recordsOf(t, opts.Path) {
		var h [32]byte
		hex32(t, r.Hash, &h)
		fr.add(leafHash(h))
	}
	if root := fr.root(); rep.Root != base64.StdEncoding.EncodeToString(root[:]) {
		t.Errorf("Report.Root: got %s, want the root over all %d records", rep.Root, fr.n)
	}

	// A log with no records and no checkpoints is fine.
	empty := testOptions(t)
	rep, err := Verify(VerifyOptions{Path: empty.Path, StateDir: empty.StateDir})
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, rep)
}
