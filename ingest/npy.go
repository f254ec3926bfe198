package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header length read from the file before any
// allocation; NumPy itself writes headers of a few hundred bytes.
const maxNPYHeader = 1 << 20

// npyArray is the content of a .npy file.
type npyArray struct {
	Major, Minor int
	DType        DType
	ByteOrder    string // "little", "big", or "" for one-byte types
	Fortran      bool
	Shape        []int64
	Values       any
}

// The .npy reader is the project's own rather than
// github.com/sbinet/npyio because that one refuses format 3.0, which NumPy
// writes for headers with non-Latin-1 text, and panics on a header that
// does not end in a newline; a file dropped into a watch directory must
// give a reason, never take the daemon down. Every size the header
// declares is checked against the file before anything is allocated: Read
// reads the header, lays the samples out by npyLayout, and reads them
// straight into their slice.

// npyLayout parses the header of a .npy file of total bytes whose first
// bytes are data, which must hold at least the whole header, and checks
// the shape it declares against the bytes that follow: it returns the
// array without Values, the offset of the samples and their number.
func npyLayout(data []byte, total int64) (*npyArray, int64, int64, error) {
	fail := func(err error) (*npyArray, int64, int64, error) { return nil, 0, 0, err }
	if total == 0 {
		return fail(fmt.Errorf("empty file"))
	}
	if total < int64(len(npyMagic)) {
		if strings.HasPrefix(npyMagic, string(data[:min(int64(len(data)), total)])) {
			return fail(fmt.Errorf("truncated header: file is %d bytes", total))
		}
		return fail(fmt.Errorf("not a NumPy file: bad magic"))
	}
	if !bytes.HasPrefix(data, []byte(npyMagic)) {
		return fail(fmt.Errorf("not a NumPy file: bad magic"))
	}
	if total < 8 || len(data) < 8 {
		return fail(fmt.Errorf("truncated header: file is %d bytes", total))
	}
	a := &npyArray{Major: int(data[6]), Minor: int(data[7])}
	var hlen, start int
	switch {
	case a.Minor != 0:
		return fail(fmt.Errorf("unsupported .npy format version %d.%d", a.Major, a.Minor))
	case a.Major == 1:
		start = 10
		if total < int64(start) || len(data) < start {
			return fail(fmt.Errorf("truncated header: file is %d bytes", total))
		}
		hlen = int(binary.LittleEndian.Uint16(data[8:]))
	case a.Major == 2 || a.Major == 3:
		start = 12
		if total < int64(start) || len(data) < start {
			return fail(fmt.Errorf("truncated header: file is %d bytes", total))
		}
		n := binary.LittleEndian.Uint32(data[8:])
		if n > maxNPYHeader {
			return fail(fmt.Errorf("header length %d exceeds the limit of %d bytes", n, maxNPYHeader))
		}
		hlen = int(n)
	default:
		return fail(fmt.Errorf("unsupported .npy format version %d.%d", a.Major, a.Minor))
	}
	if int64(hlen) > total-int64(start) {
		return fail(fmt.Errorf("truncated header: header length %d extends beyond the end of the %d-byte file", hlen, total))
	}
	if hlen > len(data)-start {
		return fail(fmt.Errorf("header of %d bytes not read", hlen))
	}
	h, err := parseNPYHeader(data[start : start+hlen])
	if err != nil {
		return fail(err)
	}
	a.Fortran = h.fortran
	a.Shape = h.shape
	shape := formatShape(h.shape)

	if h.descrList != "" {
		return fail(fmt.Errorf("unsupported dtype (a %d-byte list): structured arrays are not supported", len(h.descrList)))
	}
	a.DType, a.ByteOrder, err = ParseNumPyDescr(h.descr)
	if err != nil {
		return fail(err)
	}
	if a.DType.Size() > 1 && (h.descr[0] == '=' || a.ByteOrder == "") {
		// '=' and a missing order both mean the writer's byte order,
		// which the file does not record.
		return fail(fmt.Errorf("dtype %s does not state the byte order", typeToken(h.descr)))
	}

	var n int64
	switch {
	case len(h.shape) == 0:
		return fail(fmt.Errorf("shape (): 0-d arrays are not supported"))
	case len(h.shape) == 1:
		n = h.shape[0]
	case len(h.shape) == 2 && h.shape[1] == 1:
		n = h.shape[0]
	default:
		return fail(fmt.Errorf("shape %s: only 1-D or N×1 arrays are supported", shape))
	}
	for _, dim := range h.shape {
		if dim < 0 {
			return fail(fmt.Errorf("shape %s: negative dimension", shape))
		}
	}
	body := total - int64(start+hlen)
	size := int64(a.DType.Size())
	if n > math.MaxInt64/size {
		return fail(fmt.Errorf("data is %d bytes, far short of shape %s %s", body, shape, a.DType))
	}
	if want := n * size; body != want {
		return fail(fmt.Errorf("data is %d bytes, expected %d for shape %s %s", body, want, shape, a.DType))
	}
	if n == 0 {
		return fail(fmt.Errorf("no samples: shape %s", shape))
	}
	return a, int64(start + hlen), n, nil
}

