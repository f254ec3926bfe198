package layout

import (
	"fmt"
	"strings"
	"testing"
)

// The default layout of the configuration, with safe and hostile values.
func TestRender(t *testing.T) {
	tests := []struct {
		values map[string]string
		want   string
	}{
		{map[string]string{"obs": "K", "gps5": "13000", "desc": "K1_LSC_DARM", "gps": "1300000000", "dur": "64"},
			"K/13000/K-K1_LSC_DARM-1300000000-64.h5"},
		{map[string]string{"obs": "../..", "gps5": "/etc", "desc": "a/b", "gps": "..", "dur": ""},
			"_../_etc/_..-a_b-_-_.h5"},
	}
	for _, tt := range tests {
		got, err := Render("{obs}/{gps5}/{obs}-{desc}-{gps}-{dur}.h5", tt.values)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		for _, part := range strings.Split(got, "/") {
			if part == ".." || part == "." {
				t.Errorf("%q has a %q element", got, part)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	for layout, want := range map[string]string{
		"":                 "must not be empty",
		"/abs/{gps}.h5":    `"/abs/{gps}.h5" must be relative to archive.root`,
		"{ifo}/{gps}.h5":   `unknown placeholder {ifo} in "{ifo}/{gps}.h5"`,
		"{gps/x.h5":        `unbalanced braces in "{gps/x.h5"`,
		"../{gps}.h5":      `"../{gps}.h5" has an empty, . or .. path element`,
		"a//{gps}.h5":      `"a//{gps}.h5" has an empty, . or .. path element`,
		"{obs}/{gps}.hdf5": `"{obs}/{gps}.hdf5" must end in .h5`,
		"{obs}/{gps}.h5":   "",
	} {
		err := Check(layout)
		if got := fmt.Sprint(err); want == "" && err != nil || want != "" && got != want {
			t.Errorf("Check(%q) = %v, want %q", layout, err, want)
		}
	}
}

func TestASDSuffix(t *testing.T) {
	for name, want := range map[string]string{
		"bp_values":      ValuesSuffix,
		"bp_frequencies": FrequenciesSuffix,
		"_values":        ValuesSuffix,
		"bp":             "",
		"values":         "",
		"bp_values2":     "",
		"bp_skipped":     "",
	} {
		if got := ASDSuffix(name); got != want {
			t.Errorf("ASDSuffix(%q) = %q, want %q", name, got, want)
		}
	}
}
