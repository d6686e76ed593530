// Runs lesson 5 (examples/lab/05-daemon-json.sh) with mini-docker and with the real
// docker CLI and checks what it teaches: with "live-restore": true in daemon.json
// `info` says so; with "bridge": "none" `network ls` lists exactly host and none; a
// container started before mini-dockerd stops keeps running while no daemon answers,
// and the restarted daemon lists it running with the same process and can exec in it.

import { assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { DOCKER_CLIENTS, finish, labIgnored, runLab, step, stepsStartingWith } from "./support.ts";

/** The NAME column of `network ls`. */
function networkNames(output: string): string[] {
  return output.split("\n").slice(1).map((line) => line.split(/\s+/)[1]).sort();
}

for (const client of DOCKER_CLIENTS) {
  Deno.test({
    name: `lab 5 with ${client}: daemon.json, live-restore across a restart, host and none`,
    ignore: labIgnored(`lab 5 with ${client}`, "docker", "busybox"),
    async fn() {
      const run = await runLab("05-daemon-json.sh", client);
      try {
        assertMatch(step(run, `${client} info`).output, /Live Restore Enabled: true/);
        const networks = stepsStartingWith(run, `${client} network ls`);
        assertEquals(networks.length, 2);
        for (const { output } of networks) assertEquals(networkNames(output), ["host", "none"]);

        const pid = step(run, `${client} inspect --format '{{.State.Pid}}'`).output;
        assertMatch(pid, /^\d+$/);
        // While the daemon is down: no API, the container's process runs on.
        assertEquals(step(run, "curl -s --unix-socket").output, "no daemon");
        assertStringIncludes(step(run, `ps -o pid,args -p ${pid}`).output, `${pid} sh -c while`);
        // After the restart: the same container, running, same process, reachable.
        const [before, after] = stepsStartingWith(run, `${client} ps --format`);
        assertMatch(before.output, /^survivor Up /);
        assertMatch(after.output, /^survivor Up /);
        assertEquals(
          step(run, `${client} inspect --format '{{.State.Running}} {{.State.Pid}}'`).output,
          `true ${pid}`,
        );
        assertEquals(step(run, `${client} exec survivor echo still here`).output, "still here");
        assertStringIncludes(run.output, "daemon.json lab done");
      } finally {
        await finish(run.lab);
      }
    },
  });
}
