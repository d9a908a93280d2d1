#!/usr/bin/env bash
# The benchmark: one command. It is not a test: it prints figures, and
# figures depend on the machine.
#
#   bench/run.sh                 # every suite, 100,000 names
#   bench/run.sh throughput      # or: sweep latency ratelimit rate audit encrypted
#   N=1000000 bench/run.sh throughput
#
# It installs what it needs from Debian's packages if missing (knot,
# dnsperf, adns-tools, unbound, time), builds mxlookup and the netem proxy
# (examples/netem.rs), generates a zone of N names (90% with 2 MX, 5%
# NODATA, 5% NXDOMAIN, exchanges shared by 50 providers), starts knotd on
# 127.0.0.2:53 (KNOT_WORKERS UDP workers, default 2), and checks every
# mxlookup result against the truth. Set MASSDNS=/path/to/massdns to add
# massdns rows (it is not in Debian; build it from its repository).
#
# Suites:
#   throughput  100k names at -c 256 beside dnsperf (the ceiling), both
#               engines, --keep-duplicates, default flags, adnshost, massdns
#   sweep       -c 1, 8, 32, 256, 1024 (and massdns at the same caps)
#   latency     a 20 ms round trip (the netem proxy, 10 ms each way):
#               dnsperf -q 256 against -c 256; then 3 ms jitter and 1% loss
#   ratelimit   Unbound with ip-ratelimit 2000 in front of knotd, 20,000
#               names, -c 256 and default flags: share of the permitted rate,
#               and every name must be right
#   rate        --rate from 1/s to 100,000/s: the start rate reached, against
#               knotd and (examples/pacer.rs) with no server at all
#   audit       --audit beside the plain run at -c 32 (default), 256 and
#               1024 (queries per domain, CPU per query, RSS)
#   encrypted   DoT and DoH beside UDP, through Unbound (cache warm), with
#               dnsperf's own DoT/DoH rows
#   mtasts      the MTA-STS check at N names: half the domains publish a
#               policy (examples/policy_server.rs mints a certificate per
#               host), one in nine of those hosts never answers; plain,
#               routing only, and with the policy check, every result
#               checked against the truth
#
# Only loopback traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
ROUNDS=${ROUNDS:-5}
# massdns is not in Debian: build it from its repository outside this tree
# (git clone https://github.com/blechschmidt/massdns /tmp/massdns && make -C
# /tmp/massdns) or point MASSDNS at it.
MASSDNS=${MASSDNS:-}
[ -z "$MASSDNS" ] && [ -x /tmp/massdns/bin/massdns ] && MASSDNS=/tmp/massdns/bin/massdns
SUITES=${*:-throughput sweep latency ratelimit rate audit encrypted mtasts}
WORKERS=${KNOT_WORKERS:-2}
OUT=bench/out/$N
mkdir -p "$OUT"

need=()
command -v knotd >/dev/null || [ -x /usr/sbin/knotd ] || need+=(knot)
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v adnshost >/dev/null || need+=(adns-tools)
command -v unbound >/dev/null || [ -x /usr/sbin/unbound ] || need+=(unbound)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release -q
cargo build --release -q --example netem --example pacer --example policy_server
BIN=$PWD/target/release/mxlookup
NETEM=$PWD/target/release/examples/netem
python3 bench/gen.py "$N" "$OUT"

free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "${TMPD:-}"; }
trap cleanup EXIT
TMPD=$(mktemp -d)

# knotd on 127.0.0.2:53 (adnshost and Unbound's delegations ask port 53).
ADDR=127.0.0.2; PORT=53
cat > "$TMPD/knot.conf" <<CONF
server:
    listen: $ADDR@$PORT
    rundir: $TMPD
    udp-workers: $WORKERS
    tcp-workers: 2
database:
    storage: $TMPD
template:
  - id: default
    storage: $TMPD
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
knotd -c "$TMPD/knot.conf" 2>"$TMPD/knotd.log" &
pids+=($!)
for _ in $(seq 1 300); do
    if "$BIN" -q -n "$ADDR:$PORT" --timeout 200ms --retries 0 --format csv d2.bench.test 2>/dev/null | grep -q ',ok,'; then break; fi
    sleep 0.2
