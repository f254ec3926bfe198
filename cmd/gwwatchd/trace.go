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
	"time"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/internal/canonjson"
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
	fs.configFlag("configuration `file`")
	asJSON := fs.Bool("json", false, "print JSON")
	target, err := fs.parseOne(args, "archive path, source path or sha256 prefix")
	if err != nil {
		return err
	}
	cfg, err := fs.loadConfig()
	if err != nil {
		return err
	}
	ix, err := audit.Replay(cfg.Audit.Path)
	if err != nil {
		return err
	}
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
	lineages, err := audit.Lineages(cfg.Audit.Path, found)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]lineage, len(lineages))
		for i, l := range lineages {
			out[i] = lineage{Seq: l.Record.Seq, Time: l.Record.Time.Format(audit.TimeLayout), Host: l.Record.Host, Hash: l.Record.Hash,
				Archived: l.Record.Fields}
			for _, r := range l.Later {
				out[i].Later = append(out[i].Later, event{r.Seq, r.Time.Format(audit.TimeLayout), r.Event, r.Host, r.Fields})
			}
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for i, l := range lineages {
		if i > 0 {
			fmt.Fprintln(m.Stdout)
		}
		writeLineage(m.Stdout, l)
	}
	return nil
}

func writeLineage(w io.Writer, l audit.Lineage) {
	a, rec := l.Archived, l.Record
	fmt.Fprintf(w, "source     %s\n           %d bytes, mtime %s\n           sha256 %s\n",
		orDash(a.SourcePath), a.SourceSize, orDash(formatTime(a.SourceMtime)), orDash(a.SourceSHA256))
	if a.SidecarPath != "" {
		fmt.Fprintf(w, "sidecar    %s\n           sha256 %s\n", a.SidecarPath, a.SidecarSHA256)
	}
	fmt.Fprintf(w, "archived   %s on %s by gwwatchd %s (%s)\n           audit record %d, hash %s\n",
		rec.Time.Format(audit.TimeLayout), rec.Host, orDash(a.Version), orDash(a.Revision), rec.Seq, rec.Hash)
	fmt.Fprintf(w, "archive    %s\n           %d bytes, sha256 %s\n           archive_id %s\n",
		orDash(a.ArchivePath), a.ArchiveSize, orDash(a.ArchiveSHA256), orDash(a.ArchiveID))
	for _, list := range []struct {
		label string
		paths []string
	}{{"datasets", a.Datasets}, {"products", a.Products}} {
		for i, d := range list.paths {
			label := ""
			if i == 0 {
				label = list.label
			}
			fmt.Fprintf(w, "%-10s %s\n", label, d)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(a.Skipped)) {
		fmt.Fprintf(w, "skipped    %s: %s\n", p, a.Skipped[p])
	}
	if a.QuicklookPath != "" {
		fmt.Fprintf(w, "quicklook  %s\n           sha256 %s\n", a.QuicklookPath, a.QuicklookSHA256)
	} else if a.QuicklookError != "" {
		fmt.Fprintf(w, "quicklook  not written: %s\n", a.QuicklookError)
	}
	if a.Params != nil {
		b, _ := canonjson.Marshal(a.Params)
		fmt.Fprintf(w, "params     %s\n", b)
	}
	if len(l.Later) == 0 {
		fmt.Fprintln(w, "later      no later events")
	}
	for _, e := range l.Later {
		if r, ok := audit.As[audit.Reprocessed](e); ok {
			writeReprocessed(w, e, r)
			continue
		}
		b, _ := json.Marshal(e.Fields)
		fmt.Fprintf(w, "later      %d %s %s on %s: %s\n", e.Seq, e.Time.Format(audit.TimeLayout), e.Event, e.Host, b)
	}
}

// writeReprocessed writes a reprocessed record of an archive's lineage:
// when and by what, the products added, and the archive it made.
func writeReprocessed(w io.Writer, rec audit.Record, r audit.Reprocessed) {
	fmt.Fprintf(w, "reprocessed %s on %s by gwwatchd %s (%s)\n           audit record %d, hash %s\n",
		rec.Time.Format(audit.TimeLayout), rec.Host, orDash(r.Version), orDash(r.Revision), rec.Seq, rec.Hash)
	if r.Adopted {
		fmt.Fprintln(w, "           taken over as it was found, after a crash before its record")
	}
	for _, p := range r.Products {
		b, _ := canonjson.Marshal(p.ProductParams)
		fmt.Fprintf(w, "           added %s of %s: %s\n", p.StoredAs, p.Dataset, b)
	}
	fmt.Fprintf(w, "           %d bytes, sha256 %s (was %d bytes, sha256 %s)\n", r.ArchiveSize, r.ArchiveSHA256, r.PreviousSize, r.PreviousSHA256)
}

// orDash is s, or "-" for a field the record does not have.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// formatTime writes t as the log does, "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
