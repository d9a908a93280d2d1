#!/usr/bin/env python3
"""Check mxlookup's NDJSON against the truth: every domain exactly once,
with the right status and MX records. Usage: verify.py TRUTH RESULTS"""
import json
import sys

truth = {}
for line in open(sys.argv[1]):
    t = json.loads(line)
    truth[t["domain"]] = t
seen = set()
wrong = 0
for line in open(sys.argv[2]):
    r = json.loads(line)
    d = r["domain"]
    if d in seen:
        print(f"DUPLICATE {d}")
        wrong += 1
        continue
    seen.add(d)
    t = truth.get(d)
    if t is None or t["status"] != r["status"] or t["mx"] != r["mx"]:
        wrong += 1
        if wrong <= 5:
            print(f"WRONG {d}: got {r['status']} {r['mx']} {r.get('error')}, want {t}")
missing = len(truth) - len(seen & truth.keys())
print(f"{len(seen)} results, {missing} missing, {wrong} wrong")
sys.exit(0 if missing == 0 and wrong == 0 else 1)
