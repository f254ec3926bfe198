package audit

import (
	"errors"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// frontier is the right edge of an RFC 6962 Merkle tree: for each set bit
// i of n, the hash of the complete subtree of 2^i leaves it stands for.
// That is all that is needed to add leaves and compute the root, so the
// writer's memory does not grow with the log.
type frontier struct {
	n int64
	h [64]tlog.Hash
}

// leafHash is the Merkle leaf for a record: tlog.RecordHash of the raw
// 32-byte record hash.
func leafHash(recordHash [32]byte) tlog.Hash {
	return tlog.RecordHash(recordHash[:])
}

// add appends a leaf, merging the complete subtrees it finishes, like a
// carry in binary addition.
func (f *frontier) add(leaf tlog.Hash) {
	h := leaf
	i := 0
	for ; f.n>>i&1 == 1; i++ {
		h = tlog.NodeHash(f.h[i], h)
	}
	f.h[i] = h
	f.n++
}

// root returns the tree hash of the n leaves added so far, folding the
// subtrees from the smallest (rightmost) up, as RFC 6962 defines it.
func (f *frontier) root() tlog.Hash {
	if f.n == 0 {
		h, _ := tlog.TreeHash(0, nil)
		return h
	}
	i := bits.TrailingZeros64(uint64(f.n))
	r := f.h[i]
	for i++; i < 64; i++ {
		if f.n>>i&1 == 1 {
			r = tlog.NodeHash(f.h[i], r)
		}
	}
	return r
}

// hashes returns the subtree hashes in use, from the smallest subtree up.
func (f *frontier) hashes() []tlog.Hash {
	var hs []tlog.Hash
	for i := range 64 {
		if f.n>>i&1 == 1 {
			hs = append(hs, f.h[i])
		}
	}
	return hs
}

// setHashes restores a frontier of n leaves from hashes; it reports false
// if their number does not match n.
func (f *frontier) setHashes(n int64, hs []tlog.Hash) bool {
	if n < 0 || bits.OnesCount64(uint64(n)) != len(hs) {
		return false
	}
	*f = frontier{n: n}
	j := 0
	for i := range 64 {
		if n>>i&1 == 1 {
			f.h[i] = hs[j]
			j++
		}
	}
	return true
}

// storedTree holds every stored hash of a tree in memory, in the order of
// tlog.StoredHashIndex, for proofs: about two hashes per record.
type storedTree struct {
	n      int64
	hashes []tlog.Hash
}

func (t *storedTree) add(leaf tlog.Hash) error {
	hs, err := tlog.StoredHashesForRecordHash(t.n, leaf, t)
	if err != nil {
		return err
	}
	t.hashes = append(t.hashes, hs...)
	t.n++
	return nil
}

// ReadHashes implements tlog.HashReader.
func (t *storedTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, errIndex
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}

var errIndex = errors.New("stored hash index out of range")
