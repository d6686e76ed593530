// What this teaches: what the builder carries from one instruction to the next. Inside
// a stage that is the current image (the last step's result), the config being built
// up (Env, Cmd, WorkingDir, ...), the ARGs declared so far and whether the cache still
// applies. Across stages it is the finished stages' images, for `FROM <stage>` and
// `COPY --from=<stage>`.
// Mirrors moby's builder/dockerfile/builder.go and dispatchers.go (dispatchState,
// BuildArgs).

import type { ImageRecord } from "../dockerd/image/image_store.ts";
import type { DockerContainerConfig } from "../dockerd/image/types.ts";
import type { Stage } from "./types.ts";

/** The PATH a stage gets when its base image sets none (system.DefaultPathEnv). */
export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The shell of the shell form when SHELL was not used. */
const DEFAULT_SHELL = ["/bin/sh", "-c"];

/** The state of the stage being built. */
export interface StageState {
  stage: Stage;
  /** The last step's image; undefined while a `FROM scratch` stage has no step yet. */
  image?: ImageRecord;
  /** The config the next image gets. */
  config: DockerContainerConfig;
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** ARGs declared in this stage → their value (undefined: declared without a value). */
  args: Map<string, string | undefined>;
  /** Once a step missed the cache, every later step misses too. */
  cacheBusted: boolean;
}

/** The shell of the shell form for this stage (SHELL or /bin/sh -c). */
export function shellOf(state: StageState): string[] {
  return state.config.Shell && state.config.Shell.length > 0 ? state.config.Shell : DEFAULT_SHELL;
}

/** A deep copy of a config (the base image's must not be changed). */
export function cloneConfig(config: DockerContainerConfig | undefined): DockerContainerConfig {
  return structuredClone(config ?? {});
}

/** Sets `NAME=value` in an Env list, replacing an earlier value. */
export function setEnv(env: string[], name: string, value: string): string[] {
  const kept = env.filter((entry) => entry.split("=", 1)[0] !== name);
  const index = env.findIndex((entry) => entry.split("=", 1)[0] === name);
  const entry = `${name}=${value}`;
  if (index < 0) return [...kept, entry];
  const result = [...env];
  result[index] = entry;
  return result;
}
