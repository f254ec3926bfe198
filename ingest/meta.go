package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
)

// Meta is one source of metadata; nil fields are unset.
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
			return fmt.Errorf("%s %q contains control characters", f.key, clip(*f.v))
		}
	}
	if m.Dataset != nil {
		// The dataset becomes one HDF5 link name under /raw.
		if d := *m.Dataset; strings.Contains(d, "/") || d == "." || d == ".." {
			return fmt.Errorf("dataset %q is not a plain name", clip(d))
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
			return fmt.Errorf("byte_order %q: want \"little\" or \"big\"", clip(bo))
		}
		if specOrder != "" && specOrder != *m.ByteOrder {
			return fmt.Errorf("dtype %q is %s-endian but byte_order is %s", *m.DType, specOrder, *m.ByteOrder)
		}
	}
	if m.T0 != nil && !isFinite(*m.T0) {
		return fmt.Errorf("t0 %s is not finite", fmtFloat(*m.T0))
	}
	if m.SampleRate != nil && (!isFinite(*m.SampleRate) || *m.SampleRate <= 0) {
		return fmt.Errorf("sample_rate %s is not a positive finite number", fmtFloat(*m.SampleRate))
	}
	return nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

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
			return m, fmt.Errorf("line %d: unknown key %q (want %s)", line, clip(key), strings.Join(sidecarKeys, ", "))
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
				return m, fmt.Errorf("line %d: %s: %v", line, key, err)
			}
			*sp = &s
		} else {
			if got != "number" {
				return m, fmt.Errorf("line %d: %s must be a number, not %s", line, key, got)
			}
			x, err := strconv.ParseFloat(string(raw), 64)
			if err != nil {
				return m, fmt.Errorf("line %d: %s %s is out of range", line, key, clip(string(raw)))
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
	return fmt.Errorf("line %d, column %d: %s", line, col, strings.TrimPrefix(err.Error(), "json: "))
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
		return Meta{}, errors.New(strings.TrimPrefix(err.Error(), "toml: "))
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Meta{}, fmt.Errorf("unknown key %q (want %s)", clip(und[0].String()), strings.Join(sidecarKeys, ", "))
	}
	m := Meta(v)
	return m, m.Validate()
}
