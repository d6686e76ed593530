// Runs the image-layers lab (examples/lab/02-image-layers.sh) with each client
// (mini-docker, and the real docker CLI against the same mini-dockerd) and checks what it
// teaches from its output: the first build runs every step; `history` lists one line per
// instruction with the IDs the build printed and `<missing>` below the base image; after
// the title changes, the rebuild takes every step before the template's COPY from the
// cache, so exactly the layers from that COPY onward get new IDs while all earlier IDs
// are identical; and the new image serves the new title.

import { assert, assertEquals, assertMatch, assertNotEquals } from "../helpers/assert.ts";
import { DOCKER_CLIENTS, finish, labIgnored, type LabRun, runLab, step } from "./support.ts";

/** One line of `history`. */
interface HistoryRow {
  id: string;
  createdBy: string;
}

/** The output printed under `$ <command>` (the only time it ran). */
function commandOutput(run: LabRun, command: string): string {
  const found = step(run, command);
  assertEquals(found.command, command);
  return found.output;
}

/** Parses `history`'s table (IMAGE, CREATED, CREATED BY, SIZE, COMMENT). */
function parseHistory(table: string): HistoryRow[] {
  const [header, ...rows] = table.split("\n").filter((line) => line.trim() !== "");
  assertMatch(header, /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT/);
  const createdByColumn = header.indexOf("CREATED BY");
  const sizeColumn = header.indexOf("SIZE");
  return rows.map((row) => ({
    id: row.split(/\s+/)[0],
    createdBy: row.slice(createdByColumn, sizeColumn).trim(),
  }));
}

/** The image ID each step of a build ended with, in step order (" ---> <id>"). */
function stepIds(buildOutput: string): string[] {
  const steps = buildOutput.split(/^Step \d+\/\d+ : /m).slice(1);
  return steps.map((step) => {
    const ids = [...step.matchAll(/^ ---> ([0-9a-f]{12})$/gm)];
    assert(ids.length > 0, `a step printed its image ID:\n${step}`);
    return ids[ids.length - 1][1];
  });
}

function countUsingCache(buildOutput: string): number[] {
  return buildOutput.split(/^Step \d+\/\d+ : /m).slice(1)
    .map((step) => (step.includes(" ---> Using cache") ? 1 : 0));
}

async function checkLab(client: string): Promise<void> {
  const run = await runLab("02-image-layers.sh", client);
  try {
    const output = run.output;

    // The first build: eight steps, nothing cached on a fresh daemon.
    const dayBuild = commandOutput(run, `${client} build -t web-app:day web-app`);
    const dayIds = stepIds(dayBuild);
    assertEquals(dayIds.length, 8, `eight steps:\n${dayBuild}`);
    assertEquals(countUsingCache(dayBuild), [0, 0, 0, 0, 0, 0, 0, 0], "a cold build");
    assertMatch(dayBuild, /Successfully tagged web-app:day/);
    const baseId = dayIds[0];

    // The rebuild: steps 2-5 from the cache (same IDs), the template's COPY and after: new.
    const weekBuild = commandOutput(run, `${client} build -t web-app:week web-app`);
    const weekIds = stepIds(weekBuild);
    assertEquals(countUsingCache(weekBuild), [0, 1, 1, 1, 1, 0, 0, 0], weekBuild);
    assertEquals(weekIds.slice(0, 5), dayIds.slice(0, 5), "the steps before the template COPY");
    for (let index = 5; index < 8; index++) {
      assertNotEquals(weekIds[index], dayIds[index], `step ${index + 1} is rebuilt`);
    }
    assertMatch(weekBuild, /Step 6\/8 : COPY templates\/index.html/);

    // The histories (the last time each was shown): newest first, the IDs the builds
    // printed, then the base image.
    const histories = (tag: string) =>
      run.steps.filter((found) => found.command === `${client} history web-app:${tag}`);
    const day = parseHistory(histories("day").at(-1)!.output);
    const week = parseHistory(histories("week").at(-1)!.output);
    assertEquals(histories("day").length, 2, "history of the first image, before and after");
    assertEquals(day.length, week.length);
    assert(day.length >= 9, "seven steps built here, then the base image's own entries");
    assertEquals(day.slice(0, 7).map((row) => row.id), dayIds.slice(1).reverse());
    assertEquals(week.slice(0, 7).map((row) => row.id), weekIds.slice(1).reverse());
    for (const rows of [day, week]) {
      assertEquals(rows[7].id, baseId, "the base image's top entry is the base image");
      const below = rows.slice(8);
      assert(below.length > 0 && below.every((row) => row.id === "<missing>"), "base layers");
      assertMatch(rows[2].createdBy, /COPY file:[0-9a-f]+/);
      assertMatch(rows[1].createdBy, /EXPOSE 5000/);
    }
    // Exactly the three entries from the template COPY onward differ.
    const changed = day.map((row, index) => row.id !== week[index].id);
    assertEquals(changed, day.map((_, index) => index < 3));
    assertNotEquals(day[2].createdBy, week[2].createdBy, "a new content hash for the template");
    assertEquals(day.slice(3), week.slice(3));

    // The layers: six each (busybox's and five built here), all shared but the last.
    const layers = (tag: string) =>
      commandOutput(
        run,
        `${client} image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' web-app:${tag}`,
      ).split("\n").filter((line) => line.trim() !== "");
    const dayLayers = layers("day");
    const weekLayers = layers("week");
    assertEquals(dayLayers.length, 6, dayLayers.join("\n"));
    assert(dayLayers.every((layer) => /^sha256:[0-9a-f]{64}$/.test(layer)), "diff IDs");
    assertEquals(weekLayers.slice(0, 5), dayLayers.slice(0, 5));
    assertEquals(weekLayers.length, 6);
    assertNotEquals(weekLayers[5], dayLayers[5]);

    // Both tags are listed, and the new image serves the new title.
    const images = commandOutput(run, `${client} images web-app`);
    assertMatch(images, new RegExp(`web-app +week +${weekIds[7]}`));
    assertMatch(images, new RegExp(`web-app +day +${dayIds[7]}`));
    assertMatch(output, /<h4>Cat Gif of the week<\/h4>/);
    assertMatch(output, /image layers lab done/);
  } finally {
    await finish(run.lab);
  }
}

for (const client of DOCKER_CLIENTS) {
  Deno.test({
    name: `lab: image layers (${client}): only the layers from the template COPY on are new`,
    ignore: labIgnored(
      `lab: image layers (${client})`,
      "busybox",
      ...(client === "docker" ? ["docker"] : []),
    ),
    fn: () => checkLab(client),
  });
}
