package audit

import (
	"cmp"
	"slices"
)

// Removal records. A source leaves its watch directory (moved to done_dir
// or quarantine_dir, or deleted) only after a "removal_planned" record
// naming every file that goes, and each file that went has its own
// "source_moved" or "source_deleted" record naming the plan. So a crash
// between the plan and the last of its records leaves a plan that an
// Index reports as pending, and the next start finishes it: kill -9 at any
// moment leaves every removal in the log, and a data file and its sidecar
// go together.
const (
	// EventRemovalPlanned: action ("move", "delete" or "quarantine"),
	// files (a list of {"path", "to", "sha256"}; "to" for moves), to_dir
	// (the done or quarantine directory of a move), and
	// archive_path and content_key for move and delete, reason for
	// quarantine.
	EventRemovalPlanned = "removal_planned"
	// EventRemovalAbandoned: planned, source_path, reason — a planned
	// removal of one file that was not carried out, and why.
	EventRemovalAbandoned = "removal_abandoned"

	// FieldPlanned is the seq of the removal_planned record that a
	// source_moved, source_deleted, removal_abandoned or quarantined record
	// carries out.
	FieldPlanned = "planned"
)

// Removal is a planned removal the log has not yet seen carried out in
// full.
type Removal struct {
	Seq         uint64 // of the removal_planned record
	Action      string // "move", "delete" or "quarantine"
	Files       []RemovalFile
	ArchivePath string
	ContentKey  string
	Reason      string
	ToDir       string // the done or quarantine directory of a move

	// Quarantined is whether the quarantined record was written, for a
	// quarantine.
	Quarantined bool
}

// RemovalFile is one file of a Removal.
type RemovalFile struct {
	Path   string
	To     string // destination of a move; "" for a delete
	SHA256 string // of the file as planned
	Done   bool   // its source_moved, source_deleted or removal_abandoned record is in the log
}

// Complete reports whether every file was handled and, for a quarantine,
// the quarantined record written.
func (r *Removal) Complete() bool {
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

// isRemovalEvent reports whether Add must see the whole record.
func isRemovalEvent(event string) bool {
	switch event {
	case EventRemovalPlanned, EventRemovalAbandoned, EventSourceMoved, EventSourceDeleted, EventQuarantined:
		return true
	}
	return false
}

// addRemoval keeps ix.pending in step with one removal record.
func (ix *Index) addRemoval(rec Record) {
	if rec.Event == EventRemovalPlanned {
		r := &Removal{Seq: rec.Seq, Action: rec.String("action"), ArchivePath: rec.String(FieldArchivePath),
			ContentKey: rec.String(FieldContentKey), Reason: rec.String(FieldReason), ToDir: rec.String("to_dir")}
		files, _ := rec.Fields["files"].([]any)
		for _, f := range files {
			m, _ := f.(map[string]any)
			s := func(k string) string { v, _ := m[k].(string); return v }
			r.Files = append(r.Files, RemovalFile{Path: s("path"), To: s("to"), SHA256: s("sha256")})
		}
		if ix.pending == nil {
			ix.pending = map[uint64]*Removal{}
		}
		ix.pending[rec.Seq] = r
		return
	}
	n, ok := rec.Int64(FieldPlanned)
	if !ok {
		return
	}
	r := ix.pending[uint64(n)]
	if r == nil {
		return
	}
	if rec.Event == EventQuarantined {
		r.Quarantined = true
	} else {
		path := rec.String(FieldSourcePath)
		for i := range r.Files {
			if r.Files[i].Path == path {
				r.Files[i].Done = true
			}
		}
	}
	if r.Complete() {
		delete(ix.pending, r.Seq)
	}
}
