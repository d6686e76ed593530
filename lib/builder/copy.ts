// What this teaches: what COPY and ADD do to the new layer's file system. Sources land
// under the destination by Docker's rules: a destination ending in `/` (or several
// sources) is a directory that each source goes *into*; a directory source copies its
// contents, not itself; a single file to a path that is not a directory becomes that
// path. Missing parent directories are created. Copied files are owned by root unless
// `--chown` says otherwise (names looked up in the image's /etc/passwd and /etc/group),
// keep their modes unless `--chmod`, and keep their mtimes. Every write is resolved
// inside the rootfs, so a symlink in the image cannot redirect a COPY to the host. ADD
// additionally unpacks a local tar archive (plain, gzip, bzip2, xz or zstd: decompress.ts)
// at the destination, and refuses URLs: mini builds offline.
// Mirrors moby's builder/dockerfile/copy.go (performCopy, copyFile, copyDirectory,
// isArchivePath), internal/mkdirall and builder/dockerfile/internals_linux.go
// (parseChownFlag, lookupUser/lookupGroup).

import { join } from "node:path";
import { applyLayer } from "../archive/apply.ts";
import { AtFlags, lchownAt } from "../archive/syscalls.ts";
import { resolveInRoot } from "../runtime/init/secure_join.ts";
import { inspectLocalArchive, openArchive } from "./decompress.ts";
import type { ResolvedSource } from "./sources.ts";

/** Ownership and mode the copied files get. */
export interface CopyOwnership {
  uid: number;
  gid: number;
  /** `--chmod` bits, or undefined to keep the source's mode. */
  mode?: number;
}

/** Parses `--chmod=755` (octal). */
export function parseChmod(text: string): number {
  if (!/^[0-7]{3,4}$/.test(text)) {
    throw new Error(`invalid --chmod value ${JSON.stringify(text)}: use octal digits like 755`);
  }
  return parseInt(text, 8);
}

function lookupId(rootfs: string, file: string, name: string, what: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text = "";
  try {
    text = Deno.readTextFileSync(resolveInRoot(rootfs, file));
  } catch { /* no file: unknown name */ }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields.length >= 3 && /^\d+$/.test(fields[2])) {
      return Number(fields[2]);
    }
  }
  throw new Error(`unable to convert ${what} ${name} to a number: no such ${what} in ${file}`);
}

/** `--chown=user[:group]`: names resolved in the image's /etc/passwd and /etc/group. */
export function parseChown(rootfs: string, text: string): { uid: number; gid: number } {
  const [user, group] = text.split(":", 2);
  if (user === "") throw new Error(`invalid --chown value ${JSON.stringify(text)}`);
  const uid = lookupId(rootfs, "/etc/passwd", user, "user");
  let gid: number;
  if (group !== undefined && group !== "") gid = lookupId(rootfs, "/etc/group", group, "group");
  else if (/^\d+$/.test(user)) gid = uid;
  else {
    // The user's primary group.
    const line = Deno.readTextFileSync(resolveInRoot(rootfs, "/etc/passwd")).split("\n")
      .find((entry) => entry.split(":")[0] === user);
    gid = Number(line?.split(":")[3] ?? uid);
  }
  return { uid, gid };
}

/** Creates the missing directories of `path` (inside `rootfs`), owned as given. */
async function makeDirectories(
  rootfs: string,
  path: string,
  owner: CopyOwnership,
): Promise<string> {
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  let current = "";
  for (const part of parts) {
    current += "/" + part;
    const onDisk = resolveInRoot(rootfs, current);
    let info: Deno.FileInfo | undefined;
    try {
      info = await Deno.stat(onDisk);
    } catch { /* missing */ }
    if (info && !info.isDirectory) {
      throw new Error(`cannot copy to ${path}: ${current} exists and is not a directory`);
    }
    if (!info) {
      await Deno.mkdir(onDisk, { mode: 0o755 });
      await Deno.chown(onDisk, owner.uid, owner.gid);
    }
  }
  return resolveInRoot(rootfs, path);
}

