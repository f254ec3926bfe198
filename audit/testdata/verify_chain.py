#!/usr/bin/env python3
"""Check a gwwatchd audit log: verify_chain.py audit.log.1 audit.log.2 audit.log"""
import hashlib, json, sys

prev, seq = "0" * 64, 0
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                rec = json.loads(raw)
                h = rec.pop("hash")
                body = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
                ok = (raw.endswith(b"\n") and rec["seq"] == seq + 1 and rec["prev"] == prev
                      and hashlib.sha256(body.encode()).hexdigest() == h)
            except (ValueError, KeyError, TypeError, AttributeError):
                ok = False
            if not ok:
                sys.exit(f"BAD {path}:{lineno}")
            prev, seq = h, rec["seq"]
print(f"OK {seq} records")
