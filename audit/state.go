package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/gwwatchd/gwwatchd/internal/durable"
)

// stateFile, in the state directory, saves the writer's position and Merkle
// frontier so that Open need not read the whole log. It is only a cache:
// Open uses it when the record it names is still where it says, and a
// wrong frontier could only make checkpoints that Verify rejects.
const stateFile = "tree-state"

type treeState struct {
	Segment  int      `json:"segment"`
	Offset   int64    `json:"offset"`
	Size     int64    `json:"size"`
	Seq      uint64   `json:"seq"`
	Hash     string   `json:"hash"`
	Frontier []string `json:"frontier"` // hex, smallest subtree first

	// Checkpoint is the last checkpoint as of Seq; a state without it,
	// from before checkpoints were recorded in the log, is not used.
	Checkpoint *stateCheckpoint `json:"checkpoint"`
}

// stateCheckpoint is a Log's last checkpoint: ckEnd, and the signed note
// ("" for none yet).
type stateCheckpoint struct {
	End  int64  `json:"end"`
	Note string `json:"note"`
}

func (l *Log) saveState() error {
	if l.tree.n == 0 {
		return nil
	}
	st := treeState{Segment: l.pos.seg, Offset: l.pos.off, Size: l.tree.n, Seq: l.seq, Hash: hex.EncodeToString(l.last[:]),
		Checkpoint: &stateCheckpoint{End: l.ckEnd, Note: string(l.ckNote)}}
	if st.Offset == 0 {
		// Just after a rotation the last record ends the previous segment;
		// name that place, since an empty segment has no record to check.
		fi, err := os.Stat(rotatedName(l.opts.Path, l.pos.seg-1))
		if err != nil {
			return err
		}
		st.Segment, st.Offset = l.pos.seg-1, fi.Size()
	}
	for _, h := range l.tree.hashes() {
		st.Frontier = append(st.Frontier, hex.EncodeToString(h[:]))
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(l.opts.StateDir, stateFile), append(b, '\n'), 0o640)
}

// loadState restores the saved state if the record it ends with is still
// the one just before its offset, and reports whether it did.
func (l *Log) loadState() bool {
	b, err := os.ReadFile(filepath.Join(l.opts.StateDir, stateFile))
	if err != nil {
		return false
	}
	var st treeState
	if json.Unmarshal(b, &st) != nil || st.Offset <= 0 || st.Size <= 0 || st.Segment <= 0 ||
		st.Checkpoint == nil || st.Checkpoint.End < 0 || st.Checkpoint.End > st.Size {
		return false
	}
	var ck treeHead
	if st.Checkpoint.Note != "" {
		text, err := noteText([]byte(st.Checkpoint.Note))
		if err != nil {
			return false
		}
		if ck, err = parseCheckpoint(text); err != nil || ck.Size > st.Checkpoint.End {
			return false
		}
	} else if st.Checkpoint.End != 0 {
		return false
	}
	var last [32]byte
	if n, err := hex.Decode(last[:], []byte(st.Hash)); err != nil || n != 32 {
		return false
	}
	hs := make([]tlog.Hash, len(st.Frontier))
	for i, s := range st.Frontier {
		h, err := hex.DecodeString(s)
		if err != nil || len(h) != tlog.HashSize {
			return false
		}
		copy(hs[i][:], h)
	}
	var fr frontier
	if !fr.setHashes(st.Size, hs) {
		return false
	}
	name := rotatedName(l.opts.Path, st.Segment)
	if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
		name = l.opts.Path
	}
	if !endsWithRecord(name, st.Offset, st.Seq, last) {
		return false
	}
	l.pos = position{seg: st.Segment, off: st.Offset}
	l.seq, l.last, l.tree = st.Seq, last, fr
	l.ckSize, l.ckEnd, l.ckTime = ck.Size, st.Checkpoint.End, ck.Time
	l.ckNote = nil
	if st.Checkpoint.Note != "" {
		l.ckNote = []byte(st.Checkpoint.Note)
	}
	// Every record after the checkpoint is another writer's as far as
	// this Log knows.
	l.foreign, l.firstForeign = st.Size-l.ckEnd, 0
	if l.foreign > 0 {
		l.firstForeign = uint64(l.ckEnd) + 1
	}
	return true
}

// endsWithRecord reports whether the line ending at off in the file name
// is a valid record with the given seq and hash.
func endsWithRecord(name string, off int64, seq uint64, hash [32]byte) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	start := max(0, off-64<<10)
	b := make([]byte, off-start)
	if _, err := f.ReadAt(b, start); err != nil || b[len(b)-1] != '\n' {
		return false
	}
	b = b[:len(b)-1]
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 && start > 0 {
		return false
	}
	line := b[i+1:]
	var lr lineRecord
	return parseRecordLine(line, &lr) == nil && lr.seq == seq && lr.hash == hash && lr.bodyHash(line) == hash
}