// keyToken quotes a header key NumPy defines, and describes any other.
func keyToken(k string) string {
	switch k {
	case "descr", "fortran_order", "shape":
		return strconv.Quote(k)
	}
	return describe(k)
}

// formatShape writes a shape the way Python prints a tuple.
func formatShape(shape []int64) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(d, 10))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// clip shortens text quoted from a file so one hostile value cannot flood
// a log line.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

type npyHeader struct {
	descr     string
	descrList string // source text of a structured descr
	fortran   bool
	shape     []int64
}

// parseNPYHeader parses the Python dict literal of a .npy header. NumPy
// writes {'descr': '<f8', 'fortran_order': False, 'shape': (100,), }
// padded with spaces and a newline; key order, spacing and the trailing
// comma are not relied upon.
func parseNPYHeader(b []byte) (*npyHeader, error) {
	p := &pyParser{s: b}
	v, err := p.value()
	if err == nil {
		p.space()
		if p.pos < len(p.s) {
			err = p.errorf("unexpected %s after the dict", byteKind(p.s[p.pos]))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("unparsable header: %w", err)
	}
	if v.kind != pyDict {
		return nil, fmt.Errorf("unparsable header: not a dict")
	}
	h := &npyHeader{}
	seen := map[string]bool{}
	for i, k := range v.keys {
		if k.kind != pyStr {
			return nil, fmt.Errorf("unparsable header: a key at offset %d is not a string", k.at)
		}
		if seen[k.str] {
			return nil, fmt.Errorf("unparsable header: duplicate key %s", keyToken(k.str))
		}
		seen[k.str] = true
		val := v.items[i]
		switch k.str {
		case "descr":
			switch val.kind {
			case pyStr:
				h.descr = val.str
			case pyList:
				h.descrList = val.raw
			default:
				return nil, fmt.Errorf("unparsable header: descr at offset %d is not a string", val.at)
			}
		case "fortran_order":
			if val.kind != pyBool {
				return nil, fmt.Errorf("unparsable header: fortran_order at offset %d is not True or False", val.at)
			}
			h.fortran = val.b
		case "shape":
			if val.kind != pyTuple {
				return nil, fmt.Errorf("unparsable header: shape at offset %d is not a tuple", val.at)
			}
			h.shape = make([]int64, len(val.items))
			for j, d := range val.items {
				if d.kind != pyInt {
					return nil, fmt.Errorf("unparsable header: shape at offset %d is not a tuple of integers", val.at)
				}
				h.shape[j] = d.num
			}
		default:
			return nil, fmt.Errorf("unparsable header: unexpected key %s at offset %d", describe(k.str), k.at)
		}
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return nil, fmt.Errorf("unparsable header: no %q key", k)
		}
	}
	return h, nil
}

type pyKind int

const (
	pyStr pyKind = iota
	pyInt
	pyBool
	pyNone
	pyTuple
	pyList
	pyDict
)

// pyValue is a Python literal: enough of the language for .npy headers,
// including structured dtypes, which are parsed only to be refused.
type pyValue struct {
	kind  pyKind
	str   string
	num   int64
	b     bool
	items []pyValue // tuple or list elements, dict values
	keys  []pyValue // dict keys
	raw   string    // source text
	at    int       // offset in the header, for messages
}

type pyParser struct {
	s     []byte
	pos   int
	depth int
}

// maxPyDepth bounds nesting so hostile headers cannot exhaust the stack.
const maxPyDepth = 32

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *pyParser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		default:
			return
		}
	}
}

