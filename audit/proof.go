package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// proofHeader is the first line of an inclusion proof.
const proofHeader = "gwwatchd-audit-proof v1"

// errNotCovered is returned by Prove for a record the latest checkpoint
// does not cover yet; a new checkpoint (Log.CheckpointNote) will.
var errNotCovered = errors.New("record not covered by the latest checkpoint")

// Prove returns a self-contained proof that record seq is in the log at
// path, as covered by the latest checkpoint: the log's last checkpoint
// record, or for a log written before checkpoints were recorded in it,
// the checkpoint file in stateDir (the directory of path if empty). The
// proof is text:
//
//	gwwatchd-audit-proof v1
//	seq <seq>
//	record <the record's line, canonical JSON, without its newline>
//	proof <k>
//	<k lines: the tlog.RecordProof hashes, standard base64, one per line>
//	<the signed checkpoint note, verbatim, to the end>
//
// Prove reads the whole log, checks that the checkpoint's Merkle root is
// the root of the log's first records, and keeps about two hashes per
// record in memory meanwhile.
func Prove(path, stateDir string, seq uint64) ([]byte, error) {
	if stateDir == "" {
		stateDir = filepath.Dir(path)
	}
	var msg []byte
	snap, err := takeSnapshot(path, func() error {
		var err error
		msg, err = os.ReadFile(filepath.Join(stateDir, latestFile))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("prove record %d: %w", seq, err)
	}
	defer snap.close()
	var cp treeHead
	if msg != nil {
		text, err := noteText(msg)
		if err != nil {
			return nil, fmt.Errorf("prove record %d: latest checkpoint: %w", seq, err)
		}
		if cp, err = parseCheckpoint(text); err != nil {
			return nil, fmt.Errorf("prove record %d: latest checkpoint: %w", seq, err)
		}
	}
	tree := &storedTree{}
	var record []byte
	err = snap.each(func(seg string, n int, _ int64, line []byte, complete bool) error {
		if !complete {
			return nil
		}
		var lr lineRecord
		if err := parseRecordLine(line, &lr); err != nil {
			return fmt.Errorf("%s:%d: %w", seg, n, err)
		}
		if lr.seq != uint64(tree.n)+1 {
			return fmt.Errorf("%s:%d: seq %d, want %d (see verify)", seg, n, lr.seq, tree.n+1)
		}
		if lr.seq == seq {
			if lr.bodyHash(line) != lr.hash {
				return fmt.Errorf("%s:%d: record hash does not match (see verify)", seg, n)
			}
			record = bytes.Clone(line)
		}
		if string(lr.event) == eventCheckpoint {
			f, rc, err := parseCheckpointRecord(line)
			if err != nil {
				return fmt.Errorf("%s:%d: %w (see verify)", seg, n, err)
			}
			if rc.Size >= cp.Size {
				cp, msg = rc, []byte(*f.Note)
			}
		}
		return tree.add(leafHash(lr.hash))
	})
	if err != nil {
		return nil, fmt.Errorf("prove record %d: %w", seq, err)
	}
	if msg == nil {
		return nil, fmt.Errorf("prove record %d: no checkpoint: %w", seq, errNotCovered)
	}
	if seq == 0 || seq > uint64(cp.Size) {
		return nil, fmt.Errorf("prove record %d: checkpoint size %d: %w", seq, cp.Size, errNotCovered)
	}
	if tree.n < cp.Size {
		return nil, fmt.Errorf("prove record %d: the log has %d records, the checkpoint %d", seq, tree.n, cp.Size)
	}
	root, err := tlog.TreeHash(cp.Size, tree)
	if err != nil {
		return nil, fmt.Errorf("prove record %d: %w", seq, err)
	}
	if root != cp.Root {
		return nil, fmt.Errorf("prove record %d: the log's first %d records do not have the checkpoint's root (see verify)", seq, cp.Size)
	}
	p, err := tlog.ProveRecord(cp.Size, int64(seq-1), tree)
	if err != nil {
		return nil, fmt.Errorf("prove record %d: %w", seq, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nseq %d\nrecord %s\nproof %d\n", proofHeader, seq, record, len(p))
	for _, h := range p {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]))
		b.WriteByte('\n')
	}
	b.Write(msg)
	return b.Bytes(), nil
}

