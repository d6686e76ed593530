// mini-docker: a docker-like CLI that speaks the Docker Engine API 1.41 to mini-dockerd
// (or to any daemon that speaks it). Mirrors docker/cli.
export { COMMAND_GROUPS, processEnvironment, runDocker, TOP_LEVEL_COMMANDS } from "./main.ts";
export type { CliEnvironment } from "./main.ts";
export {
  ConnectionError,
  DaemonError,
  DEFAULT_HOST,
  EngineClient,
  parseHost,
} from "./client/engine.ts";
export type { CommandSpec, DockerCli, SignalSource } from "./types.ts";
export { StatusError } from "./types.ts";
export { MemoryInput, MemoryOutput } from "./streams/output.ts";
export { demultiplexAll, Demultiplexer, frame } from "./streams/stdcopy.ts";
export { displayJsonMessages } from "./streams/jsonmessage.ts";
export { parseTemplate, Template, TemplateError } from "./format/template.ts";
export { alignTable, TabWriter } from "./format/tabwriter.ts";
export { bytesSize, humanDuration, humanSize, humanSizeWithPrecision } from "./format/units.ts";
