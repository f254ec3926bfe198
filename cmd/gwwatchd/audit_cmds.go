package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap/zapcore"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/daemon"
	"github.com/gwwatchd/gwwatchd/internal/oneline"
)

var auditHelp = help{
	Synopsis: `audit verify [--config F] [--archives] [--pubkey K] [--since CHECKPOINT]
audit checkpoint [--config F] > CHECKPOINT
audit prove [--config F] ARCHIVE > PROOF
audit check-proof --pubkey K PROOF
audit pubkey [--config F]`,
	Text: `Checks the audit log and what it proves: verify checks the log, its
signed checkpoints and the archives; checkpoint signs one now; prove and
check-proof make and check the proof that an archive is in the signed log;
pubkey prints the key the checkpoints verify with. Run
"gwwatchd audit SUBCOMMAND --help" for the flags of each.`,
	Example: `gwwatchd audit verify --archives --pubkey /etc/gwwatchd/audit.pub`,
}

func (m *Main) audit(args []string) error {
	usage := func(msg string) error {
		return &usageError{msg: msg, command: "audit", synopsis: auditHelp.Synopsis}
	}
	if len(args) == 0 {
		return usage("audit: give verify, checkpoint, prove, check-proof or pubkey")
	}
	if isHelp(args[0]) {
		auditHelp.write(m.Stdout, nil)
		return errHelp
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "verify":
		return m.auditVerify(rest)
	case "checkpoint":
		return m.auditCheckpoint(rest)
	case "prove":
		return m.auditProve(rest)
	case "check-proof":
		return m.auditCheckProof(rest)
	case "pubkey":
		return m.auditPubkey(rest)
	default:
		return usage(fmt.Sprintf("audit: unknown subcommand %q", cmd))
	}
}

var auditVerifyHelp = help{
	Synopsis: "audit verify [--config F] [--archives] [--pubkey K] [--since FILE]",
	Text: `Checks the whole audit log, its checkpoints and, with --archives, the
archives it names; says what it could not check without a trusted key
(--pubkey) and a checkpoint kept off the host (--since). Exits 1 when
there is any problem.`,
	Example: `gwwatchd audit verify --pubkey /etc/gwwatchd/audit.pub --since /srv/anchor/gwwatchd.checkpoint`,
}

func (m *Main) auditVerify(args []string) error {
	fs := m.newFlagSet("audit verify", auditVerifyHelp)
	fs.configFlag("configuration `file`")
	archives := fs.Bool("archives", false, "also check every archive against the log, and the log against archive.root")
	pubkey := fs.String("pubkey", "", "verifier `key` (or a file holding it) the checkpoints must be signed with; default: derived from the configured key")
	since := fs.String("since", "", "a signed `checkpoint` kept off the host (as gwwatchd audit checkpoint prints it): the log must still hold its tree")
	cfg, err := fs.parseConfigOnly(args)
	if err != nil {
		return err
	}
	key, err := readPubkey(*pubkey)
	if err != nil {
		return err
	}
	var anchor []byte
	if *since != "" {
		if anchor, err = os.ReadFile(*since); err != nil {
			return fmt.Errorf("read outside checkpoint: %w", err)
		}
	}
	r, err := audit.Verify(audit.VerifyOptions{Path: cfg.Audit.Path, StateDir: cfg.Daemon.StateDir, KeyFile: cfg.KeyFile(), PublicKey: key, Since: anchor})
	if err != nil {
		return err
	}
	problems := r.Problems
	first := r.FirstBad
	for _, p := range r.Issues {
		fmt.Fprintf(m.Stdout, "%s\n", oneline.Escape(p.String()))
	}
	if *archives {
		issues, err := daemon.CheckArchives(cfg)
		if err != nil {
			return err
		}
		for _, p := range issues {
			fmt.Fprintln(m.Stdout, oneline.Escape(p.String()))
		}
		if first == "" && len(issues) > 0 {
			first = issues[0].Where
		}
		problems += len(issues)
	}
	fmt.Fprintf(m.Stdout, "%s: %s in %s, %s in the log, %d in %s, root %s\n",
		cfg.Audit.Path, nOf(int(r.Records), "record", "records"), nOf(len(r.Segments), "segment", "segments"),
		nOf(r.LogCheckpoints, "checkpoint", "checkpoints"), r.Checkpoints, filepath.Join(cfg.Daemon.StateDir, "checkpoints"), r.Root)
	for _, w := range r.Warnings {
		fmt.Fprintf(m.Stdout, "WARNING: %s\n", oneline.Escape(w.String()))
	}
	for _, u := range r.Unchecked {
		hint := ""
		switch {
		case strings.HasPrefix(u, "no trusted key"):
			hint = " (--pubkey)"
		case strings.HasPrefix(u, "no outside checkpoint"):
			hint = " (--since FILE, saved from gwwatchd audit checkpoint)"
		}
		fmt.Fprintf(m.Stdout, "UNCHECKED: %s%s\n", oneline.Escape(u), hint)
	}
	if problems > 0 {
		fmt.Fprintf(m.Stdout, "FAILED: %s; the first at %s\n", nOf(problems, "problem", "problems"), first)
		return &exitCodeError{exitProblems}
	}
	if n, w := len(r.Unchecked), len(r.Warnings); n+w > 0 {
		fmt.Fprintf(m.Stdout, "OK as far as checked: no problems, %d %s, %d not checked (above)\n", w, plural(w, "warning", "warnings"), n)
		return nil
	}
	fmt.Fprintln(m.Stdout, "OK")
	return nil
}

