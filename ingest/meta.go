package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
)

// Meta is one source of metadata; nil fields are unset.
//
// T0 and SampleRate, from whichever source (flags, sidecar, the file
// itself, a file name or defaults), must be physical: t0 a GPS time in
// [MinT0, MaxT0) seconds, as negative GPS times are before 1980 and 1e10 s
// is in the 23rd century; the sample rate in [MinSampleRate,
// MaxSampleRate] Hz; and the duration a series covers, samples over rate,
// at most MaxDuration seconds. Values outside are refused with a reason
// naming the value, its source and the range.
type Meta struct {
	Channel     *string
	Dataset     *string
	Unit        *string
	Description *string
	DType       *string // a name ("float64") or NumPy type string ("<f8")
	ByteOrder   *string // "little" or "big"
	T0          *float64
	SampleRate  *float64
}

// Options carries the metadata given to Read from outside the file.
type Options struct {
	Flags    Meta // from the command line; beats everything
	Defaults Meta // from the watch configuration; loses to everything

	// Channels selects the channels of frame and HDF5 files by name, with
	// path.Match glob patterns such as "K1:LSC-*"; none selects every
	// channel. Files holding one series ignore it.
	Channels []string

	// Expect, when set, identifies the file the caller means, as its
	// watcher saw it (by Lstat): the file opened must have this device,
	// inode and size, else the error wraps ErrChanged. Without it, the
	// file at the name when it is opened is read. A symbolic link is never
	// followed either way.
	Expect *FileID

	// RefuseHDF5, when set, is shown the root attributes of an HDF5 file
	// before anything else of it is read: a reason it gives refuses the
	// file, an InputError with that reason. The pipeline refuses
	// gwwatchd's own archives so (archive.InputRefusal).
	RefuseHDF5 func(root map[string]any) (reason string)
}

