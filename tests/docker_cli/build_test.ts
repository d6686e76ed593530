// Tests of `mini-docker build`'s client side: what goes into the context tar (and what
// .dockerignore keeps out), how a Dockerfile outside the context travels, the query it
// sends, how the daemon's JSON stream is printed, and the exit codes. A small fake
// daemon on a Unix socket records the request and answers with canned NDJSON, so the
// checks do not depend on the builder. One test sends the same context with the real
// docker CLI to the same fake and compares the two tars entry by entry.

import { join } from "node:path";
import {
  type CliEnvironment,
  MemoryInput,
  MemoryOutput,
  runDocker,
} from "../../lib/docker_cli/mod.ts";
import { parseDockerignore } from "../../lib/builder/dockerignore.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { requirements } from "../helpers/requirements.ts";
import { missingDocker28 } from "./support.ts";
import { containerTestIgnored, withDaemon } from "../dockerd/containers_fixture.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;
const decoder = new TextDecoder();

/** One entry of a ustar archive, read by hand (an independent check of the writer). */
interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  text: string;
}

function octal(block: Uint8Array, start: number, length: number): number {
  const text = decoder.decode(block.subarray(start, start + length)).replace(/\0.*$/s, "").trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function field(block: Uint8Array, start: number, length: number): string {
  return decoder.decode(block.subarray(start, start + length)).replace(/\0.*$/s, "");
}

/** Parses a plain ustar stream; fails on anything unexpected. */
function readTar(bytes: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + 512 <= bytes.length) {
    const block = bytes.subarray(offset, offset + 512);
    if (block.every((byte) => byte === 0)) break;
    const prefix = field(block, 345, 155);
    const name = (prefix ? `${prefix}/` : "") + field(block, 0, 100);
    const size = octal(block, 124, 12);
    const typeflag = String.fromCharCode(block[156] || 0x30);
    const type = { "0": "file", "1": "link", "2": "symlink", "5": "directory" }[typeflag] ??
      `type ${typeflag}`;
    const data = bytes.subarray(offset + 512, offset + 512 + size);
    entries.push({
      name,
      type,
      mode: octal(block, 100, 8) & 0o7777,
      uid: octal(block, 108, 8),
      gid: octal(block, 116, 8),
      size,
      linkname: field(block, 157, 100),
      text: decoder.decode(data),
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** What the fake daemon received for one POST /build. */
interface RecordedBuild {
  path: string;
  query: URLSearchParams;
  headers: Headers;
  entries: TarEntry[];
}

/** A fake daemon that records build requests and answers with `reply`. */
interface FakeBuildDaemon {
  socket: string;
  builds: RecordedBuild[];
  close(): Promise<void>;
}

type Reply = (build: RecordedBuild) => Response;

function ndjson(messages: unknown[]): Response {
  return new Response(messages.map((message) => JSON.stringify(message) + "\n").join(""), {
    headers: { "Content-Type": "application/json" },
  });
}

const IMAGE_ID = "sha256:" + "ab12".repeat(16);

/** The answer of a successful legacy build (as in the recorded build trace). */
const successReply: Reply = (build) =>
  build.query.get("q") === "1" ? ndjson([{ stream: `${IMAGE_ID}\n` }]) : ndjson([
    { stream: "Step 1/2 : FROM busybox" },
    { stream: "\n" },
    { stream: " ---> 74eee1d3762b\n" },
    { stream: "Step 2/2 : COPY a.txt /a.txt" },
    { stream: "\n" },
    { stream: " ---> ab12ab12ab12\n" },
    { aux: { ID: IMAGE_ID } },
    { stream: "Successfully built ab12ab12ab12\n" },
    ...build.query.getAll("t").map((tag) => ({ stream: `Successfully tagged ${tag}\n` })),
  ]);

function startFakeDaemon(dir: string, reply: Reply): FakeBuildDaemon {
  const socket = join(dir, "fake.sock");
  const builds: RecordedBuild[] = [];
  const server = Deno.serve(
    { path: socket, transport: "unix", onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/_ping") {
        return new Response(request.method === "HEAD" ? null : "OK", {
          headers: { "Api-Version": "1.41", "Ostype": "linux" },
        });
      }
      if (/^\/v[\d.]+\/build$/.test(url.pathname) && request.method === "POST") {
        const body = new Uint8Array(await request.arrayBuffer());
        const build: RecordedBuild = {
          path: url.pathname,
          query: url.searchParams,
          headers: request.headers,
          entries: readTar(body),
        };
        builds.push(build);
        return reply(build);
      }
      return new Response(JSON.stringify({ message: `no route ${url.pathname}` }), {
        status: 404,
        headers: { "Content-Type": "application/json" },
      });
    },
  );
  return { socket, builds, close: () => server.shutdown() };
}

const noSignals = { listen: () => () => {} };

/** Runs mini-docker in this process against the fake daemon. */
async function miniDocker(socket: string, args: string[], stdin?: Uint8Array) {
  const out = new MemoryOutput();
  const err = new MemoryOutput();
  const environment: CliEnvironment = {
    in: new MemoryInput(stdin ?? new Uint8Array()),
    out,
    err,
    env: () => undefined,
    signals: noSignals,
  };
  const code = await runDocker(["-H", `unix://${socket}`, ...args], environment);
  return { code, stdout: out.text(), stderr: err.text() };
}

/** Writes a tree of files: names ending in "/" are directories. */
async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, contents] of Object.entries(files)) {
    const path = join(root, name);
    if (name.endsWith("/")) {
      await Deno.mkdir(path, { recursive: true });
      continue;
    }
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(path, contents);
  }
}

