// Issue 6's command list, case by case, through BOTH clients — the real docker 28 CLI
// and mini-docker — against one mini-dockerd on temp roots. Each case checks a real
// effect (the cgroup file a `-m` wrote, `id -u` after `-u`, the exit status `wait`
// prints, what `prune` removed), not just an exit code; the "same output" cases run a
// command through both clients on the same state and compare stdout (IDs and
// durations blanked). After each case every container is removed and nothing may be
// left (mounts, shims, cgroups, containerd tasks). Ports (-p/-P/port) live in the
// networking tests. Mirrors docker/cli's e2e tests (e2e/container/run_test.go & co).

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import type { CommandResult, TestDockerd } from "../helpers/dockerd.ts";
import {
  containerTestIgnored,
  eventually,
  finish,
  removeAllAndCheck,
  startDaemon,
} from "../dockerd/containers_fixture.ts";
import { missingDocker28 } from "./support.ts";
import {
  memoryLimit,
  type ParityClient,
  parityClients,
  pidsLimit,
  terminalSession,
  withoutRunDetails,
} from "./parity_support.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";
import { TestRegistry } from "../registry/support/registry.ts";
import { join } from "node:path";

/** What a case may use besides the daemon: a registry on 127.0.0.1 (docker-registry). */
interface Peers {
  registry: TestRegistry;
}

/** One row of the table: run through each client in turn, on a daemon with busybox. */
interface ParityCase {
  name: string;
  run(client: ParityClient, daemon: TestDockerd, peers: Peers): Promise<void>;
}

