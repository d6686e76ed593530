// What this teaches: `docker version` and `docker info` show both halves of the
// client/daemon split. `version` runs a Go template over the client's own facts and
// `GET /version`; `info` prints the client, then `GET /info` (containers, storage
// driver, cgroup driver, root dir...) line by line. `system df` summarises `GET
// /system/df`. If the daemon is unreachable the client half is still printed.
// Mirrors docker/cli's cli/command/system/{version,info,df}.go.

import { ConnectionError, MAX_API_VERSION } from "../../client/engine.ts";
import type { DiskUsage } from "../../client/types.ts";
import type { ParsedFlags } from "../../flags.ts";
import { DISK_USAGE_HEADER, diskUsageFormat, diskUsageRows } from "../../format/disk_usage.ts";
import { FormatError, renderFormat, TABLE_FORMAT_KEY } from "../../format/formatter.ts";
import { parseDockerTemplate } from "../../format/functions.ts";
import { reformatBuildTime } from "../../format/go_time.ts";
import { TabWriter } from "../../format/tabwriter.ts";
import { TemplateError } from "../../format/template.ts";
import { bytesSize } from "../../format/units.ts";
import { type CommandSpec, type DockerCli, StatusError } from "../../types.ts";
import { goArch, MINI_DOCKER_COMMIT, MINI_DOCKER_VERSION } from "../../version.ts";

const DEFAULT_VERSION_TEMPLATE = `{{with .Client -}}
Client:{{if ne .Platform nil}}{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Go version:\t{{.GoVersion}}
 Git commit:\t{{.GitCommit}}
 Built:\t{{.BuildTime}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:\t{{index .Details "GoVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- $detailsOrder := getDetailsOrder $component}}
  {{- range $key := $detailsOrder}}
  {{$key}}:\t{{index $component.Details $key}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`.replaceAll("\\t", "\t");

/** What the client says about itself (docker's clientVersion). */
function clientVersion(apiVersion: string) {
  const fields = {
    Platform: null,
    Version: MINI_DOCKER_VERSION,
    APIVersion: apiVersion,
    DefaultAPIVersion: MAX_API_VERSION,
    GitCommit: MINI_DOCKER_COMMIT,
    GoVersion: `deno${Deno.version.deno}`,
    Os: Deno.build.os,
    Arch: goArch(),
    BuildTime: "from source",
    Context: "default",
  };
  return {
    ...fields,
    toJSON() {
      // The JSON names are the API's ("ApiVersion"), and empty fields are left out.
      const json: Record<string, unknown> = {
        Version: fields.Version,
        ApiVersion: fields.APIVersion,
        DefaultAPIVersion: fields.DefaultAPIVersion,
        GitCommit: fields.GitCommit,
        GoVersion: fields.GoVersion,
        Os: fields.Os,
        Arch: fields.Arch,
      };
      if (fields.BuildTime) json.BuildTime = fields.BuildTime;
      json.Context = fields.Context;
      return json;
    },
  };
}

interface ServerVersion {
  Platform?: { Name: string };
  Components?: { Name: string; Version: string; Details?: Record<string, string> }[];
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  BuildTime?: string;
  Experimental?: boolean;
  [key: string]: unknown;
}

/**
 * The server half as a template sees it: Go's field names (`{{.Server.APIVersion}}`,
 * where the API's JSON says "ApiVersion"), while `{{json .}}` still prints the API's.
 */
function serverForTemplate(server: ServerVersion | null) {
  if (server === null) return null;
  const { ApiVersion, ...fields } = server;
  return { ...fields, APIVersion: ApiVersion ?? "", toJSON: () => server };
}

