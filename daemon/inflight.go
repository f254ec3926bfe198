package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// A file that kills the daemon while it is processed (the kernel's OOM
// killer, an abort inside libhdf5) would be found again by the catch-up
// scan at every start and kill it again: a crash loop in which no other
// file is archived. So while a file is read and processed, a marker naming
// it lies in state_dir/inflight; a clean end of the work removes it, and a
// marker found at start is a death. After daemon.max_deaths (default 3)
// deaths while processing the same version of a file, with no clean end of
// its processing in between, the file is quarantined instead of processed
// again.
//
// Markers are written without fsync: they guard against the process
// dying, whose writes the page cache keeps, not against power loss, after
// which a file is simply tried again.

// inflightDir is the directory of the markers below state_dir.
const inflightDir = "inflight"

// marker is what an in-flight marker file holds.
type marker struct {
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	Deaths  int       `json:"deaths"` // deaths before this attempt
	Since   time.Time `json:"since"`
}

// inflight keeps the markers of one daemon.
type inflight struct {
	dir string // "" keeps no markers

	mu     sync.Mutex
	refs   map[string]int       // work under way per path: a worker and work ahead may overlap
	since  map[string]time.Time // when the work under way on a path began
	deaths map[string]marker    // deaths counted at start, by path
}

func newInflight(stateDir string) *inflight {
	f := &inflight{refs: map[string]int{}, since: map[string]time.Time{}, deaths: map[string]marker{}}
	if stateDir != "" {
		f.dir = filepath.Join(stateDir, inflightDir)
	}
	return f
}

func (f *inflight) name(path string) string {
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(f.dir, hex.EncodeToString(sum[:16])+".json")
}

// load counts the markers a dead daemon left, one death each, and removes
// them: a death counts only while the file is processed, never while the
// daemon merely restarts.
func (f *inflight) load(log *zap.Logger) error {
	if f.dir == "" {
		return nil
	}
	if err := os.MkdirAll(f.dir, 0o750); err != nil {
		return err
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(f.dir, e.Name())
		if !strings.HasSuffix(e.Name(), ".json") {
			os.Remove(p) // a marker's own temp file
			continue
		}
		b, err := os.ReadFile(p)
		var m marker
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil || m.Path == "" {
			log.Warn("unreadable in-flight marker removed", zap.String("marker", p), zap.Error(err))
			os.Remove(p)
			continue
		}
		m.Deaths++
		f.deaths[m.Path] = m
		log.Warn("the daemon stopped while processing this file", zap.String("source", m.Path), zap.Int("times", m.Deaths))
		os.Remove(p)
	}
	return nil
}

// deathsOf returns how many times the daemon stopped while processing
// this version of the file at path.
func (f *inflight) deathsOf(path string, size int64, mtime time.Time) int {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.deaths[path]
	if !ok || m.Size != size || !m.ModTime.Equal(mtime) {
		return 0
	}
	return m.Deaths
}

// begin marks the version of path with this size and mtime as in flight
// until the returned func is called.
func (f *inflight) begin(path string, size int64, mtime time.Time, log *zap.Logger) (end func()) {
	if f == nil || f.dir == "" {
		return func() {}
	}
	f.mu.Lock()
	f.refs[path]++
	first := f.refs[path] == 1
	if first {
		f.since[path] = time.Now()
	}
	f.mu.Unlock()
	if first {
		m := marker{Path: path, Size: size, ModTime: mtime, Since: time.Now().UTC()}
		m.Deaths = f.deathsOf(path, size, mtime)
		if err := f.write(m); err != nil {
			log.Warn("in-flight marker not written", zap.String("source", path), zap.Error(err))
		}
	}
	return func() {
		f.mu.Lock()
		f.refs[path]--
		last := f.refs[path] == 0
		if last {
			delete(f.refs, path)
			delete(f.since, path)
		}
		f.mu.Unlock()
		if last {
			if err := os.Remove(f.name(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				log.Warn("in-flight marker not removed", zap.String("source", path), zap.Error(err))
			}
		}
	}
}

// forget drops the deaths counted for path, once it was handled.
func (f *inflight) forget(path string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	delete(f.deaths, path)
	f.mu.Unlock()
}

func (f *inflight) write(m marker) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	name := f.name(m.Path)
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// poisonReason is the reason a file that stopped the daemon is
// quarantined with.
func poisonReason(deaths int) string {
	return fmt.Sprintf("the daemon stopped %d times while processing it", deaths)
}

// stuck returns a path whose processing began more than limit ago, if any.
func (f *inflight) stuck(limit time.Duration) (string, time.Duration, bool) {
	if f == nil {
		return "", 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, t := range f.since {
		if d := time.Since(t); d > limit {
			return p, d, true
		}
	}
	return "", 0, false
}

// dropOthers removes the markers of every file in flight but keep, so
// that a deliberate exit counts a death against keep alone.
func (f *inflight) dropOthers(keep string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p := range f.refs {
		if p != keep {
			os.Remove(f.name(p))
		}
	}
}
