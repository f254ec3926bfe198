package ingest

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSidecar(t *testing.T) {
	want := Meta{
		Channel:     ptr("K1:LSC-DARM_OUT_DQ"),
		Dataset:     ptr("darm"),
		Unit:        ptr("m"),
		Description: ptr("test\nline"),
		DType:       ptr(">f8"),
		ByteOrder:   ptr("big"),
		T0:          ptr(1e9),
		SampleRate:  ptr(4096.0),
	}
	jsonDoc := `{"channel": "K1:LSC-DARM_OUT_DQ", "dataset": "darm", "unit": "m",
		"description": "test\nline", "dtype": ">f8", "byte_order": "big",
		"t0": 1000000000, "sample_rate": 4096.0}`
	tomlDoc := `channel = "K1:LSC-DARM_OUT_DQ"
dataset = "darm"
unit = "m"
description = """test
line"""
dtype = ">f8"
byte_order = "big"
t0 = 1000000000
sample_rate = 4096.0
`
	for name, parse := range map[string]func([]byte) (Meta, error){
		"json": func([]byte) (Meta, error) { return parseSidecarJSON([]byte(jsonDoc)) },
		"toml": func([]byte) (Meta, error) { return parseSidecarTOML([]byte(tomlDoc)) },
	} {
		got, err := parse(nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %s, want %s", name, metaString(got), metaString(want))
		}
	}
	if m, err := parseSidecarJSON([]byte(`{}`)); err != nil || !reflect.DeepEqual(m, Meta{}) {
		t.Errorf("empty JSON object: got %s, %v, want no keys and no error", metaString(m), err)
	}
	if m, err := parseSidecarTOML(nil); err != nil || !reflect.DeepEqual(m, Meta{}) {
		t.Errorf("empty TOML: got %s, %v, want no keys and no error", metaString(m), err)
	}
}

func TestParseSidecarErrors(t *testing.T) {
	tests := []struct {
		name, kind, in, want string
	}{
		{"json empty", "json", "", "empty JSON document"},
		{"json syntax", "json", "{\n  \"t0\": 1,\n  \"unit\" \"m\"\n}", "line 3, column 10: "},
		{"json truncated", "json", "{\"t0\": 1,\n", "line 2, column 1: unexpected end of JSON input"},
		{"json array", "json", `[1, 2]`, "want a JSON object"},
		{"json trailing", "json", "{}\n{}", "line 2: data after the JSON object"},
		{"json unknown key", "json", "{\n\"t0\": 1,\n\"rate\": 4}", `line 3: unknown key, a 4-byte token of printable ASCII`},
		{"json duplicate key", "json", `{"t0": 1, "t0": 2}`, `duplicate key "t0"`},
		{"json string for number", "json", `{"t0": "1e9"}`, "t0 must be a number, not string"},
		{"json number for string", "json", `{"unit": 1}`, "unit must be a string, not number"},
		{"json null", "json", `{"channel": null}`, "channel must be a string, not null"},
		{"json huge number", "json", `{"t0": 1e400}`, "t0, a 5-character number, is out of range"},
		{"json bad dtype", "json", `{"dtype": "float128"}`, "dtype: unsupported dtype float128"},
		{"json bad byte order", "json", `{"byte_order": "middle"}`, `byte_order a 6-byte token of printable ASCII: want "little" or "big"`},
		{"json order conflict", "json", `{"dtype": "<f8", "byte_order": "big"}`, `dtype "<f8" is little-endian but byte_order is big`},
		{"json zero rate", "json", `{"sample_rate": 0}`, "sample_rate 0 is not a positive finite number"},
		{"json negative rate", "json", `{"sample_rate": -4096}`, "sample_rate -4096 is not a positive finite number"},
		{"json empty channel", "json", `{"channel": " "}`, "channel is empty"},
		{"json dataset path", "json", `{"dataset": "a/b"}`, `dataset (a 3-byte token of printable ASCII) is not a plain name`},
		{"toml syntax", "toml", "t0 = 1\nunit = \n", "line 2"},
		{"toml unknown key", "toml", "t0 = 1\nrate = 4\n", `unknown key, a 4-byte token of printable ASCII`},
		{"toml table", "toml", "[meta]\nt0 = 1\n", `unknown key, a 4-byte token of printable ASCII`},
		{"toml wrong type", "toml", "t0 = \"soon\"\n", "line 1"},
		{"toml nan rate", "toml", "sample_rate = nan\n", "sample_rate NaN is not a positive finite number"},
		{"toml inf rate", "toml", "sample_rate = inf\n", "sample_rate +Inf is not a positive finite number"},
		{"toml inf t0", "toml", "t0 = -inf\n", "t0 -Inf is not finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.kind == "json" {
				_, err = parseSidecarJSON([]byte(tt.in))
			} else {
				_, err = parseSidecarTOML([]byte(tt.in))
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func metaString(m Meta) string {
	var parts []string
	v := reflect.ValueOf(m)
	for i := range v.NumField() {
		if f := v.Field(i); !f.IsNil() {
			parts = append(parts, v.Type().Field(i).Name+"="+strings.TrimSpace(fmtAny(f.Elem().Interface())))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return `"` + s + `"`
	}
	return fmtFloat(v.(float64))
}