async function applyMetadata(path: string, info: Deno.FileInfo, owner: CopyOwnership) {
  await Deno.chown(path, owner.uid, owner.gid);
  const mode = owner.mode ?? ((info.mode ?? 0o644) & 0o7777);
  await Deno.chmod(path, mode);
  if (info.mtime && info.atime) await Deno.utime(path, info.atime, info.mtime);
}

/** Copies one regular file (streaming) to `target` (replacing what was there). */
async function copyFile(source: string, target: string, owner: CopyOwnership): Promise<void> {
  const info = await Deno.stat(source);
  await Deno.remove(target).catch(() => {});
  const input = await Deno.open(source, { read: true });
  const output = await Deno.open(target, { write: true, createNew: true, mode: 0o600 });
  await input.readable.pipeTo(output.writable);
  await applyMetadata(target, info, owner);
}

/** Copies a directory's contents into `target` (which exists), recursively. */
async function copyDirectoryContents(
  rootfs: string,
  source: string,
  destination: string,
  owner: CopyOwnership,
): Promise<void> {
  const names = [...Deno.readDirSync(source)].map((entry) => entry.name).sort();
  for (const name of names) {
    const from = join(source, name);
    const toPath = `${destination}/${name}`;
    const info = await Deno.lstat(from);
    if (info.isDirectory) {
      const target = await makeDirectories(rootfs, toPath, owner);
      await copyDirectoryContents(rootfs, from, toPath, owner);
      await applyMetadata(target, info, owner);
    } else if (info.isSymlink) {
      const target = resolveInRoot(rootfs, destination) + "/" + name;
      await Deno.remove(target).catch(() => {});
      await Deno.symlink(await Deno.readLink(from), target);
      lchownAt(AtFlags.FDCWD, target, owner.uid, owner.gid);
    } else if (info.isFile) {
      await copyFile(from, resolveInRoot(rootfs, destination) + "/" + name, owner);
    }
    // Sockets, FIFOs and devices in a context are skipped: a build copies files.
  }
}

/** True for `http://`, `https://` and git sources, which ADD would download. */
export function isRemoteSource(source: string): boolean {
  return /^(https?|git|ssh):\/\//i.test(source) || source.startsWith("git@");
}

/**
 * Copies `sources` to `destination` (absolute, inside `rootfs`) following Docker's
 * rules; with `extractArchives` (ADD) local tar files are unpacked instead.
 */
export async function copySources(
  rootfs: string,
  sources: ResolvedSource[],
  destination: string,
  owner: CopyOwnership,
  extractArchives: boolean,
): Promise<void> {
  let toDirectory = destination.endsWith("/") || sources.length > 1;
  if (!toDirectory && sources.length === 1 && !sources[0].isDirectory) {
    // A single file to an existing directory goes into it.
    try {
      toDirectory = (await Deno.stat(resolveInRoot(rootfs, destination))).isDirectory;
    } catch { /* not there: the file gets that name */ }
  }
  for (const source of sources) {
    if (source.isDirectory) {
      const target = await makeDirectories(rootfs, destination, owner);
      await copyDirectoryContents(
        rootfs,
        source.path,
        destination.replace(/\/+$/, "") || "/",
        owner,
      );
      if (source.relative !== "") {
        await applyMetadata(target, await Deno.stat(source.path), owner).catch(() => {});
      }
      continue;
    }
    const archive = extractArchives ? await inspectLocalArchive(source.path) : undefined;
    if (archive?.kind === "archive") {
      const target = await makeDirectories(rootfs, destination, owner);
      await applyLayer(target, await openArchive(source.path, archive.compression), {
        whiteoutFormat: "oci",
        allowDevices: false,
      });
      continue;
    }
    if (toDirectory) {
      await makeDirectories(rootfs, destination, owner);
      const target = `${destination.replace(/\/+$/, "")}/${source.baseName}`;
      await copyFile(source.path, resolveInRoot(rootfs, target), owner);
    } else {
      const slash = destination.lastIndexOf("/");
      await makeDirectories(rootfs, destination.slice(0, slash) || "/", owner);
      await copyFile(source.path, resolveInRoot(rootfs, destination), owner);
    }
  }
}
