package watcher

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// state is owned by the goroutine running Run: only accessed from there,
// so no mutex.
type state struct {
	ctx  context.Context
	w    *Watcher
	fsw  *fsnotify.Watcher
	log  *zap.Logger
	beat *time.Ticker

	watches []Watch
	dirs    map[string]bool     // directories with an inotify watch
	files   map[string]*file    // data files and sidecars that exist, by path
	stems   map[string][]string // tracked paths by stemOf
	queue   checkQueue
	missing map[string]bool        // watch dirs found gone, so that it is logged once
	odd     map[string]fs.FileMode // non-regular files met, so that each is logged once
}

func newState(ctx context.Context, w *Watcher, fsw *fsnotify.Watcher) *state {
	return &state{
		ctx:     ctx,
		w:       w,
		fsw:     fsw,
		log:     w.log,
		dirs:    make(map[string]bool),
		files:   make(map[string]*file),
		stems:   make(map[string][]string),
		missing: make(map[string]bool),
		odd:     make(map[string]fs.FileMode),
	}
}

// start adds the watches and queues the files already present. Any
// directory that cannot be watched is fatal here.
func (s *state) start() error {
	s.watches = s.w.config()
	for _, wt := range s.watches {
		if err := s.walk(wt.Dir, &scan{trustMtime: true, now: s.w.now()}); err != nil {
			return err
		}
	}
	return nil
}

func (s *state) loop() error {
	s.beat = time.NewTicker(heartbeat)
	defer s.beat.Stop()
	var rescan <-chan time.Time
	if d := s.w.rescanEvery; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		rescan = t.C
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	for {
		s.w.touch()
		if len(s.queue) > 0 {
			timer.Reset(max(0, s.queue[0].due.Sub(s.w.now())))
		} else {
			timer.Stop()
		}

		select {
		case <-s.ctx.Done():
			return nil
		case ev, ok := <-s.fsw.Events:
			if !ok {
				return errors.New("watcher: inotify event channel closed")
			}
			s.handle(ev)
		case err, ok := <-s.fsw.Errors:
			if !ok {
				return errors.New("watcher: inotify error channel closed")
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				s.log.Warn("inotify queue overflowed: events were lost; rescanning")
				s.rescan()
			} else {
				s.log.Error("inotify", zap.Error(err))
			}
		case <-timer.C:
			if !s.runDue() {
				return nil
			}
		case <-rescan:
			s.rescan()
		case <-s.w.rescanReq:
			s.rescan()
		case <-s.w.reloadReq:
			s.reload()
		case <-s.w.doneReq:
			s.handleDone()
		case <-s.beat.C:
		}
	}
}

// runDue checks the files that are due. It returns false if the context
// ended while an event waited for the consumer.
func (s *state) runDue() bool {
	// Events already read from the kernel come first: a Write queued behind
	// a Create decides whether the file was written in place.
	s.drain()
	now := s.w.now()
	for len(s.queue) > 0 && !s.queue[0].due.After(now) {
		c := heap.Pop(&s.queue).(dueCheck)
		f := s.files[c.path]
		if f == nil || !f.queued || !f.due.Equal(c.due) {
			continue
		}
		f.queued = false
		if !s.check(c.path, f, now) {
			return false
		}
	}
	return true
}

func (s *state) drain() {
	for range cap(s.fsw.Events) + 1 {
		select {
		case ev, ok := <-s.fsw.Events:
			if !ok {
				return
			}
			s.handle(ev)
		default:
			return
		}
	}
}

func (s *state) handle(ev fsnotify.Event) {
	if s.w.dropEvent != nil && s.w.dropEvent(ev) {
		return
	}
	now := s.w.now()
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		s.gone(ev.Name)
	}
	switch {
	case ev.Has(fsnotify.Create):
		s.created(ev.Name, now)
	case ev.Has(fsnotify.Write):
		s.written(ev.Name, now)
	case ev.Has(fsnotify.Chmod):
		s.poked(ev.Name, now)
	}
}

