// Package metrics counts what the daemon archives and serves the counts to
// Prometheus, next to a /healthz endpoint for probes.
package metrics