// Validate checks the values that are set. Errors name the key.
func (m Meta) Validate() error {
	for _, f := range []struct {
		key string
		v   *string
	}{{"channel", m.Channel}, {"dataset", m.Dataset}, {"unit", m.Unit}} {
		if f.v == nil {
			continue
		}
		if strings.TrimSpace(*f.v) == "" {
			return fmt.Errorf("%s is empty", f.key)
		}
		if strings.IndexFunc(*f.v, unicode.IsControl) >= 0 {
			return fmt.Errorf("%s (%s) contains control characters", f.key, describe(*f.v))
		}
	}
	if m.Dataset != nil {
		// The dataset becomes one HDF5 link name under /raw.
		if d := *m.Dataset; strings.Contains(d, "/") || d == "." || d == ".." {
			return fmt.Errorf("dataset (%s) is not a plain name: it holds a slash or is . or ..", describe(d))
		}
	}
	var specOrder string
	if m.DType != nil {
		d, order, err := parseDTypeSpec(*m.DType)
		if err != nil {
			return fmt.Errorf("dtype: %w", err)
		}
		if d.Size() > 1 {
			specOrder = order
		}
	}
	if m.ByteOrder != nil {
		if bo := *m.ByteOrder; bo != "little" && bo != "big" {
			return fmt.Errorf("byte_order %s: want \"little\" or \"big\"", typeToken(bo))
		}
		if specOrder != "" && specOrder != *m.ByteOrder {
			return fmt.Errorf("dtype %s is %s-endian but byte_order is %s", typeToken(*m.DType), specOrder, *m.ByteOrder)
		}
	}
	if m.T0 != nil {
		if err := checkT0(*m.T0); err != nil {
			return err
		}
	}
	if m.SampleRate != nil {
		if err := checkRate(*m.SampleRate); err != nil {
			return err
		}
	}
	return nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// The physical ranges of t0, sample rate and duration; see Meta.
const (
	MinT0         = 0.0
	MaxT0         = 1e10
	MinSampleRate = 1e-6
	MaxSampleRate = 1e9
	MaxDuration   = 1e9
)

// checkT0 refuses a t0 outside [MinT0, MaxT0).
func checkT0(x float64) error {
	if !isFinite(x) {
		return fmt.Errorf("t0 %s is not finite", fmtValue(x))
	}
	if x < MinT0 || x >= MaxT0 {
		return fmt.Errorf("t0 %s is outside the GPS range [0, 1e10) s", fmtValue(x))
	}
	return nil
}

// checkRate refuses a sample rate outside [MinSampleRate, MaxSampleRate].
func checkRate(x float64) error {
	if !isFinite(x) || x <= 0 {
		return fmt.Errorf("sample_rate %s is not a positive finite number", fmtValue(x))
	}
	if x < MinSampleRate || x > MaxSampleRate {
		return fmt.Errorf("sample_rate %s Hz is outside [1e-06, 1e+09] Hz", fmtValue(x))
	}
	return nil
}

// checkDuration refuses n samples at rate Hz covering more than
// MaxDuration seconds.
func checkDuration(n int, rate float64) error {
	if d := float64(n) / rate; !isFinite(d) || d > MaxDuration {
		return fmt.Errorf("%d samples at %s Hz span %s s, more than the %s s allowed", n, fmtValue(rate), fmtValue(d), fmtValue(MaxDuration))
	}
	return nil
}

// fmtValue writes a number in plain decimal where that is short, as a
// GPS time reads best, and in exponent form otherwise.
func fmtValue(x float64) string {
	if isFinite(x) && math.Abs(x) < 1e15 && (x == 0 || math.Abs(x) >= 1e-4) {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// sidecarKeys are the keys a sidecar may hold.
var sidecarKeys = []string{"channel", "dataset", "t0", "sample_rate", "unit", "dtype", "byte_order", "description"}

// field returns the Meta field for a sidecar key: a *string or *float64
// slot, exactly one of which is non-nil.
func (m *Meta) field(key string) (s **string, f **float64) {
	switch key {
	case "channel":
		return &m.Channel, nil
	case "dataset":
		return &m.Dataset, nil
	case "unit":
		return &m.Unit, nil
	case "description":
		return &m.Description, nil
	case "dtype":
		return &m.DType, nil
	case "byte_order":
		return &m.ByteOrder, nil
	case "t0":
		return nil, &m.T0
	case "sample_rate":
		return nil, &m.SampleRate
	}
	return nil, nil
}

// parseSidecarJSON decodes a JSON sidecar: one object holding only
// sidecarKeys, each at most once.
func parseSidecarJSON(data []byte) (Meta, error) {
	var m Meta
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF {
		return m, fmt.Errorf("empty JSON document")
	}
	if err != nil {
		return m, jsonSyntax(data, dec, err)
	}
	if tok != json.Delim('{') {
		return m, fmt.Errorf("line 1: want a JSON object of metadata keys")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return m, jsonSyntax(data, dec, err)
		}
		key, _ := tok.(string) // More and Token guarantee a key here
		at := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return m, jsonSyntax(data, dec, err)
		}
		line, _ := lineCol(data, at)
		sp, fp := m.field(key)
		switch {
		case sp == nil && fp == nil:
			return m, fmt.Errorf("line %d: unknown key, %s (want %s)", line, describe(key), strings.Join(sidecarKeys, ", "))
		case seen[key]:
			return m, fmt.Errorf("line %d: duplicate key %q", line, key)
		}
		seen[key] = true
		if got := jsonKind(raw); sp != nil {
			if got != "string" {
				return m, fmt.Errorf("line %d: %s must be a string, not %s", line, key, got)
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return m, fmt.Errorf("line %d: %s is not a valid JSON string", line, key)
			}
			*sp = &s
		} else {
			if got != "number" {
				return m, fmt.Errorf("line %d: %s must be a number, not %s", line, key, got)
			}
			x, err := strconv.ParseFloat(string(raw), 64)
			if err != nil {
				return m, fmt.Errorf("line %d: %s, a %d-character number, is out of range", line, key, len(raw))
			}
			*fp = &x
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return m, jsonSyntax(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, _ := lineCol(data, dec.InputOffset())
		return m, fmt.Errorf("line %d: data after the JSON object", line)
	}
	return m, m.Validate()
}

func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// jsonSyntax adds the line and column to a JSON syntax error.
func jsonSyntax(data []byte, dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		off = int64(len(data))
		err = errors.New("unexpected end of JSON input")
	}
	line, col := lineCol(data, off)
	what := "JSON syntax error"
	if se != nil && off > 0 && off <= int64(len(data)) {
		what += ": unexpected " + byteKind(data[off-1])
	} else if errors.Is(err, io.ErrUnexpectedEOF) || err.Error() == "unexpected end of JSON input" {
		what = "unexpected end of JSON input"
	}
	return fmt.Errorf("line %d, column %d: %s", line, col, what)
}

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// tomlLine finds the line number in a TOML decoding error.
var tomlLine = regexp.MustCompile(`^toml: line (\d+)`)

// parseSidecarTOML decodes a TOML sidecar holding only sidecarKeys.
func parseSidecarTOML(data []byte) (Meta, error) {
	var v struct {
		Channel     *string  `toml:"channel"`
		Dataset     *string  `toml:"dataset"`
		Unit        *string  `toml:"unit"`
		Description *string  `toml:"description"`
		DType       *string  `toml:"dtype"`
		ByteOrder   *string  `toml:"byte_order"`
		T0          *float64 `toml:"t0"`
		SampleRate  *float64 `toml:"sample_rate"`
	}
	md, err := toml.Decode(string(data), &v)
	if err != nil {
		// The library's messages quote the document; say where instead.
		var pe toml.ParseError
		if errors.As(err, &pe) {
			what := "TOML syntax error"
			if strings.Contains(pe.Message, "incompatible types") || strings.Contains(err.Error(), "incompatible types") {
				what = "a value of the wrong type"
			}
			return Meta{}, fmt.Errorf("line %d, column %d: %s", pe.Position.Line, pe.Position.Col, what)
		}
		what := "invalid TOML document"
		if strings.Contains(err.Error(), "incompatible types") {
			what = "a value of the wrong type"
		}
		if m := tomlLine.FindStringSubmatch(err.Error()); m != nil {
			return Meta{}, fmt.Errorf("line %s: %s", m[1], what)
		}
		return Meta{}, errors.New(what)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Meta{}, fmt.Errorf("unknown key, %s (want %s)", describe(und[0].String()), strings.Join(sidecarKeys, ", "))
	}
	m := Meta(v)
	return m, m.Validate()
}
