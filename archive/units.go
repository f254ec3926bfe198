package archive

import (
	"slices"
	"strings"
)

// Units: the archive's unit attributes are strings that astropy's
// astropy.units.Unit parses, so that gwpy and anything else built on
// astropy reads them. Sources spell units as their writers like
// ("Counts.", "Volts", "dimensionless"); ArchiveUnit maps those spellings,
// and the raw dataset keeps the source's own string in unit_source when
// the two differ.

// unitWords maps spellings that astropy does not parse, compared after
// trimming spaces and a trailing full stop and ignoring case, to the unit
// astropy writes for them. "" is no unit (dimensionless).
var unitWords = map[string]string{
	"":              "",
	"dimensionless": "",
	"unitless":      "",
	"none":          "",
	"undef":         "",
	"1":             "",
	"-":             "",
	"n/a":           "",

	"count":      "ct",
	"counts":     "ct",
	"ct":         "ct",
	"cts":        "ct",
	"cnt":        "ct",
	"cnts":       "ct",
	"adc count":  "ct",
	"adc counts": "ct",

	"volt":       "V",
	"volts":      "V",
	"millivolt":  "mV",
	"millivolts": "mV",
	"microvolt":  "uV",
	"microvolts": "uV",
	"ampere":     "A",
	"amperes":    "A",
	"amp":        "A",
	"amps":       "A",
	"ohm":        "Ohm",
	"ohms":       "Ohm",
	"watt":       "W",
	"watts":      "W",

	"second":   "s",
	"seconds":  "s",
	"sec":      "s",
	"secs":     "s",
	"time":     "s",
	"time (s)": "s",
	"time [s]": "s",

	"meter":   "m",
	"meters":  "m",
	"metre":   "m",
	"metres":  "m",
	"hertz":   "Hz",
	"radian":  "rad",
	"radians": "rad",
	"degree":  "deg",
	"degrees": "deg",
	"kelvin":  "K",
	"newton":  "N",
	"newtons": "N",
	"pascal":  "Pa",
	"pascals": "Pa",
	"torr":    "Torr",

	"celsius":   "deg_C",
	"degc":      "deg_C",
	"degrees_c": "deg_C",

	// gwpy's own unit for h(t), which gwpy registers with astropy: every
	// reader of gravitational-wave data knows it, and "" would lose it.
	"strain": "strain",
}

// unitPrefixes are the SI prefixes taken before unitPrefixed, as astropy
// spells them.
var unitPrefixes = []string{"p", "n", "u", "m", "c", "k", "M", "G"}

// unitPrefixed are astropy units that take SI prefixes (mV, kHz, urad).
var unitPrefixed = map[string]bool{
	"m": true, "s": true, "g": true, "A": true, "K": true, "mol": true, "Hz": true, "N": true,
	"Pa": true, "J": true, "W": true, "C": true, "V": true, "F": true, "Ohm": true, "S": true,
	"Wb": true, "T": true, "H": true, "rad": true, "sr": true,
}

// unitPlain are astropy units taken without a prefix.
var unitPlain = map[string]bool{
	"ct": true, "deg": true, "deg_C": true, "min": true, "h": true, "d": true, "Torr": true,
	"%": true, "dB": true, "strain": true, "arcsec": true, "arcmin": true, "cd": true,
	"bar": true, "mbar": true,
}

// ArchiveUnit returns the unit the archive stores for a source's unit
// string: a spelling in the table above as astropy writes it, an
// expression of astropy unit names as it is (trimmed), and anything else
// as "" (no unit), the source's string then being kept only in
// unit_source.
func ArchiveUnit(source string) string {
	s := strings.TrimSpace(source)
	key := strings.ToLower(strings.TrimSpace(strings.TrimSuffix(s, ".")))
	if u, ok := unitWords[key]; ok {
		return u
	}
	if unitExpr(s) {
		return s
	}
	return ""
}

// unitName reports whether s is an astropy unit name that ArchiveUnit
// passes on: a plain one, or a prefixable one with or without a prefix.
func unitName(s string) bool {
	if unitPlain[s] || unitPrefixed[s] {
		return true
	}
	for _, p := range unitPrefixes {
		if rest, ok := strings.CutPrefix(s, p); ok && unitPrefixed[rest] {
			return true
		}
	}
	return false
}

// unitExpr reports whether s is a product or quotient of unit names, each
// with an optional integer power or a half-integer one written (1/2):
// "m / s2", "ct / Hz(1/2)", "W m**-2". It accepts a subset of what
// astropy's generic format parses, and only that.
func unitExpr(s string) bool {
	// "(1/2)" is a power, not a quotient: hide its slash first. "**" is a
	// power and "*" a product.
	fields := strings.Fields(strings.NewReplacer("(1/2)", halfPower, "**", "^", "*", " * ", "/", " / ").Replace(s))
	if len(fields) == 0 {
		return false
	}
	wantTerm := true
	for i, f := range fields {
		if wantTerm {
			if f == "1" && i == 0 && len(fields) > 1 && fields[1] == "/" && !slices.Contains(fields[2:], "/") {
				// "1 / Hz": a reciprocal, of a product only (as
				// DensityUnit writes it: astropy refuses "1 / a / b").
				wantTerm = false
				continue
			}
			if !unitTerm(f) {
				return false
			}
			wantTerm = false
			continue
		}
		switch f {
		case "/", "*":
			wantTerm = true
		default:
			// Juxtaposition is a product too: "W m^-2".
			if !unitTerm(f) {
				return false
			}
		}
	}
	return !wantTerm
}

// unitTerm reports whether f is a unit name with an optional power:
// "m", "s2", "s^-1", "Hz(1/2)".
func unitTerm(f string) bool {
	if base, ok := strings.CutSuffix(f, halfPower); ok {
		return unitName(base)
	}
	base, pow, hasPow := strings.Cut(f, "^")
	if !hasPow {
		// A trailing integer is a power: "s2", "m-1".
		i := len(f)
		for i > 0 && f[i-1] >= '0' && f[i-1] <= '9' {
			i--
		}
		if i > 0 && i < len(f) && f[i-1] == '-' {
			i--
		}
		base, pow = f[:i], f[i:]
		if pow == "" {
			return unitName(base)
		}
	}
	return unitName(base) && unitPower(pow)
}

// halfPower stands for "(1/2)" while unitExpr splits an expression.
const halfPower = "\x00half"

func unitPower(p string) bool {
	p = strings.TrimPrefix(p, "-")
	if p == "" || len(p) > 2 {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
