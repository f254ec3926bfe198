package pipeline

import (
	"context"
	"slices"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
)

func TestSelection(t *testing.T) {
	t.Parallel()
	chain := []config.Product{{Name: "asd", Input: config.InputRaw}, {Name: "bp", Input: config.InputRaw},
		{Name: "bp_asd", Input: "bp"}, {Name: "r", Input: config.InputRaw}, {Name: "t", Input: "r"}}
	names := func(ps []config.Product) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	for _, tc := range []struct {
		only, want []string
	}{
		{nil, []string{"asd", "bp", "bp_asd", "r", "t"}},
		{[]string{"bp_asd"}, []string{"bp", "bp_asd"}},
		{[]string{"t", "asd"}, []string{"asd", "r", "t"}},
	} {
		got, err := Selection(chain, tc.only)
		if err != nil || !slices.Equal(names(got), tc.want) {
			t.Errorf("Selection(%v): got %v, %v; want %v", tc.only, names(got), err, tc.want)
		}
	}
	if _, err := Selection(chain, []string{"nope"}); err == nil {
		t.Error("Selection of an unknown product: no error")
	}
}

// TestReprocessChain: an archive of a chain of every kind, reprocessed
// with the same chain, has nothing to add; with another trend stride it
// gets a second version of the trend, and still verifies.
func TestReprocessChain(t *testing.T) {
	t.Parallel()
	res, p := chainFixture(t)
	var recs []audit.Event
	p.recorder = RecorderFunc(func(e audit.Event) error { recs = append(recs, e); return nil })
	ctx := context.Background()
	chain := p.cfg.Processing.Chain()
	got, err := p.Reprocess(ctx, res.Archive, chain, res.Record.ArchiveSHA256)
	if err != nil || got.Record != nil || len(got.Added) != 0 || len(recs) != 0 {
		t.Fatalf("the same chain again: got %+v, %v, records %v; want nothing added", got, err, recs)
	}
	for i := range chain {
		if chain[i].Name == "minute" {
			stride := 30.0
			chain[i].Stride = &stride
		}
	}
	before, err := FileSHA256(res.Archive)
	if err != nil {
		t.Fatal(err)
	}
	got, err = p.Reprocess(ctx, res.Archive, chain, before)
	if err != nil {
		t.Fatal(err)
	}
	proc := func(name string) string { return archive.ProcessedPath(channel, name) }
	want := []string{proc("minute@2.mean"), proc("minute@2.min"), proc("minute@2.max"), proc("minute@2.rms"), proc("minute@2.n")}
	if !slices.Equal(got.Added, want) {
		t.Errorf("added %v, want %v", got.Added, want)
	}
	r, ok := only(recs).(audit.Reprocessed)
	if !ok || r.PreviousSHA256 != before || r.ArchiveSHA256 == before || len(r.Products) != 1 || r.Products[0].StoredAs != "minute@2" || r.Products[0].Stride != 30 {
		t.Errorf("record %+v", recs)
	}
	if sum, _ := FileSHA256(res.Archive); sum != r.ArchiveSHA256 {
		t.Errorf("archive sha256 %s, recorded %s", sum, r.ArchiveSHA256)
	}
	a, err := archive.Open(res.Archive)
	if err != nil {
		t.Fatal(err)
	}
	versions := map[int]int{}
	for _, p := range a.Products {
		if p.Name == "minute" {
			versions[p.Version]++
		}
	}
	if versions[1] != 5 || versions[2] != 5 {
		t.Errorf("trend datasets by version %v, want 5 of each", versions)
	}
	if rep, err := Verify(res.Archive, p.proc); err != nil || !rep.OK() {
		t.Errorf("verify: %v, %+v", err, rep)
	}

	// An archive replaced but not recorded, as a crash between the two
	// leaves it, is verified and taken over.
	recs = nil
	got, err = p.Reprocess(ctx, res.Archive, chain, before)
	if err != nil || len(got.Added) != 0 {
		t.Fatalf("again: %+v, %v", got, err)
	}
	if r, ok := only(recs).(audit.Reprocessed); !ok || !r.Adopted || r.PreviousSHA256 != before || r.ArchiveSHA256 == before {
		t.Errorf("records %+v, want one adopting the archive", recs)
	}
}
