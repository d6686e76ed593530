// What this teaches: the real docker CLI (`DOCKER_BUILDKIT=0 docker build`, the legacy
// builder path) against mini-dockerd: the streamed log, `-q` printing only the image ID, a
// failing RUN's exit code becoming the CLI's, `-f`, `--build-arg`, `--target`,
// `--no-cache`, a Dockerfile on stdin, and `docker history` of the result (IDs for the
// built steps, `<missing>` for the base image's layers).
// Mirrors moby's integration-cli/docker_cli_build_test.go.

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";
import { missingOverlay, missingRoot } from "../helpers/requirements.ts";
import { run } from "../helpers/dockerd.ts";
import { daemonBuildTest, inspectImage, legacyDocker } from "./support.ts";

const ignore = requirements(
  "docker build against mini-dockerd",
  missingRoot(),
  missingOverlay(),
  missingTool("busybox"),
  missingTool("docker"),
);

daemonBuildTest(
  "docker CLI: docker build with and without -q, a failing RUN's exit code, history",
  ignore,
  {
    "Dockerfile": [
      "FROM busybox",
      "RUN echo hello > /hello.txt",
      "COPY a.txt /a.txt",
      "ENV FOO=bar",
      'CMD ["cat","/hello.txt"]',
    ].join("\n"),
    "Dockerfile.fail": "FROM busybox\nRUN echo visible-output && exit 3\n",
    "Dockerfile.args": "FROM busybox AS first\nARG V=1\nRUN echo value=$V\nFROM first AS second\n",
    ".dockerignore": "skip.txt\n",
    "a.txt": "abc\n",
    "skip.txt": "ignored\n",
  },
  async (daemon, context) => {
    const built = await legacyDocker(daemon, ["build", "-t", "cli/built:v1", context]);
    assertEquals(built.code, 0, built.stderr);
    assertStringIncludes(built.stdout, "Sending build context to Docker daemon");
    assertStringIncludes(built.stdout, "Step 1/5 : FROM busybox\n ---> ");
    assertMatch(
      built.stdout,
      /Step 2\/5 : RUN echo hello > \/hello.txt\n ---> Running in [0-9a-f]{12}\n/,
    );
    assertMatch(
      built.stdout,
      /Successfully built ([0-9a-f]{12})\nSuccessfully tagged cli\/built:v1\n/,
    );
    const image = await inspectImage(daemon, "cli/built:v1");
    const short = (image.Id as string).slice(7, 19);
    assertStringIncludes(built.stdout, `Successfully built ${short}\n`);

    const quiet = await legacyDocker(daemon, ["build", "-q", "-t", "cli/built:v2", context]);
    assertEquals(quiet.code, 0, quiet.stderr);
    assertEquals(quiet.stdout, `${image.Id}\n`, "-q prints only the (cached) image ID");

    const history = await legacyDocker(daemon, [
      "history",
      "--no-trunc",
      "--format",
      "{{.ID}}|{{.CreatedBy}}",
      "cli/built:v1",
    ]);
    const rows = history.stdout.trim().split("\n").map((line) => line.split("|"));
    assertEquals(rows.length, 6);
    assertEquals(rows[0], [image.Id as string, '/bin/sh -c #(nop)  CMD ["cat" "/hello.txt"]']);
    assertEquals(rows[3][1], "/bin/sh -c echo hello > /hello.txt");
    assert(rows[3][0].startsWith("sha256:"), "a built step has its ID");
    assertEquals(rows[5][0], "<missing>", "the base image's first layer has no local image");

    const ran = await run("docker", ["run", "--rm", "cli/built:v1"], {
      env: { DOCKER_HOST: daemon.dockerHost, DOCKER_CONFIG: join(daemon.paths.base, "cfg") },
    });
    assertEquals(ran.stdout, "hello\n");
    const ignored = await run("docker", ["run", "--rm", "cli/built:v1", "ls", "/"], {
      env: { DOCKER_HOST: daemon.dockerHost, DOCKER_CONFIG: join(daemon.paths.base, "cfg") },
    });
    assert(!ignored.stdout.includes("skip.txt"));

    const failed = await legacyDocker(daemon, [
      "build",
      "-f",
      join(context, "Dockerfile.fail"),
      context,
    ]);
    assertEquals(failed.code, 3, "the RUN's exit code is the CLI's");
    assertStringIncludes(failed.stdout, "visible-output\n");
    assertStringIncludes(
      failed.stderr,
      "The command '/bin/sh -c echo visible-output && exit 3' returned a non-zero code: 3",
    );
    const failedQuiet = await legacyDocker(daemon, [
      "build",
      "-q",
      "-f",
      join(context, "Dockerfile.fail"),
      context,
    ]);
    assertEquals(failedQuiet.code, 3);
    assertStringIncludes(failedQuiet.stderr, "Step 2/2 : RUN echo visible-output && exit 3");

    const args = await legacyDocker(daemon, [
      "build",
      "--no-cache",
      "--build-arg",
      "V=7",
      "--target",
      "first",
      "-f",
      join(context, "Dockerfile.args"),
      context,
    ]);
    assertEquals(args.code, 0, args.stderr);
    assertStringIncludes(args.stdout, "value=7\n");
    assert(!args.stdout.includes("Using cache"));
    assertStringIncludes(args.stdout, "Step 3/3 :");

    const stdin = await run("/usr/local/bin/docker", ["build", "-t", "from-stdin", "-"], {
      stdin: new TextEncoder().encode("FROM busybox\nRUN echo from-stdin\n"),
      env: {
        DOCKER_HOST: daemon.dockerHost,
        DOCKER_CONFIG: join(daemon.paths.base, "cfg"),
        DOCKER_BUILDKIT: "0",
      },
    });
    assertEquals(stdin.code, 0, stdin.stderr);
    assertStringIncludes(stdin.stdout, "from-stdin\n");

    await Deno.writeTextFile(join(context, "Dockerfile.bad"), "FROM busybox\nBOGUS x\n");
    const syntax = await legacyDocker(daemon, [
      "build",
      "-f",
      join(context, "Dockerfile.bad"),
      context,
    ]);
    assertEquals(syntax.code, 1);
    assertStringIncludes(
      syntax.stderr,
      "Error response from daemon: dockerfile parse error line 2: unknown instruction: BOGUS",
    );
  },
);
