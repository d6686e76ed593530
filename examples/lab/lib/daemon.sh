#!/usr/bin/env bash
# Shared by the Docker-side lab scripts (examples/lab/0[2-5]-*.sh); sourced, not run.
#
# It gives every lesson the same frame: a lab directory on a temp root, a mini-dockerd
# on that root (with its own supervised mini-containerd, as dockerd starts containerd),
# the offline busybox image, `run` to print a command as a teacher types it followed by
# its output, and a cleanup that ends everything the lesson started *by PID* and
# unmounts and removes the lab directory, even when a step fails.
#
# The docker client is chosen by DOCKER: `mini-docker` (default) or `docker` (the real
# CLI; DOCKER_HOST is pointed at the lab's mini-dockerd). The mini programs run from
# this checkout (cmd/*.ts) through Deno, so the lab works without installing them.
#
# Environment: LAB_DIR (work there and keep it afterwards), DENO, DOCKER.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
DENO=${DENO:-deno}
DOCKER=${DOCKER:-mini-docker}
DOCKERD_PID=""
LAB_BRIDGE="" # set by use_own_bridge; lab_cleanup deletes this link (and only this one)

if [[ $(id -u) != 0 ]]; then
  echo "this lab runs containers: run it as root" >&2
  exit 1
fi
if [[ $DOCKER != mini-docker && $DOCKER != docker ]]; then
  echo "DOCKER must be mini-docker or docker, not '$DOCKER'" >&2
  exit 1
fi

# The mini programs, as the commands a reader would type once they are installed.
mini-docker() { "$DENO" run --allow-all --quiet "$REPO/cmd/mini_docker.ts" "$@"; }
mini-ctr() { "$DENO" run --allow-all --quiet "$REPO/cmd/mini_ctr.ts" "$@"; }

# Creates the lab directory ($LAB) and the paths of the lab's daemon. Short paths on
# purpose: Unix socket paths are limited to 108 bytes.
lab_begin() {
  local lesson=$1
  if [[ -n ${LAB_DIR:-} ]]; then
    LAB=$LAB_DIR
    KEEP_LAB=1
  else
    LAB=$(mktemp -d "/tmp/mini-lab$lesson.XXXXXX")
    KEEP_LAB=0
  fi
  mkdir -p "$LAB"
  LAB=$(cd "$LAB" && pwd)
  DATA_ROOT=$LAB/data
  EXEC_ROOT=$LAB/exec
  SOCKET=$LAB/docker.sock
  CONFIG_FILE=$LAB/daemon.json
  CONTAINERD_SOCKET=$EXEC_ROOT/containerd/containerd.sock
  export MINI_DOCKER_HOST=unix://$SOCKET
  export DOCKER_HOST=unix://$SOCKET
  export DOCKER_CONFIG=$LAB/docker-config
  # No default bridge: the lab's daemon then runs beside any other daemon on the machine
  # (two default bridges would want the same name and subnet). Containers get their own
  # network namespace with loopback only; networking is lesson 9's subject.
  [[ -f $CONFIG_FILE ]] || echo '{"bridge": "none"}' >"$CONFIG_FILE"
  trap lab_cleanup EXIT
}

# Prints the third number N of a 172.29.N.0/24 that overlaps no route of the host
# (`ip -4 route`), picked at random among the free ones so that two labs started at the
# same time are unlikely to pick the same. Fails when none is free.
free_lab_subnet() {
  # Each route as "<4 address bytes> <prefix length>" (a bare address is a /32).
  local -a routes
  mapfile -t routes < <(ip -4 route show | awk '{
    for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(\/[0-9]+)?$/) {
      split($i, parts, "/"); split(parts[1], bytes, ".")
      print bytes[1], bytes[2], bytes[3], bytes[4], (parts[2] == "" ? 32 : parts[2]); next
    } }')
  local third candidate route a b c d network prefix shift clash
  for third in $(shuf -i 0-255); do
    candidate=$(((172 << 24) | (29 << 16) | (third << 8)))
    clash=0
    for route in "${routes[@]}"; do
      read -r a b c d prefix <<<"$route"
      network=$(((a << 24) | (b << 16) | (c << 8) | d))
      ((prefix == 0)) && continue # the default route overlaps everything; it is no clash
      shift=$((32 - (prefix < 24 ? prefix : 24)))
      if (((candidate >> shift) == (network >> shift))); then
        clash=1
        break
      fi
    done
    if ((clash == 0)); then
      echo "$third"
      return 0
    fi
  done
  return 1
}