async function runVersion(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  let format = flags.values.format as string;
  if (format === "") format = DEFAULT_VERSION_TEMPLATE;
  else if (format === "json") format = "{{json .}}";
  let template;
  try {
    template = parseDockerTemplate(format, {
      getDetailsOrder: (component: { Details?: Record<string, string> }) =>
        Object.keys(component.Details ?? {}).sort(),
    });
  } catch (error) {
    throw new StatusError(`template parsing error: ${(error as Error).message}`, 64);
  }
  let server: ServerVersion | null = null;
  let failure: unknown;
  try {
    server = await cli.client().json<ServerVersion>("GET", "/version");
    server.Platform ??= { Name: "" };
    server.Components ??= [];
    let foundEngine = false;
    for (const component of server.Components) {
      if (component.Name !== "Engine") continue;
      foundEngine = true;
      if (component.Details?.BuildTime) {
        component.Details.BuildTime = reformatBuildTime(component.Details.BuildTime);
      }
    }
    if (!foundEngine) {
      server.Components.push({
        Name: "Engine",
        Version: server.Version ?? "",
        Details: {
          ApiVersion: server.ApiVersion ?? "",
          MinAPIVersion: server.MinAPIVersion ?? "",
          GitCommit: server.GitCommit ?? "",
          GoVersion: server.GoVersion ?? "",
          Os: server.Os ?? "",
          Arch: server.Arch ?? "",
          BuildTime: reformatBuildTime(server.BuildTime ?? ""),
          Experimental: String(server.Experimental ?? false),
        },
      });
    }
  } catch (error) {
    failure = error;
  }
  const data = {
    Client: clientVersion(cli.client().apiVersion),
    Server: serverForTemplate(server),
  };
  const writer = new TabWriter(20, 1);
  let templateError: unknown;
  try {
    writer.write(template.execute(data));
  } catch (error) {
    templateError = error;
  }
  writer.write("\n");
  cli.out.write(writer.flush());
  if (failure) throw failure;
  if (templateError) {
    throw new StatusError(
      templateError instanceof TemplateError ? templateError.message : String(templateError),
      1,
    );
  }
  return 0;
}

// deno-lint-ignore no-explicit-any
type Info = Record<string, any>;

function line(out: string[], ...parts: unknown[]): void {
  out.push(
    parts.map((part) => (part === undefined || part === null ? "" : String(part))).join(" ") + "\n",
  );
}

function lineIfSet(out: string[], label: string, value: unknown): void {
  if (value !== undefined && value !== null && value !== "") line(out, label, value);
}

