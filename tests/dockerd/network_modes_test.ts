// Network modes through mini-dockerd: `--network none` has only an up `lo`; `--network
// host` sees the host's own interfaces (this test's bridge among them); the default
// container sits on the default bridge with /etc/hosts, /etc/hostname and
// /etc/resolv.conf bind-mounted from its sandbox; and daemon.json `"bridge": "none"`
// leaves only the host and none networks, with containers defaulting to none.

import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "../helpers/assert.ts";
import { containerTestIgnored } from "./containers_fixture.ts";
import { linkExists, networkSetup, vethsOn, withNetworkDaemon } from "./network_fixture.ts";

const ignore = containerTestIgnored("network modes", "ip");

function interfaceNames(ipLinkOutput: string): string[] {
  return ipLinkOutput.split("\n").filter((line) => line.trim() !== "")
    .map((line) => line.split(": ")[1].split("@")[0]).sort();
}

Deno.test({
  name: "--network none has only lo; host sees the host's interfaces; default is the bridge",
  ignore,
  async fn() {
    const setup = networkSetup();
    await withNetworkDaemon(setup, async (daemon) => {
      const none = await daemon.docker([
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ip",
        "-o",
        "link",
      ]);
      assertEquals(none.code, 0, none.stderr);
      assertEquals(interfaceNames(none.stdout), ["lo"]);
      assertStringIncludes(none.stdout, "UP");

      const host = await daemon.docker([
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "ip",
        "-o",
        "link",
      ]);
      assertEquals(host.code, 0, host.stderr);
      const seen = interfaceNames(host.stdout);
      assert(
        seen.includes(setup.bridgeName),
        `host mode does not see ${setup.bridgeName}: ${seen}`,
      );
      assert(seen.includes("lo"));

      await daemon.docker([
        "run",
        "-d",
        "--name",
        "plain",
        "--hostname",
        "plainhost",
        "busybox",
        "sleep",
        "300",
      ]);
      const links = await daemon.docker(["exec", "plain", "ip", "-o", "link"]);
      assertEquals(interfaceNames(links.stdout), ["eth0", "lo"]);
      const route = await daemon.docker(["exec", "plain", "ip", "route"]);
      assertStringIncludes(route.stdout, "default via");
      assertEquals((await daemon.docker(["exec", "plain", "hostname"])).stdout.trim(), "plainhost");
      const hosts = await daemon.docker(["exec", "plain", "cat", "/etc/hosts"]);
      assertStringIncludes(hosts.stdout, "plainhost");
      const mounts = await daemon.docker(["exec", "plain", "cat", "/proc/mounts"]);
      for (const file of ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"]) {
        assertStringIncludes(mounts.stdout, ` ${file} `);
      }
      const hostsPath = (await daemon.docker(["inspect", "-f", "{{.HostsPath}}", "plain"])).stdout
        .trim();
      assertEquals(await Deno.readTextFile(hostsPath), hosts.stdout);
      assertEquals(vethsOn(setup.bridgeName).length, 1);
      const networks = JSON.parse(
        (await daemon.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", "plain"]))
          .stdout,
      );
      assertEquals(Object.keys(networks), ["bridge"]);
      assertNotEquals(networks.bridge.IPAddress, "");
    });
  },
});

Deno.test({
  name: `"bridge": "none": only host and none, containers default to none, no bridge made`,
  ignore,
  async fn() {
    const setup = networkSetup();
    setup.config.bridge = "none";
    await withNetworkDaemon(setup, async (daemon) => {
      const ls = await daemon.docker(["network", "ls", "--format", "{{.Name}}"]);
      assertEquals(ls.stdout.trim().split("\n").sort(), ["host", "none"]);
      const run = await daemon.docker(["run", "--rm", "busybox", "ip", "-o", "link"]);
      assertEquals(run.code, 0, run.stderr);
      assertEquals(interfaceNames(run.stdout), ["lo"]);
      await daemon.docker(["run", "-d", "--name", "quiet", "busybox", "sleep", "300"]);
      const networks = JSON.parse(
        (await daemon.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", "quiet"]))
          .stdout,
      );
      assertEquals(Object.keys(networks), ["none"]);
      const onBridge = await daemon.docker([
        "run",
        "--rm",
        "--network",
        "bridge",
        "busybox",
        "true",
      ]);
      assertNotEquals(onBridge.code, 0);
      assertStringIncludes(onBridge.stderr, "network bridge not found");
      assert(!linkExists(setup.bridgeName), 'a bridge was created despite "bridge": "none"');
    });
  },
});
