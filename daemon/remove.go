package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/internal/durable"
)

// A source leaves its watch directory in three steps, each durable before
// the next: a removal_planned record naming every file that goes (the data
// file and its sidecar) and where; the moves or deletes; a source_moved or
// source_deleted record per file. A crash anywhere leaves a plan that the
// next start finds pending in the replayed log and finishes (recover), so
// every removal is in the log and a data file and its sidecar always go
// together. Paths below the watch, done and quarantine directories are
// walked without following symbolic links, and a move never replaces a
// file at its destination.

// maxName is the longest file name the file systems in use take, in bytes.
const maxName = 255

// removal is one plan being carried out: the plan as recorded, and the
// done or quarantine directory of a move.
type removal struct {
	seq uint64
	audit.RemovalPlanned
	root string
}

// plan chooses where the files of p go and records the plan. Its files are
// absolute paths in one directory below watchDir, with their sha256; a
// move goes to the same relative directory below root, each file under
// its own name or, when any of the names is taken, all of them with the
// same _2, _3, ... so that a data file and its sidecar keep matching
// stems.
func (d *Daemon) plan(watchDir, root string, p audit.RemovalPlanned) (*removal, error) {
	r := &removal{RemovalPlanned: p, root: root}
	r.Files = slices.Clone(p.Files)
	if r.Action != "delete" {
		relDir, err := relDir(watchDir, r.Files[0].Path)
		if err != nil {
			return nil, err
		}
		dir, err := durable.OpenDir(root, relDir, 0o750)
		if err != nil {
			return nil, err
		}
		defer dir.Close()
		for n := 1; ; n++ {
			free := true
			for i, f := range r.Files {
				name := suffixed(filepath.Base(f.Path), n)
				if _, err := durable.Lstatat(dir, name); !errors.Is(err, fs.ErrNotExist) {
					free = false
					break
				}
				r.Files[i].To = filepath.Join(root, relDir, name)
			}
			if free {
				break
			}
			if n > 10000 {
				return nil, fmt.Errorf("%s: more than 10000 files of this name in %s", filepath.Base(r.Files[0].Path), dir.Name())
			}
		}
	}
	r.ToDir = root
	seq, err := d.appendSeq(r.RemovalPlanned)
	if err != nil {
		return nil, err
	}
	r.seq = seq
	return r, nil
}

// toRemove lists files, with their sha256, for a plan.
func toRemove(files, shas []string) []audit.RemovalFile {
	out := make([]audit.RemovalFile, len(files))
	for i, f := range files {
		out[i] = audit.RemovalFile{Path: f, SHA256: shas[i]}
	}
	return out
}

// recordError is an append to the log that failed after its file was
// handled: the plan stays pending, to be finished once the log works.
type recordError struct{ err error }

func (e *recordError) Error() string { return e.err.Error() }
func (e *recordError) Unwrap() error { return e.err }

// carryOut moves or deletes files of the plan r (all of r.files, or what
// a crash left of them) and records each. A file that cannot be handled is
// recorded as abandoned with the reason, and the first such error is
// returned once every file was tried. When the log fails, it stops at once
// with a *recordError and leaves the plan pending. The caller holds
// removeMu.
func (d *Daemon) carryOut(r *removal, watchDir string, files []audit.RemovalFile) error {
	var first error
	for _, f := range files {
		err := d.removeOne(r, f, watchDir)
		if err == nil {
			continue
		}
		var re *recordError
		if errors.As(err, &re) {
			return err
		}
		if first == nil {
			first = err
		}
		if aerr := d.abandon(r.seq, f.Path, err.Error()); aerr != nil {
			return errors.Join(err, &recordError{aerr})
		}
	}
	return first
}

// stillPlanned checks that the file name in dir holds the bytes its plan
// names: a file written since is not the one whose removal was planned.
func stillPlanned(dir *os.File, name string, f audit.RemovalFile) error {
	sum, err := hashAt(dir, name)
	if err != nil {
		return err
	}
	if sum != f.SHA256 {
		return fmt.Errorf("%s changed since the removal was planned; kept", f.Path)
	}
	return nil
}

// record appends a record of a file handled.
func (d *Daemon) record(e audit.Event) error {
	if err := d.appendRecord(e); err != nil {
		return &recordError{err}
	}
	return nil
}

