package gwf

import (
	"math"
	"slices"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// Series is one channel's samples over a stretch of contiguous frames.
type Series struct {
	Meta

	T0  Time // time of the first sample
	Dup int  // as Channel.Dup: which of the channels of this kind and name in each frame

	// Frames lists the indices in File.Frames of the frames joined, in
	// time order.
	Frames []int

	// Values holds the samples, typed as Channel.Values is; for more than
	// one dimension, Shape[0] counts the joined rows.
	Values any
}

// Len returns the number of samples in Values.
func (s *Series) Len() int { return samples.Len(s.Values) }

// End returns the time just after the last sample, T0 + Shape[0]·Dx.
func (s *Series) End() Time { return s.T0.Add(float64(s.Shape[0]) * s.Dx) }

// Series joins each channel's pieces across the file's frames. Pieces of a
// channel (same kind, name and Dup) are taken in time order, and one is
// joined to the one before when it starts where that one ends (to within
// a nanosecond and a thousandth of a sample) and has equal Meta apart from
// Shape[0]: the same sample type, rate, unit and calibration. A gap, an
// overlap or a change of metadata starts a new Series, as does any piece
// without a sample rate. Phase, which a heterodyned channel's frames each
// give for their own start, is the first piece's. The Series are returned grouped by channel, in the
// order channels first appear, and in time order within a channel; they
// share no memory with the Channels.
func (f *File) Series() []*Series {
	type key struct {
		kind Kind
		name string
		dup  int
	}
	var order []key
	groups := make(map[key][]*Channel)
	for _, fr := range f.Frames {
		for _, ch := range fr.Channels {
			k := key{ch.Kind, ch.Name, ch.Dup}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], ch)
		}
	}
	var out []*Series
	for _, k := range order {
		pieces := groups[k]
		slices.SortStableFunc(pieces, func(a, b *Channel) int {
			switch {
			case a.T0.Before(b.T0):
				return -1
			case b.T0.Before(a.T0):
				return 1
			}
			return 0
		})
		for i := 0; i < len(pieces); {
			j := i + 1
			for j < len(pieces) && follows(pieces[j-1], pieces[j]) {
				j++
			}
			out = append(out, join(pieces[i:j]))
			i = j
		}
	}
	return out
}

// follows reports whether b continues a.
func follows(a, b *Channel) bool {
	if !(a.Dx > 0) || !a.sameAs(&b.Meta) || len(a.Shape) == 0 {
		return false
	}
	end := a.T0.Add(float64(a.Shape[0]) * a.Dx)
	tol := math.Min(1e-9, a.Dx/1000)
	return math.Abs(b.T0.Sub(end)) <= tol
}

// sameAs reports whether m and o describe the same samples, apart from how
// many there are along the first dimension.
func (m *Meta) sameAs(o *Meta) bool {
	if m.Name != o.Name || m.Kind != o.Kind || m.Comment != o.Comment || m.DType != o.DType ||
		m.Unit != o.Unit || m.XUnit != o.XUnit || m.Dx != o.Dx || m.SampleRate != o.SampleRate ||
		m.FShift != o.FShift ||
		len(m.Shape) != len(o.Shape) || len(m.Shape) == 0 || !slices.Equal(m.Shape[1:], o.Shape[1:]) {
		return false
	}
	switch {
	case m.Adc != nil || o.Adc != nil:
		return m.Adc != nil && o.Adc != nil && *m.Adc == *o.Adc
	case m.Sim != nil || o.Sim != nil:
		return m.Sim != nil && o.Sim != nil && *m.Sim == *o.Sim
	case m.Proc != nil || o.Proc != nil:
		p, q := m.Proc, o.Proc
		return p != nil && q != nil && p.Type == q.Type && p.SubType == q.SubType &&
			p.FRange == q.FRange && p.BW == q.BW && slices.Equal(p.AuxParams, q.AuxParams)
	}
	return true
}

// join makes one Series of contiguous pieces.
func join(pieces []*Channel) *Series {
	first := pieces[0]
	s := &Series{Meta: first.Meta, T0: first.T0, Dup: first.Dup}
	s.Shape = slices.Clone(first.Shape)
	s.Adc = clonePtr(first.Adc)
	s.Sim = clonePtr(first.Sim)
	if first.Proc != nil {
		p := *first.Proc
		p.AuxParams = slices.Clone(p.AuxParams)
		s.Proc = &p
	}
	parts := make([]any, len(pieces))
	rows := 0
	for i, p := range pieces {
		s.Frames = append(s.Frames, p.Frame)
		parts[i] = p.Values
		rows += p.Shape[0]
	}
	s.Shape[0] = rows
	if s.Proc != nil {
		s.Proc.TRange = float64(rows) * s.Dx
	}
	s.Values = concat(parts)
	return s
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// concat joins typed slices of one type into a new slice.
func concat(parts []any) any {
	if parts[0] == nil {
		return nil // scanned, not decoded
	}
	return samples.Concat(parts)
}