done
NS=$ADDR:$PORT

# measure LABEL N CMD...: wall, client CPU per lookup, peak RSS; stdout in $TMPD/last.out.
measure() {
    local label=$1 n=$2; shift 2
    /usr/bin/time -f "%e %U %S %M" -o "$TMPD/time.txt" "$@" > "$TMPD/last.out" 2>"$TMPD/last.err" || true
    read -r e u s m < <(tail -n 1 "$TMPD/time.txt")
    LAST_E=$e
    printf '| %-40s | %9.0f | %8.1f | %6d MB |' "$label" "$(python3 -c "print($n/$e)")" \
        "$(python3 -c "print(($u+$s)/$n*1e6)")" "$((m/1024))"
}
verify() { # truth file, n: prints the verifier's line
    python3 bench/verify.py <(head -n "$2" "$1") "$TMPD/last.out" | tail -1
}
head -n 20000 "$OUT/domains.txt" > "$TMPD/d20k.txt"
head -n 20000 "$OUT/truth.ndjson" > "$TMPD/t20k.ndjson"
echo "$ADDR" > "$TMPD/resolvers.txt"
head -n 30000 "$OUT/domains.txt" > "$TMPD/d30k.txt"
sed 's/$/ MX/' "$TMPD/d30k.txt" > "$TMPD/q30k.txt"

echo "# mxlookup benchmark: N=$N, knotd $WORKERS UDP workers on $NS, $(nproc) cores, $(date -u +%F)"

# The lines every Unbound of the benchmark shares: loopback, no privileges
# dropped, no logging, iterator only, one thread. $1 names the pid file.
unbound_common() {
    cat <<CONF
    do-ip6: no
    do-not-query-localhost: no
    username: ""
    chroot: ""
    directory: "$TMPD"
    pidfile: "$TMPD/$1.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    num-threads: 1
CONF
}

for suite in $SUITES; do
case $suite in
throughput)
    echo; echo "## Throughput: $N names, 256 in flight, medians of $ROUNDS interleaved rounds"
    echo "(dnsperf -c 2 -q 128 is the server's ceiling; its figure is queries/s)"
    args=("dnsperf -c 2 -q 128=dnsperf -s $ADDR -p $PORT -d $OUT/queries.txt -c 2 -T 1 -q 128 -n 1")
    for engine in ${ENGINES:-wire hickory}; do
        args+=("mxlookup --engine $engine -c 256=$BIN -q --engine $engine -n $NS -c 256 --format ndjson -f $OUT/domains.txt")
    done
    args+=("mxlookup (default flags)=$BIN -q -n $NS --format ndjson -f $OUT/domains.txt")
    [ -n "$MASSDNS" ] && args+=("massdns -s 256=$MASSDNS -q --root -r $TMPD/resolvers.txt -t MX -s 256 -o J -w /dev/null $OUT/domains.txt")
    [ "${ADNS:-1}" = 1 ] && args+=("adnshost --pipe --asynch=adnshost --config 'nameserver $ADDR' -a -t mx -f < $OUT/domains.txt")
    python3 bench/rounds.py "$ROUNDS" "$N" "$OUT/truth.ndjson" "${args[@]}"
    # dnsperf's own count: queries per second, not wall time over N.
    DP=$(dnsperf -s "$ADDR" -p "$PORT" -d "$OUT/queries.txt" -c 2 -T 1 -q 128 -n 1 2>&1)
    echo "dnsperf's own figure, one more run: $(echo "$DP" | awk '/Queries per second/ {print $4}') queries/s, $(echo "$DP" | awk '/Queries lost/ {print $3}') lost"
    ;;
sweep)
    echo; echo "## Every concurrency from 1 to 1024 (20,000 names up to 8 in flight, $N above), medians of $ROUNDS rounds"
    for c in 1 2 4 8 16 32 64 128 256 512 1024; do
        if [ "$c" -le 8 ]; then F=$TMPD/d20k.txt; n=20000; T=$TMPD/t20k.ndjson; else F=$OUT/domains.txt; n=$N; T=$OUT/truth.ndjson; fi
        args=("mxlookup -c $c=$BIN -q -n $NS -c $c --format ndjson -f $F")
        [ -n "$MASSDNS" ] && args+=("massdns -s $c=$MASSDNS -q --root -r $TMPD/resolvers.txt -t MX -s $c -o J -w /dev/null $F")
        python3 bench/rounds.py "$ROUNDS" "$n" "$T" "${args[@]}" | tail -n +$([ "$c" = 1 ] && echo 1 || echo 3)
    done
    ;;
