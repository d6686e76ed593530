// Executes every block of docs/course/*.md marked ```sh runnable [containerd|dockerd],
// so the course never drifts from the code. The blocks of one chapter run in order, in
// one work directory (their current directory and TMPDIR, with the offline image as
// busybox.tar), with the mini commands of this checkout first on PATH, and with the
// fixture they declare, shared by the chapter's blocks and started on first use:
//   containerd  a mini-containerd; MINI_CONTAINERD_ADDRESS and CONTAINERD_ROOT point at it
//   dockerd     a mini-dockerd ("bridge": "none") with its own mini-containerd;
//               DOCKER_HOST, MINI_DOCKER_HOST, DATA_ROOT, EXEC_ROOT and
//               MINI_CONTAINERD_ADDRESS point at them
// A block fails on its first failing command (bash -e -o pipefail); the error names
// docs/course/<chapter>:<line>, the block and its output. After each block, whatever it
// left running below the work directory is ended by PID and unmounted.

import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { REPO_ROOT, TestContainerd } from "../helpers/containerd.ts";
import { busyboxArchive, TestDockerd } from "../helpers/dockerd.ts";
import { sweepAndRemove, sweepBelow } from "../helpers/cleanup.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { extractRunnableBlocks, type RunnableBlock } from "./runnable_blocks.ts";

const COURSE = join(REPO_ROOT, "docs/course");
/** A block still running after this long is ended (SIGKILL) and reported as failed. */
const BLOCK_LIMIT_MS = 180_000;

/** The mini programs, run from this checkout (the installed wrappers may point elsewhere). */
const PROGRAMS: Record<string, string> = {
  "mini-containerd": "mini_containerd.ts",
  "mini-containerd-shim": "mini_containerd_shim.ts",
  "mini-ctr": "mini_ctr.ts",
  "mini-docker": "mini_docker.ts",
  "mini-dockerd": "mini_dockerd.ts",
  "mini-runc": "mini_runc.ts",
};

/** Programs a block may use that are not part of mini (the test needs them on PATH). */
const PEER_TOOLS = ["docker", "docker-registry", "skopeo", "jq", "curl", "busybox", "ps", "runc"];

/** True when the block runs `tool` (a word of its own: `docker` is not in `docker-registry`). */
function mentionsTool(block: RunnableBlock, tool: string): boolean {
  if (tool === "docker" && block.fixture === "dockerd") return true;
  return new RegExp(`(^|[\\s|;&($"])${tool}(?![-\\w])`, "m").test(block.script);
}

function courseBlocks(): RunnableBlock[] {
  const chapters = [...Deno.readDirSync(COURSE)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => entry.name)
    .sort();
  return chapters.flatMap((chapter) =>
    extractRunnableBlocks(chapter, Deno.readTextFileSync(join(COURSE, chapter)))
  );
}

/** The work directory, PATH and fixtures one chapter's blocks share. */
class ChapterEnvironment {
  #containerd?: TestContainerd;
  #dockerd?: TestDockerd;

  private constructor(readonly work: string, readonly bin: string) {}

  static async create(): Promise<ChapterEnvironment> {
    const work = await Deno.makeTempDir({ dir: "/tmp", prefix: "mdoc-" });
    const bin = join(work, ".bin");
    await Deno.mkdir(bin);
    for (const [name, file] of Object.entries(PROGRAMS)) {
      // The script is written under another name and installed by `install(1)`: this
      // process never holds the executable open for writing, so a child another test
      // thread forks meanwhile cannot make running it fail with ETXTBSY.
      const draft = join(work, `${name}.draft`);
      await Deno.writeTextFile(
        draft,
        `#!/bin/sh\nexec "${Deno.execPath()}" run --allow-all --quiet --no-prompt ` +
          `"${join(REPO_ROOT, "cmd", file)}" "$@"\n`,
      );
      const installed = await new Deno.Command("install", {
        args: ["-m", "755", draft, join(bin, name)],
      }).output();
      if (!installed.success) throw new Error(`install of the ${name} wrapper failed`);
      await Deno.remove(draft);
    }
    await Deno.copyFile(await busyboxArchive(), join(work, "busybox.tar"));
    return new ChapterEnvironment(work, bin);
  }

