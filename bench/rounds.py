#!/usr/bin/env python3
"""Interleaved rounds: each command once per round, ROUNDS rounds, then the
median of each command's lookups/s, CPU µs per lookup and peak RSS, in a
Markdown table. A command's output (stdout) is checked against the truth
when it is mxlookup's NDJSON.

Usage: rounds.py ROUNDS N TRUTH LABEL=CMD [LABEL=CMD ...]
CMD is a shell command; {out} in it is replaced by a file for its stdout.
A label starting with 'mxlookup' is checked with verify.py."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

rounds, n, truth = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cmds = [a.split("=", 1) for a in sys.argv[4:]]
here = os.path.dirname(os.path.abspath(__file__))
got = {label: [] for label, _ in cmds}
checked = {}
with tempfile.TemporaryDirectory() as tmp:
    out, times = os.path.join(tmp, "out"), os.path.join(tmp, "time")
    for _ in range(rounds):
        for label, cmd in cmds:
            full = f"/usr/bin/time -f '%e %U %S %M' -o {times} sh -c {repr(cmd.replace('{out}', out))} > {out} 2>/dev/null"
            start = time.time()
            subprocess.run(full, shell=True)
            wall = time.time() - start
            e, u, s, m = open(times).read().split()[-4:]
            got[label].append((n / float(e), (float(u) + float(s)) / n * 1e6, int(m) // 1024))
            if label.startswith("mxlookup"):
                v = subprocess.run(["python3", f"{here}/verify.py", truth, out], capture_output=True, text=True)
                line = v.stdout.strip().splitlines()[-1] if v.stdout.strip() else "?"
                if "0 missing, 0 wrong" not in line or label not in checked:
                    checked[label] = line
print("| client | lookups/s (median) | CPU µs/lookup | peak RSS | rounds | checked (worst round) |")
print("| --- | --- | --- | --- | --- | --- |")
for label, _ in cmds:
    v = got[label]
    print(f"| {label} | {statistics.median(x[0] for x in v):,.0f} | {statistics.median(x[1] for x in v):.2f} "
          f"| {max(x[2] for x in v)} MB | {len(v)} | {checked.get(label, '(not checked)')} |")
