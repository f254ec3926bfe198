// Package daemon runs gwwatchd as a service: the watcher finds ready
// files, a pool of pipeline workers archives them, and each source is then
// kept, moved, deleted or quarantined as its watch says.
package daemon

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/sdnotify"
	"github.com/gwwatchd/gwwatchd/watcher"
)

// Options configures a Daemon.
type Options struct {
	Config     *config.Config
	ConfigPath string // re-read on Reload; "" keeps the embedded default
	Logger     *zap.Logger
	Audit      *audit.Log   // open; the daemon appends to it but does not close it
	Index      *audit.Index // replayed from Audit's log before the start
	Notifier   *sdnotify.Notifier
	Metrics    Metrics // nil: none
	CPUs       int     // CPUs each worker's processing may use

	// Quicklook draws the quick-look PNGs the configuration asks for
	// (pipeline.Options.Quicklook); nil draws none.
	Quicklook func(*archive.Doc) ([]byte, error)

	// Reopen opens the audit log again, with the index replayed from it,
	// after appends to it failed; nil leaves the log down until restart.
	Reopen func() (*audit.Log, *audit.Index, error)

	// Abort ends the process at once with the exit code, for a file stuck
	// in processing (see daemon.process_timeout); nil only logs it.
	Abort func(code int)
}

// ExitStuck is the exit code of a daemon that ended itself because a file
// was stuck in processing.
const ExitStuck = 3

// Daemon archives every file dropped into the watched directories.
type Daemon struct {
	opts    Options
	log     *zap.Logger
	cfg     atomic.Pointer[config.Config]
	watcher *watcher.Watcher

	logx *audit.Indexed // the audit log and its de-duplication index
	// inflight marks the files being processed, so that one that kills
	// the daemon is quarantined after daemon.max_deaths deaths.
	inflight *inflight
	audit    *auditState
	budget   *budget // daemon.memory_limit
	// removeMu serialises removals, from planning to the last record, so
	// that two never choose one destination and recovery never meets a
	// plan under way.
	removeMu sync.Mutex

	mu     sync.Mutex        // guards retry and aheads
	retry  map[string]int    // attempts per source path, for transient failures
	aheads map[string]*ahead // work ahead by source path, until its file is ready
	ahead  chan *ahead       // to the goroutines that work ahead
	// stopAhead cancels the work ahead under way, once intake stops.
	stopAhead context.CancelFunc
	busy      atomic.Int64 // workers handling a file

	jobs     chan job
	stopping chan struct{} // closed when intake stops
	closeMu  sync.RWMutex  // guards closed against sends on jobs
	closed   bool
	lastMove atomic.Int64 // unix nanos of the last job taken by a worker
	queued   atomic.Int64

	// The commits under way (commit): a slot each, and Run waits for them.
	commitSlots chan struct{}
	committing  sync.WaitGroup
}

type job struct {
	ev      watcher.Event
	attempt int
}

// Metrics takes what the daemon counts and measures. *metrics.Metrics is
// the daemon's; its methods, as these must, take a nil receiver for none.
type Metrics interface {
	Archived(watch string, bytes int64, latency time.Duration)
	Duplicate(watch string)
	Rejected(watch string)
	Failed(watch string) // a transient failure, retried
	SetQueueDepth(n int)
	SetAuditUp(up bool)
	SetMemory(limit, inUse int64)
}

// noMetrics is the Metrics of Options without any.
type noMetrics struct{}

func (noMetrics) Archived(string, int64, time.Duration) {}
func (noMetrics) Duplicate(string)                      {}
func (noMetrics) Rejected(string)                       {}
func (noMetrics) Failed(string)                         {}
func (noMetrics) SetQueueDepth(int)                     {}
func (noMetrics) SetAuditUp(bool)                       {}
func (noMetrics) SetMemory(int64, int64)                {}

// metrics returns the Metrics of the options, or noMetrics.
func (d *Daemon) metrics() Metrics {
	if d.opts.Metrics == nil {
		return noMetrics{}
	}
	return d.opts.Metrics
}

