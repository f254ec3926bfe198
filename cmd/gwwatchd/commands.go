package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/daemon"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/dropdir"
	"github.com/gwwatchd/gwwatchd/internal/oneline"
	"github.com/gwwatchd/gwwatchd/internal/progress"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/processor"
)

var ingestHelp = help{
	Synopsis: "ingest [--config F] [--out DIR] [--channels GLOBS] [metadata flags] FILE...",
	Text: `Archives each FILE once, as the daemon would, and prints "FILE -> ARCHIVE"
or "FILE: reason", one line per file in the order given. Metadata the
flags give take precedence over a file's sidecar, the file itself, its name
and the configuration's [[watch]] defaults. A sidecar (.json, .toml) named
together with its data file goes with it.`,
	Example: `gwwatchd ingest --config /etc/gwwatchd/config.toml K-K1_DARM-1300000000-64.npy
gwwatchd ingest --channel K1:PEM-ACC --sample-rate 4096 --t0 1300000000 --dtype float32 acc.bin
gwwatchd ingest --out /tmp/archive incoming/*`,
}

func (m *Main) ingest(ctx context.Context, args []string) error {
	fs := m.newFlagSet("ingest", ingestHelp)
	fs.configFlag("configuration `file` (default: the embedded default)")
	out := fs.String("out", "", "archive root `directory` (default: archive.root of the configuration)")
	channel := stringFlag(fs, "channel", "`channel` name, e.g. K1:LSC-DARM_OUT_DQ")
	dataset := stringFlag(fs, "dataset", "raw `dataset` name (default: the channel)")
	t0 := floatFlag(fs, "t0", "GPS time of the first sample, in `seconds`")
	rate := floatFlag(fs, "sample-rate", "sample rate, in `Hz`")
	unit := stringFlag(fs, "unit", "`unit` of the samples, e.g. ct or strain")
	dtype := stringFlag(fs, "dtype", "sample `type` of raw binary files, e.g. float64 or int16")
	order := stringFlag(fs, "byte-order", "byte `order` of raw binary files: little or big")
	desc := stringFlag(fs, "description", "free `text` stored with the raw dataset")
	channels := fs.String("channels", "", "channels of frame and HDF5 files to archive, comma-separated `globs` such as \"K1:LSC-*,K1:PEM-*\" (default: the watch's channels, else all)")
	files, err := fs.parseSome(args, "no files given")
	if err != nil {
		return err
	}
	var selection []string
	if *channels != "" {
		for _, p := range strings.Split(*channels, ",") {
			selection = append(selection, strings.TrimSpace(p))
		}
		if err := ingest.ValidChannelPatterns(selection); err != nil {
			return fs.usageError("--channels: " + err.Error())
		}
	}
	cfg, logger, err := m.configAndLogger(fs)
	if err != nil {
		return err
	}
	defer logger.Sync()
	alog, err := openAudit(cfg, quiet(logger), "ingest")
	if err != nil {
		return err
	}
	// Writing to the configured archive root, content the log already
	// holds is a duplicate, as it is for the daemon. --out writes
	// elsewhere, so only an archive at the same path there counts.
	logx := audit.NewIndexed(alog, nil)
	dedup := *out == ""
	if dedup {
		ix, err := audit.Replay(cfg.Audit.Path)
		if err != nil {
			closeAudit(alog, cfg, "ingest", audit.Shutdown{Error: err.Error()})
			return err
		}
		logx = audit.NewIndexed(alog, ix)
	}
	// Crashed ingests and daemons leave temp archives; a live writer's
	// are held and stay.
	root := cfg.Archive.Root
	if *out != "" {
		root = *out
	}
	if err := daemon.TidyRoot(root, logger); err != nil {
		logger.Warn("tidying the archive root", zap.Error(err))
	}
	flags := ingest.Meta{Channel: *channel, Dataset: *dataset, T0: *t0, SampleRate: *rate,
		Unit: *unit, DType: *dtype, ByteOrder: *order, Description: *desc}

	// On a terminal, a progress bar under the lines; elsewhere the lines only.
	tty := progress.IsTerminal(m.Stdout)
	// A sidecar named beside its data file goes with it; named alone, it
	// is archived as data, and rejected as such.
	sidecars := sidecarsOf(files)
	var total int64
	for i, f := range files {
		if _, ok := sidecars[i]; ok {
			continue
		}
		if fi, err := os.Stat(f); err == nil {
			total += fi.Size()
		}
	}
	bar := progress.New(m.Stdout, len(files)-len(sidecars), total, tty)
	lines := make([]chan outcome, len(files))
	for i := range lines {
		lines[i] = make(chan outcome, 1)
		if data, ok := sidecars[i]; ok {
			lines[i] <- outcome{line: fmt.Sprintf("%s (sidecar of %s)", quoteName(files[i]), quoteName(data))}
		}
	}
	jobs := make(chan int)
	var g errgroup.Group
	workers := min(cfg.Daemon.Workers, len(files)-len(sidecars))
	opts := pipeline.Options{Config: cfg, Root: *out, CPUs: runtime.NumCPU() / workers, Recorder: logx, Quicklook: drawQuicklook}
	if dedup {
		opts.Known = logx
	}
	// A worker goes on to its next file while the commit of the one before
	// (the link, the fsync of its directory, its audit record) waits for
	// the disk on a goroutine of its own, so that the commits under way at
	// once share their fsyncs. A file's line is printed only once its
	// commit returned: once its record is on disk.
	done := func(i int, o outcome) {
		bar.Done(files[i], o.bytes, o.err)
		lines[i] <- o
	}
	commits := make(chan struct{}, maxCommits)
	var committing sync.WaitGroup
	for range workers {
		p := pipeline.New(opts)
		g.Go(func() error {
			for i := range jobs {
				x, o := beginOne(ctx, p, cfg, files[i], flags, selection)
				if x == nil {
					done(i, o)
					continue
				}
				commits <- struct{}{}
				committing.Go(func() {
					defer func() { <-commits }()
					done(i, commitOne(files[i], x))
				})
			}
			return nil
		})
	}
	go func() {
		defer close(jobs)
		for i := range files {
			if _, ok := sidecars[i]; ok {
				continue
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				for ; i < len(files); i++ {
					if _, ok := sidecars[i]; !ok {
						lines[i] <- outcome{line: files[i] + ": " + ctx.Err().Error(), err: ctx.Err()}
					}
				}
				return
			}
		}
	}()
	failed := printInOrder(bar, m.Stdout, lines)
	g.Wait()
	committing.Wait()
	bar.Finish()
	return endBatch(alog, cfg, "ingest", len(files)-len(sidecars), failed)
}

