#!/usr/bin/env bash
# Lesson 4: the components. "Docker" is a chain of processes: the daemon users talk to
# (dockerd), the container supervisor it starts (containerd, on a socket of its own),
# and one shim per container, started by containerd with `-namespace moby -workdir ...
# -address ...`, which is the container's parent. ctr, containerd's own client, sees
# dockerd's containers and tasks in the containerd namespace `moby`, but none of its
# images: dockerd keeps images in its own store (lesson 3). ctr can pull into that
# namespace (from a registry; here a local one) and run a container of its own there,
# which dockerd in turn does not list.
#
# Run as root:  examples/lab/04-components.sh
# Environment:  DOCKER=mini-docker|docker (the client; default mini-docker),
#               LAB_DIR (work there and keep it), DENO.
# Needs docker-registry (Debian's distribution 2.8) for the local registry.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"

if ! command -v docker-registry >/dev/null; then
  echo "this lesson runs a local registry: install docker-registry (apt-get install docker-registry)" >&2
  exit 1
fi

lab_begin 4
export MINI_CONTAINERD_ADDRESS=$CONTAINERD_SOCKET # what mini-ctr talks to
REGISTRY_PID=""
DEMO_STARTED=0

stop_lesson() {
  local status=$?
  set +e
  if [[ $DEMO_STARTED == 1 ]]; then
    mini-ctr -n moby tasks rm -f demo >/dev/null 2>&1
    mini-ctr -n moby containers rm demo >/dev/null 2>&1
  fi
  if [[ -n $REGISTRY_PID ]]; then
    kill "$REGISTRY_PID" 2>/dev/null
    wait "$REGISTRY_PID" 2>/dev/null
  fi
  lab_cleanup "$status"
}
trap stop_lesson EXIT

# ---------------------------------------------------------------------------------
section "mini-dockerd, its mini-containerd, and a container"
start_dockerd
load_busybox
run "$DOCKER" run -d --name web busybox sleep 3600
CONTAINER_ID=$("$DOCKER" inspect --format '{{.Id}}' web)
CONTAINER_PID=$("$DOCKER" inspect --format '{{.State.Pid}}' web)
CONTAINERD_PID=$(cat "$EXEC_ROOT/containerd/containerd.pid")
SHIM_PIDS=$(for pid in $(lab_processes); do
  if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q mini_containerd_shim; then
    echo "$pid"
  fi
done | paste -sd,)
echo "# the lab's processes as a tree (ps axf shows the same among all the others):"
echo "# mini-dockerd → mini-containerd (naming its socket) → the shim → the container"
run ps -ww --forest -o pid,ppid,args -p "$DOCKERD_PID,$CONTAINERD_PID,$SHIM_PIDS,$CONTAINER_PID"

# ---------------------------------------------------------------------------------
section "What mini-containerd holds for mini-dockerd: namespace moby"
run mini-ctr namespaces ls
run mini-ctr -n moby containers list
run mini-ctr -n moby tasks ls
echo "# no images: dockerd keeps its images in its own store (overlay2/, image/overlay2/)"
run mini-ctr -n moby images ls
echo "# (the container $CONTAINER_ID above is the one \`$DOCKER ps\` shows:)"
run "$DOCKER" ps

# ---------------------------------------------------------------------------------
section "ctr pulls into the moby namespace from a local registry"
PORT=$("$DENO" eval \
  'const l = Deno.listen({ hostname: "127.0.0.1", port: 0 }); console.log(l.addr.port); l.close();')
REGISTRY=127.0.0.1:$PORT
mkdir -p "$LAB/registry"
cat >"$LAB/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $LAB/registry/storage
http:
  addr: $REGISTRY
  secret: mini-lab-$RANDOM$RANDOM
EOF
docker-registry serve "$LAB/registry/config.yml" >"$LAB/registry/log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 1 150); do
  if curl -sf "http://$REGISTRY/v2/" >/dev/null; then break; fi
  sleep 0.1
done
echo "# a registry (docker-registry) on $REGISTRY; put busybox there first, from ctr's default namespace:"
run mini-ctr images import "$LAB/busybox.tar"
run mini-ctr images push "$REGISTRY/library/busybox:latest" docker.io/library/busybox:latest
echo "# now the pull, into the namespace dockerd uses:"
run mini-ctr -n moby images pull "$REGISTRY/library/busybox:latest"
run mini-ctr -n moby images ls
run mini-ctr namespaces ls

# ---------------------------------------------------------------------------------
section "ctr runs a container in moby, beside dockerd's"
run mini-ctr -n moby run -d "$REGISTRY/library/busybox:latest" demo sleep 3600
DEMO_STARTED=1
run mini-ctr -n moby tasks ls
echo "# dockerd lists only the containers it created itself:"
run "$DOCKER" ps --format "'{{.Names}}'"
run mini-ctr -n moby tasks rm -f demo
run mini-ctr -n moby containers rm demo
DEMO_STARTED=0
run "$DOCKER" rm -f web
echo
echo "components lab done"
