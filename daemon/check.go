package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/pipeline"
)

// CheckArchives compares the archives the log names with the files: every
// archive written still exists with its logged sha256 (of its last
// "reprocessed" record, when it was reprocessed), every archive
// under archive.root appears in the log, and nothing else is there but
// the temp archives of live writers: no symbolic link, no temp archive a
// crash left; nor is there a symbolic link in a done or quarantine
// directory, nor a partial copy a crash left there. Each problem is where
// it is, a path, and what.
func CheckArchives(cfg *config.Config) ([]audit.Problem, error) {
	logged := map[string]string{} // archive path -> sha256, latest record
	err := audit.Scan(cfg.Audit.Path, func(rec audit.Record, _ []byte) error {
		if a, ok := audit.As[audit.Archived](rec); ok {
			logged[a.ArchivePath] = a.ArchiveSHA256
		}
		// A reprocessed archive is the one its last record says.
		if r, ok := audit.As[audit.Reprocessed](rec); ok {
			if _, known := logged[r.ArchivePath]; known {
				logged[r.ArchivePath] = r.ArchiveSHA256
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var issues []audit.Problem
	add := func(path, what string) { issues = append(issues, audit.Problem{Where: path, What: what}) }
	for _, p := range slices.Sorted(maps.Keys(logged)) {
		got, err := pipeline.FileSHA256(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			add(p, "archived in the log, but the file is gone")
		case err != nil:
			add(p, err.Error())
		case got != logged[p]:
			add(p, fmt.Sprintf("sha256 is %s, the log says %s", got, logged[p]))
		}
	}
	root, err := filepath.Abs(cfg.Archive.Root)
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		name := d.Name()
		if d.Type().IsRegular() && strings.HasSuffix(name, ".h5") && !strings.HasPrefix(name, archive.TempPrefix) {
			if _, ok := logged[p]; !ok {
				add(p, "an archive the log does not name")
			}
		}
		return nil
	})
	if err != nil {
		return issues, err
	}
	left, err := archive.ScanRoot(root, false)
	for _, p := range left.Links {
		add(p, "a symbolic link in the archive root, which gwwatchd never makes nor follows")
	}
	for _, p := range left.Stale {
		add(p, "a temp archive a crash left (the next gwwatchd run or ingest removes it)")
	}
	if err != nil {
		return issues, err
	}
	// Done and quarantine directories: a link there could have led a
	// move outside them, had gwwatchd followed it.
	for _, dir := range cfg.MoveDirs() {
		left, err := archive.ScanRoot(dir, false)
		if err != nil {
			return issues, err
		}
		for _, p := range left.Links {
			add(p, "a symbolic link in a done or quarantine directory, which gwwatchd never makes nor follows")
		}
	}
	stale, err := TidyMoves(cfg, false)
	for _, p := range stale {
		add(p, "a partial copy a crash left (the next gwwatchd run removes it)")
	}
	return issues, err
}
