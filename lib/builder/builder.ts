// What this teaches: the build loop of Docker's legacy builder. The context is unpacked,
// the Dockerfile parsed and cut into stages (up to `--target`), and then every
// instruction is one numbered step ("Step 3/7 : COPY . /app") that either finds its
// result in the cache or produces a new image on top of the previous one. The last
// stage's last image is the result: it gets the tags, and the client gets its ID.
// Mirrors moby's builder/dockerfile/builder.go (Build, dispatchDockerfileWithCancellation,
// the step counting and "Successfully built/tagged" lines), dispatchers.go (dispatchFrom),
// imagecontext.go (imageSources: a base image that is not here is pulled, `--pull`
// always pulls) and evaluator.go (the per-step dispatch).

import { join } from "node:path";
import type { Credentials } from "../registry/credentials.ts";
import type { ContainerService } from "../dockerd/containers/service.ts";
import type { Daemon } from "../dockerd/daemon.ts";
import { pullImage } from "../dockerd/distribution/pull.ts";
import { shortId } from "../dockerd/image/image_service.ts";
import type { ImageRecord } from "../dockerd/image/image_store.ts";
import { parseImageReference } from "../dockerd/image/reference_store.ts";
import { hostArchitecture } from "./commit.ts";
import { type BuildContext, extractContext } from "./context.ts";
import { dispatchInstruction, runOnBuildTriggers } from "./dispatch.ts";
import { parseDockerfile } from "./dockerfile.ts";
import { pullProgressInto } from "./progress.ts";
import { expandVariables, scopeOf } from "./shell_words.ts";
import { cloneConfig, DEFAULT_PATH_ENV, type StageState } from "./state.ts";
import {
  type BuildOptions,
  type BuildOutput,
  type BuildResult,
  BuildStepError,
  type Instruction,
  type ParsedDockerfile,
  type Stage,
} from "./types.ts";

/** What the builder needs from the daemon: its stores and its container service. */
export interface BuildHost {
  daemon: Daemon;
  containers: ContainerService;
  /** The client's login for a registry (`X-Registry-Config`), used to pull base images. */
  registryCredentials?: (domain: string) => Credentials | undefined;
}

/** Build args every Dockerfile may use without declaring them. */
const BUILTIN_ARGS = new Set([
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
  "SOURCE_DATE_EPOCH",
]);

/** One build in progress: what every step can see. */
export class Build {
  stepNumber = 0;
  totalSteps = 0;
  cachedSteps = 0;
  builtSteps = 0;
  /** Build args some ARG consumed (for the "not consumed" warning). */
  readonly usedArgs = new Set<string>();
  /** The images of finished stages, by index. */
  readonly stageImages = new Map<number, ImageRecord>();
  /** ARGs declared before the first FROM → value. */
  readonly metaArgs = new Map<string, string | undefined>();
  readonly sourceDateEpoch?: number;
  /** Base images pulled by this build, by the name they were pulled as. */
  readonly #pulled = new Map<string, ImageRecord>();

  constructor(
    readonly host: BuildHost,
    readonly options: BuildOptions,
    readonly output: BuildOutput,
    readonly context: BuildContext,
    readonly dockerfile: ParsedDockerfile,
  ) {
    const epoch = options.buildArgs["SOURCE_DATE_EPOCH"];
    if (epoch !== undefined && epoch !== null) {
      if (!/^\d+$/.test(epoch)) {
        throw new BuildStepError(
          `invalid SOURCE_DATE_EPOCH ${JSON.stringify(epoch)}: seconds since 1970`,
        );
      }
      this.sourceDateEpoch = Number(epoch);
    }
  }

  get daemon(): Daemon {
    return this.host.daemon;
  }

  get escape(): string {
    return this.dockerfile.escapeCharacter;
  }

  /** The value a build arg was given (`--build-arg`), or undefined. */
  providedArg(name: string): string | undefined {
    const value = this.options.buildArgs[name];
    return value === null ? undefined : value;
  }

  /** Writes one line of output (a newline is added). */
  async say(text: string): Promise<void> {
    await this.output.stream(`${text}\n`);
  }

  /** Fails the build if the client went away. */
  checkCancelled(): void {
    if (this.output.closed.aborted) {
      throw new BuildStepError("the build was cancelled: the client went away");
    }
  }

  /** `Step N/M : INSTRUCTION args`. */
  async announce(instruction: Instruction): Promise<void> {
    this.checkCancelled();
    this.stepNumber++;
    await this.output.stream(
      `Step ${this.stepNumber}/${this.totalSteps} : ${instruction.original}`,
    );
    await this.output.stream("\n");
  }

