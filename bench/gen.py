#!/usr/bin/env python3
"""Generate the benchmark zone, domain list, dnsperf query file and truth.

90% of names have 2 MX records at one of 50 providers, 5% are NODATA (an A
record, no MX: implicit MX), 5% do not exist (NXDOMAIN). The providers'
exchanges are in the zone with addresses; at every tenth provider the
second exchange does not exist (dangling_exchange under --audit).
Usage: gen.py N OUTDIR [--mta-sts]

With --mta-sts, half the domains with MX records publish MTA-STS: an
_mta-sts record and a policy host, mta-sts.dN, whose address is 127.0.0.1
(examples/policy_server.rs serves a policy that covers the domain's
exchanges) or, for one in nine of them, in 127.1.0.0/16 (a host that is
down: the connection is accepted and never answered). The truth then says
which: "mta_sts": "ok" or "unknown".
"""
import ipaddress
import json
import os
import sys

PROVIDERS = 50


def exchange_addresses(p):
    """The addresses of mx1/mx2.provider{p}, as mxlookup reports them."""
    mx1 = [f"93.184.{p}.1", str(ipaddress.IPv6Address(f"2606:2800:{p:x}::1"))]
    mx2 = [] if p % 10 == 9 else [f"93.184.{p}.2"]
    return mx1, mx2


n = int(sys.argv[1])
out = sys.argv[2]
mta_sts = "--mta-sts" in sys.argv[3:]
os.makedirs(out, exist_ok=True)
with open(f"{out}/bench.test.zone", "w") as zone, \
        open(f"{out}/domains.txt", "w") as domains, \
        open(f"{out}/queries.txt", "w") as queries, \
        open(f"{out}/truth.ndjson", "w") as truth:
    zone.write("$ORIGIN bench.test.\n$TTL 3600\n"
               "@ IN SOA ns.bench.test. admin.bench.test. 1 3600 600 86400 60\n"
               "@ IN NS ns.bench.test.\nns IN A 127.0.0.1\n")
    for p in range(PROVIDERS):
        mx1, mx2 = exchange_addresses(p)
        zone.write(f"mx1.provider{p} IN A {mx1[0]}\nmx1.provider{p} IN AAAA {mx1[1]}\n")
        for a in mx2:
            zone.write(f"mx2.provider{p} IN A {a}\n")
    for i in range(n):
        name = f"d{i}.bench.test"
        domains.write(name + "\n")
        queries.write(f"{name} MX\n")
        kind = i % 20
        if kind == 0:
            address = f"93.185.{i // 250 % 250}.{i % 250 + 1}"
            zone.write(f"d{i} IN A {address}\n")
            t = {"domain": name, "status": "no_mx", "mx": [],
                 "audit": {"addresses": [address], "problems": ["implicit_mx"]}}
        elif kind == 1:
            t = {"domain": name, "status": "nxdomain", "mx": [],
                 "audit": {"problems": []}}
        else:
            p = i % PROVIDERS
            mx1, mx2 = exchange_addresses(p)
            e1, e2 = f"mx1.provider{p}.bench.test", f"mx2.provider{p}.bench.test"
            zone.write(f"d{i} IN MX 20 {e2}.\nd{i} IN MX 10 {e1}.\n")
            t = {"domain": name, "status": "ok",
                 "mx": [{"preference": 10, "exchange": e1},
                        {"preference": 20, "exchange": e2}],
                 "audit": {"mx_addresses": [mx1, mx2],
                           "problems": [] if mx2 else ["dangling_exchange"]}}
            if mta_sts and i % 2 == 0:
                down = kind == 2
                host = f"127.1.{i // 250 % 250}.{i % 250 + 1}" if down else "127.0.0.1"
                zone.write(f'_mta-sts.d{i} IN TXT "v=STSv1; id=b{i}"\nmta-sts.d{i} IN A {host}\n')
                t["mta_sts"] = "unknown" if down else "ok"
                if down:
                    t["audit"]["problems"].append("mta_sts_unknown")
        truth.write(json.dumps(t) + "\n")