  async #fixtureVariables(block: RunnableBlock): Promise<Record<string, string>> {
    if (block.fixture === "containerd") {
      this.#containerd ??= await TestContainerd.start({
        base: await Deno.makeTempDir({ dir: "/tmp", prefix: "mdoc-c-" }),
      });
      return {
        MINI_CONTAINERD_ADDRESS: this.#containerd.paths.address,
        CONTAINERD_ROOT: this.#containerd.paths.root,
      };
    }
    if (block.fixture === "dockerd") {
      this.#dockerd ??= await TestDockerd.start({ config: { bridge: "none" } });
      const { dataRoot, execRoot } = this.#dockerd.paths;
      return {
        DOCKER_HOST: this.#dockerd.dockerHost,
        MINI_DOCKER_HOST: this.#dockerd.dockerHost,
        DOCKER_CONFIG: join(this.work, ".docker"),
        DATA_ROOT: dataRoot,
        EXEC_ROOT: execRoot,
        MINI_CONTAINERD_ADDRESS: this.#dockerd.containerdSocket,
      };
    }
    return {};
  }

  /** Runs one block; throws with its chapter and line, the block and its output on failure. */
  async run(block: RunnableBlock): Promise<void> {
    const where = `docs/course/${block.chapter}:${block.line}`;
    const file = join(this.work, `.block-${block.line}.sh`);
    const log = join(this.work, `.block-${block.line}.log`);
    // Output goes to a file, not a pipe: a daemon a block starts in the background keeps
    // the block's stdout open long after the block itself has ended.
    await Deno.writeTextFile(file, `exec >"${log}" 2>&1\nset -eo pipefail\n${block.script}`);
    const child = new Deno.Command("bash", {
      args: [file],
      cwd: this.work,
      clearEnv: true,
      env: {
        PATH: `${this.bin}:${Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`,
        HOME: Deno.env.get("HOME") ?? "/root",
        TMPDIR: this.work,
        NO_COLOR: "1",
        ...await this.#fixtureVariables(block),
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Not a timing assertion: a guard so that a block waiting forever fails instead of hanging.
    const guard = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* ended meanwhile */ }
    }, BLOCK_LIMIT_MS);
    const result = await child.status;
    clearTimeout(guard);
    // Blocks may start a daemon in the background and leave ending it to this sweep.
    await sweepBelow(this.work);
    if (result.code !== 0) {
      const output = await Deno.readTextFile(log).catch(() => "(no output)");
      throw new Error(
        `${where}: the block failed with exit status ${result.code}` +
          `${
            result.signal ? ` (${result.signal}; blocks are ended after ${BLOCK_LIMIT_MS} ms)` : ""
          }\n` +
          `--- block ---\n${block.script}--- output ---\n${output}`,
      );
    }
  }

  async cleanup(): Promise<void> {
    if (this.#containerd) {
      const base = this.#containerd.paths.base;
      await this.#containerd.kill("SIGTERM");
      await sweepBelow(base);
      await this.#containerd.cleanup();
    }
    await this.#dockerd?.cleanup();
    await sweepAndRemove(this.work);
  }
}

Deno.test("docs: runnable blocks are found with their line, fixture and dedented text", () => {
  const markdown = [
    "# A chapter", //                    1
    "```sh", //                          2 not marked
    "echo not run",
    "```",
    "1. An exercise:", //                5
    "   ```sh runnable containerd", //   6
    "   mini-ctr version",
    "   ```",
    "```sh runnable", //                 9
    "echo one",
    "  echo two",
    "```",
  ].join("\n");
  const blocks = extractRunnableBlocks("00-test.md", markdown);
  assertEquals(blocks, [
    { chapter: "00-test.md", line: 6, fixture: "containerd", script: "mini-ctr version\n" },
    { chapter: "00-test.md", line: 9, fixture: "none", script: "echo one\n  echo two\n" },
  ]);
  assertThrows(
    () => extractRunnableBlocks("x.md", "text\n```sh runnable postgres\nls\n```\n"),
    Error,
    "x.md:2: unknown runnable fixture",
  );
  assertThrows(
    () => extractRunnableBlocks("y.md", "```sh runnable\nls\n"),
    Error,
    "y.md:1: runnable block is not closed",
  );
});

const blocks = courseBlocks();

Deno.test("docs: the course marks runnable blocks in several chapters", () => {
  const chapters = new Set(blocks.map((block) => block.chapter));
  assert(blocks.length >= 6, `only ${blocks.length} runnable blocks in docs/course`);
  assert(chapters.size >= 4, `runnable blocks in only ${chapters.size} chapters`);
});

for (const chapter of [...new Set(blocks.map((block) => block.chapter))]) {
  const chapterBlocks = blocks.filter((block) => block.chapter === chapter);
  Deno.test({
    name: `docs: runnable blocks of ${chapter} (lines ${
      chapterBlocks.map((block) => block.line).join(", ")
    })`,
    ignore: requirements(
      `docs: ${chapter}`,
      missingRoot(),
      missingOverlay(),
      missingTool("bash"),
      ...PEER_TOOLS.filter((tool) => chapterBlocks.some((block) => mentionsTool(block, tool)))
        .map((tool) => missingTool(tool)),
    ),
    async fn() {
      const environment = await ChapterEnvironment.create();
      try {
        for (const block of chapterBlocks) await environment.run(block);
      } finally {
        await environment.cleanup();
      }
    },
  });
}
