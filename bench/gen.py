#!/usr/bin/env python3
"""Generate the benchmark zone, domain list, dnsperf query file and truth.

90% of names have 2 MX records, 5% are NODATA (an A record, no MX), 5% do
not exist (NXDOMAIN). Usage: gen.py N OUTDIR
"""
import json
import os
import sys

n = int(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(f"{out}/bench.test.zone", "w") as zone, \
        open(f"{out}/domains.txt", "w") as domains, \
        open(f"{out}/queries.txt", "w") as queries, \
        open(f"{out}/truth.ndjson", "w") as truth:
    zone.write("$ORIGIN bench.test.\n$TTL 3600\n"
               "@ IN SOA ns.bench.test. admin.bench.test. 1 3600 600 86400 60\n"
               "@ IN NS ns.bench.test.\nns IN A 127.0.0.1\n")
    for i in range(n):
        name = f"d{i}.bench.test"
        domains.write(name + "\n")
        queries.write(f"{name} MX\n")
        kind = i % 20
        if kind == 0:
            zone.write(f"d{i} IN A 192.0.2.1\n")
            t = {"domain": name, "status": "no_mx", "mx": []}
        elif kind == 1:
            t = {"domain": name, "status": "nxdomain", "mx": []}
        else:
            p = i % 50
            zone.write(f"d{i} IN MX 20 mx2.provider{p}.example.\n"
                       f"d{i} IN MX 10 mx1.provider{p}.example.\n")
            t = {"domain": name, "status": "ok",
                 "mx": [{"preference": 10, "exchange": f"mx1.provider{p}.example"},
                        {"preference": 20, "exchange": f"mx2.provider{p}.example"}]}
        truth.write(json.dumps(t) + "\n")
