package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const namespace = "gwwatchd"

// latencyBuckets spans a file that is archived as soon as it is renamed in
// (tens of milliseconds) to a large one that settles for a while and then
// waits behind a full queue (minutes).
var latencyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120}

// Metrics holds the daemon's metrics in a registry of its own, together
// with the Go runtime and process collectors. The recording methods are
// safe for concurrent use and do nothing on a nil *Metrics.
type Metrics struct {
	reg *prometheus.Registry

	archived    *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	duplicate   *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	failed      *prometheus.CounterVec
	lastSuccess prometheus.Gauge
	queueDepth  prometheus.Gauge
	auditUp     prometheus.Gauge
	memLimit    prometheus.Gauge
	memInUse    prometheus.Gauge

	now func() time.Time
}

// New returns Metrics registered in a new registry.
func New() *Metrics {
	watch := []string{"watch"}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, watch)
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	}
	m := &Metrics{
		reg:       prometheus.NewRegistry(),
		archived:  counter("files_archived_total", "Files archived, verified and audited."),
		bytes:     counter("bytes_archived_total", "Bytes of source files archived."),
		duplicate: counter("files_duplicate_total", "Files whose content was already archived."),
		rejected:  counter("files_rejected_total", "Files rejected as bad input and quarantined."),
		failed:    counter("files_failed_total", "Transient failures to archive a file; the file is retried."),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "drop_to_archived_seconds",
			Help:      "Time from a file's arrival in a watch directory to its archive being recorded.",
			Buckets:   latencyBuckets,
		}, watch),
		lastSuccess: gauge("last_success_timestamp_seconds", "Unix time of the last file archived."),
		queueDepth:  gauge("queue_depth", "Files ready and waiting for a worker."),
		auditUp:     gauge("audit_up", "1 while the audit log takes records; 0 while it does not, when no new file is taken."),
		memLimit:    gauge("memory_budget_bytes", "The memory budget (daemon.memory_limit) that files being processed share."),
		memInUse:    gauge("memory_budget_in_use_bytes", "The part of the memory budget the files being processed and worked ahead on hold."),
		now:         time.Now,
	}
	m.auditUp.Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.archived, m.bytes, m.latency, m.duplicate, m.rejected, m.failed,
		m.lastSuccess, m.queueDepth, m.auditUp, m.memLimit, m.memInUse,
	)
	return m
}

// Registry returns the registry that holds the metrics, for collectors of
// other components.
func (m *Metrics) Registry() *prometheus.Registry {
	return m.reg
}

// Archived records a file of the given size from watch that was archived
// latency after it was dropped.
func (m *Metrics) Archived(watch string, bytes int64, latency time.Duration) {
	if m == nil {
		return
	}
	m.archived.WithLabelValues(watch).Inc()
	m.bytes.WithLabelValues(watch).Add(float64(bytes))
	m.latency.WithLabelValues(watch).Observe(latency.Seconds())
	m.lastSuccess.Set(float64(m.now().UnixNano()) / 1e9)
}

// Duplicate records a file from watch whose content was already archived.
func (m *Metrics) Duplicate(watch string) {
	if m == nil {
		return
	}
	m.duplicate.WithLabelValues(watch).Inc()
}

// Rejected records a file from watch that was rejected as bad input.
func (m *Metrics) Rejected(watch string) {
	if m == nil {
		return
	}
	m.rejected.WithLabelValues(watch).Inc()
}

// Failed records a transient failure to archive a file from watch, one that
// is retried.
func (m *Metrics) Failed(watch string) {
	if m == nil {
		return
	}
	m.failed.WithLabelValues(watch).Inc()
}

// SetQueueDepth records the number of files waiting for a worker.
func (m *Metrics) SetQueueDepth(n int) {
	if m == nil {
		return
	}
	m.queueDepth.Set(float64(n))
}

// SetAuditUp records whether the audit log takes records.
func (m *Metrics) SetAuditUp(up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.auditUp.Set(v)
}

// SetMemory records the memory budget and the part of it in use.
func (m *Metrics) SetMemory(limit, inUse int64) {
	if m == nil {
		return
	}
	m.memLimit.Set(float64(limit))
	m.memInUse.Set(float64(inUse))
}
