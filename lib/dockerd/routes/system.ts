// What this teaches: the endpoints every docker command touches first. `/_ping` is
// how the CLI learns which API version to speak (it reads only the Api-Version header,
// then prefixes every path with /v1.41); `/version` and `/info` describe the engine:
// which storage driver and cgroup driver it uses, where its data lives, how many
// containers and images it has, whether live-restore is on. `/system/df` sums up the
// disk space of images, containers and volumes. `/events` streams what happens.
// Mirrors moby's api/server/router/system (system_routes.go: pingHandler, getVersion,
// getInfo, getDiskUsage, getEvents) and daemon/info.go, daemon/info_unix.go.

import type { Daemon } from "../daemon.ts";
import { DOCKERD_VERSION } from "../daemon.ts";
import { API_VERSION, type EngineRouter, MIN_API_VERSION } from "../server/router.ts";
import type { EngineModule } from "../types.ts";
import { type AuthConfig, checkLogin } from "../distribution/registry_options.ts";
import type { EngineRequest } from "../server/context.ts";
import { badParameter } from "../server/errors.ts";
import { encodeJson } from "../server/json.ts";
import type { EngineEvent, EventsService } from "../events.ts";
import { familiarName, parseNormalizedNamed } from "../../reference/mod.ts";

/** Which cgroup hierarchy the host uses: "2" when /sys/fs/cgroup is cgroup2, else "1". */
export function cgroupVersion(): "1" | "2" {
  try {
    Deno.statSync("/sys/fs/cgroup/cgroup.controllers");
    return "2";
  } catch {
    return "1";
  }
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

function osRelease(): { prettyName: string; versionId: string } {
  const text = readText("/etc/os-release");
  const field = (name: string) =>
    (new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1] ?? "").replace(/^"|"$/g, "");
  return { prettyName: field("PRETTY_NAME") || "Linux", versionId: field("VERSION_ID") };
}

function memoryTotal(): number {
  const match = /^MemTotal:\s+(\d+) kB/m.exec(readText("/proc/meminfo"));
  return match ? Number(match[1]) * 1024 : 0;
}

function openFileCount(): number {
  try {
    return Array.from(Deno.readDirSync("/proc/self/fd")).length;
  } catch {
    return 0;
  }
}

function architecture(): string {
  return Deno.build.arch === "aarch64" ? "aarch64" : Deno.build.arch;
}

function goArchitecture(): string {
  return Deno.build.arch === "x86_64"
    ? "amd64"
    : Deno.build.arch === "aarch64"
    ? "arm64"
    : Deno.build.arch;
}

async function containerdVersion(daemon: Daemon): Promise<{ version: string; revision: string }> {
  const client = daemon.containerd();
  try {
    return await client.version();
  } catch {
    return { version: "unknown", revision: "" };
  } finally {
    client.close();
  }
}

/** `GET /version`. */
export async function versionDocument(daemon: Daemon): Promise<Record<string, unknown>> {
  const containerd = await containerdVersion(daemon);
  const details = {
    ApiVersion: API_VERSION,
    Arch: goArchitecture(),
    BuildTime: daemon.startedAt.toISOString(),
    Experimental: "false",
    GitCommit: "mini",
    GoVersion: `deno${Deno.version.deno}`,
    KernelVersion: Deno.osRelease(),
    MinAPIVersion: MIN_API_VERSION,
    Os: "linux",
  };
  return {
    Platform: { Name: "Mini Docker Engine" },
    Components: [
      { Name: "Engine", Version: DOCKERD_VERSION, Details: details },
      {
        Name: "containerd",
        Version: containerd.version,
        Details: { GitCommit: containerd.revision },
      },
      { Name: "runc", Version: "mini-runc", Details: { GitCommit: "mini" } },
    ],
    Version: DOCKERD_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: "mini",
    GoVersion: details.GoVersion,
    Os: "linux",
    Arch: details.Arch,
    KernelVersion: details.KernelVersion,
    BuildTime: details.BuildTime,
  };
}

