#!/usr/bin/env bash
# Build the Debian package with cargo-deb, unpack it into a scratch
# directory (dpkg-deb -x: nothing is installed on this host), check what it
# holds, and run the packaged binary against Knot DNS on loopback serving
# the README's example zone. Run by .ci/run, so the package is known to work.
#
#   deploy/deb.sh            # builds target/debian/mxlookup_*.deb and checks it
#   deploy/deb.sh --install  # and then installs it with dpkg -i
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked --quiet
cargo build --release --locked --quiet
mkdir -p target/assets
bin=target/release/mxlookup
"$bin" man | gzip -9n > target/assets/mxlookup.1.gz
"$bin" completions bash > target/assets/mxlookup.bash
"$bin" completions zsh > target/assets/_mxlookup
"$bin" completions fish > target/assets/mxlookup.fish
rm -f target/debian/mxlookup_*.deb
cargo deb --no-build --quiet
deb=$(ls target/debian/mxlookup_*.deb)
dir=$(mktemp -d)
root="$dir/root"
dpkg-deb -x "$deb" "$root"
echo "built $deb"

# What the package holds.
for f in /usr/bin/mxlookup /usr/share/man/man1/mxlookup.1.gz \
         /usr/share/bash-completion/completions/mxlookup /usr/share/doc/mxlookup/README.md; do
    dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\.||' | grep -qx "$f" || { echo "the package lacks $f"; exit 1; }
done
mx="$root/usr/bin/mxlookup"
"$mx" --version

# The packaged binary against Knot on loopback.
knotd=$(command -v knotd || echo /usr/sbin/knotd)
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
cat > "$dir/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$port
    rundir: $dir
database:
    storage: $dir
template:
  - id: default
    storage: $dir
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: example.
    file: $PWD/examples/example.zone
log:
  - target: stderr
    any: error
CONF
"$knotd" -c "$dir/knot.conf" 2>"$dir/knotd.log" &
knot=$!
trap 'kill $knot 2>/dev/null || true; wait $knot 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
    "$mx" -q "@127.0.0.1:$port" --timeout 200ms --format csv shop.example 2>/dev/null | grep -q ',ok,' && break
    sleep 0.1
done
got=$("$mx" "@127.0.0.1:$port" --format plain shop.example parked.example)
want=$'shop.example    mx0.mailhost.example\nshop.example    mx1.mailhost.example\nshop.example    mx2.mailhost.example\nparked.example  [null_mx] accepts no mail (null MX)'
if [ "$got" != "$want" ]; then
    echo "the packaged mxlookup answered:"; echo "$got"; echo "expected:"; echo "$want"
    exit 1
fi
echo "the packaged mxlookup answers from Knot as expected"
if [ "${1:-}" = --install ]; then
    dpkg -i "$deb"
fi
