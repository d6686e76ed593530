// What this teaches: how the builder tests talk to mini-dockerd the way the docker CLI
// does: a build context is a directory packed as a tar and POSTed to /build with the
// options in the query string; the answer is NDJSON whose `stream` lines are the
// build log and whose last `errorDetail` (if any) is the failure.
// Mirrors moby's testutil/fakecontext and integration/internal/build helpers.

import { join } from "node:path";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { type CommandResult, run, TestDockerd } from "../helpers/dockerd.ts";
import { assertEquals } from "../helpers/assert.ts";
import { TarWriter } from "../../lib/archive/tar_writer.ts";

/** `ignore` for tests that need a daemon that runs containers. */
export function builderRequirements(name: string): boolean {
  return requirements(name, missingRoot(), missingOverlay(), missingTool("busybox"));
}

/** Files of a test context: text, or `{symlink}`, `{mode}` entries. */
export type ContextFiles = Record<
  string,
  string | Uint8Array | { symlink: string } | {
    text: string;
    mode: number;
  }
>;

/** Writes a context directory. */
export async function writeContext(files: ContextFiles): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mini-build-ctx-" });
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else if (content instanceof Uint8Array) await Deno.writeFile(path, content);
    else if ("symlink" in content) await Deno.symlink(content.symlink, path);
    else {
      await Deno.writeTextFile(path, content.text);
      await Deno.chmod(path, content.mode);
    }
  }
  // Fixed mtimes: contexts written at different times must hash and build alike.
  await run("find", [dir, "-exec", "touch", "-h", "-d", "@1700000000", "{}", "+"]);
  return dir;
}

