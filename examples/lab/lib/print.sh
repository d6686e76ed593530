# shellcheck shell=bash
# Shared by every lab script (sourced, not run): how a lesson shows itself. Each step
# prints the command as a teacher would type it, then its output indented below it, so
# a transcript reads like the classic lab handout (tests/lab/support.ts parses it back).

# Prints a command, runs it, and prints its output indented.
run() {
  echo "\$ $*"
  local output status=0
  output=$(eval "$@" 2>&1) || status=$?
  if [[ -n $output ]]; then sed 's/^/  /' <<<"$output"; fi
  return $status
}

# Prints a heading between the parts of a lesson.
section() {
  echo
  echo "=== $* ==="
}