async function withFake(
  reply: Reply,
  body: (fake: FakeBuildDaemon, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "mdbuild-" });
  const fake = startFakeDaemon(dir, reply);
  try {
    await body(fake, dir);
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A context that exercises .dockerignore: comments, globs, a directory, an exception. */
const IGNORE_CONTEXT: Record<string, string> = {
  ".dockerignore": "# build output and secrets\n*.log\nsecret\n!secret/keep.txt\n" +
    "/tmp?\nDockerfile\n.dockerignore\n",
  "Dockerfile": "FROM busybox\nCOPY a.txt /a.txt\n",
  "a.txt": "abc\n",
  "app.log": "top-level log: excluded\n",
  "sub/app.log": "a nested log: *.log only matches at the top\n",
  "secret/drop.txt": "excluded with its directory\n",
  "secret/keep.txt": "brought back by the exception\n",
  "tmp1": "excluded by /tmp?\n",
  "tmpdir/": "",
};

Deno.test("build: parseDockerignore reads patterns like moby's ignorefile.ReadAll", () => {
  assertEquals(
    parseDockerignore("# comment\n\n  spaced  \n/rooted/x\n!keep\n! spaced-keep\na/../b\n./c\r\n"),
    ["spaced", "rooted/x", "!keep", "!spaced-keep", "b", "c"],
  );
});

Deno.test("build: the context tar honours .dockerignore and still carries Dockerfile and .dockerignore", async () => {
  await withFake(successReply, async (fake, dir) => {
    const context = join(dir, "context");
    await writeTree(context, IGNORE_CONTEXT);
    await Deno.chmod(join(context, "a.txt"), 0o640);
    const iidfile = join(dir, "image-id");
    const result = await miniDocker(fake.socket, [
      "build",
      "-t",
      "web:v1",
      "--iidfile",
      iidfile,
      context,
    ]);
    assertEquals(result.code, 0, result.stderr);
    assertEquals(await Deno.readTextFile(iidfile), IMAGE_ID, "--iidfile gets the aux ID");
    const [build] = fake.builds;
    assertEquals(build.entries.map((entry) => entry.name), [
      ".dockerignore",
      "Dockerfile",
      "a.txt",
      "secret/keep.txt",
      "sub/",
      "sub/app.log",
      "tmpdir/",
    ]);
    const file = build.entries.find((entry) => entry.name === "a.txt")!;
    assertEquals([file.type, file.mode, file.uid, file.gid, file.text], [
      "file",
      0o640,
      0,
      0,
      "abc\n",
    ]);
    assertEquals(build.entries.find((entry) => entry.name === "sub/")?.type, "directory");
    assertEquals(build.path, "/v1.41/build");
    assertEquals(build.query.get("dockerfile"), "Dockerfile");
    assertEquals(build.query.getAll("t"), ["web:v1"]);
    assertEquals(build.query.get("version"), "1");
    assertEquals(build.query.has("q"), false);
    assertEquals(build.headers.get("content-type"), "application/x-tar");
    assertEquals(build.headers.get("x-registry-config"), "e30=");
    // The stream is printed as docker prints it; aux messages are not shown.
    assertMatch(result.stdout, /^Sending build context to Docker daemon +[\d.]+kB\r\r\n/);
    assertStringIncludes(
      result.stdout,
      "Step 1/2 : FROM busybox\n ---> 74eee1d3762b\nStep 2/2 : COPY a.txt /a.txt\n",
    );
    assertStringIncludes(
      result.stdout,
      "Successfully built ab12ab12ab12\nSuccessfully tagged web:v1\n",
    );
    assert(!result.stdout.includes("aux"), "aux messages are not printed");
  });
});

Deno.test({
  name: "build: mini-docker and the real docker CLI send the same context tar",
  ignore: requirements("build: tar vs docker CLI", missingDocker28()),
  async fn() {
    await withFake(successReply, async (fake, dir) => {
      const context = join(dir, "context");
      await writeTree(context, IGNORE_CONTEXT);
      await Deno.symlink("a.txt", join(context, "link-to-a"));
      await Deno.link(join(context, "a.txt"), join(context, "hardlink-to-a"));
      const mini = await miniDocker(fake.socket, ["build", "-t", "cmp:v1", context]);
      assertEquals(mini.code, 0, mini.stderr);
      const real = await new Deno.Command("docker", {
        args: ["build", "-t", "cmp:v1", context],
        env: {
          DOCKER_HOST: `unix://${fake.socket}`,
          DOCKER_CONFIG: join(dir, "docker-config"),
          DOCKER_BUILDKIT: "0",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(real.code, 0, decoder.decode(real.stderr));
      const [fromMini, fromDocker] = fake.builds;
      const comparable = (entries: TarEntry[]) =>
        entries.map(({ name, type, mode, uid, gid, size, linkname, text }) => ({
          name,
          type,
          mode,
          uid,
          gid,
          size,
          linkname,
          text,
        }));
      assertEquals(comparable(fromMini.entries), comparable(fromDocker.entries));
      assertEquals(
        [...fromMini.query.entries()].sort(),
        [...fromDocker.query.entries()].sort(),
        "the same query",
      );
      assertEquals(normalizeSize(mini.stdout), normalizeSize(decoder.decode(real.stdout)));
    });
  },
});

/** The context size differs a little (docker counts what its reader saw, not the tar). */
function normalizeSize(text: string): string {
  return text.replace(/daemon +[\d.]+kB/, "daemon N");
}

Deno.test("build: -f outside the context travels under a hidden name listed in .dockerignore", async () => {
  await withFake(successReply, async (fake, dir) => {
    const context = join(dir, "context");
    await writeTree(context, { "a.txt": "abc\n", ".dockerignore": "*.log" });
    const outside = join(dir, "elsewhere", "Dockerfile.web");
    await writeTree(dir, { "elsewhere/Dockerfile.web": "FROM busybox\nRUN echo outside\n" });
    const result = await miniDocker(fake.socket, ["build", "-f", outside, context]);
    assertEquals(result.code, 0, result.stderr);
    const [build] = fake.builds;
    const hidden = build.query.get("dockerfile")!;
    assertMatch(hidden, /^\.dockerfile\.[0-9a-f]{20}$/);
    assertEquals(build.entries.map((entry) => entry.name), [".dockerignore", "a.txt", hidden]);
    assertEquals(build.entries[2].text, "FROM busybox\nRUN echo outside\n");
    assertEquals(build.entries[0].text, `*.log\n${hidden}\n`);

    // Without a .dockerignore, one is made that hides both.
    await Deno.remove(join(context, ".dockerignore"));
    assertEquals((await miniDocker(fake.socket, ["build", "-f", outside, context])).code, 0);
    const second = fake.builds[1];
    const secondHidden = second.query.get("dockerfile")!;
    assertEquals(second.entries.map((entry) => entry.name), [
      "a.txt",
      ".dockerignore",
      secondHidden,
    ]);
    assertEquals(second.entries[1].text, `.dockerignore\n${secondHidden}\n`);

    // `-f -`: the Dockerfile comes from stdin and travels the same way.
    const fromStdin = await miniDocker(
      fake.socket,
      ["build", "-f", "-", context],
      new TextEncoder().encode("FROM busybox\nRUN echo stdin\n"),
    );
    assertEquals(fromStdin.code, 0, fromStdin.stderr);
    const third = fake.builds[2];
    const thirdHidden = third.query.get("dockerfile")!;
    assertMatch(thirdHidden, /^\.dockerfile\.[0-9a-f]{20}$/);
    assertEquals(
      third.entries.find((entry) => entry.name === thirdHidden)?.text,
      "FROM busybox\nRUN echo stdin\n",
    );
  });
});

Deno.test("build: -f is relative to the current directory, and may name a file inside the context", async () => {
  await withFake(successReply, async (fake, dir) => {
    await writeTree(dir, {
      "app/Dockerfile.dev": "FROM busybox\nRUN echo inside\n",
      "app/a.txt": "abc\n",
    });
    // Spawned with its own working directory: `-f app/Dockerfile.dev app` from `dir`.
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--quiet",
        join(repoRoot, "cmd/mini_docker.ts"),
        "-H",
        `unix://${fake.socket}`,
        "build",
        "-f",
        "app/Dockerfile.dev",
        "app",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(child.code, 0, decoder.decode(child.stderr));
    const [build] = fake.builds;
    assertEquals(build.query.get("dockerfile"), "Dockerfile.dev");
    assertEquals(build.entries.map((entry) => entry.name), ["Dockerfile.dev", "a.txt"]);
  });
});

Deno.test("build: a Dockerfile on stdin (`build -`) becomes a one-file context", async () => {
  await withFake(successReply, async (fake) => {
    const dockerfile = new TextEncoder().encode("FROM busybox\nRUN echo from-stdin\n");
    const result = await miniDocker(fake.socket, ["build", "-q", "-"], dockerfile);
    assertEquals(result.code, 0, result.stderr);
    const [build] = fake.builds;
    assertEquals(build.entries.map((entry) => [entry.name, entry.text]), [
      ["Dockerfile", "FROM busybox\nRUN echo from-stdin\n"],
    ]);
  });
});

Deno.test("build: a tar on stdin (`build -`) is sent as it is", async () => {
  await withFake(successReply, async (fake, dir) => {
    await writeTree(dir, { "ctx/Dockerfile": "FROM busybox\n", "ctx/a.txt": "abc\n" });
    const tar = await new Deno.Command("tar", {
      args: ["-C", join(dir, "ctx"), "-cf", "-", "Dockerfile", "a.txt"],
      stdout: "piped",
    }).output();
    assert(tar.success, "tar made an archive");
    const result = await miniDocker(fake.socket, ["build", "-"], tar.stdout);
    assertEquals(result.code, 0, result.stderr);
    const [build] = fake.builds;
    assertEquals(build.query.get("dockerfile"), "Dockerfile");
    assertEquals(build.entries.map((entry) => [entry.name, entry.text]), [
      ["Dockerfile", "FROM busybox\n"],
      ["a.txt", "abc\n"],
    ]);
  });
});

Deno.test("build: flags become the query (build args, no-cache, pull, target, quiet)", async () => {
  await withFake(successReply, async (fake, dir) => {
    await writeTree(dir, { "ctx/Dockerfile": "FROM busybox\n" });
    const result = await miniDocker(fake.socket, [
      "build",
      "-q",
      "--no-cache",
      "--pull",
      "--target",
      "final",
      "--build-arg",
      "VERSION=1.2",
      "--build-arg",
      "UNSET_ARG",
      "--label",
      "course=mini",
      "-t",
      "a:1",
      "-t",
      "b",
      join(dir, "ctx"),
    ]);
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout, `${IMAGE_ID}\n`, "-q prints only the image ID");
    assertEquals(result.stderr, "");
    const { query } = fake.builds[0];
    assertEquals(query.get("q"), "1");
    assertEquals(query.get("nocache"), "1");
    assertEquals(query.get("pull"), "1");
    assertEquals(query.get("target"), "final");
    assertEquals(JSON.parse(query.get("buildargs")!), { VERSION: "1.2", UNSET_ARG: null });
    assertEquals(JSON.parse(query.get("labels")!), { course: "mini" });
    assertEquals(query.getAll("t"), ["a:1", "b"]);
  });
});

const failingReply: Reply = () =>
  ndjson([
    { stream: "Step 1/2 : FROM busybox" },
    { stream: "\n" },
    { stream: " ---> 74eee1d3762b\n" },
    { stream: "Step 2/2 : RUN exit 3" },
    { stream: "\n" },
    { stream: " ---> Running in 50ec4f9afd1a\n" },
    {
      errorDetail: {
        code: 3,
        message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
      },
      error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    },
  ]);

Deno.test("build: a failing step exits with its code and prints the daemon's message", async () => {
  await withFake(failingReply, async (fake, dir) => {
    await writeTree(dir, { "ctx/Dockerfile": "FROM busybox\nRUN exit 3\n" });
    const loud = await miniDocker(fake.socket, ["build", join(dir, "ctx")]);
    assertEquals(loud.code, 3);
    assertStringIncludes(loud.stdout, "Step 2/2 : RUN exit 3\n ---> Running in 50ec4f9afd1a\n");
    assertEquals(loud.stderr, "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n");

    // -q held the output back; on failure it goes to stderr before the message.
    const quiet = await miniDocker(fake.socket, ["build", "-q", join(dir, "ctx")]);
    assertEquals(quiet.code, 3);
    assertEquals(quiet.stdout, "");
    assertMatch(
      quiet.stderr,
      /^Sending build context to Docker daemon +[\d.]+kB\r\r\nStep 1\/2 : FROM busybox\n[^]*Running in 50ec4f9afd1a\nThe command '\/bin\/sh -c exit 3' returned a non-zero code: 3\n$/,
    );
  });
});

Deno.test("build: errors without a code exit 1; daemon errors and bad contexts too", async () => {
  const reply: Reply = (build) =>
    build.query.get("dockerfile") === "Dockerfile.bad"
      ? new Response(
        JSON.stringify({ message: "dockerfile parse error line 2: unknown instruction: FOO" }),
        { status: 400, headers: { "Content-Type": "application/json" } },
      )
      : ndjson([{ errorDetail: { message: "no code here" }, error: "no code here" }]);
  await withFake(reply, async (fake, dir) => {
    await writeTree(dir, {
      "ctx/Dockerfile": "FROM busybox\n",
      "ctx/Dockerfile.bad": "FROM busybox\nFOO bar\n",
    });
    const noCode = await miniDocker(fake.socket, ["build", join(dir, "ctx")]);
    assertEquals([noCode.code, noCode.stderr], [1, "no code here\n"]);

    const parse = await miniDocker(fake.socket, [
      "build",
      "-f",
      join(dir, "ctx/Dockerfile.bad"),
      join(dir, "ctx"),
    ]);
    assertEquals(parse.code, 1);
    assertEquals(
      parse.stderr,
      "Error response from daemon: dockerfile parse error line 2: unknown instruction: FOO\n",
    );

    const missing = await miniDocker(fake.socket, ["build", join(dir, "nowhere")]);
    assertEquals(missing.code, 1);
    assertEquals(
      missing.stderr,
      `unable to prepare context: path "${join(dir, "nowhere")}" not found\n`,
    );
    const noDockerfile = await miniDocker(fake.socket, [
      "build",
      "-f",
      join(dir, "nofile"),
      join(dir, "ctx"),
    ]);
    assertEquals(noDockerfile.code, 1);
    assertStringIncludes(
      noDockerfile.stderr,
      `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${
        join(dir, "nofile")
      }: no such file or directory`,
    );
    const badTag = await miniDocker(fake.socket, ["build", "-t", "BAD", join(dir, "ctx")]);
    assertEquals(badTag.code, 125);
    assertStringIncludes(
      badTag.stderr,
      'invalid argument "BAD" for "-t, --tag" flag: invalid reference format: repository name (library/BAD) must be lowercase',
    );
    assertEquals(fake.builds.length, 2, "bad contexts and tags never reach the daemon");
  });
});

Deno.test({
  name: "build: against mini-dockerd, mini-docker prints what the real docker CLI prints",
  ignore: containerTestIgnored("build: mini-docker vs docker on mini-dockerd"),
  async fn() {
    await withDaemon({ config: { bridge: "none" } }, async (daemon) => {
      const context = join(daemon.paths.base, "context");
      await writeTree(context, {
        ".dockerignore": "secret.txt\n",
        "Dockerfile": "FROM busybox\nCOPY . /ctx/\nRUN ls /ctx && echo to-stderr >&2\n",
        "a.txt": "abc\n",
        "secret.txt": "never sent\n",
      });
      const real = await daemon.docker(["build", "-t", "parity:v1", context]);
      assertEquals(real.code, 0, real.stderr);
      const mini = await daemon.miniDocker(["build", "-t", "parity:v1", context]);
      assertEquals(mini.code, 0, mini.stderr);
      // The second build is all cache hits, so both print the same IDs.
      assertStringIncludes(mini.stdout, " ---> Using cache\n");
      const cached = await daemon.docker(["build", "-t", "parity:v1", context]);
      assertEquals(normalizeSize(mini.stdout), normalizeSize(cached.stdout));
      // .dockerignore kept secret.txt out of the context, so out of the image.
      assertStringIncludes(real.stdout, "Dockerfile\na.txt\n");
      assert(!real.stdout.includes("secret.txt"), "secret.txt was never sent");

      const quiet = await daemon.miniDocker(["build", "-q", context]);
      assertEquals(quiet.code, 0, quiet.stderr);
      assertMatch(quiet.stdout, /^sha256:[0-9a-f]{64}\n$/);
      const imageId = quiet.stdout.trim();
      assertEquals(
        (await daemon.docker(["build", "-q", context])).stdout.trim(),
        imageId,
        "both clients get the same image ID",
      );

      await Deno.writeTextFile(join(context, "Dockerfile"), "FROM busybox\nRUN exit 3\n");
      const failedMini = await daemon.miniDocker(["build", context]);
      const failedReal = await daemon.docker(["build", context]);
      assertEquals([failedMini.code, failedReal.code], [3, 3]);
      const message = "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n";
      assertEquals(failedMini.stderr, message);
      assert(failedReal.stderr.endsWith(message), failedReal.stderr);
    });
  },
});
