package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyOptions says what Verify checks.
type VerifyOptions struct {
	Path     string // the log, as Options.Path
	StateDir string // checkpoints; defaults to the directory of Path

	// PublicKey is the verifier key checkpoints must be signed with. If
	// empty it is derived from KeyFile (default StateDir/audit.key); an
	// auditor should rather pass the key published when the log started.
	PublicKey string
	KeyFile   string
}

// Problem is one thing wrong with a log.
type Problem struct {
	Where string // "segment:line", "checkpoints:line" or "checkpoint"
	What  string
}

func (p Problem) String() string { return p.Where + ": " + p.What }

// maxIssues bounds Report.Issues; Problems still counts them all.
const maxIssues = 100

// Report is the outcome of Verify.
type Report struct {
	Segments    []string          // segment files read, in order
	Records     int64             // records read
	LastSeq     uint64            // seq of the last record
	Root        string            // base64 Merkle tree root over all records
	Events      map[string]uint64 // records per event
	Checkpoints int               // entries in the checkpoints file

	Problems int       // problems found
	FirstBad string    // where the first problem is; log lines come first
	Issues   []Problem // the first problems: log lines, then checkpoints
}

// OK reports whether Verify found no problem.
func (r *Report) OK() bool { return r.Problems == 0 }

// Verify reads the whole log and its checkpoints and reports every problem
// it finds: a line that does not parse or is not canonical, a torn last
// line, seq not contiguous from 1 across segments, a prev that is not the
// previous hash, a hash that does not recompute; a checkpoint whose
// signature does not verify with the key, whose text disagrees with its
// entry, whose size exceeds the log (the tail was cut after it) or whose
// root is not the root of the log's first size records, a checkpoint with a
// smaller size or earlier time than the one before it, and a checkpoint
// file that is not the last entry. The error is for failing to read, not
// for what was read.
func Verify(opts VerifyOptions) (*Report, error) {
	if opts.StateDir == "" {
		opts.StateDir = filepath.Dir(opts.Path)
	}
	if opts.KeyFile == "" {
		opts.KeyFile = filepath.Join(opts.StateDir, defaultKeyFile)
	}
	var cpData, latest []byte
	var latestErr error
	snap, err := takeSnapshot(opts.Path, func() error {
		// Read under the lock so that no checkpoint is newer than the log.
		var err error
		cpData, err = os.ReadFile(filepath.Join(opts.StateDir, checkpointsFile))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		latest, latestErr = os.ReadFile(filepath.Join(opts.StateDir, latestFile))
		if latestErr != nil && !errors.Is(latestErr, fs.ErrNotExist) {
			return latestErr
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify audit log: %w", err)
	}
	defer snap.close()

	v := &verifier{rep: &Report{Segments: snap.names(), Events: make(map[string]uint64)}}
	if len(cpData) > 0 || latestErr == nil {
		key := opts.PublicKey
		if key == "" {
			if key, err = PublicKey(opts.KeyFile); err != nil {
				return nil, fmt.Errorf("verify audit log: no verifier key: %w", err)
			}
		}
		nv, err := note.NewVerifier(key)
		if err != nil {
			return nil, fmt.Errorf("verify audit log: verifier key: %w", err)
		}
		v.checkCheckpoints(cpData, latest, latestErr == nil, nv)
	}
	if err := snap.each(v.line); err != nil {
		return nil, fmt.Errorf("verify audit log: %w", err)
	}
	v.finish()
	return v.rep, nil
}

// target is a checkpoint whose root is compared once the replay reaches
// its size.
type target struct {
	where string
	size  int64
	root  tlog.Hash
}

type verifier struct {
	rep *Report

	lineProblems, cpProblems []Problem
	nProblems                int

	targets map[int64][]target
	maxCp   *target

	tree   frontier
	expect uint64   // next seq
	prev   [32]byte // hash of the previous record
	resync bool     // the previous line did not parse: take the next as it is
	seg    string   // the current line's segment and number
	n      int
	events map[string]*uint64
}

// lineProblem records a problem with the current line.
func (v *verifier) lineProblem(format string, args ...any) {
	v.problem(false, v.seg+":"+strconv.Itoa(v.n), format, args...)
}

func (v *verifier) problem(cp bool, where, format string, args ...any) {
	v.nProblems++
	if v.nProblems > maxIssues {
		return
	}
	p := Problem{Where: where, What: fmt.Sprintf(format, args...)}
	if cp {
		v.cpProblems = append(v.cpProblems, p)
	} else {
		v.lineProblems = append(v.lineProblems, p)
	}
}

func (v *verifier) checkCheckpoints(data, latest []byte, haveLatest bool, nv note.Verifier) {
	v.targets = make(map[int64][]target)
	var prev *Checkpoint
	var lastNote []byte
	n := 0
	for len(data) > 0 {
		n++
		where := checkpointsFile + ":" + strconv.Itoa(n)
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
			v.problem(true, where, "torn last line (no newline)")
			continue
		}
		v.rep.Checkpoints++
		var e checkpointEntry
		if err := json.Unmarshal(line, &e); err != nil {
			v.problem(true, where, "does not parse: %v", err)
			continue
		}
		lastNote = []byte(e.Note)
		cp, err := openCheckpoint([]byte(e.Note), nv)
		if err != nil {
			v.problem(true, where, "%v", err)
			continue
		}
		root := base64.StdEncoding.EncodeToString(cp.Root[:])
		et, _ := time.Parse(time.RFC3339Nano, e.Time)
		if e.Size != cp.Size || e.Root != root || !et.Equal(cp.Time) {
			v.problem(true, where, "entry (size %d, root %s, time %s) disagrees with its signed note (size %d, root %s, time %s)",
				e.Size, e.Root, e.Time, cp.Size, root, cp.Time.Format(TimeLayout))
		}
		if prev != nil {
			if cp.Size < prev.Size {
				v.problem(true, where, "rolled back: size %d after %d", cp.Size, prev.Size)
			}
			if cp.Time.Before(prev.Time) {
				v.problem(true, where, "rolled back: time %s after %s", cp.Time.Format(TimeLayout), prev.Time.Format(TimeLayout))
			}
		}
		t := target{where: where, size: cp.Size, root: cp.Root}
		v.targets[cp.Size] = append(v.targets[cp.Size], t)
		if v.maxCp == nil || t.size > v.maxCp.size {
			v.maxCp = &t
		}
		prev = &cp
	}
	switch {
	case !haveLatest && n > 0:
		v.problem(true, latestFile, "missing, but %s has %d entries", checkpointsFile, n)
	case haveLatest && lastNote == nil:
		v.problem(true, latestFile, "present, but %s has no entry", checkpointsFile)
	case haveLatest && !bytes.Equal(latest, lastNote):
		if _, err := openCheckpoint(latest, nv); err != nil {
			v.problem(true, latestFile, "%v", err)
		} else {
			v.problem(true, latestFile, "is not the last entry of %s", checkpointsFile)
		}
	}
}

// line checks one line of the log.
func (v *verifier) line(seg string, n int, _ int64, line []byte, complete bool) error {
	v.seg, v.n = seg, n
	if !complete {
		v.lineProblem("torn last line: %d bytes without a newline", len(line))
		return nil
	}
	var lr lineRecord
	var body [32]byte
	if err := parseRecordLine(line, &lr); err == nil {
		body = lr.bodyHash(line)
	} else {
		var ok bool
		body, ok = lenientRecord(line, &lr)
		if !ok {
			v.lineProblem("not an audit record: %v", err)
			v.resync = true
			return nil
		}
		v.lineProblem("not in canonical form: %v", err)
	}
	if body != lr.hash {
		v.lineProblem("hash %x does not match the record, whose hash is %x", lr.hash, body)
	}
	if !v.resync {
		if v.tree.n == 0 {
			v.expect = 1
		}
		if lr.seq != v.expect {
			v.lineProblem("seq %d, want %d", lr.seq, v.expect)
		}
		if lr.prev != v.prev {
			v.lineProblem("prev %x is not the hash of the previous record", lr.prev)
		}
	}
	v.resync = false
	v.expect, v.prev = lr.seq+1, lr.hash
	v.rep.Records++
	v.rep.LastSeq = lr.seq
	v.countEvent(lr.event)
	v.tree.add(leafHash(lr.hash))
	for _, t := range v.targets[v.tree.n] {
		if root := v.tree.root(); root != t.root {
			v.problem(true, t.where, "root %s is not the root %s of the first %d records",
				base64.StdEncoding.EncodeToString(t.root[:]), base64.StdEncoding.EncodeToString(root[:]), t.size)
		}
	}
	return nil
}

func (v *verifier) countEvent(raw []byte) {
	if v.events == nil {
		v.events = make(map[string]*uint64)
	}
	c := v.events[string(raw)]
	if c == nil {
		c = new(uint64)
		v.events[string(raw)] = c
	}
	*c++
}

// lenientRecord reads a record that is valid JSON but not canonical, so that the
// hash and chain can still be checked the way a Python checker would: by
// decoding it and hashing the canonical form of what it holds.
func lenientRecord(line []byte, lr *lineRecord) (body [32]byte, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || dec.More() {
		return body, false
	}
	seq, _ := m[keySeq].(json.Number)
	hash, _ := m[keyHash].(string)
	prev, _ := m[keyPrev].(string)
	event, _ := m[keyEvent].(string)
	n, err := strconv.ParseUint(string(seq), 10, 64)
	if err != nil || !hexTo32(hash, &lr.hash) || !hexTo32(prev, &lr.prev) {
		return body, false
	}
	quoted := appendString(nil, event)
	lr.seq, lr.event = n, quoted[1:len(quoted)-1]
	delete(m, keyHash)
	canon, err := Canonical(m)
	if err != nil {
		// Not representable, so not what any writer hashed.
		return sha256.Sum256(nil), true
	}
	return sha256.Sum256(canon), true
}

func (v *verifier) finish() {
	r := v.rep
	root := v.tree.root()
	r.Root = base64.StdEncoding.EncodeToString(root[:])
	for k, c := range v.events {
		r.Events[unquote([]byte(k))] += *c
	}
	if t := v.maxCp; t != nil && t.size > v.tree.n {
		v.problem(true, t.where, "covers %d records but the log has %d: records were removed after it", t.size, v.tree.n)
	}
	r.Problems = v.nProblems
	r.Issues = append(v.lineProblems, v.cpProblems...)
	if len(r.Issues) > 0 {
		r.FirstBad = r.Issues[0].Where
	}
}
