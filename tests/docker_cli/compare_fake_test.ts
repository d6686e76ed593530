// End-to-end tests of mini-docker against a fake Engine API server shaped like the wire
// traces. Each command runs twice — the real docker 28 CLI against one fake engine,
// mini-docker against its twin (same state, same clock, same IDs) — and stdout, stderr
// and exit status must be identical (mini-docker's name normalized to "docker"). For
// commands that talk to the daemon in a specific order (run, exec, rm -f), the API
// calls each CLI made are compared too.

import { assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { requirements } from "../helpers/requirements.ts";
import type { SeedContainer } from "./fake_engine.ts";
import { missingDocker28, runBoth, serverHalf, startTwins, type TwinEngines } from "./support.ts";

const SEEDED: SeedContainer[] = [
  {
    name: "t1",
    cmd: ["sleep", "300"],
    start: true,
    publish: [
      { ip: "0.0.0.0", hostPort: 32768, containerPort: 8080 },
      { ip: "::", hostPort: 32768, containerPort: 8080 },
    ],
    env: ["A=1", "B=two"],
  },
  { name: "t3", cmd: ["sh", "-c", "echo line1; echo errline >&2; echo line3"], start: true },
  { name: "tty1", cmd: ["sh", "-c", "echo on a tty"], start: true, tty: true },
  { name: "fresh", cmd: ["echo", "never started"] },
];

/** Runs `args` with both CLIs and expects identical results. */
async function expectSame(twins: TwinEngines, args: string[], stdin?: string): Promise<void> {
  const { real, mini } = await runBoth(twins, args, stdin);
  assertEquals(mini, real, `mini-docker ${args.join(" ")}`);
}

/** The API calls a CLI made since `from`, without pings (their number is not behaviour). */
function callsSince(requests: string[], from: number): string[] {
  return requests.slice(from).filter((request) => !request.includes("/_ping"));
}

Deno.test({
  name: "read-only commands print exactly what docker 28 prints",
  ignore: requirements("compare_fake read-only", missingDocker28()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const twins = await startTwins(SEEDED);
    try {
      const cases: string[][] = [
        ["ps"],
        ["ps", "-a"],
        ["ps", "-a", "--no-trunc"],
        ["ps", "-aq"],
        ["ps", "-a", "--format", "json"],
        ["ps", "-a", "--format", "{{json .}}"],
        ["ps", "-a", "--format", "table {{.Names}}\\t{{.Status}}\\t{{.Ports}}"],
        ["ps", "--format", '{{.Names}} {{.Label "x"}} {{.Command}}'],
        ["container", "ls", "-a", "-n", "2"],
        ["images"],
        ["images", "-q"],
        ["images", "--digests"],
        ["images", "--format", "{{json .}}"],
        ["images", "busybox"],
        ["image", "ls", "--format", "table {{.Repository}}:{{.Tag}}\\t{{.Size}}"],
        ["history", "busybox:local"],
        ["history", "--no-trunc", "-H=false", "busybox:local"],
        ["history", "--format", "json", "busybox:local"],
        ["inspect", "t1"],
        ["inspect", "busybox:local"],
        ["inspect", "t1", "nosuch"],
        ["inspect", "--format", "json", "t3"],
        [
          "inspect",
          "-f",
          "{{.State.Status}} {{json .Config.Cmd}} {{index .Config.Env 1}}",
          "t1",
          "t3",
        ],
        ["inspect", "-f", "{{range .Config.Env}}[{{.}}]{{end}}", "t1"],
        ["inspect", "--type", "image", "-f", "{{.Id}}", "busybox:local"],
        ["container", "inspect", "busybox:local"],
        ["image", "inspect", "nosuch"],
        ["network", "ls"],
        ["network", "ls", "-q", "--no-trunc"],
        ["network", "ls", "--format", "json"],
        ["network", "inspect", "bridge"],
        ["system", "df"],
        ["port", "t1"],
        ["port", "t1", "8080"],
        ["port", "t1", "9999/udp"],
        ["logs", "t3"],
        ["logs", "-t", "--tail", "1", "t3"],
        ["logs", "--tail", "2", "t3"],
        ["logs", "tty1"],
        ["logs", "nosuch"],
        ["version", "--format", "{{json .Server}}"],
        ["version", "--format", "{{.Server.Version}} {{.Server.Os}}"],
        [
          "info",
          "--format",
          "{{.Containers}} {{.ContainersRunning}} {{.Driver}} {{json .Plugins}}",
        ],
        // usage mistakes and template errors
        ["ps", "--bogus"],
        ["ps", "-z"],
        ["run"],
        ["logs", "a", "b"],
        ["version", "extra"],
        ["frob"],
        ["container", "frob"],
        ["ps", "--format", "{{.Foo}}"],
        ["ps", "--format", "{{.Names"],
        ["images", "--format", "{{.Names"],
        ["inspect", "--type", "bogus", "x"],
        ["stop", "--time", "x", "t1"],
        ["run", "-m", "12q", "busybox:local"],
        ["run", "-p", "70000:80", "busybox:local"],
        ["run", "--restart", "always", "--rm", "busybox:local"],
        ["tag", "busybox:local", "Bad"],
      ];
      for (const args of cases) {
        await t.step(args.join(" "), () => expectSame(twins, args));
      }
      await t.step("info and version: everything but the client's own version", async () => {
        for (const command of [["info"], ["version"]]) {
          const { real, mini } = await runBoth(twins, command);
          assertEquals(serverHalf(mini.stdout), serverHalf(real.stdout));
          assertEquals([mini.code, mini.stderr], [real.code, real.stderr]);
        }
      });
    } finally {
      await twins.close();
    }
  },
});

Deno.test({
  name: "run, exec and the other state-changing commands behave like docker 28",
  ignore: requirements("compare_fake state-changing", missingDocker28()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const twins = await startTwins(SEEDED);
    const same = async (args: string[], stdin?: string) => {
      const realFrom = twins.real.requests.length;
      const miniFrom = twins.mini.requests.length;
      await expectSame(twins, args, stdin);
      return {
        real: callsSince(twins.real.requests, realFrom),
        mini: callsSince(twins.mini.requests, miniFrom),
      };
    };
    try {
      await t.step("run --rm: frames split to stdout/stderr, exit status from wait", async () => {
        const calls = await same([
          "run",
          "--rm",
          "busybox:local",
          "sh",
          "-c",
          "echo out; echo err >&2; exit 3",
        ]);
        assertEquals(calls.mini, calls.real);
        assertEquals(calls.mini.map((call) => call.replace(/[0-9a-f]{64}/, "ID")), [
          "POST /v1.41/containers/create",
          "POST /v1.41/containers/ID/attach?stderr=1&stdout=1&stream=1 (upgrade)",
          "POST /v1.41/containers/ID/wait?condition=removed",
          "POST /v1.41/containers/ID/start",
        ]);
        const body = twins.mini.createBodies.at(-1)!;
        const realBody = twins.real.createBodies.at(-1)!;
        assertEquals(Object.keys(body), Object.keys(realBody));
        assertEquals(body, realBody);
      });
      await t.step("run -i: piped stdin reaches the container, half-close ends it", async () => {
        const calls = await same(
          ["run", "-i", "--rm", "busybox:local", "cat"],
          "piped-stdin-data\nsecond line\n",
        );
        assertEquals(calls.mini, calls.real);
      });
      await t.step("run -d --name -p -e -w -u: prints the ID; same create body", async () => {
        await same([
          "run",
          "-d",
          "--name",
          "web",
          "-p",
          "8080:80",
          "-p",
          "127.0.0.1::53/udp",
          "-e",
          "X=1",
          "-w",
          "/tmp",
          "-u",
          "1000",
          "--pids-limit",
          "50",
          "-m",
          "64m",
          "--restart",
          "on-failure:3",
          "busybox:local",
          "sleep",
          "300",
        ]);
        assertEquals(twins.mini.createBodies.at(-1), twins.real.createBodies.at(-1));
      });
      await t.step("run of a missing image pulls it, then creates again", async () => {
        const calls = await same([
          "run",
          "--rm",
          "localhost:5000/apiexp/built:v1",
          "echo",
          "pulled",
        ]);
        assertEquals(calls.mini, calls.real);
      });
      await t.step("run: daemon errors exit 125 with docker's wording", async () => {
        await same(["run", "--name", "web", "busybox:local", "true"]);
      });
      await t.step("run: unknown image that cannot be pulled", async () => {
        await same(["run", "nosuchimage:v9", "true"]);
      });
      await t.step("create + start -a", async () => {
        await same([
          "create",
          "--name",
          "created1",
          "busybox:local",
          "sh",
          "-c",
          "echo started; exit 2",
        ]);
        await same(["start", "-a", "created1"]);
        await same(["start", "created1", "nosuch"]);
      });
      await t.step("exec: output, exit code from /exec/ID/json", async () => {
        const calls = await same(["exec", "t1", "sh", "-c", "echo a; echo b >&2; exit 4"]);
        assertEquals(calls.mini, calls.real);
        await same(["exec", "-e", "GREETING=hi", "t1", "printenv", "GREETING"]);
        await same(["exec", "-i", "t1", "cat"], "through exec\n");
        await same(["exec", "-d", "t1", "sleep", "1"]);
        await same(["exec", "fresh", "true"]);
        await same(["exec", "nosuch", "true"]);
      });
      await t.step("pull and push render progress like docker (not a terminal)", async () => {
        await same(["pull", "localhost:5000/apiexp/built:v1"]);
        await same(["pull", "localhost:5000/nosuch"]);
        await same(["pull", "-q", "localhost:5000/apiexp/built:v1"]);
        await same(["push", "localhost:5000/apiexp/built:v1"]);
        await same(["push", "-q", "localhost:5000/apiexp/built:v1"]);
      });
      await t.step("tag, rmi, save, load, prune", async () => {
        await same(["tag", "busybox:local", "mytag:v1"]);
        // docker lists an image's repositories in Go map order (randomly): compare sorted rows.
        const listed = await runBoth(twins, ["images", "mytag"]);
        const rows = (text: string) => text.split("\n").sort();
        assertEquals(rows(listed.mini.stdout), rows(listed.real.stdout));
        assertEquals([listed.mini.code, listed.mini.stderr], [
          listed.real.code,
          listed.real.stderr,
        ]);
        await same(["rmi", "mytag:v1", "nosuch:img"]);
        await same(["rmi", "-f", "nosuch:img"]);
        await same(["save", "busybox:local"]); // into a pipe: allowed
        await same(["save", "-o", `${twins.dir}/saved.tar`, "nosuch"]);
        await same(["load", "-i", "/dev/null"]);
        await same(["image", "prune", "-f"]);
        await same(["image", "prune"], "n\n");
      });
      await t.step("stop, kill, restart, wait, rm -f: per-name results in order", async () => {
        await same(["kill", "-s", "BOGUS", "t1"]);
        await same(["stop", "-t", "1", "web"]);
        await same(["wait", "web"]);
        await same(["restart", "web"]);
        await same(["kill", "web", "nosuch"]);
        const calls = await same(["rm", "-f", "t1", "web", "nosuch"]);
        assertEquals([...calls.mini].sort(), [...calls.real].sort()); // concurrent DELETEs
        await same(["rm", "t3"]);
        await same(["container", "prune", "-f"]);
        await same(["ps", "-a"]);
      });
    } finally {
      await twins.close();
    }
  },
});

Deno.test({
  name: "mini-docker reports an unreachable daemon like docker does",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { runMiniDocker } = await import("./support.ts");
    const result = await runMiniDocker("/tmp/mini-docker-no-such-dir/none.sock", ["ps"]);
    assertEquals(result.code, 1);
    assertEquals(
      result.stderr,
      "Cannot connect to the Docker daemon at unix:///tmp/mini-docker-no-such-dir/none.sock. Is the docker daemon running?\n",
    );
    const version = await runMiniDocker("/tmp/mini-docker-no-such-dir/none.sock", ["version"]);
    assertEquals(version.code, 1);
    assertStringIncludes(version.stdout, "Client:\n Version:");
  },
});
