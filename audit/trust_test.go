package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
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
		b, err := canonjson.Marshal(m)
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
	t.Parallel()
	base := tamperLog(t)
	for _, strip := range []bool{false, true} {
		name := map[bool]string{false: "checkpoint records kept", true: "checkpoint records removed"}[strip]
		t.Run(name, func(t *testing.T) {
			opts := copyLog(t, base)
			removeStateCopies(t, opts)
			if strip {
				dropCheckpointRecords(t, opts.Path)
			}
			rechain(t, opts.Path, 0, func(i int, m map[string]any) {
				if i == 2 {
					m[fieldArchivePath] = "/archive/elsewhere.h5"
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
	t.Parallel()
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
	t.Parallel()
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
	base := tamperLog(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := copyLog(t, base)
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
	if rec := mustAppend(t, l, eventStartup, nil); rec.Seq != 1 {
		t.Errorf("new log: got seq %d, want 1", rec.Seq)
	}
	mustClose(t, l)
}

// TestCheckpointWriteInterrupted: a writer killed between the writes of a
// checkpoint leaves the log and its copies in a state that verify accepts
// and the next Open brings back in step.
func TestCheckpointWriteInterrupted(t *testing.T) {
	t.Parallel()
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
	base := tamperLog(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := copyLog(t, base)
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

// appendForged appends a record with a valid hash and chain, as someone
// who can write the log but not read the key would.
func appendForged(t *testing.T, path string, fields map[string]any) uint64 {
	t.Helper()
	recs := recordsOf(t, path)
	last := recs[len(recs)-1]
	h := header{seq: last.Seq + 1, time: "2024-03-01T13:00:00.000000000Z", event: eventArchived, host: "test-host"}
	hex32(t, last.Hash, &h.prev)
	line, _, err := encodeFields(&h, fields)
	if err != nil {
		t.Fatal(err)
	}
	appendBytes(t, path, string(line))
	return h.seq
}

// warningsWith returns the warnings whose text contains s.
func warningsWith(rep *Report, s string) []Problem {
	var out []Problem
	for _, w := range rep.Warnings {
		if strings.Contains(w.What, s) {
			out = append(out, w)
		}
	}
	return out
}

// TestRecordAppendedAfterCheckpoint: a record appended after the last
// checkpoint is reported as unsigned, and the next writer signs it
// saying that it did not write it, which Verify reports.
func TestRecordAppendedAfterCheckpoint(t *testing.T) {
	t.Parallel()
	opts := tamperLog(t)
	seq := appendForged(t, opts.Path, archivedRecord(99))
	rep := mustVerify(t, opts)
	requireOK(t, rep)
	want := Problem{Where: "audit.log:25", What: "1 record after the latest checkpoint (seq 25 to 25) is not signed: " +
		"the next checkpoint signs it, saying so if no writer that has the log open wrote it"}
	if rep.Unsigned != 1 || rep.Signed != 24 || len(rep.Warnings) != 1 || rep.Warnings[0] != want {
		t.Errorf("Verify: got %d unsigned, %d signed, warnings %v; want 1, 24 and %v", rep.Unsigned, rep.Signed, rep.Warnings, want)
	}

	l := mustOpen(t, opts)
	mustAppend(t, l, eventStartup, nil)
	mustClose(t, l)
	recs := recordsOf(t, opts.Path)
	ck := recs[seq] // the record after the appended one
	n, _ := ck.Int64(fieldUnattested)
	from, _ := ck.Int64(fieldUnattestedFrom)
	if ck.Event != eventCheckpoint || n != 1 || from != int64(seq) {
		t.Fatalf("record %d: got %s with unattested %d from %d, want a checkpoint of 1 unattested record from %d", ck.Seq, ck.Event, n, from, seq)
	}
	rep = mustVerify(t, opts)
	requireOK(t, rep)
	want = Problem{Where: "audit.log:26", What: "checkpoint signs 1 record from seq 25 on that its writer did not write, " +
		"with no other writer open: a writer died before signing them, or they were written outside gwwatchd"}
	if rep.Unsigned != 0 || len(rep.Warnings) != 1 || rep.Warnings[0] != want {
		t.Errorf("Verify after the next run: got %d unsigned, warnings %v; want 0 and %v", rep.Unsigned, rep.Warnings, want)
	}
}

// die closes a Log's files without a checkpoint, as a writer killed with
// SIGKILL would.
func die(t *testing.T, l *Log) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if err := l.closeFiles(); err != nil {
		t.Fatal(err)
	}
}

// unattested returns the unattested counts of the log's checkpoint
// records that have one.
func unattested(t *testing.T, path string) map[uint64]int64 {
	t.Helper()
	out := map[uint64]int64{}
	for _, r := range recordsOf(t, path) {
		if n, ok := r.Int64(fieldUnattested); r.Event == eventCheckpoint && ok {
			out[r.Seq] = n
		}
	}
	return out
}

// TestConcurrentWriterNotUnattested: a writer that opens the log while
// another has records after the last checkpoint signs them as the other's,
// not as unattested, since the other is alive.
func TestConcurrentWriterNotUnattested(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	a := mustOpen(t, opts)
	for i := range 3 {
		mustAppend(t, a, eventArchived, archivedRecord(i))
	}
	b := mustOpen(t, opts)
	mustAppend(t, b, eventArchived, archivedRecord(10))
	mustClose(t, b) // signs a's records too
	mustAppend(t, a, eventArchived, archivedRecord(3))
	mustClose(t, a)
	if u := unattested(t, opts.Path); len(u) != 0 {
		t.Errorf("checkpoints with unattested records: got %v, want none", u)
	}
	rep := mustVerify(t, opts)
	requireOK(t, rep)
	if len(rep.Warnings) != 0 || rep.LogCheckpoints != 2 {
		t.Errorf("Verify: got warnings %v and %d checkpoints, want none and 2", rep.Warnings, rep.LogCheckpoints)
	}
}

// TestDeadWriterTailUnattested: the records of a writer that died before
// its checkpoint are signed by the next checkpoint as unattested, whether
// the next writer opens after the death or had the log open already.
func TestDeadWriterTailUnattested(t *testing.T) {
	t.Parallel()
	t.Run("opened after", func(t *testing.T) {
		opts := testOptions(t)
		a := mustOpen(t, opts)
		for i := range 3 {
			mustAppend(t, a, eventArchived, archivedRecord(i))
		}
		die(t, a)
		if rep := mustVerify(t, opts); rep.OK() || !strings.Contains(rep.Issues[0].What, "none of its 3 records is signed") {
			t.Errorf("Verify before the next Open: got %v, want no checkpoint reported", rep.Issues)
		}
		b := mustOpen(t, opts) // signs them at once
		if u := unattested(t, opts.Path); len(u) != 1 || u[4] != 3 {
			t.Errorf("after Open: got unattested %v, want 3 at the checkpoint at seq 4", u)
		}
		mustAppend(t, b, eventArchived, archivedRecord(5))
		mustClose(t, b)
		rep := mustVerify(t, opts)
		requireOK(t, rep)
		if w := warningsWith(rep, "signs 3 records from seq 1 on"); len(w) != 1 || w[0].Where != "audit.log:4" {
			t.Errorf("Verify: got warnings %v, want one for the checkpoint at audit.log:4", rep.Warnings)
		}
	})
	t.Run("open before", func(t *testing.T) {
		opts := testOptions(t)
		b := mustOpen(t, opts)
		mustAppend(t, b, eventStartup, nil)
		a := mustOpen(t, opts)
		mustAppend(t, a, eventArchived, archivedRecord(1))
		mustAppend(t, a, eventArchived, archivedRecord(2))
		die(t, a)
		mustAppend(t, b, eventShutdown, nil)
		mustClose(t, b)
		if u := unattested(t, opts.Path); len(u) != 1 || u[5] != 2 {
			t.Errorf("got unattested %v, want 2 at the checkpoint at seq 5", u)
		}
		rep := mustVerify(t, opts)
		requireOK(t, rep)
		if w := warningsWith(rep, "signs 2 records from seq 2 on"); len(w) != 1 {
			t.Errorf("Verify: got warnings %v, want one for the checkpoint of a's records", rep.Warnings)
		}
	})
}

// TestSinceDetectsRollback: a checkpoint kept elsewhere catches a log and
// its checkpoint files rolled back together to an earlier checkpoint, and
// a log rewritten from there, which nothing on the host can.
func TestSinceDetectsRollback(t *testing.T) {
	t.Parallel()
	opts := tamperLog(t)
	l := mustOpen(t, opts)
	since, err := l.CheckpointNote()
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
	if cp, err := verifyCheckpoint(since, mustPublicKey(t, opts)); err != nil || cp.Size != 23 {
		t.Fatalf("CheckpointNote: got %+v, %v, want the checkpoint of the 23 records before the last", cp, err)
	}
	vo := VerifyOptions{Path: opts.Path, StateDir: opts.StateDir, KeyFile: opts.KeyFile, Since: since}
	verify := func() *Report {
		t.Helper()
		rep, err := Verify(vo)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := verify()
	requireOK(t, rep)
	if len(rep.Unchecked) != 1 || !strings.HasPrefix(rep.Unchecked[0], "no trusted key") {
		t.Errorf("Verify with Since: got unchecked %q, want only the key", rep.Unchecked)
	}

	// Back to the checkpoint at seq 12, state files included.
	lines := readLinesOf(t, opts.Path)
	writeLines(t, opts.Path, lines[:12])
	entries := checkpointEntries(t, opts.StateDir)
	writeLines(t, filepath.Join(opts.StateDir, checkpointsFile), entries[:2])
	os.WriteFile(filepath.Join(opts.StateDir, latestFile), entryNote(t, entries[1]), 0o644)
	os.Remove(filepath.Join(opts.StateDir, stateFile))
	requireOK(t, mustVerify(t, opts))
	rep = verify()
	if rep.OK() || rep.Issues[0] != (Problem{Where: "since", What: "covers 23 records but the log has 12: it was cut back"}) {
		t.Errorf("Verify of the rolled-back log with Since: got %v, want since: covers 23 records…", rep.Issues)
	}

	// And rewritten from there, longer than before.
	l = mustOpen(t, opts)
	for i := range 15 {
		mustAppend(t, l, eventArchived, archivedRecord(100+i))
	}
	mustClose(t, l)
	requireOK(t, mustVerify(t, opts))
	rep = verify()
	if rep.OK() || rep.Issues[0].Where != "since" || !strings.Contains(rep.Issues[0].What, "is not the root") {
		t.Errorf("Verify of the rewritten log with Since: got %v, want since: … is not the root …", rep.Issues)
	}

	// A checkpoint signed by another key is no anchor.
	other := tamperLog(t)
	ol := mustOpen(t, other)
	vo.Since, err = ol.CheckpointNote()
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, ol)
	rep = verify()
	if rep.OK() || rep.Issues[0].Where != "since" || !strings.Contains(rep.Issues[0].What, "unknown key") {
		t.Errorf("Verify with another log's checkpoint: got %v, want since: … unknown key", rep.Issues)
	}
}

func mustPublicKey(t *testing.T, opts Options) string {
	t.Helper()
	k, err := PublicKey(opts.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVerifySaysWhatItDidNotCheck: without a trusted key and an outside
// checkpoint the report says so; with them it does not.
func TestVerifySaysWhatItDidNotCheck(t *testing.T) {
	t.Parallel()
	opts := tamperLog(t)
	rep := mustVerify(t, opts)
	requireOK(t, rep)
	want := []string{
		"no trusted key: the signatures were checked with the key derived from " + opts.KeyFile +
			", which anyone who can write that file can replace; give the key published when the log started",
		"no outside checkpoint: a log cut back, or rewritten, together with its checkpoints would pass; " +
			"give a signed checkpoint kept off the host",
	}
	if strings.Join(rep.Unchecked, "\n") != strings.Join(want, "\n") {
		t.Errorf("Unchecked: got %q, want %q", rep.Unchecked, want)
	}
	since, err := os.ReadFile(filepath.Join(opts.StateDir, latestFile))
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Verify(VerifyOptions{Path: opts.Path, StateDir: opts.StateDir, PublicKey: mustPublicKey(t, opts), Since: since})
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, rep)
	if len(rep.Unchecked) != 0 || len(rep.Warnings) != 0 {
		t.Errorf("with a trusted key and an outside checkpoint: got unchecked %q, warnings %v, want none", rep.Unchecked, rep.Warnings)
	}
}

// TestAppendRejectsCheckpoint: only the log writes checkpoint records.
func TestAppendRejectsCheckpoint(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	defer mustClose(t, l)
	if _, err := l.appendFields(eventCheckpoint, map[string]any{fieldSize: 0}); !errors.Is(err, ErrInvalidField) {
		t.Errorf("Append(checkpoint): got %v, want ErrInvalidField", err)
	}
}

// A writer killed while it replaced a state file leaves a temp file
// beside it; the next writer to open the log removes it, under the lock
// every writer replaces those files under.
func TestOpenRemovesStateTempsOfKilledWriters(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	mustAppend(t, l, eventStartup, map[string]any{fieldVersion: "v1"})
	mustClose(t, l)
	stale := []string{filepath.Join(opts.StateDir, ".checkpoint.tmp123"), filepath.Join(opts.StateDir, ".tree-state.tmp456")}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l = mustOpen(t, opts)
	defer mustClose(t, l)
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after open: %v", p, err)
		}
	}
}
