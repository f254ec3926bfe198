package archive

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
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
	// Name and Version are a product's (see Product): "bp" and 2 for
	// /processed/<dataset>/bp@2.
	Name    string `json:"product_name,omitempty"`
	Version int    `json:"product_version,omitempty"`
	// ViewOf is the dataset a view for gwpy maps (see ViewPath).
	ViewOf string `json:"view_of,omitempty"`
}

// Summary is what inspect shows of the archive. It reads no values.
func (a *Archive) Summary() *Summary {
	s := &Summary{Path: a.Path, Attrs: attrMap(a.attrs)}
	if v, ok := parsed(a.ProvJSON); ok {
		s.Attrs[attrProvJSON] = v
	}
	products := make(map[*Object]*Product, len(a.Products))
	for _, p := range a.Products {
		products[p.Object] = p
	}
	add := func(o *Object, params, parent string) {
		ds := DatasetSummary{Path: o.Path, DType: o.DType, Shape: o.Shape, Attrs: attrMap(o.attrs), Parent: parent}
		if p := products[o]; p != nil {
			ds.Name, ds.Version = p.Name, p.Version
		}
		ds.Params, _ = parsed(params)
		s.Datasets = append(s.Datasets, ds)
	}
	// Raw series first, then their products and other datasets, then the
	// views for gwpy; each in the order stored.
	for _, raw := range []bool{true, false} {
		for _, o := range a.objects {
			if _, ok := rawName(o.Path); ok == raw && o.virtual == "" {
				add(o, str(o.attrs, attrParamsJSON), str(o.attrs, attrParent))
			}
		}
	}
	for _, v := range a.Views {
		add(v.Object, "", "")
		ds := &s.Datasets[len(s.Datasets)-1]
		ds.ViewOf, ds.DType = v.Of, "<nil>"
		if src := a.Object(v.Of); src != nil {
			ds.DType = src.DType
		}
	}
	return s
}

// parsed is the JSON value of s, if s holds one.
func parsed(s string) (any, bool) {
	var v any
	if s == "" || json.Unmarshal([]byte(s), &v) != nil {
		return nil, false
	}
	return v, true
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

// WriteText prints the summary for people.
func (s *Summary) WriteText(w io.Writer) error {
	a := s.Attrs
	fmt.Fprintf(w, "archive  %s\n", s.Path)
	fmt.Fprintf(w, "format   %v v%v, created %v\n", a[attrFormat], a[attrFormatVersion], a[attrCreated])
	fmt.Fprintf(w, "source   %v\n         %v bytes, mtime %v\n         sha256 %v\n", a[attrSourcePath], a[attrSourceSize], a[attrSourceMtime], a[attrSourceSHA256])
	if sc, ok := a[attrSidecarPath]; ok {
		fmt.Fprintf(w, "sidecar  %v\n         sha256 %v\n", sc, a[attrSidecarSHA256])
	}
	fmt.Fprintf(w, "id       %v\n", a[attrArchiveID])
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
	if err := s.writeLineage(w); err != nil {
		return err
	}
	for _, d := range s.Datasets {
		fmt.Fprintf(w, "\n%s\n", d.Path)
		da := d.Attrs
		if d.ViewOf != "" {
			fmt.Fprintf(w, "  view of          %s, for gwpy\n", d.ViewOf)
			for _, k := range []string{attrName, attrChannel, attrUnit, attrX0, attrDX, attrY0, attrDY} {
				if v, ok := da[k]; ok {
					fmt.Fprintf(w, "  %-16s %s\n", k, val(v))
				}
			}
			continue
		}
		if p, ok := da[attrProduct]; ok {
			fmt.Fprintf(w, "  product          %v\n  parent_dataset   %v\n  processing_step  %v\n", p, da[attrParent], da[attrStep])
		} else {
			fmt.Fprintf(w, "  channel          %s\n  t0               %s\n  dt               %s\n  sample_rate      %s\n  unit             %s\n",
				val(da[attrChannel]), val(da[attrT0]), val(da[attrDT]), val(da[attrSampleRate]), val(da[attrUnit]))
			for _, k := range slices.Sorted(maps.Keys(da)) {
				if v, ok := da[k].(string); ok && strings.HasSuffix(k, SkippedSuffix) {
					fmt.Fprintf(w, "  %-16s %v\n", k, v)
				}
			}
		}
		if da[attrProduct] != nil {
			fmt.Fprintf(w, "  unit             %s\n", val(da[attrUnit]))
			for _, k := range []string{attrT0, attrDT, attrF0, attrDF} {
				if v, ok := da[k]; ok {
					fmt.Fprintf(w, "  %-16s %s\n", k, val(v))
				}
			}
		}
		fmt.Fprintf(w, "  data_sha256      %v\n", da[attrDataSHA256])
		fmt.Fprint(w, "  provenance      ")
		for _, k := range provenanceNames {
			fmt.Fprintf(w, " %s=%s", k, val(da[k]))
		}
		if _, ok := da[attrProgram]; ok {
			fmt.Fprintf(w, " %s=%s %s=%s", attrProgram, val(da[attrProgram]), attrProgramVersion, val(da[attrProgramVersion]))
		}
		fmt.Fprintln(w)
		if d.Params != nil {
			b, _ := json.Marshal(d.Params)
			fmt.Fprintf(w, "  params           %s\n", b)
		}
	}
	return nil
}

// writeLineage prints the products as a tree: each raw series, and below
// each dataset the products made of it, indented, with their kind and
// processing step.
func (s *Summary) writeLineage(w io.Writer) error {
	children := map[string][]*DatasetSummary{}
	for i := range s.Datasets {
		if d := &s.Datasets[i]; d.Parent != "" && d.ViewOf == "" {
			children[d.Parent] = append(children[d.Parent], d)
		}
	}
	if len(children) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nlineage")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	seen := map[string]bool{}
	var walk func(path, indent string)
	walk = func(path, indent string) {
		for _, d := range children[path] {
			if seen[d.Path] {
				continue // a cycle of parent links, which no writer makes
			}
			seen[d.Path] = true
			fmt.Fprintf(tw, "  %s%s\t%v\t%v\n", indent, d.Path, d.Attrs[attrProduct], d.Attrs[attrStep])
			walk(d.Path, indent+"  ")
		}
	}
	for _, d := range s.Datasets {
		// The roots: datasets that are no product, raw series above all.
		if _, isProduct := d.Attrs[attrProduct]; !isProduct && d.ViewOf == "" && len(children[d.Path]) > 0 {
			fmt.Fprintf(tw, "  %s\t\t\n", d.Path)
			walk(d.Path, "  ")
		}
	}
	for _, d := range s.Datasets {
		// Products whose parent is not in the archive.
		if d.Parent != "" && !seen[d.Path] && d.ViewOf == "" {
			fmt.Fprintf(tw, "  %s\t%v\tparent %s not in the archive\n", d.Path, d.Attrs[attrProduct], d.Parent)
		}
	}
	return tw.Flush()
}