// created handles a file or directory that appeared, by creation, rename
// or link.
func (s *state) created(path string, now time.Time) {
	fi, err := os.Lstat(path)
	if err != nil {
		return // gone again; its Remove event follows
	}
	if fi.IsDir() {
		if ignoredName(filepath.Base(path)) || s.owner(path) == nil {
			return
		}
		// Files may have landed before the watch was added: scan them.
		if err := s.walk(path, &scan{now: now}); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("watch new directory", zap.Error(err))
		}
		return
	}
	if !fi.Mode().IsRegular() {
		s.oddFile(path, fi.Mode())
		return
	}
	o := s.owner(filepath.Dir(path))
	if o == nil {
		return
	}
	k := s.classify(o, path)
	if k == ignored {
		return
	}
	// A new file at this path: whatever was known about the old one is void.
	s.forget(path)
	f := s.track(path, k, now)
	f.created, f.quietUntil = true, now.Add(quiet)
	s.schedule(path, f, f.quietUntil)
}

// written restarts the settle time of path.
func (s *state) written(path string, now time.Time) {
	f := s.files[path]
	if f == nil {
		s.poked(path, now)
		if f = s.files[path]; f == nil {
			return
		}
	}
	f.written, f.statted, f.lastChange = true, false, now
	if !f.pending {
		f.pending, f.seen, f.born = true, now, now
	}
	if f.queued {
		return // the queued check reschedules itself from lastChange
	}
	if o := s.owner(filepath.Dir(path)); o != nil {
		// Early enough for the Quiet hint; check reschedules from there.
		s.schedule(path, f, now.Add(o.Settle/4))
	}
}

// poked looks at path again after an event that may or may not mean a
// change (attributes, or a Write to a file not tracked yet).
func (s *state) poked(path string, now time.Time) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	o := s.owner(filepath.Dir(path))
	if o == nil {
		return
	}
	if k := s.classify(o, path); k != ignored {
		s.notice(path, k, fi, false, now)
	}
}

// gone handles a path removed or moved away.
func (s *state) gone(path string) {
	if !s.dirs[path] {
		s.forget(path)
		delete(s.odd, path)
		return
	}
	for _, wt := range s.watches {
		if wt.Dir == path {
			s.log.Warn("watch dir is gone; watching it again when a rescan finds it", zap.String("dir", path))
			s.missing[path] = true
		}
	}
	s.removeTree(path)
}

// check looks at a due file, and emits it if it is ready. It returns false
// if the context ended while the event waited for the consumer.
func (s *state) check(path string, f *file, now time.Time) bool {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		s.forget(path)
		return true
	}
	if err != nil {
		s.log.Error("stat", zap.Error(err))
		s.schedule(path, f, now.Add(time.Second))
		return true
	}
	o := s.owner(filepath.Dir(path))
	if o == nil || !fi.Mode().IsRegular() {
		s.forget(path)
		return true
	}

	v := versionOf(fi)
	if f.statted && v != f.cur {
		f.lastChange = now // changed without an event telling
	}
	f.cur, f.statted = v, true
	if f.hasDone && v == f.done {
		f.pending = false
	} else if !f.pending {
		f.pending, f.seen, f.born = true, now, now
	}
	if !f.pending {
		return true
	}

	// Content that appeared without a single write was renamed or linked in whole.
	renamed := f.created && !f.written && v.size > 0
	if renamed && now.Before(f.quietUntil) {
		s.schedule(path, f, f.quietUntil)
		return true
	}
	if !renamed && now.Sub(f.lastChange) < o.Settle {
		next := f.lastChange.Add(o.Settle)
		if !f.sidecar && !f.hinted.Equal(f.lastChange) {
			if at := f.lastChange.Add(o.Settle / 4); now.Before(at) {
				next = at
			} else {
				f.hinted = f.lastChange
				select {
				case s.w.quiet <- s.event(path, f, o, false):
				default:
				}
			}
		}
		s.schedule(path, f, next)
		return true
	}

	if f.sidecar {
		f.pending, f.done, f.hasDone = false, v, true
		s.wakeData(path)
		return true
	}
	switch s.sidecarOf(path, o, now) {
	case sidecarPending:
		// Woken when the sidecar is complete; the timer is a fallback.
		s.schedule(path, f, now.Add(o.Settle))
		return true
	case noSidecar:
		// Give a sidecar dropped just after its data file the chance to be used.
		if hold := f.born.Add(o.Settle); now.Before(hold) {
			s.schedule(path, f, hold)
			return true
		}
	}
	return s.emit(path, f, o, renamed)
}

