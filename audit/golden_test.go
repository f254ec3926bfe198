package audit

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The log under testdata/golden was written by gwwatchd itself, as of
// commit 8d74803, by testdata/golden/make.sh: one-shot ingests and daemon
// runs in /tmp/g that record every event gwwatchd writes, two daemons
// killed in the middle of a removal, a torn tail repaired, and segments
// rotated at 16 KiB. testdata/golden/since is the checkpoint note that
// "gwwatchd audit checkpoint" printed at the end. Logs like it must still
// replay and verify, and reading their records back must not change a
// byte.

const goldenRecords = 72

// goldenEvents are the records of the golden log per event.
var goldenEvents = map[string]uint64{
	"archived": 8, "audit_resumed": 1, "checkpoint": 9, "config_reloaded": 1, "duplicate": 2,
	"quarantined": 5, "rejected": 6, "removal_abandoned": 3, "removal_planned": 10, "repaired": 1,
	"shutdown": 6, "source_deleted": 2, "source_moved": 10, "startup": 8,
}

func copyGolden(t *testing.T) (opts Options, pub string, since []byte) {
	t.Helper()
	opts, pub = copyTestLog(t, "golden")
	opts.Host, opts.MaxSize = "vm", 16384
	tm := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	opts.Now = func() time.Time { tm = tm.Add(time.Second); return tm }
	since, err := os.ReadFile(filepath.Join("testdata", "golden", "since"))
	if err != nil {
		t.Fatal(err)
	}
	return opts, pub, since
}

func TestGoldenLogVerifies(t *testing.T) {
	t.Parallel()
	opts, pub, since := copyGolden(t)
	for _, vo := range []VerifyOptions{
		{Path: opts.Path, StateDir: opts.StateDir, KeyFile: opts.KeyFile},
		{Path: opts.Path, StateDir: opts.StateDir, PublicKey: pub, Since: since},
	} {
		rep, err := Verify(vo)
		if err != nil {
			t.Fatal(err)
		}
		requireOK(t, rep)
		if rep.Records != goldenRecords || rep.LastSeq != goldenRecords || len(rep.Segments) != 3 ||
			rep.LogCheckpoints != 9 || rep.Checkpoints != 9 || rep.Signed != goldenRecords {
			t.Errorf("Verify: got %d records, last seq %d, %d segments, %d checkpoints in the log and %d in the state, %d signed; want %d, %d, 3, 9, 9, %d",
				rep.Records, rep.LastSeq, len(rep.Segments), rep.LogCheckpoints, rep.Checkpoints, rep.Signed, goldenRecords, goldenRecords, goldenRecords)
		}
		if !maps.Equal(rep.Events, goldenEvents) {
			t.Errorf("Verify: got events %v, want %v", rep.Events, goldenEvents)
		}
		// The three checkpoints that signed what a writer had not written:
		// a daemon's own records from before it reopened its log, and the
		// records of the two daemons killed.
		if len(rep.Warnings) != 3 {
			t.Errorf("Verify: got warnings %v, want 3 of unattested records", rep.Warnings)
		}
		if want := 2; vo.Since == nil && len(rep.Unchecked) != want || vo.Since != nil && len(rep.Unchecked) != 0 {
			t.Errorf("Verify: got unchecked %q", rep.Unchecked)
		}
	}
}

