// `run -it` and `exec -it` on a real terminal: both CLIs run under `script` (a pseudo
// terminal), type into a shell in the fake engine, and must show the same bytes
// (raw mode: the container's "\r\n" is not turned into "\r\r\n"), return the shell's
// exit status, and make the same API calls. Input is sent when the prompt appears, so
// nothing here depends on timing.

import { assertEquals } from "../helpers/assert.ts";
import { missingTool, requirements } from "../helpers/requirements.ts";
import { join } from "node:path";
import { missingDocker28, startTwins } from "./support.ts";
import { terminalSession, type TerminalStep } from "./parity_support.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

const miniDocker = [
  Deno.execPath(),
  "run",
  "--allow-all",
  "--quiet",
  join(repoRoot, "cmd/mini_docker.ts"),
];

Deno.test({
  name: "run -it and exec -it: same terminal bytes, exit status and API calls as docker 28",
  ignore: requirements("tty sessions", missingTool("script"), missingDocker28()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const twins = await startTwins([{ name: "t1", cmd: ["sleep", "300"], start: true }]);
    const realEnv = {
      DOCKER_HOST: `unix://${twins.real.socketPath}`,
      DOCKER_CONFIG: twins.configDir,
      TERM: "xterm",
    };
    const miniEnv = { MINI_DOCKER_HOST: `unix://${twins.mini.socketPath}`, TERM: "xterm" };
    try {
      for (
        const [label, args, steps] of [
          ["run -it", ["run", "-it", "--rm", "busybox:local", "sh"], [
            { waitFor: "/ # ", send: "echo hi-from-tty\r" },
            { waitFor: "hi-from-tty\r\n/ # ", send: "exit 5\r" },
          ]],
          ["exec -it", ["exec", "-it", "t1", "sh"], [
            { waitFor: "/ # ", send: "echo inexec\r" },
            { waitFor: "inexec\r\n/ # ", send: "exit 7\r" },
          ]],
        ] as [string, string[], TerminalStep[]][]
      ) {
        await t.step(label, async () => {
          const realFrom = twins.real.requests.length;
          const miniFrom = twins.mini.requests.length;
          const real = await terminalSession(["docker", ...args], realEnv, steps);
          const mini = await terminalSession([...miniDocker, ...args], miniEnv, steps);
          assertEquals(mini, real);
          assertEquals(mini.code, label === "run -it" ? 5 : 7);
          // Raw mode: exactly one carriage return per line break.
          assertEquals(mini.output.includes("\r\r\n"), false);
          const calls = (requests: string[], from: number) =>
            requests.slice(from).filter((request) => !request.includes("/_ping"));
          assertEquals(calls(twins.mini.requests, miniFrom), calls(twins.real.requests, realFrom));
          assertEquals(twins.mini.createBodies, twins.real.createBodies);
        });
      }
      await t.step("-it without a terminal is refused like docker does", async () => {
        const child = new Deno.Command(miniDocker[0], {
          args: [...miniDocker.slice(1), "run", "-it", "busybox:local", "sh"],
          env: miniEnv,
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        await child.stdin.close();
        const output = await child.output();
        assertEquals(output.code, 1);
        assertEquals(new TextDecoder().decode(output.stderr), "the input device is not a TTY\n");
      });
    } finally {
      await twins.close();
    }
  },
});