/** The server half of `docker info` (prettyPrintServerInfo). */
function serverInfoText(info: Info, debug: boolean): { text: string; warnings: string[] } {
  const out: string[] = [];
  line(out, " Containers:", info.Containers ?? 0);
  line(out, "  Running:", info.ContainersRunning ?? 0);
  line(out, "  Paused:", info.ContainersPaused ?? 0);
  line(out, "  Stopped:", info.ContainersStopped ?? 0);
  line(out, " Images:", info.Images ?? 0);
  lineIfSet(out, " Server Version:", info.ServerVersion);
  lineIfSet(out, " Storage Driver:", info.Driver);
  for (const pair of info.DriverStatus ?? []) out.push(`  ${pair[0]}: ${pair[1]}\n`);
  for (const pair of info.SystemStatus ?? []) out.push(` ${pair[0]}: ${pair[1]}\n`);
  lineIfSet(out, " Logging Driver:", info.LoggingDriver);
  lineIfSet(out, " Cgroup Driver:", info.CgroupDriver);
  lineIfSet(out, " Cgroup Version:", info.CgroupVersion);
  line(out, " Plugins:");
  line(out, "  Volume:", (info.Plugins?.Volume ?? []).join(" "));
  line(out, "  Network:", (info.Plugins?.Network ?? []).join(" "));
  if ((info.Plugins?.Authorization ?? []).length > 0) {
    line(out, "  Authorization:", info.Plugins.Authorization.join(" "));
  }
  line(out, "  Log:", (info.Plugins?.Log ?? []).join(" "));
  if ((info.CDISpecDirs ?? []).length > 0) {
    line(out, " CDI spec directories:");
    for (const dir of info.CDISpecDirs) out.push(`  ${dir}\n`);
  }
  line(out, " Swarm:", info.Swarm?.LocalNodeState ?? "");
  const swarmState = info.Swarm?.LocalNodeState ?? "inactive";
  if (swarmState !== "inactive" && swarmState !== "locked") {
    line(out, "  NodeID:", info.Swarm?.NodeID ?? "");
    if (info.Swarm?.Error) line(out, "  Error:", info.Swarm.Error);
    line(out, "  Is Manager:", info.Swarm?.ControlAvailable ?? false);
    line(out, "  Node Address:", info.Swarm?.NodeAddr ?? "");
  }
  const runtimes = Object.keys(info.Runtimes ?? {});
  if (runtimes.length > 0) {
    line(out, " Runtimes:", runtimes.sort().join(" "));
    line(out, " Default Runtime:", info.DefaultRuntime ?? "");
  }
  if (info.OSType === "linux") {
    line(out, " Init Binary:", info.InitBinary ?? "");
    line(out, " containerd version:", info.ContainerdCommit?.ID ?? "");
    line(out, " runc version:", info.RuncCommit?.ID ?? "");
    line(out, " init version:", info.InitCommit?.ID ?? "");
    if ((info.SecurityOptions ?? []).length > 0) {
      line(out, " Security Options:");
      for (const option of info.SecurityOptions as string[]) {
        const fields = Object.fromEntries(
          option.split(",").map((pair) => {
            const equals = pair.indexOf("=");
            return equals === -1 ? [pair, ""] : [pair.slice(0, equals), pair.slice(equals + 1)];
          }),
        );
        line(out, "  " + (fields.name ?? option));
        if (fields.profile !== undefined) line(out, "   Profile:", fields.profile);
      }
    }
  }
  if (info.OSType === "windows") line(out, " Default Isolation:", info.Isolation ?? "");
  lineIfSet(out, " Kernel Version:", info.KernelVersion);
  lineIfSet(out, " Operating System:", info.OperatingSystem);
  lineIfSet(out, " OSType:", info.OSType);
  lineIfSet(out, " Architecture:", info.Architecture);
  line(out, " CPUs:", info.NCPU ?? 0);
  line(out, " Total Memory:", bytesSize(info.MemTotal ?? 0));
  lineIfSet(out, " Name:", info.Name);
  lineIfSet(out, " ID:", info.ID);
  line(out, " Docker Root Dir:", info.DockerRootDir ?? "");
  line(out, " Debug Mode:", info.Debug ?? false);
  if (info.Debug || debug) {
    line(out, "  File Descriptors:", info.NFd ?? 0);
    line(out, "  Goroutines:", info.NGoroutines ?? 0);
    line(out, "  System Time:", info.SystemTime ?? "");
    line(out, "  EventsListeners:", info.NEventsListener ?? 0);
  }
  lineIfSet(out, " HTTP Proxy:", info.HttpProxy);
  lineIfSet(out, " HTTPS Proxy:", info.HttpsProxy);
  lineIfSet(out, " No Proxy:", info.NoProxy);
  if ((info.Labels ?? []).length > 0) {
    line(out, " Labels:");
    for (const label of info.Labels) line(out, "  " + label);
  }
  line(out, " Experimental:", info.ExperimentalBuild ?? false);
  const registry = info.RegistryConfig;
  const indexConfigs = Object.values(registry?.IndexConfigs ?? {}) as {
    Name: string;
    Secure: boolean;
  }[];
  if (registry && ((registry.InsecureRegistryCIDRs ?? []).length > 0 || indexConfigs.length > 0)) {
    line(out, " Insecure Registries:");
    for (const config of indexConfigs.sort((a, b) => (a.Name < b.Name ? -1 : 1))) {
      if (!config.Secure) line(out, "  " + config.Name);
    }
    for (const cidr of registry.InsecureRegistryCIDRs ?? []) out.push(`  ${cidr}\n`);
  }
  if ((registry?.Mirrors ?? []).length > 0) {
    line(out, " Registry Mirrors:");
    for (const mirror of registry.Mirrors) line(out, "  " + mirror);
  }
  line(out, " Live Restore Enabled:", info.LiveRestoreEnabled ?? false);
  if (info.ProductLicense) line(out, " Product License:", info.ProductLicense);
  if ((info.DefaultAddressPools ?? []).length > 0) {
    line(out, " Default Address Pools:");
    for (const pool of info.DefaultAddressPools) {
      out.push(`   Base: ${pool.Base}, Size: ${pool.Size}\n`);
    }
  }
  line(out);
  return { text: out.join(""), warnings: info.Warnings ?? [] };
}

