// What this teaches: where COPY and ADD may read from, and what the cache remembers of
// it. A source is a path (or glob) relative to the build context; `..` never climbs out
// of it, and a symlink on the way is followed only while it stays inside (one pointing
// out is refused, so a context cannot smuggle in /etc/shadow). The sources are then
// summarised as one content hash (file:<sha256>, dir:<sha256> or multi:<sha256>) that
// covers names, modes and bytes but not modification times: that string goes into the
// step's history line and cache key, so touching a file does not invalidate the
// cache, changing a byte does.
// Mirrors moby's builder/dockerfile/copy.go (calcCopyInfo, walkSource, the
// "forbidden path outside the build context" check) and builder/remotecontext/tarsum.go
// (the per-file hashes behind `COPY file:<hash>`).

import { createHash } from "node:crypto";
import { join, posix } from "node:path";
import { resolveInRoot } from "../runtime/init/secure_join.ts";

/** One source file or directory, resolved on disk. */
export interface ResolvedSource {
  /** Absolute path on disk (symlinks resolved). */
  path: string;
  /** Path relative to the source root, `/`-separated ("" for the root itself). */
  relative: string;
  /** The name a file gets at a directory destination. */
  baseName: string;
  isDirectory: boolean;
}

const MAX_SYMLINKS = 255;

/** A source path that leaves its root: refused with Docker's wording. */
export class ForbiddenPathError extends Error {
  constructor(path: string, detail: string) {
    super(`forbidden path outside the build context: ${path} (${detail})`);
    this.name = "ForbiddenPathError";
  }
}

/**
 * Resolves `path` inside `root`, symlinks followed. With `strict` (the build context)
 * any step that would leave the root throws; without (another image's rootfs) the path
 * is resolved as inside a container, by the same secure join runc's mounts use.
 */
function resolveInside(root: string, path: string, strict: boolean): string[] {
  if (!strict) {
    const inside = posix.relative(root, resolveInRoot(root, path));
    return inside === "" ? [] : inside.split("/");
  }
  let pending = path.split("/").filter((part) => part !== "" && part !== ".");
  const resolved: string[] = [];
  let symlinks = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      if (resolved.length === 0) {
        throw new ForbiddenPathError(path, "it climbs above the context with ..");
      }
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let info: Deno.FileInfo | undefined;
    try {
      info = Deno.lstatSync(candidate);
    } catch { /* missing: reported by the caller */ }
    if (!info?.isSymlink) {
      resolved.push(part);
      continue;
    }
    if (++symlinks > MAX_SYMLINKS) throw new Error(`${path}: too many levels of symbolic links`);
    const target = Deno.readLinkSync(candidate);
    // Absolute, or relative but climbing above the root: either way it points out.
    if (target.startsWith("/") || climbsAbove(resolved.length, target)) {
      throw new ForbiddenPathError(
        path,
        `${[...resolved, part].join("/")} is a symlink to ${target}`,
      );
    }
    pending = [...target.split("/").filter((piece) => piece !== "" && piece !== "."), ...pending];
  }
  return resolved;
}

