// What this teaches: with the legacy builder the *client* decides what the daemon gets to
// see. `docker build DIR` walks DIR, drops everything `.dockerignore` excludes, and
// streams the rest as one uncompressed tar (owner 0:0, file modes and mtimes kept, entries
// in lexical order, hard links as links). The daemon never reads your disk: a file the
// tar leaves out simply does not exist for COPY. Two files are always sent even when
// `.dockerignore` names them (the Dockerfile and `.dockerignore` itself), and a Dockerfile
// that lives outside the context is smuggled in under a random name
// (`.dockerfile.<20 hex>`), which is added to `.dockerignore` so that COPY cannot see it.
// Mirrors docker/cli's cli/command/image/build/context.go (GetContextFromLocalDir,
// getDockerfileRelPath, AddDockerfileToBuildContext), cli/command/image/build/dockerignore.go,
// moby's patternmatcher/ignorefile (ReadAll) and pkg/archive (TarWithOptions).

import { randomBytes } from "node:crypto";
import { isAbsolute, join, relative, resolve } from "node:path";
import { type TarHeaderInput, TarWriter } from "../../../archive/tar_writer.ts";
import { StatusError } from "../../types.ts";
import { ExcludeMatcher, parseDockerignore } from "../../../builder/dockerignore.ts";

/** The name docker looks for when no `-f` is given. */
export const DEFAULT_DOCKERFILE_NAME = "Dockerfile";

/** The patterns of `<contextDir>/.dockerignore` ([] when there is none). */
export async function readDockerignore(contextDir: string): Promise<string[]> {
  try {
    return parseDockerignore(await Deno.readTextFile(join(contextDir, ".dockerignore")));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new StatusError(
      `error reading .dockerignore: ${(error as Error).message}`,
      1,
    );
  }
}

/**
 * Makes sure the Dockerfile and `.dockerignore` travel even when `.dockerignore` excludes
 * them: the daemon needs both (it reads the Dockerfile, then drops both from what COPY
 * can see). A Dockerfile from stdin is not in the context, so it is not brought back.
 */
export function trimBuildFilesFromExcludes(
  patterns: string[],
  dockerfile: string,
  dockerfileFromStdin: boolean,
): string[] {
  const result = [...patterns];
  if (new ExcludeMatcher(result).excludes(".dockerignore")) result.push("!.dockerignore");
  if (!dockerfileFromStdin && new ExcludeMatcher(result).excludes(dockerfile)) {
    result.push(`!${dockerfile}`);
  }
  return result;
}

/** A local build context, resolved. */
export interface LocalContext {
  /** Absolute, symlink-free context directory. */
  contextDir: string;
  /** The Dockerfile relative to the context ("Dockerfile", "sub/Dockerfile.dev", or "-"). */
  relativeDockerfile: string;
  /** Set when the Dockerfile lives outside the context: its absolute path. */
  outsideDockerfile?: string;
}

/**
 * Resolves a context directory and the `-f` value: `-f` is relative to the current
 * directory (not to the context), the default is `<context>/Dockerfile` (or a lower-case
 * `dockerfile` if only that exists), and a Dockerfile outside the context is remembered
 * so it can be added to the tar under a hidden name.
 */
