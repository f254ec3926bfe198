package canonjson

import (
	"strings"
	"testing"
)

func TestScanObject(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{}`, true},
		{`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true},
		{`{"a":"\u00e9\ud83d\ude00\u007f\u0000\"\\\b\f\n\r\t"}`, true},
		{`{"a":0.1,"b":1e-05,"c":4.0,"d":1e+16,"e":-0.0,"f":123456789012345678901234567890}`, true},
		{`{"a":[],"b":{}}`, true},
		{``, false},
		{`[]`, false},
		{`{"a":1} `, false},
		{`{"a": 1}`, false},
		{`{ "a":1}`, false},
		{`{"b":1,"a":2}`, false},
		{`{"a":1,"a":2}`, false},
		{`{"":1}`, false},
		{`{"é":1}`, false},
		{"{\"\\u00e9\":1}", false},
		{`{"a":"é"}`, false},
		{`{"a":"\u00E9"}`, false},
		{`{"a":"\u0041"}`, false},
		{`{"a":"\u000a"}`, false},
		{`{"a":"\/"}`, false},
		{`{"a":"\ud800"}`, false},
		{`{"a":"\udc00"}`, false},
		{`{"a":"\ud800\u0041"}`, false},
		{"{\"a\":\"\x7f\"}", false},
		{"{\"a\":\"\t\"}", false},
		{`{"a":-0}`, false},
		{`{"a":01}`, false},
		{`{"a":+1}`, false},
		{`{"a":1.0e5}`, false},
		{`{"a":1E5}`, false},
		{`{"a":100000}`, true},
		{`{"a":100000.0}`, true},
		{`{"a":1e16}`, false},
		{`{"a":0.10}`, false},
		{`{"a":1e400}`, false},
		{`{"a":NaN}`, false},
		{`{"a":tru}`, false},
		{`{"a":"x}`, false},
		{`{"a":1,}`, false},
		{`{"a":[1,]}`, false},
		{`{"a"}`, false},
		{`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false},
		{`{"a":` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `}`, true},
	}
	for _, tt := range tests {
		err := ScanObject([]byte(tt.in), func(_, _ []byte, _ int) error { return nil })
		if (err == nil) != tt.ok {
			t.Errorf("ScanObject(%s): got %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