  /** The platform args (BUILDPLATFORM, TARGETARCH...) as FROM sees them. */
  platformArgs(): string[] {
    const arch = hostArchitecture();
    return [
      `BUILDPLATFORM=linux/${arch}`,
      `BUILDOS=linux`,
      `BUILDARCH=${arch}`,
      `TARGETPLATFORM=linux/${arch}`,
      `TARGETOS=linux`,
      `TARGETARCH=${arch}`,
    ];
  }

  /** Finds the image a FROM or `--from` names: an earlier stage, else an image by name. */
  async resolveImage(name: string, currentStage: number): Promise<ImageRecord> {
    const lower = name.toLowerCase();
    for (const stage of this.dockerfile.stages) {
      if (stage.index >= currentStage) break;
      if (stage.name === lower || String(stage.index) === name) {
        const image = this.stageImages.get(stage.index);
        if (!image) {
          throw new BuildStepError(
            `stage ${name} produced no image (it is FROM scratch with no step)`,
          );
        }
        return image;
      }
    }
    return await this.#imageByName(name);
  }

  /**
   * An image by name or ID: the one in the store, else (or always, with `pull=1`) pulled
   * from its registry with the daemon's registry settings, its progress in the build
   * output. An ID is never pulled; each name is pulled at most once per build.
   */
  async #imageByName(name: string): Promise<ImageRecord> {
    const pulled = this.#pulled.get(name);
    if (pulled) return pulled;
    const local = this.daemon.images.find(name);
    const isId = /^(sha256:)?[a-f0-9]+$/.test(name) && local !== undefined &&
      local.id.startsWith(name.startsWith("sha256:") ? name : `sha256:${name}`);
    if (local && (!this.options.pull || isId)) return local;
    let domain: string;
    try {
      domain = parseImageReference(name).domain;
    } catch (error) {
      throw new BuildStepError(`invalid base image name ${name}: ${(error as Error).message}`);
    }
    const image = await pullImage(this.daemon, name, {
      progress: pullProgressInto(this.output),
      signal: this.output.closed,
      credentials: this.host.registryCredentials?.(domain),
    });
    this.#pulled.set(name, image);
    return image;
  }

  /** Runs one stage: FROM, then its instructions. */
  async buildStage(stage: Stage): Promise<StageState> {
    const from = stage.from;
    await this.announce(from);
    const scope = scopeOf(
      this.platformArgs(),
      [...this.metaArgs].filter(([, value]) => value !== undefined).map(([k, v]) => `${k}=${v}`),
    );
    const words = from.arguments.trim().split(/\s+/);
    const baseName = expandVariables(words[0], scope, this.escape);
    if (baseName === "") {
      throw new BuildStepError(`base name (${words[0]}) should not be blank`);
    }
    const platform = from.flags.find((flag) => flag.name === "platform")?.value;
    if (platform !== undefined) {
      const wanted = expandVariables(platform, scope, this.escape);
      const here = `linux/${hostArchitecture()}`;
      if (wanted !== here && wanted !== "linux") {
        throw new BuildStepError(
          `FROM --platform=${wanted}: mini builds only for this machine's platform (${here}), ` +
            "there is no emulation",
        );
      }
    }
    const state: StageState = {
      stage,
      config: {},
      cmdSet: false,
      args: new Map(),
      cacheBusted: false,
    };
    if (baseName.toLowerCase() !== "scratch") {
      const image = await this.resolveImage(baseName, stage.index);
      state.image = image;
      state.config = cloneConfig(image.config.config);
      await this.say(` ---> ${shortId(image.id)}`);
    }
    const env = state.config.Env ?? [];
    if (!env.some((entry) => entry.startsWith("PATH="))) {
      state.config.Env = [...env, DEFAULT_PATH_ENV];
    }
    if (state.image && (state.config.OnBuild ?? []).length > 0) {
      await runOnBuildTriggers(this, state);
    }
    for (const instruction of stage.instructions) {
      await this.announce(instruction);
      await dispatchInstruction(this, state, instruction);
    }
    if (state.image) this.stageImages.set(stage.index, state.image);
    return state;
  }
}

/** The stages to build: all, or up to and including `target`. */
function stagesFor(dockerfile: ParsedDockerfile, target: string | undefined): Stage[] {
  if (target === undefined) return dockerfile.stages;
  const index = dockerfile.stages.findIndex((stage) => stage.name === target.toLowerCase());
  if (index < 0) throw new BuildStepError(`failed to reach build target ${target} in Dockerfile`);
  return dockerfile.stages.slice(0, index + 1);
}

