// The daemon as a process: daemon.json problems stop it at start with dockerd's
// messages, "bridge": "none" leaves host and none, SIGHUP reloads debug/live-restore
// (and keeps the old settings when the file became invalid), the supervised
// mini-containerd is restarted when it dies and adopted after a dockerd crash, a
// second daemon on the same pidfile is refused, and bad requests get docker-style
// errors while the daemon stays up. Also: SIGHUP reloads log-level; shutdown is
// bounded by moby's max(shutdown-timeout, longest stop timeout + 5 s); an image whose
// registry cannot be reached fails at once with dockerd's dial error (tested only
// against closed loopback ports: no test resolves or reaches docker.io); Docker Hub
// images come from "registry-mirrors".

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { TestDockerd } from "../helpers/dockerd.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { freePort, TestRegistry } from "../registry/support/registry.ts";
import { loadDockerdConfig, shutdownLimitSeconds } from "../../lib/dockerd/config.ts";
import { describeDialFailure } from "../../lib/dockerd/distribution/registry_options.ts";

const ignore = requirements(
  "mini-dockerd daemon",
  missingRoot(),
  missingOverlay(),
  missingTool("docker"),
);
// No containers run in these tests: a short stop timeout keeps each daemon's shutdown
// (and so the cleanup) quick whatever the containers component does at shutdown.
const quickStop = { "shutdown-timeout": 1 };

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  attempts = 400,
): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

Deno.test({
  name: "bad daemon.json stops the daemon at start with dockerd's message",
  ignore,
  async fn() {
    const unknown = await TestDockerd.startExpectingFailure({
      config: { debug: true, foo: "bar" },
    });
    assertEquals(unknown.code, 1);
    assertMatch(
      unknown.stderr,
      /unable to configure the Docker daemon with file \S+daemon\.json: the following directives don't match any configuration option: foo/,
    );
    const invalid = await TestDockerd.startExpectingFailure({ config: '{\n  "debug": true,\n}' });
    assertEquals(invalid.code, 1);
    assertStringIncludes(invalid.stderr, "invalid JSON at line 3, column 1");
    const driver = await TestDockerd.startExpectingFailure({
      config: { "storage-driver": "devicemapper" },
    });
    assertEquals(driver.code, 1);
    assertStringIncludes(driver.stderr, 'storage-driver "devicemapper" is not supported');
    const conflict = await TestDockerd.startExpectingFailure({
      config: { debug: true },
      args: ["--debug"],
    });
    assertEquals(conflict.code, 1);
    assertStringIncludes(
      conflict.stderr,
      "the following directives are specified both as a flag and in the configuration file: debug: (from flag: true, from file: true)",
    );
  },
});

