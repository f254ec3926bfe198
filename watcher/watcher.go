package watcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/gwwatchd/gwwatchd/internal/dropdir"
)

// Watch is one drop directory.
type Watch struct {
	ID        int           // caller's handle (index of the [[watch]] entry); returned in events
	Dir       string        // a relative path is taken from the working directory
	Patterns  []string      // filepath.Match globs on the base name; a file matching none is ignored
	Recursive bool          // also subdirectories, including ones created later
	Settle    time.Duration // how long size and mtime must hold still before a file is complete
}

// Event is a data file that is complete and ready to be archived.
type Event struct {
	Watch   int       // Watch.ID
	Path    string    // absolute path of a ready data file
	Rel     string    // path relative to Watch.Dir
	Size    int64     // size of the version that became ready
	ModTime time.Time // mtime of the version that became ready
	// Dev and Ino identify the file of that version, as lstat saw it: the
	// consumer opens the path and checks that it got this very file, not
	// one swapped in since (0 where the platform has none).
	Dev, Ino uint64
	Seen     time.Time // when the watcher first noticed this version of the file
	Renamed  bool      // became ready because it was renamed or linked in complete, not by settling

	// Changed is when the watcher last noticed this file change. An Event
	// and an earlier Quiet event with the same Changed saw the same
	// version: nothing was written between them.
	Changed time.Time
}

// Options configure a Watcher. The zero value works.
type Options struct {
	Rescan    time.Duration          // periodic rescan; 0 = none
	Logger    *zap.Logger            // nil: no logging
	Now       func() time.Time       // nil: time.Now
	IsSidecar func(path string) bool // nil: dropdir.IsSidecar (.json or .toml)
}

// heartbeat is how often the loop wakes up, even when idle or waiting for
// the consumer, so that LastActive stays fresh while the watcher is healthy.
const heartbeat = time.Second

// Watcher finds complete files in drop directories and sends them on
// Events, each version of a file once. Its methods are safe for concurrent
// use; the state of the files is owned by the goroutine running Run.
type Watcher struct {
	log         *zap.Logger
	now         func() time.Time
	isSidecar   func(string) bool
	rescanEvery time.Duration

	events    chan Event
	quiet     chan Event
	ready     chan struct{}
	rescanReq chan struct{}
	reloadReq chan struct{}
	doneReq   chan struct{}

	mu      sync.Mutex
	watches []Watch  // the configuration Run is to apply
	done    []string // paths passed to Done, not yet handled by Run

	running    atomic.Bool
	stopped    atomic.Bool
	lastActive atomic.Int64

	// fsw is set by Run before Ready is closed.
	fsw *fsnotify.Watcher
	// dropEvent, when set before Run, discards the fsnotify events it
	// reports, as an overflowing kernel queue does.
	dropEvent func(fsnotify.Event) bool
}

// New validates the watches and returns a Watcher that watches nothing
// until Run. Every directory must exist.
func New(watches []Watch, opts Options) (*Watcher, error) {
	ws, err := validate(watches)
	if err != nil {
		return nil, err
	}
	w := &Watcher{
		log:         opts.Logger,
		now:         opts.Now,
		isSidecar:   opts.IsSidecar,
		rescanEvery: opts.Rescan,
		events:      make(chan Event),
		quiet:       make(chan Event, quietBuffer),
		ready:       make(chan struct{}),
		rescanReq:   make(chan struct{}, 1),
		reloadReq:   make(chan struct{}, 1),
		doneReq:     make(chan struct{}, 1),
		watches:     ws,
	}
	if w.log == nil {
		w.log = zap.NewNop()
	}
	w.log = w.log.Named("watcher")
	if w.now == nil {
		w.now = time.Now
	}
	if w.isSidecar == nil {
		w.isSidecar = dropdir.IsSidecar
	}
	return w, nil
}

