package audit

import "sync"

// Indexed keeps an open log and the index replayed from it in step, for
// callers that append from several goroutines and ask what the log holds:
// each record appended is in the index before Append returns, and the
// index takes the records in log order.
//
// Appends through an Indexed are not serialised by it, so that those of
// several goroutines share fsyncs (Log.Append): the log adds each record
// to the index, in log order, as soon as it is on disk.
type Indexed struct {
	// swap is held shared by every append, from choosing the log until
	// its record is in the index, and exclusively by Reopen, so that no
	// record is appended to a log while it is replaced.
	swap sync.RWMutex

	mu  sync.Mutex // guards log and ix; never held while appending
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
	x.swap.RLock()
	defer x.swap.RUnlock()
	x.mu.Lock()
	l, ix := x.log, x.ix
	x.mu.Unlock()
	return l.appendEvent(e, func(rec Record) {
		x.mu.Lock()
		ix.add(rec)
		x.mu.Unlock()
	})
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
// place of the old ones, which it returns for the caller to close. It
// waits for the appends under way, and no record is appended meanwhile,
// so the index holds every record.
func (x *Indexed) Reopen(open func() (*Log, *Index, error)) (*Log, error) {
	x.swap.Lock()
	defer x.swap.Unlock()
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
