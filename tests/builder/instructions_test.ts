// What this teaches: every Dockerfile instruction and build option against a real
// mini-dockerd: what each does to the image config, the exact `created_by` lines `docker
// history` shows, the files each layer holds (checked by running the result), build args
// and their `|N` prefix, ONBUILD triggers, --label, and the intermediate containers
// (removed after a successful step, kept after a failed RUN unless forcerm).
// Mirrors moby's builder/dockerfile/dispatchers_test.go and integration-cli's
// docker_cli_build_test.go.

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { run, type TestDockerd } from "../helpers/dockerd.ts";
import { freePort } from "../registry/support/registry.ts";
import {
  build,
  builderRequirements,
  buildOk,
  daemonBuildTest,
  historyOf,
  inspectImage,
  startDaemon,
  tarOf,
  writeContext,
} from "./support.ts";

const ignore = builderRequirements("builder instructions");

/** Runs `program args` in a fresh container of `image` (entrypoint replaced, as root). */
async function exec(daemon: TestDockerd, image: string, program: string, ...args: string[]) {
  const result = await run(
    "docker",
    ["run", "--rm", "--user", "0", "--entrypoint", program, image, ...args],
    {
      env: {
        DOCKER_HOST: daemon.dockerHost,
        DOCKER_CONFIG: join(daemon.paths.base, "docker-config"),
      },
    },
  );
  assertEquals(result.code, 0, `${program} ${args.join(" ")} in ${image}: ${result.stderr}`);
  return result.stdout;
}

async function containerIds(daemon: TestDockerd): Promise<string[]> {
  const response = await daemon.api("GET", "/v1.41/containers/json?all=1");
  return (await response.json()).map((container: { Id: string }) => container.Id);
}

const HEREDOC = "EOF";

const DOCKERFILE = `# every instruction
ARG BASE=busybox
FROM \${BASE} AS base
ARG V=1
ARG BASE
ENV FOO=bar GREETING="hello world"
LABEL a=b c="d e"
RUN echo "$V $FOO $BASE" > /run.txt
RUN <<${HEREDOC}
echo heredoc > /heredoc.txt
${HEREDOC}
COPY a.txt /a.txt
COPY dir /d/
COPY a.txt dir/sub/c.txt /m/
COPY --chown=nobody:nogroup --chmod=600 a.txt /owned.txt
COPY --chown=1000 a.txt /numeric.txt
COPY *.glob /globbed/
ADD bundle.tar /unpacked/
WORKDIR /app
WORKDIR sub
COPY a.txt relative.txt
RUN pwd > /pwd.txt
USER nobody
EXPOSE 80 443/udp
VOLUME /data
SHELL ["/bin/sh", "-ec"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=3 CMD true
ONBUILD RUN echo triggered > /tmp/onbuild.txt
ENTRYPOINT ["/bin/sh"]
CMD ["-c", "echo hi from \${FOO}"]
`;

