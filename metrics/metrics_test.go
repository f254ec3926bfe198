package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestExposition(t *testing.T) {
	m := New()
	m.now = func() time.Time { return time.Unix(1700000000, 500_000_000) }
	m.Archived("incoming", 1000, 30*time.Millisecond)
	m.Archived("incoming", 24, 3*time.Second)
	m.Archived("other", 7, 200*time.Second)
	m.Duplicate("incoming")
	m.Rejected("other")
	m.Rejected("other")
	m.Failed("incoming")
	m.SetQueueDepth(5)

	code, body := get(t, m.Handler(nil), "/metrics")
	if code != http.StatusOK {
		t.Fatalf("got status %d, want 200", code)
	}
	for _, want := range []string{
		`gwwatchd_files_archived_total{watch="incoming"} 2`,
		`gwwatchd_files_archived_total{watch="other"} 1`,
		`gwwatchd_bytes_archived_total{watch="incoming"} 1024`,
		`gwwatchd_bytes_archived_total{watch="other"} 7`,
		`gwwatchd_drop_to_archived_seconds_bucket{watch="incoming",le="0.05"} 1`,
		`gwwatchd_drop_to_archived_seconds_bucket{watch="incoming",le="2.5"} 1`,
		`gwwatchd_drop_to_archived_seconds_bucket{watch="incoming",le="5"} 2`,
		`gwwatchd_drop_to_archived_seconds_bucket{watch="other",le="120"} 0`,
		`gwwatchd_drop_to_archived_seconds_bucket{watch="other",le="+Inf"} 1`,
		`gwwatchd_drop_to_archived_seconds_sum{watch="incoming"} 3.03`,
		`gwwatchd_drop_to_archived_seconds_count{watch="incoming"} 2`,
		`gwwatchd_files_duplicate_total{watch="incoming"} 1`,
		`gwwatchd_files_rejected_total{watch="other"} 2`,
		`gwwatchd_files_failed_total{watch="incoming"} 1`,
		`gwwatchd_last_success_timestamp_seconds 1.7000000005e+09`,
		`gwwatchd_queue_depth 5`,
		`# TYPE gwwatchd_drop_to_archived_seconds histogram`,
	} {
		if !strings.Contains(body, "\n"+want+"\n") {
			t.Errorf("exposition lacks the line %q", want)
		}
	}
	for _, want := range []string{"go_goroutines ", "process_start_time_seconds "} {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if strings.Contains(body, `gwwatchd_files_rejected_total{watch="incoming"}`) {
		t.Error("exposition has a rejected series for a watch that rejected nothing")
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Archived("w", 1, time.Second)
	m.Duplicate("w")
	m.Rejected("w")
	m.Failed("w")
	m.SetQueueDepth(1)
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name   string
		health func() error
		code   int
		body   string
	}{
		{"no check", nil, http.StatusOK, "ok\n"},
		{"healthy", func() error { return nil }, http.StatusOK, "ok\n"},
		{"unhealthy", func() error { return errors.New("audit log: disk full") }, http.StatusServiceUnavailable, "audit log: disk full\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, New().Handler(tt.health), "/healthz")
			if code != tt.code || body != tt.body {
				t.Errorf("got %d %q, want %d %q", code, body, tt.code, tt.body)
			}
		})
	}
}

func TestServe(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := New().Handler(func() error { return nil })
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, "127.0.0.1:0", h, zap.New(core)) }()

	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		select {
		case err := <-errc:
			t.Fatalf("Serve returned early: %v", err)
		default:
		}
		for _, e := range logs.FilterMessage("serving metrics").All() {
			addr = e.ContextMap()["addr"].(string)
		}
		if time.Now().After(deadline) {
			t.Fatal("Serve did not start listening")
		}
		time.Sleep(5 * time.Millisecond)
	}

	for path, want := range map[string]string{"/healthz": "ok\n", "/metrics": "# HELP "} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), want) {
			t.Errorf("GET %s: got %d %.40q, want 200 %q...", path, resp.StatusCode, body, want)
		}
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve: got %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop after cancel")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("server still answers after Serve returned")
	}
}

func TestServeBadAddress(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:99999", "127.0.0.1"} {
		errc := make(chan error, 1)
		go func() { errc <- Serve(context.Background(), addr, http.NotFoundHandler(), nil) }()
		select {
		case err := <-errc:
			if err == nil {
				t.Errorf("Serve(%q): got nil, want an error", addr)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Serve(%q) did not return", addr)
		}
	}
}

func TestServeAddressInUse(t *testing.T) {
	ln := httptest.NewServer(http.NotFoundHandler())
	defer ln.Close()
	addr := strings.TrimPrefix(ln.URL, "http://")
	if err := Serve(context.Background(), addr, http.NotFoundHandler(), nil); err == nil {
		t.Errorf("Serve(%q) on a port in use: got nil, want an error", addr)
	}
}
