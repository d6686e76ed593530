// What this teaches: mini-runc, an OCI runtime: bundle in, isolated process out, with the
// same command line as runc so that containerd's shim can drive it. This module is its
// library API (the CLI lives in cli.ts, the in-container init in init/main.ts).
// Mirrors runc's libcontainer package as the runc CLI uses it.
export * from "./types.ts";
export { defaultSpec, loadSpec, SpecError, validateSpec } from "./spec.ts";
export {
  containerState,
  createContainer,
  deleteContainer,
  exitCodeOf,
  killContainer,
  pauseContainer,
  runContainer,
  startContainer,
  updateContainer,
} from "./container.ts";
export type { CreateOptions, RunOptions, RuntimeOptions } from "./container.ts";
export { execInContainer } from "./exec.ts";
export type { ExecOptions } from "./exec.ts";
export { containerPids, features, listContainers } from "./inspect.ts";
export { Logger } from "./log.ts";
export { ContainerNotFoundError, containerStatus, loadRecord } from "./state.ts";
export { defaultRoot, main } from "./cli.ts";
export type { CgroupManager } from "./cgroups/mod.ts";
export { cgroupManagerAt, cgroupManagerFor, isCgroup2UnifiedMode } from "./cgroups/mod.ts";
