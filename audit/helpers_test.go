package audit

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/gwwatchd/gwwatchd/internal/testparallel"
)

// TestMain runs up to 8 tests at a time: they spend most of their time
// waiting on fsync, of records, segments and checkpoints.
func TestMain(m *testing.M) { testparallel.Main(m, 8) }

// Field names of records, for tests that write records as maps.
const (
	fieldSourcePath     = "source_path"
	fieldSourceSize     = "source_size"
	fieldSourceMtime    = "source_mtime"
	fieldSourceSHA256   = "source_sha256"
	fieldSidecarPath    = "sidecar_path"
	fieldSidecarSHA256  = "sidecar_sha256"
	fieldArchivePath    = "archive_path"
	fieldArchiveSHA256  = "archive_sha256"
	fieldArchiveID      = "archive_id"
	fieldContentKey     = "content_key"
	fieldDatasets       = "datasets"
	fieldProducts       = "products"
	fieldDurationNS     = "duration_ns"
	fieldReason         = "reason"
	fieldVersion        = "version"
	fieldPID            = "pid"
	fieldPlanned        = "planned"
	fieldSegment        = "segment"
	fieldBytesDropped   = "bytes_dropped"
	fieldSize           = "size"
	fieldRoot           = "root"
	fieldNote           = "note"
	fieldUnattested     = "unattested"
	fieldUnattestedFrom = "unattested_from"
)

// String returns the event field key if it is a string, else "".
func (r *Record) String(key string) string {
	s, _ := r.Fields[key].(string)
	return s
}

