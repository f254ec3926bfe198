package ingest

import (
	"math/big"
	"path/filepath"
	"strconv"
	"strings"
)

// Name is a file name in the LIGO-T010150 convention,
// OBS-DESC-GPSSTART-DURATION.ext.
type Name struct {
	Obs      string  // observatory, e.g. "H1" or "HLV"
	Desc     string  // description, [A-Za-z0-9_]+
	GPS      float64 // GPS start time in seconds
	Duration float64 // seconds, > 0
}

// ParseName parses base, a file name with its extension, as a T010150
// name. GPSSTART and DURATION may be integers or decimals; DURATION must be
// positive. The final extension is removed before parsing, so a decimal
// DURATION needs an extension after it.
func ParseName(base string) (Name, bool) {
	n, _, ok := parseName(base)
	return n, ok
}

// parseName is ParseName also returning DURATION as an exact rational,
// so that a sample rate is derived from it without rounding.
func parseName(base string) (Name, *big.Rat, bool) {
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	if stem == base {
		return Name{}, nil, false
	}
	parts := strings.Split(stem, "-")
	if len(parts) != 4 || !isWord(parts[0], false) || !isWord(parts[1], true) ||
		!isDecimal(parts[2]) || !isDecimal(parts[3]) {
		return Name{}, nil, false
	}
	gps, err1 := strconv.ParseFloat(parts[2], 64)
	dur, err2 := strconv.ParseFloat(parts[3], 64)
	exact, ok := new(big.Rat).SetString(parts[3])
	if err1 != nil || err2 != nil || !ok || exact.Sign() <= 0 || dur <= 0 {
		return Name{}, nil, false
	}
	return Name{Obs: parts[0], Desc: parts[1], GPS: gps, Duration: dur}, exact, true
}

// isWord reports whether s is non-empty and all ASCII letters and digits,
// plus underscores when underscore is set.
func isWord(s string, underscore bool) bool {
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || underscore && c == '_'
		if !ok {
			return false
		}
	}
	return s != ""
}

// isDecimal reports whether s is digits with an optional fractional part.
func isDecimal(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	return allDigits(whole) && (!dot || allDigits(frac))
}

// nameRate returns samples/duration when it is a whole number of hertz.
// Anything else would be a guess, so it reports false.
func nameRate(samples int, duration *big.Rat) (float64, bool) {
	r := new(big.Rat).SetInt64(int64(samples))
	r.Quo(r, duration)
	if !r.IsInt() || r.Sign() <= 0 {
		return 0, false
	}
	f, exact := r.Float64()
	return f, exact
}
