#!/usr/bin/env bash
# The examples against the tools they clone, end to end, in the same run:
# `examples/ip`, `examples/ss` and `examples/xfrm` against iproute2's `ip`,
# `ss` and `ip xfrm`, each in a throwaway network namespace (so: root).
#
#   benches/tools.sh            # everything
#   REPEATS=3 benches/tools.sh  # fewer runs per command (default: best of 5)
#   SKIP_SS=1 benches/tools.sh  # without the 10,000-socket namespace
#   SKIP_MONITOR=1 …            # without the monitor-keeps-up check
#
# Namespaces: 100,000 blackhole routes in table 300 and 100,000 routes via
# a veth (`dev` to name) in table 301 (ip -batch); 4,001 links (2,000
# veth pairs and lo, an IPv4 address on each `va` end); 10,000 TCP sockets
# (a Python listener with 5,000 connections to itself); 10,000 XFRM
# policies. Each command runs REPEATS times, alternating ours and theirs,
# stdout to /dev/null; the table gives the best wall time and the
# peak RSS (GNU time's %M) of each, and ours / theirs. Goals are
# printed, never asserted. The host's own networking is never touched, and
# the namespaces go away on exit, failure or Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/.."
REPEATS=${REPEATS:-5}
TAG=tnb$$
NS_ROUTES=$TAG-routes
NS_LINKS=$TAG-links
NS_SOCKS=$TAG-socks
NS_XFRM=$TAG-xfrm
NS_MON=$TAG-mon
TMP=$(mktemp -d)
SOCK_PID=

cleanup() {
    if [ -n "$SOCK_PID" ]; then
        kill "$SOCK_PID" 2>/dev/null || true
        wait "$SOCK_PID" 2>/dev/null || true
    fi
    for ns in "$NS_ROUTES" "$NS_LINKS" "$NS_SOCKS" "$NS_XFRM" "$NS_MON"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "tools.sh: needs root (network namespaces)" >&2; exit 1; }
for t in ip ss python3; do
    command -v "$t" >/dev/null || { echo "tools.sh: $t is missing" >&2; exit 1; }
done
# GNU time gives each command's own peak RSS (a child of Python would
# inherit Python's high-water mark from before its exec).
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null

echo "building the examples (release)…" >&2
cargo build --release --quiet --example ip --example ss --example xfrm
EX=target/release/examples

echo "namespace with 100,000 routes in table 300 (and 100,000 via a veth in 301)…" >&2
ip netns add "$NS_ROUTES"
python3 - >"$TMP/routes.batch" <<'EOF'
print("link set lo up")
print("link add r0 type veth peer name r1")
print("link set r0 up")
print("link set r1 up")
print("addr add 10.255.0.1/16 dev r0")
for i in range(100_000):
    a = f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}/32"
    print(f"route add blackhole {a} table 300")
    print(f"route add {a} via 10.255.0.2 dev r0 table 301")
EOF
ip -n "$NS_ROUTES" -batch "$TMP/routes.batch"

echo "namespace with 4,001 links…" >&2
ip netns add "$NS_LINKS"
python3 - >"$TMP/links.batch" <<'EOF'
print("link set lo up")
for i in range(2000):
    print(f"link add va{i} type veth peer name vb{i}")
    print(f"addr add 10.{i >> 8}.{i & 255}.1/24 dev va{i}")
EOF
ip -n "$NS_LINKS" -batch "$TMP/links.batch"

if [ -z "${SKIP_SS:-}" ]; then
    echo "namespace with 10,000 TCP sockets…" >&2
    ip netns add "$NS_SOCKS"
    ip -n "$NS_SOCKS" link set lo up
    ip netns exec "$NS_SOCKS" python3 - "$TMP/socks.ready" <<'EOF' &
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (20_000, 20_000))
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 5000))
l.listen(128)
keep = []
for _ in range(5000):
    keep.append(socket.create_connection(("127.0.0.1", 5000)))
    keep.append(l.accept()[0])
open(sys.argv[1], "w").close()
time.sleep(3600)
EOF
    SOCK_PID=$!
    for _ in $(seq 600); do
        [ -e "$TMP/socks.ready" ] && break
        kill -0 "$SOCK_PID" 2>/dev/null || { echo "tools.sh: the socket holder died" >&2; exit 1; }
        sleep 0.1
    done
    [ -e "$TMP/socks.ready" ] || { echo "tools.sh: sockets not ready" >&2; exit 1; }
fi

echo "namespace with 10,000 XFRM policies…" >&2
ip netns add "$NS_XFRM"
python3 - >"$TMP/xfrm.batch" <<'EOF'
for i in range(10_000):
    print(f"xfrm policy add src 10.0.{i >> 8}.{i & 255}/32 dst 10.1.{i >> 8}.{i & 255}/32 "
          f"dir out tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel")
EOF
ip -n "$NS_XFRM" -batch "$TMP/xfrm.batch"

