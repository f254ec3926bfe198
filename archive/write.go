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
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gwwatchd/gwwatchd/internal/durable"
	"github.com/gwwatchd/gwwatchd/internal/h5"
	"github.com/gwwatchd/gwwatchd/internal/samples"
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
// destination directory: closed and hashed, its flush to disk under way,
// but not yet visible under its own name. Commit or Discard it. Commit
// waits for the flush before it links the file to its name, so that the
// writer of the archive can go on to the next one while the disk works.
//
// While a Temp lives, its file is held by an open file description lock
// (fcntl F_OFD_SETLK, which libhdf5's own flock does not touch): a temp
// file that no live writer holds was left by a crash, which RemoveStale
// can prove, however many writers share the root.
type Temp struct {
	Written              // Path is the temporary name until Commit
	Doc     *Doc         // what was written
	dest    string       // final path
	key     string       // content_key
	dir     *os.File     // the destination directory, opened without following links
	file    *os.File     // the temp file, locked
	name    string       // of the temp file in dir
	synced  <-chan error // the fsync of file; nil once its result was taken
	syncErr error        // that result
}

// WriteTemp does the slow part of WriteFile: the HDF5 file under a
// temporary name, flushed to disk. Commit links it into place; until then
// a crash leaves only a temp file that a later start removes.
//
// The directories below root are walked without following symbolic
// links, and the archive is written through the directory so opened, so
// a link planted in the archive root cannot send an archive elsewhere.
func WriteTemp(root, rel string, doc *Doc, comp Compression) (*Temp, error) {
	t, w, err := startTemp(root, rel, str(doc.Attrs, attrContentKey), comp, docBytes(doc) <= imageMax)
	if err != nil {
		return nil, err
	}
	w.Datasets(doc.Datasets) // a failure is Close's, in finish
	if err := t.finish(w, doc.Attrs); err != nil {
		return nil, err
	}
	t.Doc = doc
	return t, nil
}

// imageMax is the most bytes of values an archive may hold to be made in
// memory and written to its file at once (h5.CreateImage). An archive of
// a few small series costs libhdf5 more in system calls, many and small,
// than in values, and the library serialises every call, so that
// writing them from memory is what lets many small files be archived at
// once. A larger archive is written through its file, one dataset at a
// time, so as not to be held whole.
const imageMax = 1 << 20

// startTemp creates and locks the temp file of an archive at rel below
// root, with content key key, and starts the HDF5 file: in memory when
// inMem is set, else in the temp file.
func startTemp(root, rel, key string, comp Compression, inMem bool) (*Temp, *h5.Writer, error) {
	if !filepath.IsLocal(rel) {
		return nil, nil, fmt.Errorf("archive path %q is outside the archive root", rel)
	}
	dir, err := durable.OpenDir(root, filepath.Dir(rel), 0o755)
	if err != nil {
		return nil, nil, err
	}
	t := &Temp{dest: filepath.Join(root, rel), dir: dir, key: key}
	if err := t.create(); err != nil {
		dir.Close()
		return nil, nil, err
	}
	var w *h5.Writer
	if inMem {
		w, err = h5.CreateImage(comp)
	} else {
		w, err = h5.Create(t.procPath(t.name), comp)
	}
	if err != nil {
		t.Discard()
		return nil, nil, err
	}
	return t, w, nil
}

// docBytes is what the values of doc's datasets take.
func docBytes(doc *Doc) int64 {
	var n int64
	for _, d := range doc.Datasets {
		n += int64(len(samples.Bytes(d.Data)))
	}
	return n
}

// finish writes the root attributes and closes the HDF5 file w writes,
// writes it into t if it was made in memory, checks that t still holds
// it, and flushes and hashes it. On failure t is discarded.
func (t *Temp) finish(w *h5.Writer, attrs []Attr) error {
	if err := w.Close(attrs); err != nil {
		t.Discard()
		return err
	}
	// A tidier that took the name for a crash's leftover in the instant
	// between its creation and its lock would have removed it, and libhdf5
	// made another file at the name: the archive must be in the file held.
	if err := t.stillHeld(); err != nil {
		t.Discard()
		return err
	}
	var written *Written
	var err error
	if img := w.Image(); img != nil {
		written, err = t.writeImage(img)
	} else {
		written, err = t.hashBack()
	}
	if err != nil {
		t.Discard()
		return err
	}
	written.Path = t.Path
	t.Written = *written
	return nil
}

