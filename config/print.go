package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"github.com/BurntSushi/toml"
)

// Effective returns the configuration as TOML with every default spelled
// out, including the overlaps that default to half of fftlength.
func (c *Config) Effective() ([]byte, error) {
	e := *c
	a, s := e.Processing.ASD, e.Processing.Spectrogram
	ao := EffectiveOverlap(a.FFTLength, a.Overlap)
	so := EffectiveOverlap(s.FFTLength, s.Overlap)
	e.Processing.ASD.Overlap = &ao
	e.Processing.Spectrogram.Overlap = &so
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(&e); err != nil {
		return nil, err
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
