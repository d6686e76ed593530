// Tests of the Engine API plumbing on its own (no daemon): routing with and without
// the /v1.41 prefix, docker-style errors, the 101 UPGRADED hijack with stdcopy frames
// over a raw socket, flushed stream headers (what `docker run` needs from /wait),
// NDJSON progress lines byte-compared with real dockerd's from the wire traces,
// daemon.json parsing rules, an upgrade request's body arriving after its headers,
// errors after a hijack closing the connection, and `GET /events` dropping its
// subscription when the client goes away (raw node:net sockets).

import { join } from "node:path";
import { createConnection, type Socket } from "node:net";
import { Buffer } from "node:buffer";
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "../helpers/assert.ts";
import { EngineRouter, stripVersion } from "../../lib/dockerd/server/router.ts";
import { EngineServer } from "../../lib/dockerd/server/http_server.ts";
import { badParameter, notFoundError } from "../../lib/dockerd/server/errors.ts";
import { frameChunk, parseFrames, StreamType } from "../../lib/dockerd/server/hijack.ts";
import { humanSize, progressBar, ProgressWriter } from "../../lib/dockerd/server/progress.ts";
import { encodeJson } from "../../lib/dockerd/server/json.ts";
import { base32, generateShortId } from "../../lib/dockerd/layer/short_id.ts";
import { ConfigError, loadDockerdConfig, parseConfigText } from "../../lib/dockerd/config.ts";
import { EventsService } from "../../lib/dockerd/events.ts";
import { streamEvents } from "../../lib/dockerd/routes/system.ts";

const quiet = { debug() {}, error() {} };

