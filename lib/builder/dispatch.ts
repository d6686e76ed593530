// What this teaches: what each Dockerfile instruction does to the image being built.
// Most only change the config (ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, USER,
// STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD, ARG): the legacy builder still commits an
// image for each, with no layer and a `#(nop)` history line, which is why an old
// Dockerfile with ten ENV lines has ten extra images. RUN runs a container and keeps
// what it wrote; COPY and ADD write into a new layer; WORKDIR creates its directory.
// Every step first asks the cache (cache.ts) for an image it can reuse.
// Mirrors moby's builder/dockerfile/dispatchers.go (dispatchEnv, dispatchRun,
// dispatchCopy, dispatchWorkdir, ...), internals.go (commit, probeCache, performCopy)
// and builder/dockerfile/copy.go.

import { posix } from "node:path";
import { generateContainerId } from "../dockerd/containers/create.ts";
import { parseSignal } from "../linux/signals.ts";
import { shortId } from "../dockerd/image/image_service.ts";
import type { ImageRecord } from "../dockerd/image/image_store.ts";
import type { Build } from "./builder.ts";
import { findCachedStep } from "./cache.ts";
import { commitStep } from "./commit.ts";
import { type CopyOwnership, copySources, isRemoteSource, parseChmod, parseChown } from "./copy.ts";
import { parseDockerfile, parseJsonForm } from "./dockerfile.ts";
import {
  formatGoDuration,
  goPlainList,
  goQuotedList,
  goQuotedRune,
  parseGoDuration,
  parsePortSpecs,
} from "./history_text.ts";
import { createStepContainer, removeStepContainer, runStepContainer } from "./run.ts";
import {
  expandVariables,
  expandWords,
  parseKeyValuePairs,
  scopeOf,
  splitRawWords,
  type VariableScope,
} from "./shell_words.ts";
import { type ResolvedSource, resolveSources, sourcesHash } from "./sources.ts";
import { setEnv, shellOf, type StageState } from "./state.ts";
import { BuildStepError, type Instruction } from "./types.ts";
import { resolveInRoot } from "../runtime/init/secure_join.ts";

/** What a step that changes files hands to runStep. */
interface StepChanges {
  /** The upper directory with the changes. */
  upperDir?: string;
  containerId: string;
  /** Removes the intermediate container (or bare layer). */
  remove: () => Promise<void>;
}

/** Options of runStep. */
interface StepOptions {
  /** The Cmd that describes the step (the cache key and the history line). */
  commentCommand: string[];
  /** Print " ---> Running in <id>" and "Removing intermediate container" (RUN, metadata, WORKDIR). */
  showContainer: boolean;
  /** Makes the step's file changes; absent for metadata-only steps. */
  work?: (announce: (containerId: string) => Promise<void>) => Promise<StepChanges>;
}

/** Variables visible to an instruction: declared ARGs, overridden by ENV. */
function scopeFor(state: StageState): VariableScope {
  const args: string[] = [];
  for (const [name, value] of state.args) if (value !== undefined) args.push(`${name}=${value}`);
  return scopeOf(args, state.config.Env ?? []);
}

/** `#(nop) ` and the comment as two words: the history shows two spaces. */
function nopCommand(state: StageState, comment: string): string[] {
  return [...shellOf(state), "#(nop) ", comment];
}

/** `#(nop) COMMENT` as one word (WORKDIR, COPY, ADD): one space. */
function nopCommandOneWord(state: StageState, comment: string): string[] {
  return [...shellOf(state), `#(nop) ${comment}`];
}

