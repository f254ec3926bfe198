package audit

import (
	"fmt"

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
)

// Group commit. An fsync of the log costs far more than writing a record,
// so the appends that arrive while one fsync runs are not each given their
// own: they queue, and when the fsync returns one of them, the leader,
// writes all the queued records in order with one write, fsyncs once, and
// only then wakes the others with their lines or the error. There is no
// timer: a lone append is written at once, and a group is what gathered
// while the previous one was on its way to the disk.
//
// So every promise of a single Append still holds for each record of a
// group: its Append returns after the fsync that covers it returned, not
// before; the records keep the order in which their appends queued; and
// a failed write or fsync is returned to every Append of the group, none
// of whose records then counts as written (a failed fsync makes the log
// unusable, as it did for one record). The log's format, chain, rotation
// and checkpoints are those of the same records appended one at a time
// (see appendBatchLocked).

// request is one record waiting in the queue of a group commit.
type request struct {
	event   string
	members []canonjson.Member
	durable func(Record) // called by the leader once the record is on disk; may be nil

	// Set by the leader before it wakes the request: the record's line,
	// or why it was not written, and the record decoded when durable
	// needed it.
	line    []byte
	err     error
	rec     Record
	decoded bool

	// wake receives true when the request is to lead the next group,
	// false when its group was written (or failed).
	wake chan bool
}

// commit appends r's record as part of a group and returns once r.line
// or r.err is set, that is, once the fsync covering the record returned
// or the group failed.
func (l *Log) commit(r *request) {
	r.wake = make(chan bool, 1)
	l.qmu.Lock()
	l.queue = append(l.queue, r)
	if l.leading {
		l.qmu.Unlock()
		if lead := <-r.wake; !lead {
			return
		}
		l.qmu.Lock()
	}
	// Leading: r is first in the queue, since a new leader is always the
	// head of the queue it is handed, and a queue with no leader is empty.
	l.leading = true
	group := l.queue
	l.queue = nil
	l.qmu.Unlock()

	l.writeGroup(group)

	// Hand the lead to the first request that queued meanwhile before
	// waking this group, so that the next fsync starts at once.
	l.qmu.Lock()
	if len(l.queue) > 0 {
		l.queue[0].wake <- true
	} else {
		l.leading = false
	}
	l.qmu.Unlock()
	for _, o := range group {
		if o != r {
			o.wake <- false
		}
	}
}

// writeGroup writes the records of group in order under the lock, as
// few fsyncs as the rotations and checkpoints between them allow, and
// calls their durable functions in order. Records after a failure get its
// error.
func (l *Log) writeGroup(group []*request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rest := group
	err := l.usable()
	if err == nil {
		err = l.locked(func() error {
			if err := l.catchUp(); err != nil {
				return err
			}
			for len(rest) > 0 {
				n, err := l.appendBatchLocked(rest)
				if err != nil {
					return err
				}
				for _, r := range rest[:n] {
					if r.durable == nil {
						continue
					}
					rec, err := decodeRecord(r.line[:len(r.line)-1])
					if err != nil {
						r.err = fmt.Errorf("read back: %w", err)
						continue
					}
					r.rec, r.decoded = rec, true
					r.durable(rec)
				}
				rest = rest[n:]
				l.afterAppend()
			}
			return nil
		})
	}
	for _, r := range rest {
		r.err = err
	}
}
