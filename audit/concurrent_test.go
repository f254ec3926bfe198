package audit

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// checkAllOnce verifies the log and that it holds exactly the records
// writer w, number i, for every w in writers and i < perWriter.
func checkAllOnce(t *testing.T, opts Options, writers []string, perWriter int) {
	t.Helper()
	rep := mustVerify(t, opts)
	requireOK(t, rep)
	// Every writer closed, so every record is signed, each by a writer
	// that wrote it or knew its writer alive.
	if rep.Unsigned != 0 || len(rep.Warnings) != 0 {
		t.Errorf("Verify: got %d unsigned records, warnings %v, want none", rep.Unsigned, rep.Warnings)
	}
	seen := map[string]int{}
	for _, r := range recordsOf(t, opts.Path) {
		if r.Event == eventArchived {
			seen[r.String("writer")+"/"+r.String("n")]++
		}
	}
	for _, w := range writers {
		for i := range perWriter {
			if k := w + "/" + strconv.Itoa(i); seen[k] != 1 {
				t.Errorf("record %s: got %d copies, want 1", k, seen[k])
			}
		}
	}
	if want := len(writers) * perWriter; len(seen) != want {
		t.Errorf("got %d distinct records, want %d", len(seen), want)
	}
}

// TestConcurrentWriters: several Logs opened separately on one path, as
// separate processes would, and one Log shared by several goroutines, all
// append at once; the result is one valid chain with every record once.
// Rotation and checkpoints happen meanwhile.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.MaxSize = 20000
	opts.CheckpointEvery = 7
	const (
		separate  = 4
		sharers   = 4
		perWriter = 15
	)
	shared := mustOpen(t, opts)
	var wg sync.WaitGroup
	var writers []string
	errs := make(chan error, separate+sharers)
	for w := range separate {
		name := fmt.Sprintf("own%d", w)
		writers = append(writers, name)
		wg.Go(func() {
			l, err := Open(opts)
			if err != nil {
				errs <- err
				return
			}
			defer l.Close()
			for i := range perWriter {
				f := archivedRecord(i)
				f["writer"], f["n"] = name, strconv.Itoa(i)
				if _, err := l.appendFields(eventArchived, f); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for w := range sharers {
		name := fmt.Sprintf("shared%d", w)
		writers = append(writers, name)
		wg.Go(func() {
			for i := range perWriter {
				f := archivedRecord(i)
				f["writer"], f["n"] = name, strconv.Itoa(i)
				if _, err := shared.appendFields(eventArchived, f); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustClose(t, shared)
	checkAllOnce(t, opts, writers, perWriter)
	if segs, _ := Segments(opts.Path); len(segs) < 2 {
		t.Errorf("got %d segments, want rotation to have happened", len(segs))
	}
}

// TestMultiProcess runs writers as separate processes: the test binary
// runs itself with GWWATCHD_AUDIT_CHILD set.
func TestMultiProcess(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts processes")
	}
	opts := testOptions(t)
	opts.MaxSize = 30000
	const procs, perWriter = 3, 20
	var writers []string
	var cmds []*exec.Cmd
	for p := range procs {
		name := fmt.Sprintf("proc%d", p)
		writers = append(writers, name)
		cmd := exec.Command(os.Args[0], "-test.run=^TestChildWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), "GWWATCHD_AUDIT_CHILD="+strings.Join([]string{
			opts.Path, opts.StateDir, opts.KeyFile, name, strconv.Itoa(perWriter), strconv.FormatInt(opts.MaxSize, 10)}, "\x1f"))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s output:\n%s", name, out.String())
			}
		})
		cmds = append(cmds, cmd)
	}
	// This process writes too.
	l := mustOpen(t, opts)
	for i := range perWriter {
		f := archivedRecord(i)
		f["writer"], f["n"] = "parent", strconv.Itoa(i)
		mustAppend(t, l, eventArchived, f)
	}
	mustClose(t, l)
	writers = append(writers, "parent")
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}
	checkAllOnce(t, opts, writers, perWriter)
}

// TestChildWriter is a writer process for TestMultiProcess; it does
// nothing when run as a test.
func TestChildWriter(t *testing.T) {
	t.Parallel()
	env := os.Getenv("GWWATCHD_AUDIT_CHILD")
	if env == "" {
		t.Skip("only run by TestMultiProcess")
	}
	a := strings.Split(env, "\x1f")
	n, _ := strconv.Atoi(a[4])
	maxSize, _ := strconv.ParseInt(a[5], 10, 64)
	l, err := Open(Options{Path: a[0], StateDir: a[1], KeyFile: a[2], MaxSize: maxSize, Host: a[3]})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		f := archivedRecord(i)
		f["writer"], f["n"] = a[3], strconv.Itoa(i)
		if _, err := l.appendFields(eventArchived, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
