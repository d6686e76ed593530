#!/usr/bin/env bash
# Lesson 3: where a container's files live on disk. Docker's overlay2 storage driver
# (and mini-dockerd's, which keeps the same layout) gives every layer a directory
# overlay2/<cache-id>/ with diff/ (the layer's files), link (its short name) and, above
# the image's layers, lower (the chain of short names); every container gets two more
# layers: <id>-init (the mount points and files Docker itself writes, /etc/hosts,
# /.dockerenv...) and <id> (the writable upper layer), mounted together at merged/.
#
# The lesson: build the web app (examples/web-app), `run -dP` it as in the classic lab
# (-P publishes the port it EXPOSEs on a free host port of 127.0.0.1), see the mapping
# in `port` and `ps`, fetch the page through it; then `inspect` → GraphDriver, `exec`
# to create /hello-from-container, find it in UpperDir and MergedDir (and in no image
# layer), the overlay mount itself, the -init layer, the l/ short links, and `rm -f`
# leaving no mount behind. The lab's daemon gets a default bridge of its own (a unique
# mlabXXXX name and a free 172.29.N.0/24, lib/daemon.sh's use_own_bridge), so it runs
# beside any other daemon; the cleanup deletes that bridge.
#
# Run as root:  examples/lab/03-overlay2-on-disk.sh
# Environment:  DOCKER=mini-docker|docker (the client; default mini-docker),
#               LAB_DIR (work there and keep it), DENO.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
# The legacy builder, the one mini-dockerd implements (see lesson 2).
export DOCKER_BUILDKIT=0

lab_begin 3

# ---------------------------------------------------------------------------------
section "A mini-dockerd on $LAB, with a bridge of its own"
use_own_bridge
run cat "$CONFIG_FILE"
start_dockerd
echo "# mini-dockerd answers on $SOCKET; $DOCKER talks to it (DOCKER_HOST=$DOCKER_HOST)"
echo "# it created the default bridge daemon.json names, with the bip as its address:"
run ip -4 -brief address show dev "$LAB_BRIDGE"
load_busybox
run "$DOCKER" build -q -t web-app "$REPO/examples/web-app"
run "$DOCKER" images

# ---------------------------------------------------------------------------------
section "run -dP: the web app on a published port"
run "$DOCKER" run -dP --name web web-app
echo "# -P published every port the image EXPOSEs on a free port of 127.0.0.1:"
run "$DOCKER" port web
run "$DOCKER ps --format 'table {{.Names}}\t{{.Image}}\t{{.Ports}}'"
HOST_PORT=$("$DOCKER" port web | head -n 1 | sed 's/.*://')
# httpd needs a moment to listen inside the container; the proxy answers at once.
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$HOST_PORT/" >/dev/null; then break; fi
  sleep 0.1
done
echo "# the page, through mini-docker-proxy (127.0.0.1:$HOST_PORT → the container's port):"
run "curl -sS http://127.0.0.1:$HOST_PORT/ | grep -E '<h4>|class=\"cat\"'"

# ---------------------------------------------------------------------------------
section "The container and its GraphDriver"
echo "# inspect shows the four directories of the container's root filesystem:"
run "$DOCKER inspect web | grep -A 9 '\"GraphDriver\"'"
field() { "$DOCKER" inspect --format "{{.GraphDriver.Data.$1}}" web; }
UPPER=$(field UpperDir)
MERGED=$(field MergedDir)
LOWER=$(field LowerDir)
LAYER=$(dirname "$UPPER")
INIT=$LAYER-init
echo "# MergedDir is an overlay mount; its options name the short links of l/:"
run "grep -F '$MERGED' /proc/mounts | tr ',' '\n'"

# ---------------------------------------------------------------------------------
section "A file written in the container lands in UpperDir"
run "$DOCKER" exec web sh -c "'echo hello from the container > /hello-from-container'"
run ls "$UPPER"
run cat "$UPPER/hello-from-container"
echo "# the merged view (what the container sees as /) has it too:"
run ls "$MERGED"
echo "# and no layer below has it (LowerDir lists the -init layer, then the image's):"
for lower in ${LOWER//:/ }; do
  run "ls $lower/hello-from-container 2>&1 || true"
done

# ---------------------------------------------------------------------------------
section "overlay2/ on disk"
cd "$DATA_ROOT"
run cd "$DATA_ROOT"
echo "# one directory per layer, the container's two layers (<id> and <id>-init), and l/:"
run ls overlay2
run ls -d "overlay2/*-init"
echo "# the -init layer holds what Docker creates in every container: mount points, /.dockerenv:"
run "cd $INIT/diff && find . | sort"
echo "# each layer has a 26-character short name (link) and a short link in l/ pointing at its diff:"
run cat "overlay2/$(basename "$LAYER")/link"
run ls -l overlay2/l
for link in overlay2/l/*; do
  run readlink "$link"
done
echo "# the container layer's lower file: its lower layers as l/ names, nearest first:"
run cat "overlay2/$(basename "$LAYER")/lower"
echo "# the image's layers are recorded by chain ID in layerdb, the container's mount by its ID:"
run ls image/overlay2/layerdb/sha256 image/overlay2/layerdb/mounts

# ---------------------------------------------------------------------------------
section "rm -f: the container's layers and its mount go away"
run "$DOCKER" rm -f web
run ls overlay2
run "grep -c ' $DATA_ROOT/' /proc/mounts || true"
echo "# (0: no mount left below the data root; the image's layers stay)"
cd /
echo
echo "overlay2 lab done"
