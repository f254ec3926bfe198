// Package canonjson writes and checks canonical JSON: the one serialization
// of a value that Python's
// json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
// produces, so that a hash over it can be recomputed with nothing but
// Python's standard library. The audit log hashes its records over it.
package canonjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Rules are the rules of the canonical form, as the audit package
// documentation repeats them.
const Rules = `The canonical form is what Python's
json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
produces:
  - object keys sorted; keys are non-empty printable ASCII (0x20-0x7e)
    without '"' or '\', so byte, code point and UTF-16 order agree;
  - no whitespace between tokens;
  - strings: '"' and '\' as \" and \\; U+0008, U+000C, U+000A, U+000D,
    U+0009 as \b \f \n \r \t; other characters below U+0020, U+007F and
    every non-ASCII character as \uXXXX with lowercase hex, characters
    above U+FFFF as a UTF-16 surrogate pair (\ud83d\ude00); bytes that are
    not valid UTF-8 as \ufffd; all else (0x20-0x7e) as itself;
  - integers in decimal, without a plus sign or leading zeros (-0 is 0);
  - floats as Python's repr(float): the shortest digits that read back to
    the same float64; fixed notation when the decimal exponent is in
    [-4, 16), with ".0" when integral (4.0, 0.0001, 1300000000.5), else
    one digit, an optional fraction, "e", a sign and at least two exponent
    digits (1e-05, 1.5e+16); -0.0 stays -0.0; NaN and infinities are
    rejected;
  - true, false, null.`

// Marshal returns the canonical serialization of v. Values may be nil,
// strings, bools, integers of any Go integer type, float64, json.Number,
// time.Time (the RFC 3339 string of its UTC time, with the fraction digits
// it needs), and slices, arrays, string-keyed maps and structs of these,
// including named types of those kinds; a nil slice is [] and a nil map
// {}. A struct is an object of its exported fields, named and omitted as
// encoding/json would by their "json" tags ("name,omitempty", "-"), with
// the fields of an embedded struct of an exported type, or of an embedded
// pointer to one when it is not nil, as its own; two fields of one name
// are an error. Other types, []byte, NaN, infinities and keys
// outside the key rule are errors of type *Error.
func Marshal(v any) ([]byte, error) {
	var e encoder
	if err := e.value(v, ""); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// Member is one member of an encoded object: its key, and its value in
// canonical form.
type Member struct {
	Key   string
	Value []byte
}

// Members returns the members of the object that v, a map with string
// keys or a struct, encodes as, sorted by key, for a caller that merges
// them with members of its own. nil has none.
func Members(v any) ([]Member, error) {
	if v == nil {
		return nil, nil
	}
	keys, vals, ok, err := membersOf(reflect.ValueOf(v), "")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &Error{Reason: fmt.Sprintf("%T is not an object", v)}
	}
	var e encoder
	out := make([]Member, len(keys))
	ends := make([]int, len(keys))
	for i, k := range keys {
		if err := e.value(vals[i].Interface(), k); err != nil {
			return nil, err
		}
		out[i].Key, ends[i] = k, len(e.buf)
	}
	start := 0
	for i := range out {
		out[i].Value, start = e.buf[start:ends[i]:ends[i]], ends[i]
	}
	return out, nil
}

// Error is a value that has no canonical form, and where it is in what
// was encoded: a path of keys and indexes such as "params.asd" or
// "files[1]".
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	path := e.Path
	if path == "" {
		path = "(top level)"
	}
	return "field " + path + ": " + e.Reason
}

type encoder struct {
	buf []byte
}

func fieldErr(path string, format string, args ...any) error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

func keyPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func elemPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// validKey reports whether k may be an object key. Keeping keys to
// printable ASCII without escapes makes Go's byte order equal Python's code
// point order and lets the line parser compare raw keys.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (e *encoder) value(v any, path string) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = AppendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case float64:
		b, err := appendFloat(e.buf, x)
		if err != nil {
			return fieldErr(path, "%v", err)
		}
		e.buf = b
	case json.Number:
		b, err := appendNumber(e.buf, string(x))
		if err != nil {
			return fieldErr(path, "%v", err)
		}
		e.buf = b
	case []string:
		return e.list(len(x), path, func(i int) any { return x[i] })
	case []any:
		return e.list(len(x), path, func(i int) any { return x[i] })
	case map[string]any:
		return object(e, x, path)
	case map[string]string:
		return object(e, x, path)
	case time.Time:
		e.buf = AppendString(e.buf, x.UTC().Format(time.RFC3339Nano))
	case []byte:
		// encoding/json would write base64 and Python would see a string;
		// a caller should choose hex or base64 and say so in the field name.
		return fieldErr(path, "[]byte is ambiguous; encode it as a string")
	case float32:
		return fieldErr(path, "float32 does not round-trip; convert to float64")
	default:
		return e.reflectValue(reflect.ValueOf(v), path)
	}
	return nil
}

