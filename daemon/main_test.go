package daemon

import (
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/testparallel"
)

// TestMain runs up to 8 tests at a time: they spend most of their time
// waiting on fsync, of archives, records and directories.
func TestMain(m *testing.M) { testparallel.Main(m, 8) }
