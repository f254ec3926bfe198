package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
)

// lineage is what trace reports of one archive.
type lineage struct {
	Seq      uint64         `json:"seq"`
	Time     string         `json:"time"`
	Host     string         `json:"host"`
	Hash     string         `json:"hash"`
	Archived map[string]any `json:"archived"`
	Later    []event        `json:"later_events"`
}

type event struct {
	Seq    uint64         `json:"seq"`
	Time   string         `json:"time"`
	Event  string         `json:"event"`
	Host   string         `json:"host"`
	Fields map[string]any `json:"fields"`
}

var traceHelp = help{
	Synopsis: "trace [--config F] [--json] ARCHIVE|SOURCE|SHA256-PREFIX",
	Text: `Prints the lineage of an archive from the audit log: its source, when, on
which host and by which version it was archived, its datasets, products
and parameters, and every later event about it. The target is an archive
path, a source path, or a sha256 prefix of a source or an archive. Exits 1
when nothing matches.`,
	Example: `gwwatchd trace var/archive/K/13000/K-K1_DARM-1300000000-64.h5
gwwatchd trace --json 3fa9c2e1`,
}

func (m *Main) trace(args []string) error {
	fs := m.newFlagSet("trace", traceHelp)
	cfgPath := fs.String("config", "", "configuration `file`")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fs.usageError("give one archive path, source path or sha256 prefix")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	ix, err := audit.Replay(cfg.Audit.Path)
	if err != nil {
		return err
	}
	target := rest[0]
	var found []audit.Archive
	if _, err := os.Stat(target); err == nil || strings.ContainsRune(target, filepath.Separator) {
		abs, err := filepath.Abs(target)
		if err != nil {
			return err
		}
		if a, ok := ix.ByArchivePath(abs); ok {
			found = append(found, a)
		} else {
			found = ix.BySourcePath(abs)
		}
	} else if found, err = ix.ByHashPrefix(target); err != nil {
		return &problemError{fmt.Errorf("trace: %q is neither an existing file nor a sha256 prefix", target)}
	}
	if len(found) == 0 {
		fmt.Fprintf(m.Stderr, "gwwatchd: trace: nothing in %s matches %s\n", cfg.Audit.Path, target)
		return &exitCodeError{exitProblems}
	}
	out, err := collectLineage(cfg.Audit.Path, found)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for i, l := range out {
		if i > 0 {
			fmt.Fprintln(m.Stdout)
		}
		writeLineage(m.Stdout, l)
	}
	return nil
}

// collectLineage reads the log once for the archived records of found and
// every later record about the same source or archive.
func collectLineage(path string, found []audit.Archive) ([]lineage, error) {
	out := make([]lineage, len(found))
	bySeq := map[uint64]int{}
	for i, a := range found {
		bySeq[a.Seq] = i
	}
	err := audit.Scan(path, func(rec audit.Record, _ []byte) error {
		if i, ok := bySeq[rec.Seq]; ok {
			out[i] = lineage{Seq: rec.Seq, Time: rec.Time.Format(audit.TimeLayout), Host: rec.Host, Hash: rec.Hash, Archived: rec.Fields}
			return nil
		}
		for i, a := range found {
			if rec.Seq <= a.Seq {
				continue
			}
			if rec.String("source_sha256") == a.SourceSHA256 || rec.String("archive_path") == a.ArchivePath ||
				rec.String("source_path") == a.SourcePath {
				out[i].Later = append(out[i].Later, event{rec.Seq, rec.Time.Format(audit.TimeLayout), rec.Event, rec.Host, rec.Fields})
			}
		}
		return nil
	})
	return out, err
}

func writeLineage(w io.Writer, l lineage) {
	f := l.Archived
	get := func(k string) any {
		if v, ok := f[k]; ok {
			return v
		}
		return "-"
	}
	fmt.Fprintf(w, "source     %v\n           %v bytes, mtime %v\n           sha256 %v\n", get("source_path"), get("source_size"), get("source_mtime"), get("source_sha256"))
	if _, ok := f["sidecar_path"]; ok {
		fmt.Fprintf(w, "sidecar    %v\n           sha256 %v\n", f["sidecar_path"], f["sidecar_sha256"])
	}
	fmt.Fprintf(w, "archived   %s on %s by gwwatchd %v (%v)\n           audit record %d, hash %s\n", l.Time, l.Host, get("version"), get("revision"), l.Seq, l.Hash)
	fmt.Fprintf(w, "archive    %v\n           %v bytes, sha256 %v\n           archive_id %v\n", get("archive_path"), get("archive_size"), get("archive_sha256"), get("archive_id"))
	for _, k := range []string{"datasets", "products"} {
		if list, ok := f[k].([]any); ok {
			for i, d := range list {
				label := ""
				if i == 0 {
					label = k
				}
				fmt.Fprintf(w, "%-10s %v\n", label, d)
			}
		}
	}
	if sk, ok := f["skipped"].(map[string]any); ok {
		for _, p := range slices.Sorted(maps.Keys(sk)) {
			fmt.Fprintf(w, "skipped    %s: %v\n", p, sk[p])
		}
	}
	if q, ok := f["quicklook_path"]; ok {
		fmt.Fprintf(w, "quicklook  %v\n           sha256 %v\n", q, f["quicklook_sha256"])
	} else if e, ok := f["quicklook_error"]; ok {
		fmt.Fprintf(w, "quicklook  not written: %v\n", e)
	}
	if p, ok := f["params"]; ok {
		b, _ := json.Marshal(p)
		fmt.Fprintf(w, "params     %s\n", b)
	}
	if len(l.Later) == 0 {
		fmt.Fprintln(w, "later      no later events")
	}
	for _, e := range l.Later {
		b, _ := json.Marshal(e.Fields)
		fmt.Fprintf(w, "later      %d %s %s on %s: %s\n", e.Seq, e.Time, e.Event, e.Host, b)
	}
}
