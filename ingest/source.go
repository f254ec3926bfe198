package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gwwatchd/gwwatchd/internal/dropdir"
)

// Unchanged reports, with an error wrapping ErrChanged, whether the file
// src describes, or its sidecar, is no longer what was read: another file
// (device and inode) or a symbolic link at its name, a different size or
// modification time, a sidecar that appeared, went or holds other bytes.
// Work done on src is valid only while Unchanged returns nil.
func (src Source) Unchanged() error {
	fi, err := os.Lstat(src.Path)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	id, _ := idOf(fi)
	if !fi.Mode().IsRegular() || id != src.ID || fi.Size() != src.Size || !fi.ModTime().Equal(src.ModTime) {
		return fmt.Errorf("ingest: %s: %w", src.Path, ErrChanged)
	}
	for _, p := range dropdir.Sidecars(dropdir.Stem(src.Path)) {
		_, err := os.Lstat(p)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("ingest: %w", err)
		}
		was := src.Sidecar != nil && src.Sidecar.Path == p
		if exists != was {
			return fmt.Errorf("ingest: %s: %w: sidecar %s appeared or went", src.Path, ErrChanged, p)
		}
		if !exists {
			continue
		}
		data, _, f, err := readFile(p, src.Path, maxSidecarSize, nil)
		if err != nil {
			return err
		}
		f.Close()
		if sha256Hex(data) != src.Sidecar.SHA256 {
			return fmt.Errorf("ingest: %s: %w: sidecar %s", src.Path, ErrChanged, p)
		}
	}
	return nil
}
