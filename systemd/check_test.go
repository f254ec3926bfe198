// Package systemd holds the service unit, sysusers.d and tmpfiles.d files
// and the example configuration that install gwwatchd as a systemd
// service. Its test runs check.sh on them.
package systemd

import (
	"os"
	"os/exec"
	"testing"
)

// TestCheck runs check.sh where systemd-analyze is installed, with the
// gwwatchd binary named by GWWATCHD_BIN if set, so that the config is
// checked too.
func TestCheck(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	args := []string{"./check.sh"}
	if bin := os.Getenv("GWWATCHD_BIN"); bin != "" {
		args = append(args, bin)
	}
	out, err := exec.Command("bash", args...).CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("check.sh: %v", err)
	}
}
