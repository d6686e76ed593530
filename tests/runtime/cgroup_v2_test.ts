// The cgroup v2 manager's mechanics on any kernel: a second view of the cgroup2
// hierarchy is mounted in a temp dir, and a container cgroup is created there, joined by
// a process, listed, frozen, thawed and removed. (Limits need controllers the host may
// have bound to v1; the conversions are unit-tested in units_test.ts.)

import { assert, assertEquals } from "../helpers/assert.ts";
import { missingRoot, requirements } from "../helpers/requirements.ts";
import { mount, unmount } from "../../lib/linux/mount.ts";
import { CgroupV2 } from "../../lib/runtime/cgroups/mod.ts";

function missingCgroup2(): string | undefined {
  return Deno.readTextFileSync("/proc/filesystems").includes("cgroup2")
    ? undefined
    : "this test needs cgroup2 in the kernel";
}

Deno.test({
  name: "cgroup v2: create, apply, pids, freeze, destroy",
  ignore: requirements("cgroup v2 manager", missingRoot(), missingCgroup2()),
}, async () => {
  const base = await Deno.makeTempDir({ prefix: "mini-runc-cg2-" });
  mount("cgroup2", base, "cgroup2", 0);
  const sleeper = new Deno.Command("sleep", { args: ["1000"] }).spawn();
  try {
    const leaf = `${base}/mini-runc-test-${Deno.pid}/container`;
    const cgroup = new CgroupV2({ version: 2, paths: { unified: leaf }, created: [] }, base);
    cgroup.create();
    assertEquals(cgroup.location.created, [`${base}/mini-runc-test-${Deno.pid}`, leaf]);
    cgroup.apply(sleeper.pid);
    assertEquals(cgroup.pids(), [sleeper.pid]);
    assert(!cgroup.isFrozen());
    cgroup.freeze(true);
    assert(cgroup.isFrozen());
    cgroup.freeze(false);
    assert(!cgroup.isFrozen());
    sleeper.kill("SIGKILL");
    await sleeper.status;
    cgroup.destroy();
    for (const directory of cgroup.location.created) {
      let present = true;
      try {
        Deno.statSync(directory);
      } catch {
        present = false;
      }
      assert(!present, `${directory} left behind`);
    }
  } finally {
    try {
      sleeper.kill("SIGKILL");
    } catch {
      // already ended
    }
    await sleeper.status;
    unmount(base);
    await Deno.remove(base, { recursive: true });
  }
});