// reflectValue handles named types and containers the fast paths in value
// do not list, such as []int64, map[string]int or a named string type.
func (e *encoder) reflectValue(rv reflect.Value, path string) error {
	switch rv.Kind() {
	case reflect.String:
		e.buf = AppendString(e.buf, rv.String())
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, rv.Uint(), 10)
	case reflect.Float64:
		b, err := appendFloat(e.buf, rv.Float())
		if err != nil {
			return fieldErr(path, "%v", err)
		}
		e.buf = b
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(rv.Elem().Interface(), path)
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return fieldErr(path, "%s is ambiguous; encode it as a string", rv.Type())
		}
		return e.list(rv.Len(), path, func(i int) any { return rv.Index(i).Interface() })
	case reflect.Map, reflect.Struct:
		keys, vals, _, err := membersOf(rv, path)
		if err != nil {
			return err
		}
		return e.members(keys, path, func(i int) any { return vals[i].Interface() })
	default:
		if !rv.IsValid() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return fieldErr(path, "unsupported type %s", rv.Type())
	}
	return nil
}

// object encodes a JSON object, its keys sorted.
func object[V any](e *encoder, m map[string]V, path string) error {
	keys, err := sortedKeys(m, path)
	if err != nil {
		return err
	}
	return e.members(keys, path, func(i int) any { return m[keys[i]] })
}