latency)
    echo; echo "## A 20 ms round trip (netem proxy, 10 ms each way), 30,000 names"
    P=$(free_port)
    "$NETEM" "127.0.0.1:$P" "$NS" 10 0 0 & pids+=($!); sleep 0.5
    DP=$(dnsperf -s 127.0.0.1 -p "$P" -d "$TMPD/q30k.txt" -c 1 -q 256 -n 1 2>&1)
    echo "| client | wall | checked |"
    echo "| --- | --- | --- |"
    echo "| dnsperf -c 1 -q 256 | $(echo "$DP" | awk '/Run time/ {print $4}') s | $(echo "$DP" | awk '/Queries lost/ {print $3, "lost"}') |"
    measure "x" 30000 "$BIN" -q -n "127.0.0.1:$P" -c 256 --format ndjson -f "$TMPD/d30k.txt" > /dev/null
    echo "| mxlookup -c 256 | $LAST_E s | $(verify "$OUT/truth.ndjson" 30000) |"
    kill "${pids[-1]}"; unset 'pids[-1]'
    P=$(free_port)
    "$NETEM" "127.0.0.1:$P" "$NS" 10 3 0.01 & pids+=($!); sleep 0.5
    measure "x" 30000 "$BIN" -n "127.0.0.1:$P" -c 256 --format ndjson -f "$TMPD/d30k.txt" > /dev/null
    echo "| mxlookup -c 256, ±3 ms jitter, 1% loss each way | $LAST_E s | $(verify "$OUT/truth.ndjson" 30000) |"
    echo "  $(tail -1 "$TMPD/last.err")"
    kill "${pids[-1]}"; unset 'pids[-1]'
    ;;
ratelimit)
    echo; echo "## Unbound with ip-ratelimit 2000 in front of knotd, 20,000 names"
    echo "| client | wall | share of 2,000/s | checked | what the run settled at |"
    echo "| --- | --- | --- | --- | --- |"
    for flags in "-c 256" "" "-c 1024"; do
        UP=$(free_port)
        cat > "$TMPD/unbound.conf" <<CONF
server:
    interface: 127.0.0.1
    port: $UP
$(unbound_common unbound)
    local-zone: "test." nodefault
    ip-ratelimit: 2000
stub-zone:
    name: "bench.test."
    stub-addr: $ADDR@$PORT
CONF
        unbound -d -c "$TMPD/unbound.conf" & pids+=($!); sleep 1
        # shellcheck disable=SC2086
        measure "x" 20000 "$BIN" -n "127.0.0.1:$UP" $flags --format ndjson -f "$TMPD/d20k.txt" > /dev/null
        echo "| mxlookup ${flags:-(default flags)} | $LAST_E s | $(python3 -c "print(f'{20000/$LAST_E/2000*100:.0f}%')") | $(verify "$OUT/truth.ndjson" 20000) | $(tail -1 "$TMPD/last.err" | sed 's/^[^:]*:[0-9]*: //') |"
        kill "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; sleep 0.3
    done
    ;;
rate)
    echo; echo "## --rate: the start rate reached"
    echo "| asked | names | wall | reached |"
    echo "| --- | --- | --- | --- |"
    for r in 1 10 100 1000 10000 50000 100000; do
        n=$(python3 -c "print(min($N, max(5, $r*4)))")
        head -n "$n" "$OUT/domains.txt" > "$TMPD/rate.txt"
        s=$(date +%s.%N); "$BIN" -q -n "$NS" -c 256 --rate "$r" --format ndjson -f "$TMPD/rate.txt" > /dev/null; e=$(date +%s.%N)
        echo "| $r/s | $n | $(python3 -c "print(f'{$e-$s:.2f} s')") | $(python3 -c "g=($n-1)/($e-$s); print(f'{g:.1f}/s ({g/$r*100:.1f}%)')") |"
    done
    echo; echo "The engine and its limiter alone (examples/pacer.rs: work that answers at once, no server):"
    "$PWD/target/release/examples/pacer" 1000 10000 50000 100000 200000
    ;;
