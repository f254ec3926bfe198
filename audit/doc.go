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
// record's hash; 64 zeros for seq 1) and "hash". The caller of Append gives
// the event fields, which sit beside them and may not reuse their names.
// Event field values may be strings, integers, bools, nil, float64 (finite),
// and slices and string-keyed maps of these. Reading back, numbers are
// json.Number, objects map[string]any and arrays []any.
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
// CanonicalForm returns the same rules as text. So a record checks with
// nothing but Python's standard library:
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
// append is written and fsynced before Append returns. If a writer dies
// mid-append, the next Open (or append) cuts the active segment back to
// its last good record and appends a "repaired" record with the segment
// name, bytes_dropped and dropped_sha256.
//
// # Merkle tree and checkpoints
//
// The leaves are the record hashes in seq order, in an RFC 6962 tree as
// golang.org/x/mod/sumdb/tlog builds it: leaf = tlog.RecordHash(the 32
// raw bytes of the record hash), interior nodes tlog.NodeHash. A writer
// keeps only the right frontier of the tree. Every CheckpointEvery records,
// CheckpointInterval, and at Close, it signs the tree head as a note
// (golang.org/x/mod/sumdb/note, Ed25519) with text
//
//	gwwatchd-audit/<key name>
//	<tree size>
//	<root hash, standard base64>
//	<time, UTC RFC 3339 with nine fraction digits>
//
// appends {"size":N,"root":"…","time":"…","note":"<signed note>"} as one
// line to StateDir/checkpoints (fsynced), replaces StateDir/checkpoint with
// the signed note, and logs it through zap so the journal keeps a copy.
// The Ed25519 signer key is Options.KeyFile (default StateDir/audit.key),
// created on first use; PublicKey gives the verifier key to publish. A
// checkpoint's size and time never decrease from one entry to the next.
// StateDir also holds tree-state, the writer's position and frontier,
// which spares Open from reading the whole log; it is only a cache.
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
// Scan walks the records; Replay builds an Index for de-duplication and
// tracing; Verify checks everything: canonical lines, seq, prev, hashes,
// checkpoint signatures, roots and order, and that no record was removed
// after a checkpoint.
package audit
