package watcher

import (
	"container/heap"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gwwatchd/gwwatchd/internal/dropdir"
)

// quiet is how long a file that appeared without being written must stay
// unwritten before it counts as renamed or linked in complete: the Write
// events of a writer that created it in place arrive within it.
const quiet = 25 * time.Millisecond

// version identifies one content of a path. Each is emitted once.
type version struct {
	size     int64
	mtime    int64 // Unix nanoseconds
	dev, ino uint64
}

func versionOf(fi fs.FileInfo) version {
	return version{size: fi.Size(), mtime: fi.ModTime().UnixNano(), dev: device(fi), ino: inode(fi)}
}

// file is what the loop knows about one data file or sidecar.
type file struct {
	sidecar bool

	cur     version // as last stat'ed
	statted bool    // cur is up to date: false after an event said the file changed

	pending    bool      // cur has not been emitted (data) or found complete (sidecar)
	seen       time.Time // when the pending version was first noticed
	born       time.Time // start of the wait for a sidecar
	lastChange time.Time // when a change was last noticed; settling counts from here
	hinted     time.Time // lastChange when a Quiet hint was last sent

	created    bool // appeared by a Create event...
	written    bool // ...and was written to since
	quietUntil time.Time

	done    version // last emitted (data) or found complete (sidecar)
	hasDone bool

	queued bool      // a check is in the queue...
	due    time.Time // ...due then
}

// dueCheck is a check of a file waiting in the queue. Entries whose due time
// no longer matches the file's are stale and skipped.
type dueCheck struct {
	due  time.Time
	path string
}

type checkQueue []dueCheck

func (q checkQueue) Len() int           { return len(q) }
func (q checkQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q checkQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *checkQueue) Push(x any)        { *q = append(*q, x.(dueCheck)) }
func (q *checkQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

// schedule makes sure path is checked no later than at. A check already
// due earlier is kept: it reschedules itself if the file is not ready.
func (s *state) schedule(path string, f *file, at time.Time) {
	if f.queued && !at.Before(f.due) {
		return
	}
	f.queued, f.due = true, at
	heap.Push(&s.queue, dueCheck{due: at, path: path})
}

// kind is what a file name is to a watch.
type kind int

const (
	ignored kind = iota
	data
	sidecar
)

// classify tells data files, sidecars and names to ignore apart.
func (s *state) classify(o *Watch, path string) kind {
	base := filepath.Base(path)
	if ignoredName(base) {
		return ignored
	}
	if s.w.isSidecar(path) {
		return sidecar
	}
	for _, p := range o.Patterns {
		if ok, _ := filepath.Match(p, base); ok {
			return data
		}
	}
	return ignored
}

// ignoredName reports dot-files and the names of files still being written.
func ignoredName(base string) bool {
	return strings.HasPrefix(base, ".") || // also .#* editor locks
		strings.HasSuffix(base, ".tmp") ||
		strings.HasSuffix(base, ".part") ||
		strings.HasSuffix(base, "~")
}

// stemOf is the key that ties a data file to its sidecars.
func stemOf(path string) string { return dropdir.Stem(path) }

// within reports whether path is strictly below dir.
func within(path, dir string) bool { return path != dir && dropdir.Covers(dir, true, path) }

// owner returns the watch that covers files in dir: the deepest one whose
// directory it is, or that recursively contains it; nil if none does.
func (s *state) owner(dir string) *Watch {
	return dropdir.Owner(s.watches, dir, func(w *Watch) (string, bool) { return w.Dir, w.Recursive })
}

// track starts tracking a new file at path, pending since now.
func (s *state) track(path string, k kind, now time.Time) *file {
	f := &file{sidecar: k == sidecar, pending: true, seen: now, born: now, lastChange: now}
	s.files[path] = f
	key := stemOf(path)
	s.stems[key] = append(s.stems[key], path)
	return f
}

// forget drops what is known about path. The data files of a sidecar that
// went away are checked again: they no longer wait for it.
func (s *state) forget(path string) {
	f, ok := s.files[path]
	if !ok {
		return
	}
	delete(s.files, path)
	key := stemOf(path)
	paths := s.stems[key]
	for i, p := range paths {
		if p == path {
			paths = append(paths[:i], paths[i+1:]...)
			break
		}
	}
	if len(paths) == 0 {
		delete(s.stems, key)
	} else {
		s.stems[key] = paths
	}
	if f.sidecar {
		s.wakeData(path)
	}
}

// wakeData checks the pending data files of sidecar now.
func (s *state) wakeData(sidecar string) {
	now := s.w.now()
	for _, p := range s.stems[stemOf(sidecar)] {
		if f := s.files[p]; f != nil && !f.sidecar && f.pending {
			s.schedule(p, f, now)
		}
	}
}

// sidecarState is whether a data file has a sidecar, and whether it is complete.
type sidecarState int

const (
	noSidecar sidecarState = iota
	sidecarPending
	sidecarReady
)

// sidecarOf looks for the sidecars of the data file at path. A sidecar on
// disk that the loop has not heard of yet is tracked from now on.
func (s *state) sidecarOf(path string, o *Watch, now time.Time) sidecarState {
	key := stemOf(path)
	st := noSidecar
	for _, p := range s.stems[key] {
		f := s.files[p]
		if f == nil || !f.sidecar {
			continue
		}
		if f.pending {
			return sidecarPending
		}
		st = sidecarReady
	}
	if st != noSidecar {
		return st
	}
	for _, p := range dropdir.Sidecars(key) {
		if _, ok := s.files[p]; ok || s.classify(o, p) != sidecar {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		s.notice(p, sidecar, fi, false, now)
		st = sidecarPending
	}
	return st
}

// notice records a file found by a scan. Trusting the mtime (files already
// present at start or when a watch is added) lets an old file count as
// settled at once; otherwise it must be seen holding still for a settle
// time, since its mtime may come from another clock.
func (s *state) notice(path string, k kind, fi fs.FileInfo, trustMtime bool, now time.Time) {
	f := s.files[path]
	if f == nil {
		f = s.track(path, k, now)
		if m := fi.ModTime(); trustMtime && m.Before(now) {
			f.lastChange, f.born = m, m
		}
		f.cur, f.statted = versionOf(fi), true
		s.schedule(path, f, now)
		return
	}
	if f.pending && f.queued {
		return // the check under way stats it anyway
	}
	if f.pending || !f.statted || versionOf(fi) != f.cur {
		s.schedule(path, f, now)
	}
}
