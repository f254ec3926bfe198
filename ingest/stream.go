package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// chunkSize is how much of a file is read, and handed to the hasher, at a
// time: large enough that a read costs little per byte, small enough that
// hashing starts soon and a buffer of it is no burden.
const chunkSize = 4 << 20

// openFile is a data file opened for reading piece by piece, with what its
// descriptor said when it was opened, so that a change while it is read
// shows.
type openFile struct {
	f             *os.File
	path, errPath string
	id            FileID
	before        os.FileInfo
	size          int64
}

// openChecked opens a regular file with openRegular and checks it before
// anything is read: that it is the file expect identifies, when set, and
// that it is no larger than limit, so that nothing is allocated for a
// file too large. errPath names the data file in any InputError. The
// caller closes the file.
func openChecked(path, errPath string, limit int64, expect *FileID) (*openFile, error) {
	f, id, err := openRegular(path, errPath)
	if err != nil {
		return nil, err
	}
	o, err := checkOpen(f, id, path, errPath, limit, expect)
	if err != nil {
		f.Close()
		return nil, err
	}
	return o, nil
}

func checkOpen(f *os.File, id FileID, path, errPath string, limit int64, expect *FileID) (*openFile, error) {
	if expect != nil && *expect != id {
		return nil, fmt.Errorf("ingest: %s: %w: device %d inode %d size %d, expected device %d inode %d size %d",
			path, ErrChanged, id.Dev, id.Ino, id.Size, expect.Dev, expect.Ino, expect.Size)
	}
	before, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if before.Size() > limit || int64(int(before.Size())) != before.Size() {
		return nil, inputErr(errPath, nil, fmt.Sprintf("%s is %d bytes, more than the limit of %d", path, before.Size(), limit))
	}
	return &openFile{f: f, path: path, errPath: errPath, id: id, before: before, size: before.Size()}, nil
}

func (o *openFile) close() { o.f.Close() }

// source describes the file as it was opened, all but its sha256.
func (o *openFile) source() Source {
	return Source{Path: o.path, Size: o.size, ModTime: o.before.ModTime().UTC(), ID: o.id}
}

// readAt fills p with the bytes of the file from off, which the size it
// had when opened says are there.
func (o *openFile) readAt(p []byte, off int64) error {
	if _, err := o.f.ReadAt(p, off); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return o.shrank()
		}
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

func (o *openFile) shrank() error {
	return fmt.Errorf("ingest: %s: %w: it shrank", o.path, ErrChanged)
}

// readHashed fills dst with the bytes of the file from off, a chunk at a
// time, handing each chunk to h as soon as it is read. The chunks are
// dst's own memory: dst must not be written to until h is done.
func (o *openFile) readHashed(dst []byte, off int64, h *chunkHash) error {
	for len(dst) > 0 {
		n := min(len(dst), chunkSize)
		if err := o.readAt(dst[:n], off); err != nil {
			return err
		}
		h.add(dst[:n])
		dst, off = dst[n:], off+int64(n)
	}
	return nil
}

// check tells, with an error wrapping ErrChanged, whether the file is no
// longer as it was opened: it holds a byte past the size it had, or its
// descriptor gives another size or modification time. Work done on what
// was read of it is valid only if check returns nil after the reading.
func (o *openFile) check() error {
	var extra [1]byte
	if n, _ := o.f.ReadAt(extra[:], o.size); n > 0 {
		return fmt.Errorf("ingest: %s: %w: it grew", o.path, ErrChanged)
	}
	after, err := o.f.Stat()
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	id, _ := idOf(after)
	if id.Dev != o.id.Dev || id.Ino != o.id.Ino || after.Size() != o.size || !after.ModTime().Equal(o.before.ModTime()) {
		return fmt.Errorf("ingest: %s: %w", o.path, ErrChanged)
	}
	return nil
}

// changedOr returns the error check gives, if any, in place of err, an
// InputError found in what was read: a file that changed while it was read
// is not refused for what it held meanwhile, as it would not be had it
// been read whole before being looked at.
func (o *openFile) changedOr(err error) error {
	if !IsInputError(err) {
		return err
	}
	if cerr := o.check(); cerr != nil {
		return cerr
	}
	return err
}

// chunkHash computes the sha256 of a file in a goroutine of its own from
// the pieces of it handed to it in order, so that hashing overlaps
// reading.
type chunkHash struct {
	c    chan []byte
	done chan string
	hex  string
}

func newChunkHash() *chunkHash {
	c := make(chan []byte, 8)
	h := &chunkHash{c: c, done: make(chan string, 1)}
	go func() {
		d := sha256.New()
		for b := range c {
			d.Write(b)
		}
		h.done <- hex.EncodeToString(d.Sum(nil))
	}()
	return h
}

// add hashes b next; b must not change until sum returns.
func (h *chunkHash) add(b []byte) { h.c <- b }

// sum waits for every piece added to be hashed and returns the hash in
// hex. After the first call, it returns the same again.
func (h *chunkHash) sum() (string, error) {
	if h.c != nil {
		close(h.c)
		h.c = nil
		h.hex = <-h.done
	}
	return h.hex, nil
}

// hashFile starts hashing the file, all the size it had when opened, in a
// goroutine of its own through a buffer of its own, and returns a
// function that waits for the hash, or for an error wrapping ErrChanged if
// the file ends sooner. It reads by offset, so that other reads of the
// file may go on meanwhile; the file must stay open until the wait
// returns.
func (o *openFile) hashFile() (wait func() (string, error)) {
	type result struct {
		hex string
		err error
	}
	c := make(chan result, 1)
	go func() {
		d := sha256.New()
		n, err := io.CopyBuffer(d, io.NewSectionReader(o.f, 0, o.size), make([]byte, 1<<20))
		switch {
		case err != nil:
			c <- result{err: fmt.Errorf("ingest: %w", err)}
		case n < o.size:
			c <- result{err: o.shrank()}
		default:
			c <- result{hex: hex.EncodeToString(d.Sum(nil))}
		}
	}()
	var r *result
	return func() (string, error) {
		if r == nil {
			x := <-c
			r = &x
		}
		return r.hex, r.err
	}
}

// readNPYHead reads the fixed prefix of a .npy file and, where the prefix
// declares a header length within maxNPYHeader and the file's size, the
// header: what npyLayout needs, and no more than maxNPYHeader past the
// prefix whatever the file says. A header length out of bounds is left to
// npyLayout to refuse with its reason.
func (o *openFile) readNPYHead() ([]byte, error) {
	size := o.size
	head := make([]byte, min(size, 12))
	if err := o.readAt(head, 0); err != nil {
		return nil, err
	}
	if len(head) >= 12 && string(head[:6]) == npyMagic {
		var hlen int64
		switch head[6] {
		case 1:
			hlen = 10 + (int64(head[8]) | int64(head[9])<<8)
		case 2, 3:
			hlen = 12 + (int64(head[8]) | int64(head[9])<<8 | int64(head[10])<<16 | int64(head[11])<<24)
		}
		if hlen > 12 && hlen <= 12+maxNPYHeader && hlen <= size {
			whole := make([]byte, hlen)
			copy(whole, head)
			if err := o.readAt(whole[12:], 12); err != nil {
				return nil, err
			}
			head = whole
		}
	}
	return head, nil
}
