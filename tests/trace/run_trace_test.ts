// `mini-docker --trace run --rm busybox true` against a real mini-dockerd: every stage
// of a container's start appears, in order, from the process that does it, indented by
// its distance from the CLI. Without --trace nothing is written, and a hostile trace
// header makes the daemon write nowhere.

import { assert, assertEquals } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, requirements } from "../helpers/requirements.ts";
import { run, TestDockerd } from "../helpers/dockerd.ts";
import { join } from "node:path";

const REPO = new URL("../../", import.meta.url).pathname;

/** The stages a traced `run --rm` must show, in this order: process, then step. */
const EXPECTED_STAGES: [string, RegExp][] = [
  ["mini-docker", /^POST \/v1\.41\/containers\/create/],
  ["mini-dockerd", /^POST \/containers\/create/],
  ["mini-docker", /^POST \/v1\.41\/containers\/\S+\/start/],
  ["mini-dockerd", /^POST \/containers\/\S+\/start/],
  ["mini-dockerd", /^mount -t overlay overlay .* -o .*lowerdir=.*upperdir=.*workdir=/],
  ["mini-containerd", /^Containers\/Create/],
  ["mini-containerd", /^Tasks\/Create/],
  ["mini-containerd", /^start mini-containerd-shim .*-namespace moby/],
  ["mini-containerd-shim", /^serving the task API/],
  ["mini-containerd-shim", /^Task\/Create/],
  ["mini-runc", /^init spawned, config sent .*namespaces: .*pid/],
  ["mini-runc", /^cgroup created/],
  ["mini-runc init", /^unshare\/setns: namespaces/],
  ["mini-runc init", /^mounts .*proc \/proc/],
  ["mini-runc init", /^pivot_root/],
  ["mini-runc", /^init ready/],
  ["mini-containerd", /^Tasks\/Start/],
  ["mini-runc", /^start: open the exec FIFO/],
  ["mini-runc init", /^rlimits, uid\/gid, capabilities/],
  ["mini-runc init", /^execve +\/bin\/true/],
  ["mini-containerd-shim", /^reaped .*exited with status 0/],
  ["mini-dockerd", /^event \/tasks\/exit from mini-containerd: exit status 0/],
  ["mini-containerd", /^Tasks\/Delete/],
  ["mini-runc", /^delete: cgroup and state removed/],
  ["mini-containerd", /^Containers\/Delete/],
  ["mini-dockerd", /^umount /],
];

/** Depth of each program below the CLI (one hop = two spaces of indentation). */
const DEPTHS: Record<string, number> = {
  "mini-docker": 0,
  "mini-dockerd": 1,
  "mini-containerd": 2,
  "mini-containerd-shim": 3,
  "mini-runc": 4,
  "mini-runc init": 5,
};

interface TraceLine {
  ms: number;
  indent: number;
  process: string;
  step: string;
}

/** Parses `  12.3 ms    mini-dockerd[812]   POST /containers/create`. */
function parseTraceLines(stderr: string): TraceLine[] {
  const lines: TraceLine[] = [];
  for (const line of stderr.split("\n")) {
    const match = /^ *(\d+\.\d) ms {2}( *)([a-z-]+(?: [a-z-]+)?(?: \(in-process\))?)\[\d+\] +(.*)$/
      .exec(line);
    if (!match) continue;
    lines.push({
      ms: Number(match[1]),
      indent: match[2].length,
      process: match[3].replace(" (in-process)", ""),
      step: match[4],
    });
  }
  return lines;
}

/** Where the CLI and the daemons put traces (no test changes it: they run in parallel). */
const TRACE_ROOT = "/run/mini-trace";

/** Trace directories a CLI process left in the trace root (they are named after its pid). */
function leftBehindBy(stderr: string): string[] {
  const pid = /mini-docker\[(\d+)\]/.exec(stderr)?.[1];
  assert(pid !== undefined, `no mini-docker line in the trace:\n${stderr}`);
  return [...Deno.readDirSync(TRACE_ROOT)].map((entry) => entry.name)
    .filter((name) => name.startsWith(`trace-${pid}-`));
}

