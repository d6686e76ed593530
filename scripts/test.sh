#!/usr/bin/env bash
# The test suite, from a fresh clone (as root): installs everything the tests need
# (Deno, the peers they compare against), then runs every test under tests/.
# Extra arguments go to `deno test` (e.g. a folder: scripts/test.sh tests/content).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash scripts/install.sh --test-peers

export NO_COLOR=1
# Most integration tests spend their time waiting on daemons and containers, not on
# the CPU: four test files at a time keep a 2-core machine busy without starving it.
export DENO_JOBS=${DENO_JOBS:-4}
paths=("$@")
[ "${#paths[@]}" -gt 0 ] || paths=(tests/)
output=$(mktemp)
status=0
deno test --allow-all --parallel "${paths[@]}" 2>&1 | tee "$output" || status=$?

# Deno's closing line reads `ok | 12 passed | 0 failed (3s)`; repeat it in the plain
# form CI reads (`N passed, N failed`), so a run that executed no test cannot look green.
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$output" | tail -n 1 || true)
rm -f "$output"
passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
if [ -z "$summary" ] || [ "${passed:-0}" = 0 ]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
echo "tests: $passed passed, $failed failed"
exit "$status"
