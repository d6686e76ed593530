// Optional conformance, one level up: the real dockerd (Debian's docker.io, on its own
// temp paths and socket, no bridge, no iptables) with mini-runc added as a runtime
// (`--add-runtime mini=...`). `docker run --runtime mini` goes dockerd → containerd →
// containerd-shim-runc-v2 → mini-runc: output, exit status, exec, top, stop, OOM.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { writeBaseImageArchive } from "../../lib/base_image/mod.ts";
import { readMountInfo } from "../../lib/linux/mountinfo.ts";
import { unmount, UnmountFlags } from "../../lib/linux/mount.ts";
import { miniRuncEntry } from "./support.ts";

const ignore = requirements(
  "dockerd runs containers through mini-runc",
  missingRoot(),
  missingTool("containerd"),
  missingTool("dockerd"),
  missingTool("docker"),
  missingTool("busybox"),
);

const containerdConfig = `version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
`;

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], env?: Record<string, string>) {
  const output = await new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  } satisfies Output;
}

function spawnDaemon(command: string, args: string[], logPath: string): Deno.ChildProcess {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  (async () => {
    const file = await Deno.open(logPath, { write: true, create: true });
    await child.stderr.pipeTo(file.writable).catch(() => {});
  })();
  return child;
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // already gone
  }
  await child.status;
}

Deno.test({ name: "real dockerd runs busybox through mini-runc", ignore }, async () => {
  const base = await Deno.makeTempDir({ prefix: "mini-runc-dockerd-" });
  const wrapper = `${base}/mini-runc`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\nexec "${Deno.execPath()}" run --allow-all --quiet "${miniRuncEntry}" "$@"\n`,
    { mode: 0o755 },
  );
  await Deno.writeTextFile(`${base}/containerd.toml`, containerdConfig);
  const archive = `${base}/busybox.tar`;
  await writeBaseImageArchive(archive);
  const containerdSocket = `${base}/containerd.sock`;
  const dockerSocket = `${base}/docker.sock`;
  const containerd = spawnDaemon("containerd", [
    "--config",
    `${base}/containerd.toml`,
    "--root",
    `${base}/containerd-root`,
    "--state",
    `${base}/containerd-state`,
    "--address",
    containerdSocket,
  ], `${base}/containerd.log`);
  let dockerd: Deno.ChildProcess | undefined;
  const env = { DOCKER_HOST: `unix://${dockerSocket}` };
  const docker = (args: string[]) => run("docker", args, env);
  try {
    dockerd = spawnDaemon("dockerd", [
      "--containerd",
      containerdSocket,
      "--data-root",
      `${base}/docker-data`,
      "--exec-root",
      `${base}/docker-exec`,
      "-H",
      `unix://${dockerSocket}`,
      "--pidfile",
      `${base}/docker.pid`,
      "--bridge",
      "none",
      "--iptables=false",
      "--ip6tables=false",
      "--add-runtime",
      `mini=${wrapper}`,
    ], `${base}/dockerd.log`);
    let ready = false;
    for (let attempt = 0; attempt < 300 && !ready; attempt++) {
      ready = (await docker(["version"])).code === 0;
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert(ready, `dockerd did not start: ${await Deno.readTextFile(`${base}/dockerd.log`)}`);
    const loaded = await docker(["load", "-i", archive]);
    assertEquals(loaded.code, 0, loaded.stderr);

    const runArgs = ["run", "--runtime", "mini", "--network", "none"];
    const foreground = await docker([...runArgs, "--rm", "busybox", "sh", "-c", "echo hi; exit 3"]);
    assertEquals(foreground.stdout, "hi\n", foreground.stderr);
    assertEquals(foreground.code, 3);

    const detached = await docker([
      ...runArgs,
      "-d",
      "--name",
      "mini-d1",
      "busybox",
      "sleep",
      "1000",
    ]);
    assertEquals(detached.code, 0, detached.stderr);
    const exec = await docker(["exec", "mini-d1", "sh", "-c", "ps -o pid,comm | grep -c sleep"]);
    assertEquals(exec.stdout, "1\n", exec.stderr);
    const top = await docker(["top", "mini-d1"]);
    assertStringIncludes(top.stdout, "sleep 1000");
    assertEquals((await docker(["stop", "-t", "1", "mini-d1"])).code, 0);
    const inspected = await docker(["inspect", "-f", "{{.State.ExitCode}}", "mini-d1"]);
    assertEquals(inspected.stdout.trim(), "137"); // PID 1 ignores SIGTERM; stop sends KILL
    assertEquals((await docker(["rm", "mini-d1"])).code, 0);

    const oom = await docker([
      ...runArgs,
      "--rm",
      "-m",
      "32m",
      "--memory-swap",
      "32m",
      "busybox",
      "tail",
      "/dev/zero",
    ]);
    assertEquals(oom.code, 137);
  } finally {
    await docker(["rm", "-f", "mini-d1"]);
    if (dockerd) await stop(dockerd);
    await stop(containerd);
    // dockerd leaves bind mounts (netns, overlay) under its roots: detach them first.
    for (const mount of readMountInfo().reverse()) {
      if (mount.mountPoint.startsWith(base)) {
        try {
          unmount(mount.mountPoint, UnmountFlags.DETACH);
        } catch {
          // already gone
        }
      }
    }
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
});
