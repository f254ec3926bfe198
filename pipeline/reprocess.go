package pipeline

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
)

// Reprocessed says what Reprocess did to one archive.
type Reprocessed struct {
	Archive string   // its path, absolute
	Added   []string // the datasets of the products added; none when there was nothing to add
	// Record is the reprocessed record written, nil when nothing was
	// added and nothing adopted.
	Record *audit.Reprocessed
}

// Selection returns the products of a chain that reprocessing with only
// (product names; none for all) makes: the products named and those they
// are made of, in the chain's order.
func Selection(chain []config.Product, only []string) ([]config.Product, error) {
	if len(only) == 0 {
		return chain, nil
	}
	byName := map[string]config.Product{}
	for _, prod := range chain {
		byName[prod.Name] = prod
	}
	want := map[string]bool{}
	for _, name := range only {
		for n := name; n != config.InputRaw && !want[n]; n = byName[n].Input {
			if _, ok := byName[n]; !ok {
				return nil, fmt.Errorf("no product %q in the configuration's chain", n)
			}
			want[n] = true
		}
	}
	var out []config.Product
	for _, prod := range chain {
		if want[prod.Name] {
			out = append(out, prod)
		}
	}
	return out, nil
}

// Reprocess adds to the archive at path the products of chain (see
// Selection) it does not hold, and records it. Every dataset the archive
// holds stays as it is; a product whose name it holds with other
// parameters is added as a new version (archive.VersionedName). The
// archive is written in full under a temp name beside it and renamed
// over it, and the reprocessed record is in the log when Reprocess
// returns. An archive that holds every product already is left alone.
// Another Reprocess of the archive at the same time, in this process or
// another, fails with archive.ErrBusy.
//
// logged is the archive's sha256 as the log last recorded it ("" when
// unknown): an archive that is not that one (a crash came between its
// replacement and its record) is verified and taken over with a
// reprocessed record of its own.
func (p *Pipeline) Reprocess(ctx context.Context, path string, chain []config.Product, logged string) (*Reprocessed, error) {
	start := p.now()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	res := &Reprocessed{Archive: abs}
	unlock, err := archive.Lock(abs)
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, err := archive.Open(abs)
	if err != nil {
		return nil, err
	}
	if a.Format != archive.Format {
		return nil, fmt.Errorf("not a gwwatchd archive (format %q)", a.Format)
	}
	prevSHA, err := FileSHA256(abs)
	if err != nil {
		return nil, err
	}
	if logged != "" && prevSHA != logged {
		if err := p.adoptReplaced(a, abs, logged, prevSHA, start); err != nil {
			return nil, err
		}
		if a, err = archive.Open(abs); err != nil {
			return nil, err
		}
	}
	ad := &archive.Addition{Derived: map[string][]archive.Derived{}, Created: start.UTC(), Host: p.host,
		Software: buildinfo.Get(), HDF5: archive.LibVersion()}
	rec := &audit.Reprocessed{ArchivePath: abs, ArchiveID: a.ID, PreviousSHA256: prevSHA, Skipped: map[string]string{}}
	for _, s := range a.Series {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		added, err := p.reprocessSeries(a, s, chain, rec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Path, err)
		}
		if len(added) > 0 {
			ad.Derived[s.Name] = added
		}
	}
	if len(ad.Derived) == 0 {
		return res, nil
	}
	ad.Done = p.now().UTC()
	doc, err := archive.WithAdded(abs, ad)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	comp := archive.Compression{Gzip: p.cfg.Archive.Compression == "gzip", Level: p.cfg.Archive.GzipLevel}
	t, err := archive.WriteTemp(filepath.Dir(abs), filepath.Base(abs), doc, comp)
	if err != nil {
		return nil, fmt.Errorf("write archive: %w", err)
	}
	defer t.Discard()
	if err := archive.CheckWritten(t.Path, doc); err != nil {
		return nil, fmt.Errorf("write archive: read back: %w", err)
	}
	// The archive may have been replaced while its products were made.
	if now, err := FileSHA256(abs); err != nil {
		return nil, err
	} else if now != prevSHA {
		return nil, fmt.Errorf("changed while it was reprocessed: sha256 %s, was %s", now, prevSHA)
	}
	w, err := t.Replace()
	if err != nil {
		return nil, fmt.Errorf("replace archive: %w", err)
	}
	res.Added = ad.Paths()
	rec.PreviousSize, rec.ArchiveSHA256, rec.ArchiveSize = st.Size(), w.SHA256, w.Size
	rec.Version, rec.Revision, rec.Duration = buildinfo.Get().Version, buildinfo.Get().PipelineVersion(), p.now().Sub(start)
	if len(rec.Skipped) == 0 {
		rec.Skipped = nil
	}
	if err := p.audit(*rec); err != nil {
		return nil, fmt.Errorf("reprocessed, but: %w", err)
	}
	res.Record = rec
	return res, nil
}