Deno.test({
  name: `"bridge": "none" leaves only the host and none networks`,
  ignore,
  async fn() {
    const daemon = await TestDockerd.start({ config: { ...quickStop, bridge: "none" } });
    try {
      const result = await daemon.docker(["network", "ls", "--format", "{{.Name}}"]);
      assertEquals(result.code, 0, result.stderr);
      assertEquals(result.stdout.trim().split("\n").sort(), ["host", "none"]);
      const inspect = await daemon.docker(["network", "inspect", "bridge"]);
      assertEquals(inspect.code, 1);
      assertStringIncludes(inspect.stderr, "network bridge not found");
    } finally {
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "SIGHUP reloads debug and live-restore; an invalid file is logged and ignored",
  ignore,
  async fn() {
    const daemon = await TestDockerd.start({ config: { ...quickStop, debug: false } });
    try {
      const info = async () => await (await daemon.api("GET", "/v1.41/info")).json();
      assertEquals([(await info()).Debug, (await info()).LiveRestoreEnabled], [false, false]);
      await Deno.writeTextFile(
        daemon.paths.configFile,
        JSON.stringify({ ...quickStop, debug: true, "live-restore": true }),
      );
      daemon.reload();
      await until("the reload", async () => {
        const current = await info();
        return current.Debug && current.LiveRestoreEnabled ? current : undefined;
      });
      await Deno.writeTextFile(daemon.paths.configFile, '{"debug": false, "nonsense": 1}');
      daemon.reload();
      await until(
        "the rejected reload in the log",
        () =>
          Promise.resolve(daemon.log.includes("Error reconfiguring the daemon") ? true : undefined),
      );
      const after = await info();
      assertEquals([after.Debug, after.LiveRestoreEnabled], [true, true], "the old settings stay");
    } finally {
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name:
    "the supervised mini-containerd is restarted when it dies and adopted after a dockerd crash",
  ignore,
  async fn() {
    const daemon = await TestDockerd.start({ config: quickStop });
    try {
      const first = (await daemon.containerdPid())!;
      assert(alive(first));
      const cmdline = Deno.readTextFileSync(`/proc/${first}/cmdline`).split("\0");
      assertEquals(cmdline[cmdline.indexOf("--address") + 1], daemon.paths.containerdSocket);
      assertEquals(
        cmdline[cmdline.indexOf("--root") + 1],
        join(daemon.paths.dataRoot, "containerd"),
      );
      assertEquals(
        cmdline[cmdline.indexOf("--state") + 1],
        join(daemon.paths.execRoot, "containerd"),
      );

      Deno.kill(first, "SIGKILL");
      const second = await until("a new containerd", async () => {
        const pid = await daemon.containerdPid();
        return pid !== undefined && pid !== first && alive(pid) ? pid : undefined;
      });
      await until("containerd answering again", async () => {
        const version = await (await daemon.api("GET", "/v1.41/version")).json();
        const component = version.Components.find((item: { Name: string }) =>
          item.Name === "containerd"
        );
        return component.Version !== "unknown" ? true : undefined;
      });
      assertStringIncludes(daemon.log, "containerd is not running, restarting it");

      // dockerd crashes: its containerd lives on and the next dockerd adopts it.
      await daemon.kill("SIGKILL");
      assert(alive(second), "containerd survives its dockerd");
      await daemon.restart();
      assertEquals(await daemon.containerdPid(), second);
      assertStringIncludes(daemon.log, "containerd is still running");
    } finally {
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name:
    "--containerd uses an existing mini-containerd; a second daemon on the same pidfile is refused",
  ignore,
  async fn() {
    const containerd = await TestContainerd.start();
    const daemon = await TestDockerd.start({
      config: quickStop,
      containerd: containerd.paths.address,
    });
    try {
      assertEquals(await daemon.containerdPid(), undefined, "no supervised child");
      const version = await (await daemon.api("GET", "/v1.41/version")).json();
      const component = version.Components.find((item: { Name: string }) =>
        item.Name === "containerd"
      );
      assert(component.Version !== "unknown");
      const second = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          new URL("../../cmd/mini_dockerd.ts", import.meta.url).pathname,
          "--config-file",
          daemon.paths.configFile,
          "--data-root",
          join(daemon.paths.base, "data2"),
          "--exec-root",
          join(daemon.paths.base, "exec2"),
          "-H",
          `unix://${join(daemon.paths.base, "second.sock")}`,
          "--pidfile",
          daemon.paths.pidfile,
          "--containerd",
          containerd.paths.address,
        ],
        stdout: "piped",
        stderr: "piped",
      });
      const output = await second.output();
      assertEquals(output.code, 1);
      assertStringIncludes(
        new TextDecoder().decode(output.stderr),
        "pid file found, ensure docker is not running",
      );
    } finally {
      await daemon.cleanup();
      await containerd.cleanup();
    }
  },
});

Deno.test({
  name: "bad requests get docker-style errors and the daemon stays up",
  ignore,
  async fn() {
    const daemon = await TestDockerd.start({ config: quickStop });
    try {
      const call = async (
        method: string,
        path: string,
        body?: BodyInit,
        headers?: Record<string, string>,
      ) => {
        const response = await daemon.api(method, path, body, headers);
        return { status: response.status, body: await response.text() };
      };
      const malformed = await call("POST", "/v1.41/auth", '{"username": ', {
        "Content-Type": "application/json",
      });
      assertEquals(malformed.status, 400);
      assertStringIncludes(JSON.parse(malformed.body).message, "invalid JSON");
      const huge = await call("POST", "/v1.41/auth", "x".repeat(6 * 1024 * 1024));
      assertEquals(huge.status, 400);
      const image = await call("GET", "/v1.41/images/nosuchthing/json");
      assertEquals(image.status, 404);
      assertEquals(
        JSON.parse(image.body).message,
        "no such image: nosuchthing: No such image: nosuchthing:latest",
      );
      assertEquals((await call("GET", "/v1.41/images/nosuch/history")).status, 404);
      assertEquals((await call("DELETE", "/v1.41/images/nosuch")).status, 404);
      assertEquals((await call("POST", "/v1.41/images/nosuch/tag?repo=x&tag=y")).status, 404);
      const badRef = await call("POST", "/v1.41/images/create?fromImage=UPPER/Case&tag=x");
      assertEquals(badRef.status, 400);
      assertEquals((await call("GET", "/v1.41/no/such/endpoint")).status, 404);
      const notImplemented = await call("GET", "/v1.41/swarm");
      assertEquals(notImplemented.status, 501);
      assertStringIncludes(
        JSON.parse(notImplemented.body).message,
        "not supported by mini-dockerd",
      );
      const volume = await call("GET", "/v1.41/volumes/x");
      assertEquals([volume.status, JSON.parse(volume.body).message], [
        404,
        "get x: no such volume",
      ]);
      const load = await call("POST", "/v1.41/images/load?quiet=1", "this is not a tar archive");
      assertStringIncludes(load.body, "errorDetail");
      const inspect = await daemon.docker(["inspect", "nosuchthing"]);
      assertEquals(inspect.code, 1);
      assertStringIncludes(inspect.stderr, "No such object: nosuchthing");
      const ping = await daemon.api("HEAD", "/_ping");
      assertEquals([ping.status, ping.headers.get("api-version")], [200, "1.41"]);
      const version = await daemon.docker(["version", "--format", "{{.Server.APIVersion}}"]);
      assertEquals(version.stdout.trim(), "1.41");
    } finally {
      await daemon.cleanup();
    }
  },
});

Deno.test("the shutdown bound is max(shutdown-timeout, longest stop timeout + 5), as moby's", () => {
  assertEquals(shutdownLimitSeconds(15, []), 15, "no containers: shutdown-timeout");
  assertEquals(shutdownLimitSeconds(1, []), 1);
  assertEquals(shutdownLimitSeconds(15, [10, 10]), 15, "default stop timeouts fit in 15");
  assertEquals(shutdownLimitSeconds(1, [10]), 15, "a default container still gets 10 + 5");
  assertEquals(shutdownLimitSeconds(15, [10, 30]), 35, "--stop-timeout 30 gets its 30 s");
  assertEquals(shutdownLimitSeconds(60, [30]), 60);
  assertEquals(shutdownLimitSeconds(15, [10, -1]), -1, "a container that may wait forever");
  assertEquals(shutdownLimitSeconds(-1, [10]), -1);
});

Deno.test("registry dial failures are worded like Go's", () => {
  const hub = new URL("https://registry-1.docker.io/v2/");
  // The shape of Deno's fetch error for a name that does not resolve (hyper's message).
  const dnsFailure = new TypeError("fetch failed", {
    cause: new Error(
      "error sending request for url (https://registry-1.docker.io/v2/): client error " +
        "(Connect): dns error: failed to lookup address information: Temporary failure in " +
        "name resolution",
    ),
  });
  assertEquals(
    describeDialFailure(hub, dnsFailure),
    'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: ' +
      "temporary failure in name resolution",
  );
  assertEquals(
    describeDialFailure(hub, new Error("aborted"), true),
    'Get "https://registry-1.docker.io/v2/": dial tcp registry-1.docker.io:443: i/o timeout',
  );
  const refused = new TypeError("fetch failed", {
    cause: new Error(
      "client error (Connect): tcp connect error: Connection refused (os error 111)",
    ),
  });
  assertEquals(
    describeDialFailure(new URL("http://127.0.0.1:5999/v2/"), refused),
    'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused',
  );
});

Deno.test('daemon.json: "ip" (published ports\' default host address) is 0.0.0.0 or loopback', async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "daemon.json");
    const load = async (ip: unknown) => {
      await Deno.writeTextFile(file, JSON.stringify({ ip }));
      return await loadDockerdConfig({ configFile: file }).then(
        (config) => config.ip,
        (error) => String(error?.message),
      );
    };
    assertEquals(await load("0.0.0.0"), "0.0.0.0");
    assertEquals(await load("127.0.0.2"), "127.0.0.2");
    assertStringIncludes(String(await load("10.1.2.3")), 'invalid ip "10.1.2.3"');
    assertStringIncludes(String(await load(5)), "expected a string");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("daemon.json: registry-mirrors must be bare http(s) URLs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "daemon.json");
    const load = async (mirrors: unknown) => {
      await Deno.writeTextFile(file, JSON.stringify({ "registry-mirrors": mirrors }));
      return await loadDockerdConfig({ configFile: file }).then(
        (config) => config.registryMirrors,
        (error) => String(error?.message),
      );
    };
    assertEquals(await load(["http://127.0.0.1:5000"]), ["http://127.0.0.1:5000"]);
    assertStringIncludes(String(await load(["ftp://mirror"])), 'unsupported scheme "ftp"');
    assertStringIncludes(String(await load(["https://m.example/v2/"])), "path, query, or fragment");
    assertStringIncludes(String(await load(["not a url"])), "is not a valid URI");
    assertStringIncludes(String(await load("http://one")), "expected a list of strings");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "SIGHUP reloads log-level",
  ignore,
  async fn() {
    const daemon = await TestDockerd.start({ config: { ...quickStop, "log-level": "info" } });
    try {
      await (await daemon.api("GET", "/v1.41/version")).body?.cancel();
      assert(!daemon.log.includes("Calling GET /v1.41/version"), "no debug lines at info level");
      await Deno.writeTextFile(
        daemon.paths.configFile,
        JSON.stringify({ ...quickStop, "log-level": "debug" }),
      );
      daemon.reload();
      await until(
        "the reload",
        () => Promise.resolve(daemon.log.includes("Reloaded configuration") ? true : undefined),
      );
      await (await daemon.api("GET", "/v1.41/version")).body?.cancel();
      await until(
        "a debug line",
        () => Promise.resolve(daemon.log.includes("Calling GET /v1.41/version") ? true : undefined),
      );
      const info = await (await daemon.api("GET", "/v1.41/info")).json();
      assertEquals(info.Debug, false, "log-level debug is not the debug setting");
    } finally {
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "an unreachable registry fails the pull at once with dockerd's dial error",
  ignore,
  async fn() {
    const closedPort = freePort(); // nothing listens there
    const mirror = `http://127.0.0.1:${closedPort}`;
    const daemon = await TestDockerd.start({
      config: { ...quickStop, "registry-mirrors": [mirror] },
    });
    try {
      const refused = `Get "${mirror}/v2/": dial tcp 127.0.0.1:${closedPort}: connect: ` +
        "connection refused";
      const pull = await daemon.docker(["pull", `127.0.0.1:${closedPort}/app:v1`]);
      assertEquals(pull.code, 1);
      assertStringIncludes(pull.stderr, `Error response from daemon: ${refused}`);

      // `docker run` of an image that is not here: the CLI pulls it, from the mirror
      // (the test's stand-in for Docker Hub), and reports the failure.
      const run = await daemon.docker(["run", "--rm", "unknownimage"]);
      assertEquals(run.code, 125);
      assertStringIncludes(run.stderr, "Unable to find image 'unknownimage:latest' locally");
      assertStringIncludes(run.stderr, `Error response from daemon: ${refused}`);
      const mini = await daemon.miniDocker(["pull", "unknownimage"]);
      assertEquals(mini.code, 1);
      assertStringIncludes(mini.stderr, refused);

      const info = await (await daemon.api("GET", "/v1.41/info")).json();
      assertEquals(info.RegistryConfig.Mirrors, [mirror]);
      assertEquals((await daemon.api("GET", "/_ping")).status, 200, "the daemon stays up");
    } finally {
      await daemon.cleanup();
    }
  },
});

Deno.test({
  name: "registry-mirrors: Docker Hub images are pulled from the mirror",
  ignore: ignore || requirements("registry mirror", missingTool("docker-registry")),
  async fn() {
    const registry = await TestRegistry.start();
    const daemon = await TestDockerd.start({
      config: { ...quickStop, "registry-mirrors": [`http://${registry.host}`] },
    });
    try {
      const id = await daemon.loadBusybox();
      // The mirror holds library/busybox, as a pull-through cache of Docker Hub would.
      const onMirror = `${registry.host}/library/busybox:latest`;
      for (
        const args of [
          ["tag", "busybox", onMirror],
          ["push", onMirror],
          ["rmi", onMirror, "busybox"],
        ]
      ) {
        const result = await daemon.docker(args);
        assertEquals(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      }
      assertEquals((await daemon.docker(["images", "-q"])).stdout, "");
      const pull = await daemon.docker(["pull", "busybox"]);
      assertEquals(pull.code, 0, pull.stderr);
      assertStringIncludes(pull.stdout, "Status: Downloaded newer image for busybox:latest");
      const inspect = await daemon.docker(["inspect", "-f", "{{.Id}} {{.RepoTags}}", "busybox"]);
      assertEquals(inspect.stdout.trim(), `${id} [busybox:latest]`);
      const events = await daemon.docker([
        "events",
        "--since",
        "0",
        "--until",
        String(Math.floor(Date.now() / 1000) + 1),
        "--filter",
        "type=image",
        "--filter",
        "event=pull",
        "--format",
        "{{.Action}} {{.Actor.ID}}",
      ]);
      assertEquals(events.stdout.trim(), "pull busybox:latest");
    } finally {
      await daemon.cleanup();
      await registry.stop();
    }
  },
});

Deno.test({
  name: "shutdown waits for a container's own stop timeout beyond shutdown-timeout",
  ignore,
  async fn() {
    // shutdown-timeout 1 s, but the container may take 7 s to stop: moby's bound is
    // max(1, 7 + 5) = 12 s, so the daemon waits for the SIGKILL at 7 s. (The old bound,
    // shutdown-timeout + 5 = 6 s, left before it and the container running.)
    const daemon = await TestDockerd.start({ config: { "shutdown-timeout": 1, bridge: "none" } });
    try {
      await daemon.loadBusybox();
      // `sleep` as PID 1 has no SIGTERM handler, so the stop signal does nothing.
      const run = await daemon.docker([
        "run",
        "-d",
        "--name",
        "slow",
        "--stop-timeout",
        "7",
        "busybox",
        "sleep",
        "300",
      ]);
      assertEquals(run.code, 0, run.stderr);
      const pid = Number(
        (await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "slow"])).stdout.trim(),
      );
      assert(alive(pid));
      assertEquals((await daemon.kill("SIGTERM"))?.code, 0);
      assert(!daemon.log.includes("Force shutdown daemon"), daemon.log);
      assert(!alive(pid), "the daemon exited before the container's stop timeout ran out");
      await daemon.restart();
      const state = await daemon.docker([
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}}",
        "slow",
      ]);
      assertEquals(state.stdout.trim(), "exited 137");
      assertEquals((await daemon.docker(["rm", "slow"])).code, 0);
    } finally {
      await daemon.cleanup();
    }
  },
});