Deno.test({
  name: "builder: every instruction, its config, its history line and its files",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const daemon = await startDaemon();
    const payload = await writeContext({ "inner/file.txt": "from the archive" });
    const context = await writeContext({
      "Dockerfile": DOCKERFILE,
      "a.txt": "a\n",
      "dir/b.txt": "b\n",
      "dir/sub/c.txt": "c\n",
      "x.glob": "x\n",
      "y.glob": "y\n",
    });
    try {
      await Deno.writeFile(join(context, "bundle.tar"), await tarOf(payload));
      const answer = await buildOk(daemon, context, {
        t: ["every:v1", "every:latest"],
        buildargs: JSON.stringify({ V: "2", NOPE: "x" }),
        labels: JSON.stringify({ extra: "yes" }),
      });
      assertStringIncludes(answer.log, "Step 1/28 : FROM ${BASE} AS base\n ---> ");
      assertStringIncludes(answer.log, "Step 28/28 : LABEL \"extra\"='yes'\n");
      assertStringIncludes(
        answer.log,
        "[Warning] One or more build-args [NOPE] were not consumed\n",
      );
      assertStringIncludes(
        answer.log,
        "Successfully tagged every:v1\nSuccessfully tagged every:latest\n",
      );
      assertMatch(answer.log, /Successfully built [0-9a-f]{12}\n/);
      assertMatch(
        answer.log,
        /Step 6\/28 : RUN echo "\$V \$FOO \$BASE" > \/run.txt\n ---> Running in ([0-9a-f]{12})\nRemoving intermediate container \1\n ---> [0-9a-f]{12}\n/,
      );
      assertEquals(await containerIds(daemon), [], "intermediate containers are removed");

      const image = await inspectImage(daemon, "every:v1");
      const config = image.Config as Record<string, unknown>;
      assertEquals(image.Id, answer.imageId);
      assertEquals(config.Env, [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "FOO=bar",
        "GREETING=hello world",
      ]);
      assertEquals(config.Labels, { a: "b", c: "d e", extra: "yes" });
      assertEquals(config.User, "nobody");
      assertEquals(config.ExposedPorts, { "443/udp": {}, "80/tcp": {} });
      assertEquals(config.Volumes, { "/data": {} });
      assertEquals(config.WorkingDir, "/app/sub");
      assertEquals(config.StopSignal, "SIGTERM");
      assertEquals(config.Healthcheck, { Test: ["CMD-SHELL", "true"], Interval: 5e9, Retries: 3 });
      assertEquals(config.OnBuild, ["RUN echo triggered > /tmp/onbuild.txt"]);
      assertEquals(config.Entrypoint, ["/bin/sh"]);
      assertEquals(config.Cmd, ["-c", "echo hi from ${FOO}"]);
      assertEquals(config.Shell, ["/bin/sh", "-ec"]);

      const history = (await historyOf(daemon, "every:v1")).map((row) => row.CreatedBy);
      const expected = [
        `/bin/sh -ec #(nop)  LABEL extra=yes`,
        `/bin/sh -ec #(nop)  CMD ["-c" "echo hi from \${FOO}"]`,
        `/bin/sh -ec #(nop)  ENTRYPOINT ["/bin/sh"]`,
        `/bin/sh -ec #(nop)  ONBUILD RUN echo triggered > /tmp/onbuild.txt`,
        `/bin/sh -ec #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" '\\x03'}`,
        `/bin/sh -ec #(nop)  STOPSIGNAL SIGTERM`,
        `/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]`,
        `/bin/sh -c #(nop)  VOLUME [/data]`,
        `/bin/sh -c #(nop)  EXPOSE 443/udp 80`,
        `/bin/sh -c #(nop)  USER nobody`,
        `|2 BASE=busybox V=2 /bin/sh -c pwd > /pwd.txt`,
      ];
      assertEquals(history.slice(0, expected.length), expected);
      const copyLine = (what: string) =>
        new RegExp(`^/bin/sh -c #\\(nop\\) ${what}:[0-9a-f]{64} in `);
      assertMatch(history[11], copyLine("COPY file"));
      assert(history[11].endsWith(" in /app/sub/relative.txt "));
      assertEquals(history[12], "/bin/sh -c #(nop) WORKDIR /app/sub");
      assertEquals(history[13], "/bin/sh -c #(nop) WORKDIR /app");
      assertMatch(history[14], copyLine("ADD file"));
      assertMatch(history[15], copyLine("COPY multi"));
      assertMatch(history[16], copyLine("COPY --chown=1000 file"));
      assertMatch(history[17], copyLine("COPY --chown=nobody:nogroup --chmod=600 file"));
      assertMatch(history[18], copyLine("COPY multi"));
      assertMatch(history[19], copyLine("COPY dir"));
      assertMatch(history[20], copyLine("COPY file"));
      assertEquals(history[21], "|2 BASE=busybox V=2 /bin/sh -c echo heredoc > /heredoc.txt\n");
      assertEquals(history[22], `|2 BASE=busybox V=2 /bin/sh -c echo "$V $FOO $BASE" > /run.txt`);
      assertEquals(history[23], `/bin/sh -c #(nop)  LABEL a=b c=d e`);
      assertEquals(history[24], `/bin/sh -c #(nop)  ENV FOO=bar GREETING=hello world`);
      assertEquals(history[25], `/bin/sh -c #(nop)  ARG BASE`);
      assertEquals(history[26], `/bin/sh -c #(nop)  ARG V=1`);

      const tag = "every:v1";
      assertEquals(await exec(daemon, tag, "/bin/cat", "/run.txt"), "2 bar busybox\n");
      assertEquals(await exec(daemon, tag, "/bin/cat", "/heredoc.txt"), "heredoc\n");
      assertEquals(
        await exec(daemon, tag, "/bin/cat", "/a.txt", "/d/b.txt", "/d/sub/c.txt"),
        "a\nb\nc\n",
      );
      assertEquals(await exec(daemon, tag, "/bin/ls", "/m"), "a.txt\nc.txt\n");
      assertEquals(
        await exec(daemon, tag, "/bin/stat", "-c", "%u:%g %a", "/owned.txt"),
        "65534:65534 600\n",
      );
      assertEquals(
        await exec(daemon, tag, "/bin/stat", "-c", "%u:%g", "/numeric.txt", "/a.txt"),
        "1000:1000\n0:0\n",
      );
      assertEquals(await exec(daemon, tag, "/bin/ls", "/globbed"), "x.glob\ny.glob\n");
      assertEquals(
        await exec(daemon, tag, "/bin/cat", "/unpacked/inner/file.txt"),
        "from the archive",
      );
      assertEquals(
        await exec(daemon, tag, "/bin/cat", "/pwd.txt", "/app/sub/relative.txt"),
        "/app/sub\na\n",
      );
      // ENTRYPOINT + CMD, run as USER nobody.
      const hi = await run("docker", ["run", "--rm", tag], {
        env: {
          DOCKER_HOST: daemon.dockerHost,
          DOCKER_CONFIG: join(daemon.paths.base, "docker-config"),
        },
      });
      assertEquals(hi.stdout, "hi from bar\n", hi.stderr);

      // A child image runs the ONBUILD trigger and does not inherit it.
      const child = await writeContext({ "Dockerfile": "FROM every:v1\nUSER root\n" });
      const childAnswer = await buildOk(daemon, child, { t: "child" });
      assertStringIncludes(childAnswer.log, "# Executing 1 build trigger\n");
      assertEquals(await exec(daemon, "child", "/bin/cat", "/tmp/onbuild.txt"), "triggered\n");
      assertEquals((await inspectImage(daemon, "child")).Config.OnBuild, null);
      await Deno.remove(child, { recursive: true });
    } finally {
      await Deno.remove(context, { recursive: true });
      await Deno.remove(payload, { recursive: true });
      await daemon.cleanup();
    }
  },
});