/** One step: cache probe, then (on a miss) the changes and a commit. */
async function runStep(build: Build, state: StageState, options: StepOptions): Promise<void> {
  const containerConfig = { ...state.config, Cmd: options.commentCommand };
  if (!build.options.noCache && !state.cacheBusted) {
    const hit = findCachedStep(build.daemon.imageStore, state.image, containerConfig);
    if (hit) {
      await build.say(" ---> Using cache");
      await build.say(` ---> ${shortId(hit.id)}`);
      state.image = hit;
      build.cachedSteps++;
      return;
    }
  }
  state.cacheBusted = true;
  const announce = async (containerId: string) => {
    if (options.showContainer) await build.say(` ---> Running in ${containerId.slice(0, 12)}`);
  };
  let changes: StepChanges;
  if (options.work) changes = await options.work(announce);
  else {
    changes = { containerId: generateContainerId(), remove: () => Promise.resolve() };
    await announce(changes.containerId);
  }
  let image: ImageRecord;
  try {
    image = await commitStep(build.daemon, {
      parent: state.image,
      upperDir: changes.upperDir,
      config: state.config,
      containerConfig,
      containerId: changes.containerId,
      createdBy: options.commentCommand.join(" "),
      sourceDateEpoch: build.sourceDateEpoch,
    });
  } catch (error) {
    // A bare layer (COPY, ADD) is no container anyone could inspect: it always goes.
    if (build.options.forceRemove || !options.showContainer) {
      await changes.remove().catch(() => {});
    }
    throw error;
  }
  if (build.options.remove || !options.showContainer) {
    await changes.remove();
    if (options.showContainer) {
      await build.say(`Removing intermediate container ${changes.containerId.slice(0, 12)}`);
    }
  }
  await build.say(` ---> ${shortId(image.id)}`);
  state.image = image;
  build.builtSteps++;
}

/**
 * A fresh read-write layer on `image` (none: an empty one), mounted while `use` runs and
 * unmounted after. For COPY, ADD and WORKDIR it holds the step's changes (its upper dir
 * becomes the new layer); `COPY --from` reads another image through one and removes it.
 */
async function onFreshLayer<T>(
  build: Build,
  image: ImageRecord | undefined,
  use: (rootfs: string) => Promise<T>,
): Promise<{ value: T; changes: StepChanges }> {
  const layers = build.daemon.layers;
  const id = generateContainerId();
  const record = await layers.createContainerLayer(id, image?.topLayer);
  const remove = () => layers.removeContainerLayer(id);
  try {
    const { mergedDir } = await layers.mountContainerLayer(id);
    let value: T;
    try {
      value = await use(mergedDir);
    } finally {
      await layers.unmountContainerLayer(id);
    }
    const upperDir = layers.driver.diffDir(record.mountId);
    return { value, changes: { upperDir, containerId: id, remove } };
  } catch (error) {
    await remove().catch(() => {});
    throw error;
  }
}

/** The build args a RUN sees: declared, with a value, not shadowed by ENV; sorted `K=V`. */
function argsInUse(state: StageState): string[] {
  const envNames = new Set((state.config.Env ?? []).map((entry) => entry.split("=", 1)[0]));
  const pairs: string[] = [];
  for (const [name, value] of state.args) {
    if (value !== undefined && !envNames.has(name)) pairs.push(`${name}=${value}`);
  }
  return pairs.sort();
}

