package ingest

import (
	"fmt"
	"os"
	"strings"

	"github.com/gwwatchd/gwwatchd/internal/h5"
)

// archiveFormat is the root "format" attribute of gwwatchd's own archives.
const archiveFormat = "gwwatchd-archive"

// decodeHDF5 finds the series in an HDF5 file written the way gwpy and
// gwexpy write them: one-dimensional datasets, at the root or in groups,
// whose attributes give the time of the first sample and the spacing (x0
// and dx, or t0 and dt, in seconds), and optionally unit, channel and
// name. Other datasets are passed over. src is the file as read, which
// libhdf5 reads again from disk: a change in between is reported.
func decodeHDF5(abs string, src Source, keep func(string) bool) (out []*Series, found []string, err error) {
	if locked, err := lockedByWriter(abs); err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	} else if locked {
		return nil, nil, fmt.Errorf("ingest: %s: %w", abs, ErrInUse)
	}
	doc, rerr := h5.ReadLenient(abs)
	// What libhdf5 read must be what was hashed; a file that changed says
	// nothing about its content.
	if fi, err := os.Stat(abs); err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	} else if fi.Size() != src.Size || !fi.ModTime().Equal(src.ModTime) {
		return nil, nil, fmt.Errorf("ingest: %s: %w", abs, ErrChanged)
	}
	if rerr != nil {
		// The library's messages name the file; ours does already.
		why := strings.ReplaceAll(strings.ReplaceAll(rerr.Error(), abs+": ", ""), abs, "the file")
		if why != "not an HDF5 file" {
			why = "unreadable HDF5 file: " + why
		}
		return nil, nil, inputErr(abs, rerr, why)
	}
	if f, _ := doc.Attr("format").(string); f == archiveFormat {
		id, _ := doc.Attr("archive_id").(string)
		return nil, nil, inputErr(abs, nil, fmt.Sprintf("already a gwwatchd archive (archive_id %s): archives are not archived again", clip(id)))
	}
	names := map[string]int{}
	for i := range doc.Datasets {
		d := &doc.Datasets[i]
		s, ok := seriesOf(d)
		if !ok {
			continue
		}
		found = append(found, s.Channel)
		if !keep(s.Channel) {
			continue
		}
		names[s.Dataset]++
		out = append(out, s)
	}
	// Two datasets naming the same channel keep their own paths apart.
	for _, s := range out {
		if names[s.Dataset] > 1 {
			s.Dataset = plainName(strings.TrimPrefix(s.Extra["hdf5_path"].(string), "/"))
		}
	}
	return out, found, nil
}

// seriesOf reads one dataset as a series, if it is one.
func seriesOf(d *h5.Dataset) (*Series, bool) {
	if len(d.Dims) != 1 {
		return nil, false
	}
	d.Dims = nil
	dt := dtypeOf(d.Data)
	if dt == "" {
		return nil, false
	}
	t0, ok0 := number(d, "x0", "t0")
	dx, ok1 := number(d, "dx", "dt")
	if !ok0 || !ok1 || dx <= 0 {
		return nil, false
	}
	if u, ok := d.Attr("xunit").(string); ok && u != "s" && u != "second" {
		return nil, false // a frequency series, or some other axis
	}
	channel := text(d, "channel")
	if channel == "" {
		channel = text(d, "name")
	}
	if channel == "" {
		channel = strings.TrimPrefix(d.Path, "/")
	}
	s := &Series{
		Channel:     channel,
		Dataset:     plainName(channel),
		Unit:        text(d, "unit"),
		Description: text(d, "description"),
		T0:          t0,
		SampleRate:  1 / dx,
		DType:       dt,
		Values:      d.Data,
		Extra:       map[string]any{"hdf5_path": d.Path},
	}
	if name := text(d, "name"); name != "" && name != channel {
		s.Extra["name"] = name
	}
	if s.Unit == "dimensionless" {
		s.Unit = ""
	}
	return s, true
}

// number returns the first of the named attributes that is a number.
func number(d *h5.Dataset, names ...string) (float64, bool) {
	for _, n := range names {
		switch v := d.Attr(n).(type) {
		case float64:
			return v, true
		case int64:
			return float64(v), true
		}
	}
	return 0, false
}

func text(d *h5.Dataset, name string) string {
	s, _ := d.Attr(name).(string)
	return strings.TrimSpace(s)
}

// plainName makes a channel name usable as one HDF5 link name.
func plainName(s string) string {
	s = strings.ReplaceAll(s, "/", "_")
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}
