package pipeline

import (
	"path/filepath"
	"strings"

	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
)

// WatchFor returns the watch whose directory holds path (the deepest one
// when watches nest), or nil.
func WatchFor(cfg *config.Config, path string) *config.Watch {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	var best *config.Watch
	bestLen := -1
	for i := range cfg.Watch {
		w := &cfg.Watch[i]
		dir, err := filepath.Abs(w.Dir)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(dir, abs)
		if err != nil || !filepath.IsLocal(rel) {
			continue
		}
		if !w.Recursive && strings.ContainsRune(rel, filepath.Separator) {
			continue
		}
		if len(dir) > bestLen {
			best, bestLen = w, len(dir)
		}
	}
	return best
}

// ReadOptions returns how the files of a watch are read: with its metadata
// defaults and its channel selection. A nil watch gives neither.
func ReadOptions(w *config.Watch) ingest.Options {
	o := ingest.Options{Defaults: Defaults(w)}
	if w != nil {
		o.Channels = w.Channels
	}
	return o
}

// Defaults returns a watch's metadata defaults, the lowest precedence of
// the metadata rules. A nil watch has none.
func Defaults(w *config.Watch) ingest.Meta {
	var m ingest.Meta
	if w == nil {
		return m
	}
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	m.Channel = str(w.Channel)
	m.Dataset = str(w.Dataset)
	m.Unit = str(w.Unit)
	m.Description = str(w.Description)
	m.DType = str(w.DType)
	m.ByteOrder = str(w.ByteOrder)
	m.T0 = w.T0
	m.SampleRate = w.SampleRate
	return m
}