/** Packs a directory as a tar (what the CLI sends). */
export async function tarOf(dir: string): Promise<Uint8Array> {
  const output = await new Deno.Command("tar", {
    args: ["-C", dir, "--numeric-owner", "--owner=0", "--group=0", "-cf", "-", "."],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  return output.stdout;
}

/** One entry of a hand-made tar: a file with `body`, or a symlink to `linkname`. */
export interface TarEntrySpec {
  name: string;
  body?: string;
  linkname?: string;
}

/**
 * A tar written entry by entry, for contexts no directory can hold (names such as
 * `../../x` or a symlink climbing out), as a hostile client would send them.
 */
export async function tarOfEntries(entries: TarEntrySpec[]): Promise<Uint8Array> {
  const writer = new TarWriter();
  // Read while writing: the writer waits for its output to be consumed.
  const collected = (async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of writer.output) chunks.push(chunk);
    return chunks;
  })();
  const owner = { uid: 0, gid: 0, mtimeSeconds: 0 };
  for (const entry of entries) {
    if (entry.linkname !== undefined) {
      await writer.add({
        ...owner,
        name: entry.name,
        type: "symlink",
        linkname: entry.linkname,
        mode: 0o777,
      });
    } else {
      const body = new TextEncoder().encode(entry.body ?? "");
      await writer.add(
        { ...owner, name: entry.name, type: "file", size: body.length, mode: 0o644 },
        body,
      );
    }
  }
  writer.finalize();
  const chunks = await collected;
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** One parsed build answer. */
export interface BuildAnswer {
  status: number;
  /** The concatenated `stream` texts. */
  log: string;
  messages: Record<string, unknown>[];
  /** The final image ID, if the build succeeded. */
  imageId?: string;
  error?: string;
  errorCode?: number;
}

/** POSTs a context to /build and reads the whole answer. */
export async function build(
  daemon: TestDockerd,
  context: string | Uint8Array,
  query: Record<string, string | string[]> = {},
): Promise<BuildAnswer> {
  const body = typeof context === "string" ? await tarOf(context) : context;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  const response = await daemon.api("POST", `/v1.41/build?${params}`, body as BodyInit, {
    "Content-Type": "application/x-tar",
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = JSON.parse(text).message;
    } catch { /* plain text */ }
    return { status: response.status, log: "", messages: [], error: message };
  }
  const messages = text.split(/\r?\n/).filter((line) => line.trim() !== "").map((line) =>
    JSON.parse(line)
  );
  const answer: BuildAnswer = { status: response.status, log: "", messages };
  for (const message of messages) {
    if (typeof message.stream === "string") answer.log += message.stream;
    if (message.aux && typeof (message.aux as { ID?: string }).ID === "string") {
      answer.imageId = (message.aux as { ID: string }).ID;
    }
    if (message.error) {
      answer.error = String(message.error);
      answer.errorCode = (message.errorDetail as { code?: number })?.code;
    }
  }
  if (query.q === "1" && !answer.error) {
    answer.imageId = answer.log.trim();
  }
  return answer;
}

/** Builds and fails the test unless it succeeded; returns the answer. */
export async function buildOk(
  daemon: TestDockerd,
  context: string | Uint8Array,
  query: Record<string, string | string[]> = {},
): Promise<BuildAnswer & { imageId: string }> {
  const answer = await build(daemon, context, query);
  assertEquals(answer.error, undefined, `build failed: ${answer.error}\n${answer.log}`);
  if (!answer.imageId) throw new Error(`no image ID in the answer:\n${answer.log}`);
  return answer as BuildAnswer & { imageId: string };
}

/** The image's config (`docker image inspect`). */
export async function inspectImage(
  daemon: TestDockerd,
  name: string,
): Promise<Record<string, unknown> & { Config: Record<string, unknown> }> {
  const response = await daemon.api("GET", `/v1.41/images/${name}/json`);
  if (!response.ok) throw new Error(`inspect ${name}: ${await response.text()}`);
  return await response.json();
}

/** `docker history` rows (newest first). */
export async function historyOf(
  daemon: TestDockerd,
  name: string,
): Promise<{ Id: string; CreatedBy: string; Size: number; Tags: string[] | null }[]> {
  const response = await daemon.api("GET", `/v1.41/images/${name}/history`);
  if (!response.ok) throw new Error(`history ${name}: ${await response.text()}`);
  return await response.json();
}

/** Runs a command in a fresh container of `image` and returns its output. */
export async function runIn(
  daemon: TestDockerd,
  image: string,
  command: string[],
): Promise<CommandResult> {
  return await run("docker", ["run", "--rm", image, ...command], {
    env: {
      DOCKER_HOST: daemon.dockerHost,
      DOCKER_CONFIG: join(daemon.paths.base, "docker-config"),
    },
  });
}

/** The real docker CLI with the legacy builder selected. */
export async function legacyDocker(daemon: TestDockerd, args: string[]): Promise<CommandResult> {
  return await run("/usr/local/bin/docker", args, {
    env: {
      DOCKER_HOST: daemon.dockerHost,
      DOCKER_CONFIG: join(daemon.paths.base, "docker-config"),
      DOCKER_BUILDKIT: "0",
    },
  });
}

/** Starts a daemon with busybox loaded. */
export async function startDaemon(base?: string): Promise<TestDockerd> {
  const daemon = await TestDockerd.start({
    config: { "shutdown-timeout": 1, bridge: "none" },
    base,
  });
  try {
    await daemon.loadBusybox();
  } catch (error) {
    await daemon.cleanup();
    throw error;
  }
  return daemon;
}

export { missingTool };

/**
 * One test against a fresh mini-dockerd and a context written from `files`; both are
 * removed afterwards, whatever the body does. Daemon tests leave forked children behind
 * for a moment, hence the relaxed sanitizers.
 */
export function daemonBuildTest(
  name: string,
  ignore: boolean,
  files: ContextFiles,
  body: (daemon: TestDockerd, context: string) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const daemon = await startDaemon();
      try {
        const context = await writeContext(files);
        try {
          await body(daemon, context);
        } finally {
          await Deno.remove(context, { recursive: true });
        }
      } finally {
        await daemon.cleanup();
      }
    },
  });
}
