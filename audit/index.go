package audit

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
)

// Archive summarises one "archived" record; it is what an Index keeps per
// archive. ArchiveSHA256 is the archive's current sha256: that of the last
// "reprocessed" record of its path, if any.
type Archive struct {
	Seq           uint64
	SourcePath    string
	SourceSize    int64
	SourceSHA256  string
	ContentKey    string // "" for records written before content keys
	ArchivePath   string
	ArchiveSHA256 string
	// Reprocessed is the seq of the archive's last "reprocessed" record,
	// 0 when it has none.
	Reprocessed uint64
}

// Index answers the questions a daemon and a trace command ask of the log
// without another database: was this content archived, and where
// (Indexed.ArchiveOf); what became of this source path; which archive has
// this hash prefix; which removals are pending. Replay builds one, and an
// Indexed keeps it up with what is appended. An Index is not safe for
// concurrent use, lookups included.
//
// It keeps a summary per archived record, not the records, and keeps it
// free of pointers so that the garbage collector need not scan it: paths
// are packed into large byte blocks, and the maps are keyed by 64-bit hashes
// whose buckets chain through the summaries. The path maps are built on
// the first lookup by path, since a daemon only asks by content hash.
type Index struct {
	Records  uint64            // records read
	LastSeq  uint64            // seq of the last record
	LastHash string            // hash of the last record
	Events   map[string]uint64 // records per event name

	n      int32
	chunks [][]entry
	arena  [][]byte

	byKey     map[uint64]int32 // first 8 bytes of the content key -> latest entry
	seed      maphash.Seed
	bySrcPath map[uint64]int32 // maphash of the source path -> latest entry
	byArcPath map[uint64]int32

	pending map[uint64]*Removal // planned removals not carried out in full, by seq

	reprocessed map[int32]uint64 // entry -> seq of its archive's last "reprocessed" record
}

const (
	entryChunk = 1 << 14 // entries per chunk, so growing never copies them
	arenaChunk = 1 << 20 // bytes per block of paths
)

type entry struct {
	seq              uint64
	size             int64
	src, arc, key    [32]byte
	srcPath, arcPath pathRef
	nextKey          int32 // the previous entry in the same byKey bucket, or -1
	nextSrcPath      int32 // the same for bySrcPath, once built
	nextArcPath      int32
	hasSrc, hasArc   bool
	hasKey           bool
}

// pathRef locates a path in the arena.
type pathRef struct {
	block, off, n uint32
}

func (ix *Index) at(i int32) *entry {
	return &ix.chunks[i/entryChunk][i%entryChunk]
}

func (ix *Index) bytesOf(r pathRef) []byte {
	if r.n == 0 {
		return nil
	}
	return ix.arena[r.block][r.off : r.off+r.n]
}

// reserve returns the arena block that has room for n more bytes.
func (ix *Index) reserve(n int) uint32 {
	last := len(ix.arena) - 1
	if last < 0 || len(ix.arena[last])+n > cap(ix.arena[last]) {
		ix.arena = append(ix.arena, make([]byte, 0, max(arenaChunk, n)))
		last++
	}
	return uint32(last)
}

// storeRaw stores the string value val (a raw JSON token) in the arena;
// any other kind of value stores nothing.
func (ix *Index) storeRaw(val []byte) pathRef {
	if len(val) < 2 || val[0] != '"' {
		return pathRef{}
	}
	raw := val[1 : len(val)-1]
	b := ix.reserve(len(raw))
	off := len(ix.arena[b])
	ix.arena[b] = canonjson.AppendUnquoted(ix.arena[b], raw)
	return pathRef{block: b, off: uint32(off), n: uint32(len(ix.arena[b]) - off)}
}

func (ix *Index) store(s string) pathRef {
	b := ix.reserve(len(s))
	off := len(ix.arena[b])
	ix.arena[b] = append(ix.arena[b], s...)
	return pathRef{block: b, off: uint32(off), n: uint32(len(s))}
}

func shaKey(h *[32]byte) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

