#!/usr/bin/env bash
# Lesson 5: daemon.json and live-restore. dockerd reads its settings from daemon.json
# (mini-dockerd: --config-file) besides its flags. Two of them change what a daemon
# restart means and which networks exist:
#   "live-restore": true  stopping the daemon leaves the containers running (their shims
#                         keep them); the next daemon picks them up again.
#   "bridge": "none"      no default bridge network: `network ls` shows host and none.
# The lesson: write daemon.json, start the daemon, start a container, stop the daemon
# with SIGTERM (as systemd does on `systemctl restart docker`), see the container's
# process still running, start the daemon again, and find the same container, same
# process, still answering `exec`.
#
# Run as root:  examples/lab/05-daemon-json.sh
# Environment:  DOCKER=mini-docker|docker (the client; default mini-docker),
#               LAB_DIR (work there and keep it), DENO.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"

lab_begin 5

# ---------------------------------------------------------------------------------
section "daemon.json"
cat >"$CONFIG_FILE" <<'EOF'
{
  "live-restore": true,
  "bridge": "none"
}
EOF
run cat "$CONFIG_FILE"
start_dockerd
echo "# mini-dockerd (pid $DOCKERD_PID) started with --config-file $CONFIG_FILE"
run "$DOCKER info 2>/dev/null | grep -i 'live restore'"
echo "# no default bridge: only the host and none networks"
run "$DOCKER" network ls

# ---------------------------------------------------------------------------------
section "A container started before the restart"
load_busybox
run "$DOCKER" run -d --name survivor busybox sh -c "'while true; do sleep 1; done'"
CONTAINER_PID=$("$DOCKER" inspect --format '{{.State.Pid}}' survivor)
run "$DOCKER" ps --format "'{{.Names}} {{.Status}}'"
run "$DOCKER" inspect --format "'{{.State.Pid}}'" survivor

# ---------------------------------------------------------------------------------
section "Restart mini-dockerd"
echo "\$ kill -TERM $DOCKERD_PID   # stop mini-dockerd, as systemd would"
stop_dockerd
echo "# the daemon is gone, its API socket does not answer, but the container's process runs on"
echo "# under its shim:"
run "curl -s --unix-socket $SOCKET http://docker/_ping || echo 'no daemon'"
run ps -o pid,args -p "$CONTAINER_PID"
echo "# start the daemon again, on the same roots and daemon.json:"
start_dockerd
echo "# mini-dockerd (pid $DOCKERD_PID) is back"
run "$DOCKER" ps --format "'{{.Names}} {{.Status}}'"
run "$DOCKER" inspect --format "'{{.State.Running}} {{.State.Pid}}'" survivor
echo "# the same process ($CONTAINER_PID), and the new daemon can still reach it:"
run "$DOCKER" exec survivor echo still here
run "$DOCKER" network ls
run "$DOCKER" rm -f survivor
echo
echo "daemon.json lab done"