export async function resolveLocalContext(
  contextPath: string,
  dockerfileFlag: string,
  cwd: string = Deno.cwd(),
): Promise<LocalContext> {
  const absolute = resolve(cwd, contextPath);
  let contextDir: string;
  try {
    contextDir = await Deno.realPath(absolute);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new StatusError(`unable to prepare context: path "${contextPath}" not found`, 1);
    }
    throw new StatusError(
      `unable to prepare context: unable to evaluate symlinks in context path: ${
        (error as Error).message
      }`,
      1,
    );
  }
  const info = await Deno.stat(contextDir);
  if (!info.isDirectory) {
    throw new StatusError(
      `unable to prepare context: context must be a directory: ${contextDir}`,
      1,
    );
  }
  if (dockerfileFlag === "-") return { contextDir, relativeDockerfile: "-" };

  let given = dockerfileFlag;
  if (given === "") {
    given = join(contextDir, DEFAULT_DOCKERFILE_NAME);
    if (!(await exists(given))) {
      const lowerCase = join(contextDir, DEFAULT_DOCKERFILE_NAME.toLowerCase());
      if (await exists(lowerCase)) given = lowerCase;
    }
  }
  const absoluteDockerfile = isAbsolute(given) ? given : resolve(cwd, given);
  let realDockerfile: string;
  try {
    realDockerfile = await Deno.realPath(absoluteDockerfile);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file or directory"
      : (error as Error).message;
    throw new StatusError(
      `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${absoluteDockerfile}: ${reason}`,
      1,
    );
  }
  const relativeDockerfile = relative(contextDir, realDockerfile);
  if (relativeDockerfile === "") {
    throw new StatusError(
      `unable to prepare context: the Dockerfile (${given}) cannot be the context directory`,
      1,
    );
  }
  if (relativeDockerfile === ".." || relativeDockerfile.startsWith("../")) {
    return { contextDir, relativeDockerfile, outsideDockerfile: realDockerfile };
  }
  return { contextDir, relativeDockerfile };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** One entry of the context, found by the walk (contents are read while streaming). */
interface ContextEntry {
  header: TarHeaderInput;
  /** Where a regular file's bytes come from. */
  source?: string;
  /** Replacement contents (the rewritten `.dockerignore`, an outside Dockerfile). */
  contents?: Uint8Array;
}

/** A file added to the tar that is not on disk inside the context. */
export interface ExtraFile {
  name: string;
  contents: Uint8Array;
}

/** Options of contextEntries() / contextTar(). */
export interface ContextTarOptions {
  /** Patterns from `.dockerignore` (after trimBuildFilesFromExcludes). */
  excludes: string[];
  /** The Dockerfile that lives outside the context (or came from stdin). */
  extraDockerfile?: ExtraFile;
}

/** A context ready to stream: the tar's entries in order and the Dockerfile's name in it. */
export interface PreparedContext {
  entries: ContextEntry[];
  /** What to send as `dockerfile=`: the relative path, or the hidden name of an added one. */
  dockerfileName?: string;
}

const encoder = new TextEncoder();

/** The random hidden name of a Dockerfile that came from outside the context. */
export function hiddenDockerfileName(): string {
  return `.dockerfile.${randomBytes(10).toString("hex")}`;
}

/**
 * Walks the context (depth first, names sorted like Go's filepath.Walk), leaving out
 * what the patterns exclude, and checks that every file it keeps can be read (docker's
 * ValidateContextDirectory) before a single byte is sent.
 */
export async function prepareContext(
  contextDir: string,
  options: ContextTarOptions,
): Promise<PreparedContext> {
  const matcher = new ExcludeMatcher(options.excludes);
  const entries: ContextEntry[] = [];
  const hardLinks = new Map<string, string>();

  const walk = async (directory: string, relativeDirectory: string) => {
    const names: string[] = [];
    for await (const entry of Deno.readDir(directory)) names.push(entry.name);
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const path = join(directory, name);
      const relativePath = relativeDirectory === "" ? name : `${relativeDirectory}/${name}`;
      let info: Deno.FileInfo;
      try {
        info = await Deno.lstat(path);
      } catch (error) {
        throw new StatusError(
          `error checking context: can't stat '${path}': ${(error as Error).message}`,
          1,
        );
      }
      if (matcher.excludes(relativePath)) {
        if (info.isDirectory && matcher.mayReinclude(relativePath)) {
          await walk(path, relativePath);
        }
        continue;
      }
      const entry = await entryFor(path, relativePath, info, hardLinks);
      if (entry) entries.push(entry);
      if (info.isDirectory) await walk(path, relativePath);
    }
  };
  await walk(contextDir, "");

  const extra = options.extraDockerfile;
  if (extra) {
    // The daemon must not let COPY see the hidden Dockerfile: list it in .dockerignore.
    const ignoreEntry = entries.find((entry) => entry.header.name === ".dockerignore");
    if (ignoreEntry) {
      const original = ignoreEntry.source
        ? await Deno.readFile(ignoreEntry.source)
        : ignoreEntry.contents ?? new Uint8Array();
      ignoreEntry.contents = concatBytes(original, encoder.encode(`\n${extra.name}\n`));
      ignoreEntry.source = undefined;
      ignoreEntry.header.size = ignoreEntry.contents.length;
    } else {
      const contents = encoder.encode(`.dockerignore\n${extra.name}\n`);
      entries.push({ header: syntheticHeader(".dockerignore", contents.length), contents });
    }
    entries.push({
      header: syntheticHeader(extra.name, extra.contents.length),
      contents: extra.contents,
    });
  }
  return { entries, dockerfileName: extra?.name };
}

