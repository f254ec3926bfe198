package h5

// #include "h5shim.h"
import "C"

import (
	"errors"
	"syscall"

	"gonum.org/v1/hdf5"
)

// libhdf5 opens files without O_CLOEXEC, and takes a lock on each one
// while it is open. A process started while a file is open would inherit
// the descriptor and keep the lock held after the file is closed here, so
// that the next open of that file fails with "Resource temporarily
// unavailable" for as long as that process runs. Files are therefore
// opened under syscall.ForkLock, which keeps fork out until the new
// descriptor is marked close-on-exec, as the standard library does for
// its own descriptors.

// openFile opens an existing file by name, as hdf5.OpenFile.
func openFile(path string, flags int) (*hdf5.File, error) {
	return noInherit(func() (*hdf5.File, error) { return hdf5.OpenFile(path, flags) })
}

// createFile creates a file by name, as hdf5.CreateFile.
func createFile(path string, flags int) (*hdf5.File, error) {
	return noInherit(func() (*hdf5.File, error) { return hdf5.CreateFile(path, flags) })
}

func noInherit(open func() (*hdf5.File, error)) (*hdf5.File, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	f, err := open()
	if err != nil {
		return nil, err
	}
	if C.gw_cloexec(C.hid_t(f.ID())) < 0 {
		f.Close()
		return nil, errors.New("cannot mark libhdf5's descriptor close-on-exec")
	}
	return f, nil
}

// isHDF5 reports whether path holds an HDF5 file, as hdf5.IsHDF5; libhdf5
// opens the file to tell, and closes it before it returns.
func isHDF5(path string) bool {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	return hdf5.IsHDF5(path)
}
