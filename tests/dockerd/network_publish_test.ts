// Published ports through mini-dockerd: a busybox httpd container started with `-P`
// (its EXPOSEd port gets a free host port) and one with `-p 127.0.0.1:PORT:80`, reached
// on 127.0.0.1 through their mini-docker-proxy processes; `docker port` (real CLI and
// mini-docker), the PORTS column of `ps`, NetworkSettings in inspect; and that stopping
// the container ends its proxies and frees the port; a UDP port too. Traffic goes only
// to 127.0.0.1, after checking the container's address is behind this test's own bridge.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import dgram from "node:dgram";
import { isHostPortFree } from "../../lib/network/portmapper/host_ports.ts";
import { spawnInNetworkNamespace } from "../../lib/network/sandbox/enter.ts";
import { hostAddress } from "../network/support.ts";
import { containerTestIgnored } from "./containers_fixture.ts";
import {
  assertOurBridgeRoutes,
  fetchLoopbackWhenUp,
  httpdScript,
  ipOf,
  networkSetup,
  parsePortOutput,
  proxiesInto,
  vethsOn,
  withNetworkDaemon,
} from "./network_fixture.ts";

const ignore = containerTestIgnored("published ports", "ip");

Deno.test({
  name: "run -d -P: busybox httpd reached on 127.0.0.1; docker port, ps PORTS, inspect",
  ignore,
  async fn() {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      const run = await daemon.docker([
        "run",
        "-d",
        "-P",
        "--expose",
        "80",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        httpdScript("hello-from-mini"),
      ]);
      assertEquals(run.code, 0, run.stderr);

      const port = await daemon.docker(["port", "web"]);
      assertEquals(port.code, 0, port.stderr);
      const published = parsePortOutput(port.stdout).get("80/tcp");
      assert(published, `docker port printed no 80/tcp: ${port.stdout}`);
      assertEquals(published.hostIp, "127.0.0.1");
      const miniPort = await daemon.miniDocker(["port", "web", "80"]);
      assertEquals(miniPort.code, 0, miniPort.stderr);
      assertEquals(miniPort.stdout.trim(), `127.0.0.1:${published.hostPort}`);

      const inspect = JSON.parse(
        (await daemon.docker(["inspect", "-f", "{{json .NetworkSettings}}", "web"])).stdout,
      );
      const address = inspect.IPAddress as string;
      assertEquals(inspect.Networks.bridge.IPAddress, address);
      assertEquals(inspect.Gateway, hostAddress(setup.bridgeSubnet, 1));
      assertMatch(inspect.MacAddress, /^02:42:/);
      assertEquals(inspect.Ports["80/tcp"], [{
        HostIp: "127.0.0.1",
        HostPort: String(published.hostPort),
      }]);
      assertEquals(vethsOn(setup.bridgeName).length, 1);

      const ps = await daemon.docker(["ps", "--format", "{{.Ports}}"]);
      assertEquals(ps.stdout.trim(), `127.0.0.1:${published.hostPort}->80/tcp`);
      const miniPs = await daemon.miniDocker(["ps"]);
      assertStringIncludes(miniPs.stdout, `127.0.0.1:${published.hostPort}->80/tcp`);

      // Safety: the proxy will connect to `address`; it must be behind our bridge.
      assertOurBridgeRoutes(setup.bridgeName, setup.bridgeSubnet, address);
      const body = await fetchLoopbackWhenUp(published.hostPort);
      assertEquals(body.trim(), "hello-from-mini");

      const stop = await daemon.docker(["stop", "-t", "1", "web"]);
      assertEquals(stop.code, 0, stop.stderr);
      assertEquals(proxiesInto([setup.bridgeSubnet]), []);
      assert(await isHostPortFree("tcp", "127.0.0.1", published.hostPort));
      assertEquals(vethsOn(setup.bridgeName), []);
      const stoppedPort = await daemon.docker(["port", "web"]);
      assertEquals(stoppedPort.stdout.trim(), "");
    });
  },
});

