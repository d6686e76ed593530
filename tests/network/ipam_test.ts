// IPAM: pools, lowest-free allocation, release and reuse, persistence across instances
// (a daemon restart), conflicts, and no double allocation when 20 processes allocate
// at the same time from one state file.

import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { AddressAllocator, IpamError } from "../../lib/network/ipam/allocator.ts";
import { parseSubnet } from "../../lib/network/ipv4.ts";

const worker = new URL("./ipam_worker.ts", import.meta.url).pathname;

Deno.test("IPAM hands out the lowest free address, skips the gateway, reuses released ones", async () => {
  const directory = await Deno.makeTempDir({ prefix: "mini-ipam-" });
  try {
    const ipam = new AddressAllocator(`${directory}/ipam.json`);
    const pool = await ipam.requestPool("net1", { subnet: "10.99.0.0/24" });
    assertEquals(pool.gateway, "10.99.0.1");
    const first = await ipam.requestAddress("net1", "a");
    const second = await ipam.requestAddress("net1", "b");
    assertEquals([first.address, second.address], ["10.99.0.2", "10.99.0.3"]);
    assertEquals(first.prefixLength, 24);
    await ipam.releaseAddress("net1", "10.99.0.2");
    assertEquals((await ipam.requestAddress("net1", "c")).address, "10.99.0.2");
    assertEquals((await ipam.requestAddress("net1", "d", "10.99.0.200")).address, "10.99.0.200");
    await assertRejects(() => ipam.requestAddress("net1", "e", "10.99.0.200"), IpamError, "in use");
    await assertRejects(() => ipam.requestAddress("net1", "e", "10.99.0.1"), IpamError, "usable");
    await assertRejects(() => ipam.requestAddress("net1", "e", "10.98.0.5"), IpamError, "usable");
    // A restart is a new instance over the same file.
    const restarted = new AddressAllocator(`${directory}/ipam.json`);
    assertEquals(restarted.pools().net1.allocations, {
      "10.99.0.2": "c",
      "10.99.0.3": "b",
      "10.99.0.200": "d",
    });
    assertEquals((await restarted.requestAddress("net1", "f")).address, "10.99.0.4");
    await assertRejects(() => restarted.releasePool("net1"), IpamError, "still has 4");
    assertEquals(await restarted.releaseWhere((owner) => owner !== "b"), 3);
    assertEquals(Object.keys(restarted.pools().net1.allocations), ["10.99.0.3"]);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("IPAM pools: given subnets, default pools, overlaps, gateways, exhaustion", async () => {
  const directory = await Deno.makeTempDir({ prefix: "mini-ipam-" });
  try {
    const ipam = new AddressAllocator(`${directory}/ipam.json`);
    const defaultPools = [{ base: "10.70.0.0/22", size: 24 }];
    const avoid = [parseSubnet("10.70.1.0/24")]; // "a host route"
    const a = await ipam.requestPool("a", { defaultPools, avoid });
    const b = await ipam.requestPool("b", { defaultPools, avoid });
    assertEquals([a.subnet, b.subnet], ["10.70.0.0/24", "10.70.2.0/24"]);
    assertEquals((await ipam.requestPool("a", { subnet: "10.70.0.0/24" })).subnet, a.subnet);
    await assertRejects(() => ipam.requestPool("a", { subnet: "10.71.0.0/24" }), IpamError);
    await assertRejects(
      () => ipam.requestPool("c", { subnet: "10.70.2.128/25" }),
      IpamError,
      "overlaps 10.70.2.0/24",
    );
    await assertRejects(
      () => ipam.requestPool("c", { subnet: "10.70.1.0/24", avoid }),
      IpamError,
      "host route",
    );
    await assertRejects(() => ipam.requestPool("c", { subnet: "300.1.1.0/24" }), IpamError);
    const custom = await ipam.requestPool("d", {
      subnet: "192.168.77.0/24",
      gateway: "192.168.77.254",
    });
    assertEquals(custom.gateway, "192.168.77.254");
    await assertRejects(
      () => ipam.requestPool("e", { subnet: "192.168.78.0/24", gateway: "192.168.79.1" }),
      IpamError,
      "not a usable address",
    );
    await ipam.requestPool("c", { defaultPools, avoid });
    await assertRejects(() => ipam.requestPool("x", { defaultPools, avoid }), IpamError, "in use");
    const tiny = await ipam.requestPool("tiny", { subnet: "10.80.0.0/30" });
    assertEquals(tiny.gateway, "10.80.0.1");
    assertEquals((await ipam.requestAddress("tiny", "only")).address, "10.80.0.2");
    const full = await assertRejects(() => ipam.requestAddress("tiny", "more"), IpamError);
    assertEquals(full.kind, "exhausted");
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("IPAM never double-allocates under 20 parallel allocating processes", async () => {
  const directory = await Deno.makeTempDir({ prefix: "mini-ipam-" });
  try {
    const statePath = `${directory}/ipam.json`;
    await new AddressAllocator(statePath).requestPool("shared", { subnet: "10.123.0.0/24" });
    const processes = Array.from({ length: 20 }, (_, index) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--no-lock", worker, statePath, "shared", "3", `p${index}`],
        stdout: "piped",
        stderr: "piped",
      }).output());
    const outputs = await Promise.all(processes);
    const addresses: string[] = [];
    for (const output of outputs) {
      assert(output.success, new TextDecoder().decode(output.stderr));
      addresses.push(...JSON.parse(new TextDecoder().decode(output.stdout)));
    }
    assertEquals(addresses.length, 60);
    assertEquals(new Set(addresses).size, 60, "every address handed out once");
    const book = new AddressAllocator(statePath).pools().shared.allocations;
    assertEquals(Object.keys(book).length, 60, "and every one recorded");
    assertEquals(
      Object.keys(book).sort(),
      Array.from({ length: 60 }, (_, index) => `10.123.0.${index + 2}`).sort(),
      "the lowest 60 after the gateway: no gaps, no lost writes",
    );
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("IPAM within one process: concurrent requests queue on the lock", async () => {
  const directory = await Deno.makeTempDir({ prefix: "mini-ipam-" });
  try {
    const ipam = new AddressAllocator(`${directory}/ipam.json`);
    await ipam.requestPool("p", { subnet: "10.124.0.0/24" });
    const leases = await Promise.all(
      Array.from({ length: 30 }, (_, index) => ipam.requestAddress("p", `c${index}`)),
    );
    assertEquals(new Set(leases.map((lease) => lease.address)).size, 30);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
