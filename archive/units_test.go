package archive

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/ingest"
)

// unitCases are source unit strings and what the archive stores for them.
var unitCases = []struct{ source, want string }{
	{"", ""},
	{"dimensionless", ""},
	{"Dimensionless", ""},
	{"NONE", ""},
	{"undef", ""},
	{"1", ""},
	{"Counts.", "ct"},
	{"counts", "ct"},
	{"count", "ct"},
	{"ct", "ct"},
	{"ADC counts", "ct"},
	{"Volts", "V"},
	{"volt", "V"},
	{"V", "V"},
	{"mV", "mV"},
	{"MV", "MV"},
	{"strain", "strain"},
	{" strain ", "strain"},
	{"Seconds", "s"},
	{"s", "s"},
	{"S", "S"},
	{"Hz", "Hz"},
	{"kHz", "kHz"},
	{"m", "m"},
	{"um", "um"},
	{"urad", "urad"},
	{"nm", "nm"},
	{"m/s", "m/s"},
	{"m / s2", "m / s2"},
	{"m s^-2", "m s^-2"},
	{"W m**-2", "W m**-2"},
	{"ct / Hz(1/2)", "ct / Hz(1/2)"},
	{"1 / Hz(1/2)", "1 / Hz(1/2)"},
	{"1 / s", "1 / s"},
	{"1 / m / s", ""},
	{"degC", "deg_C"},
	{"Torr", "Torr"},
	{"mbar", "mbar"},
	{"%", "%"},
	{"kbar", ""},
	{"Hz(1/2)", "Hz(1/2)"},
	{"m(1/2)", "m(1/2)"},
	{"(1/2)", ""},
	// Not units astropy knows: no unit, the string kept in unit_source.
	{"strain/rtHz", ""},
	{"arbitrary units", ""},
	{"m//s", ""},
	{"m /", ""},
	{"/ s", ""},
	{"s^x", ""},
	{"µm", ""},
}

func TestArchiveUnitMapping(t *testing.T) {
	t.Parallel()
	for _, c := range unitCases {
		if got := ArchiveUnit(c.source); got != c.want {
			t.Errorf("ArchiveUnit(%q) = %q, want %q", c.source, got, c.want)
		}
	}
}

// TestUnitAttributes checks what a raw dataset and its products record of
// a unit: the archive unit in unit, the source's string in unit_source
// when it differs, and a density unit built on the archive unit.
func TestUnitAttributes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		source, unit, source_, asd string
	}{
		{"", "", "", "1 / Hz(1/2)"},
		{"strain", "strain", "", "strain / Hz(1/2)"},
		{"Counts.", "ct", "Counts.", "ct / Hz(1/2)"},
		{"dimensionless", "", "dimensionless", "1 / Hz(1/2)"},
		{"m / s", "m / s", "", "m / s / Hz(1/2)"},
		{"1 / s", "1 / s", "", "1 / (s Hz(1/2))"},
	} {
		s := &ingest.Series{Channel: "K1:X", Dataset: "K1:X", Unit: c.source, T0: 1300000000, SampleRate: 16,
			DType: "float64", Values: make([]float64, 16), Format: "npy"}
		content := &Content{Source: ingest.Source{SHA256: "00"}, Entries: []Entry{{Series: s}}}
		ds, err := content.entryDatasets(&content.Entries[0], "K1:X", "00")
		if err != nil {
			t.Fatal(err)
		}
		raw := ds[0]
		if got := raw.Attr("unit"); got != c.unit {
			t.Errorf("%q: unit %q, want %q", c.source, got, c.unit)
		}
		got, has := raw.Attr("unit_source").(string)
		if (c.source_ == "") == has || got != c.source_ {
			t.Errorf("%q: unit_source %q (present %v), want %q", c.source, got, has, c.source_)
		}
		var params map[string]any
		if err := json.Unmarshal([]byte(raw.Attr("params_json").(string)), &params); err != nil {
			t.Fatal(err)
		}
		if params["unit"] != c.unit || (c.source_ != "") != (params["unit_source"] == c.source_) {
			t.Errorf("%q: params_json unit %v unit_source %v", c.source, params["unit"], params["unit_source"])
		}
		if got := DensityUnit(c.unit); got != c.asd {
			t.Errorf("%q: density unit %q, want %q", c.source, got, c.asd)
		}
	}
}

// TestArchiveUnitsParseWithAstropy gives astropy every unit ArchiveUnit
// can return: each table entry, each name it passes on with and without
// prefixes, and the density unit of each. Units other than gwpy's own
// must parse with astropy alone; gwpy's (strain) once gwpy is imported.
// It needs ../shared/python (gwpy) and a Python with astropy, and skips
// without them.
func TestArchiveUnitsParseWithAstropy(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs Python with astropy and gwpy: not with -short")
	}
	shared, err := filepath.Abs("../../shared/python")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(shared, "gwpy")); err != nil {
		t.Skipf("no gwpy in %s: %v", shared, err)
	}
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import astropy.units").Run(); err != nil {
		t.Skipf("%s has no astropy: %v", python, err)
	}
	set := map[string]bool{}
	for _, u := range unitWords {
		set[u] = true
	}
	for _, c := range unitCases {
		set[ArchiveUnit(c.source)] = true
	}
	for n := range unitPlain {
		set[n] = true
	}
	for n := range unitPrefixed {
		set[n] = true
		for _, p := range unitPrefixes {
			set[p+n] = true
		}
	}
	var units []string
	for u := range set {
		units = append(units, u, DensityUnit(u))
	}
	slices.Sort(units)
	units = slices.Compact(units)
	const script = `import json, sys, warnings
warnings.simplefilter("ignore")
gwpy_only = {"strain"}
bad = []
units = json.load(sys.stdin)
import astropy.units as u
for s in units:
    if any(g in s for g in gwpy_only):
        continue
    try:
        u.Unit(s)
    except ValueError:
        bad.append(s)
import gwpy.detector.units  # registers gwpy's own units with astropy
for s in units:
    try:
        u.Unit(s)
    except ValueError:
        bad.append(s + " (with gwpy)")
json.dump(bad, sys.stdout)
`
	in, _ := json.Marshal(units)
	cmd := exec.Command(python, "-c", script)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+shared)
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("astropy: %v", err)
	}
	var bad []string
	if err := json.Unmarshal(out, &bad); err != nil {
		t.Fatalf("astropy output %q: %v", out, err)
	}
	if len(bad) > 0 {
		t.Errorf("astropy does not parse %d of %d archive units: %q", len(bad), len(units), bad)
	}
}