Deno.test({
  name: "mini-docker --trace run --rm busybox true shows every stage in order",
  ignore: requirements("trace of a container run", missingRoot(), missingOverlay()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const daemon = await TestDockerd.start({ config: { bridge: "none" } });
    const miniDocker = (args: string[], env: Record<string, string> = {}) =>
      run(Deno.execPath(), [
        "run",
        "--allow-all",
        "--quiet",
        join(REPO, "cmd/mini_docker.ts"),
        "-H",
        daemon.dockerHost,
        ...args,
      ], { env });
    try {
      await daemon.loadBusybox();

      await t.step("each stage appears, in order, from its own process", async () => {
        const result = await miniDocker(["--trace", "run", "--rm", "busybox", "true"]);
        assertEquals(result.code, 0, result.stderr);
        assertEquals(result.stdout, "");
        const lines = parseTraceLines(result.stderr);
        let from = 0;
        for (const [process, step] of EXPECTED_STAGES) {
          const found = lines.findIndex((line, index) =>
            index >= from && line.process === process && step.test(line.step)
          );
          assert(
            found >= 0,
            `no "${process}: ${step.source}" after line ${from} in the trace:\n${result.stderr}`,
          );
          from = found + 1;
        }
        for (const line of lines) {
          // The shim calling back into mini-containerd (to forward events) is one hop deeper.
          const calledByShim = line.process === "mini-containerd" && line.step.startsWith("event ");
          const depth = calledByShim ? DEPTHS["mini-containerd-shim"] + 1 : DEPTHS[line.process];
          assertEquals(line.indent, depth * 2, `indentation of ${line.process}: ${line.step}`);
        }
        const times = lines.map((line) => line.ms);
        assert(times.every((ms) => Number.isFinite(ms) && ms >= 0), "every line has a time");
        assertEquals(leftBehindBy(result.stderr), [], "the trace file is removed afterwards");
      });

      await t.step("MINI_TRACE=1 does the same as --trace", async () => {
        const result = await miniDocker(["run", "--rm", "busybox", "true"], { MINI_TRACE: "1" });
        assertEquals(result.code, 0, result.stderr);
        const processes = new Set(parseTraceLines(result.stderr).map((line) => line.process));
        for (const process of Object.keys(DEPTHS)) assert(processes.has(process), process);
      });

      await t.step("an exec is traced down to its own init", async () => {
        const started = await miniDocker(["run", "-d", "busybox", "sleep", "60"]);
        assertEquals(started.code, 0, started.stderr);
        const id = started.stdout.trim();
        try {
          const result = await miniDocker(["--trace", "exec", id, "echo", "inside"]);
          assertEquals(result.code, 0, result.stderr);
          assertEquals(result.stdout, "inside\n");
          const lines = parseTraceLines(result.stderr);
          const stages: [string, RegExp][] = [
            ["mini-dockerd", /^POST \/exec\/\S+\/start/],
            ["mini-containerd", /^Tasks\/Exec/],
            ["mini-containerd-shim", /^Task\/Exec/],
            ["mini-runc init", /^setns: joined the container's namespaces/],
            ["mini-runc init", /^execve +\/bin\/echo inside/],
          ];
          let from = 0;
          for (const [process, step] of stages) {
            const found = lines.findIndex((line, index) =>
              index >= from && line.process === process && step.test(line.step)
            );
            assert(found >= 0, `no "${process}: ${step.source}" in:\n${result.stderr}`);
            from = found + 1;
          }
        } finally {
          await miniDocker(["rm", "-f", id]);
        }
      });

      await t.step("without --trace nothing is traced or written", async () => {
        // Were the CLI to trace, it would create its file under this (empty) root.
        const emptyRoot = await Deno.makeTempDir({ prefix: "mini-trace-unused-" });
        const result = await miniDocker(["run", "--rm", "busybox", "echo", "quiet"], {
          MINI_TRACE_ROOT: emptyRoot,
        });
        assertEquals(result.code, 0, result.stderr);
        assertEquals(result.stdout, "quiet\n");
        assertEquals(result.stderr, "");
        assertEquals([...Deno.readDirSync(emptyRoot)], []);
        await Deno.remove(emptyRoot);
      });

      await t.step("a hostile trace header makes the daemon write nowhere", async () => {
        const victimDirectory = await Deno.makeTempDir({ prefix: "mini-trace-victim-" });
        const victim = join(victimDirectory, "passwd");
        await Deno.writeTextFile(victim, "root:x:0:0::/root:/bin/sh\n");
        // A symlink inside the trace root itself, pointing at the victim.
        await Deno.mkdir(TRACE_ROOT, { recursive: true, mode: 0o700 });
        const evil = await Deno.makeTempDir({ dir: TRACE_ROOT, prefix: "evil-" });
        await Deno.symlink(victim, join(evil, "trace.jsonl"));
        try {
          for (
            const file of [
              victim,
              "/etc/passwd",
              join(evil, "trace.jsonl"),
              `${evil}/../../${victim}`,
            ]
          ) {
            const response = await daemon.api("POST", "/v1.41/containers/create", {
              Image: "busybox",
              Cmd: ["true"],
            }, { "mini-trace": `depth=1; file=${file}` });
            assertEquals(response.status, 201, `create with a trace header naming ${file}`);
            const { Id } = await response.json();
            const removed = await daemon.api("DELETE", `/v1.41/containers/${Id}?force=1`);
            await removed.body?.cancel();
          }
          assertEquals(await Deno.readTextFile(victim), "root:x:0:0::/root:/bin/sh\n");
        } finally {
          await Deno.remove(evil, { recursive: true });
          await Deno.remove(victimDirectory, { recursive: true });
        }
      });
    } finally {
      await daemon.cleanup();
    }
  },
});