async function withServer(
  setup: (router: EngineRouter) => void,
  body: (socket: string, client: Deno.HttpClient) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "mdk-srv-" });
  const socket = join(dir, "api.sock");
  const router = new EngineRouter();
  setup(router);
  const server = new EngineServer(router, {
    socketPath: socket,
    serverVersion: "test",
    log: () => quiet,
  });
  await server.listen();
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  try {
    await body(socket, client);
  } finally {
    client.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Sends raw bytes on a new connection and reads until `done(text)` or the server closes. */
async function rawExchange(
  socket: string,
  request: string,
  done: (received: Uint8Array) => boolean = () => false,
): Promise<Uint8Array> {
  const connection = await Deno.connect({ transport: "unix", path: socket });
  await connection.write(new TextEncoder().encode(request));
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  let total = 0;
  while (true) {
    const count = await connection.read(buffer);
    if (count === null) break;
    chunks.push(buffer.slice(0, count));
    total += count;
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      joined.set(chunk, offset);
      offset += chunk.byteLength;
    }
    if (done(joined)) break;
  }
  connection.close();
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

Deno.test("routes answer with and without the version prefix; static paths win over patterns", async () => {
  await withServer((router) => {
    router.get("/images/json", () => ["list"]);
    router.get(
      "/images/{name:.*}/json",
      (request) => ({ name: request.param("name"), version: request.apiVersion }),
    );
    router.get("/containers/{id}/json", (request) => ({ id: request.param("id") }));
  }, async (_socket, client) => {
    const get = async (path: string) => {
      const response = await fetch(`http://api.moby.localhost${path}`, { client });
      return { status: response.status, body: await response.json(), headers: response.headers };
    };
    assertEquals((await get("/v1.41/images/json")).body, ["list"]);
    assertEquals((await get("/images/json")).body, ["list"]);
    assertEquals((await get("/v1.40/images/localhost:5000/bb/json")).body, {
      name: "localhost:5000/bb",
      version: "1.40",
    });
    assertEquals((await get("/images/busybox/json")).body.version, "1.41");
    const tooNew = await get("/v1.99/images/json");
    assertEquals(tooNew.status, 400);
    assertStringIncludes(tooNew.body.message, "client version 1.99 is too new");
    const missing = await get("/v1.41/nowhere");
    assertEquals(missing.status, 404);
    assertEquals(missing.body, { message: "page not found" });
    assertEquals(missing.headers.get("api-version"), "1.41");
    assertEquals((await get("/containers/a%2Fb/json")).body, { id: "a/b" });
  });
  assertEquals(stripVersion("/v1.24/info"), { version: "1.24", path: "/info" });
});

Deno.test("errors become {message} with their status; bad JSON is a 400 and the server stays up", async () => {
  await withServer((router) => {
    router.post("/echo", async (request) => await request.json());
    router.get("/missing", () => {
      throw notFoundError("No such image: x:latest");
    });
    router.get("/bad", () => {
      throw badParameter("bad thing");
    });
    router.get("/crash", () => {
      throw new Error("internal trouble");
    });
    router.get("/none", () => undefined);
  }, async (socket, client) => {
    const call = async (method: string, path: string, body?: string) => {
      const response = await fetch(`http://api.moby.localhost${path}`, { method, body, client });
      return { status: response.status, text: await response.text() };
    };
    assertEquals(await call("GET", "/missing"), {
      status: 404,
      text: '{"message":"No such image: x:latest"}\n',
    });
    assertEquals((await call("GET", "/bad")).status, 400);
    assertEquals(await call("GET", "/crash"), {
      status: 500,
      text: '{"message":"internal trouble"}\n',
    });
    assertEquals(await call("GET", "/none"), { status: 204, text: "" });
    const malformed = await call("POST", "/echo", '{"Image": ');
    assertEquals(malformed.status, 400);
    assertStringIncludes(malformed.text, "invalid JSON in request body");
    const huge = await call("POST", "/echo", "[" + "1,".repeat(3 * 1024 * 1024) + "1]");
    assertEquals(huge.status, 400);
    assertStringIncludes(huge.text, "limit");
    const garbage = new TextDecoder().decode(await rawExchange(socket, "THIS IS NOT HTTP\r\n\r\n"));
    assertMatch(garbage, /^HTTP\/1\.1 400/);
    assertEquals(await call("POST", "/echo", '{"ok": true}'), {
      status: 200,
      text: '{"ok":true}\n',
    });
    assertEquals((await call("DELETE", "/missing")).status, 405);
  });
});

Deno.test("hijack answers 101 UPGRADED and carries stdin in, framed stdout/stderr out", async () => {
  await withServer((router) => {
    router.post("/containers/{id}/attach", async (request) => {
      if (request.param("id") !== "c1") {
        throw notFoundError("No such container: " + request.param("id"));
      }
      const stream = request.hijack();
      const received: Uint8Array[] = [];
      for await (const chunk of stream.input) received.push(chunk);
      const text = new TextDecoder().decode(await new Blob(received as BlobPart[]).arrayBuffer());
      await stream.writeFrame(StreamType.stdout, new TextEncoder().encode(`out:${text}`));
      await stream.writeFrame(StreamType.stderr, new TextEncoder().encode("err\n"));
      await stream.close();
    });
  }, async (socket) => {
    const request = "POST /v1.41/containers/c1/attach?stream=1&stdin=1 HTTP/1.1\r\n" +
      "Host: api.moby.localhost\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n" +
      "Content-Type: text/plain\r\n\r\n";
    const connection = await Deno.connect({ transport: "unix", path: socket });
    await connection.write(new TextEncoder().encode(request + "hello "));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await connection.write(new TextEncoder().encode("world"));
    await connection.closeWrite(); // the client's stdin ended; output must still arrive
    const bytes = new Uint8Array(await new Response(connection.readable).arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    const headerEnd = text.indexOf("\r\n\r\n");
    const head = text.slice(0, headerEnd);
    assertMatch(head, /^HTTP\/1\.1 101 UPGRADED\r\n/);
    assertStringIncludes(head, "Content-Type: application/vnd.docker.raw-stream");
    assertStringIncludes(head, "Upgrade: tcp");
    const frames = [
      ...parseFrames(
        bytes.subarray(new TextEncoder().encode(text.slice(0, headerEnd + 4)).byteLength),
      ),
    ];
    assertEquals(frames.map((frame) => [frame.stream, new TextDecoder().decode(frame.payload)]), [
      [1, "out:hello world"],
      [2, "err\n"],
    ]);

    // An error before the hijack is an ordinary HTTP answer on the upgrade connection.
    const notFound = new TextDecoder().decode(
      await rawExchange(socket, request.replace("/c1/", "/zz/")),
    );
    assertMatch(notFound, /^HTTP\/1\.1 404 Not Found\r\n/);
    assertStringIncludes(notFound, '{"message":"No such container: zz"}');
  });
  assertEquals([...frameChunk(StreamType.stderr, new Uint8Array([65, 66]))], [
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    65,
    66,
  ]);
});

Deno.test("a stream's headers go out before its body (what /containers/ID/wait needs)", async () => {
  const release = Promise.withResolvers<void>();
  await withServer((router) => {
    router.post("/containers/{id}/wait", async (request) => {
      const out = request.reply.stream(200, "application/json");
      await release.promise;
      await out.write('{"Error":null,"StatusCode":3}\n');
      await out.end();
    });
  }, async (_socket, client) => {
    const response = await fetch(
      "http://api.moby.localhost/v1.41/containers/x/wait?condition=next-exit",
      {
        method: "POST",
        client,
      },
    );
    // fetch resolved: the status line and headers arrived while the body is held back.
    assertEquals(response.status, 200);
    release.resolve();
    assertEquals(await response.json(), { Error: null, StatusCode: 3 });
  });
});

Deno.test("progress lines are byte-identical to dockerd's (from the wire traces)", async () => {
  assertEquals(
    progressBar(115, 115),
    "[==================================================>]     115B/115B",
  );
  assertEquals(
    progressBar(38912, 1982340),
    "[>                                                  ]  38.91kB/1.982MB",
  );
  assertEquals(
    progressBar(1996800, 1982340),
    "[==================================================>]  1.997MB",
  );
  assertEquals(humanSize(1000), "1kB");
  assertEquals(humanSize(1982340), "1.982MB");
  assertEquals(
    encodeJson({
      status: "Downloading",
      progressDetail: { current: 115, total: 115 },
      progress: progressBar(115, 115),
      id: "be2dd558ead5",
    }),
    '{"status":"Downloading","progressDetail":{"current":115,"total":115},"progress":' +
      '"[==================================================\\u003e]     115B/115B","id":"be2dd558ead5"}',
  );

  // A ProgressWriter on a Reply starts its stream lazily: a failure before the first
  // line is a plain error status.
  await withServer((router) => {
    router.post("/pull", async (request) => {
      const out = new ProgressWriter(request.reply);
      if (request.bool("early")) await out.fail(notFoundError("manifest unknown"));
      await out.status("Pulling from library/busybox", "latest");
      await out.fail(new Error("connection reset"));
    });
  }, async (_socket, client) => {
    const early = await fetch("http://api.moby.localhost/pull?early=1", { method: "POST", client });
    assertEquals(early.status, 404);
    assertEquals(await early.json(), { message: "manifest unknown" });
    const late = await fetch("http://api.moby.localhost/pull", { method: "POST", client });
    assertEquals(late.status, 200);
    assertEquals(
      await late.text(),
      '{"status":"Pulling from library/busybox","progressDetail":{},"id":"latest"}\r\n' +
        '{"errorDetail":{"message":"connection reset"},"error":"connection reset"}\r\n',
    );
  });
});

Deno.test("short ids are 26 base32 characters (16 random bytes)", () => {
  assertEquals(base32(new TextEncoder().encode("foobar")), "MZXW6YTBOI");
  const ids = new Set(Array.from({ length: 200 }, () => generateShortId()));
  assertEquals(ids.size, 200);
  for (const id of ids) assertMatch(id, /^[A-Z2-7]{26}$/);
  // (26 + "l/".length) × 128 layers = 3584 = 4096 − 512: the arithmetic behind the length.
  assertEquals((26 + 2) * 128, 4096 - 512);
});

Deno.test("daemon.json: unknown keys, invalid JSON (line and column), conflicts and bad values are refused", async () => {
  const unknown = assertThrows(
    () => parseConfigText("/etc/d.json", '{"debug": true, "foo": 1, "bar": 2}'),
    ConfigError,
  );
  assertEquals(
    unknown.message,
    "unable to configure the Docker daemon with file /etc/d.json: " +
      "the following directives don't match any configuration option: foo, bar",
  );
  const invalid = assertThrows(
    () => parseConfigText("/etc/d.json", '{\n  "debug": true,\n  oops\n}'),
    ConfigError,
  );
  assertStringIncludes(invalid.message, "invalid JSON at line 3, column 3");

  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "daemon.json");
    await Deno.writeTextFile(file, '{"data-root": "/from/file", "live-restore": true}');
    const conflict = await loadDockerdConfig({
      configFile: file,
      flags: { "data-root": "/from/flag" },
    })
      .then(() => undefined, (error) => error);
    assert(conflict instanceof ConfigError);
    assertStringIncludes(
      conflict.message,
      "the following directives are specified both as a flag and in the configuration file: " +
        "data-root: (from flag: /from/flag, from file: /from/file)",
    );
    const config = await loadDockerdConfig({ configFile: file, flags: { debug: true } });
    assertEquals([config.dataRoot, config.liveRestore, config.debug, config.logLevel], [
      "/from/file",
      true,
      true,
      "debug",
    ]);

    await Deno.writeTextFile(file, '{"storage-driver": "devicemapper"}');
    const driver = await loadDockerdConfig({ configFile: file }).then(
      () => undefined,
      (error) => error,
    );
    assertStringIncludes(String(driver?.message), 'storage-driver "devicemapper" is not supported');
    await Deno.writeTextFile(file, '{"log-level": "chatty"}');
    const level = await loadDockerdConfig({ configFile: file }).then(
      () => undefined,
      (error) => error,
    );
    assertStringIncludes(String(level?.message), "invalid logging level: chatty");
    await Deno.writeTextFile(file, '{"live-restore": "yes"}');
    const type = await loadDockerdConfig({ configFile: file }).then(
      () => undefined,
      (error) => error,
    );
    assertStringIncludes(String(type?.message), "invalid value for live-restore");
    // A missing default file is fine; a missing explicit one is not.
    assertEquals(
      (await loadDockerdConfig({ configFile: join(dir, "absent.json") })).configFile,
      "",
    );
    const explicit = await loadDockerdConfig({
      configFile: join(dir, "absent.json"),
      configFileExplicit: true,
    })
      .then(() => undefined, (error) => error);
    assertStringIncludes(String(explicit?.message), "no such file or directory");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A raw client connection (node:net) that records what it receives and when it ends. */
class RawClient {
  readonly socket: Socket;
  received = new Uint8Array(0);
  readonly ended: Promise<void>;
  readonly #connected: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(path: string) {
    this.socket = createConnection({ path });
    this.#connected = new Promise((resolve) => this.socket.once("connect", () => resolve()));
    this.socket.on("error", () => {});
    this.socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      for (const waiter of this.#waiters) waiter();
    });
    this.ended = new Promise((resolve) => this.socket.once("close", () => resolve()));
    this.ended.then(() => this.#waiters.forEach((waiter) => waiter()));
  }

  get text(): string {
    return new TextDecoder().decode(this.received);
  }

  /** The bytes after the response headers. */
  get body(): Uint8Array {
    const end = Buffer.from(this.received).indexOf("\r\n\r\n");
    return end < 0 ? new Uint8Array(0) : this.received.subarray(end + 4);
  }

  async send(text: string): Promise<void> {
    await this.#connected;
    await new Promise<void>((resolve) => this.socket.write(text, () => resolve()));
  }

  /** Resolves once `condition()` holds; rejects if the connection ends before. */
  async until(what: string, condition: () => boolean): Promise<void> {
    let closed = false;
    this.ended.then(() => closed = true);
    while (!condition()) {
      if (closed) throw new Error(`connection closed before ${what}: ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
      this.#waiters = [];
    }
  }
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Waits for the server to end `client`'s connection; a bound turns a hang into a failure. */
async function endsWithin(client: RawClient, milliseconds: number, failure: string) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.ended,
      new Promise((_, reject) =>
        timer = setTimeout(() => reject(new Error(failure)), milliseconds)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("an upgrade request's body is separated from stdin whichever packet brings it", async () => {
  await withServer((router) => {
    router.post("/exec/{id}/start", async (request) => {
      const stream = request.hijack(); // before reading the body: the split is the framework's
      const options = await request.json<{ Tty?: boolean; Detach?: boolean }>({});
      const input: Uint8Array[] = [];
      for await (const chunk of stream.input) input.push(chunk);
      const stdin = new TextDecoder().decode(await new Blob(input as BlobPart[]).arrayBuffer());
      await stream.write(new TextEncoder().encode(JSON.stringify({ options, stdin })));
      await stream.close();
    });
  }, async (socket) => {
    const body = '{"Detach":false,"Tty":true}';
    const head = "POST /v1.41/exec/e1/start HTTP/1.1\r\nHost: api.moby.localhost\r\n" +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
      "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
    // How the bytes are cut into writes: the pauses make them separate packets.
    const cuts: Record<string, string[]> = {
      "with the headers": [head + body + "ls\n", "exit\n"],
      "in a later packet": [head, body + "ls\n", "exit\n"],
      "split over two packets": [head + body.slice(0, 9), body.slice(9), "ls\nexit\n"],
      "alone in its packet": [head, body, "ls\n", "exit\n"],
    };
    for (const [name, writes] of Object.entries(cuts)) {
      const client = new RawClient(socket);
      for (const bytes of writes) {
        await client.send(bytes);
        await pause(30);
      }
      client.socket.end(); // stdin is over
      await client.ended;
      assertMatch(client.text, /^HTTP\/1\.1 101 UPGRADED\r\n/, name);
      assertEquals(JSON.parse(new TextDecoder().decode(client.body)), {
        options: { Detach: false, Tty: true },
        stdin: "ls\nexit\n",
      }, name);
    }
  });
});

Deno.test("an error after the hijack closes the connection instead of leaving the client waiting", async () => {
  const handlerDone = Promise.withResolvers<void>();
  await withServer((router) => {
    router.post("/containers/{id}/attach", async (request) => {
      const stream = request.hijack();
      await stream.writeFrame(StreamType.stdout, new TextEncoder().encode("partial"));
      setTimeout(() => handlerDone.resolve(), 0);
      throw new Error("the container's FIFOs vanished");
    });
    router.post("/plain/attach", async (request) => {
      const stream = request.hijack();
      await stream.write(new TextEncoder().encode("partial"));
      throw new Error("failed half way");
    });
  }, async (socket) => {
    const upgrade = new RawClient(socket);
    await upgrade.send(
      "POST /v1.41/containers/c1/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\n" +
        "Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    );
    // The client never closes its side: only the server can end this (the bound only
    // turns a hang into a failure).
    await endsWithin(upgrade, 20_000, "the hijacked connection stayed open");
    await handlerDone.promise;
    assertMatch(upgrade.text, /^HTTP\/1\.1 101 UPGRADED\r\n/);
    assertEquals(
      [...parseFrames(upgrade.body)].map((frame) => new TextDecoder().decode(frame.payload)),
      ["partial"],
    );
    assert(!upgrade.text.includes("FIFOs vanished"), "no HTTP error after the 101");

    // Without Upgrade (a 200 raw stream on a node:http response) the same holds.
    const plain = new RawClient(socket);
    await plain.send("POST /plain/attach HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    await endsWithin(plain, 20_000, "the raw stream stayed open");
    assertMatch(plain.text, /^HTTP\/1\.1 200 OK\r\n/);
    assertStringIncludes(plain.text, "application/vnd.docker.raw-stream");
    assertStringIncludes(plain.text, "partial");
  });
});

Deno.test("GET /events streams events and drops its subscription when the client hangs up", async () => {
  const events = new EventsService();
  await withServer((router) => {
    router.get("/events", (request) => streamEvents(request, events));
  }, async (socket) => {
    events.log("container", "die", "0123456789ab", { name: "old", exitCode: "3" });
    const client = new RawClient(socket);
    await client.send(
      "GET /v1.41/events?since=0&filters=" +
        encodeURIComponent(JSON.stringify({ type: { container: true }, event: { die: true } })) +
        " HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    const lines = () => client.text.split("\r\n").filter((line) => line.startsWith("{"));
    await client.until("the kept event", () => lines().length === 1);
    assertMatch(client.text, /^HTTP\/1\.1 200 OK\r\n/);
    assertEquals(events.listenerCount, 1);
    events.log("image", "pull", "busybox:latest"); // filtered out
    events.log("container", "start", "fedcba987654", { name: "web" }); // filtered out
    const live = events.log("container", "die", "fedcba987654", { name: "web", exitCode: "0" });
    await client.until("the live event", () => lines().length === 2);
    assertEquals(lines().map((line) => JSON.parse(line).Actor.Attributes.name), ["old", "web"]);
    assertEquals(JSON.parse(lines()[1]), JSON.parse(JSON.stringify(live)));

    client.socket.destroy(); // `docker events` interrupted with Ctrl-C
    for (let attempt = 0; events.listenerCount > 0 && attempt < 200; attempt++) await pause(10);
    assertEquals(events.listenerCount, 0, "the subscription was dropped");

    // `until` in the past: only the kept events, then the stream ends by itself.
    const bounded = new RawClient(socket);
    await bounded.send(
      `GET /events?since=0&until=${(Date.now() / 1000).toFixed(3)} ` +
        "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    await bounded.ended;
    assertEquals(bounded.text.split("\r\n").filter((line) => line.startsWith("{")).length, 4);
    assertEquals(events.listenerCount, 0);

    const bad = new RawClient(socket);
    await bad.send("GET /events?since=yesterday HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await bad.ended;
    assertMatch(bad.text, /^HTTP\/1\.1 400 /);
    assertEquals(events.listenerCount, 0);
  });
});
