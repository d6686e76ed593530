// The classic lab's lessons 3 and 4, checked against mini-dockerd with the real docker
// CLI. Lesson 3: `docker run -d`, `docker inspect` → GraphDriver with real paths; a file
// written by `docker exec` lands in UpperDir and shows in MergedDir (and nowhere
// else); the `-init` layer holds the mount points; every layer's `l/` short link
// resolves; `rm -f` leaves no mount. Lesson 4: `ps axf` shows mini-dockerd →
// mini-containerd → a shim with `-namespace moby -workdir ... -address ...`;
// `mini-ctr -n moby containers ls` and `tasks ls` show dockerd's container while
// `mini-ctr -n moby images ls` is empty (dockerd keeps its own images).

import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import { containerTestIgnored, mountsBelow, withDaemon } from "./containers_fixture.ts";

const ignore = containerTestIgnored("lab lessons 3 and 4 (overlay2 on disk, components)");

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test(
  { name: "lab 3: overlay2 on disk — GraphDriver, UpperDir, -init, l/ links", ignore },
  async () => {
    await withDaemon({}, async (daemon) => {
      const overlay2 = join(daemon.paths.dataRoot, "overlay2");
      const run = await daemon.docker(["run", "-d", "--name", "web", "busybox", "sleep", "300"]);
      assertEquals(run.code, 0, run.stderr);
      const [inspect] = JSON.parse((await daemon.docker(["inspect", "web"])).stdout);
      const data = inspect.GraphDriver.Data as Record<string, string>;
      assertEquals(inspect.GraphDriver.Name, "overlay2");

      // Paths and layout: <mount-id>/{diff,work,merged}, LowerDir = <mount-id>-init/diff:<image layer>/diff.
      const mountId = data.UpperDir.slice(overlay2.length + 1, -"/diff".length);
      assertEquals(data.UpperDir, join(overlay2, mountId, "diff"));
      assertEquals(data.WorkDir, join(overlay2, mountId, "work"));
      assertEquals(data.MergedDir, join(overlay2, mountId, "merged"));
      const lowers = data.LowerDir.split(":");
      assertEquals(lowers[0], join(overlay2, `${mountId}-init`, "diff"));
      assert(lowers.length >= 2, data.LowerDir);
      for (const path of [data.UpperDir, data.WorkDir, data.MergedDir, ...lowers]) {
        assert(Deno.statSync(path).isDirectory, path);
      }
      const layerdbMount = join(daemon.paths.dataRoot, "image/overlay2/layerdb/mounts", inspect.Id);
      assertEquals(Deno.readTextFileSync(join(layerdbMount, "mount-id")).trim(), mountId);
      assertEquals(Deno.readTextFileSync(join(layerdbMount, "init-id")).trim(), `${mountId}-init`);

      // MergedDir is an overlay mount made of exactly these directories.
      const mount = readMountInfo().find((entry) => entry.mountPoint === data.MergedDir);
      assert(mount, "MergedDir is not mounted");
      assertEquals(mount!.fstype, "overlay");

      // A write in the container lands in UpperDir and shows in MergedDir only.
      const exec = await daemon.docker([
        "exec",
        "web",
        "sh",
        "-c",
        "echo hi > /hello-from-container",
      ]);
      assertEquals(exec.code, 0, exec.stderr);
      assertEquals(Deno.readTextFileSync(join(data.UpperDir, "hello-from-container")), "hi\n");
      assertEquals(Deno.readTextFileSync(join(data.MergedDir, "hello-from-container")), "hi\n");
      for (const lower of lowers) assert(!exists(join(lower, "hello-from-container")), lower);

      // The -init layer holds the mount points and the marker files.
      const init = lowers[0];
      for (
        const path of [".dockerenv", "etc/hosts", "etc/hostname", "etc/resolv.conf", "dev/console"]
      ) {
        assert(Deno.statSync(join(init, path)).isFile, `-init/${path}`);
      }
      // Directories are only created where the image lacks them: each exists in a lower.
      for (const path of ["proc", "sys", "dev/pts", "dev/shm"]) {
        assert(lowers.some((lower) => exists(join(lower, path))), `mount point /${path}`);
      }
      assertEquals(Deno.readLinkSync(join(init, "etc/mtab")), "/proc/mounts");

      // Every layer's short link resolves to its diff directory.
      for (
        const layer of [
          mountId,
          `${mountId}-init`,
          ...lowers.slice(1).map((lower) => lower.split("/").at(-2)!),
        ]
      ) {
        const link = Deno.readTextFileSync(join(overlay2, layer, "link")).trim();
        assertEquals(link.length, 26);
        assertEquals(Deno.readLinkSync(join(overlay2, "l", link)), `../${layer}/diff`);
        assertEquals(Deno.realPathSync(join(overlay2, "l", link)), join(overlay2, layer, "diff"));
      }
      const lowerFile = Deno.readTextFileSync(join(overlay2, mountId, "lower")).trim();
      assertEquals(
        lowerFile.split(":")[0],
        `l/${Deno.readTextFileSync(join(overlay2, `${mountId}-init`, "link")).trim()}`,
      );

      // rm -f: the mount and both container layers are gone, the image's layer stays.
      const removed = await daemon.docker(["rm", "-f", "web"]);
      assertEquals(removed.code, 0, removed.stderr);
      assertEquals(mountsBelow(daemon), []);
      assert(!exists(join(overlay2, mountId)) && !exists(join(overlay2, `${mountId}-init`)));
      for (const lower of lowers.slice(1)) {
        assert(exists(lower), `image layer ${lower} went with the container`);
      }
    });
  },
);

