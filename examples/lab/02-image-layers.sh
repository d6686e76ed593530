#!/usr/bin/env bash
# Lesson 2: how a Dockerfile becomes layers, the classic lesson replayed with mini. It
# builds the web app (examples/web-app, the lab's "Cat Gif" site on busybox), shows its
# `history` (one line per instruction: IDs for the steps built here, `<missing>` for the
# layers that came with the base image), then changes the page title from "Cat Gif of
# the day" to "Cat Gif of the week" (in a copy), builds again under a second tag and
# compares the two histories: every step before the template's COPY is taken from the
# cache and keeps its ID; the template's COPY and every step after it are new.
#
# Like lessons 3-5 it runs its own mini-dockerd (with its own mini-containerd) on a
# temp root and loads the offline busybox image into it (examples/lab/lib/daemon.sh).
#
# Run as root:  examples/lab/02-image-layers.sh
# Environment:  DOCKER=mini-docker|docker (the client; default mini-docker; `docker` is
#               the real docker CLI with DOCKER_HOST pointed at the lab's mini-dockerd),
#               LAB_DIR (work there and keep it), DENO.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
# The legacy builder, the one mini-dockerd implements (and the docker CLI's only
# builder when no buildx plugin is installed).
export DOCKER_BUILDKIT=0

lab_begin 2

# ---------------------------------------------------------------------------------
section "A mini-dockerd on $LAB"
start_dockerd
load_busybox

# ---------------------------------------------------------------------------------
section "Build the web app: one step per instruction"
cd "$LAB"
rm -rf web-app
cp -r "$REPO/examples/web-app" web-app
run ls -A web-app web-app/templates
run cat web-app/Dockerfile
run "$DOCKER" build -t web-app:day web-app
echo "# one line per instruction, newest first; the base image's own layers are <missing>:"
echo "# they were not built here, so no local image stands for them"
run "$DOCKER" history web-app:day

# ---------------------------------------------------------------------------------
section "Change the template, rebuild under a second tag"
run "sed -i 's/Cat Gif of the day/Cat Gif of the week/' web-app/templates/index.html"
run "grep -n 'Cat Gif' web-app/templates/index.html"
echo "# every step before the template's COPY is found in the cache; from there on all is new"
run "$DOCKER" build -t web-app:week web-app

# ---------------------------------------------------------------------------------
section "Compare the histories"
run "$DOCKER" history web-app:day
run "$DOCKER" history web-app:week
run "$DOCKER" images web-app
echo "# the layers themselves (diff IDs, oldest first): the first five are shared on disk,"
echo "# only the template's layer is new (EXPOSE and CMD added none)"
run "$DOCKER image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' web-app:day"
run "$DOCKER image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' web-app:week"
echo "# the new image serves the new title"
run "$DOCKER run --rm web-app:week sh -c 'httpd -p 127.0.0.1:5000 -h /usr/src/app/www && sleep 0.5 && wget -q -O - http://127.0.0.1:5000/ | grep \"<h4>\"'"

echo
echo "image layers lab done"
