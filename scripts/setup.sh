#!/usr/bin/env bash
# The main job of mini on a fresh machine, in one command (as root):
#   1. install Deno, the Debian packages and the `mini-*` commands (scripts/install.sh)
#   2. start mini-containerd in the background on its default paths
#   3. build the offline busybox base image from the host's static busybox and import it
#   4. run a first container from it, detached, and show it
# Run it again at any time: every step notices what is already done.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOCKET=/run/mini-containerd/mini-containerd.sock
LOG=/var/log/mini-containerd.log
BASE_IMAGE_ARCHIVE=/var/lib/mini/busybox-base-image.oci.tar
IMAGE=docker.io/library/busybox:latest
CONTAINER=hello-mini

say() { printf '==> %s\n' "$*"; }

bash "$REPO/scripts/install.sh" "$@"

if mini-ctr --address "$SOCKET" version >/dev/null 2>&1; then
  say "mini-containerd already answers on $SOCKET"
else
  say "starting mini-containerd (log: $LOG)"
  setsid mini-containerd --address "$SOCKET" >>"$LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    mini-ctr --address "$SOCKET" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  mini-ctr --address "$SOCKET" version >/dev/null || {
    echo "setup: mini-containerd did not start; see $LOG" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  }
fi

say "building the busybox base image from $(command -v busybox || echo /bin/busybox)"
mkdir -p "$(dirname "$BASE_IMAGE_ARCHIVE")"
deno run --allow-all --quiet --config "$REPO/deno.json" "$REPO/scripts/build_base_image.ts" "$BASE_IMAGE_ARCHIVE"
mini-ctr --address "$SOCKET" images import "$BASE_IMAGE_ARCHIVE"
mini-ctr --address "$SOCKET" images ls

if mini-ctr --address "$SOCKET" tasks ls -q 2>/dev/null | grep -qx "$CONTAINER"; then
  say "container $CONTAINER is already running"
else
  mini-ctr --address "$SOCKET" containers rm "$CONTAINER" >/dev/null 2>&1 || true
  say "running container $CONTAINER"
  mini-ctr --address "$SOCKET" run -d "$IMAGE" "$CONTAINER" \
    sh -c 'echo "hello from a mini container: $(hostname)"; while true; do sleep 3600; done'
fi
mini-ctr --address "$SOCKET" tasks ls
say "done. Try: mini-ctr tasks exec --exec-id look $CONTAINER ps   (course: docs/course/README.md)"
