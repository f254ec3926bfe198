package audit

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func TestProveEveryRecord(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	opts.MaxSize = 3000 // proofs read across segments too
	l := mustOpen(t, opts)
	var recs []Record
	for i := range 13 {
		recs = append(recs, mustAppend(t, l, eventArchived, archivedRecord(i)))
	}
	mustClose(t, l)
	vkey, err := PublicKey(opts.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range recs {
		proof, err := Prove(opts.Path, opts.StateDir, want.Seq)
		if err != nil {
			t.Fatalf("Prove(%d): %v", want.Seq, err)
		}
		got, err := CheckProof(proof, vkey)
		if err != nil {
			t.Fatalf("CheckProof(%d): %v\n%s", want.Seq, err, proof)
		}
		if got.Seq != want.Seq || got.Hash != want.Hash || got.String(fieldArchivePath) != want.String(fieldArchivePath) {
			t.Errorf("CheckProof(%d): got seq %d hash %s, want %s", want.Seq, got.Seq, got.Hash, want.Hash)
		}
	}
	if _, err := Prove(opts.Path, opts.StateDir, 14); !errors.Is(err, errNotCovered) {
		t.Errorf("Prove(14) of 13 records: got %v, want errNotCovered", err)
	}
	if _, err := Prove(opts.Path, opts.StateDir, 0); !errors.Is(err, errNotCovered) {
		t.Errorf("Prove(0): got %v, want errNotCovered", err)
	}
}

// TestFrontierMatchesTlog checks the writer's incremental root against
// tlog's from stored hashes, for every size up to 300.
func TestFrontierMatchesTlog(t *testing.T) {
	t.Parallel()
	var fr frontier
	tree := &storedTree{}
	for i := range 300 {
		var h [32]byte
		h[0], h[1] = byte(i), byte(i>>8)
		leaf := leafHash(h)
		fr.add(leaf)
		if err := tree.add(leaf); err != nil {
			t.Fatal(err)
		}
		want, err := tlog.TreeHash(int64(i+1), tree)
		if err != nil {
			t.Fatal(err)
		}
		if got := fr.root(); got != want {
			t.Fatalf("size %d: got root %v, want %v", i+1, got, want)
		}
		var back frontier
		if !back.setHashes(fr.n, fr.hashes()) || back.root() != want {
			t.Fatalf("size %d: frontier does not survive hashes/setHashes", i+1)
		}
	}
}

func TestCheckProofRejects(t *testing.T) {
	t.Parallel()
	opts := testOptions(t)
	l := mustOpen(t, opts)
	for i := range 9 {
		mustAppend(t, l, eventArchived, archivedRecord(i))
	}
	mustClose(t, l)
	vkey, _ := PublicKey(opts.KeyFile)
	proof3, err := Prove(opts.Path, opts.StateDir, 3)
	if err != nil {
		t.Fatal(err)
	}
	proof6, err := Prove(opts.Path, opts.StateDir, 6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckProof(proof3, vkey); err != nil {
		t.Fatalf("CheckProof: %v", err)
	}
	lines := func(p []byte) [][]byte { return bytes.SplitAfter(p, []byte("\n")) }
	join := func(ls [][]byte) []byte { return bytes.Join(ls, nil) }
	_, otherKey, _ := note.GenerateKey(rand.Reader, "gwwatchd-test-host")

	tests := []struct {
		name  string
		proof func() []byte
		key   string
	}{
		{"record of another proof", func() []byte {
			a, b := lines(proof3), lines(proof6)
			a[2] = b[2]
			return join(a)
		}, vkey},
		{"record and seq of another proof", func() []byte {
			a, b := lines(proof3), lines(proof6)
			a[1], a[2] = b[1], b[2]
			return join(a)
		}, vkey},
		{"record edited", func() []byte {
			return bytes.Replace(proof3, []byte("/data/raw/K1"), []byte("/data/raw/K2"), 1)
		}, vkey},
		{"record edited with its hash recomputed", func() []byte {
			a := lines(proof3)
			rec := strings.TrimSuffix(strings.TrimPrefix(string(a[2]), "record "), "\n")
			var lr lineRecord
			if err := parseRecordLine([]byte(rec), &lr); err != nil {
				t.Fatal(err)
			}
			m, _ := decodeRecord([]byte(rec))
			h := header{seq: m.Seq, time: "2024-03-01T12:00:00.000000000Z", event: m.Event, host: m.Host, prev: lr.prev}
			m.Fields[fieldArchivePath] = "/archive/elsewhere.h5"
			line, _, _ := encodeFields(&h, m.Fields)
			a[2] = append([]byte("record "), line...)
			return join(a)
		}, vkey},
		{"proof hash changed", func() []byte {
			a := lines(proof3)
			a[4] = lines(proof6)[4]
			if bytes.Equal(a[4], lines(proof3)[4]) {
				a[4] = []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
			}
			return join(a)
		}, vkey},
		{"proof hash dropped", func() []byte {
			a := lines(proof3)
			a[3] = []byte("proof 1\n")
			return join(append(a[:5], a[6:]...))
		}, vkey},
		{"wrong key", func() []byte { return proof3 }, otherKey},
		{"checkpoint text edited", func() []byte {
			return bytes.Replace(proof3, []byte("\n9\n"), []byte("\n8\n"), 1)
		}, vkey},
		{"not a proof", func() []byte { return []byte("hello\n") }, vkey},
		{"truncated", func() []byte { return proof3[:len(proof3)/2] }, vkey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := CheckProof(tt.proof(), tt.key)
			if err == nil {
				t.Fatalf("CheckProof: got record %d, want an error", rec.Seq)
			}
			t.Logf("CheckProof: %v", err)
		})
	}
}
