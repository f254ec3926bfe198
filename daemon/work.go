package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/watcher"

	"github.com/gwwatchd/gwwatchd/internal/durable"
)

// work archives the jobs of one worker until the queue is closed.
func (d *Daemon) work(ctx context.Context, p *pipeline.Pipeline) {
	p.Audit = d.appendRecord
	p.Known = d.known
	for j := range d.jobs {
		d.queued.Add(-1)
		d.setQueueDepth()
		d.lastMove.Store(time.Now().UnixNano())
		d.busy.Add(1)
		d.handle(ctx, p, j)
		d.busy.Add(-1)
	}
}

// appendRecord writes a record and brings it into the de-duplication
// index, in log order.
func (d *Daemon) appendRecord(event string, fields map[string]any) error {
	return d.logx.Append(event, fields)
}

func (d *Daemon) known(sum string) (string, bool) { return d.logx.ArchiveOf(sum) }

// handle archives one ready file and applies its watch's policy.
func (d *Daemon) handle(ctx context.Context, p *pipeline.Pipeline, j job) {
	cfg := d.cfg.Load()
	ev := j.ev
	w := pipeline.WatchFor(cfg, ev.Path)
	log := d.log.With(zap.String("source", ev.Path))
	if w == nil {
		d.dropAhead(ev.Path)
		log.Warn("no watch holds this file any more; left in place")
		return
	}
	label := w.Dir
	p.Config, p.Root = cfg, cfg.Archive.Root
	res, err := d.fromAhead(ev, cfg, log)
	ahead := res != nil
	if res == nil && err == nil {
		res, err = p.Process(ctx, ev.Path, pipeline.Options(w))
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
		if m := d.opts.Metrics; m != nil {
			m.Failed(label)
		}
		return
	}
	d.forget(ev.Path)
	fields := []zap.Field{zap.String("archive", res.Archive), zap.Int64("bytes", res.Source.Size), zap.Duration("duration", res.Duration)}
	if ahead {
		fields = append(fields, zap.Bool("ahead", true))
	}
	if res.Duplicate {
		log.Info("already archived", fields...)
		if m := d.opts.Metrics; m != nil {
			m.Duplicate(label)
		}
	} else {
		log.Info("archived", fields...)
		if m := d.opts.Metrics; m != nil {
			m.Archived(label, res.Source.Size, time.Since(ev.Seen))
		}
	}
	if err := d.after(w, ev, res); err != nil {
		log.Error("source kept", zap.String("after", w.After), zap.Error(err))
	}
}

// after keeps, moves or deletes a source whose content is archived. The
// source goes only once the archive has been re-read and matches its
// data_sha256, its record is on disk (Process returned), and the source
// still holds the content that was archived.
func (d *Daemon) after(w *config.Watch, ev watcher.Event, res *pipeline.Result) error {
	if w.After == "keep" {
		return nil
	}
	if err := pipeline.CheckData(res.Archive); err != nil {
		return fmt.Errorf("archive not verified: %w", err)
	}
	if sum, err := pipeline.FileSHA256(ev.Path); err != nil {
		return err
	} else if sum != res.Source.SHA256 {
		return fmt.Errorf("the source changed since it was archived")
	}
	files := []string{ev.Path}
	if sc := res.Source.Sidecar; sc != nil {
		files = append(files, sc.Path)
	}
	switch w.After {
	case "move":
		for _, f := range files {
			dest, err := moveFile(f, filepath.Join(w.DoneDir, relTo(ev, f)))
			if err != nil {
				return err
			}
			if err := d.appendRecord(audit.EventSourceMoved, map[string]any{"source_path": f, "moved_to": dest, "archive_path": res.Archive, "source_sha256": res.Source.SHA256}); err != nil {
				return err
			}
		}
	case "delete":
		for _, f := range files {
			if err := os.Remove(f); err != nil {
				return err
			}
			if err := durable.SyncDir(filepath.Dir(f)); err != nil {
				return err
			}
			if err := d.appendRecord(audit.EventSourceDeleted, map[string]any{"source_path": f, "archive_path": res.Archive, "source_sha256": res.Source.SHA256}); err != nil {
				return err
			}
		}
	}
	if w := d.watcher; w != nil {
		w.Done(ev.Path)
	}
	return nil
}