// nOf is "1 record", "2 records".
func nOf(n int, one, many string) string { return fmt.Sprintf("%d %s", n, plural(n, one, many)) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

var auditCheckpointHelp = help{
	Synopsis: "audit checkpoint [--config F]",
	Text: `Signs a checkpoint of the audit log now, recorded in the log, and prints its
signed note; keep it off the host (a cron job, say) and give it to
"gwwatchd audit verify --since" later to catch a log cut back or rewritten.`,
	Example: `gwwatchd audit checkpoint --config /etc/gwwatchd/config.toml | ssh anchor 'cat > gwwatchd.checkpoint'`,
}

func (m *Main) auditCheckpoint(args []string) error {
	fs := m.newFlagSet("audit checkpoint", auditCheckpointHelp)
	fs.configFlag("configuration `file`")
	cfg, err := fs.parseConfigOnly(args)
	if err != nil {
		return err
	}
	segs, err := audit.Segments(cfg.Audit.Path)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		return fmt.Errorf("audit checkpoint: no audit log at %s", cfg.Audit.Path)
	}
	logger, err := newLogger(m.Stderr, zapcore.WarnLevel)
	if err != nil {
		return err
	}
	defer logger.Sync()
	l, err := audit.Open(auditOptions(cfg, logger))
	if err != nil {
		return err
	}
	msg, err := l.CheckpointNote()
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	_, err = m.Stdout.Write(msg)
	return err
}