/** `GET /info`. */
export async function infoDocument(daemon: Daemon): Promise<Record<string, unknown>> {
  const containers = await daemon.listContainers();
  const running = containers.filter((container) => container.state === "running").length;
  const paused = containers.filter((container) => container.state === "paused").length;
  const containerd = await containerdVersion(daemon);
  const os = osRelease();
  const config = daemon.config;
  const v2 = cgroupVersion() === "2";
  const exists = (path: string) => readText(path) !== "" || pathExists(path);
  return {
    ID: daemon.engineId,
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: containers.length - running - paused,
    Images: daemon.imageStore.list().length,
    Driver: "overlay2",
    DriverStatus: daemon.driver.status(),
    Plugins: {
      Volume: ["local"],
      Network: ["bridge", "host", "null"],
      Authorization: null,
      Log: ["json-file"],
    },
    MemoryLimit: true,
    SwapLimit: v2 || pathExists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
    KernelMemory: !v2,
    KernelMemoryTCP: !v2,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: readText("/proc/sys/net/ipv4/ip_forward").trim() === "1",
    BridgeNfIptables: readText("/proc/sys/net/bridge/bridge-nf-call-iptables").trim() === "1",
    BridgeNfIp6tables: readText("/proc/sys/net/bridge/bridge-nf-call-ip6tables").trim() === "1",
    Debug: config.debug,
    NFd: openFileCount(),
    OomKillDisable: !v2,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: "json-file",
    CgroupDriver: "cgroupfs",
    CgroupVersion: v2 ? "2" : "1",
    NEventsListener: daemon.events.listenerCount,
    KernelVersion: Deno.osRelease(),
    OperatingSystem: os.prettyName,
    OSVersion: os.versionId,
    OSType: "linux",
    Architecture: architecture(),
    IndexServerAddress: "https://index.docker.io/v1/",
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [],
      AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: ["127.0.0.0/8"],
      IndexConfigs: {
        "docker.io": {
          Name: "docker.io",
          Mirrors: config.registryMirrors,
          Secure: true,
          Official: true,
        },
        ...Object.fromEntries(
          config.insecureRegistries.map((
            name,
          ) => [name, { Name: name, Mirrors: [], Secure: false, Official: false }]),
        ),
      },
      Mirrors: config.registryMirrors,
    },
    NCPU: navigator.hardwareConcurrency,
    MemTotal: memoryTotal(),
    GenericResources: null,
    DockerRootDir: config.dataRoot,
    HttpProxy: "",
    HttpsProxy: "",
    NoProxy: "",
    Name: Deno.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: DOCKERD_VERSION,
    Runtimes: { "io.containerd.runc.v2": { path: "mini-runc" }, runc: { path: "mini-runc" } },
    DefaultRuntime: "runc",
    Swarm: {
      NodeID: "",
      NodeAddr: "",
      LocalNodeState: "inactive",
      ControlAvailable: false,
      Error: "",
      RemoteManagers: null,
    },
    LiveRestoreEnabled: config.liveRestore,
    Isolation: "",
    InitBinary: "",
    ContainerdCommit: {
      ID: containerd.revision || containerd.version,
      Expected: containerd.revision || containerd.version,
    },
    RuncCommit: { ID: "mini", Expected: "mini" },
    InitCommit: { ID: "", Expected: "" },
    SecurityOptions: [`name=cgroupns`],
    Warnings: exists("/proc/sys/net/bridge/bridge-nf-call-iptables") ? null : [
      "WARNING: bridge-nf-call-iptables is disabled",
      "WARNING: bridge-nf-call-ip6tables is disabled",
    ],
  };
}

function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `GET /system/df`: images with their shared sizes, containers, volumes, build cache. */
export async function diskUsage(daemon: Daemon): Promise<Record<string, unknown>> {
  const containers = await daemon.listContainers();
  const images = daemon.images.list({ all: true });
  // A layer shared by several images counts once in LayersSize and towards SharedSize.
  const layerUsers = new Map<string, number>();
  for (const image of daemon.imageStore.list()) {
    for (const layer of daemon.layers.chain(image.topLayer)) {
      layerUsers.set(layer.chainId, (layerUsers.get(layer.chainId) ?? 0) + 1);
    }
  }
  let layersSize = 0;
  for (const layer of daemon.layers.list()) layersSize += layer.size;
  const summaries = images.map((summary) => {
    const image = daemon.imageStore.get(summary.Id)!;
    const shared = daemon.layers.chain(image.topLayer)
      .filter((layer) => (layerUsers.get(layer.chainId) ?? 0) > 1)
      .reduce((sum, layer) => sum + layer.size, 0);
    return {
      ...summary,
      SharedSize: shared,
      Containers: containers.filter((container) => container.imageId === summary.Id).length,
    };
  });
  const containerRows = daemon.containers?.diskUsage ? await daemon.containers.diskUsage() : [];
  return {
    LayersSize: layersSize,
    Images: summaries,
    Containers: containerRows,
    Volumes: [],
    BuildCache: [],
    BuilderSize: 0,
  };
}

/** The system endpoints. */
export const systemModule: EngineModule = {
  name: "system",
  register(router: EngineRouter, daemon: Daemon) {
    const ping = (request: EngineRequest) => {
      request.reply.text(request.method === "HEAD" ? "" : "OK", 200, {
        "Cache-Control": "no-cache, no-store, must-revalidate",
        "Pragma": "no-cache",
      });
    };
    router.get("/_ping", ping);
    router.head("/_ping", ping);
    router.get("/version", () => versionDocument(daemon));
    router.get("/info", () => infoDocument(daemon));
    router.get("/system/df", () => diskUsage(daemon));
    router.get("/events", (request) => streamEvents(request, daemon.events));
    router.post("/auth", async (request) => checkLogin(daemon, await request.json<AuthConfig>()));
    router.get(
      "/_mini/routes",
      () => ({ routes: router.list(), notImplemented: router.listFallbacks() }),
    );
  },
};