function ok(result: CommandResult, what: string): string {
  assertEquals(result.code, 0, `${what} failed (${result.code}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** `run -d --name NAME ARGS...` through the client's CLI, which must succeed. */
async function runDetached(client: ParityClient, name: string, args: string[]): Promise<void> {
  ok(await client.cli(["run", "-d", "--name", name, ...args]), "run");
}

async function pidOf(client: ParityClient, name: string): Promise<number> {
  const pid = Number(ok(await client.cli(["inspect", "-f", "{{.State.Pid}}", name]), "inspect"));
  assert(pid > 0, `${name} has no pid`);
  return pid;
}

/** Waits until the container's log holds `text` (the API, not a sleep, decides). */
async function logsContain(client: ParityClient, name: string, text: string): Promise<void> {
  await eventually(`"${text}" in the log of ${name}`, async () => {
    const logs = await client.cli(["logs", name]);
    return (logs.stdout + logs.stderr).includes(text);
  });
}

const cases: ParityCase[] = [
  {
    name: "create, start, wait, logs, rm: the exit status is kept and printed",
    async run(client) {
      const name = `created-${client.tag}`;
      const created = ok(
        await client.cli(["create", "--name", name, "busybox", "sh", "-c", "echo ran; exit 6"]),
        "create",
      );
      assertMatch(created, /^[0-9a-f]{64}\n$/);
      assertEquals(
        ok(await client.cli(["inspect", "-f", "{{.State.Status}}", name]), "inspect"),
        "created\n",
      );
      assertEquals(ok(await client.cli(["start", name]), "start"), `${name}\n`);
      assertEquals(ok(await client.cli(["wait", name]), "wait"), "6\n");
      assertEquals(ok(await client.cli(["logs", name]), "logs"), "ran\n");
      assertEquals(
        ok(
          await client.cli(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name]),
          "inspect",
        ),
        "exited 6\n",
      );
      assertEquals(ok(await client.cli(["rm", name]), "rm"), `${name}\n`);
      const gone = await client.cli(["inspect", name]);
      assertEquals(gone.code, 1);
      assertStringIncludes(gone.stderr, `No such object: ${name}`);
    },
  },
  {
    name: "run: the container's exit status is the CLI's; --rm leaves nothing",
    async run(client) {
      const result = await client.cli(["run", "--rm", "busybox", "sh", "-c", "echo x; exit 9"]);
      assertEquals([result.code, result.stdout], [9, "x\n"], result.stderr);
      assertEquals(ok(await client.cli(["ps", "-aq"]), "ps"), "");
    },
  },
  {
    name: "run -e, -w, -u 1000: environment, directory and user of the process",
    async run(client) {
      const result = await client.cli([
        "run",
        "--rm",
        "-e",
        "GREETING=hello",
        "-e",
        "EMPTY=",
        "-w",
        "/srv/app",
        "-u",
        "1000",
        "busybox",
        "sh",
        "-c",
        'echo "$GREETING [$EMPTY] $(pwd) $(id -u) $(id -g) $HOME"',
      ]);
      // A numeric user without a group runs with group 0, as runc does for docker.
      assertEquals(result.stdout, "hello [] /srv/app 1000 0 /\n", result.stderr);
      const named = await client.cli(["run", "--rm", "-u", "nobody", "busybox", "id", "-un"]);
      assertEquals(named.stdout, "nobody\n", named.stderr);
    },
  },
  {
    name: "run --entrypoint replaces the image's entrypoint; the arguments follow it",
    async run(client) {
      const echoed = await client.cli([
        "run",
        "--rm",
        "--entrypoint",
        "/bin/echo",
        "busybox",
        "via",
        "entrypoint",
      ]);
      assertEquals(echoed.stdout, "via entrypoint\n", echoed.stderr);
      const name = `entry-${client.tag}`;
      ok(
        await client.cli(["create", "--name", name, "--entrypoint", "sh", "busybox", "-c", "true"]),
        "create",
      );
      assertEquals(
        ok(
          await client.cli([
            "inspect",
            "-f",
            "{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Path}}",
            name,
          ]),
          "inspect",
        ),
        '["sh"] ["-c","true"] sh\n',
      );
    },
  },
  {
    name: "run -m 64m --pids-limit 7: the limits are in the container's cgroup",
    async run(client) {
      const name = `limited-${client.tag}`;
      await runDetached(client, name, [
        "-m",
        "64m",
        "--pids-limit",
        "7",
        "busybox",
        "sleep",
        "300",
      ]);
      const pid = await pidOf(client, name);
      assertEquals(memoryLimit(pid), 64 * 1024 * 1024);
      assertEquals(pidsLimit(pid), 7);
      assertEquals(
        ok(
          await client.cli([
            "inspect",
            "-f",
            "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}",
            name,
          ]),
          "inspect",
        ),
        "67108864 7\n",
      );
    },
  },
  {
    name: "run -t without -i: a terminal inside, its output unframed",
    async run(client) {
      const result = await client.cli(["run", "-t", "--rm", "busybox", "sh", "-c", "tty; exit 4"]);
      assertEquals(result.code, 4, result.stderr);
      assertEquals(result.stdout, "/dev/pts/0\r\n");
    },
  },
  {
    name: "run -it on a terminal: typed input, raw output, the exit status comes back",
    async run(client) {
      const session = await terminalSession(
        client.argv(["run", "-it", "--rm", "busybox", "sh"]),
        client.env,
        [
          { waitFor: "/ # ", send: "echo typed-$((6*7))\r" },
          { waitFor: "typed-42\r\n/ # ", send: "exit 5\r" },
        ],
      );
      assertEquals(session.code, 5, session.output);
      assertEquals(session.output.includes("\r\r\n"), false, "raw mode: one \\r per line");
    },
  },
  {
    name: "exec: exit status, -e/-w/-u, -i stdin; exec -it on a terminal",
    async run(client) {
      const name = `exec-${client.tag}`;
      ok(await client.cli(["run", "-d", "--name", name, "busybox", "sleep", "300"]), "run");
      const plain = await client.cli(["exec", name, "sh", "-c", "echo out; echo err >&2; exit 4"]);
      assertEquals([plain.code, plain.stdout, plain.stderr], [4, "out\n", "err\n"]);
      const options = await client.cli([
        "exec",
        "-u",
        "1000",
        "-w",
        "/tmp",
        "-e",
        "ONLY=exec",
        name,
        "sh",
        "-c",
        'echo "$(id -u) $(pwd) $ONLY"',
      ]);
      assertEquals(options.stdout, "1000 /tmp exec\n", options.stderr);
      const piped = await client.cli(["exec", "-i", name, "sh", "-c", "cat; exit 3"], "in\n");
      assertEquals([piped.code, piped.stdout], [3, "in\n"], piped.stderr);
      const missing = await client.cli(["exec", name, "no-such-command"]);
      assertEquals(missing.code, 127, missing.stderr);
      const session = await terminalSession(client.argv(["exec", "-it", name, "sh"]), client.env, [
        { waitFor: "# ", send: "tty\r" },
        { waitFor: "/dev/pts/", send: "exit 7\r" },
      ]);
      assertEquals(session.code, 7, session.output);
    },
  },
  {
    name: "logs --tail 2, --timestamps, -f until the container exits",
    async run(client) {
      const name = `talk-${client.tag}`;
      const ran = await client.cli(["run", "--name", name, "busybox", "sh", "-c", "seq 1 5"]);
      assertEquals(ran.stdout, "1\n2\n3\n4\n5\n", ran.stderr);
      assertEquals(ok(await client.cli(["logs", "--tail", "2", name]), "logs"), "4\n5\n");
      const stamped = ok(await client.cli(["logs", "--timestamps", "--tail", "3", name]), "logs");
      const lines = stamped.trimEnd().split("\n");
      assertEquals(lines.length, 3);
      lines.forEach((line, index) =>
        assertMatch(
          line,
          new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z ${index + 3}$`),
        )
      );
      const ticker = `ticker-${client.tag}`;
      await runDetached(client, ticker, [
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3; do echo tick$i; sleep 0.3; done; echo bye >&2",
      ]);
      const follow = await client.cli(["logs", "-f", ticker]);
      assertEquals([follow.code, follow.stdout, follow.stderr], [
        0,
        "tick1\ntick2\ntick3\n",
        "bye\n",
      ]);
    },
  },
  {
    name: "stop, start, restart, kill -s, wait: names echoed, statuses kept",
    async run(client) {
      const name = `life-${client.tag}`;
      await runDetached(client, name, [
        "busybox",
        "sh",
        "-c",
        // The trap before the echo: USR1 is sent as soon as "started" shows.
        "trap 'echo got-usr1; exit 42' USR1; echo started; while true; do sleep 0.1; done",
      ]);
      await logsContain(client, name, "started");
      assertEquals(ok(await client.cli(["kill", "-s", "USR1", name]), "kill"), `${name}\n`);
      assertEquals(ok(await client.cli(["wait", name]), "wait"), "42\n");
      assertEquals(ok(await client.cli(["start", name]), "start"), `${name}\n`);
      const firstPid = await pidOf(client, name);
      assertEquals(ok(await client.cli(["restart", "-t", "1", name]), "restart"), `${name}\n`);
      const secondPid = await pidOf(client, name);
      assert(secondPid !== firstPid, "restart runs a new process");
      assertEquals(ok(await client.cli(["stop", "-t", "1", name]), "stop"), `${name}\n`);
      // The loop ignores SIGTERM (sh does not run the trap for it), so stop's SIGKILL ends it.
      assertEquals(ok(await client.cli(["wait", name]), "wait"), "137\n");
      const late = await client.cli(["kill", name]);
      assertEquals(late.code, 1);
      assertStringIncludes(late.stderr, "is not running");
    },
  },
  {
    name: "rm needs -f for a running container; rm -f removes it and reports a missing one",
    async run(client) {
      const name = `busy-${client.tag}`;
      ok(await client.cli(["run", "-d", "--name", name, "busybox", "sleep", "300"]), "run");
      const refused = await client.cli(["rm", name]);
      assertEquals(refused.code, 1);
      assertMatch(
        refused.stderr,
        /^Error response from daemon: You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove\n$/,
      );
      // With -f a missing container is reported but does not fail the command.
      const removed = await client.cli(["rm", "-f", name, "nosuch"]);
      assertEquals(removed.code, 0);
      assertEquals(removed.stdout, `${name}\n`);
      assertEquals(removed.stderr, "Error response from daemon: No such container: nosuch\n");
    },
  },
  {
    name: "container prune removes stopped containers only and totals the space",
    async run(client) {
      const done = `done-${client.tag}`;
      const busy = `alive-${client.tag}`;
      ok(await client.cli(["run", "--name", done, "busybox", "sh", "-c", "echo x > /f"]), "run");
      ok(await client.cli(["run", "-d", "--name", busy, "busybox", "sleep", "300"]), "run");
      const doneId = ok(await client.cli(["inspect", "-f", "{{.Id}}", done]), "inspect").trim();
      const pruned = ok(await client.cli(["container", "prune", "-f"]), "prune");
      assertMatch(
        pruned,
        new RegExp(
          `^Deleted Containers:\\n${doneId}\\n\\nTotal reclaimed space: \\d+(\\.\\d+)?k?B\\n$`,
        ),
      );
      assertEquals(ok(await client.cli(["ps", "-a", "--format", "{{.Names}}"]), "ps"), `${busy}\n`);
      assertEquals(
        ok(await client.cli(["container", "prune", "-f"]), "prune again"),
        "Total reclaimed space: 0B\n",
      );
    },
  },
  {
    name: "image prune with nothing dangling keeps busybox; tag and rmi",
    async run(client) {
      const tag = `parity-${client.tag}:v1`;
      assertEquals(ok(await client.cli(["tag", "busybox", tag]), "tag"), "");
      assertEquals(
        ok(await client.cli(["image", "prune", "-f"]), "image prune"),
        "Total reclaimed space: 0B\n",
      );
      const listed = ok(
        await client.cli(["images", "--format", "{{.Repository}}:{{.Tag}}"]),
        "images",
      );
      assertEquals(listed.trim().split("\n").sort(), ["busybox:latest", tag].sort());
      assertEquals(ok(await client.cli(["rmi", tag]), "rmi"), `Untagged: ${tag}\n`);
    },
  },
  {
    name: "push to a registry, pull back (same image ID), save and load",
    async run(client, daemon, { registry }) {
      const busyboxId = ok(await client.cli(["inspect", "-f", "{{.Id}}", "busybox"]), "inspect");
      const repository = `${registry.host}/parity-${client.tag}`;
      const reference = `${repository}:v1`;
      ok(await client.cli(["tag", "busybox", reference]), "tag");
      const pushed = ok(await client.cli(["push", reference]), "push");
      assertStringIncludes(pushed, `The push refers to repository [${repository}]`);
      const digest = /^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(pushed)?.[1];
      assert(digest, `no digest line in:\n${pushed}`);
      // The push recorded the repository digest: the last tag takes it along.
      assertEquals(
        ok(await client.cli(["rmi", reference]), "rmi"),
        `Untagged: ${reference}\nUntagged: ${repository}@${digest}\n`,
      );
      const pulled = ok(await client.cli(["pull", reference]), "pull");
      assertStringIncludes(pulled, `Digest: ${digest}\n`);
      // The layers were all there, but the tag was not: dockerd counts that as newer.
      assertStringIncludes(pulled, `Status: Downloaded newer image for ${reference}\n`);
      assertEquals(pulled.trimEnd().split("\n").at(-1), reference);
      assertEquals(
        ok(await client.cli(["inspect", "-f", "{{.Id}}", reference]), "inspect"),
        busyboxId,
      );
      const archive = join(daemon.paths.base, `saved-${client.tag}.tar`);
      assertEquals(ok(await client.cli(["save", "-o", archive, reference]), "save"), "");
      assert((await Deno.stat(archive)).size > 0, "save wrote nothing");
      ok(await client.cli(["rmi", reference]), "rmi");
      const loaded = ok(await client.cli(["load", "-i", archive]), "load");
      assertEquals(loaded.trimEnd().split("\n").at(-1), `Loaded image: ${reference}`);
      assertEquals(
        ok(await client.cli(["inspect", "-f", "{{.Id}}", reference]), "inspect"),
        busyboxId,
      );
      ok(await client.cli(["rmi", reference]), "rmi");
      await Deno.remove(archive);
    },
  },
  {
    name: "ps, images and inspect with --format '{{json .}}'",
    async run(client) {
      const name = `json-${client.tag}`;
      ok(await client.cli(["run", "-d", "--name", name, "busybox", "sleep", "300"]), "run");
      const rows = ok(await client.cli(["ps", "--format", "{{json .}}"]), "ps").trim().split("\n");
      assertEquals(rows.length, 1);
      const row = JSON.parse(rows[0]);
      assertEquals([row.Names, row.Image, row.State, row.Command], [
        name,
        "busybox",
        "running",
        '"sleep 300"',
      ]);
      assertMatch(row.Status, /^Up /);
      const image = JSON.parse(
        ok(await client.cli(["images", "--format", "{{json .}}"]), "images"),
      );
      assertEquals([image.Repository, image.Tag], ["busybox", "latest"]);
      const inspected = JSON.parse(
        ok(await client.cli(["inspect", "--format", "{{json .}}", name]), "inspect"),
      );
      assertEquals(inspected.Name, `/${name}`);
      assertEquals(inspected.Id.slice(0, 12), row.ID);
      const imageDocument = JSON.parse(
        ok(await client.cli(["image", "inspect", "--format", "{{json .}}", "busybox"]), "inspect"),
      );
      assertEquals(imageDocument.Id, inspected.Image);
    },
  },
  {
    name: "the daemon address: -H, --host, and the environment variable",
    async run(client) {
      const apiVersion = ["version", "--format", "{{.Server.APIVersion}}"];
      const host = client.env.DOCKER_HOST ?? client.env.MINI_DOCKER_HOST;
      assertEquals(ok(await client.cliWith(["-H", host], {}, apiVersion), "-H"), "1.41\n");
      assertEquals(ok(await client.cliWith(["--host", host], {}, apiVersion), "--host"), "1.41\n");
      assertEquals(ok(await client.cliWith([], client.env, apiVersion), "environment"), "1.41\n");
      const nowhere = await client.cliWith(["-H", `${host}.missing`], {}, apiVersion);
      assertEquals(nowhere.code, 1);
      assertStringIncludes(nowhere.stderr, "Cannot connect to the");
    },
  },
];

