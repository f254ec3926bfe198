// Package layout checks and renders archive layouts: the templates, such
// as archive.layout of the configuration, that name each archive below
// the archive root from facts of its source and series. It also holds the
// suffixes of an ASD product's datasets, which the name of no other
// product may end in. It stands apart from package archive so that the
// configuration can check a layout and product names without linking
// libhdf5.
package layout

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// Placeholders are the names a layout may use, each with what it stands
// for. They are documented in the README.
var Placeholders = map[string]string{
	"obs":     "observatory: OBS of a T010150 source name, else the first letter of the channel's interferometer",
	"desc":    "description: DESC of a T010150 source name, else the channel with every character outside [A-Za-z0-9_] as _",
	"gps":     "GPS start, whole seconds (floor)",
	"gps5":    "the first five digits of the GPS start (directories of 100000 s)",
	"dur":     "duration in whole seconds (rounded up)",
	"channel": "the channel name, sanitised",
	"dataset": "the raw dataset name, sanitised",
	"sha8":    "the first 8 hex digits of the source file's sha256",
}

// The datasets an ASD product is stored as are named by the product and
// these suffixes: <name>_values and <name>_frequencies.
const (
	ValuesSuffix      = "_values"
	FrequenciesSuffix = "_frequencies"
)

// ASDSuffix returns the suffix of an ASD's datasets that name ends in, or
// "": a product of such a name would read back as part of an ASD.
func ASDSuffix(name string) string {
	for _, s := range []string{ValuesSuffix, FrequenciesSuffix} {
		if strings.HasSuffix(name, s) {
			return s
		}
	}
	return ""
}

var placeholderRe = regexp.MustCompile(`\{([^{}]*)\}`)

// Check reports whether a layout is usable: a relative path that stays
// below the archive root, uses only known placeholders and names an .h5
// file.
func Check(layout string) error {
	if layout == "" {
		return fmt.Errorf("must not be empty")
	}
	if path.IsAbs(layout) || filepath.IsAbs(layout) {
		return fmt.Errorf("%q must be relative to archive.root", layout)
	}
	for _, m := range placeholderRe.FindAllStringSubmatch(layout, -1) {
		if _, ok := Placeholders[m[1]]; !ok {
			return fmt.Errorf("unknown placeholder {%s} in %q", m[1], layout)
		}
	}
	rest := placeholderRe.ReplaceAllString(layout, "x")
	if strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("unbalanced braces in %q", layout)
	}
	for _, part := range strings.Split(layout, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("%q has an empty, . or .. path element", layout)
		}
	}
	if !strings.HasSuffix(layout, ".h5") {
		return fmt.Errorf("%q must end in .h5", layout)
	}
	return nil
}

var unsafeRe = regexp.MustCompile(`[^A-Za-z0-9_.+-]`)

// Render fills a layout with values, after checking it. Each value is
// made safe for one path element (no separators, no leading dot), so
// nothing in a file's metadata can move the result outside the archive
// root.
func Render(layout string, values map[string]string) (string, error) {
	if err := Check(layout); err != nil {
		return "", err
	}
	out := placeholderRe.ReplaceAllStringFunc(layout, func(m string) string {
		v := unsafeRe.ReplaceAllString(values[m[1:len(m)-1]], "_")
		v = strings.TrimLeft(v, ".")
		if v == "" {
			v = "_"
		}
		return v
	})
	out = filepath.FromSlash(out)
	if !filepath.IsLocal(out) {
		return "", fmt.Errorf("layout %q gives %q, which is outside the archive root", layout, out)
	}
	return out, nil
}
