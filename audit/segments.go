package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// rotatedName is the name segment n of the log at path gets when rotated.
func rotatedName(path string, n int) string {
	return path + "." + strconv.Itoa(n)
}

// rotatedSegments returns the numbers of the rotated segments of the log
// at path, in increasing order.
func rotatedSegments(path string) ([]int, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ns []int
	for _, e := range ents {
		suffix, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok || suffix == "" || suffix[0] == '0' || e.IsDir() {
			continue
		}
		n, err := strconv.Atoi(suffix)
		if err != nil || n <= 0 {
			continue
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns, nil
}

// Segments returns the files of the log at path, oldest first: the rotated
// segments path.1, path.2, … in numeric order, then the active segment path
// itself if it exists.
func Segments(path string) ([]string, error) {
	ns, err := rotatedSegments(path)
	if err != nil {
		return nil, fmt.Errorf("list audit segments: %w", err)
	}
	names := make([]string, 0, len(ns)+1)
	for _, n := range ns {
		names = append(names, rotatedName(path, n))
	}
	if _, err := os.Stat(path); err == nil {
		names = append(names, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list audit segments: %w", err)
	}
	return names, nil
}

// snapshot is a consistent view of the log for a reader: the rotated
// segments, which never change, and the active segment up to the size it
// had while the reader held the shared lock, which is always the end of a
// whole append.
type snapshot struct {
	rotated    []string
	active     *os.File
	activeName string
	activeSize int64
}

// takeSnapshot lists and opens the log under a shared lock, so that a
// rotation or append in progress is either wholly seen or not at all. A
// log without a lock file (a copy, or one no writer has opened) is read
// as it is. also, if not nil, runs under the same lock, to read state
// that must agree with the snapshot.
func takeSnapshot(path string, also func() error) (*snapshot, error) {
	lock, err := os.Open(path + ".lock")
	if err == nil {
		defer lock.Close()
		if err := flock(lock, lockShared); err != nil {
			return nil, err
		}
		defer flock(lock, lockRelease)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ns, err := rotatedSegments(path)
	if err != nil {
		return nil, err
	}
	s := &snapshot{activeName: path}
	for _, n := range ns {
		s.rotated = append(s.rotated, rotatedName(path, n))
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if also != nil {
			if err := also(); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s.active, s.activeSize = f, fi.Size()
	if also != nil {
		if err := also(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *snapshot) close() {
	if s.active != nil {
		s.active.Close()
	}
}

// names returns the segment names in order.
func (s *snapshot) names() []string {
	names := slices.Clone(s.rotated)
	if s.active != nil {
		names = append(names, s.activeName)
	}
	return names
}

// lineFunc receives one line of a segment without its newline, its number
// from 1 and its offset. complete is false for a last line that has no
// newline. line is only valid during the call.
type lineFunc func(seg string, n int, off int64, line []byte, complete bool) error

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

// each calls fn for every line of every segment in order.
func (s *snapshot) each(fn lineFunc) error {
	for _, name := range s.rotated {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = readLines(f, filepath.Base(name), fn)
		f.Close()
		if err != nil {
			return err
		}
	}
	if s.active == nil {
		return nil
	}
	return readLines(io.NewSectionReader(s.active, 0, s.activeSize), filepath.Base(s.activeName), fn)
}

// lineReaders keeps the 1 MiB readers of readLines for the next read of a
// segment.
var lineReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 1<<20) }}

// readLines calls fn for each line of r. A line given to fn is valid until
// fn returns.
func readLines(r io.Reader, seg string, fn lineFunc) error {
	br := lineReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		lineReaders.Put(br)
	}()
	var long []byte // a line longer than the buffer, being assembled
	partial := false
	var off int64
	n := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			partial = true
			continue
		}
		line := chunk
		if partial {
			long = append(long, chunk...)
			line = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if len(line) > 0 {
			n++
			complete := line[len(line)-1] == '\n'
			if complete {
				line = line[:len(line)-1]
			}
			if ferr := fn(seg, n, off, line, complete); ferr != nil {
				return ferr
			}
			off += int64(len(line))
			if complete {
				off++
			}
		}
		long, partial = long[:0], false
		if err != nil {
			return nil
		}
	}
}
