// What this teaches: ADD unpacks a local tar in every compression Docker knows (gzip,
// bzip2, xz, zstd; xz and bzip2 through the host's programs), copies a compressed file
// that is not a tar as it is, and the build context itself may be an xz or bzip2 tar. One
// detection function (archive_head.ts) tells archives from other files for the CLI, the
// context and ADD.
// Mirrors moby's pkg/archive compression detection tests and integration-cli's
// docker_cli_build_test.go (TestBuildAddTar*).

import { join } from "node:path";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { compressionOf, isTarHeader, looksLikeArchive } from "../../lib/builder/archive_head.ts";
import { extractContext } from "../../lib/builder/context.ts";
import { copySources } from "../../lib/builder/copy.ts";
import { MissingDecompressorError, throughProgram } from "../../lib/builder/decompress.ts";
import { resolveSources } from "../../lib/builder/sources.ts";
import { tarOf, writeContext } from "./support.ts";

const ignore = requirements(
  "ADD of compressed archives",
  missingRoot(),
  missingTool("xz"),
  missingTool("bzip2"),
  missingTool("gzip"),
  missingTool("zstd"),
);

/** `program -c` of `bytes` (the host's compressor, independent of the code under test). */
async function compress(program: string, bytes: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(program, {
    args: ["-c"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const writing = writer.write(bytes).then(() => writer.close());
  const [output] = await Promise.all([child.output(), writing]);
  if (!output.success) throw new Error(`${program}: ${new TextDecoder().decode(output.stderr)}`);
  return output.stdout;
}

const COMPRESSORS = [
  { program: "xz", suffix: "tar.xz" },
  { program: "bzip2", suffix: "tar.bz2" },
  { program: "gzip", suffix: "tar.gz" },
  { program: "zstd", suffix: "tar.zst" },
] as const;

Deno.test({
  name: "archive head: magic numbers and the tar header checksum",
  fn() {
    const tar = new Uint8Array(512);
    tar.set(new TextEncoder().encode("a.txt"), 0);
    tar.set(new TextEncoder().encode("0000644\0"), 100);
    tar.set(new TextEncoder().encode("00000000000\0"), 124);
    tar[156] = "0".charCodeAt(0);
    let sum = 0;
    for (let index = 0; index < 512; index++) sum += index >= 148 && index < 156 ? 32 : tar[index];
    tar.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
    assert(isTarHeader(tar), "a v7 header with a good checksum (no ustar magic)");
    assert(looksLikeArchive(tar));
    const damaged = tar.slice();
    damaged[0] = "b".charCodeAt(0);
    assert(!isTarHeader(damaged), "a wrong checksum is no header");
    assert(!isTarHeader(new Uint8Array(512)), "the zero block ends an archive");
    assert(!looksLikeArchive(new TextEncoder().encode("FROM busybox\n")));
    assertEquals(compressionOf(new Uint8Array([0x1f, 0x8b, 8])), "gzip");
    assertEquals(compressionOf(new TextEncoder().encode("BZh91AY")), "bzip2");
    assertEquals(compressionOf(new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 0])), "xz");
    assertEquals(compressionOf(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd])), "zstd");
    assertEquals(compressionOf(new Uint8Array([0xfd, 0x37, 0x7a])), undefined, "too short");
  },
});

Deno.test({
  name: "copy: ADD unpacks xz, bzip2, gzip and zstd tars; a compressed non-tar is copied",
  ignore,
  async fn() {
    const payload = await writeContext({ "inner/file.txt": "from the archive" });
    const context = await writeContext({});
    const rootfs = await Deno.makeTempDir();
    try {
      const tar = await tarOf(payload);
      const text = new TextEncoder().encode("just some notes, not a tar\n".repeat(40));
      for (const { program, suffix } of COMPRESSORS) {
        await Deno.writeFile(join(context, `bundle.${suffix}`), await compress(program, tar));
        await Deno.writeFile(join(context, `notes.${program}`), await compress(program, text));
      }
      const root = { uid: 0, gid: 0 };
      for (const { program, suffix } of COMPRESSORS) {
        const sources = resolveSources(context, [`bundle.${suffix}`], true);
        await copySources(rootfs, sources, `/${program}/`, root, true);
        assertEquals(
          await Deno.readTextFile(join(rootfs, program, "inner/file.txt")),
          "from the archive",
          `ADD of a ${suffix}`,
        );
        const notes = resolveSources(context, [`notes.${program}`], true);
        await copySources(rootfs, notes, "/notes/", root, true);
        assertEquals(
          await Deno.readFile(join(rootfs, "notes", `notes.${program}`)),
          await Deno.readFile(join(context, `notes.${program}`)),
          `a ${program} file that is not a tar is copied as it is`,
        );
      }
      // Damaged after a valid xz header: copied, as moby's isArchivePath would.
      const damaged = (await compress("xz", tar)).slice(0, 64);
      await Deno.writeFile(join(context, "damaged.tar.xz"), damaged);
      await copySources(
        rootfs,
        resolveSources(context, ["damaged.tar.xz"], true),
        "/d/",
        root,
        true,
      );
      assertEquals(await Deno.readFile(join(rootfs, "d/damaged.tar.xz")), damaged);
    } finally {
      for (const dir of [payload, context, rootfs]) await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "context: an xz or bzip2 compressed context tar is unpacked",
  ignore,
  async fn() {
    const payload = await writeContext({ "Dockerfile": "FROM busybox\n", "app/a.txt": "a" });
    const scratch = await Deno.makeTempDir();
    try {
      const tar = await tarOf(payload);
      for (const program of ["xz", "bzip2"]) {
        const body = ReadableStream.from([await compress(program, tar)]);
        const context = await extractContext(body, scratch, "Dockerfile");
        try {
          assertEquals(context.dockerfile, "FROM busybox\n");
          assertEquals(await Deno.readTextFile(join(context.root, "app/a.txt")), "a");
        } finally {
          await context.remove();
        }
      }
      // A broken xz stream is a clear context error, with xz's own message.
      const broken = (await compress("xz", tar)).slice(0, 200);
      await assertRejects(
        () => extractContext(ReadableStream.from([broken]), scratch, "Dockerfile"),
        Error,
        "cannot read the build context",
      );
    } finally {
      await Deno.remove(payload, { recursive: true });
      await Deno.remove(scratch, { recursive: true });
    }
  },
});

Deno.test({
  name: "decompress: a missing xz/bzip2 program is a clear error",
  fn() {
    const input = ReadableStream.from([new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0])]);
    const error = assertThrows(
      () => throughProgram(input, "xz", "mini-test-no-such-xz", "xz-utils"),
      MissingDecompressorError,
    );
    assertEquals(
      error.message,
      "cannot unpack this xz-compressed archive: the mini-test-no-such-xz program is not " +
        "installed on the daemon's host (Debian package xz-utils)",
    );
  },
});
