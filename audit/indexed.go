package audit

import "sync"

// Indexed keeps an open log and the index replayed from it in step, for
// callers that append from several goroutines and ask what the log holds:
// each record appended is in the index before Append returns.
type Indexed struct {
	mu  sync.Mutex
	log *Log
	ix  *Index
}

// NewIndexed pairs an open log with the index replayed from it; a nil
// index starts empty.
func NewIndexed(l *Log, ix *Index) *Indexed {
	if ix == nil {
		ix = &Index{}
	}
	return &Indexed{log: l, ix: ix}
}

// Append appends a record of the event e to the log and adds it to the
// index.
func (x *Indexed) Append(e Event) error {
	_, err := x.AppendRecord(e)
	return err
}

// AppendRecord is Append that returns the record as written.
func (x *Indexed) AppendRecord(e Event) (Record, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	rec, err := x.log.Append(e)
	if err != nil {
		return Record{}, err
	}
	x.ix.add(rec)
	return rec, nil
}

// Pending returns the planned removals the log has not seen carried out
// in full (Index.Pending).
func (x *Indexed) Pending() []Removal {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.ix.Pending()
}

// ArchiveOf returns the archive the log records for the content with this
// key (Archived.ContentKey), if any.
func (x *Indexed) ArchiveOf(contentKey string) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a, ok := x.ix.byContentKey(contentKey)
	return a.ArchivePath, ok
}

// Log returns the log records are appended to.
func (x *Indexed) Log() *Log {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.log
}

// Reopen puts a log reopened by open, and the index replayed from it, in
// place of the old ones, which it returns for the caller to close. No
// record is appended meanwhile, so the index holds every record.
func (x *Indexed) Reopen(open func() (*Log, *Index, error)) (*Log, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	l, ix, err := open()
	if err != nil {
		return nil, err
	}
	if ix == nil {
		ix = &Index{}
	}
	old := x.log
	x.log, x.ix = l, ix
	return old, nil
}
