package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/daemon"
	"github.com/gwwatchd/gwwatchd/internal/oneline"
	"github.com/gwwatchd/gwwatchd/internal/progress"
	"github.com/gwwatchd/gwwatchd/pipeline"
)

var reprocessHelp = help{
	Synopsis: "reprocess [--config F] [--product NAME]... ARCHIVE...\nreprocess [--config F] [--product NAME]... --all",
	Text: `Adds the products of the configuration's processing chain (with --product,
only those named and the products they are made of) to archives that do
not hold them, and records each archive replaced in the audit log. Every
dataset an archive holds stays as it is; a product whose name it holds
with other parameters is added as a new version, NAME@2, NAME@3, ... Each
archive is written in full beside the old one and renamed over it, so a
crash leaves the one or the other. --all takes every archive the audit
log names. Prints "ARCHIVE: added N products (...)", "ARCHIVE: nothing to
add" or "ARCHIVE: error: reason", one line per archive in the order given;
exits 1 when any failed.`,
	Example: `gwwatchd reprocess --config /etc/gwwatchd/config.toml --all
gwwatchd reprocess --config new.toml --product bp_asd var/archive/K/13000/*.h5`,
}

func (m *Main) reprocess(ctx context.Context, args []string) error {
	fs := m.newFlagSet("reprocess", reprocessHelp)
	fs.configFlag("configuration `file` whose chain is made (default: the embedded default)")
	var only []string
	fs.Func("product", "make only the product `NAME` and those it is made of (repeat, or separate with commas)", func(s string) error {
		for _, n := range strings.Split(s, ",") {
			if n = strings.TrimSpace(n); n != "" {
				only = append(only, n)
			}
		}
		return nil
	})
	all := fs.Bool("all", false, "every archive the audit log names")
	files, err := fs.parse(args)
	if err != nil {
		return err
	}
	switch {
	case *all && len(files) > 0:
		return fs.usageError("give archives or --all, not both")
	case !*all && len(files) == 0:
		return fs.usageError("no archives given (or --all)")
	}
	cfg, logger, err := m.configAndLogger(fs)
	if err != nil {
		return err
	}
	defer logger.Sync()
	chain, err := pipeline.Selection(cfg.Processing.Chain(), only)
	if err != nil {
		return fs.usageError("--product: " + err.Error())
	}
	alog, err := openAudit(cfg, quiet(logger), "reprocess")
	if err != nil {
		return err
	}
	ix, err := audit.Replay(cfg.Audit.Path)
	if err != nil {
		closeAudit(alog, cfg, "reprocess", audit.Shutdown{Error: err.Error()})
		return err
	}
	logx := audit.NewIndexed(alog, ix)
	// The logged sha256 of each archive, as the log last recorded it.
	logged := make([]string, len(files))
	known := make([]bool, len(files))
	if *all {
		for _, a := range ix.Archives() {
			files, logged, known = append(files, a.ArchivePath), append(logged, a.ArchiveSHA256), append(known, true)
		}
	} else {
		for i, f := range files {
			if abs, err := filepath.Abs(f); err == nil {
				a, ok := ix.ByArchivePath(abs)
				logged[i], known[i] = a.ArchiveSHA256, ok
			}
		}
	}
	tidyDirs(cfg.Archive.Root, files, logger)

	// On a terminal, a progress bar under the lines, as ingest draws it.
	var total int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			total += fi.Size()
		}
	}
	bar := progress.New(m.Stdout, len(files), total, progress.IsTerminal(m.Stdout))
	lines := make([]chan outcome, len(files))
	for i := range lines {
		lines[i] = make(chan outcome, 1)
	}
	jobs := make(chan int)
	g, gctx := errgroup.WithContext(ctx)
	workers := max(1, min(runtime.NumCPU(), len(files)))
	for range workers {
		p := pipeline.New(pipeline.Options{Config: cfg, CPUs: max(1, runtime.NumCPU()/workers), Recorder: logx})
		g.Go(func() error {
			for i := range jobs {
				o := reprocessOne(gctx, p, files[i], chain, logged[i], known[i])
				bar.Done(files[i], o.bytes, o.err)
				lines[i] <- o
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(jobs)
		for i := range files {
			select {
			case jobs <- i:
			case <-gctx.Done():
				for ; i < len(files); i++ {
					lines[i] <- outcome{line: quoteName(files[i]) + ": error: " + gctx.Err().Error(), err: gctx.Err()}
				}
				return nil
			}
		}
		return nil
	})
	failed := printInOrder(bar, m.Stdout, lines)
	g.Wait()
	bar.Finish()
	return endBatch(alog, cfg, "reprocess", len(files), failed)
}

// reprocessOne reprocesses one archive and says how it went.
func reprocessOne(ctx context.Context, p *pipeline.Pipeline, file string, chain []config.Product, logged string, known bool) outcome {
	o := outcome{}
	if fi, err := os.Stat(file); err == nil {
		o.bytes = fi.Size()
	}
	if !known {
		o.err = fmt.Errorf("the audit log does not name it as archived")
		o.line = quoteName(file) + ": error: " + o.err.Error()
		return o
	}
	res, err := p.Reprocess(ctx, file, chain, logged)
	if err != nil {
		o.err = err
		o.line = quoteName(file) + ": error: " + oneline.Escape(err.Error())
		return o
	}
	if res.Record == nil || len(res.Record.Products) == 0 {
		o.line = quoteName(file) + ": nothing to add"
		return o
	}
	var names []string
	for _, ap := range res.Record.Products {
		if !slices.Contains(names, ap.StoredAs) {
			names = append(names, ap.StoredAs)
		}
	}
	o.line = fmt.Sprintf("%s: added %s (%s)", quoteName(file), nOf(len(res.Record.Products), "product", "products"), strings.Join(names, ", "))
	return o
}

// tidyDirs removes the temp archives crashes left under the archive root
// and in the directories of the archives outside it.
func tidyDirs(root string, files []string, logger *zap.Logger) {
	roots := []string{root}
	absRoot, _ := filepath.Abs(root)
	for _, f := range files {
		dir, err := filepath.Abs(filepath.Dir(f))
		if rel, rerr := filepath.Rel(absRoot, dir); err == nil && (rerr != nil || !filepath.IsLocal(rel)) && !slices.Contains(roots, dir) {
			roots = append(roots, dir)
		}
	}
	for _, r := range roots {
		if err := daemon.TidyRoot(r, logger); err != nil {
			logger.Warn("tidying the archive root", zap.Error(err))
		}
	}
}
