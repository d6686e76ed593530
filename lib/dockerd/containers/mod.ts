// The container half of mini-dockerd (moby's daemon/ container lifecycle): create,
// start, attach, wait, logs, stop/kill/restart, rm/prune, exec, the exit monitor with
// restart policies, and live-restore. The HTTP handlers are in ../routes/containers.ts
// and ../routes/exec.ts.
export * from "./types.ts";
export * from "./container.ts";
export * from "./state.ts";
export * from "./store.ts";
export * from "./service.ts";
export * from "./restart_manager.ts";
export * from "./create.ts";
export * from "./start.ts";
export * from "./stop.ts";
export * from "./delete.ts";
export * from "./attach.ts";
export * from "./logs.ts";
export * from "./exec.ts";
export * from "./exec_store.ts";
export * from "./list.ts";
export * from "./inspect.ts";
export * from "./monitor.ts";
export * from "./restore.ts";
export * from "./rename.ts";
export * from "./pause.ts";
export * from "./fifo_io.ts";
export * from "./streams.ts";
export * from "./time.ts";
