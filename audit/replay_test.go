package audit

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.MaxSize = 4000
	l := mustOpen(t, opts)
	mustAppend(t, l, eventStartup, map[string]any{fieldVersion: "v1"})
	for i := range 10 {
		mustAppend(t, l, eventArchived, archivedRecord(i))
	}
	// The same source path archived again with new content.
	again := archivedRecord(3)
	again[fieldSourceSHA256] = strings.Repeat("ab", 32)
	again[fieldArchivePath] = "/archive/K1/again.h5"
	mustAppend(t, l, eventArchived, again)
	mustAppend(t, l, eventDuplicate, map[string]any{fieldSourcePath: "/elsewhere.gwf", fieldArchivePath: archivedRecord(2)[fieldArchivePath]})
	mustAppend(t, l, eventRejected, map[string]any{fieldSourcePath: "/bad.gwf", fieldReason: "not a frame file"})
	mustClose(t, l)

	ix, err := Replay(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	// 14 appended and the checkpoint of Close.
	if ix.Records != 15 || ix.LastSeq != 15 || ix.Len() != 11 {
		t.Errorf("Replay: got %d records, last seq %d, %d archives, want 15, 15, 11", ix.Records, ix.LastSeq, ix.Len())
	}
	if ix.Events[eventArchived] != 11 || ix.Events[eventStartup] != 1 || ix.Events[eventDuplicate] != 1 || ix.Events[eventCheckpoint] != 1 {
		t.Errorf("Events: got %v", ix.Events)
	}
	recs := recordsOf(t, opts.Path)
	if ix.LastHash != recs[len(recs)-1].Hash {
		t.Errorf("LastHash: got %s, want %s", ix.LastHash, recs[len(recs)-1].Hash)
	}

	rec5 := archivedRecord(5)
	want5 := Archive{
		Seq:           7,
		SourcePath:    rec5[fieldSourcePath].(string),
		SourceSize:    rec5[fieldSourceSize].(int64),
		SourceSHA256:  rec5[fieldSourceSHA256].(string),
		ArchivePath:   rec5[fieldArchivePath].(string),
		ArchiveSHA256: rec5[fieldArchiveSHA256].(string),
	}
	if got, ok := bySource(ix, want5.SourceSHA256); !ok || got != want5 {
		t.Errorf("by source sha256: got %+v, %v, want %+v", got, ok, want5)
	}
	if got, ok := bySource(ix, strings.ToUpper(want5.SourceSHA256)); !ok || got != want5 {
		t.Errorf("by source sha256 in upper case: got %+v, %v", got, ok)
	}
	if _, ok := bySource(ix, strings.Repeat("cd", 32)); ok {
		t.Errorf("by source sha256 of unknown content: got a hit")
	}
	if got, ok := ix.ByArchivePath(want5.ArchivePath); !ok || got != want5 {
		t.Errorf("ByArchivePath: got %+v, %v, want %+v", got, ok, want5)
	}
	hist := ix.BySourcePath(archivedRecord(3)[fieldSourcePath].(string))
	if len(hist) != 2 || hist[0].Seq != 5 || hist[1].Seq != 12 || hist[1].ArchivePath != "/archive/K1/again.h5" {
		t.Errorf("BySourcePath: got %+v, want seq 5 then 12", hist)
	}

	tests := []struct {
		prefix string
		seqs   []uint64
		err    error
	}{
		{want5.SourceSHA256[:64], []uint64{7}, nil},
		{want5.ArchiveSHA256[:64], []uint64{7}, nil},
		{"abababab", []uint64{12}, nil},
		{"ABABA", []uint64{12}, nil},
		{"0000000000000000000000000000000000000000000000009e3779b97f4a7c15", []uint64{3}, nil},
		{"ffff", nil, nil},
		{"xyz", nil, errBadPrefix},
		{"", nil, errBadPrefix},
		{"abx", nil, errBadPrefix},
	}
	for _, tt := range tests {
		got, err := ix.ByHashPrefix(tt.prefix)
		if !errors.Is(err, tt.err) {
			t.Errorf("ByHashPrefix(%q): got error %v, want %v", tt.prefix, err, tt.err)
			continue
		}
		var seqs []uint64
		for _, a := range got {
			seqs = append(seqs, a.Seq)
		}
		if len(seqs) != len(tt.seqs) || (len(seqs) > 0 && seqs[0] != tt.seqs[0]) {
			t.Errorf("ByHashPrefix(%q): got seqs %v, want %v", tt.prefix, seqs, tt.seqs)
		}
	}
	// Every archive here has a source or archive hash starting with zeros.
	if got, _ := ix.ByHashPrefix("000000"); len(got) != 11 {
		t.Errorf("ByHashPrefix(000000): got %d archives, want 11", len(got))
	}

	// Index.add keeps a replayed index current.
	ix2 := &Index{}
	if _, ok := ix2.ByArchivePath("/x"); ok || ix2.BySourcePath("/x") != nil {
		t.Errorf("empty Index: got a hit")
	}
	for _, r := range recs {
		ix2.add(r)
	}
	if ix2.Records != ix.Records || ix2.Len() != ix.Len() || ix2.LastHash != ix.LastHash {
		t.Errorf("Add: got %d records, %d archives, want %d, %d", ix2.Records, ix2.Len(), ix.Records, ix.Len())
	}
	if got, ok := bySource(ix2, want5.SourceSHA256); !ok || got != want5 {
		t.Errorf("Add then by source sha256: got %+v, %v, want %+v", got, ok, want5)
	}
}