/** Parses `since`/`until` (unix seconds, with an optional fraction, as the CLI sends them). */
function eventTime(request: EngineRequest, name: string): number | undefined {
  const text = request.string(name);
  if (text === undefined || text === "") return undefined;
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw badParameter(`invalid value for ${name}: ${JSON.stringify(text)} is not a unix time`);
  }
  return Number(text) * 1000;
}

/** True when `value` is `candidate` or starts it (moby's filters.FuzzyMatch for IDs). */
function fuzzyMatch(values: string[], candidate: string | undefined): boolean {
  if (!candidate) return false;
  return values.some((value) => candidate === value || candidate.startsWith(value));
}

/** An image name without its tag (moby's stripTag: `busybox:latest` → `busybox`). */
function withoutTag(name: string | undefined): string | undefined {
  if (!name) return name;
  try {
    return familiarName(parseNormalizedNamed(name));
  } catch {
    return name;
  }
}

/** Builds the predicate of `GET /events?filters=` (type, event, container, image, network, label). */
export function eventFilter(filters: Map<string, string[]>): (event: EngineEvent) => boolean {
  const known = ["type", "event", "container", "image", "network", "label", "scope"];
  for (const name of filters.keys()) {
    if (!known.includes(name)) throw badParameter(`invalid filter '${name}'`);
  }
  return (event) => {
    const wanted = (name: string) => filters.get(name) ?? [];
    const attributes = event.Actor.Attributes;
    if (wanted("type").length && !wanted("type").includes(event.Type)) return false;
    if (wanted("event").length && !wanted("event").includes(event.Action)) return false;
    if (wanted("scope").length && !wanted("scope").includes(event.scope)) return false;
    const container = wanted("container");
    if (
      container.length &&
      !(event.Type === "container" &&
        (fuzzyMatch(container, event.Actor.ID) || container.includes(attributes.name)))
    ) return false;
    const image = wanted("image");
    // `image=busybox` also matches `busybox:latest` (a pull, a tag, a container's image).
    const imageName = event.Type === "image" ? attributes.name : attributes.image;
    if (
      image.length && !(image.includes(attributes.image) ||
        image.includes(withoutTag(imageName)!) ||
        (event.Type === "image" && (fuzzyMatch(image, event.Actor.ID) ||
          image.includes(attributes.name) || image.includes(withoutTag(event.Actor.ID)!))))
    ) return false;
    const network = wanted("network");
    if (
      network.length &&
      !(event.Type === "network" &&
        (fuzzyMatch(network, event.Actor.ID) || network.includes(attributes.name)))
    ) return false;
    for (const label of wanted("label")) {
      const [key, value] = label.split("=", 2);
      if (!(key in attributes) || (value !== undefined && attributes[key] !== value)) return false;
    }
    return true;
  };
}

/**
 * `GET /events`: the kept events the `since`/`until` window asks for, then (unless
 * `until` has passed) the live ones, one JSON object per line. The headers go out at
 * once (the CLI waits for them); the stream ends at `until`, or when the client hangs
 * up, and either way the subscription is dropped.
 */
export async function streamEvents(request: EngineRequest, events: EventsService): Promise<void> {
  const since = eventTime(request, "since");
  const until = eventTime(request, "until");
  const matches = eventFilter(request.filters());
  const { past, subscription } = events.subscribe();
  const reader = subscription.stream.getReader();
  const out = request.reply.stream(200, "application/json");
  const unsubscribe = () => reader.cancel().catch(() => {});
  out.closed.addEventListener("abort", unsubscribe, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const inWindow = (event: EngineEvent) => {
      const millis = event.timeNano / 1e6;
      return (since === undefined || millis >= since) && (until === undefined || millis <= until);
    };
    if (since !== undefined || until !== undefined) {
      for (const event of past) {
        if (inWindow(event) && matches(event)) await out.write(encodeJson(event) + "\n");
      }
    }
    if (until !== undefined) {
      if (until <= Date.now()) return;
      timer = setTimeout(unsubscribe, until - Date.now());
    }
    while (!out.closed.aborted) {
      const { value, done } = await reader.read();
      if (done) break;
      if (matches(value)) await out.write(encodeJson(value) + "\n");
    }
  } finally {
    clearTimeout(timer);
    out.closed.removeEventListener("abort", unsubscribe);
    await unsubscribe();
    await out.end();
  }
}
