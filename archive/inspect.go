package archive

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Summary is what inspect shows of an archive: the tree with attribute
// counts, the provenance and parameters of each dataset, and parent links.
type Summary struct {
	Path     string           `json:"path"`
	Audit    *AuditRef        `json:"audit,omitempty"`
	Attrs    map[string]any   `json:"attributes"`
	Datasets []DatasetSummary `json:"datasets"`
}

// AuditRef names the audit record that logged an archive.
type AuditRef struct {
	Log  string `json:"log"`
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// DatasetSummary describes one dataset.
type DatasetSummary struct {
	Path   string         `json:"path"`
	DType  string         `json:"dtype"`
	Shape  []uint         `json:"shape"`
	Attrs  map[string]any `json:"attributes"`
	Params any            `json:"params,omitempty"`
	Parent string         `json:"parent_dataset,omitempty"`
	// ViewOf is the dataset a view for gwpy maps (see ViewPath).
	ViewOf string `json:"view_of,omitempty"`
}

// Summarize reads an archive for inspection.
func Summarize(path string) (*Summary, error) {
	doc, err := Read(path)
	if err != nil {
		return nil, err
	}
	s := &Summary{Path: path, Attrs: attrMap(doc.Attrs)}
	if pj, ok := s.Attrs["prov_json"].(string); ok {
		var v any
		if json.Unmarshal([]byte(pj), &v) == nil {
			s.Attrs["prov_json"] = v
		}
	}
	for _, d := range doc.Datasets {
		ds := DatasetSummary{Path: d.Path, DType: dtypeName(d.Data), Shape: d.Dims, Attrs: attrMap(d.Attrs), ViewOf: d.Virtual}
		if d.Virtual != "" {
			if src := doc.Dataset(d.Virtual); src != nil {
				ds.DType = dtypeName(src.Data)
			}
		}
		if pj, ok := ds.Attrs["params_json"].(string); ok {
			var v any
			if json.Unmarshal([]byte(pj), &v) == nil {
				ds.Params = v
			}
		}
		ds.Parent, _ = ds.Attrs["parent_dataset"].(string)
		s.Datasets = append(s.Datasets, ds)
	}
	// Raw series first, then their products, then the views for gwpy.
	rank := func(d DatasetSummary) int {
		switch {
		case strings.HasPrefix(d.Path, "/raw/"):
			return 0
		case d.ViewOf != "":
			return 2
		}
		return 1
	}
	sort.SliceStable(s.Datasets, func(i, j int) bool { return rank(s.Datasets[i]) < rank(s.Datasets[j]) })
	return s, nil
}

func attrMap(attrs []Attr) map[string]any {
	m := make(map[string]any, len(attrs))
	for _, a := range attrs {
		m[a.Name] = a.Value
	}
	return m
}

// val prints an attribute value; floats in full, without exponents for
// GPS times.
func val(v any) string {
	if f, ok := v.(float64); ok {
		if math.Abs(f) >= 1e-3 && math.Abs(f) < 1e15 || f == 0 {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func dtypeName(data any) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", data), "[]")
}

var provenanceKeys = []string{"gwwatchd_version", "pipeline_version", "go_version", "hdf5_version", "gonum_version", "hostname", "created_utc"}

// WriteText prints the summary for people.
func (s *Summary) WriteText(w io.Writer) error {
	a := s.Attrs
	fmt.Fprintf(w, "archive  %s\n", s.Path)
	fmt.Fprintf(w, "format   %v v%v, created %v\n", a["format"], a["format_version"], a["created_utc"])
	fmt.Fprintf(w, "source   %v\n         %v bytes, mtime %v\n         sha256 %v\n", a["source_path"], a["source_size"], a["source_mtime_utc"], a["source_sha256"])
	if sc, ok := a["sidecar_path"]; ok {
		fmt.Fprintf(w, "sidecar  %v\n         sha256 %v\n", sc, a["sidecar_sha256"])
	}
	fmt.Fprintf(w, "id       %v\n", a["archive_id"])
	if r := s.Audit; r != nil {
		fmt.Fprintf(w, "audit    record %d in %s\n         hash %s\n", r.Seq, r.Log, r.Hash)
	}
	fmt.Fprintln(w, "\nstructure")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  /\t\t%d attributes\n", len(s.Attrs))
	for _, d := range s.Datasets {
		fmt.Fprintf(tw, "  %s\t%s %v\t%d attributes\n", d.Path, d.DType, d.Shape, len(d.Attrs))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range s.Datasets {
		fmt.Fprintf(w, "\n%s\n", d.Path)
		da := d.Attrs
		if d.ViewOf != "" {
			fmt.Fprintf(w, "  view of          %s, for gwpy\n", d.ViewOf)
			for _, k := range []string{"name", "channel", "unit", "x0", "dx", "y0", "dy"} {
				if v, ok := da[k]; ok {
					fmt.Fprintf(w, "  %-16s %s\n", k, val(v))
				}
			}
			continue
		}
		if p, ok := da["product"]; ok {
			fmt.Fprintf(w, "  product          %v\n  parent_dataset   %v\n  processing_step  %v\n", p, da["parent_dataset"], da["processing_step"])
		} else {
			fmt.Fprintf(w, "  channel          %s\n  t0               %s\n  dt               %s\n  sample_rate      %s\n  unit             %s\n",
				val(da["channel"]), val(da["t0"]), val(da["dt"]), val(da["sample_rate"]), val(da["unit"]))
			for _, k := range []string{"asd_skipped", "spectrogram_skipped"} {
				if v, ok := da[k]; ok {
					fmt.Fprintf(w, "  %-16s %v\n", k, v)
				}
			}
		}
		if da["product"] != nil {
			fmt.Fprintf(w, "  unit             %s\n", val(da["unit"]))
			for _, k := range []string{"t0", "dt", "f0", "df"} {
				if v, ok := da[k]; ok {
					fmt.Fprintf(w, "  %-16s %s\n", k, val(v))
				}
			}
		}
		fmt.Fprintf(w, "  data_sha256      %v\n", da["data_sha256"])
		fmt.Fprint(w, "  provenance      ")
		for _, k := range provenanceKeys {
			fmt.Fprintf(w, " %s=%s", k, val(da[k]))
		}
		fmt.Fprintln(w)
		if d.Params != nil {
			b, _ := json.Marshal(d.Params)
			fmt.Fprintf(w, "  params           %s\n", b)
		}
	}
	return nil
}
