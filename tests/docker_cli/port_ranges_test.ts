// `-p` with port ranges, checked against what the real docker 28 CLI sends: both CLIs
// run `create` against a tiny Engine API stand-in (node:http on a Unix socket of this
// test) that records the create request's body and refuses it, and the ExposedPorts and
// HostConfig.PortBindings they sent must be the same: one binding per port of a range,
// and for one container port with a host range, the range itself as HostPort (the
// daemon picks a free port in it). Mismatched range lengths are refused by both, with
// the same words, before anything is sent.

import http from "node:http";
import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { requirements } from "../helpers/requirements.ts";
import { missingDocker28, runMiniDocker, runRealDocker } from "./support.ts";

/** A create request a CLI sent: its ExposedPorts and PortBindings. */
interface CapturedPorts {
  exposed: unknown;
  bindings: unknown;
}

/** An Engine API stand-in that answers /_ping and records (then refuses) every create. */
async function startRecorder(socket: string) {
  const creates: CapturedPorts[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Uint8Array[] = [];
    request.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    request.on("end", () => {
      response.setHeader("Api-Version", "1.41");
      response.setHeader("Content-Type", "application/json");
      if ((request.url ?? "").includes("/_ping")) {
        response.end(request.method === "HEAD" ? undefined : "OK");
        return;
      }
      if (request.method === "POST" && (request.url ?? "").includes("/containers/create")) {
        const body = JSON.parse(new TextDecoder().decode(concat(chunks)));
        creates.push({ exposed: body.ExposedPorts, bindings: body.HostConfig?.PortBindings });
      }
      response.statusCode = 500;
      response.end(JSON.stringify({ message: "recorded by the test" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    creates,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

const RANGE_SPECS = [
  ["-p", "8000-8001:80-81"],
  ["-p", "127.0.0.1:8100-8101:80-81/udp"],
  ["-p", "90-91"],
  ["-p", "8200-8210:82"],
  ["-p", "127.0.0.1:8300-8302:83-85", "-p", "84"],
];

Deno.test({
  name: "-p ranges: mini-docker sends the PortBindings and ExposedPorts docker 28 sends",
  ignore: requirements("-p ranges", missingDocker28()),
  async fn() {
    const directory = await Deno.makeTempDir({ dir: "/tmp", prefix: "mpr-" });
    const socket = join(directory, "engine.sock");
    const recorder = await startRecorder(socket);
    try {
      const sentByReal: CapturedPorts[] = [];
      for (const spec of RANGE_SPECS) {
        const args = ["create", ...spec, "busybox:local", "true"];
        const real = await runRealDocker(socket, join(directory, "config"), args);
        assertEquals(recorder.creates.length, 1, `docker ${args.join(" ")}: ${real.stderr}`);
        const mini = await runMiniDocker(socket, args);
        assertEquals(recorder.creates.length, 2, `mini-docker ${args.join(" ")}: ${mini.stderr}`);
        assert(real.code !== 0 && mini.code !== 0, "the stand-in refuses every create");
        assertStringIncludes(mini.stderr, "recorded by the test");
        const [fromReal, fromMini] = recorder.creates.splice(0);
        assertEquals(fromMini, fromReal, `create body of ${spec.join(" ")}`);
        sentByReal.push(fromReal);
      }
      // What the real CLI sent, spelled out for the two ranges this lesson is about.
      assertEquals(sentByReal[0].bindings, {
        "80/tcp": [{ HostIp: "", HostPort: "8000" }],
        "81/tcp": [{ HostIp: "", HostPort: "8001" }],
      });
      assertEquals(sentByReal[3].bindings, {
        "82/tcp": [{ HostIp: "", HostPort: "8200-8210" }],
      });
    } finally {
      await recorder.close();
      await Deno.remove(directory, { recursive: true });
    }
  },
});

Deno.test({
  name: "-p ranges of different lengths: both CLIs refuse them with the same words",
  ignore: requirements("-p range mismatch", missingDocker28()),
  async fn() {
    const directory = await Deno.makeTempDir({ dir: "/tmp", prefix: "mpr-" });
    const socket = join(directory, "engine.sock");
    const recorder = await startRecorder(socket);
    try {
      for (const spec of ["8000-8002:80-81", "127.0.0.1:8000-8001:80-82/udp"]) {
        const args = ["create", "-p", spec, "busybox:local", "true"];
        const real = await runRealDocker(socket, join(directory, "config"), args);
        const mini = await runMiniDocker(socket, args);
        assertStringIncludes(real.stderr, "invalid ranges specified for container and host Ports");
        assertEquals(mini.code, real.code, `mini-docker ${args.join(" ")}: ${mini.stderr}`);
        assertEquals(
          mini.stderr.replace("mini-docker", "docker").split("\n")[0],
          real.stderr.split("\n")[0],
        );
      }
      assertEquals(recorder.creates, [], "nothing is sent for a refused -p");
    } finally {
      await recorder.close();
      await Deno.remove(directory, { recursive: true });
    }
  },
});
