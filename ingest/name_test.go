package ingest

import (
	"math/big"
	"testing"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		in   string
		want Name
		ok   bool
	}{
		{"H-H1_LOSC_4_V1-815411200-4096.hdf5", Name{"H", "H1_LOSC_4_V1", 815411200, 4096}, true},
		{"K1-LSC_DARM-1000000000-64.npy", Name{"K1", "LSC_DARM", 1000000000, 64}, true},
		{"HLV-TEST-1000000000.5-0.25.txt", Name{"HLV", "TEST", 1000000000.5, 0.25}, true},
		{"K-D-0-1.bin", Name{"K", "D", 0, 1}, true},
		{"K-DESC-1000000000-64", Name{}, false},         // no extension
		{"K-LSC-DARM-1000000000-64.npy", Name{}, false}, // hyphen in DESC
		{"K:1-DESC-1000000000-64.npy", Name{}, false},
		{"K-DESC-1e9-64.npy", Name{}, false},
		{"K-DESC--1000-64.npy", Name{}, false},
		{"K-DESC-1000-0.npy", Name{}, false},
		{"K-DESC-1000-0.0.npy", Name{}, false},
		{"K-DESC-1000-.5.npy", Name{}, false},
		{"K-DESC-1000-64-extra.npy", Name{}, false},
		{"-DESC-1000-64.npy", Name{}, false},
		{"K--1000-64.npy", Name{}, false},
		{"strain.npy", Name{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseName(%q): got %+v, %v, want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNameRate(t *testing.T) {
	tests := []struct {
		samples  int
		duration string
		want     float64
		ok       bool
	}{
		{262144, "64", 4096, true},
		{2048, "0.5", 4096, true},
		{10, "0.1", 100, true},
		{1000, "3", 0, false},
		{5, "2", 0, false},
	}
	for _, tt := range tests {
		d, _ := new(big.Rat).SetString(tt.duration)
		got, ok := nameRate(tt.samples, d)
		if got != tt.want || ok != tt.ok {
			t.Errorf("nameRate(%d, %s): got %v, %v, want %v, %v", tt.samples, tt.duration, got, ok, tt.want, tt.ok)
		}
	}
}
