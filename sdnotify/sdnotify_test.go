package sdnotify

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/gwwatchd/gwwatchd/sdnotify/sdnotifytest"
)

// listen starts a fake notification socket and points NOTIFY_SOCKET at
// it.
func listen(t *testing.T) *sdnotifytest.Socket {
	t.Helper()
	fs, path := sdnotifytest.Start(t)
	t.Setenv("NOTIFY_SOCKET", path)
	return fs
}

func TestNotifierMessages(t *testing.T) {
	tests := []struct {
		name string
		send func(*Notifier) error
		want string
	}{
		{"ready", (*Notifier).Ready, "READY=1"},
		{"stopping", (*Notifier).Stopping, "STOPPING=1"},
		{"watchdog", (*Notifier).Watchdog, "WATCHDOG=1"},
		{"status", func(n *Notifier) error { return n.Status("archived 3 files") }, "STATUS=archived 3 files"},
		{"status one line", func(n *Notifier) error { return n.Status("a\nb\r\nc") }, "STATUS=a b c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := listen(t)
			if err := tt.send(New()); err != nil {
				t.Fatal(err)
			}
			if got, want := fs.Messages(), []string{tt.want}; !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestReloading(t *testing.T) {
	fs := listen(t)
	before := monotonicUsec(t)
	if err := New().Reloading(); err != nil {
		t.Fatal(err)
	}
	after := monotonicUsec(t)

	msgs := fs.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d datagrams %q, want 1", len(msgs), msgs)
	}
	lines := strings.Split(msgs[0], "\n")
	if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Fatalf("got %q, want RELOADING=1\\nMONOTONIC_USEC=<usec>", msgs[0])
	}
	usec, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64)
	if err != nil {
		t.Fatalf("MONOTONIC_USEC: %v", err)
	}
	if usec < before || usec > after {
		t.Errorf("got MONOTONIC_USEC=%d, want within [%d, %d]", usec, before, after)
	}
}

func monotonicUsec(t *testing.T) int64 {
	t.Helper()
	s := strings.TrimSuffix(strings.TrimPrefix(daemon.SdNotifyMonotonicUsec(), "MONOTONIC_USEC="), "\n")
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("monotonic clock: %v", err)
	}
	return v
}

func TestSequence(t *testing.T) {
	fs := listen(t)
	n := New()
	for _, send := range []func() error{n.Ready, n.Watchdog, func() error { return n.Status("draining") }, n.Stopping} {
		if err := send(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"READY=1", "WATCHDOG=1", "STATUS=draining", "STOPPING=1"}
	if got := fs.Messages(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if os.Getenv("NOTIFY_SOCKET") == "" {
		t.Error("NOTIFY_SOCKET was unset, want it kept")
	}
}

func TestNoSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "30000000")
	for _, n := range []*Notifier{New(), nil} {
		if n.Enabled() {
			t.Error("Enabled: got true, want false")
		}
		for _, send := range []func() error{n.Ready, n.Reloading, n.Stopping, n.Watchdog, func() error { return n.Status("x") }} {
			if err := send(); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		}
		if d, ok := n.WatchdogInterval(); ok {
			t.Errorf("WatchdogInterval: got %v, true, want false", d)
		}
	}
}

func TestSendError(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", t.TempDir()+"/missing.sock")
	err := New().Ready()
	if err == nil || !strings.HasPrefix(err.Error(), "notify READY: ") {
		t.Errorf("got %v, want a notify READY error", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	tests := []struct {
		name, usec, pid string
		want            time.Duration
		ok              bool
	}{
		{"unset", "", "", 0, false},
		{"any pid", "30000000", "", 30 * time.Second, true},
		{"this pid", "2000000", self, 2 * time.Second, true},
		{"other pid", "2000000", "1", 0, false},
		{"malformed", "soon", "", 0, false},
		{"zero", "0", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			listen(t)
			t.Setenv("WATCHDOG_USEC", tt.usec)
			t.Setenv("WATCHDOG_PID", tt.pid)
			got, ok := New().WatchdogInterval()
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %v, %t, want %v, %t", got, ok, tt.want, tt.ok)
			}
			if os.Getenv("WATCHDOG_USEC") != tt.usec {
				t.Error("WATCHDOG_USEC changed, want it kept")
			}
		})
	}
}
