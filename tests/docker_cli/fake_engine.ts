// A stand-in Docker Engine API server for mini-docker's tests: node:http on a Unix
// socket, answering like dockerd 20.10 does in the wire traces
// (../shared/reference/docker-api-traces/): /_ping with Api-Version 1.41, JSON bodies
// with the same fields, `wait` headers flushed at once, hijacked attach/exec with
// `101 UPGRADED` and 8-byte framing unless there is a tty, NDJSON pull/push progress.
// Containers "run" a tiny script interpreter (echo, exit, cat, sleep, sh -c "a; b"),
// so the same server can be driven by mini-docker and by the real docker CLI and
// their outputs compared. It is a test double, not a daemon: no isolation, no images.

import http from "node:http";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";

const encoder = new TextEncoder();

/** One frame of the multiplexed stream (written here independently of the CLI's code). */
function frameBytes(stream: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out[0] = stream;
  out[4] = (payload.length >>> 24) & 0xff;
  out[5] = (payload.length >>> 16) & 0xff;
  out[6] = (payload.length >>> 8) & 0xff;
  out[7] = payload.length & 0xff;
  out.set(payload, 8);
  return out;
}

/**
 * A deterministic ID generator: two fake engines given the same operations hand out
 * the same IDs, so the real CLI and mini-docker can each drive their own engine and
 * their outputs still compare equal.
 */
function idGenerator(seed: number): () => string {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return () => Array.from({ length: 8 }, () => next().toString(16).padStart(8, "0")).join("");
}

function isoNano(milliseconds: number, extraNanos = 0): string {
  const iso = new Date(milliseconds).toISOString(); // 2026-01-01T00:00:00.123Z
  const nanos = String((milliseconds % 1000) * 1_000_000 + extraNanos).padStart(9, "0");
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  KILL: 9,
  USR1: 10,
  USR2: 12,
  TERM: 15,
};

function signalNumber(text: string | null): number {
  if (!text) return 9;
  const name = text.toUpperCase().replace(/^SIG/, "");
  if (/^\d+$/.test(name)) return Number(name);
  return SIGNALS[name] ?? 0;
}

/** An image the fake daemon knows (locally, or in its fake registry). */
export interface FakeImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: number;
  size: number;
  cmd: string[];
  env: string[];
  layers: { id: string; size: number }[];
  history: { created: number; createdBy: string; size: number; comment: string }[];
}

type Output = (stream: 1 | 2, bytes: Uint8Array) => void;

/** A running scripted process (a container's main process or an exec). */
class FakeProcess {
  #stdinLines: string[] = [];
  #stdinBuffer = "";
  #stdinClosed = false;
  #stdinWaiters: (() => void)[] = [];
  #killed: number | undefined;
  #killWaiters: (() => void)[] = [];
  readonly exit: Promise<number>;

  constructor(
    argv: string[],
    readonly tty: boolean,
    readonly env: string[],
    readonly workdir: string,
    readonly output: Output,
  ) {
    this.exit = this.#run(argv);
  }

