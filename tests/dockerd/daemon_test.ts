// The daemon as a process: daemon.json problems stop it at start with dockerd's
// messages, "bridge": "none" leaves host and none, SIGHUP reloads debug/live-restore
// (and keeps the old settings when the file became invalid), the supervised
// mini-containerd is restarted when it dies and adopted after a dockerd crash, a
// second daemon on the same pidfile is refused, and bad requests get docker-style
// errors while the daemon stays up.

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { TestDockerd } from "../helpers/dockerd.ts";
import { TestContainerd } from "../helpers/containerd.ts";

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
