// What this teaches: unit tests of the build context: unpacking a (possibly hostile) tar,
// .dockerignore, resolving COPY sources without ever leaving the context (`..`, absolute
// paths, symlinks pointing out), globs, the content hash the cache uses (mtime excluded),
// and Docker's COPY destination rules.
// Mirrors moby's builder/remotecontext tests and builder/dockerfile/copy_test.go.

import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "../helpers/assert.ts";
import { missingRoot, requirements } from "../helpers/requirements.ts";
import { extractContext } from "../../lib/builder/context.ts";
import { ForbiddenPathError, resolveSources, sourcesHash } from "../../lib/builder/sources.ts";
import { copySources } from "../../lib/builder/copy.ts";
import { tarOf, tarOfEntries, writeContext } from "./support.ts";

const ignore = requirements("build context", missingRoot());

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return ReadableStream.from([bytes]);
}

Deno.test({
  name: "context: unpacks the tar, reads the Dockerfile, applies .dockerignore with exceptions",
  ignore,
  async fn() {
    const dir = await writeContext({
      "Dockerfile": "FROM busybox\n",
      ".dockerignore": "# comment\n*.log\n/secret/\n./docs\n!docs/keep.md\n",
      "app.txt": "app",
      "debug.log": "noise",
      "secret/key": "k",
      "docs/a.md": "a",
      "docs/keep.md": "keep",
    });
    const scratch = await Deno.makeTempDir();
    try {
      const context = await extractContext(streamOf(await tarOf(dir)), scratch, "Dockerfile");
      assertEquals(context.dockerfile, "FROM busybox\n");
      const exists = (path: string) =>
        Deno.lstat(join(context.root, path)).then(() => true, () => false);
      assert(await exists("app.txt"));
      assert(!(await exists("debug.log")), "*.log is ignored");
      assert(!(await exists("secret/key")), "secret/ is ignored");
      assert(!(await exists("docs/a.md")), "docs is ignored");
      assert(await exists("docs/keep.md"), "!docs/keep.md is an exception");
      await context.remove();
      assert(!(await Deno.lstat(context.root).then(() => true, () => false)));
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(scratch, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "context: a hostile tar cannot write outside, a missing Dockerfile is named, plain text is a Dockerfile",
  ignore,
  async fn() {
    const scratch = await Deno.makeTempDir();
    const outside = join(scratch, "..", `escaped-${crypto.randomUUID()}`);
    try {
      const escaping = await tarOfEntries([
        { name: "Dockerfile", body: "FROM busybox\n" },
        { name: `../${outside.split("/").pop()}`, body: "pwned" },
      ]);
      await assertRejects(
        () => extractContext(streamOf(escaping), scratch, "Dockerfile"),
        Error,
        "cannot read the build context",
      );
      assert(
        !(await Deno.lstat(outside).then(() => true, () => false)),
        "nothing was written outside",
      );
      const throughLink = await tarOfEntries([
        { name: "link", linkname: "/tmp" },
        { name: `link/escaped-${crypto.randomUUID()}`, body: "pwned" },
      ]);
      await assertRejects(() => extractContext(streamOf(throughLink), scratch, "Dockerfile"));
      const noDockerfile = await tarOfEntries([{ name: "a.txt", body: "a" }]);
      await assertRejects(
        () => extractContext(streamOf(noDockerfile), scratch, "Dockerfile"),
        Error,
        "Cannot locate specified Dockerfile: Dockerfile",
      );
      await assertRejects(
        () => extractContext(streamOf(noDockerfile), scratch, "../../etc/passwd"),
        Error,
        "must be within the build context",
      );
      const text = await extractContext(
        streamOf(new TextEncoder().encode("FROM busybox\nRUN true\n")),
        scratch,
        "Dockerfile",
      );
      assertEquals(text.dockerfile, "FROM busybox\nRUN true\n");
      await text.remove();
      // Every failed extraction removed its directory.
      assertEquals([...Deno.readDirSync(scratch)].length, 0);
    } finally {
      await Deno.remove(scratch, { recursive: true });
    }
  },
});

Deno.test({
  name: "sources: .., absolute paths and symlinks pointing out never leave the context",
  ignore,
  async fn() {
    const root = await writeContext({
      "a.txt": "a",
      "dir/b.txt": "b",
      "dir/c.md": "c",
      "out": { symlink: "/etc" },
      "up": { symlink: "../.." },
      "inside": { symlink: "dir/b.txt" },
    });
    try {
      assertThrows(
        () => resolveSources(root, ["../x"], true),
        ForbiddenPathError,
        "forbidden path outside the build context: ../x",
      );
      assertThrows(() => resolveSources(root, ["dir/../../x"], true), ForbiddenPathError);
      assertThrows(
        () => resolveSources(root, ["out/passwd"], true),
        ForbiddenPathError,
        "out is a symlink to /etc",
      );
      assertThrows(() => resolveSources(root, ["up/etc/passwd"], true), ForbiddenPathError);
      // An absolute source is relative to the context, as in Docker: /etc/passwd is not the host's.
      assertThrows(
        () => resolveSources(root, ["/etc/passwd"], true),
        Error,
        "file not found in build context",
      );
      assertEquals(resolveSources(root, ["/a.txt"], true)[0].path, join(root, "a.txt"));
      const inside = resolveSources(root, ["inside"], true);
      assertEquals(inside[0].path, join(root, "dir/b.txt"));
      assertEquals(inside[0].baseName, "inside");
      const globbed = resolveSources(root, ["dir/*.txt", "*.txt"], true).map((source) =>
        source.relative
      );
      assertEquals(globbed, ["dir/b.txt", "a.txt"]);
      assertThrows(
        () => resolveSources(root, ["*.none"], true),
        Error,
        "no source files were specified",
      );
      // Inside another image's rootfs, absolute symlinks resolve from its root instead.
      const image = await writeContext({
        "etc/passwd": "root:x:0:0::/root:/bin/sh\n",
        "link": { symlink: "/etc/passwd" },
      });
      assertEquals(resolveSources(image, ["link"], false)[0].path, join(image, "etc/passwd"));
      await Deno.remove(image, { recursive: true });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "sources: the content hash ignores mtimes and sees bytes, modes and names",
  ignore,
  async fn() {
    const root = await writeContext({ "a.txt": "a", "dir/b.txt": "b", "dir/c.txt": "c" });
    try {
      const hashOf = async (sources: string[]) =>
        await sourcesHash(resolveSources(root, sources, true));
      const file = await hashOf(["a.txt"]);
      const directory = await hashOf(["dir"]);
      const multi = await hashOf(["a.txt", "dir"]);
      assert(
        file.startsWith("file:") && directory.startsWith("dir:") && multi.startsWith("multi:"),
      );
      await Deno.utime(join(root, "a.txt"), 1, 1);
      await Deno.utime(join(root, "dir/b.txt"), 1, 1);
      assertEquals(await hashOf(["a.txt"]), file, "touching a file keeps its hash");
      assertEquals(await hashOf(["dir"]), directory);
      await Deno.writeTextFile(join(root, "dir/b.txt"), "B");
      assertNotEquals(await hashOf(["dir"]), directory, "a changed byte changes the hash");
      await Deno.chmod(join(root, "a.txt"), 0o755);
      assertNotEquals(await hashOf(["a.txt"]), file, "a changed mode changes the hash");
      await Deno.rename(join(root, "dir/c.txt"), join(root, "dir/d.txt"));
      const renamed = await hashOf(["dir"]);
      await Deno.rename(join(root, "dir/d.txt"), join(root, "dir/c.txt"));
      assertNotEquals(renamed, await hashOf(["dir"]), "a renamed file changes the hash");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "copy: Docker's destination rules, ownership, --chmod, and writes stay inside the rootfs",
  ignore,
  async fn() {
    const context = await writeContext({
      "a.txt": { text: "a", mode: 0o640 },
      "dir/b.txt": "b",
      "dir/sub/c.txt": "c",
    });
    const rootfs = await writeContext({ "existing/.keep": "", "escape": { symlink: "/tmp" } });
    try {
      const source = (paths: string[]) => resolveSources(context, paths, true);
      const root = { uid: 0, gid: 0 };
      await copySources(rootfs, source(["a.txt"]), "/new/name.txt", root, false);
      assertEquals(await Deno.readTextFile(join(rootfs, "new/name.txt")), "a");
      assertEquals((await Deno.stat(join(rootfs, "new/name.txt"))).mode! & 0o777, 0o640);
      await copySources(rootfs, source(["a.txt"]), "/existing", root, false);
      assertEquals(await Deno.readTextFile(join(rootfs, "existing/a.txt")), "a");
      await copySources(rootfs, source(["dir"]), "/contents/", {
        uid: 1000,
        gid: 1001,
        mode: 0o700,
      }, false);
      assertEquals(await Deno.readTextFile(join(rootfs, "contents/sub/c.txt")), "c");
      assert(
        !(await Deno.lstat(join(rootfs, "contents/dir")).then(() => true, () => false)),
        "a directory copies its contents",
      );
      const info = await Deno.stat(join(rootfs, "contents/b.txt"));
      assertEquals([info.uid, info.gid, info.mode! & 0o777], [1000, 1001, 0o700]);
      await copySources(rootfs, source(["a.txt", "dir/b.txt"]), "/several", root, false);
      assertEquals(await Deno.readTextFile(join(rootfs, "several/b.txt")), "b");
      // A symlink in the image cannot send the copy to the host.
      const marker = `mini-copy-${crypto.randomUUID()}`;
      await copySources(rootfs, source(["a.txt"]), `/escape/${marker}`, root, false);
      assert(
        !(await Deno.lstat(`/tmp/${marker}`).then(() => true, () => false)),
        "nothing written to the host's /tmp",
      );
      assertEquals(await Deno.readTextFile(join(rootfs, "tmp", marker)), "a");
      await assertRejects(
        () => copySources(rootfs, source(["dir"]), "/new/name.txt/x", root, false),
        Error,
        "not a directory",
      );
    } finally {
      await Deno.remove(context, { recursive: true });
      await Deno.remove(rootfs, { recursive: true });
    }
  },
});

Deno.test({
  name: "copy: ADD unpacks a local tar archive, COPY does not",
  ignore,
  async fn() {
    const payload = await writeContext({ "inner/file.txt": "from the archive" });
    const context = await writeContext({});
    await Deno.writeFile(join(context, "bundle.tar"), await tarOf(payload));
    const rootfs = await Deno.makeTempDir();
    try {
      const sources = resolveSources(context, ["bundle.tar"], true);
      await copySources(rootfs, sources, "/unpacked/", { uid: 0, gid: 0 }, true);
      assertEquals(
        await Deno.readTextFile(join(rootfs, "unpacked/inner/file.txt")),
        "from the archive",
      );
      await copySources(rootfs, sources, "/copied/", { uid: 0, gid: 0 }, false);
      assert((await Deno.stat(join(rootfs, "copied/bundle.tar"))).isFile);
    } finally {
      for (const dir of [payload, context, rootfs]) await Deno.remove(dir, { recursive: true });
    }
  },
});