// WriteTemp lays c out and writes it as WriteTemp does, at rel below root,
// through a Writer: the one way new archives are written, by gwwatchd's
// pipeline and by programs through package provenance. An error of the
// write says "write archive". The Temp's Doc holds what was written,
// without the values.
func (c *Content) WriteTemp(root, rel string, comp Compression) (*Temp, error) {
	w, err := c.NewWriter(root, rel, comp)
	if err != nil {
		return nil, err
	}
	for range c.Entries {
		if _, err := w.Add(); err != nil {
			w.Discard()
			return nil, err
		}
	}
	return w.Finish()
}

// Writer writes the archive of a Content entry by entry, as each is made,
// so that the samples and products of one entry need be in memory at a
// time: Add writes the datasets of the next entry, after which its values
// may be let go (Entry.Drop), and Finish writes the views for gwpy and the
// root attributes, which speak of every entry. What it writes is what
// Content.Doc lays out. A Writer is not for concurrent use.
type Writer struct {
	c    *Content
	t    *Temp
	w    *h5.Writer
	doc  *Doc // what was written, without values
	seen map[string]bool
}

// NewWriter starts writing c's archive at rel below root, under a
// temporary name in its directory (see WriteTemp). c.Entries need not all
// be there yet: each is written by an Add. Their series must be set,
// with their samples or their lengths, which tell whether the archive is
// small enough to be made in memory.
func (c *Content) NewWriter(root, rel string, comp Compression) (*Writer, error) {
	t, w, err := startTemp(root, rel, c.Key, comp, c.sampleBytes() <= imageMax)
	if err != nil {
		return nil, fmt.Errorf("write archive: %w", err)
	}
	return &Writer{c: c, t: t, w: w, doc: &Doc{}, seen: map[string]bool{}}, nil
}

// Add writes the datasets of the next entry of the Content: its raw
// series, with its data_sha256 worked out and kept in the entry's
// RawSHA256, and its products. It returns those datasets, values
// included, for what else is to be made of them before they are let go.
func (w *Writer) Add() ([]Dataset, error) {
	i := len(w.seen)
	if i >= len(w.c.Entries) {
		return nil, errors.New("write archive: no entry left to add")
	}
	ds, err := w.c.datasetsOf(&w.c.Entries[i], w.seen)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if err := w.w.Dataset(&ds[i]); err != nil {
			return nil, fmt.Errorf("write archive: %w", err)
		}
		d := ds[i]
		d.Data = nil
		w.doc.Datasets = append(w.doc.Datasets, d)
	}
	return ds, nil
}

// Finish writes the views for gwpy and the root attributes once every
// entry was added, then closes, checks, flushes and hashes the file as
// WriteTemp does. On failure the temp file is gone.
func (w *Writer) Finish() (*Temp, error) {
	if len(w.seen) != len(w.c.Entries) {
		w.Discard()
		return nil, fmt.Errorf("write archive: %d entries of %d added", len(w.seen), len(w.c.Entries))
	}
	vs := w.c.views(w.doc, w.seen)
	for i := range vs {
		w.w.Dataset(&vs[i])
	}
	w.doc.Datasets = append(w.doc.Datasets, vs...)
	attrs, err := w.c.rootAttrs()
	if err != nil {
		w.Discard()
		return nil, err
	}
	w.doc.Attrs = attrs
	if err := w.t.finish(w.w, attrs); err != nil {
		return nil, fmt.Errorf("write archive: %w", err)
	}
	w.t.Doc = w.doc
	return w.t, nil
}

// Discard abandons the archive: the temp file is removed.
func (w *Writer) Discard() {
	w.w.Close(nil)
	w.t.Discard()
}