// printInOrder prints the line of each outcome, in the order of lines,
// as soon as it and those before it are in, and returns how many failed.
func printInOrder(bar *progress.Bar, w io.Writer, lines []chan outcome) (failed int) {
	for _, ch := range lines {
		o := <-ch
		if o.err != nil {
			failed++
		}
		bar.Println(w, o.line)
	}
	return failed
}

// endBatch records the end of a command that worked on files, of which
// failed failed, and gives its exit: 1 when any failed.
func endBatch(alog *audit.Log, cfg *config.Config, command string, files, failed int) error {
	if err := closeAudit(alog, cfg, command, audit.Shutdown{Totals: &audit.Totals{Files: files, Failed: failed}}); err != nil {
		return err
	}
	if failed > 0 {
		return &exitCodeError{exitProblems}
	}
	return nil
}

// sidecarsOf maps the index of each sidecar in files whose data file is
// in files too to that data file: the one file of the same stem that is
// not a sidecar, as the ingest of that file finds it.
func sidecarsOf(files []string) map[int]string {
	isSidecar := dropdir.IsSidecar
	stem := func(f string) string {
		abs, err := filepath.Abs(f)
		if err != nil {
			abs = f
		}
		return dropdir.Stem(abs)
	}
	data := map[string]string{} // stem -> data file
	for _, f := range files {
		if !isSidecar(f) {
			data[stem(f)] = f
		}
	}
	out := map[int]string{}
	for i, f := range files {
		if d, ok := data[stem(f)]; ok && isSidecar(f) {
			out[i] = d
		}
	}
	return out
}

