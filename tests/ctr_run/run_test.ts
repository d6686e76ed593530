// `mini-ctr run` and friends end to end, as a user types them: output, stdin and exit
// status passed through; -d with `tasks ls/exec/kill/rm`; attach; the `ps axf` picture
// of mini-containerd → shim → container; clear errors that leave nothing behind.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";
import {
  BUSYBOX,
  cleanupDaemon,
  daemonWithBusybox,
  leftovers,
  needsContainers,
  uniqueNamespace,
  waitUntil,
} from "../tasks/support.ts";
import type { TestContainerd } from "../helpers/containerd.ts";

const ignore = needsContainers("mini-ctr run tests");

function ctrIn(daemon: TestContainerd, namespace: string) {
  return (args: string[], stdin?: string) =>
    daemon.ctr(["-n", namespace, ...args], {
      stdin: stdin === undefined ? undefined : new TextEncoder().encode(stdin),
    });
}

Deno.test(
  { name: "run: output, stdin and exit status pass through; --rm leaves nothing", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const ctr = ctrIn(daemon, namespace);
    try {
      const run = await ctr([
        "run",
        "--rm",
        BUSYBOX,
        "t1",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
      ]);
      assertEquals(run.code, 3, run.stderr);
      assertEquals(run.stdout, "out\n");
      assertEquals(run.stderr, "err\n");
      assertEquals(leftovers(daemon, namespace, "t1"), []);

      const echo = await ctr([
        "run",
        "--rm",
        BUSYBOX,
        "t2",
        "sh",
        "-c",
        "read line; echo got:$line",
      ], "hello\n");
      assertEquals([echo.code, echo.stdout], [0, "got:hello\n"], echo.stderr);

      const env = await ctr([
        "run",
        "--rm",
        "--env",
        "GREETING=hi",
        "--cwd",
        "/tmp",
        BUSYBOX,
        "t3",
        "sh",
        "-c",
        'echo "$GREETING $(pwd) $PATH"',
      ]);
      assertEquals(
        env.stdout,
        "hi /tmp /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
      );

      // Without --rm the task is deleted but the container stays; the image's CMD is sh.
      const kept = await ctr(["run", BUSYBOX, "t4"], "echo from-cmd; exit 9\n");
      assertEquals([kept.code, kept.stdout], [9, "from-cmd\n"], kept.stderr);
      assertMatch(
        (await ctr(["containers", "ls"])).stdout,
        /^t4\s+docker\.io\/library\/busybox:latest\s+io\.containerd\.runc\.v2$/m,
      );
      assertEquals((await ctr(["tasks", "ls", "-q"])).stdout, "");
      assertEquals((await ctr(["containers", "rm", "t4"])).code, 0);

      assertEquals((await ctr(["containers", "ls", "-q"])).stdout, "");
      const snapshots = (await ctr(["snapshots", "ls"])).stdout;
      assert(!/\bt[1-4]\b/.test(snapshots), `container snapshots left: ${snapshots}`);
      for (const id of ["t1", "t2", "t3", "t4"]) assertEquals(leftovers(daemon, namespace, id), []);
    } finally {
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test(
  { name: "run -d: tasks ls RUNNING, exec, ps, kill → STOPPED 143/137, rm", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const ctr = ctrIn(daemon, namespace);
    try {
      const started = await ctr([
        "run",
        "-d",
        BUSYBOX,
        "web",
        "sh",
        "-c",
        // One long sleep (a loop of short ones has moments with none for the exec to count).
        'trap "exit 143" TERM; sleep 1000 & wait',
      ]);
      assertEquals(started.code, 0, started.stderr);
      assertEquals(started.stdout, "");
      const listing = await ctr(["tasks", "ls"]);
      assertEquals(listing.stdout.split("\n")[0].trim().replace(/\s+/g, " "), "TASK PID STATUS");
      assertMatch(listing.stdout, /^web\s+\d+\s+RUNNING$/m);
      assertEquals((await ctr(["tasks", "pause", "web"])).code, 0);
      assertMatch((await ctr(["tasks", "ls"])).stdout, /^web\s+\d+\s+PAUSED$/m);
      assertEquals((await ctr(["tasks", "resume", "web"])).code, 0);
      assertMatch((await ctr(["tasks", "ls"])).stdout, /^web\s+\d+\s+RUNNING$/m);

      const exec = await ctr([
        "tasks",
        "exec",
        "--exec-id",
        "probe",
        "web",
        "sh",
        "-c",
        "echo from exec; ps -o comm | grep -c sleep; exit 5",
      ]);
      assertEquals(exec.code, 5, exec.stderr);
      assertEquals(exec.stdout, "from exec\n1\n");

      // An exec process killed by a signal: 128 + 15.
      assertEquals(
        (await ctr(["tasks", "exec", "-d", "--exec-id", "sleeper", "web", "sleep", "1000"])).code,
        0,
      );
      const ps = await ctr(["tasks", "ps", "web"]);
      assertEquals(ps.stdout.split("\n")[0].trim().replace(/\s+/g, " "), "PID INFO");
      assertMatch(ps.stdout, /^\d+\s+exec-id=sleeper$/m);
      const client = daemon.client(namespace);
      try {
        const sleeperExit = client.tasks.wait("web", "sleeper");
        assertEquals(
          (await ctr(["tasks", "kill", "--exec-id", "sleeper", "-s", "TERM", "web"])).code,
          0,
        );
        assertEquals((await sleeperExit).exitStatus, 143);

        // TERM to the init: its trap exits 143.
        assertEquals((await ctr(["tasks", "kill", "web"])).code, 0);
        await waitUntil(
          "web stops",
          async () => (await client.tasks.get("web")).status === "stopped",
        );
      } finally {
        client.close();
      }
      assertMatch((await ctr(["tasks", "ls"])).stdout, /^web\s+\d+\s+STOPPED$/m);
      const removed = await ctr(["tasks", "rm", "web"]);
      assertEquals(removed.stdout, "web exited with status 143\n");

      // And SIGKILL: 137, through `tasks rm -f` on a running task.
      await ctr(["containers", "rm", "web"]);
      assertEquals((await ctr(["run", "-d", BUSYBOX, "web2", "sleep", "1000"])).code, 0);
      const forced = await ctr(["tasks", "rm", "-f", "web2"]);
      assertEquals(forced.stdout, "web2 exited with status 137\n", forced.stderr);
      assertEquals((await ctr(["containers", "rm", "web2"])).code, 0);
      for (const id of ["web", "web2"]) {
        assertEquals(leftovers(daemon, namespace, id), []);
      }
    } finally {
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test(
  { name: "run: tasks attach follows a detached task's output and exit", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const ctr = ctrIn(daemon, namespace);
    try {
      const script = "while [ ! -e /tmp/go ]; do sleep 0.1; done; echo attached-output; exit 6";
      assertEquals((await ctr(["run", "-d", BUSYBOX, "box", "sh", "-c", script])).code, 0);
      const attaching = ctr(["tasks", "attach", "box"]);
      // Attach registers its FIFOs with the shim before the go signal.
      const client = daemon.client(namespace);
      try {
        await waitUntil("the shim holds the attach FIFOs", async () => {
          const { stdout } = await new Deno.Command("sh", {
            args: ["-c", `ls -l /proc/${(await client.tasks.get("box")).shimPid}/fd`],
            stdout: "piped",
          }).output();
          return new TextDecoder().decode(stdout).includes("box-stdout");
        });
      } finally {
        client.close();
      }
      assertEquals(
        (await ctr(["tasks", "exec", "--exec-id", "go", "box", "touch", "/tmp/go"])).code,
        0,
      );
      const attached = await attaching;
      assertEquals([attached.code, attached.stdout], [6, "attached-output\n"], attached.stderr);
      assertEquals((await ctr(["tasks", "rm", "box"])).code, 0);
      assertEquals((await ctr(["containers", "rm", "box"])).code, 0);
    } finally {
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test({
  name: "run: ps axf shows mini-containerd → shim (with its v1 flags) → the container",
  ignore: ignore || requirements("ps axf", missingTool("ps")),
}, async () => {
  const namespace = uniqueNamespace();
  const daemon = await daemonWithBusybox(namespace);
  const ctr = ctrIn(daemon, namespace);
  try {
    assertEquals((await ctr(["run", "-d", BUSYBOX, "tree", "sleep", "4242"])).code, 0);
    const output = await new Deno.Command("ps", {
      args: ["axf", "-o", "pid,ppid,args"],
      stdout: "piped",
    })
      .output();
    const lines = new TextDecoder().decode(output.stdout).split("\n");
    const daemonLine = lines.findIndex((line) => line.trim().startsWith(`${daemon.pid} `));
    assert(daemonLine >= 0, "mini-containerd is in ps axf");
    const shimLine = lines.findIndex((line) => line.includes(`-namespace ${namespace} -id tree`));
    assert(shimLine > daemonLine, lines.join("\n"));
    const shim = lines[shimLine];
    assertMatch(
      shim,
      new RegExp(`^\\s*\\d+\\s+${daemon.pid}\\s+[|\\s]*\\\\_ `),
      "the shim is the daemon's child",
    );
    assertStringIncludes(
      shim,
      `-address ${daemon.paths.address} -workdir ${daemon.paths.state}/io.containerd.runtime.v2.task/${namespace}/tree`,
    );
    assertMatch(lines[shimLine + 1], /\\_ sleep 4242/, "the container is the shim's child");
    const removed = await ctr(["tasks", "rm", "-f", "tree"]);
    assertEquals(removed.code, 0, removed.stderr);
    assertEquals((await ctr(["containers", "rm", "tree"])).code, 0);
  } finally {
    await cleanupDaemon(daemon, namespace);
  }
});

Deno.test(
  { name: "run: --net-host shares the network, --memory-limit OOM-kills with 137", ignore },
  async () => {
    const namespace = uniqueNamespace();
    const daemon = await daemonWithBusybox(namespace);
    const ctr = ctrIn(daemon, namespace);
    try {
      const interfaces = (text: string) =>
        text.split("\n").slice(2).filter((line) => line.includes(":")).map((line) =>
          line.split(":")[0].trim()
        ).sort();
      const isolated = await ctr(["run", "--rm", BUSYBOX, "n1", "cat", "/proc/net/dev"]);
      assertEquals(interfaces(isolated.stdout), ["lo"], isolated.stderr);
      const shared = await ctr([
        "run",
        "--rm",
        "--net-host",
        BUSYBOX,
        "n2",
        "cat",
        "/proc/net/dev",
      ]);
      const host = interfaces(await Deno.readTextFile("/proc/net/dev"));
      assertEquals(interfaces(shared.stdout), host);

      const hog = await ctr([
        "run",
        "--rm",
        "--memory-limit",
        "24m",
        BUSYBOX,
        "hog",
        "sh",
        "-c",
        "a=xxxxxxxxxxxxxxxx; while true; do a=$a$a; done",
      ]);
      assertEquals(hog.code, 137, hog.stderr);
      for (const id of ["n1", "n2", "hog"]) assertEquals(leftovers(daemon, namespace, id), []);
    } finally {
      await cleanupDaemon(daemon, namespace);
    }
  },
);

Deno.test({
  name: "run: unknown image, duplicate ID, missing command: clear errors, nothing left",
  ignore,
}, async () => {
  const namespace = uniqueNamespace();
  const daemon = await daemonWithBusybox(namespace);
  const ctr = ctrIn(daemon, namespace);
  try {
    const unknown = await ctr(["run", "--rm", "docker.io/library/nope:latest", "u1", "true"]);
    assertEquals(unknown.code, 1);
    assertMatch(unknown.stderr, /^ctr: image "docker.io\/library\/nope:latest" not found/);
    assertEquals((await ctr(["containers", "ls", "-q"])).stdout, "");

    assertEquals((await ctr(["run", "-d", BUSYBOX, "same", "sleep", "1000"])).code, 0);
    const duplicate = await ctr(["run", "--rm", BUSYBOX, "same", "true"]);
    assertEquals(duplicate.code, 1);
    assertMatch(duplicate.stderr, /container "same" already exists/);
    // The first one is untouched.
    assertMatch((await ctr(["tasks", "ls"])).stdout, /^same\s+\d+\s+RUNNING$/m);
    await ctr(["tasks", "rm", "-f", "same"]);
    await ctr(["containers", "rm", "same"]);

    const missing = await ctr(["run", "--rm", BUSYBOX, "m1", "/no/such/command"]);
    assertEquals(missing.code, 1);
    assertStringIncludes(missing.stderr, "/no/such/command");
    const badFlag = await ctr(["run", "--bogus", BUSYBOX, "m3"]);
    assertEquals(badFlag.code, 1);
    assertMatch(badFlag.stderr, /flag provided but not defined: --bogus/);

    assertEquals((await ctr(["containers", "ls", "-q"])).stdout, "");
    assertEquals((await ctr(["tasks", "ls", "-q"])).stdout, "");
    for (const id of ["u1", "same", "m1"]) assertEquals(leftovers(daemon, namespace, id), []);
  } finally {
    await cleanupDaemon(daemon, namespace);
  }
});

Deno.test({ name: "run -t and tasks exec -t: the process gets a terminal", ignore }, async () => {
  const namespace = uniqueNamespace();
  const daemon = await daemonWithBusybox(namespace);
  const ctr = ctrIn(daemon, namespace);
  try {
    // Through a terminal, output lines end in \r\n and there is no separate stderr.
    const run = await ctr([
      "run",
      "--rm",
      "-t",
      BUSYBOX,
      "tty1",
      "sh",
      "-c",
      "tty; echo err >&2; exit 3",
    ]);
    assertEquals(run.code, 3, run.stderr);
    assertMatch(run.stdout, /^\/dev\/pts\/\d+\r\nerr\r\n$/);
    assertEquals(run.stderr, "");

    assertEquals((await ctr(["run", "-d", "-t", BUSYBOX, "tty2", "sh"])).code, 0);
    const exec = await ctr(
      [
        "tasks",
        "exec",
        "-t",
        "--exec-id",
        "shell",
        "tty2",
        "sh",
        "-c",
        "read line; echo got:$line; exit 7",
      ],
      "typed\n",
    );
    assertEquals(exec.code, 7, exec.stderr);
    assertStringIncludes(exec.stdout, "got:typed\r\n");
    const detached = await ctr(["tasks", "exec", "-d", "-t", "--exec-id", "x", "tty2", "true"]);
    assertEquals(detached.code, 1);
    assertMatch(detached.stderr, /cannot be used with -d/);
    assertEquals((await ctr(["tasks", "rm", "-f", "tty2"])).code, 0);
    assertEquals((await ctr(["containers", "rm", "tty2"])).code, 0);
    for (const id of ["tty1", "tty2"]) assertEquals(leftovers(daemon, namespace, id), []);
  } finally {
    await cleanupDaemon(daemon, namespace);
  }
});
