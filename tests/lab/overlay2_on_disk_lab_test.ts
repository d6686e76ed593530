// Runs lesson 3 (examples/lab/03-overlay2-on-disk.sh) with mini-docker and with the real
// docker CLI and checks what it teaches, from the transcript and from the files it
// leaves: the lab's daemon has a bridge of its own (a unique mlabXXXX name, a /24 of
// 172.29.0.0/16) which is gone after the lab; `run -dP web-app` publishes the EXPOSEd
// port on 127.0.0.1 (`port`, `ps` PORTS) and the page comes back through it;
// GraphDriver names overlay2 and four directories of one layer; the file written by
// `exec` is in UpperDir and MergedDir and in no lower layer; overlay2/ holds the image's
// layers, the container layer and its -init layer; every l/ short link is 26 characters
// and resolves to ../<layer>/diff; the container layer's `lower` chains the -init layer
// then the image's; after `rm -f` only the image's layers are left, unmounted.

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import {
  deleteLinkLeftBehind,
  DOCKER_CLIENTS,
  finish,
  labIgnored,
  runLab,
  step,
  stepsStartingWith,
} from "./support.ts";

for (const client of DOCKER_CLIENTS) {
  Deno.test({
    name: `lab 3 with ${client}: run -dP, the overlay2 layout, UpperDir, -init, l/, rm -f`,
    ignore: labIgnored(`lab 3 with ${client}`, "docker", "busybox", "ip"),
    async fn() {
      const run = await runLab("03-overlay2-on-disk.sh", client);
      // The bridge daemon.json gave the lab's daemon; the lab's clean-up deletes it.
      const daemonJson = step(run, `cat ${run.lab}/daemon.json`).output;
      const bridge = daemonJson.match(/"bridge": "(mlab[0-9a-f]{4})"/)?.[1];
      try {
        assert(bridge, `daemon.json names no mlabXXXX bridge: ${daemonJson}`);
        // Checked (and cleaned up) first, so a later failed assertion leaves no bridge.
        const bridgeLeftBehind = deleteLinkLeftBehind(bridge);
        assert(!bridgeLeftBehind, `the lab left its bridge ${bridge} behind`);
        const bip = daemonJson.match(/"bip": "(172\.29\.\d{1,3}\.1\/24)"/)?.[1];
        assert(bip, `daemon.json has no 172.29.N.1/24 bip: ${daemonJson}`);
        assertStringIncludes(step(run, `ip -4 -brief address show dev ${bridge}`).output, bip);

        // run -dP: the EXPOSEd port on a free port of 127.0.0.1, and the page through it.
        const portLines = step(run, `${client} port web`).output.split("\n");
        assertEquals(portLines.length, 1, `one published port: ${portLines.join(" | ")}`);
        const hostPort = portLines[0].match(/^5000\/tcp -> 127\.0\.0\.1:(\d+)$/)?.[1];
        assert(hostPort, `port line "${portLines[0]}" maps no 5000/tcp to 127.0.0.1:<port>`);
        assert(Number(hostPort) > 0 && Number(hostPort) < 65536);
        assertStringIncludes(
          step(run, `${client} ps --format`).output,
          `127.0.0.1:${hostPort}->5000/tcp`,
        );
        const page = step(run, `curl -sS http://127.0.0.1:${hostPort}/`).output;
        assertStringIncludes(page, "Cat Gif of the day");
        assertMatch(page, /<p class="cat">\S+<\/p>/);

        const overlay2 = join(run.lab, "data", "overlay2");
        const graphDriver = step(run, `${client} inspect web | grep -A 9`).output;
        assertMatch(graphDriver, /"Name": "overlay2"/);
        const path = (name: string) => graphDriver.match(new RegExp(`"${name}": "([^"]+)"`))?.[1];
        const upper = path("UpperDir")!, merged = path("MergedDir")!, work = path("WorkDir")!;
        const lowers = path("LowerDir")!.split(":");
        const layer = upper.slice(overlay2.length + 1, -"/diff".length);
        assertMatch(layer, /^[0-9a-f]{64}$/);
        assertEquals(upper, join(overlay2, layer, "diff"));
        assertEquals(merged, join(overlay2, layer, "merged"));
        assertEquals(work, join(overlay2, layer, "work"));
        assertEquals(lowers[0], join(overlay2, `${layer}-init`, "diff"));
        const imageLayers = lowers.slice(1).map((lower) => {
          assertEquals(lower.slice(0, overlay2.length + 1), `${overlay2}/`);
          assert(lower.endsWith("/diff"), lower);
          return lower.slice(overlay2.length + 1, -"/diff".length);
        });
        // One lower directory per layer of the image, as many as layerdb has chain IDs.
        const layerdb = step(run, "ls image/overlay2/layerdb/sha256").output.split("\n");
        const chainIds = layerdb.slice(layerdb.indexOf("image/overlay2/layerdb/sha256:") + 1)
          .filter((line) => line !== "");
        chainIds.forEach((chainId) => assertMatch(chainId, /^[0-9a-f]{64}$/));
        assertEquals(imageLayers.length, chainIds.length, "LowerDir: -init, then every layer");
        assert(imageLayers.length > 1, "the web app adds layers to busybox's");

        // The write lands in the upper layer and shows in the merged view only.
        assert(step(run, `ls ${upper}`).output.split("\n").includes("hello-from-container"));
        assertEquals(
          step(run, `cat ${upper}/hello-from-container`).output,
          "hello from the container",
        );
        const mergedListing = step(run, `ls ${merged}`).output.split("\n");
        assert(mergedListing.includes("hello-from-container") && mergedListing.includes("bin"));
        for (const lower of lowers) {
          assertStringIncludes(
            step(run, `ls ${lower}/hello-from-container`).output,
            "No such file or directory",
          );
        }
        const mountOptions = step(run, `grep -F '${merged}' /proc/mounts`).output;
        assertStringIncludes(mountOptions, `upperdir=${upper}`);
        assertMatch(mountOptions, /lowerdir=\S+\/l\/[A-Z0-9]{26}:\S+\/l\/[A-Z0-9]{26}/);

        // overlay2/: the image's layers, the container's two layers, l/.
        const [before, after] = stepsStartingWith(run, "ls overlay2").map((s) => s.output);
        assertEquals(before.split("\n"), [layer, `${layer}-init`, ...imageLayers, "l"].sort());
        const init = step(run, `cd ${overlay2}/${layer}-init/diff`).output.split("\n");
        for (const file of ["./.dockerenv", "./etc/hosts", "./etc/resolv.conf", "./dev/console"]) {
          assert(init.includes(file), `-init lacks ${file}`);
        }

        // l/: one 26-character link per layer, each to ../<layer>/diff of a listed layer.
        const readlinks = stepsStartingWith(run, "readlink overlay2/l/");
        assertEquals(readlinks.length, imageLayers.length + 2);
        const targets = new Map<string, string>();
        for (const { command, output } of readlinks) {
          const name = command.slice("readlink overlay2/l/".length);
          assertMatch(name, /^[A-Z0-9]{26}$/);
          const target = output.match(/^\.\.\/([0-9a-f]{64}(-init)?)\/diff$/)?.[1];
          assert(target, `l/${name} points at ${output}`);
          targets.set(target, name);
        }
        assertEquals(
          [...targets.keys()].sort(),
          [layer, `${layer}-init`, ...imageLayers].sort(),
        );
        assertEquals(step(run, `cat overlay2/${layer}/link`).output, targets.get(layer));
        assertEquals(
          step(run, `cat overlay2/${layer}/lower`).output,
          [`${layer}-init`, ...imageLayers].map((lower) => `l/${targets.get(lower)}`).join(":"),
        );

        // rm -f: the container's layers and mount are gone; the image's layers stay.
        assertEquals(after.split("\n"), [...imageLayers, "l"].sort());
        assertEquals(step(run, `grep -c ' ${run.lab}/data/' /proc/mounts`).output, "0");
        const links = [...Deno.readDirSync(join(overlay2, "l"))].map((entry) => entry.name);
        assertEquals(links.sort(), imageLayers.map((image) => targets.get(image)!).sort());
        for (const link of links) {
          assert(lowers.includes(Deno.realPathSync(join(overlay2, "l", link))), link);
        }
        assertStringIncludes(run.output, "overlay2 lab done");
      } finally {
        await finish(run.lab);
      }
    },
  });
}