# name | goal (wall ratio) | goal (our RSS, MB; 0: none) | ours… ||| theirs…
{
    echo "ip -j route show table 300|0.6|8|$EX/ip -n $NS_ROUTES -j route show table 300|||ip -n $NS_ROUTES -j route show table 300"
    echo "ip route show table 300|0.6|0|$EX/ip -n $NS_ROUTES route show table 300|||ip -n $NS_ROUTES route show table 300"
    echo "ip -j route show table 301|0|8|$EX/ip -n $NS_ROUTES -j route show table 301|||ip -n $NS_ROUTES -j route show table 301"
    echo "ip route show table 301|0|0|$EX/ip -n $NS_ROUTES route show table 301|||ip -n $NS_ROUTES route show table 301"
    echo "ip -j link show|0.8|8|$EX/ip -n $NS_LINKS -j link show|||ip -n $NS_LINKS -j link show"
    echo "ip -j addr show|0.8|8|$EX/ip -n $NS_LINKS -j addr show|||ip -n $NS_LINKS -j addr show"
    echo "ip link show|0|0|$EX/ip -n $NS_LINKS link show|||ip -n $NS_LINKS link show"
    if [ -z "${SKIP_SS:-}" ]; then
        echo "ss -tan|0.3|0|$EX/ss -n $NS_SOCKS -tan|||ss -N $NS_SOCKS -tan"
    fi
    echo "ip xfrm policy list|0.5|0|$EX/xfrm -n $NS_XFRM policy list|||ip -n $NS_XFRM xfrm policy list"
} >"$TMP/cases"
[ -n "${SKIP_SS:-}" ] && echo "(ss -tan skipped: SKIP_SS is set)" >&2

python3 - "$TMP/cases" "$REPEATS" "$TMP/rss" <<'EOF'
import subprocess, sys, time

cases = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
repeats = int(sys.argv[2])
rss_file = sys.argv[3]

def run(cmd):
    """Wall time (s) and peak RSS (KiB) of one run, stdout to /dev/null."""
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd.split()
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{cmd!r} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return wall, int(open(rss_file).read().split()[-1])

def lines(cmd):
    """The line count of one (untimed) run, to check both print as much."""
    return subprocess.run(cmd.split(), capture_output=True, check=True).stdout.count(b"\n")

rows = []
for name, goal, rss_goal, ours, _, _, theirs in cases:
    best = {"ours": (1e9, 0), "theirs": (1e9, 0)}
    for _ in range(repeats):
        for who, cmd in (("ours", ours), ("theirs", theirs)):
            w, rss = run(cmd)
            b = best[who]
            best[who] = (min(b[0], w), max(b[1], rss))
    (ow, orss), (tw, trss) = best["ours"], best["theirs"]
    ol, tl = lines(ours), lines(theirs)
    ratio = ow / tw
    verdict = []
    if float(goal) > 0:
        verdict.append(f"wall ≤ {goal}x: {'met' if ratio <= float(goal) else 'NOT met'}")
    if float(rss_goal) > 0:
        ok = orss / 1024 <= float(rss_goal)
        verdict.append(f"RSS ≤ {rss_goal} MB: {'met' if ok else 'NOT met'}")
    note = "" if name.startswith("ip -j") or ol == tl else f" (lines: ours {ol}, theirs {tl})"
    rows.append((name, ow, orss, tw, trss, ratio, "; ".join(verdict) + note))

print(f"\nbest of {repeats}, wall time and peak RSS; ours / theirs in the same run\n")
print("| command | ours | iproute2 | ours / iproute2 | goal |")
print("|---|---|---|---|---|")
for name, ow, orss, tw, trss, ratio, verdict in rows:
    print(f"| `{name}` | {ow:.3f} s, {orss / 1024:.1f} MB | {tw:.3f} s, {trss / 1024:.1f} MB "
          f"| {ratio:.2f}x, {orss / trss:.2f}x memory | {verdict} |")
EOF

# Does `ip monitor` keep up? Ours and iproute2's `ip monitor route` watch a fresh
# namespace while `ip -batch` adds 100,000 routes; each must print one
# line per route and no LOST. Reported, never asserted.
if [ -z "${SKIP_MONITOR:-}" ]; then
    ip netns add "$NS_MON"
    ip -n "$NS_MON" link set lo up
    python3 - >"$TMP/mon.batch" <<'PY'
for i in range(100_000):
    print(f"route add blackhole 10.{i >> 16}.{(i >> 8) & 255}.{i & 255}/32 table 400")
PY
    "$EX/ip" -n "$NS_MON" monitor route >"$TMP/mon.ours" &
    MON_OURS=$!
    ip -n "$NS_MON" monitor route >"$TMP/mon.theirs" &
    MON_THEIRS=$!
    sleep 1
    t0=$(date +%s.%N)
    ip -n "$NS_MON" -batch "$TMP/mon.batch"
    # Both have printed everything once their output stops growing.
    prev=
    for _ in $(seq 100); do
        sleep 0.2
        now="$(wc -l <"$TMP/mon.ours") $(wc -l <"$TMP/mon.theirs")"
        [ "$now" = "$prev" ] && break
        prev=$now
    done
    t1=$(date +%s.%N)
    kill "$MON_OURS" "$MON_THEIRS" 2>/dev/null || true
    wait "$MON_OURS" "$MON_THEIRS" 2>/dev/null || true
    ip netns del "$NS_MON"
    ours_lines=$(grep -c 'table 400' "$TMP/mon.ours" || true)
    ours_lost=$(grep -c '^LOST' "$TMP/mon.ours" || true)
    theirs_lines=$(grep -c 'table 400' "$TMP/mon.theirs" || true)
    echo
    echo "monitor during a 100,000-route ip -batch ($(echo "$t1 - $t0" | bc 2>/dev/null || echo '?') s):"
    echo "| monitor | route lines | LOST lines | goal |"
    echo "|---|---|---|---|"
    verdict="NOT met"
    [ "$ours_lines" = 100000 ] && [ "$ours_lost" = 0 ] && verdict="met"
    echo "| ours (\`ip monitor route\`) | $ours_lines | $ours_lost | 100,000 and no LOST: $verdict |"
    echo "| ip monitor route | $theirs_lines | (ip prints no loss line) | |"
fi
