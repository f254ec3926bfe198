package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/dropdir"
	"github.com/gwwatchd/gwwatchd/internal/durable"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/watcher"
)

// work archives the jobs of one worker until the queue is closed.
func (d *Daemon) work(ctx context.Context, p *pipeline.Pipeline) {
	for j := range d.jobs {
		d.queued.Add(-1)
		d.setQueueDepth()
		d.lastMove.Store(time.Now().UnixNano())
		d.busy.Add(1)
		d.handleWith(ctx, p, j, d.commit)
		d.busy.Add(-1)
	}
}

// handle archives one ready file and applies its watch's policy.
func (d *Daemon) handle(ctx context.Context, p *pipeline.Pipeline, j job) {
	d.handleWith(ctx, p, j, func(fn func()) { fn() })
}

// handleWith is handle that leaves the commit of a file it processes, and
// all that follows it, to commit(fn), which may run fn on a goroutine of
// its own (Daemon.commit) while the worker goes on.
func (d *Daemon) handleWith(ctx context.Context, p *pipeline.Pipeline, j job, commit func(fn func())) {
	if !d.waitAudit(ctx) {
		return // left for the next start's scan
	}
	cfg := d.cfg.Load()
	ev := j.ev
	w := cfg.WatchOf(ev.Path)
	log := d.log.With(zap.String("source", ev.Path))
	if w == nil {
		d.dropAhead(ev.Path)
		log.Warn("no watch holds this file any more; left in place")
		return
	}
	if n := d.inflight.deathsOf(ev.Path, ev.Size, ev.ModTime); cfg.Daemon.MaxDeaths > 0 && n >= cfg.Daemon.MaxDeaths {
		d.dropAhead(ev.Path)
		d.rejectWith(j, w, poisonReason(n), log)
		d.inflight.forget(ev.Path)
		return
	}
	p.SetConfig(cfg)
	res, err := d.fromAhead(ev, cfg, log)
	ahead := res != nil
	if res == nil && err == nil {
		opt := optionsFor(w, ev)
		// Reading the headers is processing too: libhdf5 may loop for
		// ever on a corrupt one.
		end := d.inflight.begin(ev.Path, ev.Size, ev.ModTime, log)
		need, why := d.need(ev.Path, opt)
		if why != "" {
			end()
			d.rejectWith(j, w, why, log)
			return
		}
		// The marker stays only while the file is processed: a death
		// while it waits for memory is not its doing. A file that need not
		// wait keeps the one marker throughout, which spares writing and
		// removing a second one for every file.
		if !d.budget.tryAcquire(need) {
			end()
			if err := d.budget.acquire(ctx, need); err != nil {
				return // stopping: left for the next start
			}
			end = d.inflight.begin(ev.Path, ev.Size, ev.ModTime, log)
		}
		x, err := p.Begin(ctx, ev.Path, opt)
		// What the commit keeps is small: the samples are on disk.
		d.budget.release(need)
		if err == nil {
			commit(func() {
				defer x.Discard()
				res, err := x.Commit()
				end()
				d.finish(j, w, res, err, false, log)
			})
			return
		}
		end()
		d.finish(j, w, nil, err, false, log)
		return
	}
	d.finish(j, w, res, err, ahead, log)
}

// commit runs fn, the commit of a file and what follows it, on a goroutine
// of its own, so that the worker goes on to its next file while the commit
// waits for the disk: the commits under way at once share their fsyncs
// (of the archive directory, of the audit log). At most maxCommits run at
// once; Run waits for them before it returns.
func (d *Daemon) commit(fn func()) {
	d.commitSlots <- struct{}{}
	d.committing.Go(func() {
		defer func() { <-d.commitSlots }()
		fn()
	})
}

// maxCommits bounds the commits under way: each holds two descriptors,
// and more at once would share their fsyncs no better.
const maxCommits = 64

