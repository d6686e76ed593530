// What this teaches: a test that needs root, a kernel feature or a peer tool says
// so up front. On a developer's machine a missing requirement skips the test with
// the reason; under CI (CI=true) it fails loudly, so a green CI run never hides a
// skipped check.

const inCi = Deno.env.get("CI") === "true";

/** Why a test cannot run here, or undefined when it can. */
export type Missing = string | undefined;

/** Root is needed for mounts, namespaces, cgroups and chown. */
export function missingRoot(): Missing {
  return Deno.uid() === 0 ? undefined : "this test needs root";
}

/** A program on PATH (skopeo, umoci, runc, containerd, busybox...). */
export function missingTool(name: string): Missing {
  const result = new Deno.Command("sh", {
    args: ["-c", `command -v "$1"`, "sh", name],
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return result.success ? undefined : `this test needs \`${name}\` on PATH (see scripts/setup.sh)`;
}

/** The kernel's overlay filesystem. */
export function missingOverlay(): Missing {
  try {
    const filesystems = Deno.readTextFileSync("/proc/filesystems");
    if (filesystems.includes("overlay")) return undefined;
  } catch { /* fall through */ }
  return "this test needs overlayfs in the kernel (modprobe overlay)";
}

/**
 * Turns a list of requirement checks into Deno.test's `ignore` value. Outside CI a
 * missing requirement ignores the test (and prints why); under CI it throws, so the
 * whole run fails with the reason.
 */
export function requirements(testName: string, ...checks: Missing[]): boolean {
  const missing = checks.filter((reason): reason is string => reason !== undefined);
  if (missing.length === 0) return false;
  const message = `${testName}: ${missing.join("; ")}`;
  if (inCi) throw new Error(`requirement missing under CI=true: ${message}`);
  console.warn(`skipping ${message}`);
  return true;
}
