package config

import (
	"slices"
	"strings"
	"testing"
)

// TestProductErrors: every problem of a [[processing.product]] table is
// reported with the table's index and name, the key and its line.
func TestProductErrors(t *testing.T) {
	const bp = "[[processing.product]]\nname = \"bp\"\nkind = \"bandpass\"\norder = 4\nlow = 20.0\nhigh = 500.0\n"
	tests := []struct {
		name, toml string
		key        string
		line       int
		want       string // in the message
	}{
		{"unknown kind", "[[processing.product]]\nname = \"x\"\nkind = \"wavelet\"\n", "processing.product[0].kind", 3, `processing.product[0] (name "x"): kind: unknown kind "wavelet"`},
		{"no name", "[[processing.product]]\nkind = \"asd\"\n", "processing.product[0].name", 1, "must be set"},
		{"raw as a name", "[[processing.product]]\nname = \"raw\"\nkind = \"asd\"\n", "processing.product[0].name", 2, "names the raw series"},
		{"name with a slash", "[[processing.product]]\nname = \"a/b\"\nkind = \"asd\"\n", "processing.product[0].name", 2, "not a product name"},
		{"name of an ASD dataset", "[[processing.product]]\nname = \"x_values\"\nkind = \"lowpass\"\n", "processing.product[0].name", 2, "ends like the datasets of an ASD"},
		{"name of a shorthand's kind", "[processing.spectrogram]\nenabled = false\n[[processing.product]]\nname = \"spectrogram\"\nkind = \"lowpass\"\norder = 2\ncutoff = 1.0\n", "processing.product[0].name", 4, "a lowpass product needs another name"},
		{"duplicate name", bp + "[[processing.product]]\nname = \"bp\"\nkind = \"asd\"\n", "processing.product[1].name", 8, `processing.product[1] (name "bp"): name: "bp" is already the name of processing.product[0]`},
		{"name of a shorthand", "[[processing.product]]\nname = \"asd\"\nkind = \"asd\"\n", "processing.product[0].name", 2, "already the product of [processing.asd]"},
		{"input that does not exist", bp + "[[processing.product]]\nname = \"a\"\nkind = \"asd\"\ninput = \"pb\"\n", "processing.product[1].input", 10, `no product is named "pb"`},
		{"cycle", "[[processing.product]]\nname = \"a\"\nkind = \"lowpass\"\norder = 2\ncutoff = 10.0\ninput = \"b\"\n" +
			"[[processing.product]]\nname = \"b\"\nkind = \"highpass\"\norder = 2\ncutoff = 1.0\ninput = \"a\"\n", "processing.product[0].input", 6, "a cycle"},
		{"self as input", "[[processing.product]]\nname = \"a\"\nkind = \"lowpass\"\norder = 2\ncutoff = 10.0\ninput = \"a\"\n", "processing.product[0].input", 6, "a cycle"},
		{"input an ASD", bp + "[[processing.product]]\nname = \"a\"\nkind = \"asd\"\ninput = \"bp\"\n[[processing.product]]\nname = \"t\"\nkind = \"trend\"\ninput = \"a\"\n",
			"processing.product[2].input", 14, `"a" is a product of kind asd; a trend is made of a time series`},
		{"input a shorthand", "[[processing.product]]\nname = \"t\"\nkind = \"trend\"\ninput = \"spectrogram\"\n", "processing.product[0].input", 4, "is a product of kind spectrogram"},
		{"input a trend", "[[processing.product]]\nname = \"t\"\nkind = \"trend\"\n[[processing.product]]\nname = \"r\"\nkind = \"resample\"\nrate = 1.0\ninput = \"t\"\n", "processing.product[1].input", 8, "is a product of kind trend"},
		{"order 0", "[[processing.product]]\nname = \"lp\"\nkind = \"lowpass\"\ncutoff = 10.0\n", "processing.product[0].order", 1, "must be from 1 to 64, got 0"},
		{"order too high", "[[processing.product]]\nname = \"lp\"\nkind = \"lowpass\"\norder = 65\ncutoff = 10.0\n", "processing.product[0].order", 4, "must be from 1 to 64, got 65"},
		{"order negative", "[[processing.product]]\nname = \"lp\"\nkind = \"bandpass\"\norder = -1\nlow = 1.0\nhigh = 2.0\n", "processing.product[0].order", 4, "got -1"},
		{"no cutoff", "[[processing.product]]\nname = \"lp\"\nkind = \"highpass\"\norder = 2\n", "processing.product[0].cutoff", 1, "must be a positive number of Hz, got 0"},
		{"band the wrong way", "[[processing.product]]\nname = \"bp\"\nkind = \"bandpass\"\norder = 2\nlow = 100.0\nhigh = 10.0\n", "processing.product[0].high", 6, "must be above low"},
		{"resample rate 0", "[[processing.product]]\nname = \"r\"\nkind = \"resample\"\nrate = 0.0\n", "processing.product[0].rate", 4, "got 0"},
		{"resample rate negative", "[[processing.product]]\nname = \"r\"\nkind = \"resample\"\nrate = -2048.0\n", "processing.product[0].rate", 4, "got -2048"},
		{"trend stride", "[[processing.product]]\nname = \"t\"\nkind = \"trend\"\nstride = -1.0\n", "processing.product[0].stride", 4, "positive number of seconds"},
		{"key of another kind", "[[processing.product]]\nname = \"t\"\nkind = \"trend\"\ncutoff = 3.0\n", "processing.product[0].cutoff", 4, "does not apply to a product of kind trend"},
		{"asd method", "[[processing.product]]\nname = \"a\"\nkind = \"asd\"\nmethod = \"max\"\n", "processing.product[0].method", 4, `must be "median" or "mean"`},
		{"asd overlap", "[[processing.product]]\nname = \"a\"\nkind = \"asd\"\noverlap = 4.0\n", "processing.product[0].overlap", 4, "less than fftlength (4 s)"},
		{"spectrogram stride", "[[processing.product]]\nname = \"s\"\nkind = \"spectrogram\"\nstride = 1.0\n", "processing.product[0].stride", 4, "at least fftlength (2 s)"},
		{"channels", "[[processing.product]]\nname = \"a\"\nkind = \"asd\"\nchannels = [\"K1:[\"]\n", "processing.product[0].channels", 4, "not a channel name pattern"},
		{"unknown key", "[[processing.product]]\nname = \"a\"\nkind = \"asd\"\nfftlen = 4.0\n", "processing.product[0].fftlen", 4, "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := parseError(t, tt.toml, tt.key, tt.line); !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestChain: the shorthands come first, as products of the raw series,
// and every product after its input, with the defaults of its kind.
func TestChain(t *testing.T) {
	c, err := Parse([]byte(`
[processing.spectrogram]
enabled = false
[[processing.product]]
name = "bp_asd"
kind = "asd"
input = "bp"
[[processing.product]]
name = "minute"
kind = "trend"
input = "r"
stride = 60.0
[[processing.product]]
name = "bp"
kind = "bandpass"
order = 4
low = 20.0
high = 500.0
[[processing.product]]
name = "r"
kind = "resample"
rate = 256.0
[[processing.product]]
name = "second"
kind = "trend"
`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]Product{}
	for _, p := range c.Processing.Chain() {
		names = append(names, p.Name)
		byName[p.Name] = p
	}
	if want := []string{"asd", "bp", "r", "second", "bp_asd", "minute"}; !slices.Equal(names, want) {
		t.Errorf("got chain %v, want %v", names, want)
	}
	if w := byName["bp_asd"].Welch(); w.FFTLength != 4 || w.Overlap != 2 || w.Method != "median" || w.Window != "hann" {
		t.Errorf("bp_asd: got %+v, want the defaults of [processing.asd]", w)
	}
	if s := byName["second"].Stride; s == nil || *s != 1 || byName["second"].Input != InputRaw {
		t.Errorf("second: got stride %v input %q, want 1 s of raw", s, byName["second"].Input)
	}
	want := "# products, each under its input:\n# raw\n#   asd (asd, fftlength 4 s, overlap 2 s, median, hann)\n" +
		"#   bp (bandpass, order 4, 20 to 500 Hz)\n#     bp_asd (asd, fftlength 4 s, overlap 2 s, median, hann)\n" +
		"#   r (resample, 256 Hz)\n#     minute (trend, stride 60 s)\n#   second (trend, stride 1 s)\n"
	if got := c.ChainText(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := Default().Processing.Chain(); len(got) != 2 || got[0].Name != "asd" || got[1].Name != "spectrogram" {
		t.Errorf("default chain: got %v, want asd and spectrogram", got)
	}
}
