#!/usr/bin/env bash
# The overlay lab: the classic first lesson on union filesystems, then the same
# experiment through mini-containerd's overlay snapshotter.
#
# Part 1 uses nothing but mount(8): two lower directories, an upper one, a work
# directory and a merged mount point. It shows that the merged view is the union of
# the layers, that changing a lower file copies it up into the upper layer (the lower
# file stays as it was), that new files land in the upper layer, that a deletion is
# recorded as a whiteout, and that the upper layer keeps all of it after unmounting.
#
# Part 2 does the same with `mini-ctr snapshots`: two committed layers, an active
# snapshot on top, mounted with the very mount command the snapshotter describes,
# written to, and finally diffed into a layer blob, the way `docker commit` would.
# It starts its own mini-containerd on temporary roots, unless MINI_CONTAINERD_ADDRESS
# points at a running one.
#
# Run as root:  examples/lab/01-overlay.sh
# Environment:  LAB_DIR (work here and keep it), DENO, MINI_CTR, MINI_CONTAINERD,
#               MINI_CONTAINERD_ADDRESS.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DENO=${DENO:-deno}
MINI_CTR=${MINI_CTR:-"$DENO run --allow-all --quiet $REPO/cmd/mini_ctr.ts"}
MINI_CONTAINERD=${MINI_CONTAINERD:-"$DENO run --allow-all --quiet $REPO/cmd/mini_containerd.ts"}
NAMESPACE=overlay-lab

if [[ $(id -u) != 0 ]]; then
  echo "the overlay lab mounts filesystems: run it as root" >&2
  exit 1
fi

if [[ -n ${LAB_DIR:-} ]]; then
  LAB=$LAB_DIR
  KEEP_LAB=1
else
  LAB=$(mktemp -d /tmp/mini-overlay-lab.XXXXXX)
  KEEP_LAB=0
fi
mkdir -p "$LAB"
DAEMON_PID=""

cleanup() {
  set +e # clean up as much as possible, whatever fails
  # Unmount whatever is still mounted under the lab, deepest first.
  grep -F " $LAB/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r point; do
    umount "$point" 2>/dev/null || umount -l "$point" 2>/dev/null || true
  done
  if [[ -n $DAEMON_PID ]]; then
    kill "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  if [[ $KEEP_LAB == 0 ]]; then rm -rf "$LAB"; fi
}
trap cleanup EXIT

source "$REPO/examples/lab/lib/print.sh"

ctr() {
  # shellcheck disable=SC2086
  $MINI_CTR --namespace "$NAMESPACE" "$@"
}

# ---------------------------------------------------------------------------------
section "Part 1: overlayfs by hand"
cd "$LAB"
run mkdir -p plain
cd plain
run mkdir lower1 lower2 upper work merged
run touch lower1/a lower2/b upper/c
run mount -t overlay overlay -o lowerdir=lower1:lower2,upperdir=upper,workdir=work merged
echo "# merged is the union of all three layers:"
run ls merged
echo "# append to a file that lives in lower1, through the merged view:"
run "echo hello >> merged/a"
run cat merged/a
echo "# the kernel copied a up into upper first; lower1/a is untouched (still empty):"
run cat upper/a
run "wc -c < lower1/a"
echo "# a new file lands in upper:"
run touch merged/d
run ls upper
echo "# deleting a lower file records a whiteout in upper: a 0/0 character device:"
run rm merged/b
run "ls -l upper/b"
run ls lower2
run umount merged
echo "# after unmounting, upper keeps every change:"
run ls -l upper
run cat upper/a

# ---------------------------------------------------------------------------------
section "Part 2: the same with mini-ctr snapshots"
cd "$LAB"
if [[ -z ${MINI_CONTAINERD_ADDRESS:-} ]]; then
  mkdir -p containerd
  export MINI_CONTAINERD_ADDRESS=$LAB/containerd/containerd.sock
  echo "# starting a mini-containerd on $LAB/containerd"
  # shellcheck disable=SC2086
  $MINI_CONTAINERD --root "$LAB/containerd/root" --state "$LAB/containerd/state" \
    --address "$MINI_CONTAINERD_ADDRESS" --log-level warn &
  DAEMON_PID=$!
  for _ in $(seq 1 200); do
    if ctr version >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
  ctr version >/dev/null
fi
export MINI_CONTAINERD_ADDRESS
MNT=$LAB/snapshot-mount
run mkdir -p "$MNT"

echo "# the first layer: an Active snapshot without parent is a plain bind mount"
run ctr snapshots prepare lower1-active
run ctr snapshots mounts "$MNT" lower1-active
eval "$(ctr snapshots mounts "$MNT" lower1-active)"
run touch "$MNT/a"
run umount "$MNT"
run ctr snapshots commit lower1 lower1-active

echo "# the second layer sits on the first: its mounts are an overlay"
run ctr snapshots prepare lower2-active lower1
eval "$(ctr snapshots mounts "$MNT" lower2-active)"
run touch "$MNT/b"
run umount "$MNT"
run ctr snapshots commit lower2 lower2-active

echo "# the top: an Active snapshot on both (lowerdir lists the nearest parent first)"
run ctr snapshots prepare upper lower2
run ctr snapshots mounts "$MNT" upper
eval "$(ctr snapshots mounts "$MNT" upper)"
run touch "$MNT/c"
run ls "$MNT"
run "echo hello >> $MNT/a"
run touch "$MNT/d"
run rm "$MNT/b"
run umount "$MNT"
UPPERDIR=$(ctr snapshots mounts "$MNT" upper | sed -n 's/.*upperdir=\([^,]*\).*/\1/p')
LOWER1=$(ctr snapshots mounts "$MNT" upper | sed -n 's/.*lowerdir=[^,]*:\([^,:]*\).*/\1/p')
echo "# the upper layer (the snapshot's fs directory) holds the copied-up a, c, d and b's whiteout:"
run ls -l "$UPPERDIR"
run cat "$UPPERDIR/a"
echo "# and the first layer's a is still empty:"
run "wc -c < $LOWER1/a"
run ctr snapshots ls
run ctr snapshots tree
run ctr snapshots usage
echo "# the changes of 'upper' against its parent, as a layer blob in the content store"
echo "# (the kernel's whiteout device for b becomes the OCI whiteout file .wh.b):"
run ctr snapshots diff upper
DIGEST=$(ctr snapshots diff upper)
run "ctr content get $DIGEST | tar -tzv"

if [[ -z $DAEMON_PID ]]; then
  # A shared daemon: leave it as we found it.
  ctr snapshots rm upper
  ctr snapshots rm lower2
  ctr snapshots rm lower1
fi
echo
echo "overlay lab done"
