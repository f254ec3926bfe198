package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/daemon"
	"github.com/gwwatchd/gwwatchd/internal/instance"
	"github.com/gwwatchd/gwwatchd/metrics"
	"github.com/gwwatchd/gwwatchd/sdnotify"
)

// run is the daemon: it archives every file dropped into the watched
// directories until SIGTERM or SIGINT, and reloads its configuration on
// SIGHUP. A second SIGTERM or SIGINT aborts at once.
var runHelp = help{
	Synopsis: "run [--config F]",
	Text: `Runs the daemon: archives every file dropped into the [[watch]]
directories until SIGTERM or SIGINT, and reloads the configuration on
SIGHUP. A watch directory must exist unless its watch sets create = true.`,
	Example: `gwwatchd run --config /etc/gwwatchd/config.toml`,
}

func (m *Main) run(ctx context.Context, args []string) error {
	fs := m.newFlagSet("run", runHelp)
	fs.configFlag("configuration `file` (default: the embedded default)")
	cfg, err := fs.parseConfigOnly(args)
	if err != nil {
		return err
	}
	logger, err := newLogger(m.Stderr, zapcore.InfoLevel)
	if err != nil {
		return err
	}
	defer logger.Sync()
	// A missing watch directory is a mistyped one, unless its watch has
	// run create it: watching an empty new directory would archive
	// nothing and say nothing.
	if err := cfg.MakeWatchDirs(); err != nil {
		return err
	}
	// One daemon per state directory and archive root: a second would
	// remove the first one's temp archives and archive every file twice.
	lock, err := instance.Acquire(cfg.Daemon.StateDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	ctx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	rootLock := &instance.Lock{}
	if same, _ := sameDir(cfg.Daemon.StateDir, cfg.Archive.Root); !same {
		rootLock, err = instance.Acquire(cfg.Archive.Root)
	}
	var inUse *instance.InUseError
	switch {
	case errors.As(err, &inUse):
		return err
	case err != nil:
		// A root that cannot be made now is a failure the workers retry;
		// it is locked as soon as it can be.
		logger.Warn("archive root not usable yet; it is locked once it is", zap.Error(err))
		held := make(chan *instance.Lock, 1) // keeps the lock reachable until run returns
		defer func() {
			select {
			case l := <-held:
				l.Release()
			default:
			}
		}()
		go lockLater(ctx, stopRun, cfg.Archive.Root, held, logger)
	default:
		defer rootLock.Release()
	}
	alog, err := openAudit(cfg, logger, "run")
	if err != nil {
		return err
	}
	started := time.Now()
	ix, err := audit.Replay(cfg.Audit.Path)
	if err != nil {
		closeAudit(alog, cfg, "run", audit.Shutdown{Error: err.Error()})
		return err
	}
	logger.Info("audit log replayed", zap.String("log", cfg.Audit.Path), zap.Uint64("records", ix.Records),
		zap.Int("archives", ix.Len()), zap.Duration("took", time.Since(started)))

	notifier := sdnotify.New()
	var met *metrics.Metrics
	var dmet daemon.Metrics // nil unless the endpoint is configured
	if cfg.Daemon.Metrics != "" {
		met = metrics.New()
		dmet = met
	}
	reopen := func() (*audit.Log, *audit.Index, error) {
		l, err := audit.Open(auditOptions(cfg, logger))
		if err != nil {
			return nil, nil, err
		}
		ix, err := audit.Replay(cfg.Audit.Path)
		if err != nil {
			l.Close()
			return nil, nil, err
		}
		return l, ix, nil
	}
	d, err := daemon.New(daemon.Options{Config: cfg, ConfigPath: *fs.cfgPath, Logger: logger, Audit: alog, Index: ix,
		Notifier: notifier, Metrics: dmet, Quicklook: drawQuicklook, CPUs: runtime.NumCPU(), Reopen: reopen, Abort: m.Abort})
	if err != nil {
		closeAudit(alog, cfg, "run", audit.Shutdown{Error: err.Error()})
		return err
	}
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	if met != nil {
		health := func() error { return d.Ready(time.Minute) }
		ln, err := metrics.Listen(bg, cfg.Daemon.Metrics)
		if err != nil {
			closeAudit(alog, cfg, "run", audit.Shutdown{Error: err.Error()})
			return err
		}
		go func() {
			if err := metrics.ServeListener(bg, ln, met.Handler(health), logger); err != nil {
				logger.Error("metrics", zap.Error(err))
			}
		}()
	}
	go m.signals(ctx, bg, d, logger)

	runErr := d.Run(ctx)
	if cause := context.Cause(ctx); errors.As(cause, &inUse) {
		runErr = cause
	}
	stopBG()
	end := audit.Shutdown{Uptime: time.Since(started)}
	if runErr != nil {
		end.Error = runErr.Error()
	}
	if err := closeAudit(d.AuditLog(), cfg, "run", end); err != nil {
		return errors.Join(runErr, err)
	}
	logger.Info("stopped")
	return runErr
}

// signals reloads on SIGHUP and aborts on a second SIGTERM or SIGINT (the
// first one cancels ctx, through main's signal context).
func (m *Main) signals(ctx, bg context.Context, d *daemon.Daemon, logger *zap.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	term := make(chan os.Signal, 2)
	signal.Notify(term, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(term)
	seen := 0
	for {
		select {
		case <-hup:
			logger.Info("SIGHUP: reloading the configuration")
			d.Reload()
		case s := <-term:
			if seen++; seen < 2 {
				continue
			}
			logger.Error("second signal: aborting", zap.String("signal", s.String()))
			if m.Abort != nil {
				m.Abort(exitError)
			}
			return
		case <-bg.Done():
			return
		}
	}
}

// lockLater locks the archive root once it can be made, and stops the
// daemon if another one locked it first.
func lockLater(ctx context.Context, stop context.CancelCauseFunc, root string, held chan<- *instance.Lock, logger *zap.Logger) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l, err := instance.Acquire(root)
		var inUse *instance.InUseError
		switch {
		case err == nil:
			logger.Info("archive root locked", zap.String("root", root))
			held <- l
			return
		case errors.As(err, &inUse):
			logger.Error("stopping", zap.Error(err))
			stop(err)
			return
		}
	}
}

// sameDir reports whether two configured paths name one directory.
func sameDir(a, b string) (bool, error) {
	x, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	y, err := filepath.Abs(b)
	return x == y, err
}
