// Conformance that no one here wrote: the real containerd (Debian's package), started on
// temp paths, runs a busybox image through mini-runc with `ctr run --runc-binary`. Its
// shim (containerd-shim-runc-v2) drives mini-runc with runc's exact command lines:
// create/start/state/kill/delete, exec --process --detach, ps --format json.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { writeBaseImageArchive } from "../../lib/base_image/mod.ts";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import { cgroupManagerFor } from "../../lib/runtime/cgroups/mod.ts";
import { miniRuncEntry } from "./support.ts";

const ignore = requirements(
  "containerd runs containers through mini-runc",
  missingRoot(),
  missingTool("containerd"),
  missingTool("ctr"),
  missingTool("containerd-shim-runc-v2"),
  missingTool("busybox"),
);

const minimalConfig = `version = 2
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]
`;

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** A real containerd on temp paths, and ctr pointed at it. */
class RealContainerd {
  private constructor(
    readonly base: string,
    readonly address: string,
    readonly namespace: string,
    private readonly process: Deno.ChildProcess,
  ) {}

  static async start(base: string): Promise<RealContainerd> {
    await Deno.writeTextFile(`${base}/config.toml`, minimalConfig);
    const address = `${base}/containerd.sock`;
    const process = new Deno.Command("containerd", {
      args: [
        "--config",
        `${base}/config.toml`,
        "--root",
        `${base}/root`,
        "--state",
        `${base}/state`,
        "--address",
        address,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Keep the daemon's log for failure messages, without blocking it on a full pipe.
    (async () => {
      const file = await Deno.open(`${base}/containerd.log`, { write: true, create: true });
      await process.stderr.pipeTo(file.writable).catch(() => {});
    })();
    const daemon = new RealContainerd(base, address, `mini-runc-test-${Deno.pid}`, process);
    for (let attempt = 0; attempt < 200; attempt++) {
      if ((await daemon.ctr(["version"])).code === 0) return daemon;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`containerd did not start:\n${await daemon.log()}`);
  }

  async log(): Promise<string> {
    return await Deno.readTextFile(`${this.base}/containerd.log`).catch(() => "");
  }

  async ctr(args: string[]): Promise<Output> {
    const output = await new Deno.Command("ctr", {
      args: ["--address", this.address, "--namespace", this.namespace, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  }

  /** Ends containerd by its PID and waits for it. */
  async stop(): Promise<void> {
    try {
      this.process.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.process.status;
  }
}

Deno.test({ name: "real containerd runs busybox through mini-runc", ignore }, async () => {
  const base = await Deno.makeTempDir({ prefix: "mini-runc-containerd-" });
  const wrapper = `${base}/mini-runc`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\nexec "${Deno.execPath()}" run --allow-all --quiet "${miniRuncEntry}" "$@"\n`,
    { mode: 0o755 },
  );
  const archive = `${base}/busybox.tar`;
  const image = await writeBaseImageArchive(archive);
  const daemon = await RealContainerd.start(base);
  const ids = ["ctr-run", "ctr-detached"];
  try {
    const imported = await daemon.ctr(["images", "import", archive]);
    assertEquals(imported.code, 0, imported.stderr);

    // Foreground: output and exit status intact.
    const run = await daemon.ctr([
      "run",
      "--rm",
      "--runc-binary",
      wrapper,
      image.name,
      ids[0],
      "sh",
      "-c",
      "echo hi; echo err >&2; exit 3",
    ]);
    assertEquals(run.stdout, "hi\n", `${run.stderr}\n${await daemon.log()}`);
    assertStringIncludes(run.stderr, "err");
    assertEquals(run.code, 3);

    // Detached task, then exec, ps and kill through the shim.
    const detached = await daemon.ctr([
      "run",
      "-d",
      "--runc-binary",
      wrapper,
      image.name,
      ids[1],
      "sleep",
      "1000",
    ]);
    assertEquals(detached.code, 0, detached.stderr);
    const exec = await daemon.ctr([
      "tasks",
      "exec",
      "--exec-id",
      "probe",
      ids[1],
      "sh",
      "-c",
      "echo from exec; ps -o pid,comm | grep -c sleep; exit 5",
    ]);
    assertEquals(exec.stdout, "from exec\n1\n", exec.stderr);
    assertEquals(exec.code, 5);
    const ps = await daemon.ctr(["tasks", "ps", ids[1]]);
    assertEquals(ps.code, 0, ps.stderr);
    assert(ps.stdout.trim().split("\n").length >= 2, ps.stdout);
    const listed = await daemon.ctr(["tasks", "ls"]);
    assertStringIncludes(listed.stdout, "RUNNING");
    assertEquals((await daemon.ctr(["tasks", "kill", "--signal", "KILL", ids[1]])).code, 0);
    for (let attempt = 0; attempt < 200; attempt++) {
      if ((await daemon.ctr(["tasks", "ls"])).stdout.includes("STOPPED")) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const removed = await daemon.ctr(["tasks", "rm", ids[1]]);
    assertEquals(removed.code, 0, removed.stderr);
    assertEquals((await daemon.ctr(["containers", "rm", ids[1]])).code, 0);

    // Nothing left: no mini-runc state, cgroup (ctr uses /<namespace>/<id>) or mount.
    const runcRoot = `/run/containerd/runc/${daemon.namespace}`;
    for (const id of ids) {
      let stateLeft = true;
      try {
        Deno.statSync(`${runcRoot}/${id}`);
      } catch {
        stateLeft = false;
      }
      assert(!stateLeft, `mini-runc state for ${id} left in ${runcRoot}`);
      const paths = cgroupManagerFor(id, `/${daemon.namespace}/${id}`).location.paths;
      for (const directory of Object.values(paths)) {
        let present = true;
        try {
          Deno.statSync(directory);
        } catch {
          present = false;
        }
        assert(!present, `cgroup ${directory} left behind`);
      }
    }
    const mounts = readMountInfo().filter((mount) => mount.mountPoint.startsWith(base));
    assertEquals(mounts.map((mount) => mount.mountPoint), []);
  } finally {
    for (const id of ids) {
      await daemon.ctr(["tasks", "kill", "--signal", "KILL", id]);
      await daemon.ctr(["tasks", "rm", "--force", id]);
      await daemon.ctr(["containers", "rm", id]);
    }
    await daemon.ctr(["images", "rm", image.name]);
    await daemon.stop();
    await Deno.remove(`/run/containerd/runc/${daemon.namespace}`, { recursive: true })
      .catch(() => {});
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
});