function syntheticHeader(name: string, size: number): TarHeaderInput {
  return {
    name,
    type: "file",
    mode: 0o600,
    uid: 0,
    gid: 0,
    mtimeSeconds: Math.floor(Date.now() / 1000),
    size,
  };
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const result = new Uint8Array(a.length + b.length);
  result.set(a, 0);
  result.set(b, a.length);
  return result;
}

/** The tar entry for one path, or undefined for what tar cannot carry (sockets). */
async function entryFor(
  path: string,
  name: string,
  info: Deno.FileInfo,
  hardLinks: Map<string, string>,
): Promise<ContextEntry | undefined> {
  const base = {
    name,
    mode: (info.mode ?? 0) & 0o7777,
    // The context belongs to root in the image, whoever owns it here (docker's ChownOpts).
    uid: 0,
    gid: 0,
    mtimeSeconds: Math.floor((info.mtime?.getTime() ?? 0) / 1000),
  };
  if (info.isDirectory) return { header: { ...base, type: "directory" } };
  if (info.isSymlink) {
    return { header: { ...base, type: "symlink", linkname: await Deno.readLink(path) } };
  }
  if (info.isFile) {
    if ((info.nlink ?? 1) > 1) {
      const key = `${info.dev}:${info.ino}`;
      const first = hardLinks.get(key);
      if (first !== undefined) return { header: { ...base, type: "link", linkname: first } };
      hardLinks.set(key, name);
    }
    try {
      (await Deno.open(path, { read: true })).close();
    } catch (error) {
      if (error instanceof Deno.errors.PermissionDenied) {
        throw new StatusError(
          `error checking context: no permission to read from '${path}'`,
          1,
        );
      }
      throw new StatusError(
        `error checking context: can't open '${path}': ${(error as Error).message}`,
        1,
      );
    }
    return { header: { ...base, type: "file", size: info.size }, source: path };
  }
  const device = info.rdev ?? 0;
  const devmajor = Number((BigInt(device) >> 8n) & 0xfffn);
  const devminor = Number((BigInt(device) & 0xffn) | ((BigInt(device) >> 12n) & 0xfff00n));
  if (info.isFifo) return { header: { ...base, type: "fifo" } };
  if (info.isCharDevice) {
    return { header: { ...base, type: "character-device", devmajor, devminor } };
  }
  if (info.isBlockDevice) return { header: { ...base, type: "block-device", devmajor, devminor } };
  return undefined; // a socket: Go's archive/tar refuses them, docker leaves them out
}

/** Streams a file's bytes, failing if it no longer has the size the header promised. */
async function* fileChunks(path: string, size: number): AsyncIterable<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    let remaining = size;
    const buffer = new Uint8Array(Math.min(Math.max(size, 1), 1024 * 1024));
    while (remaining > 0) {
      const count = await file.read(buffer.subarray(0, Math.min(buffer.length, remaining)));
      if (count === null) throw new Error(`${path} shrank while the build context was sent`);
      remaining -= count;
      yield buffer.slice(0, count);
    }
  } finally {
    file.close();
  }
}

/** The context as tar bytes, produced as the reader (the HTTP request) takes them. */
export function contextTar(prepared: PreparedContext): AsyncIterable<Uint8Array> {
  const writer = new TarWriter();
  (async () => {
    try {
      for (const entry of prepared.entries) {
        if (entry.contents) await writer.add(entry.header, entry.contents);
        else if (entry.source) {
          await writer.add(entry.header, fileChunks(entry.source, entry.header.size ?? 0));
        } else await writer.add(entry.header);
      }
      writer.finalize();
    } catch (error) {
      writer.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();
  return writer.output;
}