/**
 * Commands whose output docker defines: on the same daemon state both clients must
 * print the same bytes (IDs and durations blanked where they differ run to run).
 */
async function sameOutput(
  daemon: TestDockerd,
  [docker, mini]: ParityClient[],
  args: string[],
): Promise<void> {
  const real = await docker.cli(args);
  const ours = await mini.cli(args);
  const clean = (result: CommandResult) => ({
    code: result.code,
    stdout: withoutRunDetails(result.stdout),
    stderr: withoutRunDetails(result.stderr.replaceAll("mini-docker", "docker")),
  });
  assertEquals(
    clean(ours),
    clean(real),
    `${args.join(" ")} (daemon log: ${daemon.log.length} bytes)`,
  );
}

Deno.test({
  name: "issue 6's commands through docker 28 and mini-docker: same effects, same output",
  ignore: containerTestIgnored("docker/mini-docker parity", "script", "docker-registry") ||
    requirements("docker/mini-docker parity", missingDocker28(), missingTool("docker-registry")),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    // No default bridge: ports and bridge networking are the networking tests' job, and
    // without it this daemon cannot clash with another test's bridge subnet.
    const daemon = await startDaemon({ config: { bridge: "none" } });
    const registry = await TestRegistry.start().catch(async (error) => {
      await daemon.cleanup();
      throw error;
    });
    try {
      const clients = parityClients(daemon);
      for (const parityCase of cases) {
        for (const client of clients) {
          await t.step(`${client.name}: ${parityCase.name}`, async () => {
            try {
              await parityCase.run(client, daemon, { registry });
            } catch (error) {
              const log = daemon.log.split("\n").slice(-30).join("\n");
              if (error instanceof Error) error.message += `\n--- mini-dockerd log ---\n${log}`;
              // Clear the way for the next case; the failure reported is this one.
              await removeAllAndCheck(daemon).catch(() => {});
              throw error;
            }
            await removeAllAndCheck(daemon);
          });
        }
      }

      await t.step("same output from both clients on the same containers", async () => {
        const docker = clients[0];
        const finished = await docker.cli([
          "run",
          "--name",
          "finished",
          "-e",
          "A=1",
          "busybox",
          "sh",
          "-c",
          "echo one; echo two >&2; echo three; exit 3",
        ]);
        assertEquals(finished.code, 3, finished.stderr);
        ok(
          await docker.cli(["run", "-d", "--name", "running", "busybox", "sleep", "300"]),
          "run -d",
        );
        ok(await docker.cli(["create", "--name", "fresh", "busybox", "true"]), "create");
        await logsContain(docker, "finished", "three");
        for (
          const args of [
            ["ps"],
            ["ps", "-a"],
            ["ps", "-a", "--no-trunc"],
            ["ps", "-a", "--format", "{{json .}}"],
            ["ps", "-aq"],
            ["images"],
            ["images", "--format", "{{json .}}"],
            ["inspect", "finished"],
            // (`{{json .}}` of a whole object: docker 28 re-marshals it through its own Go
            // types, adding and dropping fields; mini-docker prints the daemon's JSON.)
            ["inspect", "--format", "{{.ID}} {{json .State}} {{json .Config}}", "running"],
            ["image", "inspect", "--format", "{{.ID}} {{json .RootFS}} {{.Size}}", "busybox"],
            ["container", "inspect", "fresh", "busybox"],
            ["logs", "finished"],
            ["logs", "--tail", "2", "finished"],
            ["logs", "--timestamps", "finished"],
            ["wait", "finished"],
            ["system", "df"],
            ["history", "busybox"],
            ["network", "ls"],
            ["exec", "running", "sh", "-c", "echo in; exit 2"],
            ["kill", "fresh"],
            ["start", "nosuch"],
          ]
        ) {
          await sameOutput(daemon, clients, args);
        }
        await removeAllAndCheck(daemon);
      });
    } finally {
      await registry.stop();
      await finish(daemon);
    }
  },
});