// adoptReplaced takes over the archive a at path, whose sha256 is sum
// where the log last recorded logged: it must verify in full, and is then
// recorded as it is.
func (p *Pipeline) adoptReplaced(a *archive.Archive, path, logged, sum string, start time.Time) error {
	r, err := Verify(path, p.proc)
	if err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("sha256 is %s, the log says %s, and it does not verify: %s", sum, logged, r.Problems[0])
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	rec := audit.Reprocessed{ArchivePath: path, ArchiveID: a.ID, PreviousSHA256: logged, ArchiveSHA256: sum, ArchiveSize: st.Size(),
		Products: []audit.AddedProduct{}, Version: buildinfo.Get().Version, Revision: buildinfo.Get().PipelineVersion(),
		Duration: p.now().Sub(start), Adopted: true}
	return p.audit(rec)
}

// reprocessSeries makes the products of chain of the raw series s of a
// that a does not hold, each named as it is to be stored, and adds them to
// rec, with those that could not be made.
func (p *Pipeline) reprocessSeries(a *archive.Archive, s *archive.Series, chain []config.Product, rec *audit.Reprocessed) ([]archive.Derived, error) {
	var prods []config.Product
	for _, prod := range chain {
		if prod.Matches(s.Channel) {
			prods = append(prods, prod)
		}
	}
	if len(prods) == 0 || len(s.Shape) > 1 || s.Params.Shape != nil {
		return nil, nil // products are made of one-dimensional series only
	}
	values, err := s.Load()
	if err != nil {
		return nil, err
	}
	if ingest.IsComplex(values) {
		return nil, nil
	}
	// The time series at hand by product name: made now, or read back
	// from the archive, with the name each is stored by. The raw samples
	// are used as they are, as in Prepare: converted to float64 once, if
	// a product needs them so.
	type series struct {
		in     *input
		stored string
	}
	made := map[string]series{config.InputRaw: {&input{values: values, fs: s.SampleRate}, ""}}
	skipped := map[string]string{}
	var out []archive.Derived
	for _, prod := range prods {
		in, ok := made[prod.Input]
		if !ok {
			if why, was := skipped[prod.Input]; was {
				skipped[prod.Name] = fmt.Sprintf("its input %q was not made: %s", prod.Input, why)
			}
			continue
		}
		d := p.deriveOf(prod, in.in)
		d.Input = in.stored
		if d.Skipped != "" {
			skipped[prod.Name] = d.Skipped
			continue
		}
		stored, present := a.Present(s.Name, &d)
		if present {
			if d.Values != nil {
				o := a.Object(archive.ProcessedPath(s.Name, stored))
				x, err := o.Float64s()
				if err != nil {
					return nil, err
				}
				made[prod.Name] = series{&input{values: x, fs: d.Rate}, stored}
			}
			continue
		}
		d.Name = stored
		if d.Values != nil {
			made[prod.Name] = series{&input{values: d.Values, fs: d.Rate}, stored}
		}
		out = append(out, d)
		rec.Products = append(rec.Products, audit.AddedProduct{ProductParams: productParams([]config.Product{prod})[0],
			Dataset: s.Name, StoredAs: stored, Paths: archive.DerivedPaths(s.Name, stored, d.Kind)})
	}
	for _, name := range slices.Sorted(maps.Keys(skipped)) {
		rec.Skipped[archive.ProcessedPath(s.Name, name)] = skipped[name]
	}
	return out, nil
}
