package archive

import "github.com/gwwatchd/gwwatchd/internal/h5"

// The HDF5 document model of an archive; see package internal/h5.
type (
	Doc         = h5.Doc
	Dataset     = h5.Dataset
	Attr        = h5.Attr
	Compression = h5.Compression
)

// LibVersion returns the version of the libhdf5 in use.
func LibVersion() string { return h5.LibVersion() }