// validate checks watches and returns a copy with absolute, clean dirs.
func validate(watches []Watch) ([]Watch, error) {
	out := make([]Watch, len(watches))
	byDir := make(map[string]int, len(watches))
	for i, wt := range watches {
		if wt.Dir == "" {
			return nil, fmt.Errorf("watch %d: no directory", wt.ID)
		}
		dir, err := filepath.Abs(wt.Dir)
		if err != nil {
			return nil, fmt.Errorf("watch dir %s: %w", wt.Dir, err)
		}
		fi, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("watch dir %s: no such directory", dir)
		case err != nil:
			return nil, fmt.Errorf("watch dir: %w", err)
		case !fi.IsDir():
			return nil, fmt.Errorf("watch dir %s: not a directory", dir)
		}
		if j, dup := byDir[dir]; dup {
			return nil, fmt.Errorf("watch dir %s: listed twice (watches %d and %d)", dir, watches[j].ID, wt.ID)
		}
		byDir[dir] = i
		if wt.Settle <= 0 {
			return nil, fmt.Errorf("watch dir %s: settle must be positive, got %s", dir, wt.Settle)
		}
		if len(wt.Patterns) == 0 {
			return nil, fmt.Errorf("watch dir %s: no patterns", dir)
		}
		for _, p := range wt.Patterns {
			if _, err := filepath.Match(p, ""); err != nil {
				return nil, fmt.Errorf("watch dir %s: pattern %q: %w", dir, p, err)
			}
		}
		wt.Dir = dir
		wt.Patterns = slices.Clone(wt.Patterns)
		out[i] = wt
	}
	return out, nil
}

// Run adds the inotify watches, queues a catch-up scan of the files already
// present, closes Ready, and then watches until ctx is done (returning nil)
// or a fatal error. At start, a directory that cannot be watched is fatal;
// later, such problems are logged and retried on rescans. Run may be
// called once.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("watcher: Run called twice")
	}
	defer w.stopped.Store(true)
	w.touch()
	fsw, err := fsnotify.NewBufferedWatcher(1024)
	if err != nil {
		return startError(err)
	}
	defer fsw.Close()

	s := newState(ctx, w, fsw)
	if err := s.start(); err != nil {
		return err
	}
	w.fsw = fsw
	close(w.ready)
	return s.loop()
}

// Events delivers the ready files. Run blocks until each is taken (a slow
// consumer slows the watcher; nothing is dropped). The channel is never
// closed: select on it together with Run's result or the context.
func (w *Watcher) Events() <-chan Event { return w.events }

// Quiet sends data files written in place that have then been left alone
// for a quarter of their watch's settle time: probably complete, but not
// ready yet. A consumer may start work on such a file ahead of time, but
// may act on that work only once the file's Event arrives with the same
// Changed, and the file on disk is still the version it read. Nothing
// waits for Quiet to be read: when the consumer lags, hints are dropped.
func (w *Watcher) Quiet() <-chan Event { return w.quiet }

// quietBuffer is how many Quiet hints may wait for the consumer.
const quietBuffer = 16

// Ready is closed once the watches are in place and the files already
// present are queued for checking.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// SetWatches replaces the configuration: directories no longer listed stop
// being watched and their files are forgotten, new ones are added and
// scanned (their files count as already present), and patterns, recursion
// and settle times are updated. It validates synchronously; the change
// itself is applied by Run, and problems adding watches are logged.
func (w *Watcher) SetWatches(watches []Watch) error {
	ws, err := validate(watches)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.watches = ws
	w.mu.Unlock()
	signal(w.reloadReq)
	return nil
}

// Rescan asks Run to rescan every directory now. It does not block.
func (w *Watcher) Rescan() { signal(w.rescanReq) }

// LastActive is when Run's loop last ran. It advances at least every
// second while Run is healthy, including while Run waits for the consumer
// to take an event; it is the zero time before Run.
func (w *Watcher) LastActive() time.Time {
	n := w.lastActive.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Done tells the watcher the consumer is finished with path. If the file
// is gone (moved or deleted), its state and that of its gone sidecars is
// forgotten at once rather than when the event for the removal arrives;
// if it is still there, the version already emitted is remembered and not
// emitted again. It does not block.
func (w *Watcher) Done(path string) {
	if w.stopped.Load() {
		return
	}
	w.mu.Lock()
	w.done = append(w.done, path)
	w.mu.Unlock()
	signal(w.doneReq)
}

func (w *Watcher) config() []Watch {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.watches
}

func (w *Watcher) takeDone() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.done
	w.done = nil
	return d
}

func (w *Watcher) touch() { w.lastActive.Store(w.now().UnixNano()) }

// signal wakes the receiver of a one-slot channel; a wake-up already
// pending is enough.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