/** `--label k=v` becomes a LABEL step at the end, as in Docker. */
function labelInstruction(labels: Record<string, string>, line: number): Instruction | undefined {
  const entries = Object.entries(labels).sort(([a], [b]) => a < b ? -1 : 1);
  if (entries.length === 0) return undefined;
  const text = entries.map(([key, value]) =>
    `${JSON.stringify(key)}='${value.replaceAll("'", "'\\''")}'`
  ).join(" ");
  return {
    keyword: "LABEL",
    line,
    original: `LABEL ${text}`,
    arguments: text,
    flags: [],
    heredocs: [],
  };
}

/** Parses the Dockerfile of a context and checks the options against it (before any step). */
function prepareDockerfile(context: BuildContext, options: BuildOptions): ParsedDockerfile {
  const dockerfile = parseDockerfile(context.dockerfile, options.dockerfile);
  for (const tag of options.tags) {
    let reference;
    try {
      reference = parseImageReference(tag);
    } catch {
      throw new BuildStepError(`invalid reference format: ${tag}`);
    }
    if (reference.digest !== undefined) {
      throw new BuildStepError(`refusing to create a tag with a digest reference: ${tag}`);
    }
  }
  return dockerfile;
}

/**
 * Builds an image from a context tar. Errors thrown before the first step (context,
 * Dockerfile, options) mean nothing was streamed yet; later ones after output started.
 */
export async function buildImage(
  host: BuildHost,
  contextTar: ReadableStream<Uint8Array>,
  options: BuildOptions,
  output: BuildOutput,
): Promise<BuildResult> {
  if (
    options.platform && options.platform !== `linux/${hostArchitecture()}` &&
    options.platform !== "linux"
  ) {
    throw new BuildStepError(
      `mini builds only for linux/${hostArchitecture()}, not ${options.platform}`,
    );
  }
  const context = await extractContext(
    contextTar,
    join(host.daemon.paths.tmp, "builds"),
    options.dockerfile,
  );
  try {
    const dockerfile = prepareDockerfile(context, options);
    const build = new Build(host, options, output, context, dockerfile);
    const stages = stagesFor(dockerfile, options.target);
    const label = labelInstruction(options.labels, stages[stages.length - 1].from.line);
    if (label) {
      stages[stages.length - 1] = {
        ...stages[stages.length - 1],
        instructions: [...stages[stages.length - 1].instructions, label],
      };
    }
    build.totalSteps = stages.reduce((sum, stage) => sum + 1 + stage.instructions.length, 0);
    for (const instruction of dockerfile.metaArgs) {
      for (const [name, value] of metaArgPairs(build, instruction)) {
        build.metaArgs.set(name, value);
        build.usedArgs.add(name);
      }
    }
    let last: StageState | undefined;
    for (const stage of stages) last = await build.buildStage(stage);
    const image = last?.image;
    if (!image) throw new BuildStepError("No image was generated. Is your Dockerfile empty?");

    const unused = Object.keys(options.buildArgs).filter((name) =>
      !build.usedArgs.has(name) && !BUILTIN_ARGS.has(name)
    ).sort();
    if (unused.length > 0) {
      await build.say(`[Warning] One or more build-args [${unused.join(" ")}] were not consumed`);
    }
    await output.aux({ ID: image.id });
    await build.say(`Successfully built ${shortId(image.id)}`);
    const tagged: string[] = [];
    for (const tag of options.tags) {
      const name = await host.daemon.images.tag(image, tag, undefined); // parses `repo[:tag]`
      await build.say(`Successfully tagged ${name}`);
      tagged.push(name);
    }
    return {
      imageId: image.id,
      tags: tagged,
      cachedSteps: build.cachedSteps,
      builtSteps: build.builtSteps,
    };
  } finally {
    await context.remove();
  }
}

/** `ARG A=1 B` before the first FROM: names and values (build args win over defaults). */
function metaArgPairs(build: Build, instruction: Instruction): [string, string | undefined][] {
  const scope = scopeOf(
    build.platformArgs(),
    [...build.metaArgs].filter(([, value]) => value !== undefined).map(([k, v]) => `${k}=${v}`),
  );
  return instruction.arguments.trim().split(/\s+/).map((word) => {
    const equals = word.indexOf("=");
    const name = equals < 0 ? word : word.slice(0, equals);
    const fallback = equals < 0
      ? undefined
      : expandVariables(word.slice(equals + 1), scope, build.escape);
    return [name, build.providedArg(name) ?? fallback];
  });
}
