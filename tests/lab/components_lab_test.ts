// Runs lesson 4 (examples/lab/04-components.sh) with mini-docker and with the real
// docker CLI and checks what it teaches: the process tree mini-dockerd → mini-containerd
// (naming its socket) → shim (`-namespace moby -workdir ... -address ...`) → the
// container, each the parent of the next; mini-ctr sees dockerd's container and task in
// namespace moby but no image; a pull from the local registry shows progress and lists
// the image in moby; a container run by mini-ctr there is a task beside dockerd's, and
// dockerd does not list it.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { DOCKER_CLIENTS, finish, labIgnored, runLab, step, stepsStartingWith } from "./support.ts";

interface ProcessRow {
  pid: number;
  parent: number;
  depth: number;
  args: string;
}

/** Rows of `ps --forest -o pid,ppid,args`: the depth is where `\_ ` starts. */
function parseForest(output: string): ProcessRow[] {
  return output.split("\n").slice(1).map((line) => {
    const match = line.match(/^\s*(\d+)\s+(\d+) (.*)$/);
    assert(match, `not a ps row: ${line}`);
    const tree = match[3].match(/^(\s*)(\\_ )?(.*)$/)!;
    return {
      pid: Number(match[1]),
      parent: Number(match[2]),
      depth: tree[2] ? tree[1].length + 1 : 0,
      args: tree[3],
    };
  });
}

for (const client of DOCKER_CLIENTS) {
  Deno.test({
    name: `lab 4 with ${client}: the process tree, namespace moby, a pull, a ctr container`,
    ignore: labIgnored(`lab 4 with ${client}`, "docker", "busybox", "docker-registry", "ps"),
    async fn() {
      const run = await runLab("04-components.sh", client);
      try {
        const containerId = step(run, `${client} run -d --name web`).output;
        assertMatch(containerId, /^[0-9a-f]{64}$/);
        const socket = `${run.lab}/exec/containerd/containerd.sock`;

        // The tree, in order, each process the child of the one before.
        const [dockerd, containerd, shim, container] = parseForest(
          step(run, "ps -ww --forest -o pid,ppid,args").output,
        );
        assertStringIncludes(dockerd.args, "cmd/mini_dockerd.ts");
        assertStringIncludes(dockerd.args, `--data-root ${run.lab}/data`);
        assertStringIncludes(containerd.args, "cmd/mini_containerd.ts");
        assertStringIncludes(containerd.args, `--address ${socket}`);
        assertStringIncludes(shim.args, "cmd/mini_containerd_shim.ts");
        assertStringIncludes(shim.args, "-namespace moby");
        assertStringIncludes(shim.args, `-id ${containerId}`);
        assertStringIncludes(shim.args, `-address ${socket}`);
        assertStringIncludes(shim.args, `-workdir ${run.lab}/exec/containerd/`);
        assertEquals(container.args, "sleep 3600");
        assertEquals(containerd.parent, dockerd.pid);
        assertEquals(shim.parent, containerd.pid);
        assertEquals(container.parent, shim.pid);
        assert(dockerd.depth < containerd.depth && containerd.depth < shim.depth);
        assert(shim.depth < container.depth);

        // Namespace moby: dockerd's container and task, none of its images.
        const [namespacesBefore, namespacesAfter] = stepsStartingWith(
          run,
          "mini-ctr namespaces ls",
        );
        assertEquals(namespacesBefore.output.split("\n").slice(1), ["moby -"]);
        assertStringIncludes(step(run, "mini-ctr -n moby containers list").output, containerId);
        const [tasksBefore, tasksAfter] = stepsStartingWith(run, "mini-ctr -n moby tasks ls");
        assertMatch(tasksBefore.output, new RegExp(`${containerId} +${container.pid} +RUNNING`));
        const [imagesBefore, imagesAfter] = stepsStartingWith(run, "mini-ctr -n moby images ls");
        assertEquals(imagesBefore.output.trim().split("\n").length, 1, "only the header");
        const dockerPs = run.steps.find((step) => step.command === `${client} ps`);
        assertMatch(
          dockerPs?.output ?? "",
          new RegExp(`^${containerId.slice(0, 12)} .* web$`, "m"),
        );

        // The pull from the local registry, with progress, into moby.
        const pull = step(run, "mini-ctr -n moby images pull").output;
        const reference = step(run, "mini-ctr -n moby images pull").command.split(" ").at(-1)!;
        assertMatch(reference, /^127\.0\.0\.1:\d+\/library\/busybox:latest$/);
        assertStringIncludes(pull, `${reference}: resolved`);
        assertMatch(pull, /layer-sha256:[0-9a-f]{64}: done/);
        assertStringIncludes(pull, "unpacking linux/");
        assertMatch(imagesAfter.output, new RegExp(`^${reference.replaceAll(".", "\\.")} `, "m"));
        assertEquals(namespacesAfter.output.split("\n").slice(1), ["default -", "moby    -"]);

        // A container of ctr's own beside dockerd's; dockerd lists only its own.
        assertMatch(tasksAfter.output, /^demo +\d+ +RUNNING$/m);
        assertMatch(tasksAfter.output, new RegExp(`^${containerId} +\\d+ +RUNNING$`, "m"));
        assertEquals(step(run, `${client} ps --format`).output, "web");
        assertStringIncludes(run.output, "components lab done");
      } finally {
        await finish(run.lab);
      }
    },
  });
}
