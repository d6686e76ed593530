// What this teaches: the legacy builder's cache against a real mini-dockerd: an identical
// rebuild is all " ---> Using cache" with the same image ID; touching a file (mtime only)
// keeps the hits; a changed source misses from its COPY on, every later step too, while
// earlier IDs stay; a changed build arg misses the RUN that uses it; nocache=1 ignores the
// cache; and the cache survives a daemon restart (it lives in the image store), which also
// clears the read-write layers a killed COPY step leaves behind.
// Mirrors the cache tests of moby's integration-cli/docker_cli_build_test.go.

import { join } from "node:path";
import { assert, assertEquals, assertNotEquals } from "../helpers/assert.ts";
import type { TestDockerd } from "../helpers/dockerd.ts";
import {
  type BuildAnswer,
  builderRequirements,
  buildOk,
  daemonBuildTest,
  historyOf,
} from "./support.ts";

const ignore = builderRequirements("builder cache");

const DOCKERFILE = [
  "FROM busybox",
  "RUN echo base > /base.txt",
  "COPY requirements.txt /req.txt",
  "RUN cat /req.txt > /installed.txt",
  "COPY app.txt /app.txt",
  "ENV X=1",
  'CMD ["cat", "/app.txt"]',
].join("\n");

/** The image ID each step ended with, in order (FROM included). */
function stepIds(answer: BuildAnswer): string[] {
  return [...answer.log.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((match) => match[1]);
}

/** For each step after FROM: was it taken from the cache? */
function cacheHits(answer: BuildAnswer): boolean[] {
  return answer.log.split(/^Step \d+\/\d+ : /m).slice(2).map((step) =>
    step.includes(" ---> Using cache\n")
  );
}

async function rebuild(daemon: TestDockerd, context: string, query = {}) {
  return await buildOk(daemon, context, { t: "cached:latest", ...query });
}

daemonBuildTest(
  "builder cache: hits, mtime-only changes, a changed source misses from its step on",
  ignore,
  {
    "Dockerfile": DOCKERFILE,
    "requirements.txt": "flask\n",
    "app.txt": "Cat Gif of the day\n",
  },
  async (daemon, context) => {
    const first = await rebuild(daemon, context);
    assertEquals(cacheHits(first), [false, false, false, false, false, false]);
    const again = await rebuild(daemon, context);
    assertEquals(cacheHits(again), [true, true, true, true, true, true]);
    assertEquals(again.imageId, first.imageId);
    assertEquals(stepIds(again), stepIds(first));

    // Only the mtime changes: the content hash is the same, the cache still hits.
    await Deno.utime(join(context, "app.txt"), new Date(), new Date());
    const touched = await rebuild(daemon, context);
    assertEquals(touched.imageId, first.imageId);

    // A changed byte: the COPY of app.txt misses, and so does every step after it.
    await Deno.writeTextFile(join(context, "app.txt"), "Cat Gif of the week\n");
    const changed = await rebuild(daemon, context);
    assertEquals(cacheHits(changed), [true, true, true, false, false, false]);
    const before = stepIds(first);
    const after = stepIds(changed);
    assertEquals(after.slice(0, 4), before.slice(0, 4), "earlier steps keep their IDs");
    for (let index = 4; index < 7; index++) assertNotEquals(after[index], before[index]);
    const history = await historyOf(daemon, "cached:latest");
    assertEquals(history.filter((row) => row.Id === "<missing>").length, 1, "base layer");
    assertEquals(history.length, 8, "two base entries and six steps");

    // nocache=1 rebuilds every step (new containers, new image IDs).
    const uncached = await rebuild(daemon, context, { nocache: "1" });
    assert(!uncached.log.includes("Using cache"));
    assertNotEquals(uncached.imageId, changed.imageId);
  },
);

daemonBuildTest(
  "builder cache: build args in use are part of a RUN's key; the cache survives a restart",
  ignore,
  {
    "Dockerfile": "FROM busybox\nARG V\nRUN echo $V > /v.txt\nRUN echo after > /after.txt\n",
  },
  async (daemon, context) => {
    const one = await buildOk(daemon, context, { buildargs: JSON.stringify({ V: "1" }) });
    const oneAgain = await buildOk(daemon, context, { buildargs: JSON.stringify({ V: "1" }) });
    assertEquals(cacheHits(oneAgain), [true, true, true]);
    assertEquals(oneAgain.imageId, one.imageId);
    const two = await buildOk(daemon, context, { buildargs: JSON.stringify({ V: "2" }) });
    assertEquals(cacheHits(two), [true, false, false], "ARG V hits, the RUN using V misses");
    const history = await historyOf(daemon, two.imageId);
    assertEquals(history[1].CreatedBy, "|1 V=2 /bin/sh -c echo $V > /v.txt");

    await daemon.kill("SIGKILL");
    // What a daemon killed during a COPY step leaves: a layer record of no container.
    const mounts = join(daemon.paths.dataRoot, "image/overlay2/layerdb/mounts");
    const orphan = join(mounts, "f".repeat(64));
    await Deno.mkdir(orphan, { recursive: true });
    await Deno.writeTextFile(join(orphan, "mount-id"), "e".repeat(64));
    await daemon.restart();
    assert(!(await Deno.lstat(orphan).then(() => true, () => false)), "leftover layer removed");
    const afterRestart = await buildOk(daemon, context, {
      buildargs: JSON.stringify({ V: "2" }),
    });
    assertEquals(cacheHits(afterRestart), [true, true, true]);
    assertEquals(afterRestart.imageId, two.imageId);
  },
);
