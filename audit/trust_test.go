package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// removeStateCopies deletes the checkpoint files and the saved tree state
// of a log, as someone who wants its checkpoints gone would.
func removeStateCopies(t *testing.T, o Options) {
	t.Helper()
	for _, name := range []string{checkpointsFile, latestFile, stateFile} {
		if err := os.Remove(filepath.Join(o.StateDir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// dropCheckpointRecords removes the checkpoint records from the active
// segment; rechain then makes seq and prev whole again.
func dropCheckpointRecords(t *testing.T, path string) {
	t.Helper()
	var kept [][]byte
	seq := 0
	for _, line := range readLinesOf(t, path) {
		if len(line) == 0 {
			continue
		}
		if bytes.Contains(line, []byte(`"event":"checkpoint"`)) {
			continue
		}
		seq++
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		m[keySeq] = seq
		b, err := Canonical(m)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, append(b, '\n'))
	}
	writeLines(t, path, kept)
}

// TestStateCopiesRemovedAndLogForged: with the checkpoint files gone, a
// log edited and re-hashed by someone without the key still fails, since
// the checkpoints are in the log; and with those removed too, nothing in
// the log is signed, which is a problem, not a pass.
func TestStateCopiesRemovedAndLogForged(t *testing.T) {
	for _, strip := range []bool{false, true} {
		name := map[bool]string{false: "checkpoint records kept", true: "checkpoint records removed"}[strip]
		t.Run(name, func(t *testing.T) {
			opts := tamperLog(t)
			removeStateCopies(t, opts)
			if strip {
				dropCheckpointRecords(t, opts.Path)
			}
			rechain(t, opts.Path, 0, func(i int, m map[string]any) {
				if i == 2 {
					m[FieldArchivePath] = "/archive/elsewhere.h5"
				}
			})
			rep := mustVerify(t, opts)
			if rep.OK() {
				t.Fatalf("Verify of a forged log without its checkpoint files: got OK, want a problem")
			}
			want := "is not the root"
			if strip {
				want = "none of its 20 records is signed"
			}
			if !strings.Contains(rep.Issues[0].What, want) {
				t.Errorf("Verify: got first problem %s, want …%s…", rep.Issues[0], want)
			}
		})
	}
}

// TestOpenRefusesToReplaceTheKey: a log whose key file is gone does not
// get a new key, which would sign whatever the log now holds.
func TestOpenRefusesToReplaceTheKey(t *testing.T) {
	opts := tamperLog(t)
	if err := os.Remove(opts.KeyFile); err != nil {
		t.Fatal(err)
	}
	_, err := Open(opts)
	if err == nil {
		t.Fatalf("Open without the key of an existing log: got no error, want a refusal")
	}
	for _, want := range []string{opts.KeyFile, "restore"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open: got %q, want it to say %q", err, want)
		}
	}
	if _, serr := os.Stat(opts.KeyFile); serr == nil {
		t.Errorf("Open created %s", opts.KeyFile)
	}

	// The state alone says a log existed: still no new key.
	opts = tamperLog(t)
	os.Remove(opts.KeyFile)
	os.Remove(opts.Path)
	if _, err := Open(opts); err == nil {
		t.Errorf("Open without the key and the log, with their state: got no error")
	}
}

// TestOpenRefusesMissingLog: a log deleted, or cut back below what the
// state says it held, does not silently start again.
func TestOpenRefusesMissingLog(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, o Options)
		want   string
	}{
		{"deleted", func(t *testing.T, o Options) {
			os.Remove(o.Path)
		}, "missing"},
		{"emptied", func(t *testing.T, o Options) {
			os.WriteFile(o.Path, nil, 0o640)
		}, "missing"},
		{"deleted, tree state gone", func(t *testing.T, o Options) {
			os.Remove(o.Path)
			os.Remove(filepath.Join(o.StateDir, stateFile))
		}, "missing"},
		{"cut back", func(t *testing.T, o Options) {
			lines := readLinesOf(t, o.Path)
			writeLines(t, o.Path, lines[:10])
		}, "cut back"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tamperLog(t)
			tt.damage(t, opts)
			_, err := Open(opts)
			if err == nil {
				t.Fatalf("Open: got no error, want a refusal")
			}
			for _, want := range []string{tt.want, opts.StateDir} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Open: got %q, want it to say %q", err, want)
				}
			}
		})
	}

	// Moving the state away, as the error says, starts a new log.
	opts := tamperLog(t)
	os.Remove(opts.Path)
	if err := os.Rename(opts.StateDir, opts.StateDir+".old"); err != nil {
		t.Fatal(err)
	}
	os.Remove(opts.KeyFile)
	l := mustOpen(t, opts)
	if rec := mustAppend(t, l, EventStartup, nil); rec.Seq != 1 {
		t.Errorf("new log: got seq %d, want 1", rec.Seq)
	}
	mustClose(t, l)
}

// TestCheckpointWriteInterrupted: a writer killed between the writes of a
// checkpoint leaves the log and its copies in a state that verify accepts
// and the next Open brings back in step.
func TestCheckpointWriteInterrupted(t *testing.T) {
	tests := []struct {
		name  string
		crash func(t *testing.T, o Options)
	}{
		// The checkpoint file was replaced, its entry not yet appended.
		{"after the checkpoint file", func(t *testing.T, o Options) {
			entries := checkpointEntries(t, o.StateDir)
			writeLines(t, filepath.Join(o.StateDir, checkpointsFile), entries[:len(entries)-1])
		}},
		// Only the log has the checkpoint.
		{"after the log", func(t *testing.T, o Options) {
			entries := checkpointEntries(t, o.StateDir)
			writeLines(t, filepath.Join(o.StateDir, checkpointsFile), entries[:len(entries)-1])
			os.WriteFile(filepath.Join(o.StateDir, latestFile), entryNote(t, entries[len(entries)-2]), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tamperLog(t)
			tt.crash(t, opts)
			requireOK(t, mustVerify(t, opts))

			l := mustOpen(t, opts)
			mustClose(t, l)
			entries := checkpointEntries(t, opts.StateDir)
			latest, _ := os.ReadFile(filepath.Join(opts.StateDir, latestFile))
			if n := len(entries); n != 4 || !bytes.Equal(entryNote(t, entries[n-1]), latest) {
				t.Errorf("after Open: got %d entries, the last one the checkpoint file: %v; want 4 and true",
					n, bytes.Equal(entryNote(t, entries[n-1]), latest))
			}
			requireOK(t, mustVerify(t, opts))
		})
	}
}
