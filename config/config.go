// Package config holds gwwatchd's configuration schema, its documented
// defaults and its validation.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/gwwatchd/gwwatchd/archive/layout"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/internal/dropdir"
	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// Config is the whole configuration of gwwatchd: one schema shared by the
// daemon and the one-shot commands.
type Config struct {
	Daemon     Daemon     `toml:"daemon"`
	Archive    Archive    `toml:"archive"`
	Audit      Audit      `toml:"audit"`
	Processing Processing `toml:"processing"`
	Watch      []Watch    `toml:"watch"`

	// File is the path the configuration was read from, or "" for the
	// embedded default.
	File string `toml:"-"`
}

// Daemon configures the long-running service.
type Daemon struct {
	Workers         int      `toml:"workers"`
	StateDir        string   `toml:"state_dir"`
	Rescan          Duration `toml:"rescan"`
	Metrics         string   `toml:"metrics"`
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
	Queue           int      `toml:"queue"`
	// MemoryLimit bounds the memory that the files being processed and
	// worked ahead on hold at once; see MemoryLimit.
	MemoryLimit MemoryLimit `toml:"memory_limit"`
	// MaxDeaths is how many times the daemon may die while processing
	// one file before that file is quarantined; 0 never quarantines for it.
	MaxDeaths int `toml:"max_deaths"`
	// ProcessTimeout ends the daemon when a file has been processed for
	// longer, so that its restart counts a death against that file; 0
	// never does.
	ProcessTimeout Duration `toml:"process_timeout"`
}

// Archive configures where and how archives are written.
type Archive struct {
	Root        string `toml:"root"`
	Layout      string `toml:"layout"`
	Compression string `toml:"compression"`
	GzipLevel   int    `toml:"gzip_level"`
	// Quicklook writes a PNG of the first ASD beside each archive.
	Quicklook bool `toml:"quicklook"`
}

// Audit configures the audit log.
type Audit struct {
	Path               string   `toml:"path"`
	Key                string   `toml:"key"` // "": audit.key in daemon.state_dir
	MaxSize            int64    `toml:"max_size"`
	CheckpointEvery    int      `toml:"checkpoint_every"`
	CheckpointInterval Duration `toml:"checkpoint_interval"`
}

// MoveDirs returns the done and quarantine directories of every watch,
// each once, in the order the watches name them: where the daemon moves
// sources to.
func (c *Config) MoveDirs() []string {
	var dirs []string
	for _, w := range c.Watch {
		for _, dir := range []string{w.DoneDir, w.QuarantineDir} {
			if dir != "" && !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
	}
	return dirs
}

// KeyFile returns the checkpoint signing key's path.
func (c *Config) KeyFile() string {
	if c.Audit.Key != "" {
		return c.Audit.Key
	}
	return filepath.Join(c.Daemon.StateDir, "audit.key")
}

// Processing configures the derived products.
type Processing struct {
	ASD         ASD         `toml:"asd"`
	Spectrogram Spectrogram `toml:"spectrogram"`
	// Products are the [[processing.product]] tables: the products
	// besides the shorthands above, each made of the raw series or of
	// another product. Chain lists them all in dependency order.
	Products []Product `toml:"product,omitempty"`
}

// ASD configures the amplitude spectral density by Welch's method.
type ASD struct {
	Enabled   bool     `toml:"enabled"`
	FFTLength float64  `toml:"fftlength"`
	Overlap   *float64 `toml:"overlap"` // nil: half of fftlength
	Method    string   `toml:"method"`
	Window    string   `toml:"window"`
}

// Spectrogram configures the spectrogram: the PSD of each stride, as gwpy makes it.
type Spectrogram struct {
	Enabled   bool     `toml:"enabled"`
	Stride    float64  `toml:"stride"`
	FFTLength float64  `toml:"fftlength"`
	Overlap   *float64 `toml:"overlap"` // nil: half of fftlength
	Method    string   `toml:"method"`
	Window    string   `toml:"window"`
}

// Watch configures one drop directory, and the metadata defaults for the
// files found in it.
type Watch struct {
	Dir           string   `toml:"dir"`
	Patterns      []string `toml:"patterns"`
	Recursive     bool     `toml:"recursive"`
	Settle        Duration `toml:"settle"`
	After         string   `toml:"after"`
	DoneDir       string   `toml:"done_dir"`
	QuarantineDir string   `toml:"quarantine_dir"`
	// Create has run create Dir when it does not exist; without it a
	// missing Dir is an error, so that a mistyped one is noticed.
	Create bool `toml:"create"`

	// Channels selects the channels archived from frame and HDF5 files
	// (shell globs on channel names); empty selects every channel.
	Channels []string `toml:"channels"`

	Channel     string   `toml:"channel"`
	Dataset     string   `toml:"dataset"`
	SampleRate  *float64 `toml:"sample_rate"`
	T0          *float64 `toml:"t0"`
	DType       string   `toml:"dtype"`
	ByteOrder   string   `toml:"byte_order"`
	Unit        string   `toml:"unit"`
	Description string   `toml:"description"`
}

// Duration is a time.Duration written in TOML as a string such as "5s".
type Duration struct{ time.Duration }

// UnmarshalText parses a duration such as "500ms" or "2m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"5s\"", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as Go prints it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultLayout is the default archive path template: LIGO-T010150 names in
// directories of 100 000 GPS seconds.
const DefaultLayout = "{obs}/{gps5}/{obs}-{desc}-{gps}-{dur}.h5"

// DefaultPatterns are the file names a watch picks up when it names none.
var DefaultPatterns = []string{"*.npy", "*.bin", "*.raw", "*.txt", "*.csv", "*.dat", "*.gwf", "*.h5", "*.hdf", "*.hdf5"}

// Default returns the embedded default configuration: everything under
// ./var, one watch on ./var/incoming, which run creates, with a quarantine
// directory.
func Default() *Config {
	c := &Config{}
	c.applyDefaults(nil)
	c.Watch = []Watch{{Dir: "./var/incoming", QuarantineDir: "./var/quarantine", Create: true}}
	c.applyWatchDefaults()
	return c
}

// Load reads and validates a configuration file. An empty path gives the
// embedded default.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.File = path
		}
		return nil, err
	}
	c.File = path
	return c, nil
}

