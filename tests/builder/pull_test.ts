// What this teaches: a FROM image that is not in mini-dockerd's store is pulled from its
// registry, as Docker's legacy builder does, with the `docker pull` progress lines in the
// build output; `pull=1` pulls even an image that is here. Against Debian's
// docker-registry on 127.0.0.1 holding busybox that one mini-dockerd pushed, built on a
// second, fresh daemon root (which also gets Docker Hub names from that registry as its
// registry-mirrors entry). A missing image or an unreachable registry ends the build with
// dockerd's error, and the daemon keeps serving.
// Mirrors the FROM-pull tests of moby's integration-cli/docker_cli_build_test.go.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { requirements } from "../helpers/requirements.ts";
import { TestDockerd } from "../helpers/dockerd.ts";
import { freePort, TestRegistry } from "../registry/support/registry.ts";
import {
  build,
  builderRequirements,
  buildOk,
  inspectImage,
  missingTool,
  startDaemon,
  writeContext,
} from "./support.ts";

const ignore = builderRequirements("builder pulls") ||
  requirements("builder pulls", missingTool("docker-registry"));

/** Pushes `name` (already tagged in `daemon`) to its registry through the Engine API. */
async function push(daemon: TestDockerd, name: string): Promise<void> {
  const response = await daemon.api("POST", `/v1.41/images/${name}/push?tag=latest`, undefined, {
    "X-Registry-Auth": "e30=",
  });
  const text = await response.text();
  if (!response.ok || text.includes("errorDetail")) throw new Error(`push ${name}: ${text}`);
}

/** The pull lines of a build answer (`status` messages), as `id: status`. */
function pullLines(messages: Record<string, unknown>[]): string[] {
  return messages.filter((message) => typeof message.status === "string").map((message) =>
    message.id === undefined ? String(message.status) : `${message.id}: ${message.status}`
  );
}

