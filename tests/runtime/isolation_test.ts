// Isolation as the container sees it: its own process list, filesystem, mount table,
// network, hostname; reduced capabilities and no_new_privs; user and groups; rlimits;
// masked and read-only paths; the spec's bind and tmpfs mounts; and a spec written by the
// real `runc spec` runs unchanged (apart from its rootfs path and terminal).

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";
import { capabilityMask, capabilityNumber } from "../../lib/linux/capabilities.ts";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import type { Spec } from "../../lib/runtime/types.ts";
import { isCgroup2UnifiedMode } from "../../lib/runtime/cgroups/mod.ts";
import { needsContainers, RuntimeFixture } from "./support.ts";

const ignore = needsContainers("mini-runc isolation");

/** Runs one container in the foreground with `script` as its command. */
async function runScript(
  fixture: RuntimeFixture,
  id: string,
  script: string,
  edit: (spec: Spec) => void = () => {},
) {
  const bundle = await fixture.bundle(id, (spec) => {
    spec.process!.args = ["sh", "-c", script];
    edit(spec);
  });
  return await fixture.run(["run", "--bundle", bundle, id]);
}

function statusField(status: string, field: string): string {
  const line = status.split("\n").find((entry) => entry.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} in ${status}`);
  return line.split(/\s+/)[1];
}

function maskOf(names: string[] | undefined): string {
  const numbers = (names ?? []).map((name) => capabilityNumber(name)!);
  return capabilityMask(numbers).toString(16).padStart(16, "0");
}

Deno.test(
  { name: "ps in the container shows only the container's processes", ignore },
  async () => {
    const fixture = await RuntimeFixture.create();
    try {
      // "; true" keeps sh from exec()ing ps directly, so there are two processes.
      const result = await runScript(fixture, "ps1", "ps -o pid,comm; true");
      assertEquals(result.code, 0, result.stderr);
      const rows = result.stdout.trim().split("\n").slice(1).map((line) =>
        line.trim().split(/\s+/)
      );
      assertEquals(rows[0], ["1", "sh"]);
      assertEquals(rows.map((row) => row[1]).sort(), ["ps", "sh"]);
    } finally {
      await fixture.cleanup();
    }
  },
);

Deno.test({ name: "the host's files, mounts and network are invisible", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const secret = `${fixture.base}/host-secret`;
    await Deno.writeTextFile(secret, "host only");
    const result = await runScript(
      fixture,
      "fs1",
      `ls -a /; echo ---; cat ${secret} 2>&1; echo ---; cat /proc/self/mountinfo; echo ---; ` +
        "cat /proc/net/dev",
    );
    assertEquals(result.code, 0, result.stderr);
    const [listing, secretRead, mountinfo, netdev] = result.stdout.split("---\n");
    const rootfsEntries = [...Deno.readDirSync(`${fixture.base}/image/rootfs`)].map((e) => e.name);
    assertEquals(
      listing.trim().split("\n").filter((name) => name !== "." && name !== "..").sort(),
      rootfsEntries.sort(),
    );
    assertStringIncludes(secretRead, "No such file or directory");

    // Every mount point inside is one the spec asked for; none of the host's others.
    const spec = JSON.parse(await Deno.readTextFile(`${fixture.base}/fs1/config.json`)) as Spec;
    const expected = new Set([
      "/",
      ...spec.mounts!.map((mount) => mount.destination),
      ...spec.linux!.maskedPaths!,
      ...spec.linux!.readonlyPaths!,
    ]);
    const inside = mountinfo.trim().split("\n").map((line) => line.split(" ")[4]);
    const unexpected = inside.filter((point) =>
      !expected.has(point) && !point.startsWith("/sys/fs/cgroup/")
    );
    assertEquals(unexpected, []);
    const hostOnly = readMountInfo().map((mount) => mount.mountPoint)
      .filter((point) => !expected.has(point) && !point.startsWith("/sys/fs/cgroup"));
    assert(hostOnly.length > 0, "the host should have mounts the container lacks");
    for (const point of hostOnly) assert(!inside.includes(point), `host mount ${point} leaked`);

    const interfaces = netdev.trim().split("\n").slice(2).map((line) => line.trim().split(":")[0]);
    assertEquals(interfaces, ["lo"]);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "hostname, cwd, env and rlimits come from the spec", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const hostHostname = Deno.hostname();
    const result = await runScript(
      fixture,
      "uts1",
      'hostname; pwd; echo "$GREETING"; ulimit -n; ulimit -Hn',
      (spec) => {
        spec.hostname = "isolated-box";
        spec.process!.cwd = "/tmp";
        spec.process!.env!.push("GREETING=hello container");
        spec.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 123, hard: 456 }];
      },
    );
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout, "isolated-box\n/tmp\nhello container\n123\n456\n");
    assertEquals(Deno.hostname(), hostHostname);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "capabilities are reduced and no_new_privs is set", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    let spec: Spec | undefined;
    const result = await runScript(fixture, "caps1", "cat /proc/self/status", (edited) => {
      // Docker's default set, on top of runc's three.
      const docker = [
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
      ];
      edited.process!.capabilities = {
        bounding: docker,
        effective: docker,
        permitted: docker,
        inheritable: [],
        ambient: [],
      };
      spec = edited;
    });
    assertEquals(result.code, 0, result.stderr);
    const caps = spec!.process!.capabilities!;
    assertEquals(statusField(result.stdout, "CapBnd"), maskOf(caps.bounding));
    assertEquals(statusField(result.stdout, "CapEff"), maskOf(caps.effective));
    assertEquals(statusField(result.stdout, "CapPrm"), maskOf(caps.permitted));
    assertEquals(statusField(result.stdout, "CapInh"), "0000000000000000");
    assertEquals(statusField(result.stdout, "NoNewPrivs"), "1");
    // Fewer than the host's full set: CAP_SYS_ADMIN (21) is gone.
    assertEquals((BigInt(`0x${statusField(result.stdout, "CapBnd")}`) >> 21n) & 1n, 0n);

    const denied = await runScript(fixture, "caps2", "hostname other 2>&1; echo status=$?");
    assertMatch(denied.stdout, /status=[1-9]/);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "user, group and additional groups; no capabilities left", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const result = await runScript(
      fixture,
      "user1",
      "id -u; id -g; id -G; grep CapEff /proc/self/status; touch /tmp/x 2>&1",
      (spec) => {
        spec.process!.user = { uid: 1000, gid: 1001, additionalGids: [10, 20] };
        spec.root!.readonly = false;
      },
    );
    const lines = result.stdout.trim().split("\n");
    assertEquals(lines.slice(0, 3), ["1000", "1001", "1001 10 20"]);
    assertMatch(lines[3], /^CapEff:\s+0000000000000000$/);
    assertStringIncludes(lines[4], "Permission denied"); // /tmp of the image is root's 0755
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "read-only root, masked and read-only kernel paths", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    // /proc/timer_list is masked by runc's default spec and has content on the host.
    assert((await Deno.readTextFile("/proc/timer_list")).length > 0);
    const result = await runScript(
      fixture,
      "ro1",
      "touch /new-file 2>&1; echo ---; wc -c < /proc/timer_list; echo ---; ls /sys/firmware | wc -l; " +
        "echo ---; (echo x > /proc/sys/kernel/domainname) 2>&1; echo ---; " +
        "grep ' /proc/sys ' /proc/self/mountinfo",
    );
    const [touch, timerListBytes, firmwareEntries, sysctl, mountLine] = result.stdout.split(
      "---\n",
    );
    assertStringIncludes(touch, "Read-only file system");
    assertEquals(timerListBytes.trim(), "0");
    assertEquals(firmwareEntries.trim(), "0");
    assertStringIncludes(sysctl, "Read-only file system");
    assertMatch(mountLine, / ro,/);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "the spec's bind and tmpfs mounts, with their options", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const shared = `${fixture.base}/shared`;
    await Deno.mkdir(shared);
    await Deno.writeTextFile(`${shared}/note.txt`, "from the host\n");
    const result = await runScript(
      fixture,
      "mnt1",
      "cat /data/note.txt; echo ---; touch /data/x 2>&1; echo ---; " +
        "echo hi > /scratch/f && cat /scratch/f; echo ---; grep ' /scratch ' /proc/self/mountinfo",
      (spec) => {
        spec.mounts!.push(
          { destination: "/data", type: "bind", source: shared, options: ["rbind", "ro"] },
          {
            destination: "/scratch",
            type: "tmpfs",
            source: "tmpfs",
            options: ["nosuid", "size=1m"],
          },
        );
      },
    );
    assertEquals(result.code, 0, result.stderr);
    const [note, touch, scratch, mountLine] = result.stdout.split("---\n");
    assertEquals(note, "from the host\n");
    assertStringIncludes(touch, "Read-only file system");
    assertEquals(scratch, "hi\n");
    assertMatch(mountLine, /nosuid.* - tmpfs tmpfs rw,size=1024k/);
    // The mount points were created inside the container's view only.
    assertEquals([...Deno.readDirSync(shared)].map((entry) => entry.name), ["note.txt"]);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({
  name: "a config.json written by the real `runc spec` runs",
  ignore: ignore || requirements("runc spec", missingTool("runc")),
}, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const bundle = `${fixture.base}/from-runc`;
    await Deno.mkdir(bundle);
    const spec = await new Deno.Command("runc", { args: ["spec"], cwd: bundle }).output();
    assert(spec.success, "runc spec failed");
    const config = JSON.parse(await Deno.readTextFile(`${bundle}/config.json`)) as Spec;
    config.root!.path = `${fixture.base}/image/rootfs`;
    config.process!.terminal = false;
    config.process!.args = ["sh", "-c", "hostname; grep NoNewPrivs /proc/self/status"];
    await Deno.writeTextFile(`${bundle}/config.json`, JSON.stringify(config));
    const result = await fixture.run(["run", "--bundle", bundle, "from-runc"]);
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout.split("\n")[0], config.hostname);
    assertMatch(result.stdout, /NoNewPrivs:\s+1/);
  } finally {
    await fixture.cleanup();
  }
});

const namespaceFiles = ["pid", "net", "ipc", "uts", "mnt", "cgroup"];

Deno.test({ name: "every namespace in the spec is a new one", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const result = await runScript(
      fixture,
      "ns1",
      `for ns in ${namespaceFiles.join(" ")}; do readlink /proc/self/ns/$ns; done; ` +
        "cat /proc/self/cgroup",
      (spec) => spec.linux!.namespaces!.push({ type: "cgroup" }),
    );
    assertEquals(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    namespaceFiles.forEach((name, index) => {
      const host = Deno.readLinkSync(`/proc/self/ns/${name}`);
      assertMatch(lines[index], new RegExp(`^${name}:\\[\\d+\\]$`));
      assert(lines[index] !== host, `${name} namespace is the host's (${host})`);
    });
    // In its own cgroup namespace the container sees its cgroup as the root.
    for (const line of lines.slice(namespaceFiles.length)) assertMatch(line, /:\/$/);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({ name: "namespaces given by path are joined", ignore }, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    const first = await fixture.bundle("first", (spec) => {
      spec.process!.args = ["sleep", "1000"];
      spec.hostname = "first-box";
    });
    const output = `${fixture.base}/first.out`;
    assertEquals(
      (await fixture.run(["run", "-d", "--bundle", first, "first"], { outputFile: output })).code,
      0,
      await Deno.readTextFile(output),
    );
    const target = (await fixture.record("first")).initPid;
    const joined = ["pid", "network", "ipc", "uts"];
    const procName: Record<string, string> = { pid: "pid", network: "net", ipc: "ipc", uts: "uts" };
    const result = await runScript(
      fixture,
      "second",
      `for ns in pid net ipc uts; do readlink /proc/self/ns/$ns; done; hostname; ` +
        "ps -o comm | grep -c sleep",
      (spec) => {
        delete spec.hostname; // the UTS namespace (and its hostname) belongs to "first"
        spec.linux!.namespaces = spec.linux!.namespaces!.map((namespace) =>
          joined.includes(namespace.type)
            ? { type: namespace.type, path: `/proc/${target}/ns/${procName[namespace.type]}` }
            : namespace
        );
      },
    );
    assertEquals(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    joined.forEach((type, index) => {
      assertEquals(lines[index], Deno.readLinkSync(`/proc/${target}/ns/${procName[type]}`));
    });
    assertEquals(lines[4], "first-box");
    assertEquals(lines[5], "1"); // first's sleep is visible: same PID namespace
    assertEquals((await fixture.run(["delete", "--force", "first"])).code, 0);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test({
  name: "the devices cgroup (v1) denies a disk even to root with CAP_MKNOD",
  ignore: ignore || isCgroup2UnifiedMode(),
}, async () => {
  const fixture = await RuntimeFixture.create();
  try {
    // The host's root filesystem device, "major:minor" from mountinfo.
    const rootLine = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
      .find((line) => line.split(" ")[4] === "/")!;
    const [major, minor] = rootLine.split(" ")[2].split(":");
    const result = await runScript(
      fixture,
      "dev1",
      `mknod /dev/disk b ${major} ${minor} && head -c 1 /dev/disk 2>&1; echo; head -c 1 /dev/zero | wc -c`,
      (spec) => {
        const caps = [...spec.process!.capabilities!.bounding!, "CAP_MKNOD"];
        spec.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
      },
    );
    const [disk, zero] = result.stdout.trim().split("\n").filter((line) => line !== "");
    assertStringIncludes(disk, "Operation not permitted");
    assertEquals(zero.trim(), "1"); // allowed devices still work
  } finally {
    await fixture.cleanup();
  }
});
