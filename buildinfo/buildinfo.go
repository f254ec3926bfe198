// Package buildinfo reports which gwwatchd build is running and which
// library versions it was built with, for provenance records.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Version, Revision and Dirty are set at link time by the Makefile
// (-X github.com/gwwatchd/gwwatchd/buildinfo.Version=...). When they are
// not, they come from the build information the Go toolchain embeds.
var (
	Version  = ""
	Revision = ""
	Dirty    = ""
)

// Info describes this build.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Dirty     bool   `json:"dirty"`
	GoVersion string `json:"go_version"`
	Gonum     string `json:"gonum_version"`
	HDF5Go    string `json:"hdf5_go_version"`
}

var (
	once sync.Once
	info Info
)

// Get returns the build information, computed once.
func Get() Info {
	once.Do(func() { info = read() })
	return info
}

func read() Info {
	in := Info{Version: Version, Revision: Revision, Dirty: Dirty == "true", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Revision == "" {
					in.Revision = s.Value
				}
			case "vcs.modified":
				if Dirty == "" {
					in.Dirty = s.Value == "true"
				}
			}
		}
		for _, d := range bi.Deps {
			v := d.Version
			if d.Replace != nil {
				v = d.Replace.Version
			}
			switch d.Path {
			case "gonum.org/v1/gonum":
				in.Gonum = v
			case "gonum.org/v1/hdf5":
				in.HDF5Go = v
			}
		}
	}
	if in.Version == "" {
		in.Version = "devel"
	}
	if in.Revision == "" {
		in.Revision = "unknown"
	}
	if in.Gonum == "" {
		in.Gonum = "unknown"
	}
	if in.HDF5Go == "" {
		in.HDF5Go = "unknown"
	}
	return in
}

// PipelineVersion is the VCS revision with a "-dirty" suffix when the
// working tree had changes, as recorded in every archive.
func (in Info) PipelineVersion() string {
	v := in.Revision
	if in.Dirty && !strings.HasSuffix(v, "-dirty") {
		v += "-dirty"
	}
	return v
}
