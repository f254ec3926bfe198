package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
)

// Names of the common fields, set by the log on every record.
const (
	keySeq   = "seq"
	keyTime  = "time"
	keyEvent = "event"
	keyHost  = "host"
	keyPrev  = "prev"
	keyHash  = "hash"
)

// TimeLayout is the layout of the "time" field and of checkpoint times:
// RFC 3339 in UTC with all nine fraction digits, so times sort as text.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// zeroHash is the "prev" of record 1.
const zeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Record is one audit record as read back from the log.
type Record struct {
	Seq   uint64
	Time  time.Time
	Event string
	Host  string
	Prev  string // lowercase hex SHA-256 of the previous record
	Hash  string // lowercase hex SHA-256 of this record's canonical form without "hash"

	// Fields holds the event fields as they stand, to show them: decoded
	// by encoding/json with UseNumber, numbers are json.Number, keeping
	// the digits as written, objects map[string]any and arrays []any.
	// Decode gives them typed.
	Fields map[string]any

	line []byte
}

// Decode returns the event fields of r as the record type of its event:
// Archived for "archived", and so on. An event this version does not know
// is an error.
func (r *Record) Decode() (Event, error) {
	if r.line == nil {
		return nil, fmt.Errorf("audit record %d: not read from a log", r.Seq)
	}
	e, err := decodeEvent(r.Event, r.line)
	if err != nil {
		return nil, fmt.Errorf("audit record %d: %w", r.Seq, err)
	}
	return e, nil
}

// As returns the event fields of rec as the record type T, if rec is a
// record of T's event that decodes.
func As[T Event](rec Record) (T, bool) {
	var zero T
	if rec.Event != zero.EventName() {
		return zero, false
	}
	e, err := rec.Decode()
	t, ok := e.(T)
	return t, err == nil && ok
}

// isCommon reports whether key is set by the log rather than the caller.
func isCommon(key string) bool {
	switch key {
	case keySeq, keyTime, keyEvent, keyHost, keyPrev, keyHash:
		return true
	}
	return false
}

// commonKeys are the common members other than "hash", sorted.
var commonKeys = []string{keyEvent, keyHost, keyPrev, keySeq, keyTime}

// header holds the common fields of a record being written.
type header struct {
	seq   uint64
	time  string
	event string
	host  string
	prev  [32]byte
}

// ErrInvalidField is wrapped by the errors for event names and fields the
// log cannot hold, so that callers can tell them from I/O failures.
var ErrInvalidField = errors.New("invalid audit field")

// eventMembers checks the event name and encodes the event fields, a
// record type or a map, before the log is locked.
func eventMembers(event string, fields any) ([]canonjson.Member, error) {
	if event == "" {
		return nil, fmt.Errorf("empty event name: %w", ErrInvalidField)
	}
	ms, err := canonjson.Members(fields)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalidField)
	}
	for _, m := range ms {
		if isCommon(m.Key) {
			return nil, fmt.Errorf("field %s: reserved for the log: %w", m.Key, ErrInvalidField)
		}
	}
	return ms, nil
}

// encodeRecord returns the line for a record (ending in "\n") and its hash.
// fields are the encoded event fields, sorted, from eventMembers. The
// canonical form without "hash" is built first and hashed; the hash member
// is then spliced in where its key sorts, which gives the canonical form
// with it.
func encodeRecord(h *header, fields []canonjson.Member) (line []byte, sum [32]byte) {
	buf := make([]byte, 0, 512)
	buf = append(buf, '{')
	hashAt := -1
	ci, fi := 0, 0
	for ci < len(commonKeys) || fi < len(fields) {
		var k string
		common := false
		if fi == len(fields) || (ci < len(commonKeys) && commonKeys[ci] < fields[fi].Key) {
			k, common = commonKeys[ci], true
		} else {
			k = fields[fi].Key
		}
		if hashAt < 0 && k > keyHash {
			hashAt = len(buf)
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = canonjson.AppendString(buf, k)
		buf = append(buf, ':')
		if !common {
			buf = append(buf, fields[fi].Value...)
			fi++
			continue
		}
		ci++
		switch k {
		case keyEvent:
			buf = canonjson.AppendString(buf, h.event)
		case keyHost:
			buf = canonjson.AppendString(buf, h.host)
		case keyPrev:
			buf = appendHexString(buf, h.prev[:])
		case keySeq:
			buf = strconv.AppendUint(buf, h.seq, 10)
		case keyTime:
			buf = canonjson.AppendString(buf, h.time)
		}
	}
	buf = append(buf, '}')
	sum = sha256.Sum256(buf)
	// "event" always sorts before "hash" and "host" after it, so the hash
	// member, with its leading comma, goes right after the last member whose
	// key sorts before "hash".
	const member = `,"hash":"`
	line = make([]byte, 0, len(buf)+len(member)+64+2)
	line = append(line, buf[:hashAt]...)
	line = append(line, member...)
	line = hex.AppendEncode(line, sum[:])
	line = append(line, '"')
	line = append(line, buf[hashAt:]...)
	line = append(line, '\n')
	return line, sum
}

func appendHexString(b, h []byte) []byte {
	b = append(b, '"')
	b = hex.AppendEncode(b, h)
	return append(b, '"')
}

// decodeRecord parses one line (without its newline) into a Record. It
// checks the canonical form and the common fields but not the hash.
func decodeRecord(line []byte) (Record, error) {
	var lr lineRecord
	if err := parseRecordLine(line, &lr); err != nil {
		return Record{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, string(lr.time))
	if err != nil {
		return Record{}, fmt.Errorf("time %q: %w", lr.time, err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Record{}, err
	}
	for _, k := range commonKeys {
		delete(m, k)
	}
	delete(m, keyHash)
	return Record{
		Seq:    lr.seq,
		Time:   t,
		Event:  canonjson.Unquote(lr.event),
		Host:   canonjson.Unquote(lr.host),
		Prev:   hex.EncodeToString(lr.prev[:]),
		Hash:   hex.EncodeToString(lr.hash[:]),
		Fields: m,
		line:   bytes.Clone(line),
	}, nil
}