/** The command of RUN/CMD/ENTRYPOINT: the JSON form as is, the shell form wrapped in SHELL. */
function commandOf(state: StageState, instruction: Instruction): string[] {
  if (instruction.json) return instruction.json;
  if (instruction.heredocs.length > 0) {
    const onlyMarkers = instruction.arguments.trim().replace(/<<-?(["']?)[A-Za-z_]\w*\1/g, "")
      .trim() === "";
    if (onlyMarkers) {
      return [
        ...shellOf(state),
        instruction.heredocs.map((doc) => doc.body).join(""),
      ];
    }
    const bodies = instruction.heredocs.map((doc) => `${doc.body}${doc.name}\n`).join("");
    return [...shellOf(state), `${instruction.arguments}\n${bodies}`];
  }
  return [...shellOf(state), instruction.arguments];
}

async function dispatchRun(build: Build, state: StageState, instruction: Instruction) {
  if (!state.image) {
    throw new BuildStepError("RUN needs a base image with a shell: this stage is FROM scratch");
  }
  const command = commandOf(state, instruction);
  const args = argsInUse(state);
  const cacheCommand = args.length > 0 ? [`|${args.length}`, ...args, ...command] : command;
  const service = build.host.containers;
  await runStep(build, state, {
    commentCommand: cacheCommand,
    showContainer: true,
    work: async (announce) => {
      const runConfig = {
        ...state.config,
        Cmd: command,
        Env: [...(state.config.Env ?? []), ...args],
        Entrypoint: [""],
      };
      const step = await createStepContainer(service, state.image!.id, runConfig);
      const remove = () => removeStepContainer(service, step.id);
      await announce(step.id);
      let exitCode: number;
      try {
        exitCode = await runStepContainer(service, step, build.output);
      } catch (error) {
        if (build.options.forceRemove) await remove().catch(() => {});
        throw error;
      }
      if (exitCode !== 0) {
        if (build.options.forceRemove) await remove().catch(() => {});
        throw new BuildStepError(
          `The command '${command.join(" ")}' returned a non-zero code: ${exitCode}`,
          exitCode,
        );
      }
      return { upperDir: step.upperDir, containerId: step.id, remove };
    },
  });
}

async function dispatchCopy(build: Build, state: StageState, instruction: Instruction) {
  const keyword = instruction.keyword;
  const scope = scopeFor(state);
  const flag = (name: string) => instruction.flags.find((item) => item.name === name)?.value;
  if (instruction.heredocs.length > 0) {
    throw new BuildStepError(
      `${keyword} with a heredoc is a BuildKit feature mini's builder does not have`,
    );
  }
  const words = instruction.json ??
    splitRawWords(instruction.arguments, build.escape).map((word) =>
      expandVariables(word, scope, build.escape)
    );
  const rawSources = instruction.json
    ? words.slice(0, -1).map((word) => expandVariables(word, scope, build.escape))
    : words.slice(0, -1);
  let destination = instruction.json
    ? expandVariables(words[words.length - 1], scope, build.escape)
    : words[words.length - 1];
  if (!destination.startsWith("/")) {
    const base = state.config.WorkingDir || "/";
    destination = `${base.replace(/\/+$/, "")}/${destination}`;
  }
  const remote = rawSources.find(isRemoteSource);
  if (remote) {
    throw new BuildStepError(
      `${keyword} failed: ${remote} is a remote URL; mini builds offline, so download it into ` +
        "the build context and ADD/COPY it from there",
    );
  }
  const fromName = flag("from");
  const chown = flag("chown") ? expandVariables(flag("chown")!, scope, build.escape) : undefined;
  const chmod = flag("chmod");
  const chmodBits = chmod === undefined ? undefined : parseChmod(chmod);

  const perform = async (sourceRoot: string, strict: boolean) => {
    let sources: ResolvedSource[];
    let hash: string;
    try {
      sources = resolveSources(sourceRoot, rawSources, strict);
      hash = await sourcesHash(sources);
    } catch (error) {
      throw new BuildStepError(`${keyword} failed: ${(error as Error).message}`);
    }
    const options = [chown ? ` --chown=${chown}` : "", chmod ? ` --chmod=${chmod}` : ""].join("");
    const comment = `${keyword}${options} ${hash} in ${destination} `;
    await runStep(build, state, {
      commentCommand: nopCommandOneWord(state, comment),
      showContainer: false,
      work: async () =>
        (await onFreshLayer(build, state.image, async (rootfs) => {
          const owner: CopyOwnership = chown ? parseChown(rootfs, chown) : { uid: 0, gid: 0 };
          if (chmodBits !== undefined) owner.mode = chmodBits;
          try {
            await copySources(rootfs, sources, destination, owner, keyword === "ADD");
          } catch (error) {
            throw new BuildStepError(`${keyword} failed: ${(error as Error).message}`);
          }
        })).changes,
    });
  };

  if (fromName === undefined) {
    await perform(build.context.root, true);
  } else {
    const name = expandVariables(fromName, scope, build.escape);
    const image = await build.resolveImage(name, state.stage.index);
    const { changes } = await onFreshLayer(build, image, (rootfs) => perform(rootfs, false));
    await changes.remove().catch(() => {});
  }
}

async function dispatchWorkdir(build: Build, state: StageState, instruction: Instruction) {
  const scope = scopeFor(state);
  const path = expandVariables(instruction.arguments.trim(), scope, build.escape);
  const current = state.config.WorkingDir || "/";
  const joined = path.startsWith("/") ? path : `${current.replace(/\/+$/, "")}/${path}`;
  const normalized = posix.normalize(`/${joined}`).replace(/\/+$/, "") || "/";
  state.config.WorkingDir = normalized;
  await runStep(build, state, {
    commentCommand: nopCommandOneWord(state, `WORKDIR ${normalized}`),
    showContainer: true,
    work: async (announce) => {
      const { changes } = await onFreshLayer(build, state.image, async (rootfs) => {
        const target = resolveInRoot(rootfs, normalized);
        await Deno.mkdir(target, { recursive: true, mode: 0o755 });
      });
      await announce(changes.containerId);
      return changes;
    },
  });
}

/** Metadata-only step: change the config, then commit with a `#(nop)` line. */
async function commitMetadata(build: Build, state: StageState, comment: string) {
  await runStep(build, state, {
    commentCommand: nopCommand(state, comment),
    showContainer: true,
  });
}

function parseHealthcheck(instruction: Instruction) {
  const text = instruction.arguments.trim();
  const kind = text.split(/\s+/, 1)[0].toUpperCase();
  if (kind === "NONE") {
    if (text.split(/\s+/).length > 1) {
      throw new BuildStepError("HEALTHCHECK NONE takes no arguments");
    }
    return { Test: ["NONE"] } as Record<string, unknown>;
  }
  const rest = text.slice(text.split(/\s+/, 1)[0].length).trim();
  if (rest === "") throw new BuildStepError("Missing command after HEALTHCHECK CMD");
  const json = parseJsonForm(rest);
  const health: Record<string, unknown> = {
    Test: json ? ["CMD", ...json] : ["CMD-SHELL", rest],
  };
  const flag = (name: string) => instruction.flags.find((item) => item.name === name)?.value;
  for (
    const [name, key] of [["interval", "Interval"], ["timeout", "Timeout"], [
      "start-period",
      "StartPeriod",
    ]] as const
  ) {
    const value = flag(name);
    if (value === undefined) continue;
    const nanoseconds = parseGoDuration(value);
    if (nanoseconds !== 0 && nanoseconds < 1e6) {
      throw new BuildStepError(`Interval "${name}" cannot be less than 1ms`);
    }
    if (nanoseconds > 0) health[key] = nanoseconds;
  }
  const retries = flag("retries");
  if (retries !== undefined) {
    if (!/^\d+$/.test(retries) || Number(retries) < 1) {
      throw new BuildStepError(`--retries must be at least 1 (not ${retries})`);
    }
    health.Retries = Number(retries);
  }
  return health;
}

function healthcheckComment(health: Record<string, unknown>): string {
  const test = health.Test as string[];
  const duration = (value: unknown) => JSON.stringify(formatGoDuration(Number(value ?? 0)));
  return `HEALTHCHECK &{${goQuotedList(test)} ${duration(health.Interval)} ${
    duration(health.Timeout)
  } ${duration(health.StartPeriod)} ${goQuotedRune(Number(health.Retries ?? 0))}}`;
}

async function dispatchArg(build: Build, state: StageState, instruction: Instruction) {
  const scope = scopeFor(state);
  const parts: string[] = [];
  for (const word of splitRawWords(instruction.arguments, build.escape)) {
    const equals = word.indexOf("=");
    const name = equals < 0 ? word : word.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new BuildStepError(`invalid ARG name: ${name}`);
    }
    const fallback = equals < 0
      ? build.metaArgs.get(name)
      : expandVariables(word.slice(equals + 1), scope, build.escape);
    state.args.set(name, build.providedArg(name) ?? fallback);
    build.usedArgs.add(name);
    parts.push(equals < 0 ? name : `${name}=${fallback}`);
  }
  await commitMetadata(build, state, `ARG ${parts.join(" ")}`);
}

/** Runs the base image's ONBUILD triggers right after FROM. */
export async function runOnBuildTriggers(build: Build, state: StageState): Promise<void> {
  const triggers = state.config.OnBuild ?? [];
  state.config.OnBuild = null;
  await build.say(
    `# Executing ${triggers.length} build trigger${triggers.length === 1 ? "" : "s"}`,
  );
  for (const trigger of triggers) {
    const parsed = parseDockerfile(`FROM scratch\n${trigger}\n`, "ONBUILD trigger");
    for (const instruction of parsed.stages[0].instructions) {
      await dispatchInstruction(build, state, instruction);
    }
  }
}

/** Carries out one instruction of a stage (FROM is handled by the builder). */
export async function dispatchInstruction(
  build: Build,
  state: StageState,
  instruction: Instruction,
): Promise<void> {
  const scope = () => scopeFor(state);
  const config = state.config;
  switch (instruction.keyword) {
    case "RUN":
      return await dispatchRun(build, state, instruction);
    case "COPY":
    case "ADD":
      return await dispatchCopy(build, state, instruction);
    case "WORKDIR":
      return await dispatchWorkdir(build, state, instruction);
    case "ARG":
      return await dispatchArg(build, state, instruction);
    case "ENV":
    case "LABEL": {
      const pairs = parseKeyValuePairs(
        instruction.arguments,
        scope(),
        build.escape,
        instruction.keyword,
      );
      for (const [name, value] of pairs) {
        if (name === "") throw new BuildStepError(`${instruction.keyword} names can not be blank`);
        if (instruction.keyword === "ENV") config.Env = setEnv(config.Env ?? [], name, value);
        else config.Labels = { ...(config.Labels ?? {}), [name]: value };
      }
      const text = pairs.map(([name, value]) => `${name}=${value}`).join(" ");
      return await commitMetadata(build, state, `${instruction.keyword} ${text}`);
    }
    case "MAINTAINER":
      return await commitMetadata(build, state, `MAINTAINER ${instruction.arguments.trim()}`);
    case "CMD": {
      const command = commandOf(state, instruction);
      config.Cmd = command;
      config.ArgsEscaped = undefined;
      state.cmdSet = true;
      return await commitMetadata(build, state, `CMD ${goQuotedList(command)}`);
    }
    case "ENTRYPOINT": {
      const command = instruction.json ??
        (instruction.arguments.trim() === "" ? [] : commandOf(state, instruction));
      config.Entrypoint = command.length > 0 ? command : null;
      if (!state.cmdSet) config.Cmd = null;
      return await commitMetadata(build, state, `ENTRYPOINT ${goQuotedList(command)}`);
    }
    case "EXPOSE": {
      const specs = expandWords(instruction.arguments, scope(), build.escape);
      let ports: string[];
      try {
        ports = parsePortSpecs(specs);
      } catch (error) {
        throw new BuildStepError((error as Error).message);
      }
      config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
      for (const port of ports) config.ExposedPorts[port] = {};
      return await commitMetadata(build, state, `EXPOSE ${[...specs].sort().join(" ")}`);
    }
    case "VOLUME": {
      const volumes =
        (instruction.json ?? expandWords(instruction.arguments, scope(), build.escape))
          .map((volume) => volume.trim());
      if (volumes.length === 0 || volumes.some((volume) => volume === "")) {
        throw new BuildStepError("VOLUME specified can not be an empty string");
      }
      config.Volumes = { ...(config.Volumes ?? {}) };
      for (const volume of volumes) config.Volumes[volume] = {};
      return await commitMetadata(build, state, `VOLUME ${goPlainList(volumes)}`);
    }
    case "USER": {
      config.User = expandVariables(instruction.arguments.trim(), scope(), build.escape);
      return await commitMetadata(build, state, `USER ${config.User}`);
    }
    case "STOPSIGNAL": {
      const signal = expandVariables(instruction.arguments.trim(), scope(), build.escape);
      try {
        parseSignal(signal); // the same check as `docker stop -s` and mini-runc's kill
      } catch {
        throw new BuildStepError(`Invalid signal: ${signal}`);
      }
      config.StopSignal = signal;
      return await commitMetadata(build, state, `STOPSIGNAL ${signal}`);
    }
    case "HEALTHCHECK": {
      let health;
      try {
        health = parseHealthcheck(instruction);
      } catch (error) {
        throw new BuildStepError((error as Error).message);
      }
      config.Healthcheck = health;
      return await commitMetadata(build, state, healthcheckComment(health));
    }
    case "SHELL":
      config.Shell = instruction.json!;
      return await commitMetadata(build, state, `SHELL ${goPlainList(instruction.json!)}`);
    case "ONBUILD": {
      const trigger = instruction.arguments.trim();
      const keyword = trigger.split(/\s+/, 1)[0].toUpperCase();
      if (keyword === "ONBUILD") {
        throw new BuildStepError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      }
      if (keyword === "FROM" || keyword === "MAINTAINER") {
        throw new BuildStepError(`${keyword} isn't allowed as an ONBUILD trigger`);
      }
      const text = `${keyword}${trigger.slice(keyword.length)}`;
      config.OnBuild = [...(config.OnBuild ?? []), text];
      return await commitMetadata(build, state, `ONBUILD ${text}`);
    }
    default:
      throw new BuildStepError(`unknown instruction: ${instruction.keyword}`);
  }
}
