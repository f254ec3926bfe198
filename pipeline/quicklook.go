package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/internal/durable"
)

// writeQuicklook writes the quick-look PNG beside the archive, and notes
// it, or why it could not be written, in the archive's audit record. The
// archive is what matters: a quick-look that fails does not fail it.
func (x *Prepared) writeQuicklook(rec *audit.Archived) {
	path := strings.TrimSuffix(x.res.Archive, ".h5") + ".png"
	// Through the archive's directory walked from the root without
	// following links, as the archive itself was written.
	err := errors.New("the archive is not below the archive root")
	root, _ := filepath.Abs(x.root)
	if rel, rerr := filepath.Rel(root, filepath.Dir(path)); rerr == nil && filepath.IsLocal(rel) {
		var dir *os.File
		if dir, err = durable.OpenDir(root, rel, 0); err == nil {
			err = durable.WriteFileAt(dir, filepath.Base(path), x.quicklook, 0o644)
			dir.Close()
		}
	}
	if err != nil {
		rec.QuicklookError = err.Error()
		return
	}
	sum := sha256.Sum256(x.quicklook)
	rec.QuicklookPath, rec.QuicklookSHA256 = path, hex.EncodeToString(sum[:])
}
