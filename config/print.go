package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Effective returns the configuration as TOML with every key spelled out:
// the defaults taken, the overlaps that default to half of fftlength, the
// memory share and signing key that "" stands for, and, as comments, the
// watch metadata that is not set and so comes from each file.
func (c *Config) Effective() ([]byte, error) {
	e := *c
	a, s := e.Processing.ASD, e.Processing.Spectrogram
	ao := EffectiveOverlap(a.FFTLength, a.Overlap)
	so := EffectiveOverlap(s.FFTLength, s.Overlap)
	e.Processing.ASD.Overlap = &ao
	e.Processing.Spectrogram.Overlap = &so
	e.Processing.Products = slices.Clone(c.Processing.Products)
	for i := range e.Processing.Products {
		p := &e.Processing.Products[i]
		if p.Kind == KindASD || p.Kind == KindSpectrogram {
			o := p.Welch().Overlap
			p.Overlap = &o
		}
	}
	if strings.TrimSpace(string(e.Daemon.MemoryLimit)) == "" {
		e.Daemon.MemoryLimit = MemoryLimit(strconv.FormatFloat(DefaultMemoryShare*100, 'f', -1, 64) + "%")
	}
	e.Audit.Key = c.KeyFile()
	e.Watch = nil
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(&e); err != nil {
		return nil, err
	}
	for _, w := range c.Watch {
		if w.Channels == nil {
			w.Channels = []string{}
		}
		buf.WriteString("\n")
		one := struct {
			Watch []Watch `toml:"watch"`
		}{[]Watch{w}}
		if err := toml.NewEncoder(&buf).Encode(&one); err != nil {
			return nil, err
		}
		if w.SampleRate == nil {
			buf.WriteString("  # sample_rate: not set: from the flags, the sidecar, the file or its name\n")
		}
		if w.T0 == nil {
			buf.WriteString("  # t0: not set: from the flags, the sidecar, the file or its name\n")
		}
	}
	return buf.Bytes(), nil
}

// SHA256 is the hex SHA-256 of the effective configuration as Effective
// prints it: what audit records name a configuration by.
func (c *Config) SHA256() (string, error) {
	b, err := c.Effective()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// ChainText describes the products made of each series, one line each in
// dependency order, indented under their input, as comments: what config
// check prints after the effective configuration.
func (c *Config) ChainText() string {
	chain := c.Processing.Chain()
	if len(chain) == 0 {
		return "# products: none\n"
	}
	var b strings.Builder
	b.WriteString("# products, each under its input:\n# raw\n")
	var walk func(input, indent string)
	walk = func(input, indent string) {
		for _, p := range chain {
			if p.Input != input {
				continue
			}
			fmt.Fprintf(&b, "# %s%s (%s%s)\n", indent, p.Name, p.Kind, p.paramText())
			walk(p.Name, indent+"  ")
		}
	}
	walk(InputRaw, "  ")
	return b.String()
}

// paramText is the product's parameters, as ", key value" pairs.
func (p Product) paramText() string {
	var b strings.Builder
	switch p.Kind {
	case KindASD, KindSpectrogram:
		w := p.Welch()
		fmt.Fprintf(&b, ", fftlength %g s, overlap %g s, %s, %s", w.FFTLength, w.Overlap, w.Method, w.Window)
		if p.Kind == KindSpectrogram {
			fmt.Fprintf(&b, ", stride %g s", deref(p.Stride))
		}
	case KindHighpass, KindLowpass:
		fmt.Fprintf(&b, ", order %d, cutoff %g Hz", p.Order, p.Cutoff)
	case KindBandpass:
		fmt.Fprintf(&b, ", order %d, %g to %g Hz", p.Order, p.Low, p.High)
	case KindResample:
		fmt.Fprintf(&b, ", %g Hz", p.Rate)
	case KindTrend:
		fmt.Fprintf(&b, ", stride %g s", deref(p.Stride))
	}
	if len(p.Channels) > 0 {
		fmt.Fprintf(&b, ", channels %s", strings.Join(p.Channels, " "))
	}
	return b.String()
}