func (s *state) emit(path string, f *file, o *Watch, renamed bool) bool {
	ev := s.event(path, f, o, renamed)
	if !s.send(ev) {
		return false
	}
	f.pending, f.done, f.hasDone = false, f.cur, true
	f.created, f.written = false, false
	s.log.Debug("ready", zap.String("path", path), zap.Int64("size", ev.Size), zap.Bool("renamed", renamed))
	return true
}

// event describes the current version of path.
func (s *state) event(path string, f *file, o *Watch, renamed bool) Event {
	rel, err := filepath.Rel(o.Dir, path)
	if err != nil {
		rel = filepath.Base(path)
	}
	return Event{
		Watch:   o.ID,
		Path:    path,
		Rel:     rel,
		Size:    f.cur.size,
		ModTime: time.Unix(0, f.cur.mtime),
		Dev:     f.cur.dev,
		Ino:     f.cur.ino,
		Seen:    f.seen,
		Renamed: renamed,
		Changed: f.lastChange,
	}
}

// send waits for the consumer to take ev, staying alive for LastActive.
func (s *state) send(ev Event) bool {
	for {
		select {
		case s.w.events <- ev:
			return true
		case <-s.ctx.Done():
			return false
		case <-s.beat.C:
			s.w.touch()
		}
	}
}

// scan is one walk over directories.
type scan struct {
	trustMtime bool // files are pre-existing: an old mtime means settled
	now        time.Time
	// files and dirs collect what the walk found, when it is to forget
	// what it did not; partial says some of it could not be read.
	files, dirs map[string]bool
	partial     bool
}

// walk adds a watch on dir, then notices its files, and does the same for
// every subdirectory a watch covers. The watch comes first so that a file
// landing during the walk is either listed or reported by an event. It
// returns an error for dir itself or an exhausted inotify limit; other
// problems below dir are logged.
func (s *state) walk(dir string, sc *scan) error {
	if err := s.watchDir(dir); err != nil {
		return err
	}
	if sc.dirs != nil {
		sc.dirs[dir] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	o := s.owner(dir)
	if o == nil {
		return nil
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			if ignoredName(e.Name()) || s.owner(p) == nil {
				continue
			}
			err := s.walk(p, sc)
			switch {
			case err == nil || errors.Is(err, fs.ErrNotExist):
			case isLimit(err):
				return err
			default:
				s.log.Error("scan", zap.Error(err))
				sc.partial = true
			}
		case e.Type().IsRegular():
			k := s.classify(o, p)
			if k == ignored {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // removed since listed
			}
			if sc.files != nil {
				sc.files[p] = true
			}
			s.notice(p, k, fi, sc.trustMtime, sc.now)
		default:
			s.oddFile(p, e.Type())
		}
	}
	return nil
}

// oddFile logs, once per path and type, a symbolic link, FIFO, device or
// socket in a watch directory that a watch's patterns or sidecars name:
// such a file is never read, and the operator should know why it stays.
func (s *state) oddFile(path string, mode fs.FileMode) {
	o := s.owner(filepath.Dir(path))
	if o == nil || s.classify(o, path) == ignored {
		return
	}
	t := mode.Type()
	if prev, ok := s.odd[path]; ok && prev == t {
		return
	}
	s.odd[path] = t
	what := "not a regular file"
	switch {
	case t&fs.ModeSymlink != 0:
		what = "a symbolic link"
	case t&fs.ModeNamedPipe != 0:
		what = "a FIFO"
	case t&fs.ModeDevice != 0:
		what = "a device node"
	case t&fs.ModeSocket != 0:
		what = "a socket"
	case t&fs.ModeDir != 0:
		return
	}
	s.log.Warn("ignored: "+what+", not a regular file; only regular files are archived", zap.String("path", path))
}

