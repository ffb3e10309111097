#!/usr/bin/env bash
# The project's test command:  sudo ./scripts/test.sh [--host-only] [CARGO TEST ARGS...]
#
#  1. `cargo test` — the whole suite (unit, integration, doc tests) on the host
#     kernel, then `cargo test --features serde --test serde` (the serde
#     feature's tests). Extra arguments go to both invocations, e.g.
#     `sudo ./scripts/test.sh -- --nocapture` or `sudo ./scripts/test.sh engine`.
#  2. The VM lane: tests/vm_lane.rs, built on the host and run as root inside a
#     throw-away VM booting Debian's distribution kernels, 6.1 and a pinned
#     6.18 (scripts/vm-kernel, scripts/vm-run), with
#     TOKIO_NETLINK_VM_LANE=1 so that those tests *fail* rather than skip when a
#     kernel feature is missing. Single-threaded: the emulated VM is slow.
#
#  --host-only   skip step 2 (quick local runs; no QEMU needed)
#
# Root is needed for netlink tests that change links/addresses/routes and for
# the VM. Env knobs for the VM: see scripts/vm-run (TOKIO_NETLINK_VM_*).
set -euo pipefail

# Under sudo, PATH and HOME are root's, which usually has no Rust toolchain:
# use the invoking user's rustup toolchain (crates are cached in root's ~/.cargo).
if ! command -v cargo >/dev/null && [ -n "${SUDO_USER:-}" ]; then
  user_home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
  export RUSTUP_HOME=${RUSTUP_HOME:-$user_home/.rustup}
  export PATH="$user_home/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null || { echo "test.sh: cargo not found (try: sudo env \"PATH=\$PATH\" $0)" >&2; exit 127; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"   # cargo test runs test binaries from the package root too

host_only=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --host-only) host_only=1 ;;
    --) args+=("$@"); break ;;           # everything after -- is for the test harness
    *) args+=("$1") ;;
  esac
  shift
done

echo "== host kernel ($(uname -r)) =="
cargo test ${args[@]+"${args[@]}"}
# The serde feature's tests (tests/serde.rs is empty without it).
echo "== host kernel, --features serde =="
cargo test --features serde --test serde ${args[@]+"${args[@]}"}

if [ "$host_only" = 1 ]; then
  echo "== VM lane skipped (--host-only) =="
  exit 0
fi

echo "== VM lane (Debian kernel) =="
# Build only; cargo's JSON output names the test executable it produced.
# Compiler errors are printed from the JSON (cargo itself does not render them).
json=$(mktemp); trap 'rm -f "$json"' EXIT
build_rc=0
cargo test --test vm_lane --no-run --message-format=json >"$json" || build_rc=$?
exe=$(python3 - "$json" <<'PY'
import json, sys
exe = None
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    msg = json.loads(line)
    if msg.get("reason") == "compiler-message" and msg["message"].get("level") == "error":
        sys.stderr.write(msg["message"].get("rendered") or "")
    elif msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "vm_lane" \
            and msg.get("executable"):
        exe = msg["executable"]
if exe:
    print(exe)
PY
)
[ "$build_rc" = 0 ] || { echo "test.sh: building the vm_lane test failed" >&2; exit "$build_rc"; }
[ -n "$exe" ] || { echo "test.sh: no vm_lane test executable in cargo's output" >&2; exit 1; }

# The xfrm example, which a VM-lane test runs: built here, because cargo inside
# the VM (sources over 9p) takes a minute just to find it fresh.
cargo build --example xfrm
xfrm_example="$(dirname "$(dirname "$exe")")/examples/xfrm"
[ -x "$xfrm_example" ] || { echo "test.sh: no xfrm example at $xfrm_example" >&2; exit 1; }

# Two kernels (scripts/vm-kernel): Debian 12's 6.1, the oldest the crate is
# tested on, and Debian 13 backports' newest-but-pinned one, for what 6.1
# lacks. A test needing a newer kernel than 6.1's says so and does not run
# there (tests/common `kernel_at_least`); on the newest lane
# (TOKIO_NETLINK_VM_NEWEST=1) it must run, so nothing is skipped everywhere.
failed=()
for lane in ${TOKIO_NETLINK_VM_KERNELS:-debian12 debian13-backports}; do
  kernel=$("$root/scripts/vm-kernel" "$lane")
  newest=0; [ "$lane" = debian13-backports ] && newest=1
  echo "== VM lane: $lane (${kernel#/boot/vmlinuz-}) =="
  echo "running ${exe#"$root"/} in a VM (first run installs QEMU via apt-get)"
  rc=0
  TOKIO_NETLINK_VM_LANE=1 TOKIO_NETLINK_VM_NEWEST=$newest TOKIO_NETLINK_VM_KERNEL="$kernel" \
    CARGO_MANIFEST_DIR="$root" TOKIO_NETLINK_XFRM_EXAMPLE="$xfrm_example" \
    "$root/scripts/vm-run" "$exe" --test-threads=1 || rc=$?
  [ "$rc" = 0 ] || failed+=("$lane (exit $rc)")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: the VM lane failed on: ${failed[*]}" >&2
  exit 1
fi
