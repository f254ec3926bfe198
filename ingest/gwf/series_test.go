package gwf

import (
	"slices"
	"testing"
)

func frameAt(sec int64, nsec int32, dt float64, chans ...encChannel) encFrame {
	return encFrame{name: "s", gps: Time{Sec: sec, Nsec: nsec}, dt: dt, chans: chans}
}

func adcChan(name string, rate float64, values any) encChannel {
	return encChannel{kind: Adc, name: name, values: values, code: 1 | littleEndian, rate: rate, unit: "ct",
		adc: AdcInfo{Slope: 2, NBits: 16}}
}

func ramp(from, n int) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(from + i)
	}
	return v
}

func decodeSpec(t *testing.T, spec encFile) *File {
	t.Helper()
	if spec.version == 0 {
		spec.version = 8
	}
	f, err := Decode(encode(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSeriesJoins(t *testing.T) {
	t.Parallel()
	changed := adcChan("A", 4, ramp(8, 4))
	changed.adc.Slope = 3
	withOffset := func(from int) encChannel {
		c := adcChan("A", 16, ramp(from, 12))
		c.timeOffset = 0.25 // data start a quarter second into each frame
		return c
	}
	cases := []struct {
		name   string
		frames []encFrame
		want   [][]int // frames of each series, in order
		t0     []Time
	}{
		{
			name:   "contiguous",
			frames: []encFrame{frameAt(100, 0, 1, adcChan("A", 4, ramp(0, 4))), frameAt(101, 0, 1, adcChan("A", 4, ramp(4, 4)))},
			want:   [][]int{{0, 1}},
			t0:     []Time{{Sec: 100}},
		},
		{
			name: "gap",
			frames: []encFrame{frameAt(100, 0, 1, adcChan("A", 4, ramp(0, 4))), frameAt(101, 0, 1, adcChan("A", 4, ramp(4, 4))),
				frameAt(103, 0, 1, adcChan("A", 4, ramp(12, 4)))},
			want: [][]int{{0, 1}, {2}},
			t0:   []Time{{Sec: 100}, {Sec: 103}},
		},
		{
			name:   "overlap",
			frames: []encFrame{frameAt(100, 0, 1, adcChan("A", 4, ramp(0, 4))), frameAt(100, 500000000, 1, adcChan("A", 4, ramp(2, 4)))},
			want:   [][]int{{0}, {1}},
			t0:     []Time{{Sec: 100}, {Sec: 100, Nsec: 500000000}},
		},
		{
			name:   "one sample short of contiguous",
			frames: []encFrame{frameAt(100, 0, 1, adcChan("A", 4, ramp(0, 3))), frameAt(101, 0, 1, adcChan("A", 4, ramp(4, 4)))},
			want:   [][]int{{0}, {1}},
			t0:     []Time{{Sec: 100}, {Sec: 101}},
		},
		{
			name:   "out of order in the file",
			frames: []encFrame{frameAt(101, 0, 1, adcChan("A", 4, ramp(4, 4))), frameAt(100, 0, 1, adcChan("A", 4, ramp(0, 4)))},
			want:   [][]int{{1, 0}},
			t0:     []Time{{Sec: 100}},
		},
		{
			name:   "calibration changes",
			frames: []encFrame{frameAt(100, 0, 1, adcChan("A", 4, ramp(0, 4))), frameAt(101, 0, 1, adcChan("A", 4, ramp(4, 4))), frameAt(102, 0, 1, changed)},
			want:   [][]int{{0, 1}, {2}},
			t0:     []Time{{Sec: 100}, {Sec: 102}},
		},
		{
			name:   "rate 1000 Hz, whose dx is not exact",
			frames: []encFrame{frameAt(7, 0, 1, adcChan("A", 1000, ramp(0, 1000))), frameAt(8, 0, 1, adcChan("A", 1000, ramp(1000, 1000))), frameAt(9, 0, 1, adcChan("A", 1000, ramp(2000, 1000)))},
			want:   [][]int{{0, 1, 2}},
			t0:     []Time{{Sec: 7}},
		},
		{
			name:   "time offsets within frames",
			frames: []encFrame{frameAt(100, 0, 0.75, withOffset(0)), frameAt(100, 750000000, 0.75, withOffset(12))},
			want:   [][]int{{0, 1}},
			t0:     []Time{{Sec: 100, Nsec: 250000000}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := decodeSpec(t, encFile{frames: c.frames})
			series := f.Series()
			var got [][]int
			for _, s := range series {
				got = append(got, s.Frames)
			}
			if !slices.EqualFunc(got, c.want, slices.Equal) {
				t.Fatalf("series from frames %v, want %v", got, c.want)
			}
			for i, s := range series {
				if s.T0 != c.t0[i] {
					t.Errorf("series %d starts at %v, want %v", i, s.T0, c.t0[i])
				}
				var parts []any
				for _, fi := range s.Frames {
					parts = append(parts, f.Frames[fi].Channels[0].Values)
				}
				if !sameValues(s.Values, concat(parts)) || s.Shape[0] != s.Len() {
					t.Errorf("series %d: values or shape %v wrong", i, s.Shape)
				}
			}
		})
	}
}

func TestSeriesDuplicatesAndShapes(t *testing.T) {
	t.Parallel()
	img := func(from int) encChannel {
		c := encChannel{kind: Proc, name: "IMG", values: ramp(from, 6), shape: []int{2, 3}, code: 0, rate: 2, proc: ProcInfo{Type: 6}}
		return c
	}
	f := decodeSpec(t, encFile{frames: []encFrame{
		frameAt(10, 0, 1, adcChan("D", 4, ramp(0, 4)), adcChan("D", 4, ramp(100, 4)), img(0)),
		frameAt(11, 0, 1, adcChan("D", 4, ramp(4, 4)), adcChan("D", 4, ramp(104, 4)), img(6)),
	}})
	series := f.Series()
	if len(series) != 3 {
		t.Fatalf("%d series, want 3", len(series))
	}
	for i, want := range []struct {
		dup    int
		values []int32
		shape  []int
	}{{0, ramp(0, 8), []int{8}}, {1, slices.Concat(ramp(100, 4), ramp(104, 4)), []int{8}}, {0, ramp(0, 12), []int{4, 3}}} {
		s := series[i]
		if s.Dup != want.dup || !slices.Equal(s.Values.([]int32), want.values) || !slices.Equal(s.Shape, want.shape) {
			t.Errorf("series %d (%s dup %d): %v shape %v, want dup %d %v shape %v", i, s.Name, s.Dup, s.Values, s.Shape, want.dup, want.values, want.shape)
		}
	}
	// Series share no memory with the channels.
	series[0].Values.([]int32)[0] = -1
	if f.Frames[0].Channels[0].Values.([]int32)[0] != 0 {
		t.Error("Series values alias a channel's")
	}
}

func TestTime(t *testing.T) {
	t.Parallel()
	base := Time{Sec: 1000000000, Nsec: 999999999}
	cases := []struct {
		add  float64
		want Time
	}{
		{0, base},
		{1e-9, Time{Sec: 1000000001}},
		{0.5, Time{Sec: 1000000001, Nsec: 499999999}},
		{-1, Time{Sec: 999999999, Nsec: 999999999}},
		{0.25e-9, Time{Sec: 1000000000, Nsec: 999999999, Frac: 0.25}},
	}
	for _, c := range cases {
		if got := base.Add(c.add); got != c.want {
			t.Errorf("%v + %v = %+v, want %+v", base, c.add, got, c.want)
		}
	}
	a, b := Time{Sec: 5, Nsec: 1}, Time{Sec: 4, Nsec: 999999999, Frac: 0.5}
	if d := a.Sub(b); d < 1.49e-9 || d > 1.51e-9 {
		t.Errorf("Sub = %v, want 1.5e-9", d)
	}
	if !b.Before(a) || a.Before(b) {
		t.Error("Before wrong")
	}
	if s := (Time{Sec: 968654552, Nsec: 5, Frac: 0.5}).String(); s != "968654552.0000000055" {
		t.Errorf("String = %q", s)
	}
	if g := (Time{Sec: 968654552, Nsec: 500000000}).GPS(); g != 968654552.5 {
		t.Errorf("GPS = %v", g)
	}
}
