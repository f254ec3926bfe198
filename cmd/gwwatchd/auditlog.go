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
	if _, err := l.Append(audit.Startup{Invocation: invocation(cfg, command)}); err != nil {
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
// what end says of it, and closes the log, which writes a checkpoint.
func closeAudit(l *audit.Log, cfg *config.Config, command string, end audit.Shutdown) error {
	end.Invocation = invocation(cfg, command)
	_, err := l.Append(end)
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return err
}

// invocation says which command of this gwwatchd runs, with cfg.
func invocation(cfg *config.Config, command string) audit.Invocation {
	in := buildinfo.Get()
	inv := audit.Invocation{Command: command, Version: in.Version, Revision: in.PipelineVersion(), PID: os.Getpid(), ConfigPath: cfg.File}
	if sum, err := cfg.SHA256(); err == nil {
		inv.ConfigSHA256 = sum
	}
	return inv
}