// finish reports what became of a file archived (res) or not (err), and
// applies its watch's policy: the source is moved or deleted only here,
// after its record is on disk.
func (d *Daemon) finish(j job, w *config.Watch, res *pipeline.Result, err error, ahead bool, log *zap.Logger) {
	ev, label := j.ev, w.Dir
	if err == nil || ingest.IsInputError(err) {
		d.inflight.forget(ev.Path)
	}
	switch {
	case err == nil:
	case ingest.IsInputError(err):
		d.reject(w, ev, err, log)
		return
	case errors.Is(err, ingest.ErrChanged):
		log.Info("changed while being read; waiting for it to settle again", zap.Error(err))
		return
	case errors.Is(err, fs.ErrNotExist) && !fileExists(ev.Path):
		log.Info("gone before it could be archived")
		return
	default:
		d.retryLater(j, err, log)
		d.metrics().Failed(label)
		return
	}
	d.forget(ev.Path)
	fields := []zap.Field{zap.String("archive", res.Archive), zap.Int64("bytes", res.Source.Size), zap.Duration("duration", res.Duration)}
	if ahead {
		fields = append(fields, zap.Bool("ahead", true))
	}
	if res.Duplicate {
		log.Info("already archived", fields...)
		d.metrics().Duplicate(label)
	} else {
		log.Info("archived", fields...)
		d.metrics().Archived(label, res.Source.Size, time.Since(ev.Seen))
	}
	if err := d.after(w, ev, res); err != nil {
		log.Error("source kept", zap.String("after", w.After), zap.Error(err))
	}
}

// after keeps, moves or deletes a source whose content is archived. The
// source goes only once its archive has been re-read and matches its
// data_sha256 and holds this very content (the same content key: the same
// bytes read with the same metadata), its record is on disk (its commit
// returned), and the source and its sidecar still hold the bytes that were
// archived.
func (d *Daemon) after(w *config.Watch, ev watcher.Event, res *pipeline.Result) error {
	if w.After == "keep" {
		return nil
	}
	if err := pipeline.CheckData(res.Archive); err != nil {
		return fmt.Errorf("archive not verified: %w", err)
	}
	if key, err := archive.StoredContentKey(res.Archive); err != nil {
		return fmt.Errorf("archive not verified: %w", err)
	} else if key != res.ContentKey {
		return fmt.Errorf("archive not verified: %s holds other content (content_key %q, want %q)", res.Archive, key, res.ContentKey)
	}
	files, shas := []string{ev.Path}, []string{res.Source.SHA256}
	if sc := res.Source.Sidecar; sc != nil {
		files, shas = append(files, sc.Path), append(shas, sc.SHA256)
	}
	dir, err := openParent(w.Dir, ev.Path, 0)
	if err != nil {
		return err
	}
	for i, f := range files {
		sum, err := hashAt(dir, filepath.Base(f))
		if err != nil {
			dir.Close()
			return err
		}
		if sum != shas[i] {
			dir.Close()
			return fmt.Errorf("%s changed since it was archived", f)
		}
	}
	dir.Close()
	root := ""
	if w.After == "move" {
		root = w.DoneDir
	}
	d.removeMu.Lock()
	defer d.removeMu.Unlock()
	r, err := d.plan(w.Dir, root, audit.RemovalPlanned{Action: w.After, Files: toRemove(files, shas),
		ArchivePath: res.Archive, ContentKey: res.ContentKey, SourceSHA256: res.Source.SHA256})
	if err != nil {
		return err
	}
	if err := d.carryOut(r, w.Dir, r.Files); err != nil {
		return err
	}
	if w := d.watcher; w != nil {
		w.Done(ev.Path)
	}
	return nil
}

// reject handles bad input: moved with its sidecar to the quarantine
// directory beside a reason file, or left in place (not retried until it
// changes). Whatever part of that fails is logged and recorded: a file is
// never quarantined silently, nor left without its reason.
func (d *Daemon) reject(w *config.Watch, ev watcher.Event, cause error, log *zap.Logger) {
	d.forget(ev.Path)
	d.metrics().Rejected(w.Dir)
	reason := cause.Error()
	if d.watcher != nil {
		defer d.watcher.Done(ev.Path)
	}
	if w.QuarantineDir == "" {
		log.Warn("rejected; left in place until it changes", zap.String("reason", reason))
		return
	}
	d.removeMu.Lock()
	defer d.removeMu.Unlock()
	files, shas, err := d.quarantineFiles(w, ev)
	var r *removal
	if err == nil {
		r, err = d.plan(w.Dir, w.QuarantineDir, audit.RemovalPlanned{Action: "quarantine", Files: toRemove(files, shas), Reason: reason})
	}
	if err != nil {
		log.Error("rejected, and could not be quarantined; left in place", zap.String("reason", reason), zap.Error(err))
		if aerr := d.appendRecord(audit.Quarantined{SourcePath: ev.Path, Reason: reason, NotMoved: err.Error()}); aerr != nil {
			log.Error("audit", zap.Error(aerr))
		}
		return
	}
	moveErr := d.carryOut(r, w.Dir, r.Files)
	var re *recordError
	if errors.As(moveErr, &re) {
		log.Error("rejected; its quarantine is finished once the audit log works", zap.String("reason", reason), zap.Error(moveErr))
		return
	}
	to, noteErr := d.finishQuarantine(r, moveErr)
	switch {
	case moveErr != nil:
		log.Error("rejected, and not quarantined in full", zap.String("reason", reason), zap.Error(moveErr))
	case noteErr != nil:
		log.Error("quarantined without its reason file", zap.String("to", to), zap.String("reason", reason), zap.Error(noteErr))
	default:
		log.Warn("quarantined", zap.String("to", to), zap.String("reason", reason))
	}
}