func (p *pyParser) value() (pyValue, error) {
	p.space()
	if p.pos >= len(p.s) {
		return pyValue{}, p.errorf("unexpected end of header")
	}
	start := p.pos
	var v pyValue
	var err error
	switch c := p.s[p.pos]; {
	case c == '\'' || c == '"':
		v.kind = pyStr
		v.str, err = p.str()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		v.kind = pyInt
		v.num, err = p.int()
	case c == '(' || c == '[' || c == '{':
		v, err = p.container()
	case isIdentByte(c):
		v, err = p.ident()
	default:
		err = p.errorf("unexpected %s", byteKind(c))
	}
	if err != nil {
		return pyValue{}, err
	}
	v.raw = string(p.s[start:p.pos])
	v.at = start
	return v, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *pyParser) ident() (pyValue, error) {
	start := p.pos
	for p.pos < len(p.s) && isIdentByte(p.s[p.pos]) {
		p.pos++
	}
	switch w := string(p.s[start:p.pos]); w {
	case "True":
		return pyValue{kind: pyBool, b: true}, nil
	case "False":
		return pyValue{kind: pyBool}, nil
	case "None":
		return pyValue{kind: pyNone}, nil
	default:
		p.pos = start
		return pyValue{}, p.errorf("unexpected name, %s", describe(w))
	}
}

func (p *pyParser) str() (string, error) {
	q := p.s[p.pos]
	p.pos++
	var b []byte
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == q:
			return string(b), nil
		case c == '\n':
			return "", p.errorf("newline in string")
		case c != '\\':
			b = append(b, c)
			continue
		}
		if p.pos >= len(p.s) {
			break
		}
		e := p.s[p.pos]
		p.pos++
		switch e {
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case '0':
			b = append(b, 0)
		case '\\', '\'', '"':
			b = append(b, e)
		case 'x':
			if p.pos+2 > len(p.s) {
				return "", p.errorf("truncated \\x escape")
			}
			x, err := strconv.ParseUint(string(p.s[p.pos:p.pos+2]), 16, 8)
			if err != nil {
				return "", p.errorf("bad \\x escape")
			}
			b = append(b, byte(x))
			p.pos += 2
		default:
			b = append(b, '\\', e)
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *pyParser) int() (int64, error) {
	start := p.pos
	if c := p.s[p.pos]; c == '-' || c == '+' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == digits {
		return 0, p.errorf("expected a digit")
	}
	text := string(p.s[start:p.pos])
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		p.pos = start
		return 0, p.errorf("a %d-character integer out of range", len(text))
	}
	// Python 2 wrote long integers with an L suffix.
	if p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') {
		p.pos++
	}
	if p.pos < len(p.s) && (isIdentByte(p.s[p.pos]) || p.s[p.pos] == '.') {
		return 0, p.errorf("expected an integer")
	}
	return n, nil
}

// container parses a tuple, list or dict. A parenthesised single value
// without a comma is just that value, as in Python.
func (p *pyParser) container() (pyValue, error) {
	if p.depth >= maxPyDepth {
		return pyValue{}, p.errorf("nested too deeply")
	}
	p.depth++
	defer func() { p.depth-- }()

	open := p.s[p.pos]
	p.pos++
	var v pyValue
	var closing byte
	switch open {
	case '(':
		v.kind, closing = pyTuple, ')'
	case '[':
		v.kind, closing = pyList, ']'
	default:
		v.kind, closing = pyDict, '}'
	}
	commas := 0
	for {
		p.space()
		if p.pos >= len(p.s) {
			return pyValue{}, p.errorf("unexpected end of header, expected %q", closing)
		}
		if p.s[p.pos] == closing {
			p.pos++
			break
		}
		if len(v.items) > commas {
			return pyValue{}, p.errorf("expected ',' or %q, got %s", closing, byteKind(p.s[p.pos]))
		}
		if v.kind == pyDict {
			k, err := p.value()
			if err != nil {
				return pyValue{}, err
			}
			p.space()
			if p.pos >= len(p.s) || p.s[p.pos] != ':' {
				return pyValue{}, p.errorf("expected ':' after dict key")
			}
			p.pos++
			v.keys = append(v.keys, k)
		}
		item, err := p.value()
		if err != nil {
			return pyValue{}, err
		}
		v.items = append(v.items, item)
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
			commas++
		}
	}
	if v.kind == pyTuple && len(v.items) == 1 && commas == 0 {
		return v.items[0], nil
	}
	return v, nil
}