encrypted)
    echo; echo "## DoT and DoH through Unbound (in front of knotd), 30,000 names, Unbound's cache warm"
    # A CA of the benchmark's own, and a server certificate for 127.0.0.1.
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" \
        -keyout "$TMPD/ca.key" -out "$TMPD/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=bench.test" \
        -keyout "$TMPD/key.pem" -out "$TMPD/req.pem" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n' > "$TMPD/ext.cnf"
    openssl x509 -req -in "$TMPD/req.pem" -CA "$TMPD/ca.pem" -CAkey "$TMPD/ca.key" -CAcreateserial \
        -days 2 -extfile "$TMPD/ext.cnf" -out "$TMPD/cert.pem" 2>/dev/null
    UP=$(free_port); TLS=$(free_port); DOH=$(free_port)
    cat > "$TMPD/unbound-enc.conf" <<CONF
server:
    interface: 127.0.0.1@$UP
    interface: 127.0.0.1@$TLS
    interface: 127.0.0.1@$DOH
    tls-port: $TLS
    https-port: $DOH
    tls-service-key: "$TMPD/key.pem"
    tls-service-pem: "$TMPD/cert.pem"
    http-endpoint: "/dns-query"
    incoming-num-tcp: 1000
$(unbound_common unbound-enc)
    msg-cache-size: 64m
    rrset-cache-size: 128m
    local-zone: "test." nodefault
stub-zone:
    name: "bench.test."
    stub-addr: $ADDR@$PORT
CONF
    unbound -d -c "$TMPD/unbound-enc.conf" & pids+=($!); sleep 1
    # Warm Unbound's cache, so that every row measures the transport.
    "$BIN" -q -n "127.0.0.1:$UP" -c 256 --format ndjson -f "$TMPD/d30k.txt" > /dev/null || true
    echo "| client | lookups/s | CPU µs/lk | peak RSS | checked |"
    echo "| --- | --- | --- | --- | --- |"
    for dp in "udp $UP" "dot $TLS" "doh $DOH"; do
        read -r mode port <<< "$dp"
        DP=$(dnsperf -m "$mode" -s 127.0.0.1 -p "$port" -d "$TMPD/q30k.txt" -c 1 -T 1 -q 256 -n 1 2>&1 || true)
        printf '| %-40s | %9.0f | %8s | %8s | %s |\n' "dnsperf -m $mode -c 1 -q 256" \
            "$(echo "$DP" | awk '/Queries per second/ {print $4}')" - - "$(echo "$DP" | awk '/Queries lost/ {print $3, "lost"}')"
    done
    for server in "127.0.0.1:$UP" "tls://127.0.0.1:$TLS" "https://127.0.0.1:$DOH/dns-query"; do
        for c in 64 256; do
            measure "mxlookup -n ${server%%:*}… -c $c" 30000 "$BIN" -q -n "$server" --ca-file "$TMPD/ca.pem" -c "$c" --format ndjson -f "$TMPD/d30k.txt"
            echo " $(verify "$OUT/truth.ndjson" 30000) |"
        done
    done
    measure "mxlookup -n 127.0.0.1 --engine hickory -c 256" 30000 "$BIN" -q -n "127.0.0.1:$UP" --engine hickory -c 256 --format ndjson -f "$TMPD/d30k.txt"
    echo " $(verify "$OUT/truth.ndjson" 30000) |"
    ;;
