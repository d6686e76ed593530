// What this teaches: reproducible builds: the same context built on two fresh mini-dockerd
// roots with SOURCE_DATE_EPOCH as a build arg gives byte-identical layers (equal diffIDs
// are equal tar bytes) and the same image ID; without it the IDs differ (the configs carry
// the build time and the intermediate container IDs), which shows the test can fail.
// Mirrors BuildKit's SOURCE_DATE_EPOCH tests (frontend/dockerfile/dockerfile_test.go).

import { assertEquals, assertNotEquals } from "../helpers/assert.ts";
import {
  builderRequirements,
  buildOk,
  inspectImage,
  startDaemon,
  writeContext,
} from "./support.ts";

const ignore = builderRequirements("reproducible builds");

Deno.test({
  name: "reproducible: SOURCE_DATE_EPOCH gives the same image ID on two fresh roots",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const [first, second] = await Promise.all([startDaemon(), startDaemon()]);
    const context = await writeContext({
      "Dockerfile": [
        "FROM busybox",
        "RUN mkdir -p /srv/www && echo generated > /srv/www/generated.txt",
        "COPY site /srv/www/",
        "WORKDIR /srv/www",
        "ENV MODE=production",
        'CMD ["httpd", "-f"]',
      ].join("\n"),
      "site/index.html": "<h1>Cat Gif of the day</h1>\n",
      "site/css/style.css": "h1 { color: teal }\n",
    });
    try {
      const epoch = { buildargs: JSON.stringify({ SOURCE_DATE_EPOCH: "1700000000" }) };
      const [one, two] = await Promise.all([
        buildOk(first, context, { t: "repro", ...epoch }),
        buildOk(second, context, { t: "repro", ...epoch }),
      ]);
      assertEquals(one.imageId, two.imageId);
      const [inspectOne, inspectTwo] = await Promise.all([
        inspectImage(first, "repro"),
        inspectImage(second, "repro"),
      ]);
      assertEquals(inspectOne.RootFS, inspectTwo.RootFS, "byte-identical layers");
      assertEquals(inspectOne.Created, "2023-11-14T22:13:20Z");

      const [plainOne, plainTwo] = await Promise.all([
        buildOk(first, context, { nocache: "1" }),
        buildOk(second, context, { nocache: "1" }),
      ]);
      assertNotEquals(plainOne.imageId, plainTwo.imageId, "without it, times and IDs differ");
    } finally {
      await Deno.remove(context, { recursive: true });
      await Promise.all([first.cleanup(), second.cleanup()]);
    }
  },
});
