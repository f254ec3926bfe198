package pipeline

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
)

var updateLayout = flag.Bool("update-layout", false, "rewrite testdata/layout from the archives written now")

// TestLayoutUnchanged: the archives the pipeline writes, with the default
// configuration, with the chain of testdata/config/chain.toml, and
// reprocessed with testdata/config/reprocess.toml, hold what they held
// when testdata/layout was written: every attribute (params_json and
// prov_json parsed), every dataset's shape and data_sha256 of its
// values, every view. What changes from one run to the next (ids, times,
// paths, host, versions) is masked.
func TestLayoutUnchanged(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH != "amd64" {
		t.Skip("the golden values were computed on amd64, where Go fuses no multiply-adds")
	}
	chainCfg := func(file string) func(*config.Config) {
		return func(cfg *config.Config) { *cfg = *configFile(t, file, cfg.Archive.Root) }
	}
	for _, tc := range []struct {
		name      string
		cfg       func(*config.Config)
		reprocess string
	}{
		{"default", func(*config.Config) {}, ""},
		{"chain", chainCfg("chain.toml"), ""},
		{"reprocessed", func(*config.Config) {}, "reprocess.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, opts := fixture(t, synth.Coloured(16*1024, 1024, 50, 5), 16)
			tc.cfg(opts.Config)
			p := New(opts)
			p.host = "host"
			ctx := context.Background()
			res, err := p.Process(ctx, src, ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.reprocess != "" {
				var cfg config.Config
				chainCfg(tc.reprocess)(&cfg)
				if _, err := p.Reprocess(ctx, res.Archive, cfg.Processing.Chain(), res.Record.ArchiveSHA256); err != nil {
					t.Fatal(err)
				}
			}
			got := dumpLayout(t, res.Archive)
			golden := filepath.Join("testdata", "layout", tc.name+".txt")
			if *updateLayout {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := range min(len(g), len(w)) {
					if g[i] != w[i] {
						t.Fatalf("%s line %d:\ngot  %s\nwant %s", golden, i+1, g[i], w[i])
					}
				}
				t.Fatalf("%s: got %d lines, want %d", golden, len(g), len(w))
			}
		})
	}
}

// maskedAttrs are the attributes that differ from one run to the next.
var maskedAttrs = map[string]bool{
	"archive_id": true, "created_utc": true, "hostname": true, "source_path": true, "source_mtime_utc": true,
	"sidecar_path": true, "gwwatchd_version": true, "pipeline_version": true, "go_version": true,
	"hdf5_version": true, "gonum_version": true,
}

// maskedProv are the members of a PROV-JSON statement that do.
var maskedProv = map[string]bool{
	"prov:startTime": true, "prov:endTime": true, "gw:path": true, "gw:mtime_utc": true, "gw:host": true,
	"gw:version": true, "gw:revision": true, "gw:go_version": true, "gw:hdf5_version": true, "gw:gonum_version": true,
}

// dumpLayout is the archive at path as text, one line per attribute and
// dataset, with maskedAttrs and maskedProv masked.
func dumpLayout(t *testing.T, path string) string {
	t.Helper()
	doc, err := archive.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	attrs := func(indent string, as []archive.Attr) {
		for _, a := range as {
			v := a.Value
			switch {
			case maskedAttrs[a.Name]:
				v = "*"
			case a.Name == "prov_json" || a.Name == "params_json":
				v = maskJSON(t, v.(string))
			}
			fmt.Fprintf(&b, "%s@%s %T %v\n", indent, a.Name, a.Value, v)
		}
	}
	attrs("", doc.Attrs)
	ds := slices.Clone(doc.Datasets)
	slices.SortFunc(ds, func(x, y archive.Dataset) int { return strings.Compare(x.Path, y.Path) })
	for _, d := range ds {
		if d.Virtual != "" {
			fmt.Fprintf(&b, "%s -> %s\n", d.Path, d.Virtual)
		} else {
			fmt.Fprintf(&b, "%s %T %v sha256 %s\n", d.Path, d.Data, d.Dims, archive.DataSHA256(d.Data))
		}
		attrs("  ", d.Attrs)
	}
	return b.String()
}

// reprocessAgent is the PROV agent of a reprocess, named by its time.
var reprocessAgent = regexp.MustCompile(`gw:gwwatchd-[0-9T.]+Z`)

func maskJSON(t *testing.T, s string) string {
	s = reprocessAgent.ReplaceAllString(s, "gw:gwwatchd-*")
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	var mask func(any)
	mask = func(v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				if maskedProv[k] {
					m[k] = "*"
				} else {
					mask(x)
				}
			}
		}
	}
	mask(v)
	out, _ := json.Marshal(v) // sorted keys
	return string(out)
}