func TestReplaySkipsTornTail(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	mustAppend(t, l, eventArchived, archivedRecord(1))
	mustClose(t, l)
	appendHalfRecord(t, opts.Path)
	// The archived record and the checkpoint of Close.
	ix, err := Replay(opts.Path)
	if err != nil || ix.Records != 2 {
		t.Errorf("Replay with a torn tail: got %v, %v, want 2 records", ix, err)
	}
	if n := len(recordsOf(t, opts.Path)); n != 2 {
		t.Errorf("Scan with a torn tail: got %d records, want 2", n)
	}
	appendBytes(t, opts.Path, "\n{\"not\":\"a record\"}\n")
	if _, err := Replay(opts.Path); err == nil || !strings.Contains(err.Error(), "audit.log:3") {
		t.Errorf("Replay with a bad line: got %v, want an error naming audit.log:3", err)
	}
	if err := Scan(opts.Path, func(Record, []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "audit.log:3") {
		t.Errorf("Scan with a bad line: got %v, want an error naming audit.log:3", err)
	}
}

func TestSavedStateUsed(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.MaxSize = 1 // the state names the end of a rotated segment
	l := mustOpen(t, opts)
	for range 3 {
		mustAppend(t, l, eventStartup, nil)
	}
	mustClose(t, l)
	probe := &Log{opts: opts}
	if !probe.loadState() || probe.seq != 4 || probe.tree.n != 4 || probe.ckEnd != 4 || probe.ckSize != 3 {
		t.Fatalf("loadState: got seq %d size %d, checkpoint %d through %d, want the saved state of 3 records and the checkpoint of Close",
			probe.seq, probe.tree.n, probe.ckSize, probe.ckEnd)
	}
	// A damaged old segment is not read again when the state matches.
	os.WriteFile(opts.Path+".1", []byte("damaged\n"), 0o640)
	l = mustOpen(t, opts)
	if rec := mustAppend(t, l, eventShutdown, nil); rec.Seq != 5 {
		t.Errorf("after Open from the saved state: got seq %d, want 5", rec.Seq)
	}
	mustClose(t, l)
	if rep := mustVerify(t, opts); rep.OK() || rep.FirstBad != "audit.log.1:1" {
		t.Errorf("Verify: got first problem at %q, want audit.log.1:1", rep.FirstBad)
	}
}

// De-duplication asks by content key: two records of the same source
// bytes read with other metadata are two contents, and a record written
// before content keys matches none.
func TestContentKeyKeepsSameBytesApart(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	zeros := strings.Repeat("00", 32)
	keyX, keyY := strings.Repeat("1a", 32), strings.Repeat("2b", 32)
	old := archivedRecord(1)
	old[fieldSourceSHA256] = zeros
	mustAppend(t, l, eventArchived, old)
	x := archivedRecord(2)
	x[fieldSourceSHA256], x[fieldContentKey], x[fieldArchivePath] = zeros, keyX, "/archive/X.h5"
	mustAppend(t, l, eventArchived, x)
	y := archivedRecord(3)
	y[fieldSourceSHA256], y[fieldContentKey], y[fieldArchivePath] = zeros, keyY, "/archive/Y.h5"
	mustAppend(t, l, eventArchived, y)
	mustClose(t, l)

	for name, ix := range replayedAndAdded(t, opts.Path) {
		if a, ok := ix.byContentKey(keyX); !ok || a.ArchivePath != "/archive/X.h5" || a.ContentKey != keyX {
			t.Errorf("%s: byContentKey(X): got %+v, %v, want /archive/X.h5", name, a, ok)
		}
		if a, ok := ix.byContentKey(strings.ToUpper(keyY)); !ok || a.ArchivePath != "/archive/Y.h5" {
			t.Errorf("%s: byContentKey(Y): got %+v, %v, want /archive/Y.h5", name, a, ok)
		}
		if a, ok := ix.byContentKey(strings.Repeat("3c", 32)); ok {
			t.Errorf("%s: byContentKey of other metadata: got %+v, want no hit", name, a)
		}
		if a, ok := bySource(ix, zeros); !ok || a.ArchivePath != "/archive/Y.h5" {
			t.Errorf("%s: BySourceSHA256: got %+v, %v, want the latest, /archive/Y.h5", name, a, ok)
		}
	}
}

// A removal planned and not carried out in full is pending after Replay
// and after add, so that the next start can finish it.
func TestPendingRemovalsSurviveReplay(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	plan := func(action string, paths ...string) uint64 {
		var files []any
		for _, p := range paths {
			files = append(files, map[string]any{"path": p, "to": "/done/" + p, "sha256": strings.Repeat("0a", 32)})
		}
		rec, err := l.appendFields(eventRemovalPlanned, map[string]any{"action": action, "files": files, fieldReason: "bad"})
		if err != nil {
			t.Fatal(err)
		}
		return rec.Seq
	}
	done := func(event string, seq uint64, path string) {
		mustAppend(t, l, event, map[string]any{fieldPlanned: int64(seq), fieldSourcePath: path})
	}
	moved := plan("move", "a.npy", "a.json")
	done(eventSourceMoved, moved, "a.npy")
	done(eventSourceMoved, moved, "a.json")
	half := plan("delete", "b.npy", "b.json")
	done(eventSourceDeleted, half, "b.npy")
	quar := plan("quarantine", "c.npy")
	done(eventSourceMoved, quar, "c.npy") // the quarantined record is missing
	abandoned := plan("move", "d.npy")
	done(eventRemovalAbandoned, abandoned, "d.npy")
	mustClose(t, l)

	for name, ix := range replayedAndAdded(t, opts.Path) {
		got := ix.Pending()
		if len(got) != 2 || got[0].Seq != half || got[1].Seq != quar {
			t.Fatalf("%s: pending %+v, want plans %d and %d", name, got, half, quar)
		}
		if f := got[0].Files; got[0].Action != "delete" || len(f) != 2 || !f[0].Done || f[1].Done || f[1].Path != "b.json" {
			t.Errorf("%s: half-done delete: got %+v", name, got[0])
		}
		if q := got[1]; q.Action != "quarantine" || q.Quarantined || !q.Files[0].Done || q.Reason != "bad" || q.Files[0].To != "/done/c.npy" {
			t.Errorf("%s: quarantine without its record: got %+v", name, q)
		}
	}
}

// bySource returns the latest archive of the source content with this
// sha256, as trace finds it: by hash prefix.
func bySource(ix *Index, sum string) (Archive, bool) {
	all, _ := ix.ByHashPrefix(sum)
	for i := len(all) - 1; i >= 0; i-- {
		if strings.EqualFold(all[i].SourceSHA256, sum) {
			return all[i], true
		}
	}
	return Archive{}, false
}

// replayedAndAdded returns the index of the log at path as Replay builds
// it, and as add does from every record.
func replayedAndAdded(t *testing.T, path string) map[string]*Index {
	t.Helper()
	replayed, err := Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	added := &Index{}
	for _, r := range recordsOf(t, path) {
		added.add(r)
	}
	return map[string]*Index{"Replay": replayed, "add": added}
}

// TestReplayFollowsReprocessed: an archive's sha256 in the index is that
// of its last "reprocessed" record, whether the index is replayed or kept
// up with appends.
func TestReplayFollowsReprocessed(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	for i := range 3 {
		mustAppend(t, l, eventArchived, archivedRecord(i))
	}
	path := archivedRecord(1)[fieldArchivePath].(string)
	var last string
	var lastSeq uint64
	for j := range 2 {
		last = strings.Repeat(string(rune('a'+j)), 64)
		r := Reprocessed{ArchivePath: path, PreviousSHA256: strings.Repeat("0", 64), ArchiveSHA256: last, ArchiveSize: 10,
			Products: []AddedProduct{{ProductParams: ProductParams{Name: "bp", Kind: "bandpass", Input: "raw", Order: 4, Low: 30, High: 300},
				Dataset: "K1:X", StoredAs: "bp@2", Paths: []string{"/processed/K1:X/bp@2"}}}}
		rec, err := l.Append(r)
		if err != nil {
			t.Fatal(err)
		}
		lastSeq = rec.Seq
	}
	// Of an archive the log never named: nothing to follow.
	if _, err := l.Append(Reprocessed{ArchivePath: "/elsewhere.h5", ArchiveSHA256: strings.Repeat("f", 64)}); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
	for how, ix := range replayedAndAdded(t, opts.Path) {
		if a, ok := ix.ByArchivePath(path); !ok || a.ArchiveSHA256 != last || a.Reprocessed != lastSeq {
			t.Errorf("%s: %s has sha256 %s, reprocessed at %d; want %s, %d", how, path, a.ArchiveSHA256, a.Reprocessed, last, lastSeq)
		}
		if a, _ := ix.ByArchivePath(archivedRecord(0)[fieldArchivePath].(string)); a.ArchiveSHA256 != archivedRecord(0)[fieldArchiveSHA256] {
			t.Errorf("%s: another archive's sha256 changed to %s", how, a.ArchiveSHA256)
		}
		if ix.Len() != 3 || len(ix.Archives()) != 3 || ix.Events[eventReprocessed] != 3 {
			t.Errorf("%s: %d archives, %d listed, %d reprocessed records; want 3, 3, 3", how, ix.Len(), len(ix.Archives()), ix.Events[eventReprocessed])
		}
	}
	var got Reprocessed
	for _, rec := range recordsOf(t, opts.Path) {
		if r, ok := As[Reprocessed](rec); ok && r.ArchivePath == path {
			got = r
		}
	}
	if got.ArchiveSHA256 != last || len(got.Products) != 1 || got.Products[0].StoredAs != "bp@2" || got.Products[0].High != 300 {
		t.Errorf("decoded %+v", got)
	}
}