func TestGoldenLogReplays(t *testing.T) {
	t.Parallel()
	opts, _, _ := copyGolden(t)
	ix, err := Replay(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Records != goldenRecords || ix.LastSeq != goldenRecords || ix.Len() != 8 || !maps.Equal(ix.Events, goldenEvents) {
		t.Errorf("Replay: got %d records, last seq %d, %d archives, events %v; want %d, %d, 8, %v",
			ix.Records, ix.LastSeq, ix.Len(), ix.Events, goldenRecords, goldenRecords, goldenEvents)
	}
	const g = "/tmp/g"
	const arc5 = g + "/archive/K/13000/K-K1_LSC_DARM_OUT_DQ-1300005000-8.h5"
	// The daemon killed at the second move of a plan left its sidecar
	// unmoved and the plan pending.
	want := []Removal{{Seq: 69, RemovalPlanned: RemovalPlanned{
		Action: "move", ArchivePath: arc5, ToDir: g + "/done",
		ContentKey:   "c6d507b46916759a1e07321261a527148e82e84a8fc44a186900c5b18719b0b7",
		SourceSHA256: "0311a152015ec6f3c0e4bd4058ab63dc74a2d5259748a4ccfa5881de9513da74",
		Files: []RemovalFile{
			{Path: g + "/in-move/K-K1_LSC_DARM_OUT_DQ-1300005000-8.npy", To: g + "/done/K-K1_LSC_DARM_OUT_DQ-1300005000-8.npy",
				SHA256: "0311a152015ec6f3c0e4bd4058ab63dc74a2d5259748a4ccfa5881de9513da74", Done: true},
			{Path: g + "/in-move/K-K1_LSC_DARM_OUT_DQ-1300005000-8.json", To: g + "/done/K-K1_LSC_DARM_OUT_DQ-1300005000-8.json",
				SHA256: "48a0d04145b027fe851bb96f98b3d0a121a51cdd132bbd017e7438ec4f613813"},
		},
	}}}
	if got := ix.Pending(); !reflect.DeepEqual(got, want) {
		t.Errorf("Pending: got %+v, want %+v", got, want)
	}
	a, ok := ix.ByArchivePath(arc5)
	if !ok || a.Seq != 68 || a.SourcePath != g+"/in-move/K-K1_LSC_DARM_OUT_DQ-1300005000-8.npy" || a.SourceSize != 16512 {
		t.Errorf("ByArchivePath(%s): got %+v, %v; want seq 68", arc5, a, ok)
	}
	if b, ok := ix.byContentKey(want[0].ContentKey); !ok || b != a {
		t.Errorf("byContentKey: got %+v, %v; want %+v", b, ok, a)
	}
	// Archived by another log first, then adopted by this one.
	const adopted = g + "/archive/K/13000/K-K1_LSC_DARM_OUT_DQ-1300000200-8.h5"
	if a, ok := ix.ByArchivePath(adopted); !ok || a.Seq != 16 {
		t.Errorf("ByArchivePath(%s): got %+v, %v; want seq 16", adopted, a, ok)
	}
	if got := ix.BySourcePath(g + "/in-move/K-K1_LSC_DARM_OUT_DQ-1300004000-8.npy"); len(got) != 1 || got[0].Seq != 38 {
		t.Errorf("BySourcePath: got %+v, want the archive of seq 38", got)
	}
}

func TestGoldenLogOpensAndGoesOn(t *testing.T) {
	t.Parallel()
	testGoesOn(t, copyGolden, goldenRecords)
}

// TestGoldenLogPython: the chain of the golden log checks with Python.
func TestGoldenLogPython(t *testing.T) {
	t.Parallel()
	py := python(t)
	opts, _, _ := copyGolden(t)
	segs, err := Segments(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runVerifyChain(t, py, segs)
	if want := "OK 72 records"; err != nil || out != want {
		t.Errorf("verify_chain.py: got %q, %v, want %s", out, err, want)
	}
}

// TestGoldenLogScans: every record reads back through Scan with the line
// as written.
func TestGoldenLogScans(t *testing.T) {
	t.Parallel()
	opts, _, _ := copyGolden(t)
	var lines [][]byte
	for _, seg := range []string{opts.Path + ".1", opts.Path + ".2", opts.Path} {
		b, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))...)
	}
	n := 0
	err := Scan(opts.Path, func(rec Record, line []byte) error {
		if !bytes.Equal(line, lines[n]) {
			t.Errorf("record %d: Scan gave line %s, want %s", rec.Seq, line, lines[n])
		}
		if rec.Seq != uint64(n+1) || rec.Host != "vm" || !strings.HasPrefix(rec.Time.Format(TimeLayout), "2026-12-01T09:5") {
			t.Errorf("record %d: got seq %d, host %q, time %s", n+1, rec.Seq, rec.Host, rec.Time)
		}
		n++
		return nil
	})
	if err != nil || n != goldenRecords {
		t.Errorf("Scan: got %d records, %v; want %d", n, err, goldenRecords)
	}
}

// TestGoldenLogRecordsReencode: every record of the golden log decodes to
// its record type, and that encodes back to the very line gwwatchd wrote.
func TestGoldenLogRecordsReencode(t *testing.T) {
	t.Parallel()
	opts, _, _ := copyGolden(t)
	seen := map[string]bool{}
	err := Scan(opts.Path, func(rec Record, line []byte) error {
		e, err := rec.Decode()
		if err != nil {
			t.Errorf("record %d: %v", rec.Seq, err)
			return nil
		}
		if e.EventName() != rec.Event {
			t.Errorf("record %d: decoded as %T, a %s record, want %s", rec.Seq, e, e.EventName(), rec.Event)
		}
		seen[rec.Event] = true
		h := header{seq: rec.Seq, time: rec.Time.UTC().Format(TimeLayout), event: rec.Event, host: rec.Host}
		hex32(t, rec.Prev, &h.prev)
		ms, err := eventMembers(e.EventName(), e)
		if err != nil {
			t.Errorf("record %d: %v", rec.Seq, err)
			return nil
		}
		if got, _ := encodeRecord(&h, ms); !bytes.Equal(got[:len(got)-1], line) {
			t.Errorf("record %d re-encodes as\n%s\nwant\n%s", rec.Seq, got, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(goldenEvents) {
		t.Errorf("decoded events %v, want all of %v", seen, goldenEvents)
	}
}

func TestGoldenLogLineages(t *testing.T) {
	t.Parallel()
	opts, _, _ := copyGolden(t)
	ix, err := Replay(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	const g = "/tmp/g"
	moved, _ := ix.ByArchivePath(g + "/archive/K/13000/K-K1_LSC_DARM_OUT_DQ-1300005000-8.h5")
	dup := ix.BySourcePath(g + "/src/K-K1_LSC_DARM_OUT_DQ-1300000000-8.npy")
	ls, err := Lineages(opts.Path, append(dup, moved))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		seq   uint64
		later []uint64
	}{{3, []uint64{8}}, {68, []uint64{69, 70}}} {
		l := ls[i]
		var later []uint64
		for _, r := range l.Later {
			later = append(later, r.Seq)
		}
		if l.Record.Seq != want.seq || l.Archived.ArchivePath == "" || !slices.Equal(later, want.later) {
			t.Errorf("lineage %d: got record %d (%s), later %v; want %d, later %v", i, l.Record.Seq, l.Archived.ArchivePath, later, want.seq, want.later)
		}
	}
}