async function runInfo(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  const format = flags.values.format as string;
  let info: Info | undefined;
  let connectionFailure: unknown;
  const serverErrors: string[] = [];
  try {
    info = await cli.client().json<Info>("GET", "/info");
  } catch (error) {
    if (error instanceof ConnectionError) connectionFailure = error;
    else serverErrors.push((error as Error).message);
  }
  const clientInfo = {
    Debug: cli.debug,
    ...clientVersion(cli.client().apiVersion),
    Plugins: [],
    Warnings: null,
  };
  if (format !== "") {
    const text = format === "json" ? "{{json .}}" : format;
    let template;
    try {
      template = parseDockerTemplate(text);
    } catch (error) {
      throw new StatusError(`template parsing error: ${(error as Error).message}`, 64);
    }
    if (serverErrors.length > 0) cli.err.write(serverErrors.join("\n") + "\n");
    const { toJSON: _ignored, ...clientFields } = clientInfo;
    const data = {
      ...(info ?? {}),
      ...(serverErrors.length > 0 ? { ServerErrors: serverErrors } : {}),
      ClientInfo: {
        Debug: clientFields.Debug,
        ...clientInfo.toJSON(),
        Plugins: [],
        Warnings: null,
      },
    };
    try {
      cli.out.write(template.execute(data) + "\n");
    } catch (error) {
      throw new FormatError((error as Error).message);
    }
    if (connectionFailure) throw connectionFailure;
    return 0;
  }
  const out: string[] = [];
  out.push("Client:\n");
  out.push(` Version:    ${clientInfo.Version}\n`);
  out.push(` Context:    ${clientInfo.Context}\n`);
  out.push(` Debug Mode: ${clientInfo.Debug}\n`);
  out.push("\n");
  out.push("Server:\n");
  let warnings: string[] = [];
  if (info) {
    const server = serverInfoText(info, cli.debug);
    out.push(server.text);
    warnings = server.warnings;
  }
  cli.out.write(out.join(""));
  for (const warning of warnings) cli.err.write(`${warning}\n`);
  for (const error of serverErrors) cli.err.write(`ERROR: ${error}\n`);
  if (connectionFailure) throw connectionFailure;
  if (serverErrors.length > 0) throw new StatusError("errors pretty printing info", 1);
  return 0;
}

async function runDiskUsage(cli: DockerCli, flags: ParsedFlags): Promise<number> {
  if (flags.values.verbose) {
    throw new StatusError("mini-docker system df: --verbose is not supported yet", 1);
  }
  const usage = await cli.client().json<DiskUsage>("GET", "/system/df");
  const format = diskUsageFormat((flags.values.format as string) || TABLE_FORMAT_KEY);
  cli.out.write(renderFormat(format, diskUsageRows(usage ?? {}), DISK_USAGE_HEADER));
  return 0;
}

/** `docker version`. */
export const versionCommand: CommandSpec = {
  name: "version",
  usage: "version [OPTIONS]",
  summary: "Show the Docker version information",
  flags: [{
    name: "format",
    short: "f",
    kind: "string",
    description: "Format output using a custom template",
  }],
  maxArgs: 0,
  run: runVersion,
};

/** `docker info` (also `docker system info`). */
export const infoCommand: CommandSpec = {
  name: "info",
  usage: "info [OPTIONS]",
  summary: "Display system-wide information",
  flags: [{
    name: "format",
    short: "f",
    kind: "string",
    description: "Format output using a custom template",
  }],
  maxArgs: 0,
  run: runInfo,
};

/** `docker system df`. */
export const dfCommand: CommandSpec = {
  name: "df",
  usage: "system df [OPTIONS]",
  summary: "Show docker disk usage",
  flags: [
    { name: "format", kind: "string", description: "Format output using a custom template" },
    {
      name: "verbose",
      short: "v",
      kind: "bool",
      description: "Show detailed information on space usage",
    },
  ],
  maxArgs: 0,
  run: runDiskUsage,
};
