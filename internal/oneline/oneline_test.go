package oneline

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"plain \"text\" \\ é": "plain \"text\" \\ é",
		"two\nlines\r\n":      `two\nlines\r\n`,
		"nul\x00 del\x7f":     `nul\x00 del\x7f`,
		"next line\u0085":     `next line\u0085`,
		"tab\tstop":           `tab\tstop`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
