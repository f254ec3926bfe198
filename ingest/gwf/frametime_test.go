package gwf

import (
	"errors"
	"strings"
	"testing"
)

// TestEndOfFrameTimeNotCompared reads a file whose FrEndOfFrame gives a
// start time other than its FrameH's, as FrameL's reader does: only the
// run and frame numbers tie the two, and the frame's time is the FrameH's.
func TestEndOfFrameTimeNotCompared(t *testing.T) {
	t.Parallel()
	for _, eof := range []Time{{}, {Sec: 1000000001}, {Sec: 999999999, Nsec: 5}} {
		fr := frameAt(1000000000, 0, 1, adcChan("A", 4, ramp(0, 4)))
		fr.eofGPS = &eof
		f := decodeSpec(t, encFile{frames: []encFrame{fr}})
		if got := f.Frames[0].GPS; got != (Time{Sec: 1000000000}) {
			t.Errorf("FrEndOfFrame at %v: frame at %v, want 1000000000", eof, got)
		}
	}
	// The run and frame numbers still must agree.
	fr := frameAt(1000000000, 0, 1, adcChan("A", 4, ramp(0, 4)))
	one := uint32(1)
	fr.eofNum = &one
	_, err := Decode(encode(t, encFile{version: 8, frames: []encFrame{fr}}))
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "run 0 frame 1, but its FrameH says run 0 frame 0") {
		t.Errorf("FrEndOfFrame of another frame number: got %v, want the mismatch", err)
	}
}

// TestStartXShiftsT0 checks the time of a channel's first sample: the
// frame's start, plus the channel's timeOffset, plus its FrVect's
// startX[0], as in FrameL (FrVect.GTime is the frame start plus
// timeOffset, and startX[0] is the first sample's x relative to GTime)
// and in gwpy's frameCPP reader. A frequency series' startX is its first
// frequency and moves nothing.
func TestStartXShiftsT0(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name               string
		timeOffset, startX float64
		proc               uint16 // 0: an ADC channel
		want               Time
	}{
		{"startX only", 0, 0.125, 0, Time{Sec: 1000000000, Nsec: 125000000}},
		{"timeOffset only", 0.75, 0, 0, Time{Sec: 1000000000, Nsec: 750000000}},
		{"both add", 0.75, 0.125, 0, Time{Sec: 1000000000, Nsec: 875000000}},
		{"negative startX", 0.75, -0.5, 0, Time{Sec: 1000000000, Nsec: 250000000}},
		{"processed time series", 0.75, 0.125, 1, Time{Sec: 1000000000, Nsec: 875000000}},
		{"frequency series", 0.75, 10, 2, Time{Sec: 1000000000, Nsec: 750000000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := adcChan("A", 8, ramp(0, 8))
			if c.proc != 0 {
				ch = encChannel{kind: Proc, name: "A", values: ramp(0, 8), code: littleEndian, rate: 8, proc: ProcInfo{Type: c.proc}}
			}
			ch.timeOffset, ch.startX = c.timeOffset, c.startX
			f := decodeSpec(t, encFile{frames: []encFrame{frameAt(1000000000, 0, 1, ch)}})
			got := f.Frames[0].Channels[0]
			if got.T0 != c.want || got.TimeOffset != c.timeOffset || got.StartX != c.startX {
				t.Errorf("T0 %v (timeOffset %v, startX %v), want %v", got.T0, got.TimeOffset, got.StartX, c.want)
			}
			if s := f.Series(); len(s) != 1 || s[0].T0 != c.want {
				t.Errorf("series T0 %v, want %v", s[0].T0, c.want)
			}
		})
	}
}
