package h5

import "os"

// ReadDataset reads the values of one dataset of an HDF5 file, at a path
// such as "/raw/K1:X" that Select found in it, after checking its storage
// as Select does; of a view of another dataset (Dataset.Virtual) it reads
// none. No attributes are read. It is for a file whose attributes were
// read before and that has not changed since: the path is resolved as
// libhdf5 resolves it.
func ReadDataset(path, dataset string) (*Dataset, error) {
	var d *Dataset
	err := run(func() error {
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		r := &reader{path: path, size: fi.Size(), opt: ReadOptions{
			Attrs: func(*Dataset) bool { return false },
			Data:  func(d *Dataset) (bool, error) { return d.Virtual == "", nil },
		}}
		f, root, err := r.open()
		if err != nil {
			return err
		}
		defer f.Close()
		defer root.Close()
		d, err = r.dataset(root, dataset, dataset)
		return err
	})
	return d, err
}