/** True when relative `target`, followed from `depth` levels below the root, goes above it. */
function climbsAbove(depth: number, target: string): boolean {
  for (const piece of target.split("/")) {
    if (piece === "..") depth--;
    else if (piece !== "" && piece !== ".") depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** True when the path has glob characters (`*`, `?`, `[`). */
function hasWildcards(path: string): boolean {
  return /[*?[]/.test(path);
}

/** Go's filepath.Match as a regular expression (`*` does not cross `/`). */
function globToRegExp(glob: string): RegExp {
  let pattern = "^";
  for (let index = 0; index < glob.length; index++) {
    const character = glob[index];
    if (character === "*") pattern += "[^/]*";
    else if (character === "?") pattern += "[^/]";
    else if (character === "[") {
      const end = glob.indexOf("]", index + 1);
      if (end < 0) throw new Error(`syntax error in pattern: ${glob}`);
      let set = glob.slice(index + 1, end);
      if (set.startsWith("^")) set = "!" + set.slice(1);
      pattern += set.startsWith("!") ? `[^${set.slice(1)}]` : `[${set}]`;
      index = end;
    } else if (character === "\\" && index + 1 < glob.length) {
      pattern += glob[++index].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else pattern += character.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(pattern + "$");
}

/** Every path below `root` (not following symlinks), relative, sorted. */
function listAll(root: string): string[] {
  const paths: string[] = [];
  const walk = (directory: string, relative: string) => {
    const names = [...Deno.readDirSync(directory)].map((entry) => entry.name).sort();
    for (const name of names) {
      const path = relative === "" ? name : `${relative}/${name}`;
      paths.push(path);
      const info = Deno.lstatSync(join(directory, name));
      if (info.isDirectory) walk(join(directory, name), path);
    }
  };
  walk(root, "");
  return paths;
}

/** A source path cleaned and made relative ("/a/./b/" → "a/b", "a/../.." → ".."; "" is the root). */
function normalize(path: string): string {
  const cleaned = posix.normalize(path.replace(/^\/+/, "") || ".").replace(/\/+$/, "");
  return cleaned === "." ? "" : cleaned;
}

/**
 * Resolves the sources of one COPY/ADD inside `root`. `strict` is for the build
 * context (escapes are errors).
 */
export function resolveSources(
  root: string,
  sources: string[],
  strict: boolean,
): ResolvedSource[] {
  const resolvedSources: ResolvedSource[] = [];
  let allPaths: string[] | undefined; // listed once, only if a source has wildcards
  for (const source of sources) {
    const normalized = normalize(source);
    if (strict && (normalized === ".." || normalized.startsWith("../"))) {
      throw new ForbiddenPathError(source, "it climbs above the context with ..");
    }
    let candidates = [normalized];
    if (hasWildcards(normalized)) {
      const pattern = globToRegExp(normalized);
      allPaths ??= listAll(root);
      candidates = allPaths.filter((path) => pattern.test(path));
    }
    if (candidates.length === 0) {
      throw new Error(`no source files were specified (nothing matches ${source})`);
    }
    for (const candidate of candidates) {
      const parts = resolveInside(root, candidate, strict);
      const path = join(root, ...parts);
      let info: Deno.FileInfo;
      try {
        info = Deno.statSync(path);
      } catch {
        throw new Error(
          `file not found in build context or excluded by .dockerignore: stat ${source}: ` +
            "file does not exist",
        );
      }
      const nameParts = candidate.split("/").filter((part) => part !== "");
      resolvedSources.push({
        path,
        relative: parts.join("/"),
        baseName: nameParts[nameParts.length - 1] ?? "",
        isDirectory: info.isDirectory,
      });
    }
  }
  return resolvedSources;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk); // the stream closes the file
  return hash.digest("hex");
}

/** The hash of one file: its mode and bytes (no name, no mtime). */
async function fileHash(path: string, info: Deno.FileInfo): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`file mode=${((info.mode ?? 0) & 0o7777).toString(8)} size=${info.size}\n`);
  hash.update(await hashFile(path));
  return hash.digest("hex");
}

/** The hash of a directory tree: every entry's relative name, kind, mode and content hash. */
async function directoryHash(root: string): Promise<string> {
  const hash = createHash("sha256");
  for (const relative of listAll(root)) {
    const path = join(root, relative);
    const info = await Deno.lstat(path);
    const mode = ((info.mode ?? 0) & 0o7777).toString(8);
    if (info.isSymlink) hash.update(`${relative}\0symlink\0${await Deno.readLink(path)}\n`);
    else if (info.isDirectory) hash.update(`${relative}\0dir\0${mode}\n`);
    else if (info.isFile) hash.update(`${relative}\0file\0${await fileHash(path, info)}\n`);
    else hash.update(`${relative}\0other\0${mode}\n`);
  }
  return hash.digest("hex");
}

/**
 * `file:<hex>` for one file, `dir:<hex>` for one directory, `multi:<hex>` for several:
 * what Docker writes in `COPY <hash> in /dest` and compares for the cache.
 */
export async function sourcesHash(sources: ResolvedSource[]): Promise<string> {
  const parts: string[] = [];
  for (const source of sources) {
    if (source.isDirectory) parts.push(`dir:${await directoryHash(source.path)}`);
    else parts.push(`file:${await fileHash(source.path, await Deno.stat(source.path))}`);
  }
  if (parts.length === 1) return parts[0];
  const hash = createHash("sha256");
  for (const [index, part] of parts.entries()) {
    hash.update(`${sources[index].baseName}\0${part}\n`);
  }
  return `multi:${hash.digest("hex")}`;
}