// reject handles bad input: moved to the quarantine directory with a
// reason file, or left in place (not retried until it changes).
func (d *Daemon) reject(w *config.Watch, ev watcher.Event, cause error, log *zap.Logger) {
	d.forget(ev.Path)
	if m := d.opts.Metrics; m != nil {
		m.Rejected(w.Dir)
	}
	reason := cause.Error()
	if w.QuarantineDir == "" {
		log.Warn("rejected; left in place until it changes", zap.String("reason", reason))
		return
	}
	files := []string{ev.Path}
	stem := strings.TrimSuffix(ev.Path, filepath.Ext(ev.Path))
	for _, ext := range []string{".json", ".toml"} {
		if fileExists(stem + ext) {
			files = append(files, stem+ext)
		}
	}
	var dests []string
	for _, f := range files {
		dest, err := moveFile(f, filepath.Join(w.QuarantineDir, relTo(ev, f)))
		if err != nil {
			log.Error("rejected, and could not be quarantined; left in place", zap.String("reason", reason), zap.Error(err))
			return
		}
		dests = append(dests, dest)
	}
	note, _ := json.MarshalIndent(map[string]any{
		"source_path":      ev.Path,
		"quarantined_path": dests[0],
		"reason":           reason,
		"time":             time.Now().UTC().Format(time.RFC3339Nano),
		"gwwatchd_version": buildinfo.Get().Version,
	}, "", "  ")
	if err := durable.WriteFile(dests[0]+".reason.json", append(note, '\n'), 0o640); err != nil {
		log.Error("could not write the quarantine reason", zap.Error(err))
	}
	if err := d.appendRecord(audit.EventQuarantined, map[string]any{"source_path": ev.Path, "quarantine_path": dests[0], "reason": reason}); err != nil {
		log.Error("audit", zap.Error(err))
	}
	log.Warn("quarantined", zap.String("to", dests[0]), zap.String("reason", reason))
	d.watcher.Done(ev.Path)
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

// relTo is where f, the event's file or its sidecar beside it, lies
// relative to its watch directory.
func relTo(ev watcher.Event, f string) string {
	rel := filepath.Join(filepath.Dir(ev.Rel), filepath.Base(f))
	if !filepath.IsLocal(rel) {
		return filepath.Base(f)
	}
	return rel
}

// moveFile moves src to dest, or to dest with _2, _3, ... before its
// extension when dest exists, and returns where it went. Across file
// systems it copies, syncs, and only then removes the source.
func moveFile(src, dest string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dest), 0o750); err != nil {
		return "", err
	}
	ext := filepath.Ext(dest)
	base := strings.TrimSuffix(dest, ext)
	for i := 1; ; i++ {
		name := dest
		if i > 1 {
			name = fmt.Sprintf("%s_%d%s", base, i, ext)
		}
		if _, err := os.Lstat(name); err == nil {
			continue
		}
		err := os.Rename(src, name)
		if errors.Is(err, syscall.EXDEV) {
			err = copyThenRemove(src, name)
		}
		if err != nil {
			return "", err
		}
		if err := durable.SyncDir(filepath.Dir(name)); err != nil {
			return "", err
		}
		return name, durable.SyncDir(filepath.Dir(src))
	}
}

func copyThenRemove(src, dest string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dest)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dest)
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Remove(src)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// configFields describes a configuration in an audit record.
func configFields(cfg *config.Config) map[string]any {
	f := map[string]any{"watches": len(cfg.Watch)}
	if sum, err := cfg.SHA256(); err == nil {
		f["config_sha256"] = sum
	}
	if cfg.File != "" {
		f["config_path"] = cfg.File
	}
	return f
}
