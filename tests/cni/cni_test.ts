// CNI with Debian's reference plugins (bridge, host-local, loopback): ADD, CHECK and DEL
// on throwaway namespaces. The plugins themselves run inside a throwaway "host"
// namespace (CniOptions.pluginNamespace), so the bridge they create, the sysctls they
// set (isGateway turns on IP forwarding) and the host-local state stay inside it and
// inside a temp dir; the real host only sees that nothing was left behind.

import { assert, assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import { Cni, CniPluginError, findPlugin, parseConfig, pluginStdin } from "../../lib/cni/mod.ts";
import { parseIPv4, subnetContains } from "../../lib/network/ipv4.ts";
import {
  createNetworkNamespace,
  deleteNetworkNamespace,
} from "../../lib/network/sandbox/namespace.ts";
import { setLoopbackUp } from "../../lib/network/drivers/bridge/endpoint.ts";
import {
  assertNothingLeft,
  hostAddress,
  hostLinkNames,
  ipInNamespace,
  needsNetworkRoot,
  pickTestSubnet,
  testTag,
} from "../network/support.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";

const pluginDir = "/usr/lib/cni";

function missingPlugins(): string | undefined {
  try {
    for (const type of ["bridge", "host-local", "loopback"]) findPlugin(type, [pluginDir]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const ignore = needsNetworkRoot("cni", "busybox") ||
  requirements("cni plugins", missingPlugins(), missingTool("nsenter"));

Deno.test("CNI configs: .conflist and single-plugin .conf, stdin for each plugin", () => {
  const list = parseConfig(
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "net1",
      plugins: [
        { type: "bridge", bridge: "cni0" },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    }),
    "10-net1.conflist",
  );
  assertEquals(list.plugins.map((plugin) => plugin.type), ["bridge", "portmap"]);
  const single = parseConfig(
    JSON.stringify({ cniVersion: "0.4.0", name: "solo", type: "bridge", bridge: "b0" }),
    "solo.conf",
  );
  assertEquals(single.plugins.length, 1);
  assertEquals(single.plugins[0].bridge, "b0");

  const previous = { cniVersion: "1.0.0", ips: [{ address: "10.1.0.2/24" }] };
  const portMappings = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" as const }];
  const stdin = pluginStdin(list, list.plugins[1], previous, { portMappings, other: 1 });
  assertEquals(stdin, {
    type: "portmap",
    capabilities: { portMappings: true },
    name: "net1",
    cniVersion: "1.0.0",
    prevResult: previous,
    runtimeConfig: { portMappings },
  });
  assertEquals(
    "runtimeConfig" in pluginStdin(list, list.plugins[0], undefined, { portMappings }),
    false,
  );
  let message = "";
  try {
    parseConfig('{"name": "x", "plugins": [{"bridge": "b"}]}', "bad.conflist");
  } catch (error) {
    message = (error as Error).message;
  }
  assertStringIncludes(message, "bad.conflist: plugins[0].type");
  let notFound = "";
  try {
    findPlugin("no-such-plugin", ["/nonexistent"]);
  } catch (error) {
    notFound = (error as Error).message;
  }
  assertStringIncludes(notFound, "containernetworking-plugins");
});

Deno.test({
  name: "CNI bridge + host-local + loopback: ADD, CHECK, connectivity, DEL",
  ignore,
  async fn() {
    const tag = testTag();
    const directory = await Deno.makeTempDir({ prefix: `${tag}-` });
    const subnet = pickTestSubnet();
    const confDir = `${directory}/net.d`;
    const hostNamespace = `${directory}/host`;
    const containers = [`${directory}/c1`, `${directory}/c2`];
    await Deno.mkdir(confDir);
    await Deno.writeTextFile(
      `${confDir}/10-${tag}.conflist`,
      JSON.stringify({
        cniVersion: "1.0.0",
        name: `${tag}net`,
        plugins: [{
          type: "bridge",
          bridge: `${tag}cni`,
          isGateway: true,
          ipMasq: false,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: `${hostAddress(subnet, 0)}/24` }]],
            routes: [{ dst: "0.0.0.0/0" }],
            dataDir: `${directory}/host-local`,
          },
        }],
      }),
    );
    // A later file is ignored: one network, as go-cni's default.
    await Deno.writeTextFile(`${confDir}/99-ignored.conf`, "{ not even json");
    try {
      createNetworkNamespace(hostNamespace);
      setLoopbackUp(hostNamespace);
      for (const path of containers) createNetworkNamespace(path);
      const cni = Cni.load({
        confDir,
        binDirs: [pluginDir],
        cacheDir: `${directory}/cache`,
        pluginNamespace: hostNamespace,
      });
      const first = await cni.setup("c1", containers[0]);
      const second = await cni.setup("c2", containers[1]);
      assertEquals(Object.keys(first.interfaces).sort(), ["eth0", "lo"]);
      const [firstIp] = first.interfaces.eth0.ips;
      const [secondIp] = second.interfaces.eth0.ips;
      assert(subnetContains(subnet, parseIPv4(firstIp.address)), firstIp.address);
      assertEquals(firstIp.prefixLength, 24);
      assertEquals(firstIp.gateway, hostAddress(subnet, 1));
      assertEquals(first.interfaces.eth0.sandbox, containers[0]);
      assert(firstIp.address !== secondIp.address);

      // The plugins' work, seen by `ip` where it should be and nowhere else.
      assertStringIncludes(
        await ipInNamespace(containers[0], ["-o", "-4", "addr", "show", "eth0"]),
        `${firstIp.address}/24`,
      );
      const routes = await ipInNamespace(containers[0], ["route"]);
      assertStringIncludes(routes, `default via ${hostAddress(subnet, 1)} dev eth0`);
      assertStringIncludes(routes, `${hostAddress(subnet, 0)}/24 dev eth0`);
      assertStringIncludes(await ipInNamespace(containers[0], ["-o", "link", "show", "lo"]), "UP");
      assertStringIncludes(
        await ipInNamespace(hostNamespace, ["-o", "link", "show", "master", `${tag}cni`]),
        "veth",
      );
      const hostRoute = await ipInNamespace(hostNamespace, ["route"]);
      assertStringIncludes(hostRoute, `${hostAddress(subnet, 0)}/24 dev ${tag}cni`);
      const hostLinks = (await hostLinkNames()).filter((name) => name.includes(tag));
      assertEquals(hostLinks, [], "the real host namespace has none of it");

      // Both containers are on the plugin's bridge: c1 pings c2.
      const ping = await new Deno.Command("nsenter", {
        args: [`--net=${containers[0]}`, "busybox", "ping", "-c", "1", "-W", "5", secondIp.address],
        stdout: "null",
      }).output();
      assert(ping.success, `ping ${secondIp.address} from c1`);

      await cni.check("c1", containers[0]);
      const allocated = [...Deno.readDirSync(`${directory}/host-local/${tag}net`)]
        .map((entry) => entry.name);
      assert(allocated.includes(firstIp.address), `host-local recorded ${firstIp.address}`);

      await cni.remove("c1", containers[0]);
      assertEquals(
        (await ipInNamespace(containers[0], ["-o", "link"])).includes("eth0"),
        false,
        "DEL removed eth0",
      );
      const afterDel = [...Deno.readDirSync(`${directory}/host-local/${tag}net`)]
        .map((entry) => entry.name);
      assertEquals(afterDel.includes(firstIp.address), false, "DEL released the address");
      await assertRejects(() => cni.check("c1", containers[0]), Error, "no cached result");
      // DEL with the namespace already gone (as ctr does after the task exits) still
      // releases the address.
      deleteNetworkNamespace(containers[1]);
      await cni.remove("c2", "");
      const finalFiles = [...Deno.readDirSync(`${directory}/host-local/${tag}net`)]
        .map((entry) => entry.name);
      assertEquals(finalFiles.includes(secondIp.address), false);
      assertEquals([...Deno.readDirSync(`${directory}/cache/results`)], []);
    } finally {
      for (const path of containers) deleteNetworkNamespace(path);
      deleteNetworkNamespace(hostNamespace); // takes the plugin's bridge with it
      await Deno.remove(directory, { recursive: true });
    }
    await assertNothingLeft(tag);
  },
});

