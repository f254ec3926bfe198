package main

import (
	"os"

	"go.uber.org/zap"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/config"
)

// openAudit opens the configured audit log and records the start of a
// command: version, revision, the effective configuration's sha256, pid.
func openAudit(cfg *config.Config, logger *zap.Logger, command string) (*audit.Log, error) {
	l, err := audit.Open(auditOptions(cfg, logger))
	if err != nil {
		return nil, err
	}
	if _, err := l.Append(audit.EventStartup, startFields(cfg, command)); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// auditOptions are the Options of the configured audit log.
func auditOptions(cfg *config.Config, logger *zap.Logger) audit.Options {
	return audit.Options{
		Path:               cfg.Audit.Path,
		MaxSize:            cfg.Audit.MaxSize,
		KeyFile:            cfg.KeyFile(),
		StateDir:           cfg.Daemon.StateDir,
		CheckpointEvery:    cfg.Audit.CheckpointEvery,
		CheckpointInterval: cfg.Audit.CheckpointInterval.Duration,
		Logger:             logger,
	}
}

// closeAudit records the end of a command, with what startup records and
// the given fields, and closes the log, which writes a checkpoint.
func closeAudit(l *audit.Log, cfg *config.Config, command string, fields map[string]any) error {
	for k, v := range startFields(cfg, command) {
		fields[k] = v
	}
	_, err := l.Append(audit.EventShutdown, fields)
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return err
}

func startFields(cfg *config.Config, command string) map[string]any {
	in := buildinfo.Get()
	f := map[string]any{
		"command":  command,
		"version":  in.Version,
		"revision": in.PipelineVersion(),
		"pid":      os.Getpid(),
	}
	if sum, err := cfg.SHA256(); err == nil {
		f["config_sha256"] = sum
	}
	if cfg.File != "" {
		f["config_path"] = cfg.File
	}
	return f
}
