package main

import (
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/internal/progress"
)

// newLogger builds the logger once for the whole command: JSON lines for
// journald, or console lines when stderr is a terminal. The level comes
// from GWWATCHD_LOG_LEVEL, else def.
func newLogger(w io.Writer, def zapcore.Level) (*zap.Logger, error) {
	level := def
	if s := os.Getenv("GWWATCHD_LOG_LEVEL"); s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			return nil, fmt.Errorf("GWWATCHD_LOG_LEVEL: %w", err)
		}
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.TimeKey = "time"
	encCfg.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	var enc zapcore.Encoder
	if progress.IsTerminal(w) {
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	} else {
		enc = zapcore.NewJSONEncoder(encCfg)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core), nil
}

// quiet returns logger with its info entries demoted to debug: for the
// audit log of a one-shot command, whose checkpoint on closing is routine
// and whose outcome the command prints itself. Warnings and errors stay.
func quiet(logger *zap.Logger) *zap.Logger {
	return logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return demoted{c} }))
}

// demoted is a core that writes info entries at debug level.
type demoted struct{ zapcore.Core }

func (d demoted) With(fields []zapcore.Field) zapcore.Core { return demoted{d.Core.With(fields)} }

func (d demoted) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Level == zapcore.InfoLevel {
		e.Level = zapcore.DebugLevel
	}
	if d.Enabled(e.Level) {
		return ce.AddCore(e, d)
	}
	return ce
}

// configAndLogger loads the configuration of a command that logs as it
// goes, and builds its logger; the caller syncs the logger when done.
func (m *Main) configAndLogger(fs *commandFlags) (*config.Config, *zap.Logger, error) {
	cfg, err := fs.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	logger, err := newLogger(m.Stderr, zapcore.InfoLevel)
	if err != nil {
		return nil, nil, err
	}
	return cfg, logger, nil
}