// readPubkey takes a verifier key from the file it names, or as given.
func readPubkey(k string) (string, error) {
	if k == "" {
		return "", nil
	}
	b, err := os.ReadFile(k)
	if errors.Is(err, fs.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return "", fmt.Errorf("read public key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

var auditProveHelp = help{
	Synopsis: "audit prove [--config F] ARCHIVE > PROOF",
	Text: `Prints an inclusion proof of the archive's "archived" record (of its last
"reprocessed" record, once reprocessed: the one that names the archive as
it is) against the latest signed checkpoint, which "gwwatchd audit
check-proof" checks anywhere with only the public key.`,
	Example: `gwwatchd audit prove var/archive/K/13000/K-K1_DARM-1300000000-64.h5 > K-K1_DARM-1300000000-64.proof`,
}

func (m *Main) auditProve(args []string) error {
	fs := m.newFlagSet("audit prove", auditProveHelp)
	fs.configFlag("configuration `file`")
	arg, err := fs.parseOne(args, "archive")
	if err != nil {
		return err
	}
	cfg, err := fs.loadConfig()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return err
	}
	ix, err := audit.Replay(cfg.Audit.Path)
	if err != nil {
		return err
	}
	a, ok := ix.ByArchivePath(abs)
	if !ok {
		return fmt.Errorf("%s: no archived record in %s", abs, cfg.Audit.Path)
	}
	seq := a.Seq
	if a.Reprocessed != 0 {
		seq = a.Reprocessed
	}
	proof, err := audit.Prove(cfg.Audit.Path, cfg.Daemon.StateDir, seq)
	if err != nil {
		return err
	}
	_, err = m.Stdout.Write(proof)
	return err
}

var auditCheckProofHelp = help{
	Synopsis: "audit check-proof --pubkey K PROOF",
	Text: `Checks a proof that "gwwatchd audit prove" made, offline, with only the
public key (K is the key or a file holding it). Exits 1 when it is invalid.`,
	Example: `gwwatchd audit check-proof --pubkey audit.pub K-K1_DARM-1300000000-64.proof`,
}

func (m *Main) auditCheckProof(args []string) error {
	fs := m.newFlagSet("audit check-proof", auditCheckProofHelp)
	pubkey := fs.String("pubkey", "", "verifier `key`, or a file holding it (required)")
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || *pubkey == "" {
		return fs.usageError("give --pubkey KEY and one proof file")
	}
	key, err := readPubkey(*pubkey)
	if err != nil {
		return err
	}
	proof, err := os.ReadFile(rest[0])
	if err != nil {
		return err
	}
	rec, err := audit.CheckProof(proof, key)
	if err != nil {
		fmt.Fprintf(m.Stdout, "%s: INVALID: %s\n", rest[0], oneline.Escape(err.Error()))
		return &exitCodeError{exitProblems}
	}
	fmt.Fprintf(m.Stdout, "%s: OK: record %d (%s, %s) is in the signed log\n", rest[0], rec.Seq, rec.Event, rec.Time.Format(audit.TimeLayout))
	var fields []struct{ label, value string }
	if a, ok := audit.As[audit.Archived](*rec); ok {
		fields = []struct{ label, value string }{
			{"archive_path", a.ArchivePath}, {"archive_sha256", a.ArchiveSHA256}, {"source_path", a.SourcePath}, {"source_sha256", a.SourceSHA256},
		}
	}
	if r, ok := audit.As[audit.Reprocessed](*rec); ok {
		fields = []struct{ label, value string }{
			{"archive_path", r.ArchivePath}, {"archive_sha256", r.ArchiveSHA256}, {"previous_sha256", r.PreviousSHA256},
		}
	}
	for _, f := range fields {
		if f.value != "" {
			fmt.Fprintf(m.Stdout, "  %-15s %s\n", f.label, f.value)
		}
	}
	return nil
}

var auditPubkeyHelp = help{
	Synopsis: "audit pubkey [--config F]",
	Text: `Prints the public key that the audit log's checkpoints verify with, to
publish and to give to "gwwatchd audit verify --pubkey" and
"gwwatchd audit check-proof".`,
	Example: `gwwatchd audit pubkey --config /etc/gwwatchd/config.toml > audit.pub`,
}

func (m *Main) auditPubkey(args []string) error {
	fs := m.newFlagSet("audit pubkey", auditPubkeyHelp)
	fs.configFlag("configuration `file`")
	cfg, err := fs.parseConfigOnly(args)
	if err != nil {
		return err
	}
	k, err := audit.PublicKey(cfg.KeyFile())
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, k)
	return nil
}

// findRecord returns the latest audit record that archived path, or
// reprocessed it since, or nil when the log is not at hand or does not
// name it.
func findRecord(logPath, path string) (*archive.AuditRef, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(logPath); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var ref *archive.AuditRef
	err = audit.Scan(logPath, func(rec audit.Record, _ []byte) error {
		if a, ok := audit.As[audit.Archived](rec); ok && a.ArchivePath == abs {
			ref = &archive.AuditRef{Log: logPath, Seq: rec.Seq, Hash: rec.Hash}
		}
		// Once reprocessed, the archive is the one its last reprocessed
		// record names.
		if r, ok := audit.As[audit.Reprocessed](rec); ok && ref != nil && r.ArchivePath == abs {
			ref = &archive.AuditRef{Log: logPath, Seq: rec.Seq, Hash: rec.Hash}
		}
		return nil
	})
	return ref, err
}
