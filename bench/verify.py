#!/usr/bin/env python3
"""Check mxlookup's NDJSON against the truth: every domain exactly once,
with the right status and MX records; with --audit, also the exchanges'
addresses, the implicit MX addresses and the problem codes.
Usage: verify.py [--audit] TRUTH RESULTS"""
import json
import sys

args = sys.argv[1:]
audit = args[0] == "--audit"
if audit:
    args = args[1:]
truth = {}
for line in open(args[0]):
    t = json.loads(line)
    truth[t["domain"]] = t
seen = set()
wrong = 0


def problem(d, r, t):
    """What is wrong with result r of domain d, or None."""
    mx = [{"preference": m["preference"], "exchange": m["exchange"]} for m in r["mx"]]
    if t is None or t["status"] != r["status"] or t["mx"] != mx:
        return f"got {r['status']} {r['mx']} {r.get('error')}, want {t}"
    if not audit:
        return None
    a = t["audit"]
    codes = sorted(p["code"] for p in r.get("problems", []))
    if "problems" not in r or codes != sorted(a["problems"]):
        return f"problems {r.get('problems')}, want {a['problems']}"
    if "mx_addresses" in a and [m.get("addresses") for m in r["mx"]] != a["mx_addresses"]:
        return f"addresses {[m.get('addresses') for m in r['mx']]}, want {a['mx_addresses']}"
    if "addresses" in a and r.get("addresses") != a["addresses"]:
        return f"addresses {r.get('addresses')}, want {a['addresses']}"
    return None


for line in open(args[1]):
    r = json.loads(line)
    d = r["domain"]
    if d in seen:
        print(f"DUPLICATE {d}")
        wrong += 1
        continue
    seen.add(d)
    why = problem(d, r, truth.get(d))
    if why:
        wrong += 1
        if wrong <= 5:
            print(f"WRONG {d}: {why}")
missing = len(truth) - len(seen & truth.keys())
print(f"{len(seen)} results, {missing} missing, {wrong} wrong")
sys.exit(0 if missing == 0 and wrong == 0 else 1)