Deno.test({
  name: "CNI: a failing plugin reports its error and ADD is rolled back",
  ignore,
  async fn() {
    const tag = testTag();
    const directory = await Deno.makeTempDir({ prefix: `${tag}-` });
    const hostNamespace = `${directory}/host`;
    const container = `${directory}/c`;
    try {
      createNetworkNamespace(hostNamespace);
      createNetworkNamespace(container);
      const cni = Cni.fromLists([{
        cniVersion: "1.0.0",
        name: `${tag}bad`,
        plugins: [{
          type: "bridge",
          bridge: `${tag}cni`,
          ipam: { type: "host-local", ranges: [[{ subnet: "not-a-subnet" }]] },
        }],
      }], { binDirs: [pluginDir], cacheDir: `${directory}/cache`, pluginNamespace: hostNamespace });
      const error = await assertRejects(() => cni.setup("c", container), CniPluginError);
      assertEquals(error.plugin, "bridge");
      assertEquals(error.command, "ADD");
      assertStringIncludes(error.message, "not-a-subnet");
      // The loopback network that succeeded first was removed again (its cache is gone).
      assertEquals(
        [...Deno.readDirSync(`${directory}/cache/results`)].map((entry) => entry.name),
        [],
      );
    } finally {
      deleteNetworkNamespace(container);
      deleteNetworkNamespace(hostNamespace);
      await Deno.remove(directory, { recursive: true });
    }
    await assertNothingLeft(tag);
  },
});
