package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// queued reports how many records wait for the next group.
func (l *Log) queued() int {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return len(l.queue)
}

// waitQueued waits until n records wait for the next group.
func waitQueued(t *testing.T, l *Log, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.queued() < n {
		if time.Now().After(deadline) {
			t.Errorf("%d records queued after 10 s, want %d", l.queued(), n)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// lastSeqIn returns the seq of the last record in f.
func lastSeqIn(f *os.File) (uint64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	n := min(fi.Size(), 64<<10)
	b := make([]byte, n)
	if _, err := f.ReadAt(b, fi.Size()-n); err != nil && err != io.EOF {
		return 0, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	rec, err := decodeRecord(b)
	if err != nil {
		return 0, err
	}
	return rec.Seq, nil
}

// TestGroupCommitConcurrent: many goroutines append to one Log at once,
// with rotation and checkpoints meanwhile. The log verifies and holds
// every record once; each goroutine's records are in the order it
// appended them; the records reach the durable callback in log order,
// each before its Append returns; and no Append returns before an fsync
// that covers its record has returned. Segments and checkpoints are
// those of one append at a time: a segment ends with the record that
// took it past MaxSize, and every CheckpointEvery records are followed
// by a checkpoint.
func TestGroupCommitConcurrent(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.MaxSize = 20000
	opts.CheckpointEvery = 7
	writers, perWriter := 16, 25
	if testing.Short() {
		perWriter = 8 // still several segments and checkpoints
	}
	l := mustOpen(t, opts)

	// durableSeq is the seq of the last record a returned fsync covered.
	var durableSeq atomic.Uint64
	var syncs atomic.Int64
	l.syncHook = func(f *os.File) error {
		seq, err := lastSeqIn(f)
		if err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		syncs.Add(1)
		// An Append woken before its fsync returned would see the
		// record not yet covered meanwhile.
		time.Sleep(200 * time.Microsecond)
		if seq > durableSeq.Load() {
			durableSeq.Store(seq)
		}
		return nil
	}

	var cbMu sync.Mutex
	var cbSeqs []uint64
	var wg sync.WaitGroup
	names := make([]string, writers)
	for w := range writers {
		names[w] = fmt.Sprintf("g%d", w)
		wg.Go(func() {
			var last uint64
			for i := range perWriter {
				f := archivedRecord(i)
				f["writer"], f["n"] = names[w], strconv.Itoa(i)
				var seen *Record
				rec, err := l.appendMembers(eventArchived, f, func(r Record) {
					cbMu.Lock()
					cbSeqs = append(cbSeqs, r.Seq)
					cbMu.Unlock()
					seen = &r
				})
				if err != nil {
					t.Error(err)
					return
				}
				if d := durableSeq.Load(); rec.Seq > d {
					t.Errorf("Append of seq %d returned while the fsyncs returned covered seq %d only", rec.Seq, d)
				}
				if seen == nil || seen.Hash != rec.Hash {
					t.Errorf("seq %d: the durable callback did not get the record before Append returned", rec.Seq)
				}
				if rec.Seq <= last {
					t.Errorf("%s: record %d got seq %d after seq %d", names[w], i, rec.Seq, last)
				}
				last = rec.Seq
			}
		})
	}
	wg.Wait()
	mustClose(t, l)
	checkAllOnce(t, opts, names, perWriter)

	for i := 1; i < len(cbSeqs); i++ {
		if cbSeqs[i] <= cbSeqs[i-1] {
			t.Fatalf("durable callbacks out of log order: seq %d after %d", cbSeqs[i], cbSeqs[i-1])
		}
	}
	if len(cbSeqs) != writers*perWriter {
		t.Errorf("got %d durable callbacks, want %d", len(cbSeqs), writers*perWriter)
	}
	t.Logf("%d records, %d fsyncs of the log", writers*perWriter, syncs.Load())

	recs := recordsOf(t, opts.Path)
	since := 0                             // records after the last checkpoint
	for _, r := range recs[:len(recs)-1] { // the last is Close's checkpoint
		if r.Event == eventCheckpoint {
			if since != opts.CheckpointEvery {
				t.Errorf("checkpoint at seq %d follows %d records, want %d", r.Seq, since, opts.CheckpointEvery)
			}
			since = 0
			continue
		}
		since++
	}
	segs, err := Segments(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 3 {
		t.Fatalf("got %d segments, want rotations", len(segs))
	}
	for _, seg := range segs[:len(segs)-1] {
		lines := readLinesOf(t, seg)
		lines = lines[:len(lines)-1] // the empty string after the last newline
		size := int64(len(bytes.Join(lines, nil)))
		last := int64(len(lines[len(lines)-1]))
		if size <= opts.MaxSize || size-last > opts.MaxSize {
			t.Errorf("%s: %d bytes, %d without its last record, want the last record to take it past %d", seg, size, size-last, opts.MaxSize)
		}
	}
}

// TestGroupCommitSharesFsyncs: the appends that arrive while an fsync
// runs are made durable together by the next one.
func TestGroupCommitSharesFsyncs(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	const n = 32
	l := mustOpen(t, opts)
	entered := make(chan struct{})
	var syncs atomic.Int64
	l.syncHook = func(f *os.File) error {
		if syncs.Add(1) == 1 {
			close(entered)
			waitQueued(t, l, n-1)
		}
		return f.Sync()
	}
	var wg sync.WaitGroup
	append1 := func(i int) {
		f := archivedRecord(i)
		f["writer"], f["n"] = "w", strconv.Itoa(i)
		if _, err := l.appendFields(eventArchived, f); err != nil {
			t.Error(err)
		}
	}
	wg.Go(func() { append1(0) })
	<-entered
	for i := 1; i < n; i++ {
		wg.Go(func() { append1(i) })
	}
	wg.Wait()
	if got := syncs.Load(); got != 2 {
		t.Errorf("%d concurrent appends took %d fsyncs, want 2: the first, and one for the %d that queued during it", n, got, n-1)
	}
	l.syncHook = nil
	mustClose(t, l)
	checkAllOnce(t, opts, []string{"w"}, n)
}

// TestGroupCommitSyncFailure: a failed fsync fails every append of its
// group, and the log takes no record after it.
func TestGroupCommitSyncFailure(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	const n = 12
	l := mustOpen(t, opts)
	injected := errors.New("injected fsync failure")
	entered := make(chan struct{})
	var syncs atomic.Int64
	l.syncHook = func(f *os.File) error {
		switch syncs.Add(1) {
		case 1:
			close(entered)
			waitQueued(t, l, n-1)
			return f.Sync()
		case 2:
			return injected
		}
		t.Error("fsync after a failed one")
		return f.Sync()
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	append1 := func(i int) {
		_, errs[i] = l.appendFields(eventArchived, archivedRecord(i))
	}
	wg.Go(func() { append1(0) })
	<-entered
	for i := 1; i < n; i++ {
		wg.Go(func() { append1(i) })
	}
	wg.Wait()
	if errs[0] != nil {
		t.Errorf("the append before the failure: %v", errs[0])
	}
	for i, err := range errs[1:] {
		if !errors.Is(err, injected) {
			t.Errorf("append %d of the failed group: got %v, want the fsync's error", i+1, err)
		}
	}
	if _, err := l.appendFields(eventArchived, archivedRecord(99)); !errors.Is(err, errClosed) {
		t.Errorf("append after the failed fsync: got %v, want errClosed", err)
	}
	l.Close()
}

// TestGroupCommitWriteFailure: a failed write fails every append of its
// group, and nothing of the group is in the log.
func TestGroupCommitWriteFailure(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	const n = 8
	l := mustOpen(t, opts)
	mustAppend(t, l, eventStartup, nil)
	entered := make(chan struct{})
	var syncs atomic.Int64
	l.syncHook = func(f *os.File) error {
		if syncs.Add(1) == 1 {
			close(entered)
			waitQueued(t, l, n-1)
			// The group that queued meanwhile is written to a
			// descriptor that takes no writes.
			l.f.Close()
			ro, err := os.Open(opts.Path)
			if err != nil {
				return err
			}
			l.f = ro
			return ro.Sync()
		}
		return f.Sync()
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() { _, errs[0] = l.appendFields(eventArchived, archivedRecord(0)) })
	<-entered
	for i := 1; i < n; i++ {
		wg.Go(func() { _, errs[i] = l.appendFields(eventArchived, archivedRecord(i)) })
	}
	wg.Wait()
	if errs[0] != nil {
		t.Errorf("the append before the failure: %v", errs[0])
	}
	for i, err := range errs[1:] {
		if err == nil {
			t.Errorf("append %d of the failed group succeeded", i+1)
		}
	}
	if got := len(recordsOf(t, opts.Path)); got != 2 {
		t.Errorf("got %d records, want the 2 before the failed group", got)
	}
	l.Close()
	// Reopened, as the daemon reopens a log that failed, it goes on.
	l = mustOpen(t, opts)
	mustAppend(t, l, eventShutdown, nil)
	mustClose(t, l)
	requireOK(t, mustVerify(t, opts))
}

// A batch of records is written in pieces that each stay within one page
// of the file, but for a single line that runs past its page, since a
// kill -9 may cut a write short only where it crosses a page: what it
// leaves is whole lines, or one torn line as without batches.
func TestAppendLinesKeepsWritesWithinAPage(t *testing.T) {
	t.Parallel()
	for _, at := range []int64{0, 100, pageSize - 10, 3*pageSize + 4000} {
		var batch []*request
		var buf []byte
		for i := range 40 {
			line := append(bytes.Repeat([]byte{'x'}, 50+i*37%900), '\n')
			batch = append(batch, &request{line: line})
			buf = append(buf, line...)
		}
		var got []byte
		off := at
		write := func(p []byte) (int, error) {
			lines := bytes.Count(p, []byte{'\n'})
			if lines == 0 || p[len(p)-1] != '\n' {
				t.Fatalf("at %d: a write of %d bytes ends inside a line", at, len(p))
			}
			if lines > 1 && (off+int64(len(p))-1)/pageSize != off/pageSize {
				t.Errorf("at %d: a write of %d lines from %d crosses a page", at, lines, off)
			}
			got = append(got, p...)
			off += int64(len(p))
			return len(p), nil
		}
		if err := appendLines(write, at, buf, batch); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, buf) {
			t.Errorf("at %d: wrote %d bytes, not the batch's %d", at, len(got), len(buf))
		}
	}
}

// TestCheckpointSharesFsync: a checkpoint due after a group of records is
// written with them and made durable by the same fsync, so that a writer
// killed at any fsync of the log leaves a log that verifies: a new log
// never holds records without a checkpoint (its first is due at its first
// append), and no CheckpointEvery records are ever left unsigned.
func TestCheckpointSharesFsync(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.CheckpointInterval = time.Hour
	opts.CheckpointEvery = 3
	l := mustOpen(t, opts)
	syncs := 0
	l.syncHook = func(f *os.File) error {
		syncs++
		// Verify waits for the lock this writer holds: verify a copy.
		rep := mustVerify(t, killedCopy(t, opts))
		if !rep.OK() {
			t.Errorf("fsync %d: the log as a kill here would leave it: %v", syncs, rep.Issues)
		}
		if rep.Unsigned >= int64(opts.CheckpointEvery) {
			t.Errorf("fsync %d: %d records unsigned, want fewer than CheckpointEvery (%d)", syncs, rep.Unsigned, opts.CheckpointEvery)
		}
		return f.Sync()
	}
	const n = 7
	for i := range n {
		if _, err := l.appendFields(eventArchived, archivedRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	if syncs != n {
		t.Errorf("%d appends took %d fsyncs of the log, want one each, their checkpoints included", n, syncs)
	}
	l.syncHook = nil
	mustClose(t, l)
	var got []string
	for _, r := range recordsOf(t, opts.Path) {
		got = append(got, r.Event)
	}
	// The first append of a new log is due by the interval, then every
	// third record by CheckpointEvery, which leaves Close none to sign.
	a, c := eventArchived, eventCheckpoint
	want := []string{a, c, a, a, a, c, a, a, a, c}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events: got %v, want %v", got, want)
	}
}

// killedCopy copies the log, its state directory and its key to a new
// directory, as a writer killed now would leave them, and returns the
// options of the copy.
func killedCopy(t *testing.T, opts Options) Options {
	t.Helper()
	dir := t.TempDir()
	copyDir := func(from, name string) string {
		to := filepath.Join(dir, name)
		if err := os.CopyFS(to, os.DirFS(from)); err != nil {
			t.Fatal(err)
		}
		return to
	}
	c := opts
	c.Path = filepath.Join(copyDir(filepath.Dir(opts.Path), "log"), filepath.Base(opts.Path))
	c.StateDir = copyDir(opts.StateDir, "state")
	c.KeyFile = filepath.Join(copyDir(filepath.Dir(opts.KeyFile), "key"), filepath.Base(opts.KeyFile))
	return c
}