// New prepares a daemon; Run starts it.
func New(opts Options) (*Daemon, error) {
	d := &Daemon{
		opts:     opts,
		log:      opts.Logger,
		logx:     audit.NewIndexed(opts.Audit, opts.Index),
		inflight: newInflight(opts.Config.Daemon.StateDir),
		audit:    newAuditState(),
		retry:    map[string]int{},
		aheads:   map[string]*ahead{},
		ahead:    make(chan *ahead),
		jobs:     make(chan job, opts.Config.Daemon.Queue),
		stopping: make(chan struct{}),

		commitSlots: make(chan struct{}, maxCommits),
	}
	d.cfg.Store(opts.Config)
	avail, from := availableMemory()
	limit, err := opts.Config.Daemon.MemoryLimit.Resolve(avail)
	if err != nil {
		return nil, fmt.Errorf("daemon.memory_limit: %w", err)
	}
	d.budget = newBudget(limit, opts.Metrics)
	opts.Logger.Info("memory budget", zap.String("limit", mib(limit)), zap.String("of", mib(avail)+", "+from))
	w, err := watcher.New(watches(opts.Config), watcher.Options{Rescan: opts.Config.Daemon.Rescan.Duration, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	d.watcher = w
	d.lastMove.Store(time.Now().UnixNano())
	return d, nil
}

// watches turns the configured watches into the watcher's.
func watches(cfg *config.Config) []watcher.Watch {
	out := make([]watcher.Watch, len(cfg.Watch))
	for i, w := range cfg.Watch {
		out[i] = watcher.Watch{ID: i, Dir: w.Dir, Patterns: w.Patterns, Recursive: w.Recursive, Settle: w.Settle.Duration}
	}
	return out
}

// Run archives until ctx is cancelled, then stops intake and lets the
// files in flight finish within the shutdown timeout.
func (d *Daemon) Run(ctx context.Context) error {
	alive, stopAlive := context.WithCancel(context.Background())
	defer stopAlive()
	go d.keepAlive(alive)
	cfg := d.cfg.Load()
	if err := TidyRoot(cfg.Archive.Root, d.log); err != nil {
		return err
	}
	// Before the watcher looks: a source whose removal a crash
	// interrupted is not new work, and a file that was being processed
	// when the daemon died is counted.
	if stale, err := TidyMoves(cfg, true); err != nil {
		return err
	} else if len(stale) > 0 {
		d.log.Info("removed partial copies a crash left in done and quarantine directories", zap.Int("files", len(stale)))
	}
	d.recoverRemovals()
	if err := d.inflight.load(d.log); err != nil {
		return err
	}
	intake, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	watchErr := make(chan error, 1)
	go func() { watchErr <- d.watcher.Run(intake) }()

	workers, stopWorkers := context.WithCancel(context.Background())
	defer stopWorkers()
	var g errgroup.Group
	n := cfg.Daemon.Workers
	for range n {
		// Each worker may use every CPU: at a trickle of files one worker
		// finishes sooner, and under load the goroutines simply share.
		p := d.pipeline(cfg)
		g.Go(func() error { d.work(workers, p); return nil })
	}
	// Work ahead stops as soon as intake does: it is never needed then.
	ahead, stopAhead := context.WithCancel(context.Background())
	defer stopAhead()
	d.stopAhead = stopAhead
	for range n {
		p := d.pipeline(cfg)
		g.Go(func() error { d.workAhead(ahead, p, d.ahead); return nil })
	}
	defer d.discardAheads()
	sweep := time.NewTicker(aheadSweep)
	defer sweep.Stop()
	// Its own goroutine: the loop below may wait on a full queue, which
	// stuck workers would keep full.
	go every(intake, max(cfg.Daemon.ProcessTimeout.Duration/20, time.Second), d.checkStuck)

	select {
	case <-d.watcher.Ready():
	case err := <-watchErr:
		d.closeQueue()
		g.Wait()
		d.committing.Wait()
		return err
	}
	d.notify(d.opts.Notifier.Ready)
	d.log.Info("ready", zap.Int("watches", len(cfg.Watch)), zap.Int("workers", n))

	var err error
	events, quiet := d.watcher.Events(), d.watcher.Quiet()
loop:
	for {
		select {
		case ev := <-events:
			d.submit(job{ev: ev}, intake.Done())
		case ev := <-quiet:
			d.hint(ev, n)
		case now := <-sweep.C:
			d.sweepAheads(now)
		case err = <-watchErr:
			if err != nil {
				d.log.Error("watcher stopped", zap.Error(err))
			}
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	stopIntake()
	d.notify(d.opts.Notifier.Stopping)
	d.log.Info("stopping: finishing files in flight", zap.Int64("queued", d.queued.Load()))
	d.closeQueue()
	done := make(chan struct{})
	go func() { g.Wait(); d.committing.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(cfg.Daemon.ShutdownTimeout.Duration):
		stopWorkers()
		<-done
		return fmt.Errorf("files in flight did not finish within %s", cfg.Daemon.ShutdownTimeout)
	}
	return err
}

// pipeline returns a pipeline for one worker, which records through the
// daemon and de-duplicates by its log.
func (d *Daemon) pipeline(cfg *config.Config) *pipeline.Pipeline {
	return pipeline.New(pipeline.Options{Config: cfg, CPUs: d.opts.CPUs, Recorder: pipeline.RecorderFunc(d.appendRecord), Known: d.logx,
		Quicklook: d.opts.Quicklook})
}

func (d *Daemon) notify(f func() error) {
	if err := f(); err != nil {
		d.log.Warn("sd_notify", zap.Error(err))
	}
}

// submit hands a ready file to the workers, waiting while the queue is
// full so that a slow disk slows intake instead of growing memory. Once
// intake stops, files are left where they are for the next start's scan.
func (d *Daemon) submit(j job, done <-chan struct{}) {
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed {
		return
	}
	d.queued.Add(1)
	d.setQueueDepth()
	select {
	case d.jobs <- j:
	case <-done:
		d.queued.Add(-1)
	case <-d.stopping:
		d.queued.Add(-1)
	}
}

// closeQueue stops intake for good: the workers finish what is queued.
func (d *Daemon) closeQueue() {
	close(d.stopping)
	close(d.ahead)
	if d.stopAhead != nil {
		d.stopAhead()
	}
	d.closeMu.Lock()
	d.closed = true
	close(d.jobs)
	d.closeMu.Unlock()
}

func (d *Daemon) setQueueDepth() {
	d.metrics().SetQueueDepth(int(d.queued.Load()))
}

// Reload re-reads the configuration file: watches are added and removed,
// and new files get the new processing parameters; files in flight keep
// the configuration they started with. An invalid file is logged and the
// old configuration kept.
func (d *Daemon) Reload() error {
	d.notify(d.opts.Notifier.Reloading)
	defer d.notify(d.opts.Notifier.Ready)
	cfg, err := config.Load(d.opts.ConfigPath)
	if err != nil {
		d.log.Error("reload: keeping the old configuration", zap.Error(err))
		return err
	}
	old := d.cfg.Load()
	if cfg.Audit != old.Audit || cfg.Daemon.StateDir != old.Daemon.StateDir || cfg.Daemon.Workers != old.Daemon.Workers ||
		cfg.Daemon.Metrics != old.Daemon.Metrics || cfg.Daemon.Queue != old.Daemon.Queue || cfg.Daemon.MemoryLimit != old.Daemon.MemoryLimit {
		d.log.Warn("reload: changes to [audit], state_dir, workers, queue, memory_limit and metrics take effect at the next start")
	}
	if err := d.watcher.SetWatches(watches(cfg)); err != nil {
		d.log.Error("reload: keeping the old configuration", zap.Error(err))
		return err
	}
	d.cfg.Store(cfg)
	if err := d.logx.Append(reloaded(cfg)); err != nil {
		return err
	}
	d.log.Info("configuration reloaded", zap.Int("watches", len(cfg.Watch)))
	return nil
}

// Ready reports whether the daemon is archiving: Healthy, and the audit
// log takes records. It answers /healthz.
func (d *Daemon) Ready(limit time.Duration) error {
	if err := d.auditErr(); err != nil {
		return err
	}
	return d.Healthy(limit)
}

// Healthy reports whether intake and the queue are moving: the watcher's
// loop ran recently, and a non-empty queue was drained from recently. It
// feeds the systemd watchdog, which restarts a daemon that hangs; a daemon
// whose audit log is down is not hung, but waits for it (see Ready).
func (d *Daemon) Healthy(limit time.Duration) error {
	now := time.Now()
	if last := d.watcher.LastActive(); now.Sub(last) > limit {
		return fmt.Errorf("watcher idle since %s", last.Format(time.RFC3339))
	}
	if d.queued.Load() > 0 && d.auditErr() == nil {
		if last := time.Unix(0, d.lastMove.Load()); now.Sub(last) > limit {
			return fmt.Errorf("queue of %d has not moved since %s", d.queued.Load(), last.Format(time.RFC3339))
		}
	}
	return nil
}

// TidyRoot removes the temp archives crashes left under root (never one a
// live writer holds, such as a concurrent ingest's) and reports links
// planted there.
func TidyRoot(root string, log *zap.Logger) error {
	l, err := archive.ScanRoot(root, true)
	if err != nil {
		return err
	}
	if len(l.Stale) > 0 {
		log.Info("removed temp archives left by a crash", zap.String("root", root), zap.Int("files", len(l.Stale)))
	}
	for _, p := range l.Links {
		log.Warn("symbolic link in the archive root: never followed, and not made by gwwatchd", zap.String("path", p))
	}
	return nil
}

// keepAlive feeds the systemd watchdog while the daemon is healthy, and
// writes audit checkpoints on time even when no file arrives, until ctx
// ends.
func (d *Daemon) keepAlive(ctx context.Context) {
	interval, watchdog := d.opts.Notifier.WatchdogInterval()
	tick := time.Minute
	if watchdog {
		tick = min(tick, interval/2)
	}
	every(ctx, tick, func() {
		if watchdog {
			if err := d.Healthy(interval); err != nil {
				d.log.Warn("not healthy: withholding the watchdog ping", zap.Error(err))
			} else if err := d.opts.Notifier.Watchdog(); err != nil {
				d.log.Warn("sd_notify", zap.Error(err))
			}
		}
		if err := d.AuditLog().MaybeCheckpoint(); err != nil {
			d.log.Error("audit checkpoint", zap.Error(err))
		}
	})
}

// every calls fn every tick until ctx ends.
func every(ctx context.Context, tick time.Duration, fn func()) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// checkStuck ends the daemon when a file has been processed for longer
// than daemon.process_timeout: a file that makes libhdf5 loop for ever
// (as a corrupt variable-length string can) holds its worker for good,
// and no call into the library can be interrupted. The exit leaves that
// file's in-flight marker alone, so that the restart counts a death
// against it and daemon.max_deaths quarantines it.
func (d *Daemon) checkStuck() {
	limit := d.cfg.Load().Daemon.ProcessTimeout.Duration
	if limit <= 0 {
		return
	}
	path, took, ok := d.inflight.stuck(limit)
	if !ok {
		return
	}
	d.log.Error("a file has been processed for longer than daemon.process_timeout: exiting, so that the restart counts it against the file",
		zap.String("source", path), zap.Duration("for", took), zap.Duration("process_timeout", limit))
	if d.opts.Abort == nil {
		return
	}
	d.inflight.dropOthers(path)
	d.log.Sync()
	d.opts.Abort(ExitStuck)
}
