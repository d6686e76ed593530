// What this teaches: hostile and broken build contexts never read outside the context and
// never take the daemon down: a symlink pointing out of the context, `..`, an absolute
// source, a tar entry climbing out, a corrupt compressed body, bad Dockerfile syntax (the
// error names the line), and a file far bigger than what the daemon should hold in memory
// (streamed through: the daemon's peak RSS grows by much less than the file).
// Mirrors moby's integration/build/build_test.go and pkg/archive's breakout tests.

import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import type { TestDockerd } from "../helpers/dockerd.ts";
import {
  build,
  builderRequirements,
  buildOk,
  startDaemon,
  tarOfEntries,
  writeContext,
} from "./support.ts";

const ignore = builderRequirements("hostile build contexts");

async function alive(daemon: TestDockerd): Promise<void> {
  const ping = await daemon.api("GET", "/_ping");
  assertEquals(await ping.text(), "OK", "the daemon is still up");
}

/** Peak resident memory of the daemon process, in bytes. */
async function peakRss(daemon: TestDockerd): Promise<number> {
  const pid = (await Deno.readTextFile(daemon.paths.pidfile)).trim();
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return Number(match?.[1] ?? 0) * 1024;
}

Deno.test({
  name: "hostile contexts: symlinks out, .., absolute paths, escaping tar entries, bad bodies",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const daemon = await startDaemon();
    const contexts: string[] = [];
    const contextWith = async (dockerfile: string, files = {}) => {
      const dir = await writeContext({ "Dockerfile": dockerfile, ...files });
      contexts.push(dir);
      return dir;
    };
    try {
      const link = await build(
        daemon,
        await contextWith("FROM busybox\nCOPY link /stolen\n", {
          "link": { symlink: "/etc/passwd" },
        }),
      );
      assertEquals(
        link.error,
        "COPY failed: forbidden path outside the build context: link " +
          "(link is a symlink to /etc/passwd)",
      );
      const viaDir = await build(
        daemon,
        await contextWith("FROM busybox\nCOPY up/etc/passwd /stolen\n", {
          "up": { symlink: "../../../.." },
        }),
      );
      assertStringIncludes(viaDir.error ?? "", "forbidden path outside the build context");
      const dotdot = await build(daemon, await contextWith("FROM busybox\nCOPY ../x /x\n"));
      assertStringIncludes(
        dotdot.error ?? "",
        "COPY failed: forbidden path outside the build context: ../x",
      );
      const absolute = await build(
        daemon,
        await contextWith("FROM busybox\nCOPY /etc/shadow /x\n"),
      );
      assertStringIncludes(
        absolute.error ?? "",
        "COPY failed: file not found in build context or excluded by .dockerignore: stat /etc/shadow",
      );

      // A symlink *inside* a copied directory is copied as a symlink, never followed.
      const kept = await buildOk(
        daemon,
        await contextWith(
          "FROM busybox\nCOPY dir /dir/\nRUN test -L /dir/passwd && readlink /dir/passwd\n",
          { "dir/passwd": { symlink: "/etc/passwd" }, "dir/ok.txt": "ok" },
        ),
      );
      assertStringIncludes(kept.log, "/etc/passwd\n");

      const outsideName = `mini-build-escape-${crypto.randomUUID()}`;
      const escaping = await build(
        daemon,
        await tarOfEntries([
          { name: "Dockerfile", body: "FROM busybox\n" },
          { name: `../../../../tmp/${outsideName}`, body: "pwned" },
        ]),
      );
      assertStringIncludes(escaping.error ?? "", "cannot read the build context");
      assert(!(await Deno.lstat(`/tmp/${outsideName}`).then(() => true, () => false)));

      const corrupt = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
      const broken = await build(daemon, corrupt);
      assertEquals(broken.status, 400);
      assertStringIncludes(broken.error ?? "", "cannot read the build context");

      const syntax = await build(
        daemon,
        await contextWith("FROM busybox\nRUN echo a \\\n  b\n# comment\nCOPY onlyone\n"),
      );
      assertEquals(syntax.status, 400);
      assertStringIncludes(syntax.error ?? "", "dockerfile parse error line 5: COPY requires");
      await alive(daemon);
    } finally {
      for (const dir of contexts) await Deno.remove(dir, { recursive: true });
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "hostile contexts: a huge file is streamed through, not held in memory",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const daemon = await startDaemon();
    const context = await writeContext({ "Dockerfile": "FROM busybox\nCOPY big.bin /big.bin\n" });
    const size = 256 * 1024 * 1024;
    try {
      // Random-looking content (not zeros) so no layer of the pipeline can compress it away.
      const file = await Deno.open(join(context, "big.bin"), { write: true, create: true });
      const block = crypto.getRandomValues(new Uint8Array(65536));
      for (let written = 0; written < size; written += block.length) {
        block[0] = written & 0xff;
        await file.write(block);
      }
      file.close();
      const before = await peakRss(daemon);
      const tar = new Deno.Command("tar", {
        args: ["-C", context, "-cf", "-", "."],
        stdout: "piped",
      }).spawn();
      const response = await daemon.api("POST", "/v1.41/build?t=big", tar.stdout, {
        "Content-Type": "application/x-tar",
      });
      const text = await response.text();
      await tar.status;
      assert(!text.includes("errorDetail"), text);
      assertStringIncludes(text, "Successfully tagged big:latest");
      const growth = (await peakRss(daemon)) - before;
      assert(
        growth < size / 2,
        `the daemon's peak RSS grew by ${Math.round(growth / 1048576)} MiB for a 256 MiB file`,
      );
      const inspect = await daemon.api("GET", "/v1.41/images/big/json");
      const image = await inspect.json();
      assert(image.Size > size, "the layer holds the whole file");
      await alive(daemon);
    } finally {
      await Deno.remove(context, { recursive: true });
      await daemon.cleanup();
    }
  },
});
