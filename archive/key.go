package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/gwwatchd/gwwatchd/ingest"
)

// ContentKey identifies what an archive holds, for de-duplication: the
// source bytes and sidecar bytes together with the effective metadata of
// every series read from them. Identical bytes are common in real data
// (a dead channel, a zero-filled gap, a constant state vector), so the
// same bytes under another channel, time, rate, unit or sample type, or
// with another sidecar, are other content and get their own archive.
//
// The key is the lowercase hex SHA-256 of this JSON, with the fields in
// this order, floats as the shortest decimal that reads back exactly
// (strconv 'g', -1), the names as the standard base64 of their bytes (so
// that names differing only in bytes that are not UTF-8 stay apart), and
// one object per series in the order read:
//
//	{"v":1,"source_sha256":"…","sidecar_sha256":"…" or "",
//	 "series":[{"channel":"<base64>","dataset":"<base64>","t0":"…","sample_rate":"…",
//	            "unit":"<base64>","dtype":"…","byte_order":"…","samples":N,"shape":[…] or null}]}
func ContentKey(src ingest.Source, series []*ingest.Series) string {
	type keySeries struct {
		Channel    []byte `json:"channel"`
		Dataset    []byte `json:"dataset"`
		T0         string `json:"t0"`
		SampleRate string `json:"sample_rate"`
		Unit       []byte `json:"unit"`
		DType      string `json:"dtype"`
		ByteOrder  string `json:"byte_order"`
		Samples    int    `json:"samples"`
		Shape      []int  `json:"shape"`
	}
	k := struct {
		V       int         `json:"v"`
		Source  string      `json:"source_sha256"`
		Sidecar string      `json:"sidecar_sha256"`
		Series  []keySeries `json:"series"`
	}{V: 1, Source: src.SHA256, Series: []keySeries{}}
	if src.Sidecar != nil {
		k.Sidecar = src.Sidecar.SHA256
	}
	for _, s := range series {
		k.Series = append(k.Series, keySeries{
			Channel:    []byte(s.Channel),
			Dataset:    []byte(DatasetName(s.Dataset)),
			T0:         strconv.FormatFloat(s.T0, 'g', -1, 64),
			SampleRate: strconv.FormatFloat(s.SampleRate, 'g', -1, 64),
			Unit:       []byte(s.Unit),
			DType:      string(s.DType),
			ByteOrder:  s.ByteOrder,
			Samples:    s.Len(),
			Shape:      s.Shape,
		})
	}
	b, err := json.Marshal(k)
	if err != nil {
		panic(err) // strings, ints and slices of them always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