audit)
    echo; echo "## --audit beside the plain run: $N names, at the default -c 32, -c 256 and -c 1024"
    echo "| run | lookups/s | CPU µs/lk | peak RSS | queries/domain | µs CPU/query | checked |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    for c in 32 256 1024; do
        measure "plain -c $c" "$N" "$BIN" -q -n "$NS" -c "$c" --format ndjson -f "$OUT/domains.txt"
        read -r _ u s _ < <(tail -n 1 "$TMPD/time.txt")
        echo " 1.00 | $(python3 -c "print(f'{($u+$s)/$N*1e6:.1f}')") | $(verify "$OUT/truth.ndjson" "$N") |"
        measure "--audit -c $c" "$N" "$BIN" -n "$NS" -c "$c" --audit --format ndjson -f "$OUT/domains.txt"
        read -r _ u s _ < <(tail -n 1 "$TMPD/time.txt")
        # Queries: what the summary says was sent to the server (MX, A,
        # AAAA, TLSA, TXT, NS), resends included.
        q=$( (sed -n 's/^[0-9.:]*: \([0-9]*\) sent.*/\1/p' "$TMPD/last.err" || true) | tail -1)
        q=${q:-$N}
        echo " $(python3 -c "print(f'{$q/$N:.2f}')") | $(python3 -c "print(f'{($u+$s)/$q*1e6:.1f}')") | $(python3 bench/verify.py --audit <(head -n "$N" "$OUT/truth.ndjson") "$TMPD/last.out" | tail -1) |"
    done
    grep -E '^(addresses|TLSA|registrable domains|problems):' "$TMPD/last.err" | sed 's/^/    /'
    ;;
mtasts)
    echo; echo "## MTA-STS: $N names, half publishing a policy, 1 in 9 of their hosts down"
    python3 bench/gen.py "$N" "$OUT-mtasts" --mta-sts
    # A second knotd for this zone, on 127.0.0.3:53.
    sed -e "s#$ADDR@$PORT#127.0.0.3@53#; s#$PWD/$OUT/bench.test.zone#$PWD/$OUT-mtasts/bench.test.zone#; s#rundir: $TMPD#rundir: $TMPD/m#; s#storage: $TMPD#storage: $TMPD/m#g" \
        "$TMPD/knot.conf" > "$TMPD/knot-m.conf"
    mkdir -p "$TMPD/m"
    knotd -c "$TMPD/knot-m.conf" 2>"$TMPD/knotd-m.log" & pids+=($!)
    HP=$(free_port)
    "$PWD/target/release/examples/policy_server" "$HP" "$TMPD/policy-ca.pem" 2>/dev/null & pids+=($!)
    for _ in $(seq 1 300); do
        "$BIN" -q -n 127.0.0.3 --timeout 200ms --format csv d2.bench.test 2>/dev/null | grep -q ',ok,' && break; sleep 0.2
    done
    echo "| run | wall | domains/s | queries/domain | µs CPU/query | peak RSS | policies fetched/s | checked |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    for flags in "-c 256" "-c 256 --audit --checks routing" "-c 256 --checks routing,mta-sts,tls-rpt" "--audit"; do
        # shellcheck disable=SC2086
        MXLOOKUP_MTA_STS_PORT=$HP /usr/bin/time -f "%e %U %S %M" -o "$TMPD/time.txt" "$BIN" -n 127.0.0.3 --ca-file "$TMPD/policy-ca.pem" \
            $flags --format ndjson -f "$OUT-mtasts/domains.txt" > "$TMPD/last.out" 2>"$TMPD/last.err" || true
        read -r e u s m < <(tail -n 1 "$TMPD/time.txt")
        # The summary names the queries sent when a server had resends.
        q=$( (grep -o '[0-9]* sent' "$TMPD/last.err" || true) | tail -1 | cut -d' ' -f1)
        f=$( (grep -o 'MTA-STS policies: [0-9]* fetched' "$TMPD/last.err" || true) | grep -o '[0-9]*' || true)
        check=$(case "$flags" in *checks\ routing,*|*--audit) echo --audit ;; esac)
        [ "$flags" = "-c 256 --audit --checks routing" ] && check=""
        echo "| ${flags} | $e s | $(python3 -c "print(f'{$N/$e:,.0f}')") | $(python3 -c "print(f'{${q:-0}/$N:.2f}' if '${q}' else '-')") | $(python3 -c "print(f'{($u+$s)/${q:-1}*1e6:.1f}' if '${q}' else f'{($u+$s)/$N*1e6:.1f} per domain')") | $((m/1024)) MB | $(python3 -c "print(f'{${f:-0}/$e:,.0f}')") | $(python3 bench/verify.py $check "$OUT-mtasts/truth.ndjson" "$TMPD/last.out" | tail -1) |"
    done
    ;;
*) echo "unknown suite: $suite"; exit 2 ;;
esac
done
