package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/mod/sumdb/note"

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
	"github.com/gwwatchd/gwwatchd/internal/durable"
)

// Defaults for Options fields left zero.
const (
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = 5 * time.Minute
)

// errClosed is returned by the methods of a Log after Close, and by Append
// after a failed sync made the log's state on disk unknown.
var errClosed = errors.New("audit log closed")

// Errors of Open that say the log, or its key, is not what the state says
// it was. Their messages say how to proceed.
var (
	// errLogMissing: the log has fewer records than the state directory
	// says it had, or none.
	errLogMissing = errors.New("audit log missing or cut back")
	// errKeyMissing: the signing key is gone but the log exists.
	errKeyMissing = errors.New("audit signing key missing")
	// errWrongKey: the signing key did not sign the log's last checkpoint.
	errWrongKey = errors.New("audit signing key is not the log's")
)

// Options configures Open.
type Options struct {
	// Path is the active segment. Rotated segments are Path.1, Path.2, …
	// and writers serialise on the lock file Path.lock.
	Path string

	// MaxSize rotates the active segment once an append takes it past
	// this many bytes; 0 never rotates.
	MaxSize int64

	// KeyFile holds the Ed25519 signer key for checkpoints, created with
	// mode 0600 if it does not exist. It defaults to StateDir/audit.key;
	// keep it away from the log's directory where possible, since whoever
	// can read it can sign checkpoints.
	KeyFile string

	// StateDir holds the checkpoints file, the latest checkpoint and the
	// writer's saved Merkle frontier. It defaults to the directory of Path
	// and must not be shared with another log.
	StateDir string

	// CheckpointEvery writes a checkpoint once this many records follow the
	// last one; 0 means DefaultCheckpointEvery, negative never.
	CheckpointEvery int

	// CheckpointInterval writes a checkpoint at the first append (or
	// MaybeCheckpoint) this long after the last one; 0 means
	// DefaultCheckpointInterval, negative never.
	CheckpointInterval time.Duration

	// Host is the "host" of every record; it defaults to os.Hostname.
	Host string

	// Logger receives checkpoints and repairs, so that the journal keeps a
	// copy outside the log; nil discards them.
	Logger *zap.Logger

	// Now is the clock; it defaults to time.Now.
	Now func() time.Time
}

// Log appends records to an audit log. It is safe for concurrent use by
// goroutines, and by processes that open the same Path: every append takes
// an exclusive lock on Path.lock and first reads what other writers
// appended since, so that all of them extend one chain.
type Log struct {
	mu     sync.Mutex
	opts   Options
	logger *zap.Logger
	lockf  *os.File

	f    *os.File // active segment, opened for appending
	fSeg int      // the segment number f was opened as
	pos  position // end of the last record known

	seq  uint64
	last [32]byte // hash of the last record
	tree frontier

	wlock *os.File // Path.writers, held shared while the Log is open

	signer   note.Signer
	verifier note.Verifier

	// The last checkpoint known: the tree size it signs, its time and
	// note, and ckEnd, the tree size once its record is added (for a
	// checkpoint only in the state files, its size).
	ckSize int64
	ckEnd  int64
	ckTime time.Time
	ckNote []byte

	// foreign counts the records after the last checkpoint that this Log
	// did not write; firstForeign is the seq of the first.
	foreign      int64
	firstForeign uint64

	// While Open reads the log, a torn tail is noted in cut (-1: none)
	// and cutSize rather than repaired.
	deferRepair  bool
	cut, cutSize int64

	err    error // set when the state on disk is unknown
	closed bool

	// The group commit (see commit): the records waiting for the next
	// group, and whether a goroutine is writing one.
	qmu     sync.Mutex
	queue   []*request
	leading bool

	// syncHook, when not nil, fsyncs the active segment in place of
	// File.Sync: tests fail or delay the fsync with it.
	syncHook func(*os.File) error
}

// position is a place in the log: a segment, named by the number it has
// or will have once rotated, and an offset in it.
type position struct {
	seg int
	off int64
}