// quarantineFiles lists a rejected file and the sidecars beside it, with
// their sha256: what the plan to quarantine them names.
func (d *Daemon) quarantineFiles(w *config.Watch, ev watcher.Event) ([]string, []string, error) {
	dir, err := openParent(w.Dir, ev.Path, 0)
	if err != nil {
		return nil, nil, err
	}
	defer dir.Close()
	files := []string{ev.Path}
	for _, p := range dropdir.Sidecars(dropdir.Stem(ev.Path)) {
		if p == ev.Path {
			continue
		}
		if st, err := durable.Lstatat(dir, filepath.Base(p)); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			files = append(files, p)
		}
	}
	shas := make([]string, len(files))
	for i, f := range files {
		if shas[i], err = hashAt(dir, filepath.Base(f)); err != nil {
			return nil, nil, err
		}
	}
	return files, shas, nil
}

// retryLater queues a file again after a transient failure (the writer
// still holds it, the disk is full, an I/O error), backing off up to five
// minutes between attempts. The source is never given up on.
func (d *Daemon) retryLater(j job, cause error, log *zap.Logger) {
	d.mu.Lock()
	d.retry[j.ev.Path]++
	n := d.retry[j.ev.Path]
	d.mu.Unlock()
	delay := min(time.Second<<min(n-1, 9), 5*time.Minute)
	log.Warn("failed; will retry", zap.Error(cause), zap.Int("attempt", n), zap.Duration("in", delay))
	go func() {
		time.Sleep(delay)
		d.submit(job{ev: j.ev, attempt: n}, d.stopping)
	}()
}

func (d *Daemon) forget(path string) {
	d.mu.Lock()
	delete(d.retry, path)
	d.mu.Unlock()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// reloaded is the audit record of a configuration taken on reload.
func reloaded(cfg *config.Config) audit.ConfigReloaded {
	r := audit.ConfigReloaded{Watches: len(cfg.Watch), ConfigPath: cfg.File}
	if sum, err := cfg.SHA256(); err == nil {
		r.ConfigSHA256 = sum
	}
	return r
}

// optionsFor are the ingest options for a file a watch's event names: the
// watch's metadata, and the identity of the version the watcher saw, so
// that a file swapped in at the name since (a link to a secret, say) is
// never read in its place.
func optionsFor(w *config.Watch, ev watcher.Event) ingest.Options {
	opt := pipeline.ReadOptions(w)
	if ev.Ino != 0 {
		opt.Expect = &ingest.FileID{Dev: ev.Dev, Ino: ev.Ino, Size: ev.Size}
	}
	return opt
}

// need is the part of the memory budget archiving the file takes, from
// its headers; or, for a file that could never fit, why it is rejected. A
// file Measure cannot size is given the base need: reading it fails as
// Measure did, with the same reason.
func (d *Daemon) need(path string, opt ingest.Options) (int64, string) {
	fp, err := ingest.Measure(path, opt)
	if err != nil {
		return baseNeed, ""
	}
	n := needOf(fp, d.cfg.Load().Processing.Chain())
	if d.budget != nil && n > d.budget.limit {
		return 0, tooBig(fp, n, d.budget.limit)
	}
	return n, ""
}

// rejectWith rejects the job's file for a reason found outside the
// pipeline, recorded as the pipeline records its rejections.
func (d *Daemon) rejectWith(j job, w *config.Watch, reason string, log *zap.Logger) {
	ie := &ingest.InputError{Path: j.ev.Path, Reason: reason}
	if err := d.appendRecord(audit.Rejected{SourcePath: j.ev.Path, Reason: ie.Error()}); err != nil {
		d.retryLater(j, err, log)
		return
	}
	d.reject(w, j.ev, ie, log)
}
