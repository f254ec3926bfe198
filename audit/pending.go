package audit

import (
	"cmp"
	"slices"
)

// Removal is a planned removal the log has not yet seen carried out in
// full: its plan, and which of its files are done.
type Removal struct {
	Seq uint64 // of the removal_planned record
	RemovalPlanned

	// Quarantined is whether the quarantined record was written, for a
	// quarantine.
	Quarantined bool
}

// complete reports whether every file was handled and, for a quarantine,
// the quarantined record written.
func (r *Removal) complete() bool {
	for _, f := range r.Files {
		if !f.Done {
			return false
		}
	}
	return r.Action != "quarantine" || r.Quarantined
}

// Pending returns the planned removals not yet carried out in full, oldest
// first.
func (ix *Index) Pending() []Removal {
	out := make([]Removal, 0, len(ix.pending))
	for _, r := range ix.pending {
		c := *r
		c.Files = slices.Clone(r.Files)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Removal) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// isRemovalEvent reports whether Replay must decode the record for the
// pending removals.
func isRemovalEvent(event string) bool {
	switch event {
	case eventRemovalPlanned, eventRemovalAbandoned, eventSourceMoved, eventSourceDeleted, eventQuarantined:
		return true
	}
	return false
}

// addRemoval keeps ix.pending in step with one record, of seq and event
// fields e.
func (ix *Index) addRemoval(seq uint64, e Event) {
	var planned uint64
	var path string
	switch r := e.(type) {
	case RemovalPlanned:
		r.Files = slices.Clone(r.Files)
		if ix.pending == nil {
			ix.pending = map[uint64]*Removal{}
		}
		ix.pending[seq] = &Removal{Seq: seq, RemovalPlanned: r}
		return
	case SourceMoved:
		planned, path = r.Planned, r.SourcePath
	case SourceDeleted:
		planned, path = r.Planned, r.SourcePath
	case RemovalAbandoned:
		planned, path = r.Planned, r.SourcePath
	case Quarantined:
		planned = r.Planned
	default:
		return
	}
	r := ix.pending[planned]
	if r == nil {
		return
	}
	if _, ok := e.(Quarantined); ok {
		r.Quarantined = true
	} else {
		for i := range r.Files {
			if r.Files[i].Path == path {
				r.Files[i].Done = true
			}
		}
	}
	if r.complete() {
		delete(ix.pending, r.Seq)
	}
}