// CheckProof verifies a proof from Prove offline, with only the verifier
// key: the checkpoint's signature, that the record line is canonical and
// its hash recomputes, and that the Merkle leaf
// tlog.RecordHash(sha256(canonical record without hash)) at index seq-1 is
// in the tree of the checkpoint's size and root. It returns the record.
func CheckProof(proof []byte, verifierKey string) (*Record, error) {
	seq, line, hashes, msg, err := parseProof(proof)
	if err != nil {
		return nil, fmt.Errorf("check proof: %w", err)
	}
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return nil, fmt.Errorf("check proof: verifier key: %w", err)
	}
	cp, err := openCheckpoint(msg, v)
	if err != nil {
		return nil, fmt.Errorf("check proof: %w", err)
	}
	var lr lineRecord
	if err := parseRecordLine(line, &lr); err != nil {
		return nil, fmt.Errorf("check proof: record: %w", err)
	}
	if lr.seq != seq {
		return nil, fmt.Errorf("check proof: record has seq %d, proof is for %d", lr.seq, seq)
	}
	body := lr.bodyHash(line)
	if body != lr.hash {
		return nil, errors.New("check proof: record hash does not match the record")
	}
	if seq > uint64(cp.Size) {
		return nil, fmt.Errorf("check proof: seq %d is beyond the checkpoint's %d records", seq, cp.Size)
	}
	if err := tlog.CheckRecord(hashes, cp.Size, cp.Root, int64(seq-1), leafHash(body)); err != nil {
		return nil, fmt.Errorf("check proof: record %d is not in the checkpointed tree: %w", seq, err)
	}
	rec, err := decodeRecord(line)
	if err != nil {
		return nil, fmt.Errorf("check proof: record: %w", err)
	}
	return &rec, nil
}

func parseProof(proof []byte) (seq uint64, line []byte, hashes tlog.RecordProof, msg []byte, err error) {
	next := func() ([]byte, bool) {
		i := bytes.IndexByte(proof, '\n')
		if i < 0 {
			return nil, false
		}
		l := proof[:i]
		proof = proof[i+1:]
		return l, true
	}
	field := func(name string) ([]byte, error) {
		l, ok := next()
		v, found := bytes.CutPrefix(l, []byte(name+" "))
		if !ok || !found {
			return nil, fmt.Errorf("want a %q line", name)
		}
		return v, nil
	}
	if l, ok := next(); !ok || string(l) != proofHeader {
		return 0, nil, nil, nil, fmt.Errorf("not a proof: want %q first", proofHeader)
	}
	s, err := field("seq")
	if err != nil {
		return 0, nil, nil, nil, err
	}
	if seq, err = strconv.ParseUint(string(s), 10, 64); err != nil || seq == 0 {
		return 0, nil, nil, nil, fmt.Errorf("bad seq %q", s)
	}
	if line, err = field("record"); err != nil {
		return 0, nil, nil, nil, err
	}
	k, err := field("proof")
	if err != nil {
		return 0, nil, nil, nil, err
	}
	n, err := strconv.Atoi(string(k))
	if err != nil || n < 0 || n > 64 {
		return 0, nil, nil, nil, fmt.Errorf("bad proof length %q", k)
	}
	for range n {
		l, ok := next()
		if !ok {
			return 0, nil, nil, nil, errors.New("proof hashes cut short")
		}
		h, err := tlog.ParseHash(string(l))
		if err != nil {
			return 0, nil, nil, nil, fmt.Errorf("proof hash %q: %w", l, err)
		}
		hashes = append(hashes, h)
	}
	return seq, line, hashes, proof, nil
}
