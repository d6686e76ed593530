#!/usr/bin/env bash
# The main job of mini on a fresh machine, in one command (as root):
#   1. install Deno, the Debian packages and the `mini-*` commands (scripts/install.sh)
#   2. start mini-containerd in the background on its default paths
#   3. build the offline busybox base image from the host's static busybox and import it
#   4. run a first container from it, detached, and show it
#   5. the Docker side: start mini-dockerd (it supervises its own mini-containerd), load
#      the same image into its own store, run a detached container and show `ps`
# Run it again at any time: every step notices what is already done.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOCKET=/run/mini-containerd/mini-containerd.sock
LOG=/var/log/mini-containerd.log
BASE_IMAGE_ARCHIVE=/var/lib/mini/busybox-base-image.oci.tar
IMAGE=docker.io/library/busybox:latest
CONTAINER=hello-mini
DOCKER_SOCKET=/run/mini-docker.sock
DOCKER_LOG=/var/log/mini-dockerd.log
DOCKER_CONTAINER=hello-docker

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

if mini-ctr --address "$SOCKET" tasks ls 2>/dev/null | awk -v c="$CONTAINER" '$1 == c && $3 == "RUNNING" { found = 1 } END { exit !found }'; then
  say "container $CONTAINER is already running"
else
  # A task left STOPPED (its process ended while nobody watched) is removed first.
  mini-ctr --address "$SOCKET" tasks rm -f "$CONTAINER" >/dev/null 2>&1 || true
  mini-ctr --address "$SOCKET" containers rm "$CONTAINER" >/dev/null 2>&1 || true
  say "running container $CONTAINER"
  mini-ctr --address "$SOCKET" run -d "$IMAGE" "$CONTAINER" \
    sh -c 'echo "hello from a mini container: $(hostname)"; while true; do sleep 3600; done'
fi
mini-ctr --address "$SOCKET" tasks ls

export MINI_DOCKER_HOST="unix://$DOCKER_SOCKET"
if mini-docker version >/dev/null 2>&1; then
  say "mini-dockerd already answers on $DOCKER_SOCKET"
else
  say "starting mini-dockerd (log: $DOCKER_LOG)"
  setsid mini-dockerd -H "unix://$DOCKER_SOCKET" >>"$DOCKER_LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 150); do
    mini-docker version >/dev/null 2>&1 && break
    sleep 0.1
  done
  mini-docker version >/dev/null || {
    echo "setup: mini-dockerd did not start; see $DOCKER_LOG" >&2
    tail -n 20 "$DOCKER_LOG" >&2
    exit 1
  }
fi
mini-docker load -i "$BASE_IMAGE_ARCHIVE"
if [ "$(mini-docker inspect -f '{{.State.Running}}' "$DOCKER_CONTAINER" 2>/dev/null)" = true ]; then
  say "container $DOCKER_CONTAINER is already running"
else
  mini-docker rm -f "$DOCKER_CONTAINER" >/dev/null 2>&1 || true
  say "running container $DOCKER_CONTAINER through mini-dockerd"
  mini-docker run -d --name "$DOCKER_CONTAINER" busybox \
    sh -c 'echo "hello from mini-dockerd: $(hostname)"; while true; do sleep 3600; done'
fi
mini-docker ps
say "done. Try: mini-ctr tasks exec --exec-id look $CONTAINER ps; mini-docker exec $DOCKER_CONTAINER ps"
say "(the real docker CLI too: DOCKER_HOST=$MINI_DOCKER_HOST docker ps; course: docs/course/README.md)"
