package audit

import (
	"fmt"

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
)

// Scan calls fn for every record of the log at path, segment by segment in
// order, with the record and its line (without the newline, valid only
// during the call). It reads a snapshot taken under a shared lock, so an
// append or rotation in progress is wholly seen or not at all. A last line
// without a newline is an append that never completed and is skipped; any
// other line that does not parse stops Scan with an error naming it as
// segment:line. Scan checks neither hashes nor the chain (Verify does). An
// error from fn stops Scan and is returned as it is.
func Scan(path string, fn func(rec Record, line []byte) error) error {
	snap, err := takeSnapshot(path, nil)
	if err != nil {
		return fmt.Errorf("scan audit log: %w", err)
	}
	defer snap.close()
	var fnErr error
	err = snap.each(func(seg string, n int, _ int64, line []byte, complete bool) error {
		if !complete {
			return nil
		}
		rec, err := decodeRecord(line)
		if err != nil {
			return fmt.Errorf("scan audit log: %s:%d: %w", seg, n, err)
		}
		if err := fn(rec, line); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// Replay reads the log at path once and returns its Index. Each line is
// checked to be a canonical record but, for speed, hashes are not
// recomputed: Verify does that. A torn last line is skipped as Scan does.
func Replay(path string) (*Index, error) {
	snap, err := takeSnapshot(path, nil)
	if err != nil {
		return nil, fmt.Errorf("replay audit log: %w", err)
	}
	defer snap.close()
	ix := &Index{}
	counts := make(map[string]*uint64) // by the event as written, to look up without allocating
	var f archivedFields
	collect := f.collect
	var lastHash []byte
	err = snap.each(func(seg string, n int, _ int64, line []byte, complete bool) error {
		if !complete {
			return nil
		}
		f = archivedFields{}
		if err := canonjson.ScanObject(line, collect); err != nil {
			return fmt.Errorf("%s:%d: %w", seg, n, err)
		}
		seq, ok := parseSeq(f.seq)
		if !ok || len(f.event) < 2 || len(f.hash) != 66 {
			return fmt.Errorf("%s:%d: not an audit record", seg, n)
		}
		ix.Records++
		ix.LastSeq = seq
		lastHash = append(lastHash[:0], f.hash[1:65]...)
		ev := f.event[1 : len(f.event)-1]
		c := counts[string(ev)]
		if c == nil {
			c = new(uint64)
			counts[string(ev)] = c
		}
		*c++
		if isRemovalEvent(string(ev)) {
			// A record whose fields are not of its type's kinds plans
			// nothing: Verify is the one to say what is wrong with it.
			if e, err := decodeEvent(string(ev), line); err == nil {
				ix.addRemoval(seq, e)
			}
		}
		if string(ev) == eventArchived {
			e := entry{seq: seq, srcPath: ix.storeRaw(f.srcPath), arcPath: ix.storeRaw(f.arcPath)}
			e.size, _ = intValue(f.srcSize)
			e.hasSrc = parseHex32(f.srcSHA, &e.src)
			e.hasArc = parseHex32(f.arcSHA, &e.arc)
			e.hasKey = parseHex32(f.key, &e.key)
			ix.insert(e)
		}
		if string(ev) == eventReprocessed && len(f.arcPath) >= 2 {
			var sum [32]byte
			if parseHex32(f.arcSHA, &sum) {
				ix.replaced(seq, canonjson.Unquote(f.arcPath[1:len(f.arcPath)-1]), sum)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replay audit log: %w", err)
	}
	ix.LastHash = string(lastHash)
	ix.Events = make(map[string]uint64, len(counts))
	for k, c := range counts {
		ix.Events[canonjson.Unquote([]byte(k))] += *c
	}
	return ix, nil
}

// archivedFields holds the raw values Replay needs from one line (of a
// "reprocessed" record, whose keys are Archived's, the archive's path and
// sha256). Decoding
// every "archived" record would take most of the time of a replay, so it
// picks them out of the line itself, under the keys Archived has.
type archivedFields struct {
	seq, event, hash         []byte
	srcPath, srcSize, srcSHA []byte
	arcPath, arcSHA          []byte
	key                      []byte
}

var (
	keySourcePath    = jsonKey(Archived{}, "SourcePath")
	keySourceSize    = jsonKey(Archived{}, "SourceSize")
	keySourceSHA256  = jsonKey(Archived{}, "SourceSHA256")
	keyArchivePath   = jsonKey(Archived{}, "ArchivePath")
	keyArchiveSHA256 = jsonKey(Archived{}, "ArchiveSHA256")
	keyContentKey    = jsonKey(Archived{}, "ContentKey")
)

func (f *archivedFields) collect(key, val []byte, _ int) error {
	switch string(key) {
	case keySeq:
		f.seq = val
	case keyEvent:
		f.event = val
	case keyHash:
		f.hash = val
	case keySourcePath:
		f.srcPath = val
	case keySourceSize:
		f.srcSize = val
	case keySourceSHA256:
		f.srcSHA = val
	case keyArchivePath:
		f.arcPath = val
	case keyArchiveSHA256:
		f.arcSHA = val
	case keyContentKey:
		f.key = val
	}
	return nil
}

func intValue(val []byte) (int64, bool) {
	neg := len(val) > 0 && val[0] == '-'
	if neg {
		val = val[1:]
	}
	n, ok := parseSeq(val)
	if !ok || n > 1<<63-1 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}