// removeOne moves or deletes one file of a plan, or finds it already done
// by an earlier run, and records it.
func (d *Daemon) removeOne(r *removal, f audit.RemovalFile, watchDir string) error {
	src, err := openParent(watchDir, f.Path, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	name := filepath.Base(f.Path)
	_, statErr := durable.Lstatat(src, name)
	present := statErr == nil
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return statErr
	}
	switch r.Action {
	case "delete":
		if present {
			if err := stillPlanned(src, name, f); err != nil {
				return err
			}
			if err := durable.RemoveAt(src, name); err != nil {
				return err
			}
		}
		return d.record(audit.SourceDeleted{Planned: r.seq, SourcePath: f.Path, SourceSHA256: f.SHA256, ArchivePath: r.ArchivePath})
	default:
		dst, err := openParent(r.root, f.To, 0o750)
		if err != nil {
			return err
		}
		defer dst.Close()
		toName := filepath.Base(f.To)
		_, dstErr := durable.Lstatat(dst, toName)
		arrived := dstErr == nil
		switch {
		case present && !arrived:
			if err := stillPlanned(src, name, f); err != nil {
				return err
			}
			if err := durable.MoveNoReplace(src, name, dst, toName); err != nil {
				return err
			}
		case present && arrived:
			// A copy across file systems that was linked into place
			// before the original could be removed: the same bytes at
			// both ends finish the move; anything else stays.
			there, err := hashAt(dst, toName)
			if err != nil {
				return err
			}
			if there != f.SHA256 {
				return fmt.Errorf("%s is taken by another file; %s kept", f.To, f.Path)
			}
			if err := durable.RemoveAt(src, name); err != nil {
				return err
			}
		case !present && !arrived:
			return fmt.Errorf("%s is neither at its path nor at %s", f.Path, f.To)
		case !present && arrived:
			// Moved before a crash, or gone and something else there.
			if there, err := hashAt(dst, toName); err != nil {
				return err
			} else if there != f.SHA256 {
				return fmt.Errorf("%s is gone, and %s holds other bytes", f.Path, f.To)
			}
		}
		return d.record(audit.SourceMoved{Planned: r.seq, SourcePath: f.Path, MovedTo: f.To, SourceSHA256: f.SHA256,
			ArchivePath: r.ArchivePath, Quarantine: r.Action == "quarantine"})
	}
}

func (d *Daemon) abandon(seq uint64, path, reason string) error {
	return d.appendRecord(audit.RemovalAbandoned{Planned: seq, SourcePath: path, Reason: reason})
}

// finishQuarantine writes the reason file beside the quarantined data
// file and the quarantined record, which closes the plan. When the data
// file could not be moved, the record says so and no reason file is
// written, as there is nothing beside which to write it.
func (d *Daemon) finishQuarantine(r *removal, moveErr error) (string, error) {
	data := r.Files[0]
	rec := audit.Quarantined{Planned: r.seq, SourcePath: data.Path, Reason: r.Reason}
	var noteErr error
	if dst, err := openParent(r.root, data.To, 0); err == nil {
		defer dst.Close()
		if sum, err := hashAt(dst, filepath.Base(data.To)); err == nil && sum == data.SHA256 {
			rec.QuarantinePath = data.To
			note := map[string]any{
				"source_path":      data.Path,
				"quarantined_path": data.To,
				"reason":           r.Reason,
				"time":             time.Now().UTC().Format(time.RFC3339Nano),
				"gwwatchd_version": buildinfo.Get().Version,
			}
			if moveErr != nil {
				note["not_moved"] = moveErr.Error()
			}
			b, _ := json.MarshalIndent(note, "", "  ")
			name := reasonName(filepath.Base(data.To))
			if noteErr = durable.WriteFileAt(dst, name, append(b, '\n'), 0o640); noteErr == nil {
				rec.ReasonFile = filepath.Join(filepath.Dir(data.To), name)
			}
		}
	}
	if moveErr != nil {
		rec.NotMoved = moveErr.Error()
	}
	if noteErr != nil {
		rec.ReasonFileError = noteErr.Error()
	}
	if err := d.appendRecord(rec); err != nil {
		return "", err
	}
	return rec.QuarantinePath, noteErr
}