daemonBuildTest(
  "builder: multi-stage, --target, COPY --from a stage, an index and an image; scratch",
  ignore,
  {
    "Dockerfile": [
      "FROM busybox AS build",
      "RUN echo built > /artifact.txt",
      "FROM busybox AS other",
      "RUN echo other > /other.txt",
      "FROM scratch",
      "COPY --from=build /artifact.txt /artifact.txt",
      "COPY --from=0 /artifact.txt /again.txt",
      "COPY --from=busybox /bin/busybox /busybox",
      'ENTRYPOINT ["/busybox"]',
    ].join("\n"),
  },
  async (daemon, context) => {
    const full = await buildOk(daemon, context, { t: "multi" });
    assertStringIncludes(full.log, "Step 1/9 : FROM busybox AS build\n");
    assertStringIncludes(full.log, "Step 5/9 : FROM scratch\nStep 6/9 : COPY --from=build");
    assertEquals(
      await exec(daemon, "multi", "/busybox", "cat", "/artifact.txt", "/again.txt"),
      "built\nbuilt\n",
    );
    const history = await historyOf(daemon, "multi");
    assertEquals(history.length, 4, "a scratch stage holds only its own steps");
    assert(history.every((row) => row.Id.startsWith("sha256:")), "all steps are local");
    const inspect = await inspectImage(daemon, "multi");
    assertEquals((inspect.RootFS as { Layers: string[] }).Layers.length, 3);

    const target = await buildOk(daemon, context, { t: "only-build", target: "build" });
    assertStringIncludes(
      target.log,
      "Step 2/2 : RUN echo built > /artifact.txt\n ---> Using cache\n",
    );
    assert(!target.log.includes("other"), "stages after the target are not built");
    const missing = await build(daemon, context, { target: "nope" });
    assertStringIncludes(missing.error ?? "", "failed to reach build target nope in Dockerfile");
  },
);

