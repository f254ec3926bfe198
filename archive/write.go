package archive

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gwwatchd/gwwatchd/internal/durable"
	"github.com/gwwatchd/gwwatchd/internal/h5"
)

// TempPrefix and TempSuffix frame the names of archives being written, so
// that leftovers of a crash can be recognised and removed.
const (
	TempPrefix = ".gwwatchd-"
	TempSuffix = ".h5.tmp"
)

// DuplicateError reports that an archive of the same source content is
// already at the destination.
type DuplicateError struct {
	Path string // the existing archive
}

func (e *DuplicateError) Error() string { return "already archived as " + e.Path }

// ErrDuplicate matches every *DuplicateError with errors.Is.
var ErrDuplicate = errors.New("already archived")

// Is lets errors.Is(err, ErrDuplicate) find a DuplicateError.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// WriteFile writes doc atomically as root/rel: a temp file in the
// destination directory, HDF5 close, fsync, a link to the final name that
// never replaces an existing file, and an fsync of the directory. When a
// file with another source is at rel, the archive gets a distinct name
// (rel with _2, _3, ... before .h5); when the file there holds the same
// content (by the content_key root attribute, see ContentKey), nothing is
// written and a *DuplicateError names it. An archive without a
// content_key, as older versions wrote, is never taken for the same
// content.
func WriteFile(root, rel string, doc *Doc, comp Compression) (*Written, error) {
	t, err := WriteTemp(root, rel, doc, comp)
	if err != nil {
		return nil, err
	}
	defer t.Discard()
	return t.Commit()
}

// Temp is an archive written in full under a temporary name in its
// destination directory: closed, fsynced and hashed, but not yet visible
// under its own name. Commit or Discard it.
type Temp struct {
	Written // Path is the temporary name until Commit
	dest    string
	key     string // content_key
}

// WriteTemp does the slow part of WriteFile: the HDF5 file under a
// temporary name, flushed to disk. Commit links it into place; until then
// a crash leaves only a temp file that a later start removes.
func WriteTemp(root, rel string, doc *Doc, comp Compression) (*Temp, error) {
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("archive path %q is outside the archive root", rel)
	}
	dest := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, err
	}
	tmp, err := tempName(filepath.Dir(dest))
	if err != nil {
		return nil, err
	}
	if err := h5.Write(tmp, doc, comp); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	w, err := hashAndSync(tmp)
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	w.Path = tmp
	key, _ := doc.Attr("content_key").(string)
	return &Temp{Written: *w, dest: dest, key: key}, nil
}

// Commit links the temp file to its final name, as WriteFile describes,
// and returns the archive as written there.
func (t *Temp) Commit() (*Written, error) {
	if t.dest == "" {
		return nil, errors.New("archive: temp file already committed or discarded")
	}
	dir := filepath.Dir(t.dest)
	base := strings.TrimSuffix(t.dest, ".h5")
	for i := 1; ; i++ {
		name := t.dest
		if i > 1 {
			name = fmt.Sprintf("%s_%d.h5", base, i)
		}
		err := os.Link(t.Path, name)
		if err == nil {
			if err := os.Remove(t.Path); err != nil {
				return nil, err
			}
			w := t.Written
			w.Path, t.dest = name, ""
			return &w, durable.SyncDir(dir)
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if t.key != "" {
			if other, _ := StoredContentKey(name); other == t.key {
				return nil, &DuplicateError{Path: name}
			}
		}
		if i > 1000 {
			return nil, fmt.Errorf("%s: more than 1000 archives with this name", t.dest)
		}
	}
}

// Discard removes the temp file unless it was committed. It is safe to
// call more than once, and after Commit.
func (t *Temp) Discard() {
	if t.dest != "" {
		os.Remove(t.Path)
		t.dest = ""
	}
}

// MaxName is the longest file or directory name an archive path may
// have, in bytes: what Linux file systems take, less room for the _N a
// name collision adds.
const MaxName = 255 - len("_1000")

// CheckName says why an archive path rendered from a layout cannot be
// used ("" if it can): a name in it longer than MaxName bytes, or the
// whole longer than a path may be.
func CheckName(rel string) string {
	if len(rel) > 4000 {
		return fmt.Sprintf("archive path of %d bytes from the layout: too long for a path (at most 4000)", len(rel))
	}
	for _, name := range strings.Split(rel, string(filepath.Separator)) {
		if len(name) > MaxName {
			return fmt.Sprintf("archive name of %d bytes from the layout (%.40s…): at most %d bytes", len(name), name, MaxName)
		}
	}
	return ""
}

func tempName(dir string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, TempPrefix+hex.EncodeToString(b[:])+TempSuffix), nil
}

// Written describes an archive file on disk.
type Written struct {
	Path   string
	Size   int64
	SHA256 string // hex, of the whole file
}

// hashAndSync reads a closed HDF5 file back to hash it and flushes it to
// disk (HDF5's own flush does not fsync).
func hashAndSync(path string) (*Written, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The flush to disk and the read back from the page cache need not
	// wait for each other.
	synced := make(chan error, 1)
	go func() { synced <- f.Sync() }()
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62))
	if serr := <-synced; serr != nil {
		return nil, fmt.Errorf("fsync %s: %w", path, serr)
	}
	if err != nil {
		return nil, fmt.Errorf("read back %s: %w", path, err)
	}
	return &Written{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, f.Close()
}

// Read reads a whole archive (or any HDF5 file of the types it knows).
func Read(path string) (*Doc, error) { return h5.Read(path) }

// ReadAttrs reads only the root attributes of an archive.
func ReadAttrs(path string) ([]Attr, error) { return h5.ReadRootAttrs(path) }

// FindAttr returns the value of the named attribute, or nil.
func FindAttr(attrs []Attr, name string) any { return h5.FindAttr(attrs, name) }

// StoredContentKey returns the content_key root attribute of an archive,
// or "" for an archive written before content keys.
func StoredContentKey(path string) (string, error) {
	attrs, err := h5.ReadRootAttrs(path)
	if err != nil {
		return "", err
	}
	s, _ := h5.FindAttr(attrs, "content_key").(string)
	return s, nil
}

// SourceSHA256 returns the source_sha256 root attribute of an archive.
func SourceSHA256(path string) (string, error) {
	attrs, err := h5.ReadRootAttrs(path)
	if err != nil {
		return "", err
	}
	s, _ := h5.FindAttr(attrs, "source_sha256").(string)
	return s, nil
}