  #emit(stream: 1 | 2, text: string): void {
    const data = this.tty ? text.replace(/\r?\n/g, "\r\n") : text;
    this.output(this.tty ? 1 : stream, encoder.encode(data));
  }

  /** Bytes typed into the process's stdin. */
  feed(bytes: Uint8Array): void {
    const text = new TextDecoder().decode(bytes);
    if (this.tty) this.#emit(1, text.replace(/\r/g, "\n")); // a terminal echoes what you type
    this.#stdinBuffer += text.replace(/\r/g, "\n");
    let newline: number;
    while ((newline = this.#stdinBuffer.indexOf("\n")) !== -1) {
      this.#stdinLines.push(this.#stdinBuffer.slice(0, newline + 1));
      this.#stdinBuffer = this.#stdinBuffer.slice(newline + 1);
    }
    this.#wake();
  }

  closeStdin(): void {
    if (this.#stdinBuffer !== "") this.#stdinLines.push(this.#stdinBuffer);
    this.#stdinBuffer = "";
    this.#stdinClosed = true;
    this.#wake();
  }

  kill(signal: number): void {
    if (this.#killed !== undefined) return;
    this.#killed = signal;
    for (const waiter of this.#killWaiters.splice(0)) waiter();
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#stdinWaiters.splice(0)) waiter();
  }

  async #readLine(): Promise<string | undefined> {
    while (true) {
      if (this.#killed !== undefined) return undefined;
      if (this.#stdinLines.length > 0) return this.#stdinLines.shift();
      if (this.#stdinClosed) return undefined;
      await new Promise<void>((resolve) => this.#stdinWaiters.push(resolve));
    }
  }

  async #run(argv: string[]): Promise<number> {
    await Promise.resolve();
    let statements: string[];
    let interactive = false;
    if ((argv[0] === "sh" || argv[0] === "/bin/sh") && argv[1] === "-c") {
      statements = (argv[2] ?? "").split(";");
    } else if ((argv[0] === "sh" || argv[0] === "/bin/sh") && argv.length === 1) {
      statements = [];
      interactive = true;
    } else {
      statements = [argv.map((arg) => (/\s/.test(arg) ? `'${arg}'` : arg)).join(" ")];
    }
    for (const statement of statements) {
      const result = await this.#execute(statement.trim());
      if (result.exit !== undefined) return result.exit;
      if (this.#killed !== undefined) return 128 + this.#killed;
    }
    if (interactive) {
      while (true) {
        if (this.tty) this.#emit(1, "/ # ");
        const line = await this.#readLine();
        if (this.#killed !== undefined) return 128 + this.#killed;
        if (line === undefined) return 0;
        const result = await this.#execute(line.trim());
        if (result.exit !== undefined) return result.exit;
      }
    }
    return this.#killed !== undefined ? 128 + this.#killed : this.#lastStatus;
  }

  #lastStatus = 0;

  async #execute(statement: string): Promise<{ exit?: number }> {
    if (statement === "") return {};
    const toStderr = /\s*>&2\s*$/.test(statement);
    const words = (statement.replace(/\s*>&2\s*$/, "").match(/'[^']*'|"[^"]*"|\S+/g) ?? [])
      .map((word) => word.replace(/^['"]|['"]$/g, ""));
    const [command, ...args] = words;
    this.#lastStatus = 0;
    switch (command) {
      case "echo":
        this.#emit(toStderr ? 2 : 1, args.join(" ") + "\n");
        return {};
      case "exit":
        return { exit: Number(args[0] ?? 0) };
      case "true":
        return {};
      case "false":
        this.#lastStatus = 1;
        return {};
      case "pwd":
        this.#emit(1, (this.workdir || "/") + "\n");
        return {};
      case "printenv":
        for (const name of args) {
          const entry = this.env.find((item) => item.startsWith(`${name}=`));
          if (entry) this.#emit(1, entry.slice(name.length + 1) + "\n");
        }
        return {};
      case "cat": {
        while (true) {
          const line = await this.#readLine();
          if (line === undefined) break;
          this.#emit(1, line);
        }
        return {};
      }
      case "sleep": {
        const seconds = Number(args[0] ?? 0);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          this.#killWaiters.push(resolve);
          timer = setTimeout(resolve, seconds * 1000);
        });
        clearTimeout(timer);
        return {};
      }
      default:
        this.#emit(2, `sh: ${command}: not found\n`);
        this.#lastStatus = 127;
        return { exit: 127 };
    }
  }
}

interface LogEntry {
  stream: 1 | 2;
  bytes: Uint8Array;
  time: string;
}

interface Waiter {
  condition: string;
  response: http.ServerResponse;
}

interface FakeContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  config: Record<string, unknown>;
  hostConfig: Record<string, unknown>;
  created: number;
  state: "created" | "running" | "exited";
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  logs: LogEntry[];
  attachments: { socket: Socket; stdin: boolean }[];
  followers: ((entry: LogEntry | undefined) => void)[];
  waiters: Waiter[];
  process?: FakeProcess;
  ports: { IP: string; PrivatePort: number; PublicPort: number; Type: string }[];
}

interface FakeExec {
  id: string;
  container: FakeContainer;
  config: Record<string, unknown>;
  running: boolean;
  exitCode: number | null;
}

/** A container to put in a fake engine's state directly. */
export interface SeedContainer {
  name: string;
  cmd: string[];
  /** Start it (its script runs; `sleep 300` keeps it running). */
  start?: boolean;
  tty?: boolean;
  publish?: { ip: string; hostPort: number; containerPort: number; protocol?: string }[];
  env?: string[];
}

/** Options of startFakeEngine. */
export interface FakeEngineOptions {
  /** The clock the engine's timestamps derive from (share it between twin engines). */
  now?: number;
  /** Seed of the ID generator. */
  seed?: number;
}

/** The fake daemon and its state. */
export interface FakeEngine {
  socketPath: string;
  /** Adds a container (and starts it if asked); resolves once its output, if any, is logged. */
  seedContainer(spec: SeedContainer): Promise<string>;
  /** "METHOD /path?query" of every request, in arrival order. */
  requests: string[];
  /** Request bodies of `POST /containers/create`, in order. */
  createBodies: Record<string, unknown>[];
  images: FakeImage[];
  close(): Promise<void>;
}

/** The image every fake engine starts with, shaped like the trace's busybox:local. */
export function busyboxImage(now: number): FakeImage {
  return {
    id: "sha256:74eee1d3762b9601e4a64212b984f5e96d3283082e6a9c6aa448e2750bdfbc66",
    repoTags: ["busybox:local", "busybox:latest"],
    repoDigests: [],
    created: Math.floor(now / 1000) - 3 * 7 * 24 * 3600,
    size: 1982340,
    cmd: ["sh"],
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    layers: [{ id: "sha256:f53dc1626506" + "0".repeat(52), size: 1982340 }],
    history: [
      {
        created: Math.floor(now / 1000) - 3 * 7 * 24 * 3600,
        createdBy: '/bin/sh -c #(nop)  CMD ["sh"]',
        size: 0,
        comment: "",
      },
      {
        created: Math.floor(now / 1000) - 3 * 7 * 24 * 3600 - 10,
        createdBy:
          "/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7c2e4e5b7a33f0c3 in / ",
        size: 1982340,
        comment: "",
      },
    ],
  };
}

/** An image in the fake registry, pullable as `localhost:5000/apiexp/built:v1`. */
export function registryImage(now: number): FakeImage {
  return {
    id: "sha256:9a1f3d2b7c4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
    repoTags: ["localhost:5000/apiexp/built:v1"],
    repoDigests: [
      "localhost:5000/apiexp/built@sha256:871293b2362ddd5c4b1719b069899648e8dae1b816a5d9093b3a8d4b6a936fe8",
    ],
    created: Math.floor(now / 1000) - 2 * 24 * 3600,
    size: 4260000,
    cmd: ["sh"],
    env: [],
    layers: [
      { id: "becca0465360", size: 1982340 },
      { id: "be2dd558ead5", size: 115 },
      { id: "45ce563c40cf", size: 112 },
    ],
    history: [],
  };
}

function familiar(reference: string): string {
  return reference.replace(/^docker\.io\/library\//, "").replace(/^docker\.io\//, "");
}

function withDefaultTag(reference: string): string {
  const lastSlash = reference.lastIndexOf("/");
  return reference.slice(lastSlash + 1).includes(":") || reference.includes("@")
    ? reference
    : `${reference}:latest`;
}

/** Starts a fake daemon on `socketPath`. */
export async function startFakeEngine(
  socketPath: string,
  options: FakeEngineOptions = {},
): Promise<FakeEngine> {
  const now = options.now ?? Date.now();
  const randomId = idGenerator(options.seed ?? 42);
  // A logical clock for start/finish/log times: twin engines driven alike agree on them.
  let ticks = 0;
  const tick = () => now + ++ticks;
  const images: FakeImage[] = [busyboxImage(now)];
  const registry: FakeImage[] = [registryImage(now)];
  const containers = new Map<string, FakeContainer>();
  const execs = new Map<string, FakeExec>();
  const requests: string[] = [];
  const createBodies: Record<string, unknown>[] = [];
  const sockets = new Set<Socket>();
  let nextPort = 32768;

  const networks = [
    {
      Name: "none",
      Id: "74387a08c96759207b2f0846f6675af64a6729d832993d50b8174a8b8ea3b5af",
      Driver: "null",
      Created: "2026-11-28T06:35:35.352459142Z",
      Subnet: undefined as string | undefined,
      Labels: {} as Record<string, string>,
    },
    {
      Name: "host",
      Id: "3bdd91d2465f179ba34c214408ebb374888250dd0a2f722922e471b09e1a7b93",
      Driver: "host",
      Created: "2026-11-28T06:35:35.366272275Z",
      Subnet: undefined,
      Labels: {},
    },
    {
      Name: "bridge",
      Id: "224b0c62645bf61c891c53d1f3e6df405fea49e6ecb7e84e00ebadf7a6622ed7",
      Driver: "bridge",
      Created: "2026-11-28T06:35:35.38896624Z",
      Subnet: "172.17.0.0/16",
      Labels: {},
    },
  ];

  const findImage = (name: string): FakeImage | undefined => {
    const bare = name.replace(/^sha256:/, "");
    if (/^[a-f0-9]{4,64}$/.test(bare)) {
      const byId = images.find((image) => image.id.slice(7).startsWith(bare));
      if (byId) return byId;
    }
    const wanted = familiar(withDefaultTag(name));
    return images.find((image) => image.repoTags.includes(wanted));
  };

  const findContainer = (name: string): FakeContainer | undefined => {
    const trimmed = name.replace(/^\//, "");
    for (const container of containers.values()) if (container.name === trimmed) return container;
    if (trimmed.length === 0) return undefined;
    const matches = [...containers.values()].filter((container) =>
      container.id.startsWith(trimmed)
    );
    return matches.length === 1 ? matches[0] : undefined;
  };

  const headersFor = (extra: Record<string, string> = {}) => ({
    "Api-Version": "1.41",
    "Docker-Experimental": "false",
    "Ostype": "linux",
    "Server": "Docker/20.10.24+dfsg1 (linux)",
    ...extra,
  });

  const sendJson = (response: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body) + "\n";
    response.writeHead(
      status,
      headersFor({
        "Content-Type": "application/json",
        "Content-Length": String(Buffer.byteLength(text)),
      }),
    );
    response.end(text);
  };
  const sendError = (response: http.ServerResponse, status: number, message: string) =>
    sendJson(response, status, { message });
  const sendEmpty = (response: http.ServerResponse, status: number) => {
    response.writeHead(status, headersFor());
    response.end();
  };

  const containerSummary = (container: FakeContainer) => ({
    Id: container.id,
    Names: [`/${container.name}`],
    Image: container.image,
    ImageID: container.imageId,
    Command: [
      ...((container.config.Entrypoint as string[] | null) ?? []),
      ...((container.config.Cmd as string[] | null) ?? []),
    ].join(" "),
    Created: container.created,
    Ports: container.ports,
    Labels: container.config.Labels ?? {},
    State: container.state,
    Status: container.state === "running"
      ? "Up 5 hours"
      : container.state === "created"
      ? "Created"
      : `Exited (${container.exitCode}) 4 hours ago`,
    HostConfig: { NetworkMode: (container.hostConfig.NetworkMode as string) ?? "default" },
    NetworkSettings: {
      Networks: { bridge: { NetworkID: networks[2].Id, IPAddress: "172.17.0.2" } },
    },
    Mounts: [],
  });

  const containerInspect = (container: FakeContainer) => ({
    Id: container.id,
    Created: isoNano(container.created * 1000),
    Path: ((container.config.Cmd as string[]) ?? [])[0] ?? "",
    Args: ((container.config.Cmd as string[]) ?? []).slice(1),
    State: {
      Status: container.state,
      Running: container.state === "running",
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: container.state === "running" ? 4242 : 0,
      ExitCode: container.exitCode,
      Error: "",
      StartedAt: container.startedAt,
      FinishedAt: container.finishedAt,
    },
    Image: container.imageId,
    Name: `/${container.name}`,
    RestartCount: 0,
    Driver: "overlay2",
    Platform: "linux",
    HostConfig: { ...container.hostConfig, ConsoleSize: [0, 0] },
    GraphDriver: {
      Data: {
        LowerDir:
          `/var/lib/docker/overlay2/${container.id}-init/diff:/var/lib/docker/overlay2/e5d46e860b60007217e1aee7006ff50e6ff860ffdff612cd6e54176bb43d2a4c/diff`,
        MergedDir: `/var/lib/docker/overlay2/${container.id}/merged`,
        UpperDir: `/var/lib/docker/overlay2/${container.id}/diff`,
        WorkDir: `/var/lib/docker/overlay2/${container.id}/work`,
      },
      Name: "overlay2",
    },
    Mounts: [],
    Config: container.config,
    NetworkSettings: {
      Ports: Object.fromEntries(container.ports.reduce((map, port) => {
        const key = `${port.PrivatePort}/${port.Type}`;
        map.set(key, [...(map.get(key) ?? []), {
          HostIp: port.IP,
          HostPort: String(port.PublicPort),
        }]);
        return map;
      }, new Map<string, { HostIp: string; HostPort: string }[]>())),
      IPAddress: "172.17.0.2",
    },
  });

  const notify = (container: FakeContainer, event: "exit" | "removed") => {
    container.waiters = container.waiters.filter((waiter) => {
      const matches = event === "removed"
        ? waiter.condition === "removed"
        : waiter.condition !== "removed";
      if (!matches) return true;
      const body = JSON.stringify({ Error: null, StatusCode: container.exitCode }) + "\n";
      waiter.response.end(body);
      return false;
    });
  };

  const removeContainer = (container: FakeContainer) => {
    containers.delete(container.id);
    notify(container, "removed");
  };

  const startContainer = (container: FakeContainer) => {
    container.state = "running";
    container.startedAt = isoNano(tick());
    const tty = container.config.Tty === true;
    const argv = [
      ...((container.config.Entrypoint as string[] | null) ?? []),
      ...((container.config.Cmd as string[] | null) ?? []),
    ];
    const process = new FakeProcess(
      argv,
      tty,
      (container.config.Env as string[] | null) ?? [],
      (container.config.WorkingDir as string) ?? "",
      (stream, bytes) => {
        const entry = { stream, bytes, time: isoNano(tick()) };
        container.logs.push(entry);
        for (const attachment of container.attachments) {
          if (!attachment.socket.destroyed) {
            attachment.socket.write(tty ? bytes : frameBytes(stream, bytes));
          }
        }
        for (const follower of container.followers) follower(entry);
      },
    );
    container.process = process;
    for (const attachment of container.attachments) {
      if (attachment.stdin) {
        wireStdin(attachment.socket, process, container.config.StdinOnce === true);
      }
    }
    process.exit.then((code) => {
      container.state = "exited";
      container.exitCode = code;
      container.finishedAt = isoNano(tick());
      container.process = undefined;
      for (const attachment of container.attachments.splice(0)) attachment.socket.end();
      for (const follower of container.followers.splice(0)) follower(undefined);
      notify(container, "exit");
      if (container.hostConfig.AutoRemove === true) removeContainer(container);
    });
  };

  // Bytes of an upgrade request's body still to be skipped per socket: Deno's node:http
  // hands them over either as request data or at the start of the upgraded socket.
  const bodyToSkip = new WeakMap<Socket, number>();
  const wireStdin = (socket: Socket, process: FakeProcess, closeOnEof: boolean) => {
    socket.on("data", (chunk: Uint8Array) => {
      let bytes = new Uint8Array(chunk);
      const skip = Math.min(bodyToSkip.get(socket) ?? 0, bytes.length);
      if (skip > 0) {
        bodyToSkip.set(socket, (bodyToSkip.get(socket) ?? 0) - skip);
        bytes = bytes.subarray(skip);
      }
      if (bytes.length > 0) process.feed(bytes);
    });
    socket.on("end", () => {
      if (closeOnEof) process.closeStdin();
    });
  };

  const upgrade = (socket: Socket) => {
    socket.write(
      "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    );
  };

  const pullStream = (image: FakeImage, reference: string): string[] => {
    const [, tagOrDigest] = /[:@]([^:@/]+)$/.exec(reference) ?? [, "latest"];
    const path = reference.replace(/^[^/]+\//, "").replace(/[:@][^:@/]+$/, "");
    const lines = [{ status: `Pulling from ${path}`, id: tagOrDigest }] as Record<
      string,
      unknown
    >[];
    const localLayers = new Set(images.flatMap((local) => local.layers.map((layer) => layer.id)));
    const fresh = image.layers.filter((layer) =>
      !localLayers.has(layer.id) && layer.id !== "becca0465360"
    );
    for (const layer of image.layers) {
      if (!fresh.includes(layer)) {
        lines.push({ status: "Already exists", progressDetail: {}, id: layer.id });
      }
    }
    for (const layer of fresh) {
      lines.push({ status: "Pulling fs layer", progressDetail: {}, id: layer.id });
    }
    for (const layer of fresh) {
      lines.push({
        status: "Downloading",
        progressDetail: { current: layer.size, total: layer.size },
        progress:
          `[==================================================>]     ${layer.size}B/${layer.size}B`,
        id: layer.id,
      });
      lines.push({ status: "Verifying Checksum", progressDetail: {}, id: layer.id });
      lines.push({ status: "Download complete", progressDetail: {}, id: layer.id });
    }
    for (const layer of fresh) {
      lines.push({
        status: "Extracting",
        progressDetail: { current: layer.size, total: layer.size },
        progress:
          `[==================================================>]     ${layer.size}B/${layer.size}B`,
        id: layer.id,
      });
      lines.push({ status: "Pull complete", progressDetail: {}, id: layer.id });
    }
    lines.push({
      status: "Digest: sha256:871293b2362ddd5c4b1719b069899648e8dae1b816a5d9093b3a8d4b6a936fe8",
    });
    lines.push({ status: `Status: Downloaded newer image for ${reference}` });
    return lines.map((line) => JSON.stringify(line) + "\r\n");
  };

  const readRequestBody = (request: http.IncomingMessage): Promise<Uint8Array> =>
    new Promise((resolve) => {
      const chunks: Uint8Array[] = [];
      request.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      request.on("end", () => resolve(Buffer.concat(chunks)));
    });

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://fake");
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    const path = url.pathname.replace(/^\/v1\.\d+/, "");
    const method = request.method ?? "GET";
    const query = url.searchParams;
    const bodyBytes = await readRequestBody(request);
    const bodyText = new TextDecoder().decode(bodyBytes);
    const json = () => (bodyText.trim() === "" ? {} : JSON.parse(bodyText));
    let match: RegExpMatchArray | null;

    if (path === "/_ping") {
      response.writeHead(
        200,
        headersFor({
          "Content-Type": "text/plain; charset=utf-8",
          "Content-Length": method === "HEAD" ? "0" : "2",
          "Cache-Control": "no-cache, no-store, must-revalidate",
          "Pragma": "no-cache",
        }),
      );
      response.end(method === "HEAD" ? undefined : "OK");
      return;
    }
    if (path === "/version") {
      return sendJson(response, 200, {
        Platform: { Name: "" },
        Components: [
          {
            Name: "Engine",
            Version: "20.10.24+dfsg1",
            Details: {
              ApiVersion: "1.41",
              Arch: "amd64",
              BuildTime: "2026-05-07T21:09:36.000000000+00:00",
              Experimental: "false",
              GitCommit: "5d6db84",
              GoVersion: "go1.19.8",
              KernelVersion: "6.18.44-fc-v669",
              MinAPIVersion: "1.12",
              Os: "linux",
            },
          },
          {
            Name: "containerd",
            Version: "1.6.20~ds1",
            Details: { GitCommit: "1.6.20~ds1-1+deb12u3" },
          },
          { Name: "runc", Version: "1.1.5+ds1", Details: { GitCommit: "1.1.5+ds1-1+deb12u1" } },
          { Name: "docker-init", Version: "0.19.0", Details: { GitCommit: "" } },
        ],
        Version: "20.10.24+dfsg1",
        ApiVersion: "1.41",
        MinAPIVersion: "1.12",
        GitCommit: "5d6db84",
        GoVersion: "go1.19.8",
        Os: "linux",
        Arch: "amd64",
        KernelVersion: "6.18.44-fc-v669",
        BuildTime: "2026-05-07T21:09:36.000000000+00:00",
      });
    }
    if (path === "/info") {
      const all = [...containers.values()];
      return sendJson(response, 200, {
        ID: "NTR5:MSCK:35PY:OMBQ:4BYK:XFHR:VKKS:VRNH:TN2H:VYFT:JHLY:MGSQ",
        Containers: all.length,
        ContainersRunning: all.filter((container) => container.state === "running").length,
        ContainersPaused: 0,
        ContainersStopped: all.filter((container) => container.state !== "running").length,
        Images: images.length,
        Driver: "overlay2",
        DriverStatus: [["Backing Filesystem", "extfs"], ["Supports d_type", "true"], [
          "Native Overlay Diff",
          "true",
        ], ["userxattr", "false"]],
        Plugins: {
          Volume: ["local"],
          Network: ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
          Authorization: null,
          Log: [
            "awslogs",
            "fluentd",
            "gcplogs",
            "gelf",
            "journald",
            "json-file",
            "local",
            "logentries",
            "splunk",
            "syslog",
          ],
        },
        MemoryLimit: true,
        SwapLimit: true,
        Debug: false,
        NFd: 25,
        NGoroutines: 34,
        SystemTime: "2026-11-28T06:37:51.50023937Z",
        LoggingDriver: "json-file",
        CgroupDriver: "cgroupfs",
        CgroupVersion: "1",
        NEventsListener: 0,
        KernelVersion: "6.18.44-fc-v669",
        OperatingSystem: "Debian GNU/Linux 12 (bookworm)",
        OSVersion: "12",
        OSType: "linux",
        Architecture: "x86_64",
        IndexServerAddress: "https://index.docker.io/v1/",
        RegistryConfig: {
          AllowNondistributableArtifactsCIDRs: [],
          AllowNondistributableArtifactsHostnames: [],
          InsecureRegistryCIDRs: ["127.0.0.0/8"],
          IndexConfigs: {
            "docker.io": { Name: "docker.io", Mirrors: [], Secure: true, Official: true },
          },
          Mirrors: [],
        },
        NCPU: 2,
        MemTotal: 25276502016,
        GenericResources: null,
        DockerRootDir: "/var/lib/docker",
        HttpProxy: "",
        HttpsProxy: "",
        NoProxy: "",
        Name: "vm",
        Labels: [],
        ExperimentalBuild: false,
        ServerVersion: "20.10.24+dfsg1",
        Runtimes: {
          "io.containerd.runc.v2": { path: "runc" },
          "io.containerd.runtime.v1.linux": { path: "runc" },
          runc: { path: "runc" },
        },
        DefaultRuntime: "runc",
        Swarm: {
          NodeID: "",
          NodeAddr: "",
          LocalNodeState: "inactive",
          ControlAvailable: false,
          Error: "",
          RemoteManagers: null,
        },
        LiveRestoreEnabled: false,
        Isolation: "",
        InitBinary: "docker-init",
        ContainerdCommit: { ID: "1.6.20~ds1-1+deb12u3", Expected: "1.6.20~ds1-1+deb12u3" },
        RuncCommit: { ID: "1.1.5+ds1-1+deb12u1", Expected: "1.1.5+ds1-1+deb12u1" },
        InitCommit: { ID: "", Expected: "" },
        SecurityOptions: ["name=seccomp,profile=default"],
        Warnings: null,
      });
    }
    if (path === "/system/df") {
      return sendJson(response, 200, {
        LayersSize: images.reduce((sum, image) => sum + image.size, 0),
        Images: images.map((image) => ({
          Id: image.id,
          RepoTags: image.repoTags,
          RepoDigests: image.repoDigests,
          Created: image.created,
          Size: image.size,
          SharedSize: 0,
          Containers: [...containers.values()].filter((container) =>
            container.imageId === image.id
          ).length,
          ParentId: "",
          Labels: null,
        })),
        Containers: [...containers.values()].map((container) => ({
          ...containerSummary(container),
          SizeRw: 12,
          SizeRootFs: 0,
        })),
        Volumes: [],
        BuildCache: [],
      });
    }
    if (path === "/containers/json" && method === "GET") {
      const all = query.get("all") === "1" || query.get("all") === "true";
      const list = [...containers.values()].filter((container) =>
        all || container.state === "running"
      )
        .sort((a, b) => b.created - a.created || (a.name < b.name ? 1 : -1));
      return sendJson(response, 200, list.map(containerSummary));
    }
    if (path === "/containers/create" && method === "POST") {
      const body = json();
      createBodies.push(body);
      const image = findImage(String(body.Image ?? ""));
      if (!image) {
        return sendError(
          response,
          404,
          `No such image: ${familiar(withDefaultTag(String(body.Image)))}`,
        );
      }
      const name = query.get("name") || `fake_${containers.size + 1}_${randomId().slice(0, 6)}`;
      if ([...containers.values()].some((container) => container.name === name)) {
        return sendError(
          response,
          409,
          `Conflict. The container name "/${name}" is already in use by container "${
            findContainer(name)!.id
          }". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      const { HostConfig: hostConfig = {}, NetworkingConfig: _networking, ...config } = body;
      if (config.Cmd === null || config.Cmd === undefined) {
        if (config.Entrypoint === null || config.Entrypoint === undefined) config.Cmd = image.cmd;
      }
      if (config.Env === null) config.Env = image.env;
      const id = randomId();
      const ports: FakeContainer["ports"] = [];
      for (
        const [port, bindings] of Object.entries(
          (hostConfig.PortBindings ?? {}) as Record<string, { HostIp: string; HostPort: string }[]>,
        )
      ) {
        const [privatePort, type] = port.split("/");
        for (const binding of bindings) {
          ports.push({
            IP: binding.HostIp || "0.0.0.0",
            PrivatePort: Number(privatePort),
            PublicPort: Number(binding.HostPort || nextPort++),
            Type: type,
          });
        }
      }
      containers.set(id, {
        id,
        name,
        image: String(body.Image),
        imageId: image.id,
        config,
        hostConfig,
        created: Math.floor(now / 1000) - 5 * 3600 + containers.size,
        state: "created",
        exitCode: 0,
        startedAt: "0001-01-01T00:00:00Z",
        finishedAt: "0001-01-01T00:00:00Z",
        logs: [],
        attachments: [],
        followers: [],
        waiters: [],
        ports,
      });
      return sendJson(response, 201, { Id: id, Warnings: [] });
    }
    if (path === "/containers/prune" && method === "POST") {
      const deleted = [...containers.values()].filter((container) => container.state !== "running");
      for (const container of deleted) removeContainer(container);
      return sendJson(response, 200, {
        ContainersDeleted: deleted.length > 0 ? deleted.map((container) => container.id) : null,
        SpaceReclaimed: deleted.length * 12,
      });
    }
    if ((match = path.match(/^\/containers\/([^/]+)(\/[a-z]+)?$/))) {
      const container = findContainer(decodeURIComponent(match[1]));
      const action = match[2] ?? "";
      if (!container) {
        return sendError(response, 404, `No such container: ${decodeURIComponent(match[1])}`);
      }
      if (action === "/json" && method === "GET") {
        return sendJson(response, 200, containerInspect(container));
      }
      if (action === "/start" && method === "POST") {
        if (container.state === "running") return sendEmpty(response, 304);
        startContainer(container);
        return sendEmpty(response, 204);
      }
      if (action === "/wait" && method === "POST") {
        const condition = query.get("condition") ?? "not-running";
        response.writeHead(200, headersFor({ "Content-Type": "application/json" }));
        response.flushHeaders();
        if (condition === "not-running" && container.state !== "running") {
          response.end(JSON.stringify({ Error: null, StatusCode: container.exitCode }) + "\n");
          return;
        }
        container.waiters.push({ condition, response });
        return;
      }
      if (action === "/kill" && method === "POST") {
        if (container.state !== "running") {
          return sendError(
            response,
            409,
            `Cannot kill container: ${match[1]}: Container ${container.id} is not running`,
          );
        }
        const signal = signalNumber(query.get("signal"));
        if (signal === 0) return sendError(response, 400, `Invalid signal: ${query.get("signal")}`);
        container.process?.kill(signal);
        return sendEmpty(response, 204);
      }
      if ((action === "/stop" || action === "/restart") && method === "POST") {
        if (container.state === "running") {
          container.process?.kill(15);
          await new Promise<void>((resolve) => {
            const check = () => (container.state === "running" ? setTimeout(check, 5) : resolve());
            check();
          });
        } else if (action === "/stop") {
          return sendEmpty(response, 304);
        }
        if (action === "/restart") startContainer(container);
        return sendEmpty(response, 204);
      }
      if (action === "/resize" && method === "POST") {
        response.writeHead(200, headersFor({ "Content-Length": "0" }));
        return response.end();
      }
      if (action === "/rename" && method === "POST") {
        container.name = query.get("name") ?? container.name;
        return sendEmpty(response, 204);
      }
      if ((action === "/pause" || action === "/unpause") && method === "POST") {
        return sendEmpty(response, 204);
      }
      if (action === "/logs" && method === "GET") {
        const tty = container.config.Tty === true;
        const timestamps = query.get("timestamps") === "1" || query.get("timestamps") === "true";
        const tail = query.get("tail") ?? "all";
        let entries = container.logs;
        if (tail !== "all" && /^\d+$/.test(tail)) {
          entries = entries.slice(Math.max(0, entries.length - Number(tail)));
        }
        response.writeHead(
          200,
          headersFor({
            "Content-Type": tty
              ? "application/vnd.docker.raw-stream"
              : "application/vnd.docker.multiplexed-stream",
          }),
        );
        const write = (entry: LogEntry) => {
          const payload = timestamps
            ? Buffer.concat([encoder.encode(`${entry.time} `), entry.bytes])
            : entry.bytes;
          response.write(tty ? payload : frameBytes(entry.stream, payload));
        };
        // Like dockerd's json-file driver, order lines by time, so stdout and stderr interleave.
        for (const entry of entries) write(entry);
        const follow = query.get("follow") === "1" || query.get("follow") === "true";
        if (follow && container.state === "running") {
          container.followers.push((entry) => (entry ? write(entry) : response.end()));
          return;
        }
        return response.end();
      }
      if (action === "/attach" && method === "POST") {
        return sendError(response, 400, "attach needs an upgraded connection");
      }
      if (action === "/exec" && method === "POST") {
        if (container.state !== "running") {
          return sendError(response, 409, `Container ${container.id} is not running`);
        }
        const id = randomId();
        execs.set(id, { id, container, config: json(), running: false, exitCode: null });
        return sendJson(response, 201, { Id: id });
      }
      if (action === "" && method === "DELETE") {
        const force = query.get("force") === "1" || query.get("force") === "true";
        if (container.state === "running" && !force) {
          return sendError(
            response,
            409,
            `You cannot remove a running container ${container.id}. Stop the container before attempting removal or force remove`,
          );
        }
        if (container.state === "running") {
          container.hostConfig.AutoRemove = false;
          container.process?.kill(9);
          await container.process?.exit;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        removeContainer(container);
        return sendEmpty(response, 204);
      }
    }
    if ((match = path.match(/^\/exec\/([^/]+)\/(json|resize|start)$/))) {
      const exec = execs.get(match[1]);
      if (!exec) return sendError(response, 404, `No such exec instance: ${match[1]}`);
      if (match[2] === "json") {
        return sendJson(response, 200, {
          ID: exec.id,
          Running: exec.running,
          ExitCode: exec.exitCode,
          ProcessConfig: {
            tty: exec.config.Tty === true,
            entrypoint: (exec.config.Cmd as string[])[0],
            arguments: (exec.config.Cmd as string[]).slice(1),
            privileged: false,
          },
          OpenStdin: exec.config.AttachStdin === true,
          OpenStderr: true,
          OpenStdout: true,
          CanRemove: false,
          ContainerID: exec.container.id,
          DetachKeys: "",
          Pid: 9134,
        });
      }
      if (match[2] === "resize") {
        response.writeHead(200, headersFor({ "Content-Length": "0" }));
        return response.end();
      }
      const startBody = json();
      if (startBody.Detach) {
        runExec(exec, undefined);
        return sendEmpty(response, 200);
      }
      return sendError(response, 400, "exec start needs an upgraded connection");
    }
    if (path === "/images/json" && method === "GET") {
      let list = [...images];
      const filters = query.get("filters");
      if (filters) {
        const parsed = JSON.parse(filters) as Record<string, Record<string, boolean>>;
        for (const reference of Object.keys(parsed.reference ?? {})) {
          list = list.filter((image) =>
            image.repoTags.some((tag) => tag === reference || tag.startsWith(`${reference}:`))
          );
        }
      }
      list.sort((a, b) => b.created - a.created);
      return sendJson(
        response,
        200,
        list.map((image) => ({
          Containers: -1,
          Created: image.created,
          Id: image.id,
          Labels: null,
          ParentId: "",
          RepoDigests: image.repoDigests.length > 0 ? image.repoDigests : null,
          RepoTags: image.repoTags.length > 0 ? image.repoTags : null,
          SharedSize: -1,
          Size: image.size,
          VirtualSize: image.size,
        })),
      );
    }
    if (path === "/images/create" && method === "POST") {
      const reference = `${query.get("fromImage")}:${query.get("tag") ?? "latest"}`;
      const name = familiar(reference);
      const remote = registry.find((image) => image.repoTags.includes(name));
      if (!remote) {
        return sendError(
          response,
          404,
          `manifest for ${name} not found: manifest unknown: manifest unknown`,
        );
      }
      response.writeHead(200, headersFor({ "Content-Type": "application/json" }));
      for (const line of pullStream(remote, name)) response.write(line);
      if (!images.includes(remote)) images.push(remote);
      return response.end();
    }
    if (path === "/images/get" && method === "GET") {
      const names = query.getAll("names");
      for (const name of names) {
        if (!findImage(name)) return sendError(response, 404, `reference does not exist`);
      }
      response.writeHead(200, headersFor({ "Content-Type": "application/x-tar" }));
      const block = new Uint8Array(1024);
      block.set(encoder.encode(`manifest.json for ${names.join(",")}`));
      return response.end(block);
    }
    if (path === "/images/load" && method === "POST") {
      response.writeHead(200, headersFor({ "Content-Type": "application/json" }));
      const loaded = {
        ...busyboxImage(now),
        id: "sha256:" + "ab".repeat(32),
        repoTags: ["busybox:loaded"],
      };
      if (!images.some((image) => image.id === loaded.id)) images.push(loaded);
      return response.end(
        JSON.stringify({ stream: `Loaded image: busybox:loaded (${bodyBytes.length} bytes)\n` }) +
          "\r\n",
      );
    }
    if (path === "/images/prune" && method === "POST") {
      const dangling = images.filter((image) => image.repoTags.length === 0);
      for (const image of dangling) images.splice(images.indexOf(image), 1);
      return sendJson(response, 200, {
        ImagesDeleted: dangling.length > 0
          ? dangling.map((image) => ({ Deleted: image.id }))
          : null,
        SpaceReclaimed: dangling.reduce((sum, image) => sum + image.size, 0),
      });
    }
    if ((match = path.match(/^\/images\/(.+)\/(json|history|tag|push)$/))) {
      const name = decodeURIComponent(match[1]);
      if (match[2] === "push") {
        const image = findImage(`${name}:${query.get("tag") ?? "latest"}`);
        if (!image) {
          return sendError(response, 404, `An image does not exist locally with the tag: ${name}`);
        }
        response.writeHead(200, headersFor({ "Content-Type": "application/json" }));
        const lines = [
          { status: `The push refers to repository [${name}]` },
          { status: "Preparing", progressDetail: {}, id: "f53dc1626506" },
          {
            status: "Pushing",
            progressDetail: { current: 38912, total: 1982340 },
            progress: "[>                                                  ]  38.91kB/1.982MB",
            id: "f53dc1626506",
          },
          { status: "Pushed", progressDetail: {}, id: "f53dc1626506" },
          {
            status: `${
              query.get("tag")
            }: digest: sha256:b5ca1e6dfd49c1a17f500a4dfc6045fbc42ceb485317703232f5c07076f9ed2d size: 527`,
          },
          {
            progressDetail: {},
            aux: {
              Tag: query.get("tag"),
              Digest: "sha256:b5ca1e6dfd49c1a17f500a4dfc6045fbc42ceb485317703232f5c07076f9ed2d",
              Size: 527,
            },
          },
        ];
        return response.end(lines.map((line) => JSON.stringify(line) + "\r\n").join(""));
      }
      const image = findImage(name);
      if (!image) {
        return sendError(response, 404, `No such image: ${familiar(withDefaultTag(name))}`);
      }
      if (match[2] === "json") {
        return sendJson(response, 200, {
          Id: image.id,
          RepoTags: image.repoTags,
          RepoDigests: image.repoDigests,
          Parent: "",
          Comment: "",
          Created: isoNano(image.created * 1000),
          Config: { Env: image.env, Cmd: image.cmd, Entrypoint: null, Labels: null },
          Architecture: "amd64",
          Os: "linux",
          Size: image.size,
          GraphDriver: {
            Data: { MergedDir: "/var/lib/docker/overlay2/e5d4/merged" },
            Name: "overlay2",
          },
          RootFS: { Type: "layers", Layers: image.layers.map((layer) => layer.id) },
        });
      }
      if (match[2] === "history") {
        return sendJson(
          response,
          200,
          image.history.map((item, index) => ({
            Comment: item.comment,
            Created: item.created,
            CreatedBy: item.createdBy,
            Id: index === 0 ? image.id : "<missing>",
            Size: item.size,
            Tags: index === 0 ? image.repoTags : null,
          })),
        );
      }
      if (match[2] === "tag" && method === "POST") {
        const tag = familiar(`${query.get("repo")}:${query.get("tag") ?? "latest"}`);
        for (const other of images) other.repoTags = other.repoTags.filter((item) => item !== tag);
        image.repoTags.push(tag);
        return sendEmpty(response, 201);
      }
    }
    if ((match = path.match(/^\/images\/(.+)$/)) && method === "DELETE") {
      const name = decodeURIComponent(match[1]);
      const image = findImage(name);
      if (!image) return sendError(response, 404, `No such image: ${name}`);
      const force = query.get("force") === "1";
      const user = [...containers.values()].find((container) => container.imageId === image.id);
      const tag = familiar(withDefaultTag(name));
      if (image.repoTags.includes(tag) && (image.repoTags.length > 1 || (user && !force))) {
        if (image.repoTags.length === 1 && user) {
          return sendError(
            response,
            409,
            `conflict: unable to remove repository reference "${name}" (must force) - container ${
              user.id.slice(0, 12)
            } is using its referenced image ${image.id.slice(7, 19)}`,
          );
        }
        image.repoTags = image.repoTags.filter((item) => item !== tag);
        return sendJson(response, 200, [{ Untagged: tag }]);
      }
      if (user && !force) {
        return sendError(
          response,
          409,
          `conflict: unable to delete ${
            image.id.slice(7, 19)
          } (must be forced) - image is being used by stopped container ${user.id.slice(0, 12)}`,
        );
      }
      images.splice(images.indexOf(image), 1);
      return sendJson(response, 200, [...image.repoTags.map((item) => ({ Untagged: item })), {
        Deleted: image.id,
      }]);
    }
    if (path === "/networks" && method === "GET") {
      return sendJson(response, 200, networks.map(networkJson));
    }
    if (path === "/networks/create" && method === "POST") {
      const body = json();
      if (networks.some((network) => network.Name === body.Name)) {
        return sendError(response, 409, `network with name ${body.Name} already exists`);
      }
      const network = {
        Name: String(body.Name),
        Id: randomId(),
        Driver: String(body.Driver || "bridge"),
        Created: "2026-11-28T07:00:00.5Z",
        Subnet: undefined,
        Labels: body.Labels ?? {},
      };
      networks.push(network);
      return sendJson(response, 201, { Id: network.Id, Warning: "" });
    }
    if ((match = path.match(/^\/networks\/([^/]+)(\/connect|\/disconnect)?$/))) {
      const network = networks.find((item) =>
        item.Name === match![1] || item.Id.startsWith(match![1])
      );
      if (!network) return sendError(response, 404, `network ${match[1]} not found`);
      if (method === "GET") return sendJson(response, 200, networkJson(network));
      if (method === "DELETE") {
        networks.splice(networks.indexOf(network), 1);
        return sendEmpty(response, 204);
      }
      return sendEmpty(response, 200);
    }
    if ((match = path.match(/^\/volumes\/(.+)$/))) {
      return sendError(response, 404, `get ${match[1]}: no such volume`);
    }
    if ((match = path.match(/^\/plugins\/(.+)\/json$/))) {
      return sendError(response, 404, `plugin "${match[1]}" not found`);
    }
    sendError(response, 404, "page not found");
  };

  function networkJson(network: (typeof networks)[number]) {
    return {
      Name: network.Name,
      Id: network.Id,
      Created: network.Created,
      Scope: "local",
      Driver: network.Driver,
      EnableIPv6: false,
      IPAM: {
        Driver: "default",
        Options: null,
        Config: network.Subnet ? [{ Subnet: network.Subnet }] : [],
      },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: "" },
      ConfigOnly: false,
      Containers: {},
      Options: {},
      Labels: network.Labels,
    };
  }

  function runExec(exec: FakeExec, socket: Socket | undefined): void {
    const tty = exec.config.Tty === true;
    exec.running = true;
    const process = new FakeProcess(
      exec.config.Cmd as string[],
      tty,
      (exec.config.Env as string[] | null) ?? [],
      (exec.config.WorkingDir as string) ?? "",
      (stream, bytes) => {
        if (socket && !socket.destroyed) socket.write(tty ? bytes : frameBytes(stream, bytes));
      },
    );
    if (socket && exec.config.AttachStdin) wireStdin(socket, process, true);
    process.exit.then((code) => {
      exec.running = false;
      exec.exitCode = code;
      socket?.end();
    });
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error) => {
      try {
        sendError(response, 500, String(error));
      } catch { /* response already started */ }
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request: http.IncomingMessage, socket: Socket) => {
    socket.on("error", () => {});
    sockets.add(socket);
    const url = new URL(request.url ?? "/", "http://fake");
    requests.push(`${request.method} ${url.pathname}${url.search} (upgrade)`);
    const path = url.pathname.replace(/^\/v1\.\d+/, "");
    // The request body (exec start's {"Detach":false,"Tty":...}) is not needed: the exec
    // was configured at create time. Not waiting for it avoids depending on whether the
    // body arrives as request data or inside `head`.
    bodyToSkip.set(socket, Number(request.headers["content-length"] ?? 0));
    request.on("data", (chunk: Uint8Array) => {
      bodyToSkip.set(socket, Math.max(0, (bodyToSkip.get(socket) ?? 0) - chunk.length));
    });
    {
      let match: RegExpMatchArray | null;
      if ((match = path.match(/^\/containers\/([^/]+)\/attach$/))) {
        const container = findContainer(match[1]);
        if (!container) {
          const body = JSON.stringify({ message: `No such container: ${match[1]}` });
          socket.end(
            `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          );
          return;
        }
        upgrade(socket);
        const stdin = url.searchParams.get("stdin") === "1";
        container.attachments.push({ socket, stdin });
        if (stdin && container.process) {
          wireStdin(socket, container.process, container.config.StdinOnce === true);
        }
        return;
      }
      if ((match = path.match(/^\/exec\/([^/]+)\/start$/))) {
        const exec = execs.get(match[1]);
        if (!exec) {
          const body = JSON.stringify({ message: `No such exec instance: ${match[1]}` });
          socket.end(
            `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          );
          return;
        }
        upgrade(socket);
        runExec(exec, socket);
        return;
      }
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    }
  });
  try {
    await Deno.remove(socketPath);
  } catch { /* not there */ }
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const seedContainer = async (spec: SeedContainer): Promise<string> => {
    const id = randomId();
    const image = images[0];
    containers.set(id, {
      id,
      name: spec.name,
      image: image.repoTags[0],
      imageId: image.id,
      config: {
        Hostname: id.slice(0, 12),
        Domainname: "",
        User: "",
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        Tty: spec.tty ?? false,
        OpenStdin: false,
        StdinOnce: false,
        Env: spec.env ?? image.env,
        Cmd: spec.cmd,
        Image: image.repoTags[0],
        Volumes: null,
        WorkingDir: "",
        Entrypoint: null,
        OnBuild: null,
        Labels: {},
      },
      hostConfig: {
        NetworkMode: "default",
        AutoRemove: false,
        RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
      },
      created: Math.floor(now / 1000) - 5 * 3600 + containers.size,
      state: "created",
      exitCode: 0,
      startedAt: "0001-01-01T00:00:00Z",
      finishedAt: "0001-01-01T00:00:00Z",
      logs: [],
      attachments: [],
      followers: [],
      waiters: [],
      ports: (spec.publish ?? []).map((port) => ({
        IP: port.ip,
        PrivatePort: port.containerPort,
        PublicPort: port.hostPort,
        Type: port.protocol ?? "tcp",
      })),
    });
    const container = containers.get(id)!;
    if (spec.start) {
      startContainer(container);
      // A script that ends by itself is run to completion (and logged) before the test
      // looks at it; one that sleeps stays running.
      if (!spec.cmd.join(" ").includes("sleep")) {
        await container.process!.exit;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    return id;
  };

  return {
    socketPath,
    seedContainer,
    requests,
    createBodies,
    images,
    async close() {
      for (const container of containers.values()) container.process?.kill(9);
      for (const container of containers.values()) {
        for (const waiter of container.waiters) waiter.response.end();
      }
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
