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

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
)

// VerifyOptions says what Verify checks.
type VerifyOptions struct {
	Path     string // the log, as Options.Path
	StateDir string // checkpoint files; defaults to the directory of Path

	// PublicKey is the verifier key checkpoints must be signed with. If
	// empty it is derived from KeyFile (default StateDir/audit.key), and
	// the report says that the signatures were not checked against a
	// trusted key: an auditor should pass the key published when the log
	// started.
	PublicKey string
	KeyFile   string

	// Since is a signed checkpoint note kept off the host earlier: from
	// the journal, a central log host, or a copy of Log.CheckpointNote made
	// by a cron job. The log must still hold the tree it signs: at least
	// its size in records, the first of which have its root. That is what
	// detects a log cut back or rewritten together with its checkpoints,
	// as a Certificate Transparency client does with the last tree head it
	// saw. Its signature is checked with the same key as the log's.
	Since []byte
}

// Problem is one thing wrong with a log, or, in Report.Warnings, one thing
// a reader of the report should know.
type Problem struct {
	Where string // "segment:line", "checkpoints:line", "checkpoint" or "since"
	What  string
}

func (p Problem) String() string { return p.Where + ": " + p.What }

// maxIssues bounds Report.Issues and Report.Warnings; Problems still
// counts them all.
const maxIssues = 100

// Report is the outcome of Verify.
type Report struct {
	Segments       []string          // segment files read, in order
	Records        int64             // records read
	LastSeq        uint64            // seq of the last record
	Root           string            // base64 Merkle tree root over all records
	Events         map[string]uint64 // records per event
	Checkpoints    int               // entries in the checkpoints file
	LogCheckpoints int               // checkpoint records in the log

	// Signed is the number of records, from the first, that the latest
	// valid checkpoint signs (its own record included); the Unsigned
	// records after it are signed by no checkpoint yet.
	Signed, Unsigned int64

	Problems int       // problems found
	FirstBad string    // where the first problem is; log lines come first
	Issues   []Problem // the first problems: log lines, then checkpoints

	// Warnings are facts that are not problems but limit what the log
	// shows: records no checkpoint signs yet, and checkpoints that signed
	// records their writer had not written.
	Warnings []Problem

	// Unchecked says what Verify could not check with what it was given,
	// and what would let it: a trusted key, an outside checkpoint.
	Unchecked []string
}

// OK reports whether Verify found no problem. It says nothing of
// Warnings and Unchecked, which a caller should show.
func (r *Report) OK() bool { return r.Problems == 0 }