func (s *state) watchDir(dir string) error {
	if s.dirs[dir] {
		return nil
	}
	if err := s.fsw.Add(dir); err != nil {
		return addError(dir, err)
	}
	s.dirs[dir] = true
	return nil
}

func (s *state) unwatch(dir string) {
	delete(s.dirs, dir)
	// The kernel has already dropped the watch of a removed directory.
	if err := s.fsw.Remove(dir); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
		s.log.Debug("remove watch", zap.String("dir", dir), zap.Error(err))
	}
}

// removeTree forgets dir, the directories below it and their files.
func (s *state) removeTree(dir string) {
	for d := range s.dirs {
		if d == dir || within(d, dir) {
			s.unwatch(d)
		}
	}
	for p := range s.files {
		if within(p, dir) {
			s.forget(p)
		}
	}
}

// rescan walks every watch again: it finds files and directories whose
// events were missed, re-adds watch dirs that came back, and forgets what
// no longer exists.
func (s *state) rescan() {
	sc := &scan{now: s.w.now(), files: make(map[string]bool), dirs: make(map[string]bool)}
	for _, wt := range s.watches {
		fi, err := os.Stat(wt.Dir)
		if err != nil || !fi.IsDir() {
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				sc.partial = true
			}
			if !s.missing[wt.Dir] {
				s.log.Warn("watch dir is gone; watching it again when a rescan finds it", zap.String("dir", wt.Dir))
				s.missing[wt.Dir] = true
			}
			continue
		}
		if s.missing[wt.Dir] {
			s.log.Info("watch dir is back", zap.String("dir", wt.Dir))
			delete(s.missing, wt.Dir)
		}
		if err := s.walk(wt.Dir, sc); err != nil {
			s.log.Error("rescan", zap.Error(err))
			sc.partial = true
		}
	}
	if sc.partial {
		return // forgetting what could not be read would emit it again later
	}
	for d := range s.dirs {
		if !sc.dirs[d] {
			s.unwatch(d)
		}
	}
	for p := range s.files {
		if !sc.files[p] {
			s.forget(p)
		}
	}
}

// reload applies the configuration last passed to SetWatches.
func (s *state) reload() {
	prev := make(map[string]Watch, len(s.watches))
	for _, wt := range s.watches {
		prev[wt.Dir] = wt
	}
	s.watches = s.w.config()

	for d := range s.dirs {
		if s.owner(d) == nil {
			s.unwatch(d)
		}
	}
	for p, f := range s.files {
		o := s.owner(filepath.Dir(p))
		if o == nil {
			s.forget(p)
			continue
		}
		if k := s.classify(o, p); k == ignored || (k == sidecar) != f.sidecar {
			s.forget(p)
		}
	}
	for d := range s.missing {
		if s.owner(d) == nil {
			delete(s.missing, d)
		}
	}
	for _, wt := range s.watches {
		if old, ok := prev[wt.Dir]; ok && old.Recursive == wt.Recursive && slices.Equal(old.Patterns, wt.Patterns) {
			continue
		}
		if err := s.walk(wt.Dir, &scan{trustMtime: true, now: s.w.now()}); err != nil {
			s.log.Error("add watch", zap.Error(err))
		}
	}
}

// handleDone forgets the paths passed to Done, and their sidecars, that
// no longer exist.
func (s *state) handleDone() {
	for _, p := range s.w.takeDone() {
		for _, q := range slices.Clone(s.stems[stemOf(p)]) {
			if _, err := os.Lstat(q); errors.Is(err, fs.ErrNotExist) {
				s.forget(q)
			}
		}
	}
}
