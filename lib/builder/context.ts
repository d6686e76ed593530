// What this teaches: the build context is just a tar of a directory that the client
// sends in the request body. The daemon unpacks it into a private directory (with the
// same hardened tar reader that applies image layers, so a hostile tar cannot write
// outside it), reads the Dockerfile from it, and drops the files `.dockerignore`
// excludes, so that no COPY can see them. The tar may be compressed (gzip, bzip2, xz,
// zstd); a body that is not a tar at all is taken as the Dockerfile itself
// (`docker build - < Dockerfile`).
// Mirrors moby's builder/remotecontext (detect.go FromArchive/newArchiveRemote,
// tarsum.go's unpacked context, the .dockerignore handling of removeDockerfile) and
// builder/dockerignore.

import { join, posix } from "node:path";
import { ExcludeMatcher, parseDockerignore } from "./dockerignore.ts";
import { applyLayer } from "../archive/apply.ts";
import { compressionOf, looksLikeArchive } from "./archive_head.ts";
import { tarStreamOf } from "./decompress.ts";

/** An unpacked build context on disk. */
export interface BuildContext {
  /** The directory holding the context's files. */
  root: string;
  /** The Dockerfile's text. */
  dockerfile: string;
  /** Paths (relative, `/`-separated) that .dockerignore removed. */
  ignored: string[];
  /** Deletes the directory. */
  remove(): Promise<void>;
}

/** Reads the first `count` bytes of a stream and gives back an equivalent stream. */
async function peek(
  stream: ReadableStream<Uint8Array>,
  count: number,
): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let finished = false;
  while (length < count) {
    const { value, done } = await reader.read();
    if (done) {
      finished = true;
      break;
    }
    chunks.push(value);
    length += value.byteLength;
  }
  const head = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    head.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const rest = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.byteLength > 0) controller.enqueue(head);
      if (finished) controller.close();
    },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { head, stream: rest };
}

/** The Dockerfile path inside the context, checked to stay inside it. */
function dockerfilePathIn(root: string, name: string): string {
  const cleaned = posix.normalize(name.replace(/^\/+/, "") || ".");
  if (cleaned === ".." || cleaned.startsWith("../")) {
    throw new Error(`the Dockerfile (${name}) must be within the build context`);
  }
  return join(root, cleaned);
}

/**
 * Unpacks the context from `body` into a new directory under `scratchDirectory`, reads
 * the Dockerfile named `dockerfileName` and applies `.dockerignore`.
 */
export async function extractContext(
  body: ReadableStream<Uint8Array>,
  scratchDirectory: string,
  dockerfileName: string,
): Promise<BuildContext> {
  await Deno.mkdir(scratchDirectory, { recursive: true });
  const root = await Deno.makeTempDir({ dir: scratchDirectory, prefix: "build-context-" });
  const remove = () => Deno.remove(root, { recursive: true }).catch(() => {});
  try {
    const { head, stream } = await peek(body, 512);
    // An empty body is an empty tar: no Dockerfile, reported below.
    if (head.byteLength === 0 || looksLikeArchive(head)) {
      try {
        await applyLayer(root, tarStreamOf(stream, compressionOf(head)), {
          whiteoutFormat: "oci",
          allowDevices: false,
          sameOwner: false,
        });
      } catch (error) {
        throw new Error(`cannot read the build context: ${(error as Error).message}`);
      }
    } else {
      // Not a tar: the body is the Dockerfile itself.
      const file = await Deno.open(join(root, "Dockerfile"), { write: true, create: true });
      await stream.pipeTo(file.writable);
      dockerfileName = "Dockerfile";
    }
    const dockerfilePath = dockerfilePathIn(root, dockerfileName);
    let dockerfile: string;
    try {
      const info = await Deno.lstat(dockerfilePath);
      if (!info.isFile) throw new Deno.errors.NotFound();
      if (info.size > 16 * 1024 * 1024) throw new Error(`the Dockerfile is too large`);
      dockerfile = await Deno.readTextFile(dockerfilePath);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new Error(
        `Cannot locate specified Dockerfile: ${dockerfileName}`,
      );
    }
    const ignored = await applyDockerignore(root);
    return { root, dockerfile, ignored, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Reads `.dockerignore` (if any) and deletes every file it excludes. */
async function applyDockerignore(root: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(root, ".dockerignore"));
  } catch {
    return [];
  }
  const patterns = parseDockerignore(text);
  if (patterns.length === 0) return [];
  const matcher = new ExcludeMatcher(patterns);
  const removed: string[] = [];
  async function walk(directory: string, relative: string): Promise<void> {
    const names: { name: string; isDirectory: boolean }[] = [];
    for await (const entry of Deno.readDir(directory)) {
      names.push({ name: entry.name, isDirectory: entry.isDirectory });
    }
    for (const { name, isDirectory } of names) {
      const path = join(directory, name);
      const relativePath = relative === "" ? name : `${relative}/${name}`;
      const excluded = matcher.excludes(relativePath);
      if (isDirectory) {
        if (excluded && !matcher.mayReinclude(relativePath)) {
          await Deno.remove(path, { recursive: true });
          removed.push(relativePath);
          continue;
        }
        await walk(path, relativePath);
        // Kept only for the exceptions inside it; an empty ignored directory goes.
        if (excluded && await isEmptyDirectory(path)) {
          await Deno.remove(path);
          removed.push(relativePath);
        }
      } else if (excluded) {
        await Deno.remove(path);
        removed.push(relativePath);
      }
    }
  }
  await walk(root, "");
  return removed;
}

async function isEmptyDirectory(path: string): Promise<boolean> {
  for await (const _ of Deno.readDir(path)) return false;
  return true;
}