// Open opens the audit log at opts.Path for appending, creating it and its
// directories (mode 0750) if needed. Under the lock it loads the signing
// key, creating it only for a new log, rebuilds the Merkle frontier (from
// the saved state if it still matches the log, else by reading every
// segment), and repairs a torn tail of the active segment: the bytes after
// the last good record are cut off and a "repaired" record says how many.
// If records follow the last checkpoint and no other writer has the log
// open, they were left by a writer that died (or written outside
// gwwatchd): Open signs them at once in a checkpoint whose unattested
// field says how many there are.
//
// Open refuses, with an error saying how to proceed, a log that has fewer
// records than the state directory says it had, a log that exists without
// its key, and a key that did not sign the log's last checkpoint. It fails
// if a record before the tail does not parse; Verify tells what is wrong.
// The caller must Close the Log.
func Open(opts Options) (*Log, error) {
	if opts.Path == "" {
		return nil, errors.New("open audit log: no path")
	}
	if opts.StateDir == "" {
		opts.StateDir = filepath.Dir(opts.Path)
	}
	if opts.KeyFile == "" {
		opts.KeyFile = filepath.Join(opts.StateDir, defaultKeyFile)
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.Host == "" {
		h, err := os.Hostname()
		if err != nil {
			h = "unknown"
		}
		opts.Host = h
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, dir := range []string{filepath.Dir(opts.Path), opts.StateDir} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open audit log: %w", err)
		}
	}
	lockf, err := os.OpenFile(opts.Path+".lock", os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l := &Log{opts: opts, logger: opts.Logger.With(zap.String("audit_log", opts.Path)), lockf: lockf, cut: -1}
	if err := l.locked(l.open); err != nil {
		l.closeFiles()
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return l, nil
}

func (l *Log) open() error {
	said, err := stateSays(l.opts.StateDir)
	if err != nil {
		return err
	}
	l.removeStaleTemps()
	exists, err := logExists(l.opts.Path)
	if err != nil {
		return err
	}
	if !exists && said.size > 0 {
		return fmt.Errorf("%w: %s has no records, but %s says the log had %d; "+
			"restore the log, every segment, from a backup, or to start a new log deliberately, "+
			"move %s, %s and %s out of %s (and keep them: they show what the old log held)",
			errLogMissing, l.opts.Path, said.file, said.size, checkpointsFile, latestFile, stateFile, l.opts.StateDir)
	}
	if err := l.loadKey(exists, said); err != nil {
		return err
	}
	wlock, err := os.OpenFile(l.opts.Path+".writers", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	l.wlock = wlock
	if err := flock(l.wlock, lockShared); err != nil {
		return err
	}

	// Read the log without repairing it yet: a log that must not be
	// written to gets no "repaired" record.
	l.deferRepair = true
	if !l.loadState() {
		if err := l.scanRotated(); err != nil {
			return err
		}
	}
	err = l.catchUp()
	l.deferRepair = false
	if err != nil {
		return err
	}
	if said.size > l.tree.n {
		return fmt.Errorf("%w: %s has %d records, but %s says the log had %d: it was cut back or replaced; "+
			"restore the log, every segment, from a backup, or to start a new log deliberately, "+
			"move %s, %s and %s out of %s (and keep them: they show what the old log held)",
			errLogMissing, l.opts.Path, l.tree.n, said.file, said.size, checkpointsFile, latestFile, stateFile, l.opts.StateDir)
	}
	if said.legacy != nil && said.legacy.Size > l.ckSize {
		// A log written before checkpoints were recorded in it: the last
		// checkpoint is only in the state files.
		l.ckEnd, l.ckSize, l.ckNote = said.legacy.Size, said.legacy.Size, []byte(said.legacy.Note)
		l.ckTime, _ = time.Parse(time.RFC3339Nano, said.legacy.Time)
		l.foreign, l.firstForeign = l.tree.n-l.ckEnd, 0
		if l.foreign > 0 {
			l.firstForeign = uint64(l.ckEnd) + 1
		}
	}
	if l.ckNote != nil {
		if _, err := openCheckpoint(l.ckNote, l.verifier); err != nil {
			return fmt.Errorf("%w: the key in %s did not sign the log's last checkpoint (size %d): %w; "+
				"restore the key that did, or to start a new log deliberately, give it a new path and state directory",
				errWrongKey, l.opts.KeyFile, l.ckSize, err)
		}
	}
	if l.cut >= 0 {
		if err := l.repair(l.cut, l.cutSize); err != nil {
			return err
		}
	}
	if l.ckNote != nil && l.ckEnd > l.ckSize {
		if err := writeCopies(l.opts.StateDir, l.ckNote); err != nil {
			l.logger.Warn("audit: cannot bring the checkpoint files up to the log", zap.Error(err))
		}
	}
	// Records after the last checkpoint that no open writer will sign
	// were left by a writer that died, or written outside gwwatchd: sign
	// them now, saying so, rather than in a later checkpoint as if this
	// writer had written them.
	if l.foreign > 0 {
		alone, err := l.alone()
		if err != nil {
			return err
		}
		if alone {
			return l.checkpoint()
		}
	}
	return nil
}

// loadKey reads the signing key, or creates it for a new log. A key is
// never created for a log that exists, or that the state says existed:
// it would sign whatever the log holds now.
func (l *Log) loadKey(exists bool, said stateClaim) error {
	skey, err := readKey(l.opts.KeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		switch {
		case exists:
			return fmt.Errorf("%w: %s does not exist, but the log %s does; restore the key file from its backup "+
				"(a new key cannot sign for the records the old one signed), or to start a new log deliberately, "+
				"give it a new path and state directory", errKeyMissing, l.opts.KeyFile, l.opts.Path)
		case said.size > 0:
			return fmt.Errorf("%w: %s does not exist, but %s says a log of %d records existed; restore the key file from its backup",
				errKeyMissing, l.opts.KeyFile, said.file, said.size)
		}
		skey, err = createKey(l.opts.KeyFile, keyName(l.opts.Host))
	}
	if err != nil {
		return err
	}
	l.signer, l.verifier, err = newSigner(l.opts.KeyFile, skey)
	return err
}

// stateClaim is what the state directory says about the log: the most
// records a state file says it had, which file says so, and the last
// entry of the checkpoints file.
type stateClaim struct {
	size   int64
	file   string
	legacy *checkpointEntry
}

func stateSays(stateDir string) (stateClaim, error) {
	var c stateClaim
	claim := func(size int64, name string) {
		if size > c.size {
			c.size, c.file = size, filepath.Join(stateDir, name)
		}
	}
	last, err := readLastCheckpoint(stateDir)
	if err != nil {
		return c, err
	}
	if last != nil {
		c.legacy = last
		claim(last.Size, checkpointsFile)
	}
	if msg, err := os.ReadFile(filepath.Join(stateDir, latestFile)); err == nil {
		if text, err := noteText(msg); err == nil {
			if cp, err := parseCheckpoint(text); err == nil {
				claim(cp.Size, latestFile)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return c, err
	}
	if b, err := os.ReadFile(filepath.Join(stateDir, stateFile)); err == nil {
		var st treeState
		if json.Unmarshal(b, &st) == nil {
			claim(st.Size, stateFile)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return c, err
	}
	return c, nil
}

// logExists reports whether any segment of the log at path holds data.
func logExists(path string) (bool, error) {
	segs, err := Segments(path)
	if err != nil {
		return false, err
	}
	for _, seg := range segs {
		fi, err := os.Stat(seg)
		if err != nil {
			return false, err
		}
		if fi.Size() > 0 {
			return true, nil
		}
	}
	return false, nil
}

// locked runs fn holding the exclusive lock that serialises writers.
func (l *Log) locked(fn func() error) error {
	if err := flock(l.lockf, lockExclusive); err != nil {
		return err
	}
	err := fn()
	if uerr := flock(l.lockf, lockRelease); err == nil {
		err = uerr
	}
	return err
}

// Append writes one record of the event e and returns it as Scan would
// read it back. The record is on disk (written and fsynced) before Append
// returns. e is one of the record types of this package; "repaired" and
// "checkpoint" records are the log's own.
//
// Appends from several goroutines at once are committed in groups: the
// records that arrive while one fsync runs are written together after
// it, in the order they arrived, and made durable by one fsync (see
// commit). Each Append still returns only once its own record is on disk,
// and a failed write or fsync fails every record of its group.
//
// A rotation or checkpoint that fails after the record is durable is
// logged and retried on the next append rather than returned.
func (l *Log) Append(e Event) (Record, error) {
	return l.appendEvent(e, nil)
}

// appendEvent is Append that, when durable is not nil, calls it with the
// record once the record is on disk and before Append returns. The calls
// for the records of one Log come one at a time and in log order, so
// that whatever durable keeps (Indexed's index) follows the log.
func (l *Log) appendEvent(e Event, durable func(Record)) (Record, error) {
	if err := checkEvent(e); err != nil {
		return Record{}, fmt.Errorf("audit append %s: %w", e.EventName(), err)
	}
	return l.appendMembers(e.EventName(), e, durable)
}

// appendFields is Append of any event name and fields, a record type or a
// map, which may not use the common names (seq, time, event, host, prev,
// hash). Tests write records that Append would refuse with it.
func (l *Log) appendFields(event string, fields any) (Record, error) {
	return l.appendMembers(event, fields, nil)
}

func (l *Log) appendMembers(event string, fields any, durable func(Record)) (Record, error) {
	if event == eventCheckpoint {
		return Record{}, fmt.Errorf("audit append %s: written by the log itself: %w", event, ErrInvalidField)
	}
	members, err := eventMembers(event, fields)
	if err != nil {
		return Record{}, fmt.Errorf("audit append %s: %w", event, err)
	}
	r := &request{event: event, members: members, durable: durable}
	l.commit(r)
	if r.err != nil {
		return Record{}, fmt.Errorf("audit append %s: %w", event, r.err)
	}
	if r.decoded {
		return r.rec, nil
	}
	rec, err := decodeRecord(r.line[:len(r.line)-1])
	if err != nil {
		return Record{}, fmt.Errorf("audit append %s: read back: %w", event, err)
	}
	return rec, nil
}

func (l *Log) usable() error {
	if l.closed {
		return errClosed
	}
	return l.err
}

// MaybeCheckpoint writes a checkpoint if one is due by CheckpointEvery or
// CheckpointInterval; a daemon calls it from a ticker so that a quiet log
// still gets checkpoints.
func (l *Log) MaybeCheckpoint() error {
	return l.checkpointIf(func() bool { return l.checkpointDue() })
}

// checkpointNow writes a checkpoint now, unless the last record already
// is one.
func (l *Log) checkpointNow() error {
	return l.checkpointIf(func() bool { return true })
}

// CheckpointNote writes a checkpoint now, unless the last record already
// is one, and returns the signed note of the latest checkpoint: what to
// keep off the host and give Verify as VerifyOptions.Since later.
func (l *Log) CheckpointNote() ([]byte, error) {
	if err := l.checkpointNow(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ckNote == nil {
		return nil, errors.New("audit checkpoint: the log has no records to sign")
	}
	return bytes.Clone(l.ckNote), nil
}

func (l *Log) checkpointIf(due func() bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	err := l.locked(func() error {
		if err := l.catchUp(); err != nil {
			return err
		}
		if !due() {
			return nil
		}
		return l.checkpoint()
	})
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	return nil
}

// Close writes a final checkpoint covering every record, saves the
// Merkle frontier for the next Open and releases the files.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var err error
	if l.err == nil {
		err = l.locked(func() error {
			if err := l.catchUp(); err != nil {
				return err
			}
			if l.tree.n > l.ckEnd {
				if err := l.checkpoint(); err != nil {
					return err
				}
			}
			return l.saveState()
		})
	}
	if cerr := l.closeFiles(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close audit log: %w", err)
	}
	return nil
}

func (l *Log) closeFiles() error {
	var err error
	if l.f != nil {
		err = l.f.Close()
		l.f = nil
	}
	if l.wlock != nil {
		if cerr := l.wlock.Close(); err == nil {
			err = cerr
		}
		l.wlock = nil
	}
	if cerr := l.lockf.Close(); err == nil {
		err = cerr
	}
	return err
}

// alone reports whether no other Log has the log open. The caller holds
// the lock, under which alone is the only taker of the exclusive lock on
// Path.writers, so the shared lock a failed attempt may drop is taken
// back at once.
func (l *Log) alone() (bool, error) {
	ok, err := tryLock(l.wlock, lockExclusive)
	if err != nil {
		return false, err
	}
	if err := flock(l.wlock, lockShared); err != nil {
		return false, err
	}
	return ok, nil
}

// scanRotated reads every rotated segment from the start and positions the
// log at the start of the active segment.
func (l *Log) scanRotated() error {
	l.seq, l.last, l.tree = 0, [32]byte{}, frontier{}
	l.ckSize, l.ckEnd, l.ckTime, l.ckNote = 0, 0, time.Time{}, nil
	l.foreign, l.firstForeign = 0, 0
	ns, err := rotatedSegments(l.opts.Path)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if err := l.readRotated(rotatedName(l.opts.Path, n), 0); err != nil {
			return err
		}
	}
	l.pos = position{seg: 1}
	if len(ns) > 0 {
		l.pos.seg = ns[len(ns)-1] + 1
	}
	return nil
}

// readRotated absorbs the records of a rotated segment from off on. A
// rotated segment always ends with a whole record: rotation happens under
// the lock, after a complete append.
func (l *Log) readRotated(name string, off int64) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	seg := filepath.Base(name)
	return readLines(io.NewSectionReader(f, off, 1<<62), seg, func(_ string, _ int, o int64, line []byte, complete bool) error {
		if !complete {
			return fmt.Errorf("%s at offset %d: rotated segment ends in a torn line", seg, off+o)
		}
		return l.absorb(seg, off+o, line)
	})
}

// absorb takes one record written earlier, by this or another writer, into
// the writer's state. A record that parses but whose hash or chain is wrong
// is logged and taken as it is: the chain must go on from what is on disk,
// and Verify reports the damage. One that does not parse stops the writer.
func (l *Log) absorb(seg string, off int64, line []byte) error {
	var lr lineRecord
	if err := parseRecordLine(line, &lr); err != nil {
		return fmt.Errorf("%s at offset %d: %w (see verify)", seg, off, err)
	}
	if lr.bodyHash(line) != lr.hash {
		l.logger.Warn("audit log: record hash does not match", zap.String("segment", seg), zap.Int64("offset", off), zap.Uint64("seq", lr.seq))
	}
	if lr.prev != l.last || (l.tree.n > 0 && lr.seq != l.seq+1) {
		l.logger.Warn("audit log: chain broken", zap.String("segment", seg), zap.Int64("offset", off), zap.Uint64("seq", lr.seq))
	}
	l.seq, l.last = lr.seq, lr.hash
	l.tree.add(leafHash(lr.hash))
	if string(lr.event) == eventCheckpoint {
		f, cp, err := parseCheckpointRecord(line)
		if err == nil && *f.Size == l.tree.n-1 {
			l.noteCheckpoint(cp, []byte(*f.Note))
			return nil
		}
		l.logger.Warn("audit log: bad checkpoint record", zap.String("segment", seg), zap.Int64("offset", off), zap.Uint64("seq", lr.seq), zap.Error(err))
	}
	if l.foreign == 0 {
		l.firstForeign = lr.seq
	}
	l.foreign++
	return nil
}

// noteCheckpoint makes cp, whose record was just added to the tree, the
// last checkpoint known.
func (l *Log) noteCheckpoint(cp treeHead, msg []byte) {
	l.ckSize, l.ckEnd, l.ckTime, l.ckNote = cp.Size, l.tree.n, cp.Time, msg
	l.foreign, l.firstForeign = 0, 0
}

// catchUp reads what other writers appended since this one last held the
// lock, following rotations, and repairs a torn tail of the active segment.
func (l *Log) catchUp() error {
	for {
		name := rotatedName(l.opts.Path, l.pos.seg)
		if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
			break
		} else if err != nil {
			return err
		}
		// Another writer rotated the segment this one knew as active.
		if err := l.readRotated(name, l.pos.off); err != nil {
			return err
		}
		l.pos = position{seg: l.pos.seg + 1}
	}
	if err := l.openActive(); err != nil {
		return err
	}
	fi, err := l.f.Stat()
	if err != nil {
		return err
	}
	switch size := fi.Size(); {
	case size < l.pos.off:
		return fmt.Errorf("%s shrank from %d to %d bytes", l.opts.Path, l.pos.off, size)
	case size > l.pos.off:
		return l.readActive(size)
	}
	return nil
}

// openActive makes l.f the active segment, creating it if needed.
func (l *Log) openActive() error {
	if l.f != nil && l.fSeg == l.pos.seg {
		fi, err := os.Stat(l.opts.Path)
		if err != nil {
			return fmt.Errorf("active segment: %w", err)
		}
		ffi, err := l.f.Stat()
		if err != nil {
			return err
		}
		if !os.SameFile(fi, ffi) {
			return fmt.Errorf("%s was moved or replaced behind the writer", l.opts.Path)
		}
		return nil
	}
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	_, statErr := os.Stat(l.opts.Path)
	f, err := os.OpenFile(l.opts.Path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := durable.SyncDir(filepath.Dir(l.opts.Path)); err != nil {
			f.Close()
			return err
		}
	}
	l.f, l.fSeg = f, l.pos.seg
	return nil
}

// readActive absorbs the active segment from l.pos.off to size. The last
// line is held back until it is known to be last: if it has no newline,
// does not parse or fails its hash, it is a torn append and is cut off.
func (l *Log) readActive(size int64) error {
	base := l.pos.off
	seg := filepath.Base(l.opts.Path)
	var pending []byte
	pendingOff, cut := int64(-1), int64(-1)
	err := readLines(io.NewSectionReader(l.f, base, size-base), seg, func(_ string, _ int, off int64, line []byte, complete bool) error {
		if !complete {
			cut = base + off
			return nil
		}
		if pendingOff >= 0 {
			if err := l.absorb(seg, pendingOff, pending); err != nil {
				return err
			}
			l.pos.off = pendingOff + int64(len(pending)) + 1
		}
		pending = append(pending[:0], line...)
		pendingOff = base + off
		return nil
	})
	if err != nil {
		return err
	}
	if pendingOff >= 0 {
		var lr lineRecord
		if parseRecordLine(pending, &lr) == nil && lr.bodyHash(pending) == lr.hash {
			if err := l.absorb(seg, pendingOff, pending); err != nil {
				return err
			}
			l.pos.off = pendingOff + int64(len(pending)) + 1
		} else {
			cut = pendingOff
		}
	}
	if cut >= 0 {
		if l.deferRepair {
			l.cut, l.cutSize = cut, size
			return nil
		}
		return l.repair(cut, size)
	}
	return nil
}

// repair cuts the active segment back to cut, the end of its last good
// record, and records that it did.
func (l *Log) repair(cut, size int64) error {
	dropped := make([]byte, size-cut)
	if _, err := l.f.ReadAt(dropped, cut); err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	if err := l.f.Truncate(cut); err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	l.pos.off, l.cut = cut, -1
	seg := filepath.Base(l.opts.Path)
	sum := sha256.Sum256(dropped)
	l.logger.Warn("audit log: cut off a torn tail", zap.String("segment", seg), zap.Int64("offset", cut), zap.Int("bytes", len(dropped)))
	members, err := eventMembers(eventRepaired, repairedRecord{Segment: seg, BytesDropped: int64(len(dropped)), DroppedSHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return err
	}
	if _, err := l.appendLocked(eventRepaired, members); err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	l.afterAppend()
	return nil
}

// appendLocked writes and syncs one record. The caller holds the lock and
// has caught up.
func (l *Log) appendLocked(event string, fields []canonjson.Member) ([]byte, error) {
	r := &request{event: event, members: fields}
	if _, err := l.appendBatchLocked([]*request{r}); err != nil {
		return nil, err
	}
	return r.line, nil
}

// appendBatchLocked writes the records of a prefix of batch, at least its
// first, with one write and one fsync, sets their lines and returns how
// many it wrote. The prefix ends after a record that takes the segment
// past MaxSize or is the CheckpointEvery-th after the last checkpoint:
// there, one append at a time, afterAppend would rotate or write a
// checkpoint before the next record, and so the caller does, so that the
// segments and checkpoints are the same however the records were grouped.
// A checkpoint due after the prefix, with no rotation before it, is
// written with it and made durable by the same fsync rather than by one
// of its own after it: a new log's first checkpoint is due at its first
// append, and a writer killed between the two fsyncs left records that no
// checkpoint signs, which Verify reports. The caller holds the lock and
// has caught up. On an error no record of batch is written.
func (l *Log) appendBatchLocked(batch []*request) (int, error) {
	if l.opts.MaxSize > 0 && l.pos.off > l.opts.MaxSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	// The log's position, chain and tree once the records are written.
	seq, prev, off, tree := l.seq, l.last, l.pos.off, l.tree
	var buf []byte
	n := 0
	for n < len(batch) {
		r := batch[n]
		h := l.headerAfter(seq, prev, r.event)
		line, sum := encodeRecord(&h, r.members)
		r.line = line
		if len(batch) == 1 {
			buf = line
		} else {
			buf = append(buf, line...)
		}
		n++
		seq, prev, off = h.seq, sum, off+int64(len(line))
		tree.add(leafHash(sum))
		if l.opts.MaxSize > 0 && off > l.opts.MaxSize {
			break
		}
		if every := l.opts.CheckpointEvery; every > 0 && tree.n-l.ckEnd >= int64(every) {
			break
		}
	}
	written := batch[:n]
	var ck *checkpointDraft
	if batch[0].event != eventCheckpoint && (l.opts.MaxSize <= 0 || off <= l.opts.MaxSize) && l.checkpointDueAt(tree.n) {
		if d, err := l.draftCheckpoint(&tree); err != nil {
			// The records do not wait for it: afterAppend retries.
			l.logger.Error("audit checkpoint failed", zap.Error(err))
		} else {
			h := l.headerAfter(seq, prev, eventCheckpoint)
			line, sum := encodeRecord(&h, d.members)
			written = append(written[:n:n], &request{event: eventCheckpoint, members: d.members, line: line})
			buf = append(buf[:len(buf):len(buf)], line...)
			seq, prev, off = h.seq, sum, off+int64(len(line))
			tree.add(leafHash(sum))
			ck = d
		}
	}
	if err := appendLines(l.f.Write, l.pos.off, buf, written); err != nil {
		// A short write followed by the next record would tear the log in
		// the middle; cut it off while the lock is still held.
		if terr := l.f.Truncate(l.pos.off); terr != nil {
			l.err = fmt.Errorf("%w: unusable after a failed write: %w", errClosed, terr)
		}
		for _, r := range batch[:n] {
			r.line = nil
		}
		return 0, err
	}
	if err := l.syncActive(); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages;
		// retrying would report success for data that is not on disk.
		l.err = fmt.Errorf("%w: unusable after a failed sync: %w", errClosed, err)
		for _, r := range batch[:n] {
			r.line = nil
		}
		return 0, err
	}
	l.seq, l.last, l.pos.off, l.tree = seq, prev, off, tree
	if ck != nil {
		l.checkpointWritten(ck)
	}
	return n, nil
}

// headerAfter is the header of an event record that follows the record
// of seq and hash prev, written now.
func (l *Log) headerAfter(seq uint64, prev [32]byte, event string) header {
	return header{seq: seq + 1, time: l.opts.Now().UTC().Format(TimeLayout), event: event, host: l.opts.Host, prev: prev}
}

// pageSize is the unit in which the kernel copies a write into a file:
// a write that a fatal signal (kill -9) interrupts stops at a page
// boundary, never inside a page.
const pageSize = 4096

// appendLines writes buf, the lines of batch, through write at offset at
// of the active segment. It takes as few writes as keep each within the
// page of the file it starts in, but for a single line that runs past it:
// a kill -9 then leaves whole lines only, or the one line being written
// torn, as it may without a batch, never a batch cut short in the middle
// of a line.
func appendLines(write func([]byte) (int, error), at int64, buf []byte, batch []*request) error {
	start, off, from := at, at, 0
	for _, r := range batch {
		end := off + int64(len(r.line))
		if off > start && (end-1)/pageSize != start/pageSize {
			if _, err := write(buf[from : off-at]); err != nil {
				return err
			}
			start, from = off, int(off-at)
		}
		off = end
	}
	_, err := write(buf[from:])
	return err
}

// syncActive fsyncs the active segment.
func (l *Log) syncActive() error {
	if l.syncHook != nil {
		return l.syncHook(l.f)
	}
	return l.f.Sync()
}

// afterAppend rotates and checkpoints when due. The record is already
// durable, so failures are logged and retried on the next append.
func (l *Log) afterAppend() {
	if l.opts.MaxSize > 0 && l.pos.off > l.opts.MaxSize {
		if err := l.rotate(); err != nil {
			l.logger.Error("audit log rotation failed", zap.Error(err))
		}
	}
	if l.checkpointDue() {
		if err := l.checkpoint(); err != nil {
			l.logger.Error("audit checkpoint failed", zap.Error(err))
		}
	}
}

// rotate renames the active segment to Path.<n> and starts an empty one.
func (l *Log) rotate() error {
	name := rotatedName(l.opts.Path, l.pos.seg)
	if _, err := os.Lstat(name); err == nil {
		return fmt.Errorf("rotate: %s already exists", name)
	}
	if err := os.Rename(l.opts.Path, name); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	l.pos = position{seg: l.pos.seg + 1}
	if err := durable.SyncDir(filepath.Dir(l.opts.Path)); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	if err := l.openActive(); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	return nil
}

func (l *Log) checkpointDue() bool {
	return l.checkpointDueAt(l.tree.n)
}

// checkpointDueAt reports whether a checkpoint is due once the log holds
// size records.
func (l *Log) checkpointDueAt(size int64) bool {
	if size <= l.ckEnd {
		return false
	}
	if every := l.opts.CheckpointEvery; every > 0 && size-l.ckEnd >= int64(every) {
		return true
	}
	if iv := l.opts.CheckpointInterval; iv > 0 && l.opts.Now().Sub(l.ckTime) >= iv {
		return true
	}
	return false
}

// checkpoint signs the current tree head and appends it to the log as a
// "checkpoint" record, then copies it to the checkpoint files and logs
// it. Nothing is written if the last checkpoint (perhaps another
// writer's) is the last record.
func (l *Log) checkpoint() error {
	if l.tree.n == 0 || l.tree.n <= l.ckEnd {
		return nil
	}
	d, err := l.draftCheckpoint(&l.tree)
	if err != nil {
		return err
	}
	if _, err := l.appendLocked(eventCheckpoint, d.members); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	l.checkpointWritten(d)
	return nil
}

// checkpointDraft is a checkpoint signed but not yet in the log: its tree
// head, signed note and record.
type checkpointDraft struct {
	head    treeHead
	note    []byte
	rec     checkpointRecord
	members []canonjson.Member
}

// draftCheckpoint signs the head of tree, the log's tree with any records
// about to be written before the checkpoint. The time is never earlier
// than the last checkpoint's, even if the clock stepped back. Records
// after the last checkpoint that this Log did not write are declared
// unattested when no other writer has the log open, since then no writer
// will vouch for them.
func (l *Log) draftCheckpoint(tree *frontier) (*checkpointDraft, error) {
	t := l.opts.Now().UTC()
	if t.Before(l.ckTime) {
		t = l.ckTime
	}
	d := &checkpointDraft{head: treeHead{Name: l.signer.Name(), Size: tree.n, Root: tree.root(), Time: t}}
	msg, err := note.Sign(&note.Note{Text: d.head.text()}, l.signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	root, text := base64.StdEncoding.EncodeToString(d.head.Root[:]), string(msg)
	d.note, d.rec = msg, checkpointRecord{Size: &d.head.Size, Root: &root, Note: &text}
	if l.foreign > 0 {
		alone, err := l.alone()
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
		if alone {
			d.rec.Unattested, d.rec.UnattestedFrom = l.foreign, l.firstForeign
		}
	}
	if d.members, err = eventMembers(eventCheckpoint, d.rec); err != nil {
		return nil, err
	}
	return d, nil
}

// checkpointWritten makes d, whose record is now durable, the last
// checkpoint known, logs it, copies it to the state directory and
// rotates if the record took the segment past MaxSize.
func (l *Log) checkpointWritten(d *checkpointDraft) {
	l.noteCheckpoint(d.head, d.note)
	if d.rec.Unattested > 0 {
		l.logger.Warn("audit checkpoint signs records this writer did not write",
			zap.Int64("unattested", d.rec.Unattested), zap.Uint64("from_seq", d.rec.UnattestedFrom))
	}
	l.logger.Info("audit checkpoint", zap.Uint64("size", uint64(d.head.Size)), zap.String("root", *d.rec.Root), zap.String("note", *d.rec.Note))
	if err := writeCopies(l.opts.StateDir, d.note); err != nil {
		l.logger.Warn("audit: cannot copy the checkpoint to the state directory", zap.Error(err))
	}
	if l.opts.MaxSize > 0 && l.pos.off > l.opts.MaxSize {
		if err := l.rotate(); err != nil {
			l.logger.Error("audit log rotation failed", zap.Error(err))
		}
	}
	if err := l.saveState(); err != nil {
		l.logger.Warn("audit: cannot save the tree state", zap.Error(err))
	}
}

// removeStaleTemps removes what writers killed while replacing a state
// file left: every writer replaces those files holding the lock that open
// runs under, so no temp file there belongs to a live writer.
func (l *Log) removeStaleTemps() {
	for _, name := range []string{latestFile, stateFile} {
		stale, _ := filepath.Glob(filepath.Join(l.opts.StateDir, "."+name+".tmp*"))
		for _, p := range stale {
			if err := os.Remove(p); err == nil {
				l.logger.Info("audit: removed a temp file a killed writer left", zap.String("file", p))
			}
		}
	}
}
