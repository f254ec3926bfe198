// Package oneline keeps text that may come from a file's name or content,
// or from a library's messages, on one line of a log, a reason or a
// command's output.
package oneline

import (
	"strconv"
	"strings"
	"unicode"
)

// Escape returns s with each control character written as in a Go string
// literal (`\n`, `\x00`, `\u0085`), so that s reads as one line; s without
// one is returned as it is.
func Escape(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