// Verify reads the whole log and its checkpoints and reports every problem
// it finds: a line that does not parse or is not canonical, a torn last
// line, seq not contiguous from 1 across segments, a prev that is not the
// previous hash, a hash that does not recompute; a checkpoint record whose
// signature does not verify with the key, whose fields disagree with its
// note, which does not sign exactly the records before it, whose root is
// not theirs, or whose time is before the previous one's; a log with
// records but no checkpoint at all; in the state files, which are copies,
// an entry whose signature does not verify, whose text disagrees with its
// entry, whose size exceeds the log (the tail was cut after it) or whose
// root is not the root of the log's first size records, an entry with a
// smaller size or earlier time than the one before it, and copies that are
// behind the log by more than an interrupted checkpoint leaves; and an
// outside checkpoint (Since) that is not signed by the key, or whose tree
// the log no longer holds. The state files need not be present.
//
// Besides problems the report lists warnings (records after the latest
// checkpoint, which nothing signs yet; checkpoints that signed records
// their writer did not write) and what was not checked (no trusted key,
// no outside checkpoint). The error is for failing to read, not for what
// was read.
func Verify(opts VerifyOptions) (*Report, error) {
	if opts.StateDir == "" {
		opts.StateDir = filepath.Dir(opts.Path)
	}
	if opts.KeyFile == "" {
		opts.KeyFile = filepath.Join(opts.StateDir, defaultKeyFile)
	}
	var cpData, latest []byte
	var cpErr, latestErr error
	snap, err := takeSnapshot(opts.Path, func() error {
		// Read under the lock so that no checkpoint is newer than the log.
		cpData, cpErr = os.ReadFile(filepath.Join(opts.StateDir, checkpointsFile))
		if cpErr != nil && !errors.Is(cpErr, fs.ErrNotExist) {
			return cpErr
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

	v := &verifier{rep: &Report{Segments: snap.names(), Events: make(map[string]uint64)},
		targets: make(map[int64][]target), locs: make(map[int64]string)}
	key := opts.PublicKey
	if key == "" {
		key, v.keyErr = PublicKey(opts.KeyFile)
	}
	if v.keyErr == nil {
		if v.nv, err = note.NewVerifier(key); err != nil {
			return nil, fmt.Errorf("verify audit log: verifier key: %w", err)
		}
	}
	v.haveCopies = cpErr == nil || latestErr == nil
	if v.haveCopies {
		if v.nv == nil {
			return nil, fmt.Errorf("verify audit log: no verifier key: %w", v.keyErr)
		}
		v.checkCheckpoints(cpData, latest, latestErr == nil)
	}
	if len(opts.Since) > 0 {
		if v.nv == nil {
			return nil, fmt.Errorf("verify audit log: no verifier key for the outside checkpoint: %w", v.keyErr)
		}
		v.checkSince(opts.Since)
	}
	if err := snap.each(v.line); err != nil {
		return nil, fmt.Errorf("verify audit log: %w", err)
	}
	if v.needKey && v.nv == nil {
		return nil, fmt.Errorf("verify audit log: no verifier key: %w", v.keyErr)
	}
	v.finish()
	if v.rep.Records > 0 {
		if opts.PublicKey == "" {
			v.rep.Unchecked = append(v.rep.Unchecked, fmt.Sprintf("no trusted key: the signatures were checked with the key derived from %s, "+
				"which anyone who can write that file can replace; give the key published when the log started", opts.KeyFile))
		}
		if len(opts.Since) == 0 {
			v.rep.Unchecked = append(v.rep.Unchecked, "no outside checkpoint: a log cut back, or rewritten, together with its checkpoints "+
				"would pass; give a signed checkpoint kept off the host")
		}
	}
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

	nv      note.Verifier // nil if there is no key
	keyErr  error         // why nv is nil
	needKey bool          // a checkpoint record was not checked for want of nv

	lineProblems, cpProblems []Problem
	nProblems                int
	warnings                 []Problem

	targets map[int64][]target // from the state files and Since, by size
	maxCp   *target
	since   *target

	// The checkpoint files, compared with the log's checkpoints at the
	// end.
	haveCopies, haveLatest bool
	latest, lastEntry      []byte

	// The log's checkpoint records: the last two notes, the last valid
	// one's time, and the tree size through the last valid one's record.
	logNote, prevLogNote []byte
	logTime              time.Time
	logEnd               int64

	signed int64            // records signed by the latest valid checkpoint
	locs   map[int64]string // where record k is, for k just after a checkpoint

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

func (v *verifier) warn(where, format string, args ...any) {
	if len(v.warnings) < maxIssues {
		v.warnings = append(v.warnings, Problem{Where: where, What: fmt.Sprintf(format, args...)})
	}
}

// checkCheckpoints checks the entries of the checkpoints file and notes
// them as targets; the checkpoint file is compared with the log's
// checkpoints at the end.
func (v *verifier) checkCheckpoints(data, latest []byte, haveLatest bool) {
	var prev *treeHead
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
		v.lastEntry = []byte(e.Note)
		cp, err := openCheckpoint([]byte(e.Note), v.nv)
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
	v.haveLatest = haveLatest
	if haveLatest {
		v.latest = latest
	}
}

// checkSince checks the outside checkpoint's signature and notes it as a
// target.
func (v *verifier) checkSince(msg []byte) {
	cp, err := openCheckpoint(msg, v.nv)
	if err != nil {
		v.problem(true, "since", "%v", err)
		return
	}
	t := target{where: "since", size: cp.Size, root: cp.Root}
	v.targets[cp.Size] = append(v.targets[cp.Size], t)
	v.since = &t
}

// checkRecord checks a checkpoint record, the current line, against the
// records before it and reports whether it is valid.
func (v *verifier) checkRecord(line []byte) bool {
	v.rep.LogCheckpoints++
	f, _, err := parseCheckpointRecord(line)
	if err != nil {
		v.lineProblem("%v", err)
		return false
	}
	v.prevLogNote, v.logNote = v.logNote, []byte(*f.Note)
	ok := true
	if *f.Size != v.tree.n {
		v.lineProblem("checkpoint record signs %d records, but %d come before it", *f.Size, v.tree.n)
		ok = false
	}
	if v.nv == nil {
		v.needKey = true
		return false
	}
	cp, err := openCheckpoint([]byte(*f.Note), v.nv)
	if err != nil {
		v.lineProblem("%v", err)
		return false
	}
	root := base64.StdEncoding.EncodeToString(cp.Root[:])
	if cp.Size != *f.Size || root != *f.Root {
		v.lineProblem("checkpoint record (size %d, root %s) disagrees with its signed note (size %d, root %s)", *f.Size, *f.Root, cp.Size, root)
		ok = false
	}
	if cp.Size == v.tree.n {
		if r := v.tree.root(); r != cp.Root {
			v.lineProblem("checkpoint root %s is not the root %s of the first %d records", root, base64.StdEncoding.EncodeToString(r[:]), cp.Size)
			ok = false
		}
	}
	if cp.Time.Before(v.logTime) {
		v.lineProblem("checkpoint rolled back: time %s after %s", cp.Time.Format(TimeLayout), v.logTime.Format(TimeLayout))
		ok = false
	}
	if f.Unattested > 0 {
		v.warn(v.seg+":"+strconv.Itoa(v.n), "checkpoint signs %d %s from seq %d on that its writer did not write, "+
			"with no other writer open: a writer died before signing them, or they were written outside gwwatchd",
			f.Unattested, plural(f.Unattested, "record", "records"), f.UnattestedFrom)
	}
	if ok {
		v.logTime = cp.Time
	}
	return ok
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
	valid := string(lr.event) == eventCheckpoint && v.checkRecord(line)
	v.tree.add(leafHash(lr.hash))
	if _, ok := v.targets[v.tree.n-1]; ok || v.tree.n-1 == v.logEnd {
		v.locs[v.tree.n] = v.seg + ":" + strconv.Itoa(v.n)
	}
	if valid {
		v.logEnd = v.tree.n
		v.signed = max(v.signed, v.tree.n)
	}
	for _, t := range v.targets[v.tree.n] {
		if root := v.tree.root(); root != t.root {
			v.problem(true, t.where, "root %s is not the root %s of the first %d records",
				base64.StdEncoding.EncodeToString(t.root[:]), base64.StdEncoding.EncodeToString(root[:]), t.size)
		} else {
			v.signed = max(v.signed, t.size)
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
	quoted := canonjson.AppendString(nil, event)
	lr.seq, lr.event = n, quoted[1:len(quoted)-1]
	delete(m, keyHash)
	canon, err := canonjson.Marshal(m)
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
		r.Events[canonjson.Unquote([]byte(k))] += *c
	}
	if t := v.maxCp; t != nil && t.size > v.tree.n {
		v.problem(true, t.where, "covers %d records but the log has %d: records were removed after it", t.size, v.tree.n)
	}
	if t := v.since; t != nil && t.size > v.tree.n {
		v.problem(true, t.where, "covers %d records but the log has %d: it was cut back", t.size, v.tree.n)
	}
	if v.haveCopies {
		v.checkCopies()
	}
	r.Signed = v.signed
	r.Unsigned = max(0, r.Records-v.signed)
	switch {
	case r.Records > 0 && r.LogCheckpoints == 0 && r.Checkpoints == 0:
		v.problem(false, v.locs[1], "no checkpoint: none of its %d records is signed (its checkpoints were removed, or its writer died before the first)", r.Records)
	case r.Unsigned > 0:
		v.warn(v.locs[v.signed+1], "%d %s after the latest checkpoint (seq %d to %d) %s not signed: the next checkpoint signs %s, "+
			"saying so if no writer that has the log open wrote %s", r.Unsigned, plural(r.Unsigned, "record", "records"), v.signed+1, r.Records,
			plural(r.Unsigned, "is", "are"), plural(r.Unsigned, "it", "them"), plural(r.Unsigned, "it", "them"))
	}
	r.Problems = v.nProblems
	r.Issues = append(v.lineProblems, v.cpProblems...)
	if len(r.Issues) > 0 {
		r.FirstBad = r.Issues[0].Where
	}
	r.Warnings = v.warnings
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkCopies compares the checkpoint files with the log. They are
// copies of the log's checkpoints, written after the record: first the
// checkpoint file, then the entry of the checkpoints file. So after an
// interrupted checkpoint both may still be at the checkpoint before the
// log's last, or the checkpoint file at the last and the checkpoints file
// at the one before; anything else was put there. A log without
// checkpoint records has its checkpoints only in the files, and the
// checkpoint file must be their last entry.
func (v *verifier) checkCopies() {
	same := func(a, b []byte) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		return bytes.Equal(a, b)
	}
	latest, last := v.latest, v.lastEntry
	if v.rep.LogCheckpoints > 0 {
		ck, before := v.logNote, v.prevLogNote
		if same(last, ck) && same(latest, ck) || same(last, before) && (same(latest, before) || same(latest, ck)) {
			return
		}
	} else if same(latest, last) {
		return
	}
	switch {
	case v.haveLatest && !same(latest, last):
		if _, err := openCheckpoint(latest, v.nv); err != nil {
			v.problem(true, latestFile, "%v", err)
		} else if last == nil {
			v.problem(true, latestFile, "present, but %s has no entry", checkpointsFile)
		} else {
			v.problem(true, latestFile, "is not the last entry of %s", checkpointsFile)
		}
	case !v.haveLatest:
		v.problem(true, latestFile, "missing, but %s has %d entries", checkpointsFile, v.rep.Checkpoints)
	default:
		v.problem(true, checkpointsFile, "its last entry is neither the log's last checkpoint nor the one before: entries were removed or put back")
	}
}