// recoverRemovals finishes the removals a crash interrupted, as the log
// has them pending. The caller holds removeMu, or runs before the workers.
func (d *Daemon) recoverRemovals() {
	for _, p := range d.logx.Pending() {
		if len(p.Files) == 0 {
			continue
		}
		r := &removal{seq: p.Seq, RemovalPlanned: p.RemovalPlanned, root: d.plannedRoot(p)}
		var todo []audit.RemovalFile
		for _, f := range p.Files {
			if !f.Done {
				todo = append(todo, f)
			}
		}
		watchDir := d.watchDirOf(r.Files[0].Path)
		log := d.log.With(zap.String("source", r.Files[0].Path), zap.Uint64("planned", p.Seq), zap.String("action", p.Action))
		first := d.carryOut(r, watchDir, todo)
		if re := (*recordError)(nil); errors.As(first, &re) {
			log.Error("audit", zap.Error(first))
			return
		}
		if p.Action == "quarantine" && !p.Quarantined {
			if _, err := d.finishQuarantine(r, first); err != nil {
				log.Error("finishing an interrupted quarantine", zap.Error(err))
			}
		}
		if first != nil {
			log.Warn("finished an interrupted removal, not in full", zap.Error(first))
		} else {
			log.Info("finished an interrupted removal")
		}
	}
}

// plannedRoot is the done or quarantine directory a plan moves to.
func (d *Daemon) plannedRoot(p audit.Removal) string {
	if p.ToDir != "" {
		return p.ToDir
	}
	if len(p.Files) > 0 {
		return filepath.Dir(p.Files[0].To)
	}
	return ""
}

// watchDirOf is the watch directory a source path is below, or its own
// directory once no watch holds it any more.
func (d *Daemon) watchDirOf(path string) string {
	if w := d.cfg.Load().WatchOf(path); w != nil {
		return w.Dir
	}
	return filepath.Dir(path)
}

// openParent opens the directory of path, which lies below root, without
// following links below root; perm non-zero makes missing directories.
func openParent(root, path string, perm os.FileMode) (*os.File, error) {
	rel, err := relDir(root, path)
	if err != nil {
		return nil, err
	}
	return durable.OpenDir(root, rel, perm)
}

func relDir(root, path string) (string, error) {
	rel, err := filepath.Rel(root, filepath.Dir(path))
	if err != nil || (rel != "." && !filepath.IsLocal(rel)) {
		return "", fmt.Errorf("%s is not below %s", path, root)
	}
	return rel, nil
}

// hashAt returns the sha256 of the regular file name in dir, opened
// without following a link or blocking on a FIFO.
func hashAt(dir *os.File, name string) (string, error) {
	f, err := durable.OpenFileAt(dir, name, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return "", err
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", f.Name())
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// suffixed is the n-th free name for a file called name: as an archive's
// (archive.CollisionName, which keeps a LIGO-T010150 name's start and
// duration), or, where that would be too long, the stem cut to fit with
// _n before its extension.
func suffixed(name string, n int) string {
	if c := archive.CollisionName(name, n); len(c) <= maxName {
		return c
	}
	ext := filepath.Ext(name)
	stem, tail := strings.TrimSuffix(name, ext), fmt.Sprintf("_%d%s", n, ext)
	return cutUTF8(stem, maxName-len(tail)) + tail
}

// reasonName is the name of the reason file beside a quarantined file:
// NAME.reason.json, or for a name too long for that, as much of it as
// fits and 8 hex digits of its sha256 so that names stay distinct.
func reasonName(name string) string {
	const ext = ".reason.json"
	if len(name)+len(ext) <= maxName {
		return name + ext
	}
	sum := sha256.Sum256([]byte(name))
	tail := "-" + hex.EncodeToString(sum[:4]) + ext
	return cutUTF8(name, maxName-len(tail)) + tail
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}

// TidyMoves lists, and with remove removes, the temp files a copy across
// file systems or a reason file being written leaves in the done and
// quarantine directories when the daemon dies there. Only the daemon
// writes there, holding its lock, so before its workers start every such
// file is a crash's.
func TidyMoves(cfg *config.Config, remove bool) ([]string, error) {
	var found []string
	for _, dir := range cfg.MoveDirs() {
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if p == dir && errors.Is(err, fs.ErrNotExist) {
					return filepath.SkipDir
				}
				return err
			}
			if e.Type().IsRegular() && strings.HasPrefix(e.Name(), durable.TempPrefix) && strings.HasSuffix(e.Name(), ".tmp") {
				found = append(found, p)
				if remove {
					if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return found, err
		}
	}
	return found, nil
}
