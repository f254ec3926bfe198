package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gwwatchd/gwwatchd/audit"
)

// When an append to the audit log fails (a full or read-only disk, a log
// made immutable), nothing the daemon does can be recorded, so it does
// nothing: workers take no new file, /healthz and the audit_up metric say
// so, and the log is reopened with backoff. A file whose record failed was
// retried meanwhile; once the log works again its archive, already on disk,
// is adopted with an "archived" record.

// reopenBackoff bounds the wait between attempts to reopen the log.
const reopenBackoff = time.Minute

// auditState says whether the log takes records.
type auditState struct {
	mu    sync.Mutex
	err   error         // why appends fail; nil while the log works
	since time.Time     // when they started failing
	up    chan struct{} // closed while the log works
}

func newAuditState() *auditState {
	up := make(chan struct{})
	close(up)
	return &auditState{up: up}
}

// appendRecord writes a record and brings it into the de-duplication
// index, in log order. A failure other than a bad field takes the log
// down until it can be reopened.
func (d *Daemon) appendRecord(e audit.Event) error {
	_, err := d.appendSeq(e)
	return err
}

// appendSeq is appendRecord that returns the record's seq.
func (d *Daemon) appendSeq(e audit.Event) (uint64, error) {
	rec, err := d.logx.AppendRecord(e)
	if err != nil && !errors.Is(err, audit.ErrInvalidField) {
		d.auditDown(err)
	}
	return rec.Seq, err
}

// auditDown notes that the log does not take records, and starts
// reopening it if nobody does yet.
func (d *Daemon) auditDown(cause error) {
	a := d.audit
	if a == nil {
		return
	}
	a.mu.Lock()
	if a.err != nil {
		a.mu.Unlock()
		return
	}
	a.err, a.since, a.up = cause, time.Now(), make(chan struct{})
	a.mu.Unlock()
	d.log.Error("the audit log takes no records: no new file is taken until it does", zap.Error(cause))
	d.metrics().SetAuditUp(false)
	if d.opts.Reopen == nil {
		return
	}
	go d.reopenAudit()
}

// reopenAudit tries to reopen the log, backing off up to reopenBackoff,
// until it succeeds or the daemon stops.
func (d *Daemon) reopenAudit() {
	delay := time.Second
	for {
		select {
		case <-d.stopping:
			return
		case <-time.After(delay):
		}
		old, err := d.logx.Reopen(d.opts.Reopen)
		if err == nil {
			d.audit.mu.Lock()
			since, cause := d.audit.since, d.audit.err
			d.audit.mu.Unlock()
			old.Close() // its state on disk is unknown: what it says on close is moot
			_, err = d.logx.AppendRecord(audit.Resumed{DownSince: since, Error: cause.Error()})
			if err == nil {
				d.audit.mu.Lock()
				d.audit.err = nil
				close(d.audit.up)
				d.audit.mu.Unlock()
				d.metrics().SetAuditUp(true)
				d.log.Info("the audit log takes records again", zap.Duration("down", time.Since(since)))
				// Removals the outage interrupted are finished now, not at
				// the next start.
				d.removeMu.Lock()
				d.recoverRemovals()
				d.removeMu.Unlock()
				return
			}
		}
		d.log.Warn("the audit log cannot be reopened yet", zap.Error(err), zap.Duration("next try in", delay))
		delay = min(2*delay, reopenBackoff)
	}
}

// waitAudit waits until the log takes records; false if intake stopped or
// ctx ended first, when the file is to be left for the next start.
func (d *Daemon) waitAudit(ctx context.Context) bool {
	if d.audit == nil {
		return true
	}
	d.audit.mu.Lock()
	up := d.audit.up
	d.audit.mu.Unlock()
	select {
	case <-up:
		return true
	default:
	}
	select {
	case <-up:
		return true
	case <-d.stopping:
		return false
	case <-ctx.Done():
		return false
	}
}

// auditErr says why the log takes no records, or nil.
func (d *Daemon) auditErr() error {
	if d.audit == nil {
		return nil
	}
	d.audit.mu.Lock()
	defer d.audit.mu.Unlock()
	if d.audit.err == nil {
		return nil
	}
	return fmt.Errorf("the audit log takes no records since %s: %w", d.audit.since.UTC().Format(time.RFC3339), d.audit.err)
}

// AuditLog returns the log the daemon appends to now: another than the
// one it started with once it had to reopen it.
func (d *Daemon) AuditLog() *audit.Log { return d.logx.Log() }