func (ix *Index) insert(e entry) {
	if ix.byKey == nil {
		ix.byKey = make(map[uint64]int32)
		ix.seed = maphash.MakeSeed()
	}
	i := ix.n
	if int(i)%entryChunk == 0 {
		ix.chunks = append(ix.chunks, make([]entry, 0, entryChunk))
	}
	e.nextKey, e.nextSrcPath, e.nextArcPath = -1, -1, -1
	if e.hasKey {
		k := shaKey(&e.key)
		if p, ok := ix.byKey[k]; ok {
			e.nextKey = p
		}
		ix.byKey[k] = i
	}
	c := &ix.chunks[len(ix.chunks)-1]
	*c = append(*c, e)
	ix.n++
	if ix.bySrcPath != nil {
		ix.linkPaths(i)
	}
}

// linkPaths puts entry i at the head of its path buckets.
func (ix *Index) linkPaths(i int32) {
	e := ix.at(i)
	if e.srcPath.n > 0 {
		h := maphash.Bytes(ix.seed, ix.bytesOf(e.srcPath))
		if p, ok := ix.bySrcPath[h]; ok {
			e.nextSrcPath = p
		}
		ix.bySrcPath[h] = i
	}
	if e.arcPath.n > 0 {
		h := maphash.Bytes(ix.seed, ix.bytesOf(e.arcPath))
		if p, ok := ix.byArcPath[h]; ok {
			e.nextArcPath = p
		}
		ix.byArcPath[h] = i
	}
}

func (ix *Index) pathMaps() {
	if ix.bySrcPath != nil || ix.n == 0 {
		return
	}
	ix.bySrcPath = make(map[uint64]int32, ix.n)
	ix.byArcPath = make(map[uint64]int32, ix.n)
	for i := range ix.n {
		ix.linkPaths(i)
	}
}

// add brings a record into the index, as it reads back from the log.
// Records must come in seq order.
func (ix *Index) add(rec Record) {
	e, _ := rec.Decode() // a record Decode does not know adds nothing but its count
	ix.Records++
	ix.LastSeq, ix.LastHash = rec.Seq, rec.Hash
	if ix.Events == nil {
		ix.Events = make(map[string]uint64)
	}
	ix.Events[rec.Event]++
	ix.addRemoval(rec.Seq, e)
	if r, ok := e.(Reprocessed); ok {
		var sum [32]byte
		if hexTo32(r.ArchiveSHA256, &sum) {
			ix.replaced(rec.Seq, r.ArchivePath, sum)
		}
		return
	}
	a, ok := e.(Archived)
	if !ok {
		return
	}
	en := entry{seq: rec.Seq, size: a.SourceSize, srcPath: ix.store(a.SourcePath), arcPath: ix.store(a.ArchivePath)}
	en.hasSrc = hexTo32(a.SourceSHA256, &en.src)
	en.hasArc = hexTo32(a.ArchiveSHA256, &en.arc)
	en.hasKey = hexTo32(a.ContentKey, &en.key)
	ix.insert(en)
}

// replaced makes sum the current sha256 of the archive at path, as a
// "reprocessed" record (of seq) says: the archive replaced is the one the
// latest record of the path wrote.
func (ix *Index) replaced(seq uint64, path string, sum [32]byte) {
	if ix.n == 0 {
		return
	}
	ix.pathMaps()
	i, ok := ix.byArcPath[maphash.String(ix.seed, path)]
	for ; ok && i >= 0; i = ix.at(i).nextArcPath {
		if e := ix.at(i); string(ix.bytesOf(e.arcPath)) == path {
			e.arc, e.hasArc = sum, true
			if ix.reprocessed == nil {
				ix.reprocessed = map[int32]uint64{}
			}
			ix.reprocessed[i] = seq
			return
		}
	}
}

func hexTo32(s string, dst *[32]byte) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	_, err := hex.Decode(dst[:], []byte(s))
	return err == nil
}

func (ix *Index) archive(i int32) Archive {
	e := ix.at(i)
	a := Archive{
		Seq:         e.seq,
		SourcePath:  string(ix.bytesOf(e.srcPath)),
		SourceSize:  e.size,
		ArchivePath: string(ix.bytesOf(e.arcPath)),
		Reprocessed: ix.reprocessed[i],
	}
	if e.hasSrc {
		a.SourceSHA256 = hex.EncodeToString(e.src[:])
	}
	if e.hasArc {
		a.ArchiveSHA256 = hex.EncodeToString(e.arc[:])
	}
	if e.hasKey {
		a.ContentKey = hex.EncodeToString(e.key[:])
	}
	return a
}