// list encodes a JSON array of n elements, with get giving each.
func (e *encoder) list(n int, path string, get func(int) any) error {
	e.buf = append(e.buf, '[')
	for i := range n {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(get(i), elemPath(path, i)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// members encodes a JSON object of the sorted keys, with get giving the
// value of each.
func (e *encoder) members(keys []string, path string, get func(int) any) error {
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = AppendString(e.buf, k)
		e.buf = append(e.buf, ':')
		if err := e.value(get(i), keyPath(path, k)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func sortedKeys[V any](m map[string]V, path string) ([]string, error) {
	keys := slices.Collect(maps.Keys(m))
	return keys, checkKeys(keys, path)
}

// checkKeys checks the keys of the object at path and sorts them.
func checkKeys(keys []string, path string) error {
	for _, k := range keys {
		if !validKey(k) {
			return fieldErr(keyPath(path, k), "key must be non-empty printable ASCII without quote or backslash")
		}
	}
	slices.Sort(keys)
	return nil
}

// membersOf returns the keys, sorted, and the values of the object that
// rv, a map with string keys or a struct, encodes as; ok is false for
// other values.
func membersOf(rv reflect.Value, path string) (keys []string, vals []reflect.Value, ok bool, err error) {
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, nil, false, fieldErr(path, "map key type %s is not a string", rv.Type().Key())
		}
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		if err := checkKeys(keys, path); err != nil {
			return nil, nil, false, err
		}
		for _, k := range keys {
			vals = append(vals, rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())))
		}
		return keys, vals, true, nil
	case reflect.Struct:
		fields, err := fieldsOf(rv.Type())
		if err != nil {
			return nil, nil, false, fieldErr(path, "%v", err)
		}
		for _, f := range fields {
			v, err := rv.FieldByIndexErr(f.index)
			if err != nil || f.omitEmpty && isEmpty(v) {
				continue // in an embedded pointer that is nil, or empty
			}
			keys, vals = append(keys, f.name), append(vals, v)
		}
		return keys, vals, true, nil
	}
	return nil, nil, false, nil
}

// structField is a member of the object a struct type encodes as.
type structField struct {
	name      string
	index     []int
	omitEmpty bool
}

var structFields sync.Map // reflect.Type -> []structField, sorted by name

// fieldsOf returns the members of the objects of struct type t.
func fieldsOf(t reflect.Type) ([]structField, error) {
	if fs, ok := structFields.Load(t); ok {
		return fs.([]structField), nil
	}
	var fs []structField
	if err := collectFields(t, nil, &fs); err != nil {
		return nil, err
	}
	slices.SortFunc(fs, func(a, b structField) int { return strings.Compare(a.name, b.name) })
	for i, f := range fs {
		if !validKey(f.name) {
			return nil, fmt.Errorf("%s: field name %q: key must be non-empty printable ASCII without quote or backslash", t, f.name)
		}
		if i > 0 && fs[i-1].name == f.name {
			return nil, fmt.Errorf("%s: two fields named %q", t, f.name)
		}
	}
	structFields.Store(t, fs)
	return fs, nil
}

func collectFields(t reflect.Type, index []int, out *[]structField) error {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		idx := append(slices.Clip(index), i)
		name, opts, _ := strings.Cut(tag, ",")
		if ft := f.Type; f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := collectFields(ft, idx, out); err != nil {
					return err
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		*out = append(*out, structField{name: name, index: idx, omitEmpty: opts == "omitempty"})
	}
	return nil
}

// isEmpty reports whether omitempty leaves v out, as encoding/json does.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a canonical JSON string. It escapes exactly as
// Python's json.dumps with ensure_ascii=True does, which differs from
// encoding/json for \b, \f, U+007F, U+2028, U+2029, <, > and &.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch e := shortEscapes[c]; {
		case e != 0:
			b = append(b, '\\', e)
		default:
			if c < utf8.RuneSelf {
				b = appendU(b, rune(c))
				break
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			// An invalid byte decodes as RuneError of size 1; writing
			// U+FFFD for it is what a reader that decodes UTF-8 leniently
			// would hold, and it keeps the line ASCII.
			if r >= 0x10000 {
				r1, r2 := utf16.EncodeRune(r)
				b = appendU(b, r1)
				b = appendU(b, r2)
			} else {
				b = appendU(b, r)
			}
			i += size
			start = i
			continue
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// shortEscapes gives, for each byte json.dumps writes as a backslash and
// one letter, that letter; 0 for the others.
var shortEscapes = [256]byte{'"': '"', '\\': '\\', '\n': 'n', '\r': 'r', '\t': 't', '\b': 'b', '\f': 'f'}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendFloat appends f as Python's repr(float) writes it.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("%v is not allowed", f)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...), nil
		}
		return append(b, "0.0"...), nil
	}
	// 'e' with precision -1 gives the shortest digits that round-trip,
	// the same digits Python's repr chooses; only the layout differs.
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	e := 0
	for s[e] != 'e' {
		e++
	}
	exp, _ := strconv.Atoi(string(s[e+1:]))
	var digits [24]byte
	nd := 0
	for _, c := range s[:e] {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	d := digits[:nd]
	if exp >= -4 && exp < 16 {
		if exp < 0 {
			b = append(b, '0', '.')
			for i := 0; i < -exp-1; i++ {
				b = append(b, '0')
			}
			return append(b, d...), nil
		}
		if nd <= exp+1 {
			b = append(b, d...)
			for i := nd; i < exp+1; i++ {
				b = append(b, '0')
			}
			return append(b, '.', '0'), nil
		}
		b = append(b, d[:exp+1]...)
		b = append(b, '.')
		return append(b, d[exp+1:]...), nil
	}
	b = append(b, d[0])
	if nd > 1 {
		b = append(b, '.')
		b = append(b, d[1:]...)
	}
	b = append(b, 'e')
	if exp < 0 {
		b = append(b, '-')
		exp = -exp
	} else {
		b = append(b, '+')
	}
	if exp < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(exp), 10), nil
}

// appendNumber appends a JSON number literal in canonical form: an integer
// as written (Python's int has no size limit), anything with a fraction or
// exponent as the float64 Python would read it as.
func appendNumber(b []byte, s string) ([]byte, error) {
	isFloat, ok := scanNumber(s)
	if !ok {
		return b, fmt.Errorf("%q is not a JSON number", s)
	}
	if !isFloat {
		if s == "-0" {
			return append(b, '0'), nil
		}
		return append(b, s...), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return b, err
	}
	return appendFloat(b, f)
}

// scanNumber reports whether s is a JSON number and whether it has a
// fraction or exponent.
func scanNumber[T string | []byte](s T) (isFloat, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false, false
	}
	if i < len(s) && s[i] == '.' {
		isFloat = true
		i++
		n := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == n {
			return false, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		isFloat = true
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == n {
			return false, false
		}
	}
	return isFloat, i == len(s)
}
