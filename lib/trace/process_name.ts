// What this teaches: every trace line names the program that wrote it. The name comes
// from the entry point (`cmd/mini_containerd_shim.ts` → `mini-containerd-shim`), so
// lib/ code that runs in several programs (lib/api runs in all of them) needs no setup.
// Mirrors no real component (Go programs know their name from os.Args[0]).

let name: string | undefined;

/** This program's name for trace lines. */
export function traceProcessName(): string {
  if (name === undefined) {
    const file = Deno.mainModule.slice(Deno.mainModule.lastIndexOf("/") + 1);
    name = file.replace(/\.[cm]?[jt]s$/, "").replaceAll("_", "-");
  }
  return name;
}

/** Overrides the name (the runtime's init runs from lib/, not cmd/). */
export function setTraceProcessName(value: string): void {
  name = value;
}
