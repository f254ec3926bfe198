package audit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/mod/sumdb/note"
)

func TestAppendAndScan(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	first := mustAppend(t, l, eventStartup, map[string]any{fieldVersion: "v1.2.3", fieldPID: 4242})
	if first.Seq != 1 || first.Prev != zeroHash || first.Host != "test-host" || first.Event != eventStartup {
		t.Errorf("first record: got seq %d prev %s host %s event %s, want 1, zeros, test-host, startup", first.Seq, first.Prev, first.Host, first.Event)
	}
	second := mustAppend(t, l, eventArchived, archivedRecord(1))
	if second.Seq != 2 || second.Prev != first.Hash {
		t.Errorf("second record: got seq %d prev %s, want 2 and %s", second.Seq, second.Prev, first.Hash)
	}
	if got, ok := second.Int64(fieldSourceSize); !ok || got != 8_388_609 {
		t.Errorf("source_size: got %d, %v, want 8388609", got, ok)
	}
	if n, ok := second.Fields[fieldDurationNS].(json.Number); !ok || n != "812345679" {
		t.Errorf("duration_ns: got %#v, want json.Number 812345679", second.Fields[fieldDurationNS])
	}
	mustClose(t, l)

	var got []Record
	if err := Scan(opts.Path, func(rec Record, line []byte) error {
		if strings.Contains(string(line), "\n") {
			t.Errorf("Scan line contains a newline")
		}
		got = append(got, rec)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Hash != first.Hash || got[1].Hash != second.Hash || got[2].Event != eventCheckpoint {
		t.Fatalf("Scan: got %d records, want the 2 appended and the checkpoint Close wrote", len(got))
	}
	if got[1].String(fieldArchivePath) != archivedRecord(1)[fieldArchivePath] {
		t.Errorf("archive_path: got %q", got[1].String(fieldArchivePath))
	}
	if !got[0].Time.Before(got[1].Time) || got[0].Time.Location() != time.UTC {
		t.Errorf("times: got %v, %v, want increasing UTC", got[0].Time, got[1].Time)
	}
	requireOK(t, mustVerify(t, opts))

	stop := errors.New("stop")
	n := 0
	if err := Scan(opts.Path, func(Record, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Scan stopped by fn: got %v after %d records, want stop after 1", err, n)
	}
}

func TestAppendRejects(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	defer mustClose(t, l)
	for _, tt := range []struct {
		event  string
		fields map[string]any
	}{
		{"", nil},
		{eventArchived, map[string]any{"seq": 5}},
		{eventArchived, map[string]any{"prev": "x"}},
		{eventArchived, map[string]any{"Größe": 1}},
		{eventArchived, map[string]any{"x": []any{1.0, func() {}}}},
	} {
		if _, err := l.appendFields(tt.event, tt.fields); !errors.Is(err, ErrInvalidField) {
			t.Errorf("Append(%q, %v): got %v, want ErrInvalidField", tt.event, tt.fields, err)
		}
	}
	// Nothing was written for the rejected records.
	rec := mustAppend(t, l, eventStartup, nil)
	if rec.Seq != 1 {
		t.Errorf("after rejected appends: got seq %d, want 1", rec.Seq)
	}
}

// stray is a record type of another package's making.
type stray struct {
	Key string `json:"key"`
}

func (stray) EventName() string { return eventArchived }

func TestAppendTakesTheRecordTypesOnly(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, testOptions(t))
	defer mustClose(t, l)
	for _, e := range []Event{stray{Key: "x"}, &Archived{}} {
		if _, err := l.Append(e); !errors.Is(err, ErrInvalidField) {
			t.Errorf("Append(%T): got %v, want ErrInvalidField", e, err)
		}
	}
	rec, err := l.Append(Rejected{SourcePath: "/in/x.npy", Reason: "bad"})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := rec.Decode(); err != nil || e != (Rejected{SourcePath: "/in/x.npy", Reason: "bad"}) {
		t.Errorf("Decode: got %#v, %v", e, err)
	}
	rec = mustAppend(t, l, "from_the_future", map[string]any{"x": 1})
	if _, err := rec.Decode(); !errors.Is(err, errUnknownEvent) {
		t.Errorf("Decode of an unknown event: got %v, want errUnknownEvent", err)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	mustClose(t, l)
	if err := l.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if _, err := l.appendFields(eventStartup, nil); !errors.Is(err, errClosed) {
		t.Errorf("Append after Close: got %v, want errClosed", err)
	}
	if err := l.MaybeCheckpoint(); !errors.Is(err, errClosed) {
		t.Errorf("MaybeCheckpoint after Close: got %v, want errClosed", err)
	}
}

func TestTornTailRepair(t *testing.T) {
	t.Parallel()
	// Each tear appends what a writer that died mid-append could leave and
	// returns how many bytes that is.
	tests := []struct {
		name string
		tear func(t *testing.T, path string) int
	}{
		{"half a record", func(t *testing.T, path string) int {
			return appendHalfRecord(t, path)
		}},
		{"garbage without newline", func(t *testing.T, path string) int {
			appendBytes(t, path, "\x00\x00\x00")
			return 3
		}},
		{"half a record and a newline", func(t *testing.T, path string) int {
			n := appendHalfRecord(t, path)
			appendBytes(t, path, "\n")
			return n + 1
		}},
		{"whole line that fails its hash", func(t *testing.T, path string) int {
			bad := badNextLine(t, path)
			appendBytes(t, path, bad)
			return len(bad)
		}},
		{"line that fails its hash, then half a record", func(t *testing.T, path string) int {
			bad := badNextLine(t, path)
			appendBytes(t, path, bad)
			return len(bad) + appendHalfRecord(t, path)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(t)
			l := mustOpen(t, opts)
			for i := range 3 {
				mustAppend(t, l, eventArchived, archivedRecord(i))
			}
			mustAppend(t, l, eventStartup, map[string]any{fieldPID: 1})
			mustClose(t, l)
			before := len(recordsOf(t, opts.Path))
			dropped := tt.tear(t, opts.Path)
			if rep := mustVerify(t, opts); rep.OK() {
				t.Fatalf("Verify of the torn log: got OK, want a problem")
			}

			l = mustOpen(t, opts)
			mustAppend(t, l, eventShutdown, nil)
			mustClose(t, l)
			requireOK(t, mustVerify(t, opts))
			recs := recordsOf(t, opts.Path)
			if len(recs) != before+3 {
				t.Fatalf("after repair: got %d records, want %d kept, repaired, shutdown and the checkpoint of Close", len(recs), before)
			}
			repaired := recs[before]
			if repaired.Event != eventRepaired || repaired.Seq != uint64(before)+1 {
				t.Fatalf("record %d: got %s seq %d, want repaired seq %d", before, repaired.Event, repaired.Seq, before+1)
			}
			if n, _ := repaired.Int64(fieldBytesDropped); n != int64(dropped) {
				t.Errorf("bytes_dropped: got %d, want %d", n, dropped)
			}
			if repaired.String(fieldSegment) != "audit.log" {
				t.Errorf("segment: got %q, want audit.log", repaired.String(fieldSegment))
			}
		})
	}
}

// badNextLine returns a whole next record line whose hash does not match.
func badNextLine(t *testing.T, path string) string {
	recs := recordsOf(t, path)
	last := recs[len(recs)-1]
	h := header{seq: last.Seq + 1, time: "2024-03-01T13:00:00.000000000Z", event: eventArchived, host: "h"}
	hex32(t, last.Hash, &h.prev)
	fields := archivedRecord(7)
	line, _, err := encodeFields(&h, fields)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(string(line), "K1", "K2", 1)
}

func hex32(t testing.TB, s string, dst *[32]byte) {
	t.Helper()
	if !hexTo32(s, dst) {
		t.Fatalf("%q is not a hash", s)
	}
}

func appendBytes(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func recordsOf(t testing.TB, path string) []Record {
	t.Helper()
	var recs []Record
	if err := Scan(path, func(rec Record, _ []byte) error {
		recs = append(recs, rec)
		return nil
	}); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return recs
}

// TestTornTailWhileOpen: another writer dies mid-append while this one has
// the log open; this one repairs the tail before its next append.
func TestTornTailWhileOpen(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	mustAppend(t, l, eventStartup, nil)
	dropped := appendHalfRecord(t, opts.Path)
	rec := mustAppend(t, l, eventShutdown, nil)
	mustClose(t, l)
	recs := recordsOf(t, opts.Path)
	if len(recs) != 4 || recs[1].Event != eventRepaired || rec.Seq != 3 || recs[3].Event != eventCheckpoint {
		t.Fatalf("got %d records, second %q, shutdown seq %d; want startup, repaired, shutdown, checkpoint", len(recs), recs[1].Event, rec.Seq)
	}
	if n, _ := recs[1].Int64(fieldBytesDropped); n != int64(dropped) {
		t.Errorf("bytes_dropped: got %d, want %d", n, dropped)
	}
	requireOK(t, mustVerify(t, opts))
}

func TestOpenRefusesDamagedMiddle(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.MaxSize = 1 // every record in its own segment
	l := mustOpen(t, opts)
	for range 3 {
		mustAppend(t, l, eventStartup, nil)
	}
	mustClose(t, l)
	os.Remove(filepath.Join(opts.StateDir, stateFile))
	writeLines(t, opts.Path+".2", [][]byte{[]byte("not json\n")})
	if _, err := Open(opts); err == nil || !strings.Contains(err.Error(), "audit.log.2") {
		t.Errorf("Open with a damaged rotated segment: got %v, want an error naming audit.log.2", err)
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.MaxSize = 2000
	l := mustOpen(t, opts)
	const n = 25
	for i := range n {
		mustAppend(t, l, eventArchived, archivedRecord(i))
	}
	mustClose(t, l)
	segs, err := Segments(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 5 {
		t.Fatalf("Segments: got %d, want several with MaxSize %d", len(segs), opts.MaxSize)
	}
	for i, s := range segs[:len(segs)-1] {
		if want := opts.Path + "." + strconv.Itoa(i+1); s != want {
			t.Errorf("segment %d: got %s, want %s", i, s, want)
		}
		fi, err := os.Stat(s)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() <= opts.MaxSize {
			t.Errorf("%s: got %d bytes, want a rotation only past %d", s, fi.Size(), opts.MaxSize)
		}
	}
	if segs[len(segs)-1] != opts.Path {
		t.Errorf("last segment: got %s, want the active %s", segs[len(segs)-1], opts.Path)
	}
	recs := recordsOf(t, opts.Path)
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d: got seq %d, want %d", i, r.Seq, i+1)
		}
	}
	// The appended records and the checkpoint of Close.
	if len(recs) != n+1 || recs[n].Event != eventCheckpoint {
		t.Errorf("Scan across segments: got %d records, want %d", len(recs), n+1)
	}
	rep := mustVerify(t, opts)
	requireOK(t, rep)
	if rep.Records != n+1 || len(rep.Segments) != len(segs) {
		t.Errorf("Verify: got %d records in %d segments, want %d in %d", rep.Records, len(rep.Segments), n+1, len(segs))
	}

	// Reopening, from the saved state and from scratch, continues the chain
	// and the numbering.
	for _, dropState := range []bool{false, true} {
		if dropState {
			os.Remove(filepath.Join(opts.StateDir, stateFile))
		}
		l = mustOpen(t, opts)
		mustAppend(t, l, eventArchived, archivedRecord(100))
		mustAppend(t, l, eventArchived, archivedRecord(101))
		mustClose(t, l)
	}
	requireOK(t, mustVerify(t, opts))
	if got := len(recordsOf(t, opts.Path)); got != n+7 {
		t.Errorf("after reopening: got %d records, want %d (two more and a checkpoint each time)", got, n+7)
	}
}

func TestSavedStateIsOnlyACache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		state string
	}{
		{"garbage", "not json"},
		{"wrong hash", `{"segment":1,"offset":10,"size":1,"seq":1,"hash":"00","frontier":["00"]}`},
		{"wrong offset", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(t)
			l := mustOpen(t, opts)
			for i := range 5 {
				mustAppend(t, l, eventArchived, archivedRecord(i))
			}
			mustClose(t, l)
			name := filepath.Join(opts.StateDir, stateFile)
			state := tt.state
			if state == "" {
				b, _ := os.ReadFile(name)
				var st treeState
				json.Unmarshal(b, &st)
				st.Offset -= 10
				nb, _ := json.Marshal(st)
				state = string(nb)
			}
			os.WriteFile(name, []byte(state), 0o640)
			l = mustOpen(t, opts)
			// Five records and the checkpoint of Close came before.
			if rec := mustAppend(t, l, eventShutdown, nil); rec.Seq != 7 {
				t.Errorf("after a bad state: got seq %d, want 7", rec.Seq)
			}
			mustClose(t, l)
			requireOK(t, mustVerify(t, opts))
		})
	}
}

func TestCheckpoints(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	core, logs := observer.New(zapcore.InfoLevel)
	opts.Logger = zap.New(core)
	opts.CheckpointEvery = 3
	opts.CheckpointInterval = -1
	l := mustOpen(t, opts)
	for i := range 7 {
		mustAppend(t, l, eventArchived, archivedRecord(i))
	}
	mustClose(t, l)

	var sizes []int64
	for _, line := range readLinesOf(t, filepath.Join(opts.StateDir, checkpointsFile)) {
		if len(line) == 0 {
			continue
		}
		var e checkpointEntry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, e.Size)
	}
	// Checkpoint records count as records: 3 archived, a checkpoint of
	// 3; 3 more, a checkpoint of 7; the last one, a checkpoint of 9 at
	// Close.
	if want := []int64{3, 7, 9}; !equalInts(sizes, want) {
		t.Errorf("checkpoint sizes: got %v, want %v (every 3, and at Close)", sizes, want)
	}
	var inLog []int64
	for _, r := range recordsOf(t, opts.Path) {
		if r.Event == eventCheckpoint {
			n, _ := r.Int64(fieldSize)
			if uint64(n) != r.Seq-1 {
				t.Errorf("checkpoint record %d: got size %d, want the %d records before it", r.Seq, n, r.Seq-1)
			}
			inLog = append(inLog, n)
		}
	}
	if want := []int64{3, 7, 9}; !equalInts(inLog, want) {
		t.Errorf("checkpoint records: got sizes %v, want %v", inLog, want)
	}
	entries := logs.FilterMessage("audit checkpoint").All()
	if len(entries) != 3 {
		t.Fatalf("logged checkpoints: got %d, want 3", len(entries))
	}
	f := entries[2].ContextMap()
	latest, _ := os.ReadFile(filepath.Join(opts.StateDir, latestFile))
	if f["size"] != uint64(9) || f["note"] != string(latest) || f["root"] == "" {
		t.Errorf("logged checkpoint: got %v, want size 9 and the note in %s", f, latestFile)
	}
	vkey, err := PublicKey(opts.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := verifyCheckpoint(latest, vkey)
	if err != nil {
		t.Fatalf("verifyCheckpoint: %v", err)
	}
	if cp.Size != 9 || cp.Name != "gwwatchd-test-host" {
		t.Errorf("checkpoint: got size %d name %s, want 9 gwwatchd-test-host", cp.Size, cp.Name)
	}
	text, _ := noteText(latest)
	if !strings.HasPrefix(text, "gwwatchd-audit/gwwatchd-test-host\n9\n") || strings.Count(text, "\n") != 4 {
		t.Errorf("checkpoint text: got %q", text)
	}
	rep := mustVerify(t, opts)
	requireOK(t, rep)
	if rep.Checkpoints != 3 {
		t.Errorf("Verify: got %d checkpoints, want 3", rep.Checkpoints)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCheckpointInterval(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	opts.Now = func() time.Time { return now }
	opts.CheckpointEvery = -1
	opts.CheckpointInterval = time.Hour
	l := mustOpen(t, opts)
	defer mustClose(t, l)
	count := func() int {
		b, _ := os.ReadFile(filepath.Join(opts.StateDir, checkpointsFile))
		return strings.Count(string(b), "\n")
	}
	mustAppend(t, l, eventStartup, nil) // no checkpoint yet: the first is due at once
	if got := count(); got != 1 {
		t.Fatalf("after the first append: got %d checkpoints, want 1", got)
	}
	now = now.Add(30 * time.Minute)
	mustAppend(t, l, eventArchived, archivedRecord(1))
	if err := l.MaybeCheckpoint(); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 1 {
		t.Errorf("after 30 minutes: got %d checkpoints, want 1", got)
	}
	now = now.Add(31 * time.Minute)
	if err := l.MaybeCheckpoint(); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 2 {
		t.Errorf("after 61 minutes: got %d checkpoints, want 2", got)
	}
	now = now.Add(2 * time.Hour)
	if err := l.MaybeCheckpoint(); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 2 {
		t.Errorf("with no new record: got %d checkpoints, want still 2", got)
	}
}

// TestCheckpointTimeNeverGoesBack: a writer whose clock is behind the last
// checkpoint's time stamps its checkpoint with that time instead.
func TestCheckpointTimeNeverGoesBack(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	mustAppend(t, l, eventStartup, nil)
	mustClose(t, l)
	opts.Now = func() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }
	l = mustOpen(t, opts)
	mustAppend(t, l, eventStartup, nil)
	mustClose(t, l)
	requireOK(t, mustVerify(t, opts))
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	mustClose(t, l)
	fi, err := os.Stat(opts.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: got %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(filepath.Dir(opts.KeyFile))
	if di.Mode().Perm()&0o077 != 0 {
		t.Errorf("key directory mode: got %v, want 0700", di.Mode().Perm())
	}
	b, _ := os.ReadFile(opts.KeyFile)
	if !strings.HasPrefix(string(b), "PRIVATE+KEY+gwwatchd-test-host+") {
		t.Errorf("key file: got %q, want a note signer key named gwwatchd-test-host", b)
	}
	vkey, err := PublicKey(opts.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.Name() != "gwwatchd-test-host" {
		t.Fatalf("NewVerifier(%q): got %v, %v", vkey, v, err)
	}
	// A second Open keeps the key.
	l = mustOpen(t, opts)
	mustClose(t, l)
	if again, _ := PublicKey(opts.KeyFile); again != vkey {
		t.Errorf("after reopening: got key %s, want %s", again, vkey)
	}
	if _, err := PublicKey(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Errorf("PublicKey of a missing file: got no error")
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, eventStartup, nil)
	mustClose(t, l)
	for _, name := range []string{"audit.log", "audit.log.lock", "audit.key", "checkpoints", "checkpoint", stateFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("default layout: %v", err)
		}
	}
	rep, err := Verify(VerifyOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, rep)
}