# Gives the lab's daemon a default bridge of its own instead of none: a unique name
# (mlab + 4 hex digits, so it clashes with no other daemon's mini0 or docker0) and a
# /24 of 172.29.0.0/16 that no host route covers. Writes daemon.json (call it after
# lab_begin, before start_dockerd) and sets LAB_BRIDGE, which lab_cleanup deletes: like
# dockerd, mini-dockerd leaves its bridge in place when it stops.
use_own_bridge() {
  local name third
  for _ in $(seq 1 20); do
    name=mlab$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
    ip link show "$name" >/dev/null 2>&1 || break
    name=""
  done
  if [[ -z $name ]]; then
    echo "no free mlabXXXX link name found" >&2
    return 1
  fi
  if ! third=$(free_lab_subnet); then
    echo "every 172.29.N.0/24 overlaps a host route (ip -4 route): no subnet for the lab" >&2
    return 1
  fi
  LAB_BRIDGE=$name
  printf '{"bridge": "%s", "bip": "172.29.%s.1/24"}\n' "$LAB_BRIDGE" "$third" >"$CONFIG_FILE"
}

source "$REPO/examples/lab/lib/print.sh"

# Starts mini-dockerd on the lab's roots in the background and waits until it answers.
start_dockerd() {
  "$DENO" run --allow-all --quiet "$REPO/cmd/mini_dockerd.ts" \
    --config-file "$CONFIG_FILE" --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" \
    -H "unix://$SOCKET" --pidfile "$LAB/docker.pid" >>"$LAB/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  for _ in $(seq 1 600); do
    if curl -sf --unix-socket "$SOCKET" http://docker/_ping >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "mini-dockerd did not start; its log ($LAB/dockerd.log):" >&2
  tail -n 30 "$LAB/dockerd.log" >&2
  return 1
}

# Stops the lab's mini-dockerd with SIGTERM (as systemd does) and waits for it to exit.
stop_dockerd() {
  if [[ -z $DOCKERD_PID ]]; then return 0; fi
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true
  wait "$DOCKERD_PID" 2>/dev/null || true
  DOCKERD_PID=""
}

# Builds the offline busybox image from the host's static busybox and loads it.
load_busybox() {
  "$DENO" run --allow-all --quiet "$REPO/scripts/build_base_image.ts" "$LAB/busybox.tar" >/dev/null
  run "$DOCKER" load -i "$LAB/busybox.tar"
}

# PIDs of what the lesson started besides mini-dockerd: processes whose command line
# names the lab directory (mini-containerd, shims, the registry) and the containers'
# processes, whose root directory is a rootfs below the lab directory.
lab_processes() {
  # "[/]tmp/..." matches the lab path but not grep's own command line.
  local pattern="[${LAB:0:1}]${LAB:1}"
  {
    grep -l -- "$pattern" /proc/[0-9]*/cmdline
    find /proc/[0-9]*/root -maxdepth 0 -lname "$LAB/*"
  } 2>/dev/null | cut -d/ -f3 | grep -vx -e "$$" -e "$BASHPID" | sort -un
}

# Ends everything the lesson started (by PID), unmounts what is left below the lab
# directory, and removes it unless LAB_DIR asked to keep it. Exits with the script's
# status (or the one given).
lab_cleanup() {
  local status=${1:-$?}
  set +e # clean up as much as possible, whatever fails
  if [[ -n $DOCKERD_PID ]]; then
    # Containers first, through the API, so live-restore does not keep them running.
    local id
    for id in $(curl -sf --unix-socket "$SOCKET" "http://docker/containers/json?all=1" |
      grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
      curl -sf --unix-socket "$SOCKET" -X DELETE "http://docker/containers/$id?force=1" >/dev/null
    done
    kill -TERM "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
  fi
  local pid
  for pid in $(lab_processes); do kill -KILL "$pid" 2>/dev/null; done
  for _ in $(seq 1 50); do [[ -z $(lab_processes) ]] && break; sleep 0.1; done
  grep -F " $LAB/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r point; do
    umount "$point" 2>/dev/null || umount -l "$point" 2>/dev/null
  done
  # The lab's own bridge outlives its daemon (as docker0 outlives dockerd): delete it,
  # by the unique name use_own_bridge chose, never any other link.
  if [[ -n $LAB_BRIDGE && -d /sys/class/net/$LAB_BRIDGE/bridge ]]; then
    ip link delete "$LAB_BRIDGE" 2>/dev/null ||
      echo "could not delete the lab's bridge $LAB_BRIDGE: ip link delete $LAB_BRIDGE" >&2
  fi
  if [[ $KEEP_LAB == 0 ]]; then rm -rf "$LAB"; fi
  exit "$status"
}
