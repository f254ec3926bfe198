package config

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// keyLines maps configuration keys to the lines that set them, so that
// validation errors can point into the file. The TOML decoder keeps key
// positions private, so the file is scanned once more for its tables and
// keys; a configuration is small and flat, so a line scan suffices.
type keyLines struct {
	full   map[string]int // "watch[1].after" -> line
	byBare map[string]string
}

var (
	tableRe = regexp.MustCompile(`^\[\s*([A-Za-z0-9_.\-" ]+?)\s*\]`)
	arrayRe = regexp.MustCompile(`^\[\[\s*([A-Za-z0-9_.\-" ]+?)\s*\]\]`)
	keyRe   = regexp.MustCompile(`^([A-Za-z0-9_.\-" ]+?)\s*=`)
)

func newKeyLines(b []byte) *keyLines {
	kl := &keyLines{full: map[string]int{}, byBare: map[string]string{}}
	counts := map[string]int{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case arrayRe.MatchString(line):
			name := unquote(arrayRe.FindStringSubmatch(line)[1])
			table = fmt.Sprintf("%s[%d]", name, counts[name])
			counts[name]++
			kl.add(table, n)
		case tableRe.MatchString(line):
			table = unquote(tableRe.FindStringSubmatch(line)[1])
			kl.add(table, n)
		case keyRe.MatchString(line):
			key := unquote(keyRe.FindStringSubmatch(line)[1])
			if table != "" {
				key = table + "." + key
			}
			kl.add(key, n)
		}
	}
	return kl
}

func unquote(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"`)
	}
	return strings.Join(parts, ".")
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

func (kl *keyLines) add(key string, line int) {
	if _, ok := kl.full[key]; ok {
		return
	}
	kl.full[key] = line
	bare := indexRe.ReplaceAllString(key, "")
	if _, ok := kl.byBare[bare]; !ok {
		kl.byBare[bare] = key
	}
}

// name returns the indexed name of a decoder key ("watch[0].bogus" for
// watch.bogus), or its plain name when it cannot be found.
func (kl *keyLines) name(k toml.Key) string {
	if full, ok := kl.byBare[k.String()]; ok {
		return full
	}
	return k.String()
}

func (kl *keyLines) line(k toml.Key) int { return kl.lineOf(kl.name(k)) }

// lineOf returns the line of a key, of its table when the key itself was
// not in the file (a default that failed validation with another key), or 0.
func (kl *keyLines) lineOf(key string) int {
	for key != "" {
		if n, ok := kl.full[key]; ok {
			return n
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}
