// What this teaches: ADD unpacks a local tar whatever its compression, and the four are
// not handled alike. gzip and zstd are in node:zlib (lib/archive decompresses layers with
// them); xz and bzip2 are not, so, as moby does for xz, the host's own `xz -d -c` and
// `bzip2 -d -c` do the work: the file streams into the program's stdin and the tar comes
// out of its stdout, never whole in memory. A program that is missing, or that rejects
// the data, fails the step with a message saying which.
// Mirrors moby's pkg/archive/archive.go (DecompressStream, cmdStream, xzDecompress) and
// builder/dockerfile/copy.go (isArchivePath: a file is unpacked only if, decompressed,
// it starts with a tar header).

import { decompressStream } from "../archive/compression.ts";
import {
  type ArchiveCompression,
  compressionOf,
  isTarHeader,
  TAR_BLOCK_SIZE,
} from "./archive_head.ts";

/** The programs that decompress what node:zlib cannot, and the Debian packages with them. */
const PROGRAMS: Partial<Record<ArchiveCompression, { program: string; debianPackage: string }>> = {
  xz: { program: "xz", debianPackage: "xz-utils" },
  bzip2: { program: "bzip2", debianPackage: "bzip2" },
};

/** The decompressing program could not be started: nothing else can unpack the file. */
export class MissingDecompressorError extends Error {
  constructor(compression: ArchiveCompression, program: string, debianPackage: string) {
    super(
      `cannot unpack this ${compression}-compressed archive: the ${program} program is not ` +
        `installed on the daemon's host (Debian package ${debianPackage})`,
    );
    this.name = "MissingDecompressorError";
  }
}

/**
 * Streams `input` through `program -d -c -q` (the compressed bytes in, the tar out); a
 * program that cannot be started is a MissingDecompressorError, a non-zero exit errors
 * the output stream with the program's message.
 */
export function throughProgram(
  input: ReadableStream<Uint8Array>,
  compression: ArchiveCompression,
  program: string,
  debianPackage: string,
): ReadableStream<Uint8Array> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: ["-d", "-c", "-q"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    input.cancel().catch(() => {});
    if (error instanceof Deno.errors.NotFound) {
      throw new MissingDecompressorError(compression, program, debianPackage);
    }
    throw error;
  }
  // The consumer may stop early (ADD only peeks at the first block): then stdin breaks.
  input.pipeTo(child.stdin).catch(() => {});
  const stderr = new Response(child.stderr).text();
  let finished = false;
  const reader = child.stdout.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (!done) {
        controller.enqueue(value);
        return;
      }
      finished = true;
      const status = await child.status;
      if (!status.success) {
        const detail = (await stderr).trim() || `exit code ${status.code}`;
        controller.error(new Error(`${program} could not decompress the archive: ${detail}`));
      } else controller.close();
    },
    async cancel(reason) {
      if (!finished) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
      }
      await reader.cancel(reason).catch(() => {});
      await child.status;
      await stderr.catch(() => {});
    },
  });
}

/**
 * The tar inside `file`, compressed as `compression`, decompressed. gzip and zstd pass
 * through unchanged, since lib/archive's applier decompresses those itself, unless
 * `always` is set (for peeking at the decompressed bytes).
 */
export function tarStreamOf(
  file: ReadableStream<Uint8Array>,
  compression: ArchiveCompression | undefined,
  always = false,
): ReadableStream<Uint8Array> {
  const external = compression === undefined ? undefined : PROGRAMS[compression];
  if (compression && external) {
    return throughProgram(file, compression, external.program, external.debianPackage);
  }
  if (!always || compression === undefined) return file;
  return ReadableStream.from((async function* () {
    yield* (await decompressStream(file)).chunks;
  })());
}

async function readHead(path: string): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    const head = new Uint8Array(TAR_BLOCK_SIZE);
    let length = 0;
    while (length < head.length) {
      const count = await file.read(head.subarray(length));
      if (count === null) break;
      length += count;
    }
    return head.subarray(0, length);
  } finally {
    file.close();
  }
}

async function readFirstBlock(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const block = new Uint8Array(TAR_BLOCK_SIZE);
  let length = 0;
  try {
    while (length < TAR_BLOCK_SIZE) {
      const { value, done } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, TAR_BLOCK_SIZE - length);
      block.set(value.subarray(0, take), length);
      length += take;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return block.subarray(0, length);
}

/** What ADD makes of a local file: a tar (with its compression) to unpack, or a file to copy. */
export type LocalArchive =
  | { kind: "archive"; compression: ArchiveCompression | undefined }
  | { kind: "file" };

/**
 * Decides, as moby's isArchivePath, whether ADD unpacks `path`: a plain tar, or a
 * compressed stream whose decompressed start is a tar header. A compressed file that is
 * not a tar (`notes.txt.gz`) or is damaged is copied as it is. A missing xz/bzip2 program
 * is an error: without it the question cannot be answered.
 */
export async function inspectLocalArchive(path: string): Promise<LocalArchive> {
  const head = await readHead(path);
  const compression = compressionOf(head);
  if (compression === undefined) {
    return isTarHeader(head) ? { kind: "archive", compression } : { kind: "file" };
  }
  const file = await Deno.open(path, { read: true });
  let block: Uint8Array;
  try {
    block = await readFirstBlock(tarStreamOf(file.readable, compression, true));
  } catch (error) {
    if (error instanceof MissingDecompressorError) throw error;
    return { kind: "file" };
  } finally {
    try {
      file.close();
    } catch { /* closed by the stream */ }
  }
  return isTarHeader(block) ? { kind: "archive", compression } : { kind: "file" };
}

/** Opens `path` as the uncompressed (or zlib-compressed) tar stream lib/archive applies. */
export async function openArchive(
  path: string,
  compression: ArchiveCompression | undefined,
): Promise<ReadableStream<Uint8Array>> {
  const file = await Deno.open(path, { read: true });
  return tarStreamOf(file.readable, compression);
}
