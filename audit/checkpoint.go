package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/gwwatchd/gwwatchd/internal/durable"
)

// Files in the state directory.
const (
	checkpointsFile = "checkpoints" // every checkpoint, one JSON line each
	latestFile      = "checkpoint"  // the latest signed note
	defaultKeyFile  = "audit.key"
)

// checkpointOrigin starts the first line of every checkpoint note.
const checkpointOrigin = "gwwatchd-audit/"

// treeHead states that the first Size records of the log have the Merkle
// tree root Root. Its text is signed as a note (golang.org/x/mod/sumdb/note).
type treeHead struct {
	Name string // name of the signing key
	Size int64
	Root tlog.Hash
	Time time.Time
}

// Text returns the note text of c:
//
//	gwwatchd-audit/<key name>
//	<tree size>
//	<root hash, standard base64>
//	<time, TimeLayout>
func (c treeHead) text() string {
	return fmt.Sprintf("%s%s\n%d\n%s\n%s\n", checkpointOrigin, c.Name, c.Size,
		base64.StdEncoding.EncodeToString(c.Root[:]), c.Time.UTC().Format(TimeLayout))
}

// parseCheckpoint parses checkpoint note text (without signatures) as
// treeHead.text writes it.
func parseCheckpoint(text string) (treeHead, error) {
	var c treeHead
	lines := strings.SplitAfter(text, "\n")
	if len(lines) != 5 || lines[4] != "" {
		return c, errors.New("parse checkpoint: want 4 lines")
	}
	for i := range 4 {
		lines[i] = strings.TrimSuffix(lines[i], "\n")
	}
	name, ok := strings.CutPrefix(lines[0], checkpointOrigin)
	if !ok || name == "" {
		return c, fmt.Errorf("parse checkpoint: origin %q does not start with %q", lines[0], checkpointOrigin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return c, fmt.Errorf("parse checkpoint: bad size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return c, fmt.Errorf("parse checkpoint: bad root %q", lines[2])
	}
	t, err := time.Parse(time.RFC3339Nano, lines[3])
	if err != nil {
		return c, fmt.Errorf("parse checkpoint: %w", err)
	}
	return treeHead{Name: name, Size: size, Root: root, Time: t}, nil
}

// verifyCheckpoint checks the signature on a signed checkpoint note with the
// verifier key (as PublicKey returns) and returns the checkpoint.
func verifyCheckpoint(msg []byte, verifierKey string) (treeHead, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return treeHead{}, fmt.Errorf("verify checkpoint: verifier key: %w", err)
	}
	return openCheckpoint(msg, v)
}

func openCheckpoint(msg []byte, v note.Verifier) (treeHead, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
		return treeHead{}, fmt.Errorf("verify checkpoint: signed by an unknown key, not %s+%08x: %w", v.Name(), v.KeyHash(), err)
	case err != nil:
		return treeHead{}, fmt.Errorf("verify checkpoint: %w", err)
	}
	c, err := parseCheckpoint(n.Text)
	if err != nil {
		return treeHead{}, err
	}
	if c.Name != v.Name() {
		return treeHead{}, fmt.Errorf("verify checkpoint: origin names key %q, signed by %q", c.Name, v.Name())
	}
	return c, nil
}

// noteText returns the text part of a signed note, for reading a
// checkpoint without its key.
func noteText(msg []byte) (string, error) {
	i := bytes.Index(msg, []byte("\n\n"))
	if i < 0 {
		return "", errors.New("not a signed note")
	}
	return string(msg[:i+1]), nil
}

// keyName returns a signing key name for host: note names may not contain
// spaces or '+'.
func keyName(host string) string {
	b := []byte("gwwatchd-" + host)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
		if !ok {
			b[i] = '-'
		}
	}
	return string(b)
}

// newSigner returns the signer for the private key skey, read from
// keyFile, and the verifier of its public half.
func newSigner(keyFile, skey string) (note.Signer, note.Verifier, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, fmt.Errorf("key file %s: %w", keyFile, err)
	}
	vkey, err := verifierKey(keyFile, skey)
	if err != nil {
		return nil, nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, fmt.Errorf("key file %s: %w", keyFile, err)
	}
	return s, v, nil
}

func readKey(keyFile string) (string, error) {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func createKey(keyFile, name string) (string, error) {
	dir := filepath.Dir(keyFile)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create key: %w", err)
		}
	}
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("create key: %w", err)
	}
	f, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create key: %w", err)
	}
	_, err = f.WriteString(skey + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = durable.SyncDir(dir)
	}
	if err != nil {
		os.Remove(keyFile)
		return "", fmt.Errorf("create key: %w", err)
	}
	return skey, nil
}