// Int64 returns the event field key if it is an integer that fits int64.
func (r *Record) Int64(key string) (int64, bool) {
	n, ok := r.Fields[key].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// testClock returns a clock that advances one millisecond per call, so
// that records and checkpoints have distinct, increasing times.
func testClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

// testOptions returns Options for a log in a fresh temporary directory.
// Checkpoints come every DefaultCheckpointEvery records and at Close, not
// by time, so that the records a test appends have the seqs it counts on;
// tests of the interval set it.
func testOptions(t testing.TB) Options {
	t.Helper()
	dir := t.TempDir()
	return Options{
		Path:               filepath.Join(dir, "log", "audit.log"),
		StateDir:           filepath.Join(dir, "state"),
		KeyFile:            filepath.Join(dir, "keys", "audit.key"),
		Host:               "test-host",
		Now:                testClock(),
		CheckpointInterval: -1,
	}
}

func mustOpen(t testing.TB, opts Options) *Log {
	t.Helper()
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func mustAppend(t testing.TB, l *Log, event string, fields map[string]any) Record {
	t.Helper()
	rec, err := l.appendFields(event, fields)
	if err != nil {
		t.Fatalf("Append(%s): %v", event, err)
	}
	return rec
}

func mustClose(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mustVerify(t testing.TB, opts Options) *Report {
	t.Helper()
	rep, err := Verify(VerifyOptions{Path: opts.Path, StateDir: opts.StateDir, KeyFile: opts.KeyFile})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

// requireOK fails the test with the report's problems unless it is clean.
func requireOK(t testing.TB, rep *Report) {
	t.Helper()
	if !rep.OK() {
		t.Fatalf("Verify: got %d problems (first at %s): %v, want none", rep.Problems, rep.FirstBad, rep.Issues)
	}
}

// encodeFields encodes a record with the event fields as the log writes
// it.
func encodeFields(h *header, fields map[string]any) ([]byte, [32]byte, error) {
	ms, err := eventMembers(h.event, fields)
	if err != nil {
		return nil, [32]byte{}, err
	}
	line, sum := encodeRecord(h, ms)
	return line, sum, nil
}

// archivedFields returns realistic fields of an "archived" record for the
// i-th file.
func archivedRecord(i int) map[string]any {
	gps := 1300000000 + 64*i
	name := fmt.Sprintf("K-K1_DARM-%d-64", gps)
	return map[string]any{
		fieldSourcePath:    "/data/raw/K1/" + name + ".gwf",
		fieldSourceSize:    int64(8_388_608 + i%1000),
		fieldSourceMtime:   time.Unix(int64(gps)-315964782, 0).UTC().Format(time.RFC3339Nano),
		fieldSourceSHA256:  fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15),
		fieldSidecarPath:   "/data/raw/K1/" + name + ".json",
		fieldSidecarSHA256: fmt.Sprintf("%064x", uint64(i)*0xbf58476d1ce4e5b9+1),
		fieldArchivePath:   fmt.Sprintf("/archive/K1/%d/%s.h5", gps/100000, name),
		fieldArchiveSHA256: fmt.Sprintf("%064x", uint64(i)*0x94d049bb133111eb+2),
		fieldArchiveID:     fmt.Sprintf("%08x-0000-4000-8000-%012x", i, gps),
		"archive_size":     int64(9_100_000 + i%777),
		fieldDatasets:      []string{"/K1:LSC-DARM_OUT_DQ"},
		fieldProducts:      []string{"/K1:LSC-DARM_OUT_DQ/asd", "/K1:LSC-DARM_OUT_DQ/spectrogram"},
		"params": map[string]any{
			"asd":         map[string]any{"enabled": true, "fftlength": 4.0, "overlap": 2.0, "method": "median", "window": "hann"},
			"compression": "gzip",
		},
		fieldDurationNS: int64(812_345_678 + i),
	}
}

// appendHalfRecord writes the first half of what would be the next record
// of the log at path, without a newline: what a process killed in the
// middle of an append leaves behind.
func appendHalfRecord(t testing.TB, path string) int {
	t.Helper()
	var last Record
	if err := Scan(path, func(rec Record, _ []byte) error { last = rec; return nil }); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	h := header{seq: last.Seq + 1, time: "2024-03-01T13:00:00.000000000Z", event: eventArchived, host: "killed"}
	fields := archivedRecord(99)
	line, _, err := encodeFields(&h, fields)
	if err != nil {
		t.Fatal(err)
	}
	half := line[:len(line)/2]
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(half); err != nil {
		t.Fatal(err)
	}
	return len(half)
}

// readLinesOf returns the lines of a file, each with its newline.
func readLinesOf(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))
}

func writeLines(t testing.TB, name string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(name, bytes.Join(lines, nil), 0o640); err != nil {
		t.Fatal(err)
	}
}

// bulkWriter writes a valid log quickly, without the lock or a sync per
// record, for benchmarks that need a large log.
type bulkWriter struct {
	f    *os.File
	w    *bufio.Writer
	h    header
	n    int64
	size int64
	tree frontier
}

func newBulkWriter(path string) (*bulkWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &bulkWriter{f: f, w: bufio.NewWriterSize(f, 1<<20), h: header{host: "bench-host"}}, nil
}

func (b *bulkWriter) add(event string, t time.Time, fields map[string]any) error {
	b.h.seq++
	b.h.event = event
	b.h.time = t.UTC().Format(TimeLayout)
	line, sum, err := encodeFields(&b.h, fields)
	if err != nil {
		return err
	}
	b.h.prev = sum
	b.tree.add(leafHash(sum))
	b.n++
	b.size += int64(len(line))
	_, err = b.w.Write(line)
	return err
}

// checkpoint appends a checkpoint record of every record so far, signed
// by s, as a Log does.
func (b *bulkWriter) checkpoint(s note.Signer, t time.Time) error {
	cp := treeHead{Name: s.Name(), Size: b.tree.n, Root: b.tree.root(), Time: t.UTC()}
	msg, err := note.Sign(&note.Note{Text: cp.text()}, s)
	if err != nil {
		return err
	}
	return b.add(eventCheckpoint, t, map[string]any{
		fieldSize: cp.Size,
		fieldRoot: base64.StdEncoding.EncodeToString(cp.Root[:]),
		fieldNote: string(msg),
	})
}

func (b *bulkWriter) close() error {
	if err := b.w.Flush(); err != nil {
		b.f.Close()
		return err
	}
	if err := b.f.Sync(); err != nil {
		b.f.Close()
		return err
	}
	return b.f.Close()
}
