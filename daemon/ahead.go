package daemon

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/watcher"
)

// A file written in place is ready only once it has held still for its
// watch's settle time, but the watcher hints well before that. When the
// workers are not all taken, the file is read, processed and its archive
// written under a temporary name meanwhile, by one of as many goroutines
// as there are workers; if the file then becomes ready
// as the same version, only the link to the archive's final name and the
// audit record are left to do. Work ahead is never acted on otherwise: a
// version that changed, a failure, or a reload throws it away, and the
// file is processed in full as usual.

var (
	errNoWatch    = errors.New("no watch holds this file")
	errNotStarted = errors.New("no goroutine was free to work ahead")
	errNoRoom     = errors.New("the memory budget has no room to work ahead")
)

// ahead is the work done ahead on one file.
type ahead struct {
	hint watcher.Event
	cfg  *config.Config
	done chan struct{} // closed when prep or err is set
	prep *pipeline.Prepared
	err  error
}

// workAhead prepares the hinted files handed to it until the channel is
// closed.
func (d *Daemon) workAhead(ctx context.Context, p *pipeline.Pipeline, in <-chan *ahead) {
	for a := range in {
		if w := a.cfg.WatchOf(a.hint.Path); w == nil {
			a.err = errNoWatch
		} else {
			p.SetConfig(a.cfg)
			opt := optionsFor(w, a.hint)
			end := d.inflight.begin(a.hint.Path, a.hint.Size, a.hint.ModTime, d.log)
			if need, why := d.need(a.hint.Path, opt); why != "" || !d.budget.tryAcquire(need) {
				a.err = errNoRoom
			} else {
				a.prep, a.err = p.Prepare(ctx, a.hint.Path, opt)
				d.budget.release(need)
			}
			end()
		}
		close(a.done)
	}
}

// hint starts work ahead on a file if the workers are not all taken by
// files already ready, and a goroutine that works ahead is free.
func (d *Daemon) hint(ev watcher.Event, workers int) {
	if d.queued.Load()+d.busy.Load() >= int64(workers) {
		return
	}
	a := &ahead{hint: ev, cfg: d.cfg.Load(), done: make(chan struct{})}
	d.mu.Lock()
	if old := d.aheads[ev.Path]; old != nil {
		select {
		case <-old.done:
			old.discard()
		default:
			d.mu.Unlock()
			return // an earlier version is still being prepared
		}
	}
	d.aheads[ev.Path] = a
	d.mu.Unlock()
	select {
	case d.ahead <- a:
	default:
		// No goroutine is free. A worker may have taken a from the map
		// meanwhile: it must not wait for work that never starts.
		a.err = errNotStarted
		close(a.done)
		d.mu.Lock()
		if d.aheads[ev.Path] == a {
			delete(d.aheads, ev.Path)
		}
		d.mu.Unlock()
	}
}

// aheadSweep is how often work ahead whose file never became ready (it
// went, or is held up) is looked for; aheadKeep, beyond the file's settle
// time, is how long such work is kept.
const (
	aheadSweep = 10 * time.Second
	aheadKeep  = 30 * time.Second
)

// sweepAheads throws away finished work ahead on files whose ready event
// is long overdue, so that their temporary archives do not linger; if the
// event comes after all, the file is processed in full.
func (d *Daemon) sweepAheads(now time.Time) {
	cfg := d.cfg.Load()
	d.mu.Lock()
	defer d.mu.Unlock()
	for path, a := range d.aheads {
		settle := time.Duration(0)
		if w := cfg.WatchOf(path); w != nil {
			settle = w.Settle.Duration
		}
		if now.Sub(a.hint.Changed) < settle+aheadKeep {
			continue
		}
		select {
		case <-a.done:
			a.discard()
			delete(d.aheads, path)
		default:
		}
	}
}

// dropAhead throws away any work ahead on path.
func (d *Daemon) dropAhead(path string) {
	d.mu.Lock()
	a := d.aheads[path]
	delete(d.aheads, path)
	d.mu.Unlock()
	if a != nil {
		<-a.done
		a.discard()
	}
}

// fromAhead finishes the work done ahead on a ready file, if it is for
// this version under this configuration. It returns nil and no error when
// the file is to be processed in full.
func (d *Daemon) fromAhead(ev watcher.Event, cfg *config.Config, log *zap.Logger) (*pipeline.Result, error) {
	d.mu.Lock()
	a := d.aheads[ev.Path]
	delete(d.aheads, ev.Path)
	d.mu.Unlock()
	if a == nil {
		return nil, nil
	}
	<-a.done
	if a.err != nil {
		return nil, nil
	}
	defer a.prep.Discard()
	src := a.prep.Source()
	switch {
	case a.cfg != cfg:
		log.Debug("work ahead dropped: configuration reloaded")
		return nil, nil
	case !a.hint.Changed.Equal(ev.Changed) || src.Size != ev.Size || !src.ModTime.Equal(ev.ModTime):
		log.Debug("work ahead dropped: written since")
		return nil, nil
	}
	if err := src.Unchanged(); err != nil {
		log.Debug("work ahead dropped", zap.Error(err))
		return nil, nil
	}
	return a.prep.Commit()
}

// discard throws away finished work ahead.
func (a *ahead) discard() {
	if a.prep != nil {
		a.prep.Discard()
	}
}

// discardAheads throws away all work ahead once the workers have stopped.
func (d *Daemon) discardAheads() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for path, a := range d.aheads {
		<-a.done
		a.discard()
		delete(d.aheads, path)
	}
}