/** pid → [ppid, command line] for every process. */
function processTable(): Map<number, [number, string]> {
  const table = new Map<number, [number, string]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ")
        .trim();
      table.set(Number(entry.name), [ppid, cmdline]);
    } catch { /* exited meanwhile */ }
  }
  return table;
}

Deno.test({ name: "lab 4: components — process tree and the moby namespace", ignore }, async () => {
  await withDaemon({}, async (daemon) => {
    const run = await daemon.docker(["run", "-d", "--name", "web", "busybox", "sleep", "300"]);
    const id = run.stdout.trim();

    // ps axf: mini-dockerd → mini-containerd (naming its socket) → shim (-namespace moby ...).
    const table = processTable();
    const containerd = await daemon.containerdPid();
    assert(containerd !== undefined);
    const [containerdParent, containerdLine] = table.get(containerd!)!;
    assertEquals(containerdParent, daemon.pid, "mini-containerd is not mini-dockerd's child");
    assertStringIncludes(containerdLine, "mini_containerd.ts");
    assertStringIncludes(containerdLine, `--address ${daemon.containerdSocket}`);
    const shims = [...table].filter(([, [parent, line]]) =>
      parent === containerd && line.includes("mini_containerd_shim") && line.includes(`-id ${id}`)
    );
    assertEquals(shims.length, 1, "no shim under mini-containerd for the container");
    const shimLine = shims[0][1][1];
    assertStringIncludes(shimLine, "-namespace moby");
    assertStringIncludes(shimLine, `-address ${daemon.containerdSocket}`);
    assertStringIncludes(shimLine, `-workdir ${join(daemon.paths.execRoot, "containerd")}`);
    const pid = Number((await daemon.docker(["inspect", "-f", "{{.State.Pid}}", "web"])).stdout);
    assertEquals(table.get(pid)?.[0], shims[0][0], "the container's init is not the shim's child");

    // mini-ctr sees dockerd's container and task in `moby`, but none of its images.
    const namespaces = await daemon.ctr(["namespaces", "ls"]);
    assertStringIncludes(namespaces.stdout, "moby");
    const containers = await daemon.ctr(["-n", "moby", "containers", "ls"]);
    assertStringIncludes(containers.stdout, id);
    const tasks = await daemon.ctr(["-n", "moby", "tasks", "ls"]);
    assertStringIncludes(tasks.stdout, id);
    assertStringIncludes(tasks.stdout, "RUNNING");
    const images = await daemon.ctr(["-n", "moby", "images", "ls"]);
    assertEquals(images.code, 0, images.stderr);
    assert(!images.stdout.includes("busybox"), images.stdout);
    assertEquals(images.stdout.trim().split("\n").length, 1, images.stdout); // the header only
  });
});
