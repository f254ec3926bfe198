package daemon

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/watcher"
)

// dieWhileProcessing is the child of TestFileThatKillsTheDaemonIsQuarantined:
// it handles one file as a worker does and dies in the middle.
func dieWhileProcessing(t *testing.T, spec string) {
	dir, src, _ := strings.Cut(spec, "|")
	b := &testBed{t: t, dir: dir, in: filepath.Join(dir, "in"), logPth: filepath.Join(dir, "audit.log")}
	b.cfg = bedConfig(dir)
	b.open()
	b.d.inflight = newInflight(filepath.Join(dir, "state"))
	if err := b.d.inflight.load(zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Options{Config: b.cfg, CPUs: 1, Known: b.d.logx,
		Recorder: pipeline.RecorderFunc(func(audit.Event) error { os.Exit(2); return nil })})
	fi, _ := os.Stat(src)
	b.d.handle(context.Background(), p, job{ev: watcher.Event{Path: src, Rel: filepath.Base(src), Size: fi.Size(), ModTime: fi.ModTime()}})
	t.Fatal("the file was handled; the child was to die")
}

// A file that kills the daemon while it is processed must not make it
// crash-loop: after daemon.max_deaths deaths it is quarantined with the reason, and
// the other files are archived.
func TestFileThatKillsTheDaemonIsQuarantined(t *testing.T) {
	t.Parallel()
	if spec := os.Getenv("GWWATCHD_DIE_WHILE"); spec != "" {
		dieWhileProcessing(t, spec)
		return
	}
	b := newTestBed(t, "keep")
	b.alog.Close()
	src := filepath.Join(b.in, "K-K1_TEST-1300000000-8.npy")
	synth.WriteNPY(src, synth.Coloured(8*64, 64, 5, 4))
	for i := 0; i < b.cfg.Daemon.MaxDeaths; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileThatKillsTheDaemonIsQuarantined$")
		cmd.Env = append(os.Environ(), "GWWATCHD_DIE_WHILE="+b.dir+"|"+src)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Fatalf("child %d: %v\n%s", i, err, out)
		}
	}
	b.open()
	b.d.inflight = newInflight(filepath.Join(b.dir, "state"))
	if err := b.d.inflight.load(zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(src)
	if n := b.d.inflight.deathsOf(src, fi.Size(), fi.ModTime()); n != b.cfg.Daemon.MaxDeaths {
		t.Fatalf("deaths counted: got %d, want %d", n, b.cfg.Daemon.MaxDeaths)
	}
	other := filepath.Join(b.in, "K-K1_TEST-1300000100-8.npy")
	synth.WriteNPY(other, synth.Coloured(8*64, 64, 5, 5))
	for _, f := range []string{src, other} {
		fi, _ := os.Stat(f)
		b.d.handle(context.Background(), b.d.pipeline(b.cfg), job{ev: watcher.Event{Path: f, Rel: filepath.Base(f), Size: fi.Size(), ModTime: fi.ModTime()}})
	}
	q := logged[audit.Quarantined](b)
	if len(q) != 1 || q[0].SourcePath != src || !strings.Contains(q[0].Reason, "the daemon stopped 3 times while processing it") {
		t.Errorf("quarantined records: got %+v, want %s quarantined as having stopped the daemon 3 times", q, src)
	}
	if a := logged[audit.Archived](b); len(a) != 1 || a[0].SourcePath != other {
		t.Errorf("archived records: got %+v, want the other file archived", a)
	}
	if entries, _ := os.ReadDir(filepath.Join(b.dir, "state", inflightDir)); len(entries) != 0 {
		t.Errorf("%d in-flight markers left", len(entries))
	}
}
