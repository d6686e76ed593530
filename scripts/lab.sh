#!/usr/bin/env bash
# `deno task lab`: runs the lessons of the classic Docker lab (examples/lab/NN-*.sh) in
# order, each on its own temp roots, and says which ones failed. Run as root.
# Arguments select lessons by number or name (`deno task lab 03 05`); DOCKER=docker
# runs the docker commands with the real docker CLI against mini-dockerd.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NO_COLOR=1

lessons=()
for script in "$REPO"/examples/lab/[0-9][0-9]-*.sh; do
  name=$(basename "$script")
  if [[ $# -eq 0 ]]; then
    lessons+=("$script")
    continue
  fi
  for wanted in "$@"; do
    if [[ $name == "$wanted"* || $name == "$wanted" ]]; then lessons+=("$script"); fi
  done
done
if [[ ${#lessons[@]} -eq 0 ]]; then
  echo "lab.sh: no lesson matches: $*" >&2
  exit 1
fi

failed=()
for script in "${lessons[@]}"; do
  name=$(basename "$script")
  printf '\n################ %s ################\n' "$name"
  if bash "$script"; then
    echo "---- $name: ok"
  else
    echo "---- $name: FAILED" >&2
    failed+=("$name")
  fi
done

echo
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lab: ${#failed[@]} of ${#lessons[@]} lessons failed: ${failed[*]}" >&2
  exit 1
fi
echo "lab: all ${#lessons[@]} lessons ran"
