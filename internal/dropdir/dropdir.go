// Package dropdir holds the rules of a watched drop directory that the
// watcher, ingest, the daemon and the configuration share: which files are
// sidecars, whose sidecars they are, and which watch a file belongs to.
package dropdir

import (
	"path/filepath"
	"strings"
)

// SidecarExts are the extensions of a data file's sidecar, in the order
// they are looked for: <stem>.json or <stem>.toml beside it.
var SidecarExts = []string{".json", ".toml"}

// IsSidecar reports whether path names a sidecar rather than data: its
// extension, in any case, is one of SidecarExts.
func IsSidecar(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range SidecarExts {
		if ext == e {
			return true
		}
	}
	return false
}

// Stem is what ties a data file to its sidecars: the path without its
// extension.
func Stem(path string) string { return strings.TrimSuffix(path, filepath.Ext(path)) }

// Sidecars returns the paths a sidecar of the data files with this stem
// may have, in the order of SidecarExts.
func Sidecars(stem string) []string {
	out := make([]string, len(SidecarExts))
	for i, e := range SidecarExts {
		out[i] = stem + e
	}
	return out
}

// Covers reports whether a watch of the directory watched takes the files
// of the directory dir: dir is watched itself or, for a recursive watch,
// lies below it. Both are clean absolute paths.
func Covers(watched string, recursive bool, dir string) bool {
	if dir == watched {
		return true
	}
	if !recursive {
		return false
	}
	if watched == "/" {
		return len(dir) > 1 && dir[0] == '/'
	}
	return len(dir) > len(watched) && dir[len(watched)] == '/' && strings.HasPrefix(dir, watched)
}

// Owner returns the watch among ws that takes the files of the directory
// dir (see Covers), the deepest when watches nest, or nil. watch gives a
// watch's directory, clean and absolute, and whether it is recursive.
func Owner[W any](ws []W, dir string, watch func(*W) (string, bool)) *W {
	var best *W
	bestLen := -1
	for i := range ws {
		wd, rec := watch(&ws[i])
		if Covers(wd, rec, dir) && len(wd) > bestLen {
			best, bestLen = &ws[i], len(wd)
		}
	}
	return best
}
