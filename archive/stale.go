package archive

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Leftovers is what ScanRoot found below an archive root besides archives.
type Leftovers struct {
	// Stale are temp archives no live writer holds: what a crash left.
	Stale []string
	// Held is how many temp archives a live writer holds.
	Held int
	// Links are symbolic links, which the writer never follows and never
	// makes: something else planted them.
	Links []string
}

// ScanRoot walks root without following links and lists its leftovers;
// with remove, it removes the stale temp archives it proves stale (by
// taking the lock that every live writer holds on its temp file), and
// lists those it removed. A root that does not exist has none.
func ScanRoot(root string, remove bool) (Leftovers, error) {
	var l Leftovers
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return err
		}
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			l.Links = append(l.Links, p)
		case e.Type().IsRegular() && strings.HasPrefix(e.Name(), TempPrefix) && strings.HasSuffix(e.Name(), TempSuffix):
			stale, err := staleTemp(p, remove)
			if err != nil {
				return err
			}
			if stale {
				l.Stale = append(l.Stale, p)
			} else {
				l.Held++
			}
		}
		return nil
	})
	return l, err
}

// staleTemp reports whether no writer holds the temp archive at p, and
// then removes it if asked, while holding its lock so that no writer can
// take it up meanwhile.
func staleTemp(p string, remove bool) (bool, error) {
	flags := os.O_RDWR
	if !remove {
		flags = os.O_RDONLY // a verifier may have no write access, and takes no lock
	}
	f, err := os.OpenFile(p, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // committed or discarded since it was listed
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if !remove {
		lk := unix.Flock_t{Type: unix.F_WRLCK}
		if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
			return false, err
		}
		return lk.Type == unix.F_UNLCK, nil
	}
	if err := lockOFD(f); err != nil {
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
			return false, nil
		}
		return false, err
	}
	if remove {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, err
		}
	}
	return true, nil
}