// Len returns the number of archived records in the index.
func (ix *Index) Len() int { return int(ix.n) }

// byContentKey returns the latest archive of the content with this key
// (hex; see Archived.ContentKey): the de-duplication question.
func (ix *Index) byContentKey(key string) (Archive, bool) {
	var h [32]byte
	if !hexTo32(strings.ToLower(key), &h) {
		return Archive{}, false
	}
	i, ok := ix.byKey[shaKey(&h)]
	for ; ok && i >= 0; i = ix.at(i).nextKey {
		if e := ix.at(i); e.hasKey && e.key == h {
			return ix.archive(i), true
		}
	}
	return Archive{}, false
}

// ByArchivePath returns the latest record that wrote the archive at path.
func (ix *Index) ByArchivePath(path string) (Archive, bool) {
	if ix.n == 0 {
		return Archive{}, false
	}
	ix.pathMaps()
	i, ok := ix.byArcPath[maphash.String(ix.seed, path)]
	for ; ok && i >= 0; i = ix.at(i).nextArcPath {
		if string(ix.bytesOf(ix.at(i).arcPath)) == path {
			return ix.archive(i), true
		}
	}
	return Archive{}, false
}

// Archives returns the latest record of each archive path, in the order
// the archives were first written.
func (ix *Index) Archives() []Archive {
	latest := map[string]int32{}
	var order []string
	for i := range ix.n {
		p := string(ix.bytesOf(ix.at(i).arcPath))
		if p == "" {
			continue
		}
		if _, seen := latest[p]; !seen {
			order = append(order, p)
		}
		latest[p] = i
	}
	out := make([]Archive, len(order))
	for j, p := range order {
		out[j] = ix.archive(latest[p])
	}
	return out
}

// BySourcePath returns every archive made from the source at path, oldest
// first.
func (ix *Index) BySourcePath(path string) []Archive {
	if ix.n == 0 {
		return nil
	}
	ix.pathMaps()
	var out []Archive
	i, ok := ix.bySrcPath[maphash.String(ix.seed, path)]
	for ; ok && i >= 0; i = ix.at(i).nextSrcPath {
		if string(ix.bytesOf(ix.at(i).srcPath)) == path {
			out = append(out, ix.archive(i))
		}
	}
	slices.Reverse(out)
	return out
}

// errBadPrefix is returned by ByHashPrefix for a prefix that is not hex.
var errBadPrefix = errors.New("hash prefix is not hex")

// ByHashPrefix returns the archives whose source or archive SHA-256 starts
// with prefix (hex, any case), oldest first. It scans the summaries, which
// takes milliseconds for a million archives and needs no extra memory.
func (ix *Index) ByHashPrefix(prefix string) ([]Archive, error) {
	prefix = strings.ToLower(prefix)
	bad := fmt.Errorf("%q: %w", prefix, errBadPrefix)
	if len(prefix) == 0 || len(prefix) > 64 {
		return nil, bad
	}
	full, err := hex.DecodeString(prefix[:len(prefix)&^1])
	if err != nil {
		return nil, bad
	}
	odd := len(prefix)%2 == 1
	var nibble byte
	if odd {
		switch c := prefix[len(prefix)-1]; {
		case c >= '0' && c <= '9':
			nibble = c - '0'
		case c >= 'a' && c <= 'f':
			nibble = c - 'a' + 10
		default:
			return nil, bad
		}
	}
	match := func(h *[32]byte) bool {
		if string(h[:len(full)]) != string(full) {
			return false
		}
		return !odd || h[len(full)]>>4 == nibble
	}
	var out []Archive
	for i := range ix.n {
		e := ix.at(i)
		if (e.hasSrc && match(&e.src)) || (e.hasArc && match(&e.arc)) {
			out = append(out, ix.archive(i))
		}
	}
	return out, nil
}
