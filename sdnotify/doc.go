// Package sdnotify tells systemd about the daemon's state through the
// sd_notify protocol: readiness, reloads, shutdown, status lines and
// watchdog pings. Package sdnotifytest stands in for systemd's socket in
// tests.
package sdnotify
