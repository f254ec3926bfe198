package canonjson

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting so that a hostile line cannot exhaust the stack.
const maxDepth = 64

// syntaxError says where a line stops being canonical JSON.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

// parser checks canonical JSON without building values. Accepting a line
// means decoding it and encoding it again with Marshal gives the same
// bytes, which lets the audit log check a record and find its hash member
// in one pass with no allocation.
type parser struct {
	b []byte
	i int
}

func (p *parser) fail(msg string) error { return &syntaxError{off: p.i, msg: msg} }

// ScanObject checks that b is exactly one canonical JSON object and calls
// fn for each top-level member with its key, its raw value and the offset
// of the member's opening quote. An error from fn stops it and is
// returned as it is.
func ScanObject(b []byte, fn func(key, val []byte, start int) error) error {
	p := parser{b: b}
	if len(b) == 0 || b[0] != '{' {
		return p.fail("not a JSON object")
	}
	p.i++
	if p.i < len(b) && b[p.i] == '}' {
		p.i++
	} else {
		var prev []byte
		for {
			start := p.i
			key, err := p.key(prev)
			if err != nil {
				return err
			}
			prev = key
			if p.i >= len(b) || b[p.i] != ':' {
				return p.fail("want ':'")
			}
			p.i++
			vs := p.i
			if err := p.value(1); err != nil {
				return err
			}
			if err := fn(key, b[vs:p.i], start); err != nil {
				return err
			}
			if p.i >= len(b) {
				return p.fail("unterminated object")
			}
			if b[p.i] == '}' {
				p.i++
				break
			}
			if b[p.i] != ',' {
				return p.fail("want ',' or '}'")
			}
			p.i++
		}
	}
	if p.i != len(b) {
		return p.fail("data after the object")
	}
	return nil
}

// key reads an object key, which must sort after prev.
func (p *parser) key(prev []byte) ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, p.fail("want a key")
	}
	p.i++
	s := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			break
		}
		if c < 0x20 || c > 0x7e || c == '\\' {
			return nil, p.fail("key is not printable ASCII without escapes")
		}
		p.i++
	}
	if p.i >= len(p.b) {
		return nil, p.fail("unterminated key")
	}
	key := p.b[s:p.i]
	p.i++
	if len(key) == 0 {
		return nil, p.fail("empty key")
	}
	if prev != nil && bytes.Compare(prev, key) >= 0 {
		return nil, p.fail("keys not sorted or repeated")
	}
	return key, nil
}

func (p *parser) value(depth int) error {
	if depth > maxDepth {
		return p.fail("nested too deeply")
	}
	if p.i >= len(p.b) {
		return p.fail("want a value")
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.str()
	case c == '{':
		p.i++
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return nil
		}
		var prev []byte
		for {
			key, err := p.key(prev)
			if err != nil {
				return err
			}
			prev = key
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return p.fail("want ':'")
			}
			p.i++
			if err := p.value(depth + 1); err != nil {
				return err
			}
			if p.i >= len(p.b) {
				return p.fail("unterminated object")
			}
			if p.b[p.i] == '}' {
				p.i++
				return nil
			}
			if p.b[p.i] != ',' {
				return p.fail("want ',' or '}'")
			}
			p.i++
		}
	case c == '[':
		p.i++
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return nil
		}
		for {
			if err := p.value(depth + 1); err != nil {
				return err
			}
			if p.i >= len(p.b) {
				return p.fail("unterminated array")
			}
			if p.b[p.i] == ']' {
				p.i++
				return nil
			}
			if p.b[p.i] != ',' {
				return p.fail("want ',' or ']'")
			}
			p.i++
		}
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return p.fail("want a value")
}

func (p *parser) literal(s string) error {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return p.fail("bad literal")
	}
	p.i += len(s)
	return nil
}

func (p *parser) number() error {
	s := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		p.i++
	}
	tok := p.b[s:p.i]
	isFloat, ok := scanNumber(tok)
	if !ok {
		p.i = s
		return p.fail("bad number")
	}
	if !isFloat {
		if len(tok) == 2 && tok[0] == '-' && tok[1] == '0' {
			p.i = s
			return p.fail("-0 is not canonical")
		}
		return nil
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		p.i = s
		return p.fail("bad number")
	}
	var tmp [32]byte
	want, err := appendFloat(tmp[:0], f)
	if err != nil || !bytes.Equal(want, tok) {
		p.i = s
		return p.fail("float not in canonical form")
	}
	return nil
}

// plain marks the bytes that stand for themselves in a canonical string.
var plain = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str checks a string in the escaping of appendString.
func (p *parser) str() error {
	p.i++
	for {
		for p.i < len(p.b) && plain[p.b[p.i]] {
			p.i++
		}
		if p.i >= len(p.b) {
			return p.fail("unterminated string")
		}
		switch p.b[p.i] {
		case '"':
			p.i++
			return nil
		case '\\':
		default:
			return p.fail("unescaped control or non-ASCII byte in string")
		}
		if p.i+1 >= len(p.b) {
			return p.fail("unterminated escape")
		}
		switch p.b[p.i+1] {
		case '"', '\\', 'b', 'f', 'n', 'r', 't':
			p.i += 2
			continue
		case 'u':
		default:
			return p.fail("escape not in canonical form")
		}
		r, ok := hex4(p.b, p.i+2)
		if !ok {
			return p.fail("bad \\u escape")
		}
		switch {
		case r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t':
			return p.fail("\\u escape where a short escape is canonical")
		case r >= 0x20 && r <= 0x7e:
			return p.fail("\\u escape of a printable ASCII character")
		case r >= 0xdc00 && r <= 0xdfff:
			return p.fail("lone low surrogate")
		case r >= 0xd800 && r <= 0xdbff:
			if p.i+12 > len(p.b) || p.b[p.i+6] != '\\' || p.b[p.i+7] != 'u' {
				return p.fail("lone high surrogate")
			}
			r2, ok := hex4(p.b, p.i+8)
			if !ok || r2 < 0xdc00 || r2 > 0xdfff {
				return p.fail("lone high surrogate")
			}
			p.i += 12
			continue
		}
		p.i += 6
	}
}

// hex4 reads four lowercase hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// Unquote decodes the contents (between the quotes) of a string value that
// ScanObject has accepted.
func Unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	return string(AppendUnquoted(make([]byte, 0, len(raw)), raw))
}

// AppendUnquoted appends the decoded contents of a string value that
// ScanObject has accepted. What it appends is never longer than raw.
func AppendUnquoted(out, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(raw, i+2)
			i += 6
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(raw, i+2)
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			out = append(out, raw[i+1])
		}
		i += 2
	}
	return out
}