// Parse decodes and validates a configuration from TOML text.
func Parse(b []byte) (*Config, error) {
	c := &Config{}
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ValidationError{Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
		}
		var ppe *toml.ParseError
		if errors.As(err, &ppe) {
			return nil, &ValidationError{Line: ppe.Position.Line, Key: ppe.LastKey, Msg: ppe.Message}
		}
		// Type mismatches come as plain errors that name the key only in
		// their text.
		lines := newKeyLines(b)
		if m := lastKeyRe.FindStringSubmatch(err.Error()); m != nil {
			key := lines.name(strings.Split(m[1], "."))
			return nil, &ValidationError{Key: key, Line: lines.lineOf(key), Msg: m[2]}
		}
		return nil, &ValidationError{Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	lines := newKeyLines(b)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &ValidationError{Key: lines.name(k), Line: lines.line(k), Msg: "unknown key"}
	}
	c.applyDefaults(&md)
	c.applyWatchDefaults()
	if err := c.validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) && ve.Line == 0 {
			ve.Line = lines.lineOf(ve.Key)
		}
		return nil, err
	}
	return c, nil
}

var lastKeyRe = regexp.MustCompile(`\(last key "([^"]*)"\): (.*)$`)

// applyDefaults fills every key the file did not set. With md == nil every
// key is taken as unset.
func (c *Config) applyDefaults(md *toml.MetaData) {
	set := func(key ...string) bool { return md != nil && md.IsDefined(key...) }
	if !set("daemon", "workers") {
		c.Daemon.Workers = runtime.NumCPU()
	}
	if !set("daemon", "state_dir") {
		c.Daemon.StateDir = "./var/state"
	}
	if !set("daemon", "rescan") {
		c.Daemon.Rescan.Duration = time.Minute
	}
	if !set("daemon", "shutdown_timeout") {
		c.Daemon.ShutdownTimeout.Duration = 30 * time.Second
	}
	if !set("daemon", "queue") {
		c.Daemon.Queue = 64
	}
	if !set("daemon", "max_deaths") {
		c.Daemon.MaxDeaths = 3
	}
	if !set("daemon", "process_timeout") {
		c.Daemon.ProcessTimeout.Duration = 15 * time.Minute
	}
	if !set("archive", "root") {
		c.Archive.Root = "./var/archive"
	}
	if !set("archive", "layout") {
		c.Archive.Layout = DefaultLayout
	}
	if !set("archive", "compression") {
		c.Archive.Compression = "none"
	}
	if !set("archive", "gzip_level") {
		c.Archive.GzipLevel = 4
	}
	if !set("audit", "path") {
		c.Audit.Path = "./var/audit/audit.log"
	}
	if !set("audit", "max_size") {
		c.Audit.MaxSize = 64 << 20
	}
	if !set("audit", "checkpoint_every") {
		c.Audit.CheckpointEvery = audit.DefaultCheckpointEvery
	}
	if !set("audit", "checkpoint_interval") {
		c.Audit.CheckpointInterval.Duration = audit.DefaultCheckpointInterval
	}
	a := &c.Processing.ASD
	if !set("processing", "asd", "enabled") {
		a.Enabled = true
	}
	if !set("processing", "asd", "fftlength") {
		a.FFTLength = 4
	}
	if !set("processing", "asd", "method") {
		a.Method = "median"
	}
	if !set("processing", "asd", "window") {
		a.Window = "hann"
	}
	s := &c.Processing.Spectrogram
	if !set("processing", "spectrogram", "enabled") {
		s.Enabled = true
	}
	if !set("processing", "spectrogram", "stride") {
		s.Stride = 8
	}
	if !set("processing", "spectrogram", "fftlength") {
		s.FFTLength = 2
	}
	if !set("processing", "spectrogram", "method") {
		s.Method = "median"
	}
	if !set("processing", "spectrogram", "window") {
		s.Window = "hann"
	}
	c.Processing.applyProductDefaults()
}