Deno.test({
  name: "builder: a failing RUN gives its exit code and keeps its container unless forcerm",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const daemon = await startDaemon();
    const failing = await writeContext({
      "Dockerfile": "FROM busybox\nRUN echo out && echo err >&2 && exit 3\n",
    });
    const passing = await writeContext({
      "Dockerfile": "FROM busybox\nRUN echo ok > /ok\nENV A=1\n",
    });
    const offline = await writeContext({
      "Dockerfile": "FROM busybox\nADD https://example.com/x /x\n",
    });
    // A missing base image is pulled; nothing listens on that port, so the pull fails at
    // once (loopback only: a Docker Hub name would make the daemon look up its registry).
    const closedPort = freePort();
    const noBase = await writeContext({
      "Dockerfile": `FROM 127.0.0.1:${closedPort}/nosuchimage:1\n`,
    });
    const syntax = await writeContext({ "Dockerfile": "FROM busybox\n\nFROB x\n" });
    try {
      const failed = await build(daemon, failing);
      assertEquals(failed.status, 200);
      assertEquals(failed.errorCode, 3);
      assertEquals(
        failed.error,
        "The command '/bin/sh -c echo out && echo err >&2 && exit 3' returned a non-zero code: 3",
      );
      assertStringIncludes(failed.log, "out\n");
      assertStringIncludes(failed.log, "\u001b[91merr\n\u001b[0m");
      assertEquals((await containerIds(daemon)).length, 1, "the failed step's container is kept");
      await build(daemon, failing, { forcerm: "1" });
      assertEquals((await containerIds(daemon)).length, 1, "forcerm removed the second one");

      const kept = await buildOk(daemon, passing, { rm: "0" });
      assert(!kept.log.includes("Removing intermediate container"));
      assertEquals((await containerIds(daemon)).length, 2, "rm=0 keeps the RUN container");

      const url = await build(daemon, offline);
      assertStringIncludes(
        url.error ?? "",
        "ADD failed: https://example.com/x is a remote URL; mini builds offline",
      );
      assertStringIncludes(
        (await build(daemon, noBase)).error ?? "",
        `dial tcp 127.0.0.1:${closedPort}: connect: connection refused`,
      );
      const parse = await build(daemon, syntax);
      assertEquals(parse.status, 400);
      assertEquals(parse.error, "dockerfile parse error line 3: unknown instruction: FROB");
      const badTag = await build(daemon, passing, { t: "Bad:Tag:x" });
      assertEquals(badTag.status, 400);
      const digestTag = await build(daemon, passing, { t: `x@sha256:${"0".repeat(64)}` });
      assertEquals(digestTag.status, 400);
      assertStringIncludes(digestTag.error ?? "", "refusing to create a tag with a digest");
      const ping = await daemon.api("GET", "/_ping");
      assertEquals(await ping.text(), "OK", "the daemon is still up");
    } finally {
      for (const dir of [failing, passing, offline, noBase, syntax]) {
        await Deno.remove(dir, { recursive: true });
      }
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "builder: FROM by image ID from a meta ARG, by digest, --platform of this machine only",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const daemon = await startDaemon();
    const busybox = await inspectImage(daemon, "busybox:latest");
    const arch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
    const byId = await writeContext({
      "Dockerfile": `ARG BASE_ID\nFROM --platform=linux/${arch} \${BASE_ID}\nRUN echo by-id\n`,
    });
    const foreign = await writeContext({
      "Dockerfile": "FROM --platform=linux/s390x busybox:latest\nRUN true\n",
    });
    try {
      const answer = await buildOk(daemon, byId, {
        buildargs: JSON.stringify({ BASE_ID: busybox.Id as string }),
      });
      assertStringIncludes(
        answer.log,
        `Step 1/2 : FROM --platform=linux/${arch} \${BASE_ID}\n ---> ${
          (busybox.Id as string).slice(7, 19)
        }\n`,
      );
      assertStringIncludes(answer.log, "by-id\n");
      const refused = await build(daemon, foreign);
      assertStringIncludes(refused.error ?? "", "mini builds only for this machine's platform");

      // By digest: a pulled image carries `name@sha256:<manifest digest>` in
      // repositories.json; one is written here while the daemon is down.
      const digest = `sha256:${"ab".repeat(32)}`;
      await daemon.kill("SIGTERM");
      const repositories = join(daemon.paths.dataRoot, "image/overlay2/repositories.json");
      const references = JSON.parse(await Deno.readTextFile(repositories));
      references.Repositories.busybox[`busybox@${digest}`] = busybox.Id;
      await Deno.writeTextFile(repositories, JSON.stringify(references));
      await daemon.restart();
      const byDigest = await writeContext({
        "Dockerfile": `FROM busybox@${digest}\nHEALTHCHECK NONE\n`,
      });
      const pinned = await buildOk(daemon, byDigest);
      assertStringIncludes(pinned.log, ` ---> ${(busybox.Id as string).slice(7, 19)}\n`);
      assertEquals((await inspectImage(daemon, pinned.imageId)).Config.Healthcheck, {
        Test: ["NONE"],
      });
      await Deno.remove(byDigest, { recursive: true });
    } finally {
      await Deno.remove(byId, { recursive: true });
      await Deno.remove(foreign, { recursive: true });
      await daemon.cleanup();
    }
  },
});