Deno.test({
  name: 'daemon.json "ip": "0.0.0.0" publishes on every address, as dockerd does by default',
  ignore,
  async fn() {
    const setup = networkSetup({ ip: "0.0.0.0" });
    await withNetworkDaemon(setup, async (daemon) => {
      const bridge = await daemon.docker([
        "network",
        "inspect",
        "-f",
        '{{index .Options "com.docker.network.bridge.host_binding_ipv4"}}',
        "bridge",
      ]);
      assertEquals(bridge.stdout.trim(), "0.0.0.0", bridge.stderr);
      const run = await daemon.docker([
        "run",
        "-d",
        "-p",
        "80",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        httpdScript("on-every-address"),
      ]);
      assertEquals(run.code, 0, run.stderr);
      const port = await daemon.docker(["port", "web", "80"]);
      const match = /^0\.0\.0\.0:(\d+)$/m.exec(port.stdout);
      assert(match, `docker port did not show 0.0.0.0: ${port.stdout} ${port.stderr}`);
      const address = JSON.parse(
        (await daemon.docker(["inspect", "-f", "{{json .NetworkSettings}}", "web"])).stdout,
      ).IPAddress as string;
      // Safety: the proxy will connect to `address`; it must be behind our bridge.
      assertOurBridgeRoutes(setup.bridgeName, setup.bridgeSubnet, address);
      const body = await fetchLoopbackWhenUp(Number(match[1])); // 0.0.0.0 includes loopback
      assertEquals(body.trim(), "on-every-address");
      assertEquals((await daemon.docker(["rm", "-f", "web"])).code, 0);
    });
  },
});

Deno.test({
  name: "run -p 127.0.0.1:HOST:80 with mini-docker; a taken host port is refused",
  ignore,
  async fn() {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      // A host port that is free now; the test holds none of its own on it.
      let hostPort = 20000 + Math.floor(Math.random() * 20000);
      while (!await isHostPortFree("tcp", "127.0.0.1", hostPort)) hostPort++;
      const run = await daemon.miniDocker([
        "run",
        "-d",
        "-p",
        `127.0.0.1:${hostPort}:80`,
        "--name",
        "fixed",
        "busybox",
        "sh",
        "-c",
        httpdScript("fixed-port"),
      ]);
      assertEquals(run.code, 0, run.stderr);
      const port = await daemon.docker(["port", "fixed", "80/tcp"]);
      assertEquals(port.stdout.trim(), `127.0.0.1:${hostPort}`);
      const address = await ipOf(daemon, "fixed");
      assertOurBridgeRoutes(setup.bridgeName, setup.bridgeSubnet, address);
      const body = await fetchLoopbackWhenUp(hostPort);
      assertEquals(body.trim(), "fixed-port");

      // The same host port again: the start fails and leaves nothing behind.
      const clash = await daemon.docker([
        "run",
        "-d",
        "-p",
        `127.0.0.1:${hostPort}:80`,
        "--name",
        "clash",
        "busybox",
        "sleep",
        "60",
      ]);
      assert(clash.code !== 0, "a second container got the same host port");
      assertStringIncludes(clash.stderr, "port is already allocated");
      assertEquals(vethsOn(setup.bridgeName).length, 1);

      const remove = await daemon.docker(["rm", "-f", "fixed", "clash"]);
      assertEquals(remove.code, 0, remove.stderr);
      assertEquals(proxiesInto([setup.bridgeSubnet]), []);
      assert(await isHostPortFree("tcp", "127.0.0.1", hostPort));
    });
  },
});

Deno.test({
  name: "run -p 127.0.0.1::5353/udp: datagrams reach a server in the container's namespace",
  ignore,
  async fn() {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      const run = await daemon.docker([
        "run",
        "-d",
        "-p",
        "127.0.0.1::5353/udp",
        "--name",
        "dns",
        "busybox",
        "sleep",
        "300",
      ]);
      assertEquals(run.code, 0, run.stderr);
      const published = parsePortOutput((await daemon.docker(["port", "dns"])).stdout)
        .get("5353/udp");
      assert(published, "no 5353/udp in docker port");
      const settings = JSON.parse(
        (await daemon.docker(["inspect", "-f", "{{json .NetworkSettings}}", "dns"])).stdout,
      );
      const address = settings.IPAddress as string;
      assertOurBridgeRoutes(setup.bridgeName, setup.bridgeSubnet, address);
      // busybox has no UDP server: run one from the host inside the container's namespace.
      const server = spawnInNetworkNamespace(settings.SandboxKey, Deno.execPath(), {
        args: [
          "run",
          "--allow-net",
          "--no-lock",
          new URL("../network/udp_echo_server.ts", import.meta.url).pathname,
          address,
          "5353",
        ],
        stdout: "piped",
        stderr: "inherit",
      });
      try {
        const ready = await server.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
        assertEquals(ready.value?.trim(), "ready");
        const socket = dgram.createSocket("udp4");
        try {
          const answer = await new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error("no UDP answer in 10 s")), 10_000);
            socket.on("message", (message) => {
              clearTimeout(timer);
              resolve(message.toString());
            });
            socket.send("hello-udp", published.hostPort, "127.0.0.1");
          });
          assertEquals(answer, "echo:hello-udp");
        } finally {
          socket.close();
        }
      } finally {
        server.kill("SIGKILL");
        await server.status;
      }
      const remove = await daemon.docker(["rm", "-f", "dns"]);
      assertEquals(remove.code, 0, remove.stderr);
      assertEquals(proxiesInto([setup.bridgeSubnet]), []);
    });
  },
});