// PublicKey returns the verifier key ("<name>+<hash>+<key>", as
// note.NewVerifier parses) for the private key in keyFile. Publish it:
// it is all CheckProof and Verify need to check checkpoints.
func PublicKey(keyFile string) (string, error) {
	skey, err := readKey(keyFile)
	if err != nil {
		return "", fmt.Errorf("public key: %w", err)
	}
	if _, err := note.NewSigner(skey); err != nil {
		return "", fmt.Errorf("public key: %s: %w", keyFile, err)
	}
	vkey, err := verifierKey(keyFile, skey)
	if err != nil {
		return "", fmt.Errorf("public key: %w", err)
	}
	return vkey, nil
}

// verifierKey returns the verifier key of the signer key skey, which
// note.NewSigner accepted.
func verifierKey(keyFile, skey string) (string, error) {
	// A signer key is PRIVATE+KEY+<name>+<hash>+<base64(1 || seed)>.
	parts := strings.SplitN(skey, "+", 5)
	key, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return "", fmt.Errorf("%s: not an Ed25519 signer key", keyFile)
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// checkpointEntry is one line of the checkpoints file.
type checkpointEntry struct {
	Size int64  `json:"size"`
	Root string `json:"root"`
	Time string `json:"time"`
	Note string `json:"note"`
}

// readLastCheckpoint returns the last whole entry of the checkpoints file
// in stateDir, or nil if there is none.
func readLastCheckpoint(stateDir string) (*checkpointEntry, error) {
	f, err := os.Open(filepath.Join(stateDir, checkpointsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tail, _, err := readTail(f)
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
		tail = tail[:i]
	} else {
		return nil, nil
	}
	if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
		tail = tail[i+1:]
	}
	var e checkpointEntry
	if err := json.Unmarshal(tail, &e); err != nil {
		return nil, fmt.Errorf("last checkpoint: %w", err)
	}
	return &e, nil
}

// readTail returns up to the last 64 KiB of f and the offset they start at:
// enough for the last few checkpoint lines.
func readTail(f *os.File) ([]byte, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	off := max(0, fi.Size()-64<<10)
	b := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, err
	}
	return b, off, nil
}

// appendCheckpointLine appends line to the checkpoints file and syncs it.
// A torn last line, left by a writer that died mid-append, is cut off
// first so that it does not glue onto the new entry.
func appendCheckpointLine(stateDir string, line []byte) error {
	name := filepath.Join(stateDir, checkpointsFile)
	_, statErr := os.Stat(name)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	tail, off, err := readTail(f)
	if err != nil {
		return err
	}
	if len(tail) > 0 && tail[len(tail)-1] != '\n' {
		cut := off
		if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
			cut = off + int64(i) + 1
		}
		if err := f.Truncate(cut); err != nil {
			return err
		}
	}
	if _, err := f.Write(line); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		return durable.SyncDir(stateDir)
	}
	return nil
}

// writeCopies brings the checkpoint files of stateDir up to the signed
// note msg of the log's latest checkpoint: first the checkpoint file is
// replaced, then the entry is appended to the checkpoints file, so that a
// crash in between leaves the checkpoint file ahead of the checkpoints
// file by one checkpoint the log holds, which Verify tells from an older
// checkpoint file put back. Either write that is already done is skipped.
func writeCopies(stateDir string, msg []byte) error {
	text, err := noteText(msg)
	if err != nil {
		return err
	}
	cp, err := parseCheckpoint(text)
	if err != nil {
		return err
	}
	name := filepath.Join(stateDir, latestFile)
	if old, err := os.ReadFile(name); err != nil || !bytes.Equal(old, msg) {
		if err := durable.WriteFile(name, msg, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", latestFile, err)
		}
	}
	last, err := readLastCheckpoint(stateDir)
	if err == nil && last != nil && last.Note == string(msg) {
		return nil
	}
	entry, err := json.Marshal(checkpointEntry{
		Size: cp.Size,
		Root: base64.StdEncoding.EncodeToString(cp.Root[:]),
		Time: cp.Time.UTC().Format(TimeLayout),
		Note: string(msg),
	})
	if err != nil {
		return err
	}
	if err := appendCheckpointLine(stateDir, append(entry, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", checkpointsFile, err)
	}
	return nil
}

// parseCheckpointRecord reads the fields of a checkpoint record's line and
// the checkpoint its note states, without checking the signature.
func parseCheckpointRecord(line []byte) (checkpointRecord, treeHead, error) {
	var f checkpointRecord
	if err := json.Unmarshal(line, &f); err != nil {
		return f, treeHead{}, fmt.Errorf("checkpoint record: %w", err)
	}
	if f.Size == nil || f.Root == nil || f.Note == nil {
		return f, treeHead{}, errors.New("checkpoint record: want size, root and note")
	}
	text, err := noteText([]byte(*f.Note))
	if err != nil {
		return f, treeHead{}, fmt.Errorf("checkpoint record: note: %w", err)
	}
	cp, err := parseCheckpoint(text)
	if err != nil {
		return f, treeHead{}, fmt.Errorf("checkpoint record: note: %w", err)
	}
	return f, cp, nil
}
