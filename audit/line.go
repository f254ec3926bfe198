package audit

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
)

// lineRecord is what the log needs from one record line.
type lineRecord struct {
	seq               uint64
	hash, prev        [32]byte
	event, time, host []byte // string contents, still escaped
	hashStart         int    // offset of the ',' before the "hash" key
	hashEnd           int    // offset just after the hash value
}

const (
	haveSeq = 1 << iota
	haveHash
	havePrev
	haveEvent
	haveTime
	haveHost
	haveAll = haveSeq | haveHash | havePrev | haveEvent | haveTime | haveHost
)

// parseRecordLine checks that line (without its newline) is a canonical
// record with all common fields, and extracts them.
func parseRecordLine(line []byte, r *lineRecord) error {
	var have int
	err := canonjson.ScanObject(line, func(key, val []byte, start int) error {
		switch string(key) {
		case keySeq:
			n, ok := parseSeq(val)
			if !ok {
				return errors.New("seq is not a positive integer")
			}
			r.seq = n
			have |= haveSeq
		case keyHash:
			if !parseHex32(val, &r.hash) {
				return errors.New("hash is not 64 lowercase hex digits")
			}
			r.hashStart, r.hashEnd = start-1, start+len(keyHash)+3+len(val)
			have |= haveHash
		case keyPrev:
			if !parseHex32(val, &r.prev) {
				return errors.New("prev is not 64 lowercase hex digits")
			}
			have |= havePrev
		case keyEvent, keyTime, keyHost:
			if len(val) < 2 || val[0] != '"' {
				return fmt.Errorf("%s is not a string", key)
			}
			s := val[1 : len(val)-1]
			switch string(key) {
			case keyEvent:
				r.event, have = s, have|haveEvent
			case keyTime:
				r.time, have = s, have|haveTime
			default:
				r.host, have = s, have|haveHost
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if have != haveAll {
		for _, k := range []struct {
			bit  int
			name string
		}{{haveSeq, keySeq}, {haveHash, keyHash}, {havePrev, keyPrev}, {haveEvent, keyEvent}, {haveTime, keyTime}, {haveHost, keyHost}} {
			if have&k.bit == 0 {
				return fmt.Errorf("no %q field", k.name)
			}
		}
	}
	if len(r.event) == 0 {
		return errors.New("empty event")
	}
	return nil
}

// bodyHash returns the SHA-256 of the line without its hash member: the
// canonical form the hash is defined over.
func (r *lineRecord) bodyHash(line []byte) [32]byte {
	h := sha256.New()
	h.Write(line[:r.hashStart])
	h.Write(line[r.hashEnd:])
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func parseSeq(val []byte) (uint64, bool) {
	if len(val) == 0 || val[0] < '1' || val[0] > '9' {
		return 0, false
	}
	var n uint64
	for _, c := range val {
		if c < '0' || c > '9' || n > (math.MaxUint64-9)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// parseHex32 decodes a JSON string of 64 lowercase hex digits.
func parseHex32(val []byte, dst *[32]byte) bool {
	if len(val) != 66 || val[0] != '"' || val[65] != '"' {
		return false
	}
	for i := range 32 {
		hi, lo := unhex[val[1+2*i]], unhex[val[2+2*i]]
		if hi|lo == 0xff {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// unhex maps lowercase hex digits to their value and all else to 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
	}
	return t
}()
