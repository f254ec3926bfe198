package instance

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A second daemon on the same state directory or archive root must not
// start: it would delete the first one's temp archives and record every
// source twice.
func TestSecondInstanceIsRefusedWithThePID(t *testing.T) {
	if os.Getenv("GWWATCHD_LOCK_HELPER") != "" {
		if _, err := Acquire(strings.Split(os.Getenv("GWWATCHD_LOCK_HELPER"), ",")...); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		return
	}
	state, root := t.TempDir(), t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondInstanceIsRefusedWithThePID$")
	cmd.Env = append(os.Environ(), "GWWATCHD_LOCK_HELPER="+state+","+root)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("helper: %q, %v", buf, err)
	}
	for _, dirs := range [][]string{{state}, {t.TempDir(), root}} {
		_, err := Acquire(dirs...)
		var iu *InUseError
		if !errors.As(err, &iu) || iu.PID != cmd.Process.Pid {
			t.Fatalf("Acquire(%v) while another process holds it: got %v, want an InUseError naming pid %d", dirs, err, cmd.Process.Pid)
		}
		if !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
			t.Errorf("error %q does not name the pid", err)
		}
	}
	// Once the holder dies, however it dies, the directories are free.
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(state, root)
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	l.Release()
	if b, _ := os.ReadFile(filepath.Join(state, LockName)); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want this pid", b)
	}
}
