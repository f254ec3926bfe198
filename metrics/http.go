package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// shutdownTimeout bounds how long Serve waits for scrapes in flight once
// its context is done.
const shutdownTimeout = 5 * time.Second

// Handler serves the metrics at /metrics and the daemon's health at
// /healthz: 200 "ok" when health returns nil (or health is nil), else 503
// with the error's text.
func (m *Metrics) Handler(health func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if health != nil {
			if err := health(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, err.Error()+"\n")
				return
			}
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// Serve serves h on addr, such as "127.0.0.1:9464", until ctx is done, then
// shuts down gracefully and returns nil. It returns at once when addr
// cannot be listened on, so that a bad address fails startup.
func Serve(ctx context.Context, addr string, h http.Handler, logger *zap.Logger) error {
	ln, err := Listen(ctx, addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, h, logger)
}

// Listen opens the metrics address, so that a caller can fail its start
// on a bad address before serving in the background with ServeListener.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return ln, nil
}

// ServeListener is Serve on a listener that is already open; it closes ln.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler, logger *zap.Logger) error {
	if logger == nil {
		logger = zap.NewNop()
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          zap.NewStdLog(logger.Named("http")),
	}
	logger.Info("serving metrics", zap.Stringer("addr", ln.Addr()))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics: serve: %w", err)
	case <-ctx.Done():
	}

	// ctx is done: the shutdown needs a deadline of its own.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("metrics shutdown", zap.Error(err))
		_ = srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: serve: %w", err)
	}
	logger.Info("metrics stopped")
	return nil
}
