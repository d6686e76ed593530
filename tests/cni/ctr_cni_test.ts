// `mini-ctr run --cni` end to end: mini-containerd creates the task, mini-ctr runs the
// CNI plugins on the init's /proc/<pid>/ns/net before starting it, the container sees
// eth0 with an address from host-local, and after the task is gone DEL releases the
// address and the veth. The plugins run in the host namespace here (as with real ctr),
// so the test's configuration keeps them tame: a test bridge without a gateway address
// (isGateway false: no host route, no IP forwarding), no masquerading, host-local's
// state in a temp dir.

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { removeBridge } from "../../lib/network/drivers/bridge/bridge.ts";
import { parseIPv4, subnetContains } from "../../lib/network/ipv4.ts";
import { listLinks, NetlinkSocket } from "../../lib/network/netlink/mod.ts";
import { findPlugin } from "../../lib/cni/exec.ts";
import { requirements } from "../helpers/requirements.ts";
import {
  BUSYBOX,
  cleanupDaemon,
  daemonWithBusybox,
  needsContainers,
  uniqueNamespace,
} from "../tasks/support.ts";
import { hostAddress, pickTestSubnet, testTag } from "../network/support.ts";

function missingPlugins(): string | undefined {
  try {
    for (const type of ["bridge", "host-local", "loopback"]) findPlugin(type, ["/usr/lib/cni"]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const ignore = needsContainers("mini-ctr run --cni", "ip") ||
  requirements("mini-ctr run --cni", missingPlugins());

Deno.test({
  name: "mini-ctr run --cni gives the container eth0 from the CNI plugins, and takes it back",
  ignore,
  async fn() {
    const tag = testTag();
    const subnet = pickTestSubnet();
    const directory = await Deno.makeTempDir({ prefix: `${tag}-` });
    const confDir = `${directory}/net.d`;
    const dataDir = `${directory}/host-local`;
    await Deno.mkdir(confDir);
    await Deno.writeTextFile(
      `${confDir}/10-${tag}.conflist`,
      JSON.stringify({
        cniVersion: "1.0.0",
        name: `${tag}net`,
        plugins: [{
          type: "bridge",
          bridge: `${tag}cni`,
          isGateway: false,
          ipMasq: false,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: `${hostAddress(subnet, 0)}/24` }]],
            dataDir,
          },
        }],
      }),
    );
    const forwardingBefore = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_forward");
    let forwardingChanged = false;
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const socket = NetlinkSocket.open();
    try {
      const run = await daemon.ctr([
        "-n",
        namespace,
        "run",
        "--rm",
        "--cni",
        "--cni-conf-dir",
        confDir,
        "--cni-bin-dir",
        "/usr/lib/cni",
        BUSYBOX,
        "c1",
        "sh",
        "-c",
        "ip -o -4 addr show dev eth0; ip -o link show dev lo",
      ]);
      assertEquals(run.code, 0, run.stderr);
      const match = /inet (\d+\.\d+\.\d+\.\d+)\/24/.exec(run.stdout);
      assert(match, `no eth0 address in: ${run.stdout}`);
      assert(subnetContains(subnet, parseIPv4(match[1])), `${match[1]} is from the conflist`);
      assertMatch(run.stdout, /lo: <LOOPBACK,UP/);

      // DEL ran: host-local forgot the address and no veth hangs on the bridge.
      const files = [...Deno.readDirSync(`${dataDir}/${tag}net`)].map((entry) => entry.name);
      assertEquals(files.includes(match[1]), false, `address still held: ${files.join(", ")}`);
      const links = listLinks(socket);
      const bridge = links.find((link) => link.name === `${tag}cni`);
      assert(bridge, "the bridge plugin created the bridge");
      assertEquals(links.filter((link) => link.masterIndex === bridge.index), []);
    } finally {
      removeBridge(socket, `${tag}cni`);
      socket.close();
      await cleanupDaemon(daemon, namespace);
      await Deno.remove(directory, { recursive: true });
      const forwardingAfter = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_forward");
      if (forwardingAfter !== forwardingBefore) {
        Deno.writeTextFileSync("/proc/sys/net/ipv4/ip_forward", forwardingBefore);
        forwardingChanged = true;
      }
    }
    assertEquals(forwardingChanged, false, "the plugins changed net.ipv4.ip_forward (restored)");
  },
});