// create makes and locks the temp file. The file is made unnamed
// (O_TMPFILE), locked, and only then linked under its temp name, so that
// no tidier ever sees the name of a file not yet locked; a file system
// without O_TMPFILE gets the file created by name and locked at once, a
// window stillHeld closes.
func (t *Temp) create() error {
	f, err := durable.OpenFileAt(t.dir, ".", unix.O_TMPFILE|os.O_RDWR, 0o644)
	if err == nil {
		if err := lockOFD(f); err != nil {
			f.Close()
			return fmt.Errorf("lock a temp archive in %s: %w", t.dir.Name(), err)
		}
		for range 10 {
			t.name = tempName()
			err = unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", f.Fd()), int(t.dir.Fd()), t.name, unix.AT_SYMLINK_FOLLOW)
			if err != unix.EEXIST {
				break
			}
		}
		if err != nil {
			f.Close()
			return &fs.PathError{Op: "link", Path: filepath.Join(t.dir.Name(), t.name), Err: err}
		}
		t.file, t.Path = f, filepath.Join(t.dir.Name(), t.name)
		return nil
	}
	for range 10 {
		t.name = tempName()
		f, err := durable.OpenFileAt(t.dir, t.name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := lockOFD(f); err != nil {
			f.Close()
			unix.Unlinkat(int(t.dir.Fd()), t.name, 0)
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		t.file, t.Path = f, f.Name()
		return nil
	}
	return fmt.Errorf("no free temp name in %s", t.dir.Name())
}

func tempName() string {
	var b [8]byte
	rand.Read(b[:]) // crypto/rand does not fail on supported platforms
	return TempPrefix + hex.EncodeToString(b[:]) + TempSuffix
}

// stillHeld checks that the temp name is the file t holds locked.
func (t *Temp) stillHeld() error {
	at, err := durable.Lstatat(t.dir, t.name)
	if err != nil {
		return err
	}
	var held unix.Stat_t
	if err := unix.Fstat(int(t.file.Fd()), &held); err != nil {
		return err
	}
	if at.Dev != held.Dev || at.Ino != held.Ino {
		return fmt.Errorf("temp archive %s was replaced while it was written", t.Path)
	}
	return nil
}

// procPath names the entry name of t's directory through the descriptor
// the directory is open by, for libhdf5, which opens files by name.
func (t *Temp) procPath(name string) string {
	return fmt.Sprintf("/proc/self/fd/%d/%s", t.dir.Fd(), name)
}

// Commit links the temp file to its final name, as WriteFile describes,
// and returns the archive as written there. It first waits for the fsync
// of the file, started as it was written, and fails as that did. The
// fsync of the directory is
// shared with the archives committed to the same directory meanwhile
// (syncDir), so that many small archives committed at once do not each
// wait for one of their own.
func (t *Temp) Commit() (*Written, error) {
	if t.dest == "" {
		return nil, errors.New("archive: temp file already committed or discarded")
	}
	if err := t.waitSync(); err != nil {
		return nil, err
	}
	dirfd := int(t.dir.Fd())
	for i := 1; ; i++ {
		name := CollisionName(filepath.Base(t.dest), i)
		err := unix.Linkat(dirfd, t.name, dirfd, name, 0)
		if err == nil {
			if err := unix.Unlinkat(dirfd, t.name, 0); err != nil {
				return nil, &fs.PathError{Op: "remove", Path: t.Path, Err: err}
			}
			w := t.Written
			w.Path = filepath.Join(filepath.Dir(t.dest), name)
			err := t.syncDir()
			t.close()
			if err != nil {
				return nil, fmt.Errorf("fsync %s: %w", filepath.Dir(t.dest), err)
			}
			return &w, nil
		}
		if err != unix.EEXIST {
			return nil, &fs.PathError{Op: "link", Path: filepath.Join(filepath.Dir(t.dest), name), Err: err}
		}
		if st, err := durable.Lstatat(t.dir, name); t.key != "" && err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			if other, _ := StoredContentKey(t.procPath(name)); other == t.key {
				return nil, &DuplicateError{Path: filepath.Join(filepath.Dir(t.dest), name)}
			}
		}
		if i > 1000 {
			return nil, fmt.Errorf("%s: more than 1000 archives with this name", t.dest)
		}
	}
}

// syncDir fsyncs the directory of t, sharing the fsync with the archives
// committed to the same directory at the same time: an fsync of a
// directory makes every entry linked in it before the fsync started
// durable, whichever descriptor it goes through, so one serves every
// commit that linked its archive and then asked while the fsync before it
// ran. A caller waits for an fsync that starts after it asked, never for
// one already under way, and a failed fsync fails every caller it served.
// The archive file itself was fsynced before it was linked (WriteTemp).
func (t *Temp) syncDir() error {
	var st unix.Stat_t
	if err := unix.Fstat(int(t.dir.Fd()), &st); err != nil {
		return t.dir.Sync()
	}
	id := dirID{dev: uint64(st.Dev), ino: st.Ino}
	s := dirSyncs.acquire(id)
	defer dirSyncs.release(id)
	me := make(chan dirTurn, 1)
	s.mu.Lock()
	s.queue = append(s.queue, me)
	if s.leading {
		s.mu.Unlock()
		if turn := <-me; !turn.lead {
			return turn.err
		}
		s.mu.Lock()
	}
	// Leading: me is the head of the queue, which no other caller takes
	// while s.leading is set.
	s.leading = true
	group := s.queue
	s.queue = nil
	s.mu.Unlock()
	err := fsyncDir(t.dir)
	s.mu.Lock()
	if len(s.queue) > 0 {
		s.queue[0] <- dirTurn{lead: true}
	} else {
		s.leading = false
	}
	s.mu.Unlock()
	for _, c := range group {
		if c != me {
			c <- dirTurn{err: err}
		}
	}
	return err
}

// fsyncDir fsyncs a directory; tests count and delay the fsyncs with it.
var fsyncDir = (*os.File).Sync

// dirID names a directory by device and inode.
type dirID struct{ dev, ino uint64 }

// dirTurn is what a caller of syncDir waiting for a shared fsync gets:
// the lead of the next fsync, or the result of the one that served it.
type dirTurn struct {
	lead bool
	err  error
}

// dirSync is the shared fsync of one directory: the callers waiting for
// the next one, and whether one of them is running it.
type dirSync struct {
	users   int // guarded by dirSyncs.mu
	mu      sync.Mutex
	queue   []chan dirTurn
	leading bool
}

// dirSyncs holds a dirSync for each directory archives are being
// committed to, and forgets it once no commit uses it.
var dirSyncs = dirSyncTable{m: map[dirID]*dirSync{}}

type dirSyncTable struct {
	mu sync.Mutex
	m  map[dirID]*dirSync
}

func (d *dirSyncTable) acquire(id dirID) *dirSync {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.m[id]
	if s == nil {
		s = &dirSync{}
		d.m[id] = s
	}
	s.users++
	return s
}

func (d *dirSyncTable) release(id dirID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.m[id]; s != nil {
		if s.users--; s.users == 0 {
			delete(d.m, id)
		}
	}
}

// Replace renames the temp file over its final name, which may hold an
// archive already, and fsyncs the directory: a crash leaves the old file
// or the new one there, never a mix. It returns the archive as written.
func (t *Temp) Replace() (*Written, error) {
	if t.dest == "" {
		return nil, errors.New("archive: temp file already committed or discarded")
	}
	if err := t.waitSync(); err != nil {
		return nil, err
	}
	dirfd := int(t.dir.Fd())
	if err := unix.Renameat(dirfd, t.name, dirfd, filepath.Base(t.dest)); err != nil {
		return nil, &fs.PathError{Op: "rename", Path: t.Path, Err: err}
	}
	w := t.Written
	w.Path = t.dest
	err := t.dir.Sync()
	t.close()
	if err != nil {
		return nil, fmt.Errorf("fsync %s: %w", filepath.Dir(t.dest), err)
	}
	return &w, nil
}

// Discard removes the temp file unless it was committed. It is safe to
// call more than once, and after Commit.
func (t *Temp) Discard() {
	if t.dest != "" {
		unix.Unlinkat(int(t.dir.Fd()), t.name, 0)
		t.close()
	}
}

func (t *Temp) close() {
	t.dest = ""
	if t.file != nil {
		t.file.Close() // drops the lock
		t.file = nil
	}
	t.dir.Close()
}

// ErrBusy is returned by Lock for an archive another writer holds.
var ErrBusy = errors.New("another gwwatchd is replacing it")

// Lock takes the lock of a writer that replaces the archive at path
// (Temp.Replace), without waiting: an open file description lock on the
// file that is at path when Lock returns, released by unlock or by the
// end of the process. Another writer that holds it gives ErrBusy. Readers
// take no lock and are not kept out.
func Lock(path string) (unlock func(), err error) {
	for range 100 {
		f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
		if err != nil {
			return nil, err
		}
		if err := lockOFD(f); err != nil {
			f.Close()
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
				return nil, fmt.Errorf("%s: %w", path, ErrBusy)
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// The writer before may have replaced the file since it was
		// opened: the lock must be on the file now at path.
		held, err1 := f.Stat()
		now, err2 := os.Lstat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return func() { f.Close() }, nil
		}
		f.Close()
		if err2 != nil {
			return nil, err2
		}
	}
	return nil, fmt.Errorf("%s: %w", path, ErrBusy)
}

// lockOFD takes an open file description write lock on all of f without
// waiting; the lock goes with the last close of f.
func lockOFD(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	return unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
}

// CollisionName is the name the i-th archive meant to be called name
// gets (name itself for i = 1). A LIGO-T010150 name,
// OBS-DESC-START-DURATION.EXT, takes the counter in its description,
// OBS-DESC_i-START-DURATION.EXT, so that every T010150 parser (gwpy's
// file_segment among them) still reads START and DURATION exactly; any
// other name takes it before its extension, NAME_i.EXT.
func CollisionName(name string, i int) string {
	if i <= 1 {
		return name
	}
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	if f := strings.Split(stem, "-"); len(f) == 4 && f[0] != "" && f[1] != "" && isDigits(f[2]) && isDigits(f[3]) {
		f[1] += "_" + strconv.Itoa(i)
		return strings.Join(f, "-") + ext
	}
	return stem + "_" + strconv.Itoa(i) + ext
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
			return fmt.Sprintf("archive name of %d bytes from the layout: at most %d bytes", len(name), MaxName)
		}
	}
	return ""
}

