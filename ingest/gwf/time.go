package gwf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Time is a GPS time held exactly enough to tell frames that follow on from
// each other from frames with a gap between them: whole seconds and
// nanoseconds, as a frame header stores its start, and the fraction of a
// nanosecond that adding a floating-point time offset can leave.
type Time struct {
	Sec  int64   // GPS seconds
	Nsec int32   // nanoseconds, 0 to 999999999
	Frac float64 // fraction of a nanosecond, in [0, 1)
}

// GPS returns t as floating-point GPS seconds, good to about 0.1 µs today.
func (t Time) GPS() float64 {
	return float64(t.Sec) + (float64(t.Nsec)+t.Frac)*1e-9
}

// Add returns t plus d seconds. The whole seconds and nanoseconds of d are
// carried exactly, the rest to the nearest 2^-20 ns.
func (t Time) Add(d float64) Time {
	if d == 0 || math.IsNaN(d) || math.IsInf(d, 0) {
		return t
	}
	s := math.Floor(d)
	r := d - s // exact, in [0, 1)
	n := math.Floor(r * 1e9)
	frac := math.FMA(r, 1e9, -n)
	// Keep the fraction to 2^-20 ns: dyadic offsets such as 1/16384 s stay
	// exact, and the error of a decimal offset such as 0.1 s goes.
	frac = math.Round(frac*(1<<20)) / (1 << 20)
	if frac < 0 {
		n--
		frac++
	} else if frac >= 1 {
		n++
		frac--
	}
	sec := t.Sec + int64(s)
	nsec := int64(t.Nsec) + int64(n)
	f := t.Frac + frac
	if f >= 1 {
		f--
		nsec++
	}
	for nsec >= 1e9 {
		nsec -= 1e9
		sec++
	}
	return Time{Sec: sec, Nsec: int32(nsec), Frac: f}
}

// Sub returns t-u in seconds.
func (t Time) Sub(u Time) float64 {
	return float64(t.Sec-u.Sec) + (float64(int64(t.Nsec)-int64(u.Nsec))+(t.Frac-u.Frac))*1e-9
}

// Before reports whether t is earlier than u.
func (t Time) Before(u Time) bool {
	if t.Sec != u.Sec {
		return t.Sec < u.Sec
	}
	if t.Nsec != u.Nsec {
		return t.Nsec < u.Nsec
	}
	return t.Frac < u.Frac
}

// String formats t as GPS seconds with nine decimals, and more when a
// fraction of a nanosecond is present.
func (t Time) String() string {
	s := fmt.Sprintf("%d.%09d", t.Sec, t.Nsec)
	if t.Frac != 0 {
		f := strconv.FormatFloat(t.Frac, 'f', -1, 64) // "0.xxx"
		s += strings.TrimPrefix(f, "0.")
	}
	return s
}
