package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// A file that could never fit in the memory budget is quarantined with a
// reason naming both sizes, not read until the daemon runs out of memory.
func TestFileOverTheBudgetIsQuarantined(t *testing.T) {
	t.Parallel()
	b := newTestBed(t, "keep")
	b.d.budget = newBudget(8<<20, nil)
	src := filepath.Join(b.in, "K-K1_TEST-1300000000-8.npy")
	synth.WriteNPY(src, synth.Coloured(8*64, 64, 5, 1))
	b.handle(src)
	q := logged[audit.Quarantined](b)
	if len(q) != 1 {
		t.Fatalf("got %d quarantined records, want 1", len(q))
	}
	for _, want := range []string{"needs about 16 MiB of memory", "512 samples in 1 series", "more than daemon.memory_limit of 8 MiB"} {
		if !strings.Contains(q[0].Reason, want) {
			t.Errorf("reason %q lacks %q", q[0].Reason, want)
		}
	}
	if n := b.d.budget.used.Load(); n != 0 {
		t.Errorf("%d bytes of the budget still taken", n)
	}
	// With room, the same file is archived and its share given back.
	b.d.budget = newBudget(64<<20, nil)
	other := filepath.Join(b.in, "K-K1_TEST-1300000100-8.npy")
	synth.WriteNPY(other, synth.Coloured(8*64, 64, 5, 2))
	b.handle(other)
	if n := len(logged[audit.Archived](b)); n != 1 {
		t.Errorf("got %d archived records, want 1", n)
	}
	if n := b.d.budget.used.Load(); n != 0 {
		t.Errorf("%d bytes of the budget still taken", n)
	}
}

// A file that does not fit now waits for the files before it, and work
// ahead that does not fit is not started.
func TestBudgetWaitsItsTurn(t *testing.T) {
	t.Parallel()
	bud := newBudget(100, nil)
	if err := bud.acquire(context.Background(), 80); err != nil {
		t.Fatal(err)
	}
	if bud.tryAcquire(30) {
		t.Fatal("tryAcquire took more than is left")
	}
	got := make(chan struct{})
	go func() { bud.acquire(context.Background(), 30); close(got) }()
	select {
	case <-got:
		t.Fatal("acquire did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	bud.release(80)
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("acquire did not get the budget once it was free")
	}
	if n := bud.used.Load(); n != 30 {
		t.Errorf("in use: got %d, want 30", n)
	}
}

func TestMemoryLimitDefaultsToAShare(t *testing.T) {
	t.Parallel()
	avail, from := availableMemory()
	if avail <= 0 || from == "" {
		t.Fatalf("availableMemory: %d, %q", avail, from)
	}
	for _, tt := range []struct {
		in   config.MemoryLimit
		want int64
	}{
		{"", avail / 2},
		{"25%", avail / 4},
		{"1536MiB", 1536 << 20},
		{"2GB", 2e9},
	} {
		got, err := tt.in.Resolve(avail)
		if err != nil || (got != tt.want && got != tt.want+1 && got != tt.want-1) {
			t.Errorf("Resolve(%q): got %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []config.MemoryLimit{"0", "-1GB", "150%", "lots", "1MiB"} {
		if _, err := bad.Resolve(avail); err == nil {
			t.Errorf("Resolve(%q): got no error", bad)
		}
	}
}

// Each time series product of a chain holds one more float64 copy of the
// samples until the archive is written; the estimate counts it.
func TestNeedCountsTheChain(t *testing.T) {
	t.Parallel()
	fp := ingest.Footprint{Series: 1, Samples: 1 << 20, Bytes: 2 << 20} // int16
	def := config.Default()
	if got, want := needOf(fp, def.Processing.Chain()), int64(baseNeed+2<<20+2*8<<20); got != want {
		t.Errorf("default chain: need %d, want %d", got, want)
	}
	b, err := os.ReadFile("../testdata/config/chain.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, p := range cfg.Processing.Chain() {
		if p.Series() {
			series++
		}
	}
	if series == 0 {
		t.Fatal("testdata/config/chain.toml has no time series product")
	}
	if got, want := needOf(fp, cfg.Processing.Chain()), int64(baseNeed+2<<20+(2+series)*8<<20); got != want {
		t.Errorf("chain of %d time series products: need %d, want %d", series, got, want)
	}
}
