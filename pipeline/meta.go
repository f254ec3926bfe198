package pipeline

import (
	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
)

// ReadOptions returns how the files of a watch are read: with its metadata
// defaults and its channel selection (a nil watch gives neither), and
// refusing gwwatchd's own archives.
func ReadOptions(w *config.Watch) ingest.Options {
	o := ingest.Options{Defaults: Defaults(w), RefuseHDF5: archive.InputRefusal}
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