// outcome is the line ingest prints for one file.
type outcome struct {
	line  string
	err   error // nil when the file was archived or already was
	bytes int64 // the file's size, when known
}

// maxCommits bounds the files of an ingest whose commit is under way: a
// file waiting for its commit holds two descriptors, and more than this
// many commits at once would share their fsyncs no better.
const maxCommits = 64

// beginOne reads and processes one file and writes its archive under a
// temporary name (pipeline.Pipeline.Begin). It returns the Prepared to
// commit, or else the file's outcome.
func beginOne(ctx context.Context, p *pipeline.Pipeline, cfg *config.Config, file string, flags ingest.Meta, channels []string) (*pipeline.Prepared, outcome) {
	opt := pipeline.ReadOptions(cfg.WatchOf(file))
	opt.Flags = flags
	if channels != nil {
		opt.Channels = channels
	}
	x, err := p.Begin(ctx, file, opt)
	if err != nil {
		return nil, failedOutcome(file, err)
	}
	return x, outcome{}
}

// commitOne commits a file beginOne prepared and gives its outcome.
func commitOne(file string, x *pipeline.Prepared) outcome {
	defer x.Discard()
	res, err := x.Commit()
	if err != nil {
		return failedOutcome(file, err)
	}
	if res.Duplicate {
		return outcome{line: fmt.Sprintf("%s -> %s (already archived)", quoteName(file), quoteName(res.Archive)), bytes: res.Source.Size}
	}
	return outcome{line: fmt.Sprintf("%s -> %s", quoteName(file), quoteName(res.Archive)), bytes: res.Source.Size}
}

func failedOutcome(file string, err error) outcome {
	o := outcome{line: errorLine(file, err), err: err}
	if fi, serr := os.Stat(file); serr == nil {
		o.bytes = fi.Size()
	}
	return o
}

// errorLine makes "SOURCE: error" without naming the source twice, on one
// line: a name with a control character in it is quoted where the line
// starts with it, and escaped inside the message.
func errorLine(src string, err error) string {
	msg := err.Error()
	var ie *ingest.InputError
	if errors.As(err, &ie) && ie.Error() == msg {
		reason := ie.Reason
		if reason == "" && ie.Err != nil {
			reason = ie.Err.Error()
		}
		return quoteName(src) + ": " + oneline.Escape(reason)
	}
	var pe *os.PathError
	if ingest.IsInputError(err) || (errors.As(err, &pe) && pe.Path == src) {
		if rest, ok := strings.CutPrefix(msg, src); ok {
			return quoteName(src) + oneline.Escape(rest)
		}
		return oneline.Escape(msg)
	}
	return quoteName(src) + ": " + oneline.Escape(msg)
}

// quoteName returns a file name as it stands, or Go-quoted when it holds
// a control character, a quote or a backslash, or starts or ends with
// a space, so that one name always reads as one token on one line.
func quoteName(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '"' || r == '\\' || r == utf8.RuneError }) ||
		strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	return s
}

var inspectHelp = help{
	Synopsis: "inspect [--config F] [--json] FILE.h5",
	Text: `Prints an archive's tree with attribute counts, the source, provenance
and parameters of every dataset, the parent links, and the archive's audit
record (seq and hash) when the configured audit log names it.`,
	Example: `gwwatchd inspect var/archive/K/13000/K-K1_DARM-1300000000-64.h5
gwwatchd inspect --json var/archive/K/13000/K-K1_DARM-1300000000-64.h5 | jq .datasets`,
}

func (m *Main) inspect(args []string) error {
	fs := m.newFlagSet("inspect", inspectHelp)
	fs.configFlag("configuration `file`, for the audit log")
	asJSON := fs.Bool("json", false, "print JSON")
	file, err := fs.parseOne(args, "archive")
	if err != nil {
		return err
	}
	a, err := archive.Open(file)
	if err != nil {
		return err
	}
	if a.Format != archive.Format {
		why := "it has no format attribute"
		if a.Format != "" {
			why = fmt.Sprintf("its format is %q", a.Format)
		}
		return &problemError{fmt.Errorf("inspect: %s: not a gwwatchd archive (%s)", file, why)}
	}
	s := a.Summary()
	cfg, err := fs.loadConfig()
	if err != nil {
		return err
	}
	if s.Audit, err = findRecord(cfg.Audit.Path, file); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return s.WriteText(m.Stdout)
}