func (c *Config) applyWatchDefaults() {
	for i := range c.Watch {
		w := &c.Watch[i]
		if w.Patterns == nil {
			w.Patterns = append([]string(nil), DefaultPatterns...)
		}
		if w.Settle.Duration == 0 {
			w.Settle.Duration = 2 * time.Second
		}
		if w.After == "" {
			w.After = "keep"
		}
		if len(w.Channels) == 0 {
			w.Channels = nil // "channels = []" is the default, every channel
		}
	}
}

// EffectiveOverlap returns the overlap in seconds: the configured one, or
// half of fftlength.
func EffectiveOverlap(fftlength float64, overlap *float64) float64 {
	if overlap == nil {
		return fftlength / 2
	}
	return *overlap
}

func (c *Config) validate() error {
	bad := func(key, format string, args ...any) error {
		return &ValidationError{Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if c.Daemon.Workers < 1 {
		return bad("daemon.workers", "must be at least 1, got %d", c.Daemon.Workers)
	}
	if c.Daemon.StateDir == "" {
		return bad("daemon.state_dir", "must not be empty")
	}
	if c.Daemon.Rescan.Duration < 0 {
		return bad("daemon.rescan", "must not be negative, got %s", c.Daemon.Rescan)
	}
	if c.Daemon.ShutdownTimeout.Duration <= 0 {
		return bad("daemon.shutdown_timeout", "must be positive, got %s", c.Daemon.ShutdownTimeout)
	}
	if err := checkAddress(c.Daemon.Metrics); err != nil {
		return bad("daemon.metrics", "%v", err)
	}
	if c.Daemon.Queue < 1 {
		return bad("daemon.queue", "must be at least 1, got %d", c.Daemon.Queue)
	}
	if c.Daemon.ProcessTimeout.Duration < 0 {
		return bad("daemon.process_timeout", "must not be negative, got %s", c.Daemon.ProcessTimeout)
	}
	if c.Daemon.MaxDeaths < 0 {
		return bad("daemon.max_deaths", "must not be negative, got %d", c.Daemon.MaxDeaths)
	}
	if _, err := c.Daemon.MemoryLimit.Resolve(1 << 40); err != nil {
		return bad("daemon.memory_limit", "%v", err)
	}
	if c.Archive.Root == "" {
		return bad("archive.root", "must not be empty")
	}
	if err := layout.Check(c.Archive.Layout); err != nil {
		return bad("archive.layout", "%v", err)
	}
	switch c.Archive.Compression {
	case "none", "gzip":
	default:
		return bad("archive.compression", `must be "none" or "gzip", got %q`, c.Archive.Compression)
	}
	if c.Archive.GzipLevel < 1 || c.Archive.GzipLevel > 9 {
		return bad("archive.gzip_level", "must be 1 to 9, got %d", c.Archive.GzipLevel)
	}
	if c.Audit.Path == "" {
		return bad("audit.path", "must not be empty")
	}
	if c.Audit.MaxSize < 0 {
		return bad("audit.max_size", "must be 0 (no rotation) or a size in bytes, got %d", c.Audit.MaxSize)
	}
	if c.Audit.CheckpointEvery < 1 {
		return bad("audit.checkpoint_every", "must be at least 1, got %d", c.Audit.CheckpointEvery)
	}
	if c.Audit.CheckpointInterval.Duration <= 0 {
		return bad("audit.checkpoint_interval", "must be positive, got %s", c.Audit.CheckpointInterval)
	}
	a := c.Processing.ASD
	if err := checkWelch("processing.asd", a.FFTLength, a.Overlap, a.Method, a.Window); err != nil {
		return err
	}
	s := c.Processing.Spectrogram
	if err := checkWelch("processing.spectrogram", s.FFTLength, s.Overlap, s.Method, s.Window); err != nil {
		return err
	}
	if !(s.Stride >= s.FFTLength) || math.IsInf(s.Stride, 0) {
		return bad("processing.spectrogram.stride", "must be at least fftlength (%g s), got %g", s.FFTLength, s.Stride)
	}
	if err := c.Processing.validateProducts(); err != nil {
		return err
	}
	dirs := map[string]int{}
	for i, w := range c.Watch {
		key := func(k string) string { return fmt.Sprintf("watch[%d].%s", i, k) }
		if w.Dir == "" {
			return bad(key("dir"), "must not be empty")
		}
		abs := filepath.Clean(w.Dir)
		if j, dup := dirs[abs]; dup {
			return bad(key("dir"), "%q is already watched by watch[%d]", w.Dir, j)
		}
		dirs[abs] = i
		if len(w.Patterns) == 0 {
			return bad(key("patterns"), "must name at least one pattern")
		}
		for _, p := range w.Patterns {
			if _, err := filepath.Match(p, "x"); err != nil || p == "" || strings.Contains(p, "/") {
				return bad(key("patterns"), "%q is not a file name pattern", p)
			}
		}
		for _, p := range w.Channels {
			if _, err := path.Match(p, "x"); err != nil || p == "" {
				return bad(key("channels"), "%q is not a channel name pattern", p)
			}
		}
		// An archive, or a file moved away, must not be picked up again,
		// by this watch or any other.
		outputs := []struct{ key, dir string }{{"archive.root", c.Archive.Root}}
		for j, o := range c.Watch {
			outputs = append(outputs, struct{ key, dir string }{fmt.Sprintf("watch[%d].quarantine_dir", j), o.QuarantineDir},
				struct{ key, dir string }{fmt.Sprintf("watch[%d].done_dir", j), o.DoneDir})
		}
		for _, o := range outputs {
			if o.dir != "" && within(o.dir, w.Dir, w.Recursive) {
				return bad(o.key, "%q lies in the watched directory %q, whose files would be picked up again", o.dir, w.Dir)
			}
		}
		if w.Settle.Duration < 0 {
			return bad(key("settle"), "must not be negative, got %s", w.Settle)
		}
		switch w.After {
		case "keep", "delete":
		case "move":
			if w.DoneDir == "" {
				return bad(key("done_dir"), `must be set when after = "move"`)
			}
		default:
			return bad(key("after"), `must be "keep", "move" or "delete", got %q`, w.After)
		}
		if w.SampleRate != nil && !(*w.SampleRate > 0 && !math.IsInf(*w.SampleRate, 0)) {
			return bad(key("sample_rate"), "must be a positive finite number, got %g", *w.SampleRate)
		}
		if w.T0 != nil && (math.IsNaN(*w.T0) || math.IsInf(*w.T0, 0)) {
			return bad(key("t0"), "must be finite, got %g", *w.T0)
		}
		if w.Dataset == "." || w.Dataset == ".." || strings.Contains(w.Dataset, "/") {
			return bad(key("dataset"), "%q is not a dataset name (no /, not . or ..)", w.Dataset)
		}
		switch w.ByteOrder {
		case "", "little", "big":
		default:
			return bad(key("byte_order"), `must be "little" or "big", got %q`, w.ByteOrder)
		}
		if w.DType != "" && !samples.DType(w.DType).Valid() {
			return bad(key("dtype"), "unknown dtype %q (want one of %s)", w.DType, samples.List(samples.Declarable))
		}
	}
	return nil
}

// checkAddress reports whether addr is "" or a TCP address to listen on,
// HOST:PORT with a port number (the host may be empty: every interface).
func checkAddress(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			err = errors.New(ae.Err)
		}
		return fmt.Errorf("%q is not an address HOST:PORT such as \"127.0.0.1:9464\": %v", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: the port must be a number from 1 to 65535, got %q", addr, port)
	}
	return nil
}

// WatchDirProblems returns an error for every watch directory that is not
// there and that run would not create (the watch does not set create),
// and for every one that is not a directory.
func (c *Config) WatchDirProblems() []error {
	var lines *keyLines
	if c.File != "" {
		if b, err := os.ReadFile(c.File); err == nil {
			lines = newKeyLines(b)
		}
	}
	var errs []error
	for i, w := range c.Watch {
		key := fmt.Sprintf("watch[%d].dir", i)
		bad := func(format string, args ...any) {
			e := &ValidationError{File: c.File, Key: key, Msg: fmt.Sprintf(format, args...)}
			if lines != nil {
				e.Line = lines.lineOf(key)
			}
			errs = append(errs, e)
		}
		fi, err := os.Stat(w.Dir)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !w.Create:
			bad("%q does not exist: create it, or set create = true in this [[watch]] to have run create it", w.Dir)
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			bad("%v", err)
		case !fi.IsDir():
			bad("%q is not a directory", w.Dir)
		}
	}
	return errs
}

