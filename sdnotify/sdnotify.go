package sdnotify

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notifier sends state changes to the service manager's notification
// socket. When the process was not started with NOTIFY_SOCKET set, or the
// Notifier is nil, every method does nothing and returns nil, so callers
// need no checks of their own.
//
// A Notifier is safe for concurrent use.
type Notifier struct {
	enabled bool
}

// New returns a Notifier for the socket named by NOTIFY_SOCKET. The
// variable stays in the environment, where every notification reads it.
func New() *Notifier {
	return &Notifier{enabled: os.Getenv("NOTIFY_SOCKET") != ""}
}

// Enabled reports whether the Notifier sends anything.
func (n *Notifier) Enabled() bool {
	return n != nil && n.enabled
}

// Ready tells the service manager that startup, or a reload, is complete.
func (n *Notifier) Ready() error {
	return n.notify(daemon.SdNotifyReady)
}

// Reloading tells the service manager that the configuration is being
// reloaded; Ready must follow once it is done. The message carries the
// CLOCK_MONOTONIC time that Type=notify-reload requires from systemd 253
// on and older versions ignore.
func (n *Notifier) Reloading() error {
	if !n.Enabled() {
		return nil
	}
	usec := strings.TrimSuffix(daemon.SdNotifyMonotonicUsec(), "\n")
	if usec == "" {
		return n.notify(daemon.SdNotifyReloading)
	}
	return n.notify(daemon.SdNotifyReloading + "\n" + usec)
}

// Stopping tells the service manager that shutdown has begun.
func (n *Notifier) Stopping() error {
	return n.notify(daemon.SdNotifyStopping)
}

// Status sets the free-form status line that systemctl status shows.
// Line breaks in s become spaces: each line of a notification is an
// assignment of its own.
func (n *Notifier) Status(s string) error {
	if !n.Enabled() {
		return nil
	}
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return n.notify("STATUS=" + s)
}

// Watchdog resets the service manager's watchdog timer.
func (n *Notifier) Watchdog() error {
	return n.notify(daemon.SdNotifyWatchdog)
}

// WatchdogInterval returns the watchdog timeout systemd set for this
// process (WatchdogSec=, passed as WATCHDOG_USEC and WATCHDOG_PID), and
// false when there is none, when the variables name another process or are
// malformed, or when there is no socket to send pings to. Callers should
// ping at half the interval.
func (n *Notifier) WatchdogInterval() (time.Duration, bool) {
	if !n.Enabled() {
		return 0, false
	}
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil || d <= 0 {
		return 0, false
	}
	return d, true
}

func (n *Notifier) notify(state string) error {
	if !n.Enabled() {
		return nil
	}
	if _, err := daemon.SdNotify(false, state); err != nil {
		name, _, _ := strings.Cut(state, "=")
		return fmt.Errorf("notify %s: %w", name, err)
	}
	return nil
}