var verifyHelp = help{
	Synopsis: "verify FILE.h5...",
	Text: `Checks each archive: every data_sha256, every product recomputed from its
parent with its recorded parameters, the parent links, and the source's
sha256 when the source is still there; one line per archive. Exits 1 when
any archive does not verify, 2 when any cannot be read.`,
	Example: `gwwatchd verify var/archive/K/13000/*.h5`,
}

func (m *Main) verify(args []string) error {
	fs := m.newFlagSet("verify", verifyHelp)
	files, err := fs.parseSome(args, "no archives given")
	if err != nil {
		return err
	}
	proc := processor.New(runtime.NumCPU())
	code := exitOK
	for _, f := range files {
		r, err := pipeline.Verify(f, proc)
		if err != nil {
			fmt.Fprintf(m.Stdout, "%s\n", oneline.Escape(errorLine(f, err)))
			code = exitError
			continue
		}
		fmt.Fprintln(m.Stdout, oneline.Escape(r.Summary()))
		if !r.OK() && code == exitOK {
			code = exitProblems
		}
	}
	if code != exitOK {
		return &exitCodeError{code}
	}
	return nil
}

var configHelp = help{
	Synopsis: "config check [FILE]",
	Text: `Works with gwwatchd's configuration. Its one subcommand, check, validates
a configuration file.`,
	Example: `gwwatchd config check /etc/gwwatchd/config.toml`,
}

var configCheckHelp = help{
	Synopsis: "config check [--quiet] [FILE]",
	Text: `Validates a configuration file, or the embedded default without FILE, and
prints the effective configuration with every key and default spelled
out (with --quiet, nothing: the exit status says it, as systemctl reload
needs). A problem is reported with its key and line, and exits 2; a watch
directory that does not exist and that run would not create is warned of.`,
	Example: `gwwatchd config check /etc/gwwatchd/config.toml`,
}

func (m *Main) config(args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		configHelp.write(m.Stdout, nil)
		return errHelp
	}
	if len(args) == 0 || args[0] != "check" {
		return &usageError{msg: `config: the subcommand is "check"`, command: "config", synopsis: configHelp.Synopsis}
	}
	fs := m.newFlagSet("config check", configCheckHelp)
	quiet := fs.Bool("quiet", false, "print nothing when the file is valid")
	files, err := fs.parse(args[1:])
	if err != nil {
		return err
	}
	if len(files) > 1 {
		return fs.usageError("give at most one file")
	}
	path := ""
	if len(files) == 1 {
		path = files[0]
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	b, err := cfg.Effective()
	if err != nil {
		return err
	}
	src := "embedded default"
	if path != "" {
		src = path
	}
	if !*quiet {
		fmt.Fprintf(m.Stdout, "# %s: valid; effective configuration:\n%s", src, b)
		if len(cfg.Processing.Products) > 0 {
			// The shorthands alone are the sections above; a chain is
			// easier read as a tree.
			fmt.Fprintf(m.Stdout, "\n%s", cfg.ChainText())
		}
	}
	for _, err := range cfg.WatchDirProblems() {
		fmt.Fprintf(m.Stderr, "gwwatchd: config check: warning: run would refuse to start: %v\n", err)
	}
	return nil
}

var versionHelp = help{
	Synopsis: "version",
	Text: `Prints gwwatchd's version and VCS revision, and the versions of Go,
libhdf5 and gonum it was built with.`,
	Example: `gwwatchd version`,
}

func (m *Main) version(args []string) error {
	fs := m.newFlagSet("version", versionHelp)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	in := buildinfo.Get()
	fmt.Fprintf(m.Stdout, "gwwatchd %s\nrevision %s\ngo       %s\nlibhdf5  %s\ngonum    %s\n",
		in.Version, in.PipelineVersion(), in.GoVersion, archive.LibVersion(), in.Gonum)
	return nil
}
