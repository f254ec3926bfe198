package ingest

import (
	"reflect"
	"testing"

	"github.com/gwwatchd/gwwatchd/ingest/gwf"
)

// TestFrameDatasetNames checks how the series of a frame file are told
// apart: a channel split by a gap by the GPS start of each piece, channels
// sharing a name by kind, a repeated channel by its number.
func TestFrameDatasetNames(t *testing.T) {
	s := func(name string, kind gwf.Kind, dup int, sec int64, nsec int32) *gwf.Series {
		return &gwf.Series{Meta: gwf.Meta{Name: name, Kind: kind}, Dup: dup, T0: gwf.Time{Sec: sec, Nsec: nsec}}
	}
	all := []*gwf.Series{
		s("K1:A", gwf.Adc, 0, 1300000000, 0),
		s("K1:A", gwf.Adc, 0, 1300000010, 500000000),
		s("K1:B", gwf.Adc, 0, 1300000000, 0),
		s("K1:B", gwf.Proc, 0, 1300000000, 0),
		s("sim1", gwf.Sim, 0, 1300000000, 0),
		s("sim1", gwf.Sim, 1, 1300000000, 0),
		s("K1:C/D", gwf.Proc, 0, 1300000000, 0),
	}
	want := []string{"K1:A@1300000000", "K1:A@1300000010.5", "K1:B_adc", "K1:B_proc", "sim1", "sim1#1", "K1:C_D"}
	if got := datasetNames(all); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
