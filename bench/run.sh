#!/usr/bin/env bash
# The benchmark: one command. Installs knot, dnsperf and adns-tools if they
# are missing, generates a zone of N names (default 100,000; 90% with 2 MX,
# 5% NODATA, 5% NXDOMAIN), starts knotd on loopback, runs dnsperf (the
# ceiling), mxlookup (both engines) and adnshost on the same list, checks
# mxlookup's results against the truth, and prints a table.
#
#   bench/run.sh [N] [CONCURRENCY]
#   ENGINES="wire" ADNS=0 bench/run.sh 1000000   # only the wire engine, no adnshost
#
# The wire engine also runs with --keep-duplicates, which shows the memory
# of everything but the duplicate set.
#
# Only loopback traffic: knotd listens on 127.0.0.2:53 (adnshost cannot use
# another port), falling back to a high port on 127.0.0.1 without adnshost.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
C=${2:-256}
OUT=bench/out/$N
mkdir -p "$OUT"

need=()
command -v knotd >/dev/null || need+=(knot)
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v adnshost >/dev/null || need+=(adns-tools)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release -q
BIN=target/release/mxlookup
python3 bench/gen.py "$N" "$OUT"

# knotd: 2 UDP and 2 TCP workers, no rate limiting.
ADDR=127.0.0.2; PORT=53
if ! python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$ADDR', $PORT))" 2>/dev/null; then
    ADDR=127.0.0.1; PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
fi
KD=$(mktemp -d)
cat > "$KD/knot.conf" <<CONF
server:
    listen: $ADDR@$PORT
    rundir: $KD
    udp-workers: 2
    tcp-workers: 2
database:
    storage: $KD
template:
  - id: default
    storage: $KD
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
zone:
  - domain: bench.test.
    file: $PWD/$OUT/bench.test.zone
log:
  - target: stderr
    any: error
CONF
knotd -c "$KD/knot.conf" 2>"$KD/knotd.log" &
KNOT=$!
trap 'kill $KNOT 2>/dev/null; wait $KNOT 2>/dev/null; rm -rf "$KD"' EXIT
# Wait for the zone to answer.
for _ in $(seq 1 300); do
    if "$BIN" -q -n "$ADDR:$PORT" --timeout 200ms --retries 0 --format csv d2.bench.test 2>/dev/null | grep -q ',ok,'; then break; fi
    sleep 0.2
done

row() { printf '| %-34s | %10s | %9s | %8s | %9s |\n' "$@"; }
results=()

# dnsperf: the ceiling (sends, counts response codes, parses nothing).
DP=$(dnsperf -s "$ADDR" -p "$PORT" -d "$OUT/queries.txt" -c 2 -T 1 -q 128 -n 1 2>&1)
DPQ=$(echo "$DP" | awk '/Queries per second/ {print $4}')
echo "$DP" | grep -E "Queries (sent|completed|lost)" | sed 's/^/  dnsperf: /'

measure() { # label, then the command; stdout goes to $OUT/last.out
    local label=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$@" > "$OUT/last.out" 2>"$OUT/last.err" || true
    read -r e u s m < <(tail -n 1 "$OUT/time.txt")
    local qps cpu
    qps=$(python3 -c "print(f'{$N/$e:.0f}')")
    cpu=$(python3 -c "print(f'{($u+$s)/$N*1e6:.1f}')")
    results+=("$label|$qps|$cpu|$((m/1024)) MB|$(python3 -c "print(f'{$N/$e/$DPQ*100:.0f}%')")")
}

for engine in ${ENGINES:-wire hickory}; do
    measure "mxlookup --engine $engine -c $C" "$BIN" -q --engine "$engine" -n "$ADDR:$PORT" -c "$C" --format ndjson -f "$OUT/domains.txt"
    echo "  mxlookup ($engine): $(python3 bench/verify.py "$OUT/truth.ndjson" "$OUT/last.out" | tail -1)"
done
# Without the duplicate set: the memory of everything else, which is flat.
if [[ " ${ENGINES:-wire} " == *" wire "* ]]; then
    measure "mxlookup --keep-duplicates -c $C" "$BIN" -q --keep-duplicates -n "$ADDR:$PORT" -c "$C" --format ndjson -f "$OUT/domains.txt"
    echo "  mxlookup (--keep-duplicates): $(python3 bench/verify.py "$OUT/truth.ndjson" "$OUT/last.out" | tail -1)"
fi
if [ "$PORT" = 53 ] && [ "${ADNS:-1}" = 1 ]; then
    measure "adnshost --pipe --asynch" sh -c "adnshost --config 'nameserver $ADDR' -a -t mx -f < $OUT/domains.txt"
fi

echo
echo "N=$N domains, $C in flight, knotd on $ADDR:$PORT, $(nproc) cores"
row "client" "lookups/s" "CPU µs/lk" "peak RSS" "of dnsperf"
row "----------------------------------" "----------" "---------" "--------" "---------"
row "dnsperf -c 2 -q 128 (ceiling)" "${DPQ%.*}" "-" "-" "100%"
for r in "${results[@]}"; do IFS='|' read -r a b c d e <<<"$r"; row "$a" "$b" "$c" "$d" "$e"; done