// Written describes an archive file on disk.
type Written struct {
	Path   string
	Size   int64
	SHA256 string // hex, of the whole file
}

// readBackBufs are the buffers of hashBack.
var readBackBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// sampleBytes is what the samples of c's series take as stored, their
// products aside. A type of unknown size counts as complex128's.
func (c *Content) sampleBytes() int64 {
	var n int64
	for _, e := range c.Entries {
		if e.Series == nil {
			continue
		}
		size := samples.Width(e.Series.DType)
		if size == 0 {
			size = 16
		}
		n += int64(e.Series.Len()) * int64(size)
	}
	return n
}

// writeImage writes the image of an HDF5 file made in memory into t's
// empty file, starts its flush to disk and hashes it.
func (t *Temp) writeImage(img []byte) (*Written, error) {
	if _, err := t.file.WriteAt(img, 0); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fs.PathError{Op: "write", Path: t.Path, Err: err}
	}
	t.startSync()
	sum := sha256.Sum256(img)
	return &Written{Size: int64(len(img)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// hashBack starts the flush to disk of t's file, closed by libhdf5 (whose
// own flush does not fsync), and reads it back to hash it meanwhile.
func (t *Temp) hashBack() (*Written, error) {
	t.startSync()
	h := sha256.New()
	// Large reads: an archive is read back as fast as the page cache
	// gives it, in few system calls.
	buf := readBackBufs.Get().(*[]byte)
	defer readBackBufs.Put(buf)
	n, err := io.CopyBuffer(h, io.NewSectionReader(t.file, 0, 1<<62), *buf)
	if err != nil {
		return nil, fmt.Errorf("read back %s: %w", t.Path, err)
	}
	return &Written{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// startSync starts the fsync of t's file. The file may be closed before
// it returns: an *os.File closes its descriptor only once the calls under
// way on it are done.
func (t *Temp) startSync() {
	synced := make(chan error, 1)
	t.synced = synced
	f := t.file
	go func() { synced <- f.Sync() }()
}

// waitSync waits for the fsync of t's file and returns its failure.
func (t *Temp) waitSync() error {
	if t.synced != nil {
		if err := <-t.synced; err != nil {
			t.syncErr = fmt.Errorf("fsync %s: %w", t.Path, err)
		}
		t.synced = nil
	}
	return t.syncErr
}

// Read reads a whole archive (or any HDF5 file of the types it knows).
func Read(path string) (*Doc, error) { return h5.Read(path) }

// StoredContentKey returns the content_key root attribute of an archive,
// or "" for an archive written before content keys.
func StoredContentKey(path string) (string, error) {
	attrs, err := h5.ReadRootAttrs(path)
	if err != nil {
		return "", err
	}
	return str(attrs, attrContentKey), nil
}
