package config

import (
	"bytes"

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
