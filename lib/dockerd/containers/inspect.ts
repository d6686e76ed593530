// What this teaches: `docker inspect` of a container is dockerd's whole record of it,
// with the places where it lives on disk: the json-file log (LogPath), the files
// bind-mounted over /etc (ResolvConfPath, HostnamePath, HostsPath), and GraphDriver,
// the overlay2 directories of its root filesystem: LowerDir (the `-init` layer, then
// the image's layers), UpperDir (where every write of the container lands), WorkDir
// and MergedDir (the mount the container sees as /). `docker top` asks containerd for
// the container's pids and runs the host's `ps` filtered to them.
// Mirrors moby's daemon/inspect.go (ContainerInspectCurrent, getInspectData) and
// daemon/top_unix.go (ContainerTop, parsePSOutput).

import { badParameter, conflictError, EngineError } from "../server/errors.ts";
import type { Container } from "./container.ts";
import { networkSettingsOf } from "./networking.ts";
import type { ContainerService } from "./service.ts";
import { rfc3339Nano } from "./time.ts";

/** `GET /containers/{id}/json?size=`. */
export async function inspectContainer(
  service: ContainerService,
  container: Container,
  withSize: boolean,
): Promise<Record<string, unknown>> {
  const daemon = service.daemon;
  let graphDriverData: Record<string, string> = {};
  try {
    graphDriverData = { ...await daemon.layers.containerGraphDriverData(container.id) };
  } catch { /* a container whose layer is gone (dead) */ }
  const execIds = service.execs.ofContainer(container.id).filter((instance) => instance.running)
    .map((instance) => instance.id);
  const state = container.state.toJson();
  const document: Record<string, unknown> = {
    Id: container.id,
    Created: rfc3339Nano(container.created),
    Path: container.path,
    Args: container.args,
    State: state,
    Image: container.imageId,
    ResolvConfPath: container.resolvConfPath,
    HostnamePath: container.hostnamePath,
    HostsPath: container.hostsPath,
    LogPath: container.logPath,
    Name: container.name,
    RestartCount: container.restartCount,
    Driver: "overlay2",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: execIds.length > 0 ? execIds : null,
    HostConfig: container.hostConfig,
    GraphDriver: { Data: graphDriverData, Name: "overlay2" },
    Mounts: container.mountPoints(),
    Config: container.config,
    NetworkSettings: networkSettingsOf(container, daemon.networks),
  };
  if (withSize) {
    let sizeRw = 0;
    try {
      sizeRw = await daemon.layers.containerLayerSize(container.id);
    } catch { /* no layer */ }
    const image = daemon.imageStore.get(container.imageId);
    document.SizeRw = sizeRw;
    document.SizeRootFs = sizeRw + (image ? daemon.images.size(image) : 0);
  }
  return document;
}

/** Splits `ps` output into titles and rows; the last column (the command) keeps its spaces. */
export function parsePsOutput(
  output: string,
  pids: Set<number>,
): { Titles: string[]; Processes: string[][] } {
  const lines = output.split("\n").filter((line) => line.trim() !== "");
  if (lines.length === 0) throw new EngineError(500, "ps printed nothing");
  const titles = lines[0].trim().split(/\s+/);
  const pidIndex = titles.indexOf("PID");
  if (pidIndex < 0) throw badParameter("Couldn't find PID field in ps output");
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(" ")];
    if (pids.has(Number(row[pidIndex]))) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}

/** `GET /containers/{id}/top?ps_args=`: the host's `ps` (default `-ef`), only the container's processes. */
export async function topContainer(
  service: ContainerService,
  container: Container,
  psArgs: string | undefined,
): Promise<{ Titles: string[]; Processes: string[][] }> {
  if (!container.state.running || container.state.restarting) {
    throw conflictError(`Container ${container.id} is not running`);
  }
  const processes = await service.containerd.tasks.pids(container.id);
  const pids = new Set(processes.map((process) => process.pid));
  const args = (psArgs && psArgs.trim() !== "" ? psArgs : "-ef").trim().split(/\s+/);
  const output = await new Deno.Command("ps", { args, stdout: "piped", stderr: "piped" }).output();
  if (!output.success) {
    throw new EngineError(
      500,
      `Error running ps: ${
        new TextDecoder().decode(output.stderr).trim() || `exit status ${output.code}`
      }`,
    );
  }
  return parsePsOutput(new TextDecoder().decode(output.stdout), pids);
}
