// Package audit keeps gwwatchd's append-only, tamper-evident audit log: one
// JSON line per action, hash-chained, in a Merkle tree whose heads are
// signed, so that years later anyone can check where an archive came from
// and that the log was not edited.
//
// # Records
//
// A record is one flat JSON object. The log sets the common fields: "seq"
// (1, 2, 3, … across all segments), "time" (UTC, RFC 3339 with nine
// fraction digits, as a string), "event", "host", "prev" (the previous
// record's hash; 64 zeros for seq 1) and "hash". The event fields sit
// beside them: each event has a record type here (Startup, Archived,
// SourceMoved, …) whose fields are the event fields under the names of
// their json tags, and which Log.Append writes and Record.Decode reads
// back. They are strings, integers, bools, finite floats, times (as RFC
// 3339 strings in UTC), and lists and objects of these.
//
// # Canonical form and hash
//
// A record is one line: a JSON object followed by "\n". Its hash is the
// lowercase hex SHA-256 of the canonical form of the record without its "hash"
// member, and the line is the canonical form of the record with it. The
// canonical form is what Python's
// json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
// produces:
//   - object keys sorted; keys are non-empty printable ASCII (0x20-0x7e)
//     without '"' or '\', so byte, code point and UTF-16 order agree;
//   - no whitespace between tokens;
//   - strings: '"' and '\' as \" and \\; U+0008, U+000C, U+000A, U+000D,
//     U+0009 as \b \f \n \r \t; other characters below U+0020, U+007F and
//     every non-ASCII character as \uXXXX with lowercase hex, characters
//     above U+FFFF as a UTF-16 surrogate pair (\ud83d\ude00); bytes that are
//     not valid UTF-8 as \ufffd; all else (0x20-0x7e) as itself;
//   - integers in decimal, without a plus sign or leading zeros (-0 is 0);
//   - floats as Python's repr(float): the shortest digits that read back to
//     the same float64; fixed notation when the decimal exponent is in
//     [-4, 16), with ".0" when integral (4.0, 0.0001, 1300000000.5), else
//     one digit, an optional fraction, "e", a sign and at least two exponent
//     digits (1e-05, 1.5e+16); -0.0 stays -0.0; NaN and infinities are
//     rejected;
//   - true, false, null.
//
// So a record checks with nothing but Python's standard library:
//
//	h = rec.pop("hash")
//	body = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
//	assert hashlib.sha256(body.encode()).hexdigest() == h
//
// testdata/verify_chain.py does that for a whole log, with seq and prev.
//
// # Files
//
// The active segment is Options.Path. Once an append takes it past
// MaxSize it is renamed Path.<n>, n = 1, 2, 3, … (never renumbered), and a
// new empty Path starts; seq and the chain go on. Writers, in one process
// or several, take an exclusive flock on Path.lock for each append and
// first read what others appended since, so there is one chain; readers
// take a shared lock just long enough to list and open the segments. Each
// append is written and fsynced before Append returns; the appends that
// goroutines of one process make while an fsync runs are written together
// after it, in order, and share the next fsync (a group commit), which
// changes nothing in the log but the number of fsyncs. If a writer dies
// mid-append, the next Open (or append) cuts the active segment back to
// its last good record and appends a "repaired" record with the segment
// name, bytes_dropped and dropped_sha256. Both "repaired" and
// "checkpoint" records are written by the log itself; Append refuses the
// event "checkpoint".
//
// # Merkle tree and checkpoints
//
// The leaves are the record hashes in seq order, in an RFC 6962 tree as
// golang.org/x/mod/sumdb/tlog builds it: leaf = tlog.RecordHash(the 32
// raw bytes of the record hash), interior nodes tlog.NodeHash. A writer
// keeps only the right frontier of the tree. Every CheckpointEvery records,
// CheckpointInterval (the first one at once), and at Close, it signs the
// tree head of every record so far as a note (golang.org/x/mod/sumdb/note,
// Ed25519) with text
//
//	gwwatchd-audit/<key name>
//	<tree size>
//	<root hash, standard base64>
//	<time, UTC RFC 3339 with nine fraction digits>
//
// and appends it to the log as a "checkpoint" record, a record like any
// other (in the chain and the tree) with the event fields
//
//	"size": the tree size N, which is the record's own seq - 1
//	"root": the root of the first N records, standard base64
//	"note": the signed note, verbatim
//	"unattested", "unattested_from": see Writers below; absent when 0
//
// So the checkpoints cannot be removed apart from the log: taking one out
// breaks the chain, and re-hashing the chain without the key leaves the
// checkpoints' roots wrong or, with them removed as well, a log that no
// checkpoint signs, which Verify reports. So that a writer killed at the
// wrong moment does not leave such a log either, a checkpoint that falls
// due after a group of records (a new log's first is due at its first
// append) goes into the same write and fsync as they do, not after them.
// A checkpoint's size and time never decrease. The Ed25519 signer key is
// Options.KeyFile (default StateDir/audit.key); PublicKey gives the
// verifier key to publish.
//
// After the record, the writer copies the note to StateDir/checkpoint
// (replaced whole) and then appends {"size":N,"root":"…","time":"…",
// "note":"<signed note>"} as one line to StateDir/checkpoints, and logs it
// through zap so that the journal keeps a copy. These files are copies:
// Verify does not need them, but when they are there they must agree with
// the log, or be behind it by what a crash between those two writes
// leaves, which the next Open brings up to date. A log written before
// checkpoints were recorded in it has them only in these files, and is
// verified against them as before. StateDir also holds tree-state, the
// writer's position, frontier and last checkpoint, which spares Open from
// reading the whole log; it is only a cache.
//
// # Opening
//
// Open creates the key only for a new log: no segment holds data and no
// state file says the log had records. It refuses, with an error saying
// how to proceed, a log that exists without its key (a new key would sign
// whatever the log holds now; restore the key), a key that did not sign
// the log's last checkpoint, and a log that has fewer records than
// tree-state or a checkpoint file in StateDir says it had, none included
// (restore the log, or to start a new log deliberately move those files
// away and keep them).
//
// # Writers
//
// Records after the last checkpoint are signed by no one yet: Verify
// reports them in Report.Warnings. Several writers may append to one log,
// and the next checkpoint, whoever writes it, signs every record before
// it. So that a writer does not vouch unawares for records it did not
// write, each open Log holds a shared flock on Path.writers, and a writer
// about to sign records it did not write first tries to take that lock
// exclusively: if it can, no other writer has the log open, so those
// records were left by a writer that died before its checkpoint, or were
// written outside gwwatchd. The checkpoint then says how many there are
// ("unattested") and the seq of the first ("unattested_from"), and Verify
// reports it among the warnings. Open does that at once when it finds such
// records, before the caller appends anything. While another writer has
// the log open, the records of one that died are taken for the open
// writer's and not marked.
//
// # What Verify proves, and what it needs
//
// Verify proves that the log is one unbroken chain of canonical records
// and that every checkpoint in it was signed by the key it is given, over
// the records before it. That shows the signed part of the log was not
// edited, reordered or cut short since it was signed, by anyone without
// the key. Two things are outside the log and must come from elsewhere,
// and the report lists them in Report.Unchecked when they are missing:
//
//   - The verifier key published when the log started
//     (VerifyOptions.PublicKey). The key derived from the key file beside
//     the log proves nothing against someone who could replace that file
//     and re-sign a rewritten log.
//   - A checkpoint note kept off the host (VerifyOptions.Since): from the
//     journal, a central log host, or Log.CheckpointNote run by a cron job
//     (gwwatchd audit checkpoint). Nothing on the host can tell a log cut
//     back to an earlier checkpoint, together with its checkpoint files,
//     from one that never went further; the outside checkpoint can, as a
//     Certificate Transparency or sumdb client does with the last tree head
//     it saw: the log must still hold at least its size in records, and
//     the first of them must have its root.
//
// # Proofs
//
// Prove writes an inclusion proof that CheckProof verifies with only the
// verifier key:
//
//	gwwatchd-audit-proof v1
//	seq <seq>
//	record <the record's line, without its newline>
//	proof <k>
//	<k lines: tlog.RecordProof hashes, standard base64>
//	<the signed checkpoint note, verbatim, to the end>
//
// # Reading
//
// Scan walks the records, checkpoint records included; Replay builds an
// Index for de-duplication and tracing; Lineages follows archives through
// the records after theirs; Verify checks everything:
// canonical lines, seq, prev, hashes, checkpoint signatures, roots and
// order, that no record was removed after a checkpoint, and an outside
// checkpoint.
package audit
