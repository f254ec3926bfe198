package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