Deno.test({
  name: "builder: FROM pulls a missing base image, pull=1 pulls again, failures are clear",
  ignore,
  async fn() {
    const registry = await TestRegistry.start();
    const source = await startDaemon();
    let fresh: TestDockerd | undefined;
    const contexts: string[] = [];
    const context = async (dockerfile: string) => {
      const dir = await writeContext({ "Dockerfile": dockerfile });
      contexts.push(dir);
      return dir;
    };
    try {
      const name = `${registry.host}/busybox`;
      const tagged = await source.api(
        "POST",
        `/v1.41/images/busybox/tag?repo=${encodeURIComponent(name)}&tag=latest`,
      );
      assertEquals(tagged.status, 201, await tagged.text());
      await push(source, name);
      const busyboxId = (await inspectImage(source, "busybox")).Id;

      // Docker Hub names come from the daemon's mirror: this registry.
      const hubName = `${registry.host}/library/busybox`;
      const hubTagged = await source.api(
        "POST",
        `/v1.41/images/busybox/tag?repo=${encodeURIComponent(hubName)}&tag=latest`,
      );
      assertEquals(hubTagged.status, 201, await hubTagged.text());
      await push(source, hubName);

      fresh = await TestDockerd.start({
        config: {
          "shutdown-timeout": 1,
          bridge: "none",
          "registry-mirrors": [`http://${registry.host}`],
        },
      });
      const missing = await fresh.api("GET", `/v1.41/images/${name}/json`);
      await missing.body?.cancel();
      assertEquals(missing.status, 404, "the fresh root starts without the image");

      // Not here: pulled, with docker pull's lines between "Step 1/2" and " ---> <id>".
      const app = await context(`FROM ${name}\nRUN echo built > /built\n`);
      const first = await buildOk(fresh, app, { t: "pulled-app" });
      const lines = pullLines(first.messages);
      assert(lines.includes("latest: Pulling from busybox"), `pull lines: ${lines.join("\n")}`);
      assert(lines.some((line) => line.endsWith(": Pull complete")), lines.join("\n"));
      assert(
        lines.includes(`Status: Downloaded newer image for ${name}:latest`),
        lines.join("\n"),
      );
      const firstStatus = first.messages.findIndex((message) => message.status !== undefined);
      const stepOne = first.messages.findIndex((message) =>
        String(message.stream ?? "").startsWith("Step 1/2 : FROM")
      );
      const baseLine = first.messages.findIndex((message) =>
        String(message.stream ?? "").startsWith(" ---> ")
      );
      assert(stepOne < firstStatus && firstStatus < baseLine, "pull lines sit inside step 1");
      assertEquals((await inspectImage(fresh, name)).Id, busyboxId, "the same image arrived");
      assertEquals(
        (await inspectImage(fresh, "pulled-app")).Id,
        first.imageId,
        "the build went on from the pulled image",
      );

      // Here now: no pull, and the RUN step comes from the cache.
      const second = await buildOk(fresh, app);
      assertEquals(pullLines(second.messages), []);
      assertStringIncludes(second.log, " ---> Using cache");
      assertEquals(second.imageId, first.imageId);

      // pull=1: asks the registry again; the same image, so the cache still holds.
      const forced = await buildOk(fresh, app, { pull: "1" });
      const forcedLines = pullLines(forced.messages);
      assert(
        forcedLines.includes(`Status: Image is up to date for ${name}:latest`),
        forcedLines.join("\n"),
      );
      assertEquals(forced.imageId, first.imageId);

      // q=1 keeps the pull lines back too: only the image ID comes.
      const quiet = await buildOk(fresh, app, { pull: "1", q: "1" });
      assertEquals(pullLines(quiet.messages), []);
      assertEquals(quiet.log, `${first.imageId}\n`);

      // `FROM busybox` (docker.io/library/busybox) through the registry-mirrors setting.
      const fromHub = await buildOk(fresh, await context("FROM busybox\nENV HUB=1\n"));
      assert(
        pullLines(fromHub.messages).includes("Status: Downloaded newer image for busybox:latest"),
        pullLines(fromHub.messages).join("\n"),
      );
      assertEquals((await inspectImage(fresh, "busybox")).Id, busyboxId);

      // pull=1 fails the build when the registry does not have the image, even though
      // it is here under that name.
      const localName = `${registry.host}/only-here`;
      const tagLocal = await fresh.api(
        "POST",
        `/v1.41/images/${name}/tag?repo=${encodeURIComponent(localName)}&tag=latest`,
      );
      assertEquals(tagLocal.status, 201, await tagLocal.text());
      const onlyHere = await context(`FROM ${localName}\nENV A=1\n`);
      await buildOk(fresh, onlyHere);
      const notPulled = await build(fresh, onlyHere, { pull: "1" });
      assertEquals(notPulled.status, 200);
      assertStringIncludes(
        notPulled.error ?? "",
        `manifest for ${localName}:latest not found: manifest unknown`,
      );

      // A name the registry does not know, and a registry nobody listens on.
      const unknown = await build(fresh, await context(`FROM ${registry.host}/nosuch:v1\n`));
      assertEquals(unknown.status, 200);
      assertStringIncludes(unknown.log, "Step 1/1 : FROM");
      assertStringIncludes(
        unknown.error ?? "",
        `manifest for ${registry.host}/nosuch:v1 not found: manifest unknown`,
      );
      const closedPort = freePort(); // free a moment ago: nothing listens there
      const unreachable = await build(
        fresh,
        await context(`FROM 127.0.0.1:${closedPort}/busybox\n`),
      );
      assertStringIncludes(
        unreachable.error ?? "",
        `Get "http://127.0.0.1:${closedPort}/v2/": dial tcp 127.0.0.1:${closedPort}: ` +
          "connect: connection refused",
      );

      // mini-docker shows the pull as docker does.
      const cli = await fresh.miniDocker(["build", "--pull", "-t", "cli-app", app]);
      assertEquals(cli.code, 0, cli.stderr);
      assertStringIncludes(cli.stdout, "latest: Pulling from busybox");
      assertStringIncludes(cli.stdout, `Status: Image is up to date for ${name}:latest`);

      const ping = await fresh.api("GET", "/_ping");
      assertEquals(await ping.text(), "OK", "the daemon is still up");
    } finally {
      for (const dir of contexts) await Deno.remove(dir, { recursive: true });
      await fresh?.cleanup();
      await source.cleanup();
      await registry.stop();
    }
  },
});
