// What this teaches: which OCI runtime a shim may run as a library instead of as a
// program: only this repository's own mini-runc (the same code, so the same behaviour),
// and only while MINI_SHIM_RUNTIME_IN_PROCESS is not "0". Kept in a module of its own,
// with no imports, because the shim's entry point asks before it loads anything else
// (prelaunch.ts): every module, and above all any `node:` one (~15 ms for Deno's Node
// compatibility layer), would delay the init it spawns.
// Mirrors nothing in containerd (its shims always exec runc).

/** This repository's mini-runc entry point: the runtime that can run in-process. */
export const MINI_RUNC_ENTRY_POINT = decodeURIComponent(
  new URL("../../cmd/mini_runc.ts", import.meta.url).pathname,
);

/** Set to "0" to make the shim always exec the runtime binary (to compare the two). */
export const IN_PROCESS_VARIABLE = "MINI_SHIM_RUNTIME_IN_PROCESS";

/** True when a shim for `binary` runs the runtime in-process. */
export function runsInProcess(binary: string): boolean {
  return binary === MINI_RUNC_ENTRY_POINT && Deno.env.get(IN_PROCESS_VARIABLE) !== "0";
}