// MakeWatchDirs creates the directory of every watch that sets create and
// returns the first of WatchDirProblems: what run does before watching.
func (c *Config) MakeWatchDirs() error {
	for i, w := range c.Watch {
		if !w.Create {
			continue
		}
		if err := os.MkdirAll(w.Dir, 0o750); err != nil {
			return fmt.Errorf("watch[%d].dir: create: %w", i, err)
		}
	}
	if errs := c.WatchDirProblems(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// within reports whether dir is watched as part of the watch directory
// watched: the directory itself, or, if recursive, any below it.
func within(dir, watched string, recursive bool) bool {
	d, err1 := filepath.Abs(dir)
	w, err2 := filepath.Abs(watched)
	return err1 == nil && err2 == nil && dropdir.Covers(w, recursive, d)
}

// WatchOf returns the watch that takes the file at path (the deepest one
// when watches nest), or nil.
func (c *Config) WatchOf(path string) *Watch {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	return dropdir.Owner(c.Watch, filepath.Dir(abs), func(w *Watch) (string, bool) {
		dir, err := filepath.Abs(w.Dir)
		if err != nil {
			return "", false
		}
		return dir, w.Recursive
	})
}

func checkWelch(section string, fftlength float64, overlap *float64, method, window string) error {
	bad := func(key, format string, args ...any) error {
		return &ValidationError{Key: section + "." + key, Msg: fmt.Sprintf(format, args...)}
	}
	if !(fftlength > 0) || math.IsInf(fftlength, 0) {
		return bad("fftlength", "must be a positive number of seconds, got %g", fftlength)
	}
	if overlap != nil && !(*overlap >= 0 && *overlap < fftlength) {
		return bad("overlap", "must be at least 0 and less than fftlength (%g s), got %g", fftlength, *overlap)
	}
	switch method {
	case "median", "mean":
	default:
		return bad("method", `must be "median" or "mean", got %q`, method)
	}
	if window != "hann" {
		return bad("window", `must be "hann", got %q`, window)
	}
	return nil
}

// ValidationError is a configuration problem, naming the key and, when the
// key was in a file, its line.
type ValidationError struct {
	File string
	Line int
	Key  string
	// Product is the name of the [[processing.product]] the key is of,
	// if any: shown after the table, since its index alone says little.
	Product string
	Msg     string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
		if e.Line > 0 {
			fmt.Fprintf(&b, "%d:", e.Line)
		}
		b.WriteString(" ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	key := e.Key
	if i := strings.IndexByte(key, ']'); e.Product != "" && i >= 0 {
		// processing.product[2] (name "bp"): input: ...
		fmt.Fprintf(&b, "%s (name %q): ", key[:i+1], e.Product)
		key = strings.TrimPrefix(key[i+1:], ".")
	}
	if key != "" {
		b.WriteString(key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}
