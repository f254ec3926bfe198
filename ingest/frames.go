package ingest

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gwwatchd/gwwatchd/ingest/gwf"
)

// scanFrames reads the structures of an IGWD frame file through once,
// every checksum checked, and returns its selected channels as series,
// each channel's frames joined where they follow on and a new series at
// every gap; their samples stay in the file, for load to read a series
// at a time.
func scanFrames(abs string, o *openFile, keep func(string) bool) (out []*Series, found []string, load map[*Series]func() (any, error), err error) {
	opts, met := frameOptions(keep)
	ix, err := opts.Read(io.NewSectionReader(o.f, 0, o.size), o.size)
	if err != nil {
		return nil, nil, nil, frameErr(abs, o, err)
	}
	f := ix.File()
	all := ix.Series()
	names := datasetNames(all)
	load = make(map[*Series]func() (any, error), len(all))
	for i, gs := range all {
		s := &Series{
			Channel:     gs.Name,
			Dataset:     names[i],
			Unit:        strings.TrimSpace(gs.Unit),
			Description: strings.TrimSpace(gs.Comment),
			T0:          gs.T0.GPS(),
			SampleRate:  gs.SampleRate,
			DType:       DType(gs.DType),
			Extra:       frameAttrs(f, gs),
			stored:      shapeLen(gs.Shape),
		}
		if len(gs.Shape) > 1 {
			s.Shape = gs.Shape
		}
		if p := gs.Proc; p != nil && p.Type > 1 {
			// Not a time series: t0, dt and sample_rate stand for the
			// frame's own x axis, which these describe.
			s.Extra["frame_x_unit"], s.Extra["frame_dx"] = gs.XUnit, gs.Dx
			s.NoProducts = fmt.Sprintf("FrProcData of type %d (%s), not a time series: products are made of time series only", p.Type, procTypes[p.Type])
		}
		load[s] = func() (any, error) {
			if err := ix.Load(o.f, gs); err != nil {
				return nil, frameErr(abs, o, err)
			}
			v := gs.Values
			gs.Values = nil // the Series holds them now
			return v, nil
		}
		out = append(out, s)
	}
	return out, *met, load, nil
}

// frameErr is the error of the frame reader for the file at abs: what
// it found wrong in the bytes, an InputError; a read that came short, a
// file that shrank.
func frameErr(abs string, o *openFile, err error) error {
	var fe *gwf.Error
	if errors.As(err, &fe) {
		return inputErr(abs, err, err.Error())
	}
	if cerr := o.check(); cerr != nil {
		return cerr
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return o.shrank()
	}
	return fmt.Errorf("ingest: %w", err)
}

// frameAttrs is what the frame file says of a series beyond its samples,
// time and rate, under the names the archive records them by.
func frameAttrs(f *gwf.File, s *gwf.Series) map[string]any {
	first := f.Frames[s.Frames[0]]
	m := map[string]any{
		"frame_version": int64(f.Version),
		"frame_name":    first.Name,
		"frame_run":     int64(first.Run),
		"frame_count":   int64(len(s.Frames)),
		"frame_kind":    s.Kind.String(),
		"t0_gps":        gpsString(s.T0),
	}
	if s.FShift != 0 || s.Phase != 0 {
		m["f_shift"], m["phase"] = s.FShift, float64(s.Phase)
	}
	if a := s.Adc; a != nil {
		m["slope"] = float64(a.Slope)
		m["bias"] = float64(a.Bias)
		m["data_valid"] = int64(a.DataValid)
		m["adc_units"] = a.Units
		m["n_bits"] = int64(a.NBits)
		m["channel_group"] = int64(a.ChannelGroup)
		m["channel_number"] = int64(a.ChannelNumber)
	}
	if p := s.Proc; p != nil {
		m["proc_type"] = int64(p.Type)
		m["proc_subtype"] = int64(p.SubType)
		if p.FRange != 0 {
			m["f_range"] = p.FRange
		}
		if p.BW != 0 {
			m["bw"] = p.BW
		}
		for _, ap := range p.AuxParams {
			m["aux_"+ap.Name] = ap.Value
		}
	}
	return m
}

// procTypes names the FrProcData types.
var procTypes = map[uint16]string{2: "frequency series", 3: "other one-dimensional series", 4: "time-frequency", 5: "wavelets", 6: "multi-dimensional"}

// datasetNames names each series' dataset by its channel, made distinct
// where needed: by kind when an ADC, processed and simulated channel
// share a name, by the number of a repeated channel, and by the GPS start
// of each piece of a channel split by gaps.
func datasetNames(all []*gwf.Series) []string {
	type group struct {
		kind gwf.Kind
		name string
		dup  int
	}
	kinds := map[string]map[gwf.Kind]bool{}
	pieces := map[group]int{}
	for _, s := range all {
		if kinds[s.Name] == nil {
			kinds[s.Name] = map[gwf.Kind]bool{}
		}
		kinds[s.Name][s.Kind] = true
		pieces[group{s.Kind, s.Name, s.Dup}]++
	}
	names := make([]string, len(all))
	for i, s := range all {
		n := s.Name
		if len(kinds[s.Name]) > 1 {
			n += "_" + s.Kind.String()
		}
		if s.Dup > 0 {
			n += "#" + strconv.Itoa(s.Dup)
		}
		if pieces[group{s.Kind, s.Name, s.Dup}] > 1 {
			n += "@" + gpsString(s.T0)
		}
		names[i] = plainName(n)
	}
	return names
}

// gpsString writes a frame time in seconds, to the nanosecond, without
// trailing zeros.
func gpsString(t gwf.Time) string {
	if t.Nsec == 0 {
		return strconv.FormatInt(t.Sec, 10)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%09d", t.Sec, t.Nsec), "0")
}

// frameOptions are the frame reader's options for the channels keep
// selects, and the names of every channel the reader meets, in order.
func frameOptions(keep func(string) bool) (gwf.Options, *[]string) {
	var found []string
	seen := map[string]bool{}
	return gwf.Options{Keep: func(_ gwf.Kind, name string) bool {
		if !seen[name] {
			seen[name] = true
			found = append(found, name)
		}
		return keep(name)
	}}, &found
}
